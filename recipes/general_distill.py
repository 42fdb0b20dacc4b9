r"""General distillation (TinyBERT's first stage): a task-agnostic student from a pretrained
teacher and unlabeled text, which task distillation then starts from.

Writes to --output_dir a Hugging Face-format encoder folder (no classification head), its
tokenizer, a model card and metrics.json.

Example:
    python recipes/general_distill.py --output_dir=runs/general_4x192 --student_layers=4 \
        --student_hidden=192 --student_heads=3 --student_intermediate=768
    python recipes/distill.py --teacher=runs/teacher --student_init=runs/general_4x192 \
        --output_dir=runs/student_4x192

The same command as `tfdistill general_distill`; its code lives in
tfdistill/cli/commands/general_distill.py.
"""

from absl import app

from tfdistill.cli.commands.general_distill import main
from tfdistill.cli.script import parse_flags

if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
