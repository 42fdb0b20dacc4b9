r"""Exports a classifier as a validated `.tflite` model package (the Android app's input).

Writes to --output_dir: model.tflite, vocab.txt, labels.txt and model_card.json (seq_len, inputs,
outputs, labels, mode, size_bytes, sha256, source, test accuracy of the .tflite, validation
agreement with the Keras model, XNNPACK coverage). Nothing is written when the .tflite disagrees
with the Keras model on more than 1% (float modes) or 3% (int8, qat) of validation examples,
unless --force is given.

Example:
    python export/to_tflite.py --model=runs/student --mode=int8 --output_dir=runs/student_int8
    python export/to_tflite.py --model=runs/qat/student.h5 --tokenizer=runs/student --mode=qat \
        --output_dir=runs/student_qat

The same command as `tfdistill export` (the console script `pip install` puts on the
PATH); its code lives in tfdistill/cli/commands/export.py.
"""

from absl import app

from tfdistill.cli.commands.export import main
from tfdistill.cli.script import parse_flags

if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
