"""recipes/prune.py and recipes/qat.py end to end on a tiny student and a tiny CSV dataset."""

import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMON = ["--max_length=16", "--batch_size=8", "--epochs=1"]


def _run(script, *args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, os.path.join(ROOT, "recipes", script), *args], capture_output=True,
                          text=True, env=env, timeout=600, cwd=ROOT)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A tiny student folder (own vocabulary) and a 96-row CSV dataset."""
    from tfdistill.compress.testing import write_tiny_task

    root = tmp_path_factory.mktemp("compress_recipes")
    train_csv, student = write_tiny_task(root, rows=96, model_name="student")
    return {"root": root, "data": [f"--train_file={train_csv}"], "student": str(student)}


def test_prune_then_qat_keeps_the_sparsity(inputs):
    root = inputs["root"]
    pruned_dir, qat_dir, logs = root / "pruned", root / "qat", root / "logs"
    done = _run("prune.py", f"--student={inputs['student']}", *inputs["data"], *COMMON, "--target_sparsity=0.5",
                f"--tensorboard_dir={logs}", f"--output_dir={pruned_dir}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "layer_0_query" in done.stdout and "total" in done.stdout  # the sparsity table
    assert sorted(os.listdir(pruned_dir)) == [".tfdistill.json", "README.md", "config.json", "labels.txt",
                                              "metrics.json", "model.safetensors", "tokenizer.json",
                                              "tokenizer_config.json", "vocab.txt"]
    metrics = json.loads((pruned_dir / "metrics.json").read_text())
    assert f"| {metrics['pruned_test_accuracy']:.2%} |" in (pruned_dir / "README.md").read_text()
    assert metrics["kernel_sparsity"] == pytest.approx(0.5, abs=0.02)
    assert metrics["sparsity_per_layer"]["word_embeddings"] == pytest.approx(0.5, abs=0.05)
    assert {"dense_test_accuracy", "pruned_test_accuracy", "pruning"} <= set(metrics)
    assert _event_files(logs / "prune" / "metrics") and _event_files(logs / "prune" / "train")  # PruningSummaries

    done = _run("qat.py", f"--student={pruned_dir}", *inputs["data"], *COMMON, "--preserve_sparsity",
                "--calibration_steps=2", "--teacher=none", f"--tensorboard_dir={logs}", f"--output_dir={qat_dir}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "qat_model.h5" in os.listdir(qat_dir)
    metrics = json.loads((qat_dir / "metrics.json").read_text())
    before, after = metrics["sparsity_per_layer"]["before"], metrics["sparsity_per_layer"]["after"]
    assert after["layer_0_output"] == before["layer_0_output"] == pytest.approx(0.5, abs=0.02)
    assert after["word_embeddings"] == before["word_embeddings"]
    assert metrics["quantization_plan"]["attention_mask_bias"].startswith("skipped")
    assert {"float_test_accuracy", "qat_before_training_test_accuracy", "qat_test_accuracy"} <= set(metrics)
    assert _event_files(logs / "qat" / "train") and _event_files(logs / "qat" / "validation")


def _event_files(folder):
    return [name for _, _, files in os.walk(folder) for name in files if "tfevents" in name]


@pytest.mark.parametrize("script, args, message", [
    ("prune.py", ["--target_sparsity=1.5"], r"target_sparsity must be in \(0, 1\)"),
    ("prune.py", ["--target_sparsity=0"], r"target_sparsity must be in \(0, 1\)"),
    ("prune.py", ["--m_by_n=4,2"], "needs 0 < m < n"),
    ("prune.py", ["--schedule=cubic"], "Unknown pruning schedule"),
    ("prune.py", ["--m_by_n=2,3"], "does not fit kernel 'layer_0_query': its input width 16"),
    ("qat.py", ["--calibration_steps=-1"], "calibration_steps must be >= 0"),
])
def test_bad_input_exits_2_without_artifacts(inputs, script, args, message):
    out = inputs["root"] / "refused"
    done = _run(script, f"--student={inputs['student']}", *inputs["data"], *COMMON, *args, f"--output_dir={out}")
    assert done.returncode == 2, done.stderr[-3000:]
    assert re.search(message, done.stderr), done.stderr[-3000:]
    assert not out.exists()


def test_missing_student_exits_2(inputs):
    done = _run("qat.py", f"--student={inputs['root'] / 'nowhere'}", *inputs["data"],
                f"--output_dir={inputs['root'] / 'refused'}")
    assert done.returncode == 2 and "does not exist" in done.stderr
