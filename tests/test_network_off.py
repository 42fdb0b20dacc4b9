"""The network lock of tests/offline.py refuses remote connections. The pipeline's own check runs
in tests/test_pipeline.py: its resumed run, which trains, compresses, exports, evaluates and
benchmarks, goes through this lock."""

import subprocess
import sys

from tests.offline import offline_env


def test_the_lock_refuses_remote_connections(tmp_path):
    env = offline_env(tmp_path)
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
