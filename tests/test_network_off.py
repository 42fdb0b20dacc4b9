"""The pipeline needs no network: it completes in a process whose sockets cannot leave the machine.

Two locks, neither of which is `HF_HUB_OFFLINE` (the point is to prove no network use, not to
ask libraries to avoid it):
- a `sitecustomize.py` on PYTHONPATH makes `socket.connect`/`connect_ex` (and so every HTTP client)
  raise for any address that is not loopback or a Unix socket, and records each attempt in a file;
- every proxy variable points at an unroutable local port (127.0.0.1:9, the discard port), so a
  client that honours proxies fails too.

The run uses the tiny setup of tests/test_pipeline.py (a random 2-layer teacher saved with the
shipped tokenizer, 90 made-up rows of a 3-class CSV, `--skip=prune,qat`): the embedded Rotten
Tomatoes data with the MiniLM teacher takes well over the ~60 s this check may cost. The
tokenizer, the data reader, TensorFlow, tfmot, LiteRT and the benchmark are all loaded and run.
"""

import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SITECUSTOMIZE = textwrap.dedent('''
    """Installed by tests/test_network_off.py: no socket may reach beyond loopback."""
    import ipaddress
    import os
    import socket

    _LOG = os.environ["NETWORK_ATTEMPTS_LOG"]
    _connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


    def _is_local(sock, address):
        if sock.family == getattr(socket, "AF_UNIX", None):
            return True
        host = address[0] if isinstance(address, tuple) else address
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


    def _refuse(sock, address):
        with open(_LOG, "a") as log:
            log.write(f"{address!r}\\n")
        raise OSError(101, f"network is off for this test (connect to {address!r})")


    def connect(self, address):
        if not _is_local(self, address):
            _refuse(self, address)
        return _connect(self, address)


    def connect_ex(self, address):
        if not _is_local(self, address):
            _refuse(self, address)
        return _connect_ex(self, address)


    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
''')
PROXY = "http://127.0.0.1:9"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def _offline_env(folder):
    site = folder / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {key: value for key, value in os.environ.items()
           if key not in ("NO_PROXY", "no_proxy", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update({name: PROXY for name in PROXY_VARIABLES})
    env.update(PYTHONPATH=os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               NETWORK_ATTEMPTS_LOG=str(folder / "attempts.log"), TF_CPP_MIN_LOG_LEVEL="2")
    return env


def test_the_lock_refuses_remote_connections(tmp_path):
    env = _offline_env(tmp_path)
    probe = ("import socket, urllib.request\n"
             "s = socket.socket(); s.settimeout(1)\n"
             "try:\n    s.connect(('93.184.216.34', 80))\nexcept OSError as e:\n    print('refused', e)\n"
             "try:\n    urllib.request.urlopen('http://example.com', timeout=2)\n"
             "except OSError as e:\n    print('urlopen failed')\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                            timeout=60)
    assert "refused [Errno 101] network is off" in result.stdout, result.stderr
    assert "urlopen failed" in result.stdout
    assert "93.184.216.34" in (tmp_path / "attempts.log").read_text()


def test_pipeline_completes_with_the_network_off(tmp_path, teacher_path):
    from tests.test_pipeline import _flags, write_tiny_inputs

    inputs = write_tiny_inputs(tmp_path / "inputs", teacher_path)
    env = _offline_env(tmp_path)
    out = tmp_path / "run"
    flags = [flag for flag in _flags(inputs, out) if not flag.startswith("--benchmark_runs")]
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "recipes", "pipeline.py"), *flags, "--skip=prune,qat",
         "--benchmark_runs=2"], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    attempts = tmp_path / "attempts.log"
    assert not attempts.exists(), f"the pipeline tried the network: {attempts.read_text()}"
    report = json.loads((out / "report.json").read_text())
    assert {"teacher", "distill", "export", "evaluate", "benchmark"} <= set(report["stage_seconds"])
    assert all(0 <= student["accuracy"] <= 1 for student in report["students"])
