"""Faults a run survives (issue #8): a SIGKILL mid-epoch, then the same command, resumes at the
last finished epoch and ends where an uninterrupted run ends; a NaN loss stops the run with a
message naming the term, the epoch and the step.

Every run uses a tiny random teacher/student without dropout and a 200-row made-up CSV (8-row
batches, 20 steps an epoch), so runs with the same seed are deterministic: the resumed run must
match the uninterrupted one to float32 rounding (weights within 1e-5, the same accuracies),
not just "within noise".
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tests.killed_runs import backups, run_and_kill_mid_epoch, script_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = ["--max_length=16", "--batch_size=8", "--epochs=2"]
WEIGHT_ATOL = 1e-5


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A 200-row CSV and a tiny 2-layer classifier folder (own vocabulary, no dropout), used as
    the teacher of distill.py and as the student of prune.py and qat.py."""
    from tfdistill.compress.testing import write_tiny_task

    root = tmp_path_factory.mktemp("faults")
    write_tiny_task(root, rows=200, hidden_size=32, num_layers=2, num_heads=4, intermediate_size=64,
                    hidden_dropout=0.0, attention_dropout=0.0)
    return root


def _command(script, *args):
    return [sys.executable, os.path.join(ROOT, "recipes", script), *args]


def _run(script, *args):
    return subprocess.run(_command(script, *args), capture_output=True, text=True, env=script_env(), timeout=600,
                          cwd=ROOT)


def _weights(folder):
    from safetensors.numpy import load_file

    return load_file(os.path.join(folder, "model.safetensors"))


def _assert_same_model(resumed, reference, keys):
    got, want = (json.loads((folder / "metrics.json").read_text()) for folder in (resumed, reference))
    for key in keys:
        assert got[key] == want[key], key
    for name, value in want["history"].items():
        np.testing.assert_allclose(got["history"][name], value, rtol=1e-5, err_msg=name)
    want_weights, got_weights = _weights(reference), _weights(resumed)
    assert set(got_weights) == set(want_weights)
    for name, value in want_weights.items():
        np.testing.assert_allclose(got_weights[name], value, atol=WEIGHT_ATOL, err_msg=name)
    return got


RECIPES = {
    "distill": ("distill.py", lambda root: [f"--teacher={root / 'model'}", "--student_layers=1",
                                            "--student_hidden=16", "--student_heads=2", "--hidden_weight=1"],
                ["student_test_accuracy", "student_validation_accuracy"]),
    "prune": ("prune.py", lambda root: [f"--student={root / 'model'}", "--target_sparsity=0.5",
                                        "--pruning_frequency=2", "--pruning_end=0.8"],
              ["pruned_test_accuracy", "sparsity_per_layer", "kernel_sparsity"]),
    # Without a teacher: the plain `fit` path of fit_student (the others train in the Distiller).
    "qat": ("qat.py", lambda root: [f"--student={root / 'model'}", "--calibration_steps=2", "--teacher=none"],
            ["qat_test_accuracy", "qat_validation_accuracy", "model_sparsity"]),
}


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_sigkill_mid_epoch_then_same_command_resumes_and_matches(inputs, tmp_path, recipe):
    script, recipe_args, keys = RECIPES[recipe]
    args = [*recipe_args(inputs), f"--train_file={inputs / 'train.csv'}", *TRAIN]
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    # The uninterrupted run goes alongside the killed one (the two cores are rarely both busy).
    with open(tmp_path / "reference.log", "w") as log:
        uninterrupted = subprocess.Popen(_command(script, *args, f"--output_dir={reference}"), stdout=log,
                                         stderr=subprocess.STDOUT, env=script_env(), cwd=ROOT)
    try:
        command = _command(script, *args, f"--output_dir={resumed}")
        killed_at = run_and_kill_mid_epoch(command, resumed / "training_backup")
        assert not (resumed / "metrics.json").exists() and backups(resumed / "training_backup")
        done = subprocess.run(command, capture_output=True, text=True, env=script_env(), timeout=600, cwd=ROOT)
        assert uninterrupted.wait(timeout=600) == 0, (tmp_path / "reference.log").read_text()[-3000:]
    finally:
        uninterrupted.kill()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "epochs 1-1 were done, training epoch 2 of 2" in done.stderr, (killed_at, done.stderr[-3000:])
    assert done.stdout.count("Epoch 2/2") == 1 and "Epoch 1/2" not in done.stdout  # epoch 1 was not redone
    assert "training_backup" not in os.listdir(resumed)  # removed when the result was published
    metrics = _assert_same_model(resumed, reference, keys)
    assert len(metrics["history"]["loss"]) == 2  # the killed run's epoch 1 is in the history
    if recipe == "prune":
        # The pruning step was restored, not restarted: the schedule still reached its target.
        assert metrics["kernel_sparsity"] == pytest.approx(0.5, abs=0.02)


def test_nan_loss_stops_the_recipe_naming_term_epoch_and_step(inputs, tmp_path):
    out = tmp_path / "student"
    done = _run("distill.py", f"--teacher={inputs / 'model'}", "--student_layers=1",
                f"--train_file={inputs / 'train.csv'}", *TRAIN, "--learning_rate=1e30", f"--output_dir={out}")
    assert done.returncode == 3, done.stderr[-3000:]
    assert re.search(r"error: \w+ was (NaN|infinite) at epoch 1, step \d+", done.stderr), done.stderr[-3000:]
    assert "Traceback" not in done.stderr and not (out / "metrics.json").exists()
