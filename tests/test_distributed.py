"""The Distiller under tf.distribute: two logical CPU devices (MirroredStrategy) and two worker
processes on loopback (MultiWorkerMirroredStrategy) follow the single-device loss trajectory, and
recipes/distill.py --distribution_strategy=multi_worker_mirrored as two workers trains the student
one process trains."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "distributed_fit.py")
RECIPE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "recipes", "distill.py")


def _run(mode, output, weights, env=None):
    return subprocess.Popen([sys.executable, SCRIPT, mode, str(output), str(weights)],
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _finish(process):
    out, _ = process.communicate(timeout=240)
    assert process.returncode == 0, out[-3000:]
    return out


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dist")
    weights = folder / "initial.npz"
    _finish(_run("single", folder / "single.json", weights))
    return folder, weights, json.load(open(folder / "single.json"))


def test_mirrored_strategy_matches_single_device(single):
    folder, weights, expected = single
    _finish(_run("mirrored", folder / "mirrored.json", weights))
    actual = json.load(open(folder / "mirrored.json"))
    np.testing.assert_allclose(actual["loss"], expected["loss"], rtol=1e-4)
    assert expected["loss"][-1] < expected["loss"][0]


def test_multi_worker_strategy_on_loopback_matches_single_device(single):
    folder, weights, expected = single
    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    processes = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        processes.append(_run("worker", folder / f"worker{index}.json", weights, {"TF_CONFIG": tf_config}))
    for process in processes:
        _finish(process)
    for index in range(2):
        actual = json.load(open(folder / f"worker{index}.json"))
        np.testing.assert_allclose(actual["loss"], expected["loss"], rtol=1e-4)


def _tiny_distillation_task(root):
    """A 2-block teacher without dropout (so one process and two workers compute the same
    function) and 64 training, 16 validation and 16 test rows: 8 full batches of 8 an epoch,
    which two workers split 4 + 4."""
    from tfdistill.compress.testing import TASK_WORDS, write_tiny_task

    write_tiny_task(root, rows=64, model_name="teacher", num_layers=2, hidden_dropout=0.0, attention_dropout=0.0,
                    label_names=("neg", "pos"))
    rng = np.random.default_rng(1)
    for split in ("validation", "test"):
        rows = [list(rng.choice(TASK_WORDS, rng.integers(3, 10))) for _ in range(16)]
        lines = ["text,label"] + [f"{' '.join(words)},{'pos' if 'good' in words else 'neg'}" for words in rows]
        (root / f"{split}.csv").write_text("\n".join(lines) + "\n")
    return [f"--teacher={root / 'teacher'}", f"--train_file={root / 'train.csv'}",
            f"--validation_file={root / 'validation.csv'}", f"--test_file={root / 'test.csv'}",
            "--max_length=16", "--batch_size=8", "--epochs=3", "--student_layers=1", "--learning_rate=1e-3",
            "--mixed_precision=float32", "--hidden_weight=1.0", "--attention_weight=1.0"]


def _distill(args, log, env=None):
    """Starts recipes/distill.py writing to the file `log` (a pipe could fill up and stall one worker
    while the other waits for it in a collective)."""
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, RECIPE, *args], stdout=out, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})


def _weights(folder):
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))


def test_distill_recipe_on_two_loopback_workers_matches_one_process(tmp_path):
    """recipes/distill.py --distribution_strategy=multi_worker_mirrored as two workers on loopback
    trains the student one process trains with the same global batch (no dropout, so the only
    difference is the order of float sums), and only the chief writes --output_dir. The hidden-state
    and attention terms average over the real tokens of both workers' batches (`masked_mean`), and
    3 epochs make every batch carry cached teacher outputs of both kinds (logits from a table in
    the graph, hidden states and maps padded outside it)."""
    args = _tiny_distillation_task(tmp_path)
    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    logs = [tmp_path / f"{name}.log" for name in ("single", "worker0", "worker1")]
    processes = [_distill([*args, f"--output_dir={tmp_path / 'single'}"], logs[0])]
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        processes.append(_distill([*args, "--distribution_strategy=multi_worker_mirrored",
                                   f"--output_dir={tmp_path / 'multi'}"], logs[index + 1], {"TF_CONFIG": tf_config}))
    try:
        for process in processes:
            process.wait(timeout=240)
    finally:
        for process in processes:
            process.kill()
    outputs = [log.read_text() for log in logs]
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-3000:]
        assert "Teacher logits, hidden_states, attentions for the 64 train examples ready" in output
    # The last line: "Student test accuracy: ... -> <folder written>".
    reports = [next(line for line in reversed(output.splitlines()) if line.startswith("Student test accuracy"))
               for output in outputs]
    assert reports[1].endswith(str(tmp_path / "multi"))
    worker_folder = reports[2].rsplit(" -> ", 1)[1]
    assert not worker_folder.startswith(str(tmp_path)) and not os.path.exists(worker_folder)  # a removed temp folder
    assert reports[1].split(" -> ")[0] == reports[2].split(" -> ")[0]  # both workers measured the same student

    single, multi = _weights(tmp_path / "single"), _weights(tmp_path / "multi")
    assert single.keys() == multi.keys()
    for name in single:
        np.testing.assert_allclose(multi[name], single[name], rtol=1e-4, atol=1e-6, err_msg=name)
    teacher = _weights(tmp_path / "teacher")  # the student's embeddings started as the teacher's
    moved = np.abs(single["bert.embeddings.word_embeddings.weight"] - teacher["bert.embeddings.word_embeddings.weight"])
    assert moved.max() > 1e-3  # training changed the weights far beyond the tolerance above
    expected = json.loads((tmp_path / "single" / "metrics.json").read_text())
    actual = json.loads((tmp_path / "multi" / "metrics.json").read_text())
    np.testing.assert_allclose(actual["history"]["loss"], expected["history"]["loss"], rtol=1e-5)
    assert actual["student_test_accuracy"] == expected["student_test_accuracy"] >= 0.5
