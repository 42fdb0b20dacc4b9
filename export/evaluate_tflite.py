r"""Measures a `.tflite` classifier's accuracy on a dataset split through the LiteRT interpreter.

Example:
    python export/evaluate_tflite.py --model=runs/student_int8 --split=test
    python export/evaluate_tflite.py --model=m.tflite --tokenizer=runs/student \
        --test_file=reviews.csv --split=test

The same command as `tfdistill evaluate` (the console script `pip install` puts on the
PATH); its code lives in tfdistill/cli/commands/evaluate.py.
"""

from absl import app

from tfdistill.cli.commands.evaluate import main
from tfdistill.cli.script import parse_flags

if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
