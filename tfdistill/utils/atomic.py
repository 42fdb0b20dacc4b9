"""Atomic writes: an artifact is either complete at its final path or absent.

Everything tfdistill writes (model folders, `.tflite` files, reports, manifests) goes through
these helpers: the content is written under a temporary name in the same folder, flushed, and
renamed into place, so a crash or a full disk never leaves a file that looks complete. The
temporary name carries the writer's pid; the next write to the same path removes temporaries
whose writer is gone (a killed run's leftovers).
"""

import contextlib
import ctypes
import json
import os
import shutil
import tempfile

from tfdistill.utils import ownership

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
    >>> with atomic_path("model.tflite") as tmp:
    ...     with open(tmp, "wb") as f:
    ...         _ = f.write(b"TFL3")
    >>> open("model.tflite", "rb").read()
    b'TFL3'
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
def atomic_dir(path, overwrite=True, kind="output"):
    """Yields a temporary folder; it replaces `path` only if the block succeeds.

    Only what tfdistill wrote is ever replaced: the published folder carries the ownership
    marker (`tfdistill.utils.ownership`), and a file, a folder without that marker, or (unless
    `overwrite`) an earlier finished output at `path` is refused before the block runs. While
    the block runs, this process holds the path's write lock: a second writer fails at once.
    The old folder and the new one are swapped in one step, so `path` is never missing.

    Args:
        path: str, the final folder.
        overwrite: bool, whether an earlier tfdistill output at `path` may be replaced.
        kind: str, what the folder is (recorded in its marker), e.g. `"model"`.

    Raises:
        OutputConflictError: `path` holds something tfdistill may not replace, or another
            process is writing it.

    Example:
    >>> with atomic_dir("runs/student", kind="model") as tmp:
    ...     write_text(os.path.join(tmp, "notes.txt"), "hello")
    >>> sorted(os.listdir("runs/student"))
    ['.tfdistill.json', 'notes.txt']
    """
    parent = _parent_of(path)
    ownership.check_replaceable(path, overwrite)
    locked_here = not ownership.holds_lock(path)
    ownership.acquire_lock(path)
    try:
        _remove_stale_partials(parent, path)
        tmp = tempfile.mkdtemp(prefix=_partial_prefix(path), dir=parent)
        try:
            yield tmp
            ownership.write_marker(tmp, kind)
            ownership.check_replaceable(path, overwrite=True)  # nothing foreign appeared meanwhile
            _swap_into_place(tmp, path)
            _fsync_dir(parent)
        finally:
            if os.path.exists(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if locked_here:
            ownership.release_lock(path)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _swap_into_place(tmp, path):
    """Moves folder `tmp` to `path`; an earlier folder at `path` ends up at `tmp` (to be removed).

    Linux's renameat2(RENAME_EXCHANGE) swaps both names in one step. Without it the old folder is
    renamed to `tmp`'s sibling partial name first: a kill between the two renames leaves `path`
    absent for a moment, and the partial is removed by the next writer.
    """
    if not os.path.isdir(path) or not os.listdir(path):
        os.replace(tmp, path)  # rename(2) replaces an empty folder
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.renameat2(_AT_FDCWD, os.fsencode(tmp), _AT_FDCWD, os.fsencode(path), _RENAME_EXCHANGE) == 0:
            return
    except (AttributeError, OSError):
        pass
    old = tmp + ".old"
    os.replace(path, old)
    os.replace(tmp, path)
    os.replace(old, tmp)
