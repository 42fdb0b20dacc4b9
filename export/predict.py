"""Classifies raw texts with a trained student (Keras folder) or an exported `.tflite` package.

Prints one JSON object a line: the text, its predicted class and the probability of every class.

Example:
    python export/predict.py --model=runs/demo/export/distill_int8 --text="A gripping drama." --text="Dull."
    python export/predict.py --model=runs/student --input_file=reviews.txt > predictions.jsonl

The same command as `tfdistill predict` (the console script `pip install` puts on the
PATH); its code lives in tfdistill/cli/commands/predict.py.
"""

from absl import app

from tfdistill.cli.commands.predict import main
from tfdistill.cli.script import parse_flags

if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
