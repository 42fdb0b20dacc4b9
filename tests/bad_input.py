"""What the bad-input tests share (test_bad_input_catalogue.py, test_bad_input_labels.py): a
tiny made-up vocabulary and classifier config, and running a script the way a user does."""

import os
import subprocess
import sys

import tfdistill

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["good", "bad", "great", "awful", "film", "plot"]
VOCAB = SPECIAL + WORDS
CONFIG = tfdistill.BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_layers=2, num_heads=2,
                              intermediate_size=32, max_position_embeddings=16, num_labels=2,
                              label_names=("neg", "pos"))


def run_script(path, *args):
    """Runs a script of the repository in a fresh Python, as a user would.

    Args:
        path: str, relative to the repository with "/" separators, e.g. "recipes/distill.py".
        *args: str, its flags.

    Returns:
        `subprocess.CompletedProcess` with text `stdout` and `stderr`.
    """
    return subprocess.run([sys.executable, os.path.join(ROOT, *path.split("/")), *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def assert_refused(result, *fragments):
    """Asserts a script refused its input: exit status 2, every fragment in its message, no traceback."""
    assert result.returncode == 2, result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
