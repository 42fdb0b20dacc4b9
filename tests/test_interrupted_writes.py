"""Interrupted writes (issue #8): a full disk or a SIGKILL while an artifact is written leaves
nothing that looks complete at its final path (an earlier version stays as it was), and readers
that meet an incomplete artifact say what is wrong."""

import builtins
import errno
import hashlib
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tfdistill.export import package
from tfdistill.pipeline import manifest as manifest_lib
from tfdistill.utils import atomic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS = "good bad great awful fine dull movie plot acting fun".split()


@pytest.fixture(scope="module")
def tiny():
    """A tiny classifier (weights ~60 KB), its tokenizer and a 2-class dataset."""
    import tfdistill
    from tfdistill.data import Split, TextClassificationData

    tokenizer = tfdistill.Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])
    config = tfdistill.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=1, num_heads=2,
                                  intermediate_size=64, max_position_embeddings=16, num_labels=2)
    split = Split(["good", "bad"], [1, 0])
    data = TextClassificationData("made_up", ["neg", "pos"], split, split, split)
    return tfdistill.build_bert(config, name="tiny"), tokenizer, data


def _write_model_folder(path, tiny, tag):
    from tfdistill.training.outputs import write_model_folder

    model, tokenizer, data = tiny
    write_model_folder(str(path), model, tokenizer, data, {"tag": tag})


def _write_package(path, tiny, tag):
    flatbuffer = b"\x1c\x00\x00\x00TFL3" + tag.encode() * 4000
    card = package.model_card(flatbuffer, seq_len=16, inputs=["input_ids"], outputs=["logits"], labels=["neg", "pos"],
                              mode="int8", source=tag, accuracy=None)
    package.write_model_package(str(path), flatbuffer, tiny[1].vocab, ["neg", "pos"], card)


def _write_report(path, tiny, tag):
    atomic.write_json(str(path), {"tag": tag, "rows": [tag] * 500})


def _write_stage(path, tiny, tag):
    with atomic.atomic_dir(str(path)) as folder:
        atomic.write_text(os.path.join(folder, "outputs.txt"), tag * 2000)
        manifest_lib.write_manifest(folder, "distill", {"tag": tag}, tag, 1.0, {"path": "outputs.txt"})


WRITERS = {"model_folder": _write_model_folder, "tflite_package": _write_package, "report": _write_report,
           "stage_with_manifest": _write_stage}


def _snapshot(path):
    """{relative path: sha256} of a file or a folder tree (None if absent)."""
    if not os.path.exists(path):
        return None
    if os.path.isfile(path):
        return hashlib.sha256(open(path, "rb").read()).hexdigest()
    return {os.path.relpath(os.path.join(d, name), path): hashlib.sha256(open(os.path.join(d, name), "rb").read())
            .hexdigest() for d, _, files in os.walk(path) for name in files}


