"""Atomic writes: an artifact is either complete at its final path or absent.

Everything tfdistill writes (model folders, `.tflite` files, reports, manifests) goes through
these helpers: the content is written under a temporary name in the same folder, flushed, and
renamed into place, so a crash or a full disk never leaves a file that looks complete. The
temporary name carries the writer's pid; the next write to the same path removes temporaries
whose writer is gone (a killed run's leftovers).
"""

import contextlib
import json
import os
import shutil
import tempfile

_PARTIAL = ".partial-"


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _parent_of(path):
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    return parent


def _partial_prefix(path):
    """`.partial-<name>.<pid>.`: the writer's pid tells a later writer whether it is still alive."""
    return f"{_PARTIAL}{os.path.basename(os.path.normpath(path))}.{os.getpid()}."


def _remove_stale_partials(parent, path):
    """Removes temporaries of `path` left by writers that were killed (their pid is gone)."""
    stem = f"{_PARTIAL}{os.path.basename(os.path.normpath(path))}."
    for name in os.listdir(parent):
        pid = name[len(stem):].split(".", 1)[0] if name.startswith(stem) else ""
        if pid.isdigit() and not _alive(int(pid)):
            target = os.path.join(parent, name)
            if os.path.isdir(target):
                shutil.rmtree(target, ignore_errors=True)
            else:
                os.remove(target)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary file path; renames it to `path` if the block succeeds.

    Args:
        path: str, the final file path.

    Example:
    >>> with atomic_path("out/model.tflite") as tmp:  # doctest: +SKIP
    ...     open(tmp, "wb").write(flatbuffer)
    """
    parent = _parent_of(path)
    _remove_stale_partials(parent, path)
    fd, tmp = tempfile.mkstemp(prefix=_partial_prefix(path), dir=parent)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(parent)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_bytes(path, data):
    """Atomically writes `data` (bytes) to `path`."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def write_text(path, text):
    """Atomically writes `text` (str, UTF-8) to `path`."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path, obj):
    """Atomically writes `obj` as indented JSON to `path`."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def atomic_dir(path, overwrite=True):
    """Yields a temporary folder; it replaces `path` only if the block succeeds.

    Args:
        path: str, the final folder.
        overwrite: bool, whether an existing folder at `path` may be replaced.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.
    """
    parent = _parent_of(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} already exists; choose another path or pass overwrite=True.")
    _remove_stale_partials(parent, path)
    tmp = tempfile.mkdtemp(prefix=_partial_prefix(path), dir=parent)
    try:
        yield tmp
        old = None
        if os.path.exists(path):
            old = tempfile.mkdtemp(prefix=".old-", dir=parent)
            os.rmdir(old)
            os.replace(path, old)
        os.replace(tmp, path)
        _fsync_dir(parent)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
