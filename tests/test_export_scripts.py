"""The export scripts end to end on a tiny model: success paths and non-zero exits on bad input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS = "good bad great awful fine dull movie plot acting fun boring superb weak".split()


def _script(name, *args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_USE_LEGACY_KERAS="1")
    return subprocess.run([sys.executable, os.path.join(REPO, "export", name), *args],
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """A tiny random student saved as a Hugging Face folder, and a CSV of labelled reviews."""
    import tf_keras as keras

    import tfdistill
    from tfdistill.data import Tokenizer

    root = tmp_path_factory.mktemp("scripts")
    tokenizer = Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])
    keras.utils.set_random_seed(0)
    config = tfdistill.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=2,
                                  num_heads=4, intermediate_size=64, num_labels=2,
                                  max_position_embeddings=32)
    tfdistill.save_pretrained(tfdistill.build_bert(config), str(root / "student"), tokenizer)
    rng = np.random.default_rng(0)
    rows = [" ".join(rng.choice(WORDS, rng.integers(3, 10))) for _ in range(300)]
    lines = ["text,label"] + [f"{text},{'positive' if 'good' in text else 'negative'}" for text in rows]
    (root / "reviews.csv").write_text("\n".join(lines) + "\n")
    return root


def test_to_tflite_evaluate_and_benchmark_scripts(student):
    package = student / "package"
    exported = _script("to_tflite.py", f"--model={student / 'student'}", "--mode=dynamic",
                       "--seq_len=16", f"--train_file={student / 'reviews.csv'}",
                       f"--output_dir={package}")
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert "1 partition(s)" in exported.stdout
    card = json.loads((package / "model_card.json").read_text())
    assert card["labels"] == ["negative", "positive"] and card["source"].endswith("student")

    evaluated = _script("evaluate_tflite.py", f"--model={package}",
                        f"--train_file={student / 'reviews.csv'}", "--split=test")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert f"accuracy {card['accuracy']:.4f}" in evaluated.stdout

    report = student / "bench.json"
    benchmarked = _script("benchmark.py", f"--model={package}", "--threads=1", "--xnnpack=on",
                          "--num_runs=3", f"--json_output={report}")
    assert benchmarked.returncode == 0, benchmarked.stderr[-2000:]
    assert "p50_us" in benchmarked.stdout
    assert json.loads(report.read_text())[0]["count"] == 3


def test_scripts_exit_non_zero_with_the_problem_and_the_fix(student):
    bogus = student / "bogus.tflite"
    bogus.write_text("hello")
    benchmarked = _script("benchmark.py", f"--model={bogus}")
    assert benchmarked.returncode == 2
    assert "is not a TFLite model" in benchmarked.stderr and "Pass a .tflite" in benchmarked.stderr

    too_long = _script("to_tflite.py", f"--model={student / 'student'}", "--seq_len=64",
                       f"--train_file={student / 'reviews.csv'}",
                       f"--output_dir={student / 'too_long'}")
    assert too_long.returncode == 2
    assert "seq_len=64 exceeds the model's 32 position embeddings" in too_long.stderr
    assert "--seq_len=32" in too_long.stderr
    assert not (student / "too_long").exists()
