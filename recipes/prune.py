r"""Prunes a trained student with tfmot magnitude pruning, guided by a teacher in the Distiller.

The attention and feed-forward kernels are pruned to --target_sparsity (PolynomialDecay or
ConstantSparsity) or to an N:M pattern (--m_by_n=2,4); the word-embedding table is pruned in
row blocks too unless --noprune_embeddings, rows of tokens the training split never uses first
(see tfdistill/compress/pruning.py for why). The
student trains inside the Distiller with UpdatePruningStep (and PruningSummaries with
--tensorboard_dir), then the wrappers are stripped.

Writes to --output_dir the pruned student as a Hugging Face-format folder, labels.txt and
metrics.json (dense and pruned accuracy, sparsity per layer); prints the sparsity table.

Example:
    python recipes/prune.py --student=runs/student --output_dir=runs/student_pruned
    python recipes/prune.py --student=runs/student --teacher=runs/teacher --m_by_n=2,4 \
        --output_dir=runs/student_2to4

The same command as `tfdistill prune` (the console script `pip install` puts on the
PATH); its code lives in tfdistill/cli/commands/prune.py.
"""

from absl import app

from tfdistill.cli.commands.prune import main
from tfdistill.cli.script import parse_flags

if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
