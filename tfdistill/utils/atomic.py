"""Atomic writes: an artifact is either complete at its final path or absent.

Everything tfdistill writes (model folders, `.tflite` files, reports, manifests) goes through
these helpers: the content is written under a temporary name in the same folder, flushed, and
renamed into place, so a crash or a full disk never leaves a file that looks complete.
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
    fd, tmp = tempfile.mkstemp(prefix=_PARTIAL + os.path.basename(path) + ".", dir=parent)
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
    tmp = tempfile.mkdtemp(prefix=_PARTIAL + os.path.basename(os.path.normpath(path)) + ".", dir=parent)
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
