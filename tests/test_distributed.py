"""The Distiller under tf.distribute: two logical CPU devices (MirroredStrategy) and two worker
processes on loopback (MultiWorkerMirroredStrategy) follow the single-device loss trajectory."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "distributed_fit.py")


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
