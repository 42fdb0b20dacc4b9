"""Killing a training script mid-epoch the way a crash or an out-of-memory kill would, for the
tests that prove a run resumes (test_faults.py for the recipes, test_pipeline.py for the pipeline)."""

import os
import re
import signal
import subprocess
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRESS = re.compile(r"^\s*(\d+)/(\d+) \[")


def script_env():
    """The environment a script runs in: TensorFlow's logs off, stdout unbuffered (its progress
    lines arrive as they are printed)."""
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")


def backups(folder):
    """The epoch backups (`BackupAndRestore` checkpoints) written under `folder`."""
    return [os.path.join(d, "checkpoint") for d, _, files in os.walk(folder) if "checkpoint" in files]


def run_and_kill_mid_epoch(command, backup_root, epoch=2, after_line=None, timeout=300):
    """Starts `command`, SIGKILLs it during `epoch` once an epoch backup exists under
    `backup_root` (after a stdout line containing `after_line`, if given); returns the
    progress line it was killed at, e.g. `' 7/20 [===>....]'`."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=script_env(),
                            cwd=ROOT)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    armed, in_epoch = after_line is None, False
    try:
        for line in proc.stdout:
            armed = armed or after_line in line
            if armed and line.startswith(f"Epoch {epoch}/"):
                in_epoch = True
                continue
            match = PROGRESS.match(line)
            if in_epoch and match and int(match[1]) < int(match[2]) and backups(backup_root):
                os.kill(proc.pid, signal.SIGKILL)
                assert proc.wait() == -signal.SIGKILL
                return line
        raise AssertionError(f"{command[1]} exited with {proc.wait()} before it could be killed in epoch {epoch}")
    finally:
        watchdog.cancel()
        proc.kill()
        proc.stdout.close()