class _Disk:
    """Counts the bytes written through `open` (and safetensors, rerouted through `open`); with
    `free` set, the write that passes it writes up to the limit, then raises ENOSPC."""

    def __init__(self, monkeypatch):
        self.used, self.free = 0, None
        real_open = builtins.open
        disk = self

        class File:
            def __init__(self, f):
                self._f = f

            def write(self, data):
                room = len(data) if disk.free is None else max(disk.free - disk.used, 0)
                self._f.write(data[:room])
                disk.used += min(room, len(data))
                if room < len(data):
                    raise OSError(errno.ENOSPC, "No space left on device")
                return len(data)

            def __getattr__(self, name):
                return getattr(self._f, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self._f.close()

        def fake_open(file, mode="r", *args, **kwargs):
            f = real_open(file, mode, *args, **kwargs)
            return File(f) if any(c in mode for c in "wax+") else f

        def save_file(tensors, filename, metadata=None):
            from safetensors.numpy import save

            with fake_open(filename, "wb") as f:
                f.write(save(tensors, metadata=metadata))

        monkeypatch.setattr(builtins, "open", fake_open)
        monkeypatch.setattr("safetensors.numpy.save_file", save_file)


@pytest.mark.parametrize("artifact", sorted(WRITERS))
@pytest.mark.parametrize("earlier_version", [False, True])
def test_full_disk_part_way_leaves_the_final_path_as_it_was(tiny, tmp_path, monkeypatch, artifact, earlier_version):
    write = WRITERS[artifact]
    path = tmp_path / "artifact"
    disk = _Disk(monkeypatch)
    write(tmp_path / "measure", tiny, "new")
    size = disk.used
    if earlier_version:
        write(path, tiny, "old")
    before = _snapshot(path)
    # The disk fills at the start, a quarter, half way and in the last bytes of the write.
    for fraction in (0.0, 0.25, 0.5, 0.999):
        disk.used, disk.free = 0, int(size * fraction)
        with pytest.raises(OSError) as error:
            write(path, tiny, "new")
        assert error.value.errno == errno.ENOSPC
        assert _snapshot(path) == before, fraction
        assert not [name for name in os.listdir(tmp_path) if name.startswith(".partial-")]  # temps removed
    disk.free = None
    write(path, tiny, "new")  # with room again, the write goes through
    written, measured = _snapshot(path), _snapshot(tmp_path / "measure")
    assert written != before and (set(written) == set(measured) if isinstance(measured, dict) else written == measured)


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 96 KB tmpfs (skipped where mounting is not permitted)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_really_full_disk_leaves_nothing_and_frees_its_temps(tiny, tiny_tmpfs):
    import tfdistill

    model = tiny[0]
    tfdistill.save_pretrained(model, str(tiny_tmpfs / "small"))  # ~60 KB: fits
    big = tfdistill.build_bert(model.bert_config.replace(vocab_size=1000), name="big")  # ~180 KB: does not
    with pytest.raises(Exception, match="No space left|os error 28|ENOSPC"):
        tfdistill.save_pretrained(big, str(tiny_tmpfs / "big"))
    assert sorted(os.listdir(tiny_tmpfs)) == ["small"]
    np.testing.assert_array_equal(tfdistill.load_pretrained(str(tiny_tmpfs / "small")).get_weights()[0],
                                  model.get_weights()[0])


_KILLED_WRITER = """
import os, sys, time
sys.path.insert(0, {root!r})
from tfdistill.utils import atomic

def slow(folder):
    with open(os.path.join(folder, "model.tflite"), "wb") as f:
        f.write({head!r})
        f.flush()
        open({marker!r}, "w").close()
        time.sleep(120)
        f.write(b"the rest of the model")

with atomic.atomic_dir({path!r}) as folder:
    slow(folder)
    atomic.write_json(os.path.join(folder, "model_card.json"), {{}})
"""


def test_sigkill_while_writing_keeps_the_earlier_package_and_readers_say_what_is_wrong(tiny, tmp_path):
    from tfdistill.export.runtime import load_interpreter, read_tflite

    path, marker = tmp_path / "student_int8", tmp_path / "writing"
    _write_package(path, tiny, "old")
    before = _snapshot(path)
    script = _KILLED_WRITER.format(root=ROOT, head=b"\x1c\x00\x00\x00TFL3\x00\x00" * 4, marker=str(marker),
                                   path=str(path))
    writer = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 120
    while not marker.exists():
        assert writer.poll() is None and time.time() < deadline, "the writer never started writing"
        time.sleep(0.05)
    os.kill(writer.pid, signal.SIGKILL)
    assert writer.wait() == -signal.SIGKILL

    assert _snapshot(path) == before  # the published package is the earlier one, whole
    assert package.read_model_card(str(path))["source"] == "old"
    (partial,) = [tmp_path / name for name in os.listdir(tmp_path) if name.startswith(".partial-student_int8.")]
    assert os.listdir(partial) == ["model.tflite"]  # the half-written one, under a temporary name
    with pytest.raises(FileNotFoundError, match="No model_card.json in"):
        package.read_model_card(str(partial))
    with pytest.raises(ValueError, match=r"LiteRT cannot load .*may be truncated.*Export it again"):
        load_interpreter(str(partial / "model.tflite"))
    with pytest.raises(FileNotFoundError, match="No TFLite model at"):
        read_tflite(str(tmp_path / "student_float32"))

    # The next write to that path removes the killed writer's temporary, not a live writer's.
    live = tmp_path / f".partial-student_int8.{os.getpid()}.live"
    live.mkdir()
    _write_package(path, tiny, "new")
    assert not partial.exists() and live.exists()
    assert package.read_model_card(str(path))["source"] == "new"


def test_readers_refuse_incomplete_stage_folders(tmp_path):
    from tfdistill.pipeline.context import PipelineContext

    ctx = PipelineContext(None, None, None, str(tmp_path), None, ())
    (tmp_path / "distill" / "model").mkdir(parents=True)
    with pytest.raises(RuntimeError, match=r"distill has no manifest.json: stage 'distill' did not finish"):
        ctx.outputs("distill")
    assert not manifest_lib.is_complete(str(tmp_path / "distill"), "any")  # so the pipeline redoes it
    (tmp_path / "distill" / "manifest.json").write_text('{"stage": "distill", "outp')
    with pytest.raises(ValueError, match="is not valid JSON; delete .* or pass --force_stages"):
        ctx.outputs("distill")
