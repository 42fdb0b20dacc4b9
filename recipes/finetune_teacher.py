r"""Fine-tunes a BERT encoder plus a classification head: the teacher of later distillation.

Writes to --output_dir a Hugging Face-format folder (config.json, model.safetensors, vocab.txt,
tokenizer.json) plus labels.txt and metrics.json (validation and test accuracy, params, time).

Example:
    python recipes/finetune_teacher.py --output_dir=runs/teacher
    python recipes/finetune_teacher.py --train_file=reviews.csv --text_column=review \
        --label_column=stars --epochs=4 --output_dir=runs/stars_teacher

The same command as `tfdistill finetune` (the console script `pip install` puts on the
PATH); its code lives in tfdistill/cli/commands/finetune.py.
"""

from absl import app

from tfdistill.cli.commands.finetune import main
from tfdistill.cli.script import parse_flags

if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
