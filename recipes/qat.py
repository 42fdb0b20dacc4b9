r"""Quantization-aware training of a trained student, guided by a teacher in the Distiller.

Every layer of the student is annotated for tfmot QAT (see tfdistill/compress/quantization.py),
the quantizer ranges are calibrated on --calibration_steps training batches, then the QAT student
trains inside the Distiller. With --preserve_sparsity (for students from recipes/prune.py) the
prune-preserving scheme keeps every pruned zero through QAT.

Writes to --output_dir: qat_model.h5 (the QAT model; export it with
`export/to_tflite.py --mode=qat`), the QAT-trained float weights as a Hugging Face-format folder,
labels.txt and metrics.json (float, calibrated and trained QAT accuracy; sparsity before and
after).

Example:
    python recipes/qat.py --student=runs/student --output_dir=runs/student_qat
    python recipes/qat.py --student=runs/student_pruned --preserve_sparsity \
        --teacher=runs/teacher --output_dir=runs/student_pqat

The same command as `tfdistill qat` (the console script `pip install` puts on the
PATH); its code lives in tfdistill/cli/commands/qat.py.
"""

from absl import app

from tfdistill.cli.commands.qat import main
from tfdistill.cli.script import parse_flags

if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
