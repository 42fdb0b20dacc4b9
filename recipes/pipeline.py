"""One command from teacher to phone-ready student: the body lives in `tfdistill.cli.pipeline`.

Stages: fine-tune the teacher (or take --teacher) -> distill -> prune -> QAT -> export every
mode -> evaluate each .tflite on the test split -> benchmark -> report. The flags resolve to a
run config saved as --output_dir/run.json; re-running the same command (or
--config=<output_dir>/run.json) skips finished stages, so a killed run resumes where it stopped.

Example:
    python recipes/pipeline.py --output_dir=runs/pipeline                  # the default preset
    python recipes/pipeline.py --preset=demo --output_dir=runs/demo        # make demo's shorter tour
    python recipes/pipeline.py --preset=full --output_dir=runs/pipeline_full
    python recipes/pipeline.py --train_file=tickets.csv --label_column=team --output_dir=runs/tickets
    python recipes/pipeline.py --config=runs/pipeline/run.json --output_dir=runs/pipeline
"""

from absl import app

from tfdistill.cli.pipeline import main
from tfdistill.cli.script import parse_flags

if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
