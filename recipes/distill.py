r"""Distils a fine-tuned BERT teacher into a smaller student with `Distiller.fit`.

Writes to --output_dir the student as a Hugging Face-format folder plus labels.txt and
metrics.json (teacher and student accuracy on validation and test, params, wall time).

Example:
    python recipes/distill.py --teacher=runs/teacher --output_dir=runs/student
    python recipes/distill.py --flagfile=recipes/configs/tinybert4.cfg --teacher=runs/teacher \
        --output_dir=runs/tinybert4

The same command as `tfdistill distill` (the console script `pip install` puts on the
PATH); its code lives in tfdistill/cli/commands/distill.py.
"""

from absl import app

from tfdistill.cli.commands.distill import main
from tfdistill.cli.script import parse_flags

if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
