"""What proves a folder is tfdistill's, and who may write it now.

tfdistill replaces a folder only when it wrote that folder itself. Every folder it publishes
carries a marker file, `.tfdistill.json`, naming the tool, its version, what the folder is
(`kind`) and the command that wrote it. A `config.json` or a `metrics.json` proves nothing: a
user's teacher folder has a `config.json` too, and replacing it would destroy the teacher.

Writers of one path are serialised by an advisory lock (`flock`) on a lock file beside it: the
second process to write the same output gets a clear error at once instead of a half-finished
race over the folder. The lock dies with its process, so a killed run never blocks the next.
"""

import atexit
import datetime
import errno
import fcntl
import json
import os
import shutil
import sys

from tfdistill.utils.errors import OutputConflictError

MARKER = ".tfdistill.json"
_TOOL = "tfdistill"
# Folder kinds whose unfinished content a re-run of the same command resumes in place (no
# --overwrite needed): a recipe's folder holding only its epoch backup, a pipeline run.
RESUMABLE_KINDS = ("in_progress", "pipeline_run")
_fresh_claims = {}  # folders this process created -> files that are not work
_held_locks = {}  # abspath -> open file object holding the flock (re-entrant per process)


def marker_content(kind):
    """Returns the marker dict for a folder of `kind` written by this process.

    Example:
    >>> marker_content("model")["written_by"]
    'tfdistill'
    """
    from tfdistill import __version__

    return {"written_by": _TOOL, "version": __version__, "kind": kind,
            "command": _command(),
            "written_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def _command():
    """The running script's name (`distill.py`), or `python` for the Python API."""
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"


def write_marker(folder, kind):
    """Marks `folder` as written by tfdistill (atomically). Returns the marker's path."""
    from tfdistill.utils import atomic

    path = os.path.join(folder, MARKER)
    atomic.write_json(path, marker_content(kind))
    return path


def read_marker(folder):
    """Returns the folder's marker dict, or None when tfdistill did not write the folder.

    A marker that is not JSON or names another tool counts as absent: only a marker tfdistill
    wrote proves ownership.

    Example:
    >>> read_marker("/") is None
    True
    """
    try:
        with open(os.path.join(folder, MARKER), encoding="utf-8") as f:
            marker = json.load(f)
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("written_by") == _TOOL else None


def check_replaceable(path, overwrite, what="the output"):
    """Refuses to replace anything at `path` that tfdistill did not write.

    Args:
        path: str, where a folder is about to be published.
        overwrite: bool, whether an earlier, finished tfdistill output may be replaced.
        what: str, how messages name the path (e.g. `"--output_dir"`).

    Returns:
        the marker dict of the folder at `path`, or None when `path` is absent or an empty folder.

    Raises:
        OutputConflictError: `path` is a file, a folder tfdistill did not write, or (without
            `overwrite`) a finished tfdistill output.
    """
    if os.path.islink(path):
        raise OutputConflictError(f"{what} {path} is a symbolic link; pass the real folder it points to, "
                                  "or a new path.")
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputConflictError(f"{what} {path} is a file; pass a folder (a new one, or one tfdistill wrote).")
    if not os.path.isdir(path) or not os.listdir(path):
        return None
    marker = read_marker(path)
    if marker is None:
        names = sorted(os.listdir(path))
        raise OutputConflictError(
            f"{what} {path} holds files that tfdistill did not write ({', '.join(names[:5])}"
            f"{', ...' if len(names) > 5 else ''}; no {MARKER}); tfdistill never replaces them. "
            "Choose an empty or new folder.")
    if not overwrite and marker.get("kind") not in RESUMABLE_KINDS:
        raise OutputConflictError(
            f"{what} {path} holds an earlier tfdistill output ({marker.get('kind')}, written "
            f"{marker.get('written_at', '?')} by {marker.get('command') or '?'}); pass --overwrite "
            "(overwrite=True) to replace it, or choose a new folder.")
    return marker


def check_not_an_input(path, inputs, what="--output_dir"):
    """Refuses an output folder that is, or contains, one of the command's inputs.

    Publishing replaces the whole output folder, so an input inside it would be deleted.

    Args:
        path: str, the output folder.
        inputs: dict `{flag name: path or None}` of the command's input files and folders.

    Raises:
        OutputConflictError: naming the input and the fix.

    Example:
    >>> check_not_an_input("runs/student", {"--teacher": "runs/teacher"})
    """
    output = os.path.realpath(path)
    for name, value in inputs.items():
        if not value:
            continue
        source = os.path.realpath(value)
        if source == output or source.startswith(output.rstrip(os.sep) + os.sep):
            relation = "is" if source == output else "contains"
            raise OutputConflictError(
                f"{what} {path} {relation} the input {name}={value}; writing the output would destroy it. "
                "Choose an output folder outside every input.")


def _lock_file(path):
    parent, name = os.path.split(os.path.abspath(os.path.normpath(path)))
    return os.path.join(parent, f".{name}.tfdistill-lock")


def acquire_lock(path, what="the output"):
    """Takes the write lock of `path` for this process (re-entrant); released at `release_lock`
    or when the process ends, even by SIGKILL.

    Raises:
        OutputConflictError: another live process holds it.
    """
    key = os.path.abspath(os.path.normpath(path))
    if key in _held_locks:
        return
    lock_path = _lock_file(key)
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    while True:
        handle = open(lock_path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            raise OutputConflictError(
                f"{what} {key} is being written by another process ({holder}); wait for it to finish "
                "or choose another folder.") from None
        # A releaser unlinks the lock file: the lock we got may be on an unlinked inode. Retry then.
        try:
            if os.fstat(handle.fileno()).st_ino == os.stat(lock_path).st_ino:
                break
        except FileNotFoundError:
            pass
        handle.close()
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}, {_command()}")
    handle.flush()
    _held_locks[key] = handle


def release_lock(path):
    """Releases the write lock of `path` if this process holds it, and removes its lock file."""
    handle = _held_locks.pop(os.path.abspath(os.path.normpath(path)), None)
    if handle is None:
        return
    try:
        os.remove(handle.name)
    except FileNotFoundError:
        pass
    handle.close()


def claim(folder, kind, bookkeeping=()):
    """Creates `folder` (if new or empty) and marks it tfdistill's, so the folder of a run killed
    before it published is recognised as its own when the same command resumes.

    A folder this process created holds only the marker and `bookkeeping` files until real work
    lands in it; if the process exits then (a bad input found after the claim), the folder is
    removed, so a failed command leaves nothing behind. A SIGKILLed run keeps it, to resume.

    Args:
        folder: str.
        kind: str, recorded in the marker (`"in_progress"`, `"pipeline_run"`).
        bookkeeping: names of files that do not count as work (e.g. `"inputs.json"`).

    Example:
    >>> claim("runs/student", "in_progress", bookkeeping=("inputs.json",))
    >>> read_marker("runs/student")["kind"]
    'in_progress'
    """
    fresh = not os.path.isdir(folder) or not os.listdir(folder)
    os.makedirs(folder, exist_ok=True)
    if read_marker(folder) is None:
        write_marker(folder, kind)
    if fresh:
        _fresh_claims[os.path.abspath(folder)] = (MARKER, *bookkeeping)


@atexit.register
def _remove_unused_claims():
    for folder, bookkeeping in _fresh_claims.items():
        names = [name for _, _, files in os.walk(folder) for name in files]
        if os.path.isdir(folder) and all(name in bookkeeping for name in names):
            shutil.rmtree(folder, ignore_errors=True)


@atexit.register
def _release_all_locks():
    """A script that exits (even with an error) leaves no lock file behind."""
    for path in list(_held_locks):
        release_lock(path)


def holds_lock(path):
    """True when this process holds the write lock of `path`."""
    return os.path.abspath(os.path.normpath(path)) in _held_locks
