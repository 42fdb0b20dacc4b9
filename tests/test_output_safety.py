"""Never destroy what tfdistill did not write (issue #12, class 1).

Every way an output path can hold something precious: a user's folder that merely looks like a
model folder, an input of the same command, a file, a finished output, another process's output
in the making, and a killed run's backup whose data has since changed. Each row asserts that
nothing was replaced (file digests before and after), and the message names the problem and the fix.
"""

import hashlib
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from absl import flags

import tfdistill
from tfdistill.cli.output_dir import check_output_dir
from tfdistill.cli.resume import prepare_resumable_run
from tfdistill.data.datasets import Split, TextClassificationData
from tfdistill.data.tokenizer import Tokenizer
from tfdistill.pipeline import manifest as manifest_lib
from tfdistill.utils import atomic, ownership
from tfdistill.utils.errors import OutputConflictError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "film"]
CONFIG = tfdistill.BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_layers=1, num_heads=2,
                              intermediate_size=32, max_position_embeddings=16, num_labels=2,
                              label_names=("neg", "pos"))


def digest(folder):
    """{relative path: sha256} of every file below `folder` (or of `folder` itself if a file)."""
    if os.path.isfile(folder):
        return {"": hashlib.sha256(open(folder, "rb").read()).hexdigest()}
    found = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            found[os.path.relpath(path, folder)] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return found


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    """A tiny classifier saved by tfdistill (so it carries the marker)."""
    folder = str(tmp_path_factory.mktemp("safety") / "teacher")
    tfdistill.save_pretrained(tfdistill.build_bert(CONFIG), folder, tokenizer=Tokenizer.from_vocab(VOCAB))
    return folder


def user_project(tmp_path):
    """A user's folder that looks like a model folder to a careless check: a config.json."""
    folder = tmp_path / "my_project"
    folder.mkdir()
    (folder / "config.json").write_text('{"hidden_size": 16}')
    (folder / "README.md").write_text("my notes")
    return str(folder)


# ---------------------------------------------------------------------------------------------
# The library: atomic_dir, save_pretrained, check_output_dir


def test_a_users_folder_with_a_config_json_is_never_replaced(tmp_path, model_folder):
    folder = user_project(tmp_path)
    before = digest(folder)
    with pytest.raises(OutputConflictError, match=r"holds files that tfdistill did not write \(README\.md, "
                                                  r"config\.json.*Choose an empty or new folder"):
        tfdistill.save_pretrained(tfdistill.load_pretrained(model_folder), folder)
    with pytest.raises(OutputConflictError, match="did not write"):
        check_output_dir(folder, overwrite=True)  # --overwrite does not extend to foreign folders
    assert digest(folder) == before and sorted(os.listdir(tmp_path)) == ["my_project"]


def test_save_pretrained_onto_a_file_keeps_the_file(tmp_path, model_folder):
    path = tmp_path / "weights"
    path.write_bytes(b"someone's file")
    with pytest.raises(OutputConflictError, match=r"is a file; pass a folder"):
        tfdistill.save_pretrained(tfdistill.load_pretrained(model_folder), str(path))
    assert path.read_bytes() == b"someone's file" and os.listdir(tmp_path) == ["weights"]


def test_a_symbolic_link_is_refused_and_its_target_kept(tmp_path, model_folder):
    target = user_project(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(OutputConflictError, match="symbolic link; pass the real folder"):
        tfdistill.save_pretrained(tfdistill.load_pretrained(model_folder), str(link))
    assert os.path.islink(link) and (tmp_path / "my_project" / "README.md").read_text() == "my notes"


def test_own_outputs_are_replaced_whole_and_only_with_overwrite(tmp_path, model_folder):
    model, out = tfdistill.load_pretrained(model_folder), str(tmp_path / "student")
    tfdistill.save_pretrained(model, out)
    assert ownership.read_marker(out)["kind"] == "model"
    with pytest.raises(OutputConflictError, match=r"earlier tfdistill output \(model.*pass --overwrite"):
        tfdistill.save_pretrained(model, out, overwrite=False)
    with pytest.raises(OutputConflictError, match="pass --overwrite"):
        check_output_dir(out)
    (tmp_path / "student" / "stale.txt").write_text("from the earlier output")
    tfdistill.save_pretrained(model, out)  # overwrite=True, as Keras' save
    assert "stale.txt" not in os.listdir(out) and os.listdir(tmp_path) == ["student"]


@pytest.mark.parametrize("marker", ["not json", '{"written_by": "another-tool", "kind": "model"}', '["tfdistill"]'])
def test_a_marker_tfdistill_did_not_write_proves_nothing(tmp_path, marker):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / ownership.MARKER).write_text(marker)
    (folder / "data.csv").write_text("text,label\n")
    with pytest.raises(OutputConflictError, match="did not write"):
        with atomic.atomic_dir(str(folder)):
            pass
    assert (folder / "data.csv").exists()


def test_an_empty_folder_is_filled_and_marked(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    with atomic.atomic_dir(str(folder), kind="tflite_package") as tmp:
        open(os.path.join(tmp, "model.tflite"), "wb").write(b"x")
    assert sorted(os.listdir(folder)) == [ownership.MARKER, "model.tflite"]
    assert ownership.read_marker(str(folder))["kind"] == "tflite_package"


@pytest.mark.parametrize("relation", ["same", "inside"])
def test_an_output_that_is_or_contains_an_input_is_refused(tmp_path, model_folder, relation):
    out = model_folder if relation == "same" else os.path.dirname(model_folder)
    before = digest(model_folder)
    verb = "is" if relation == "same" else "contains"
    with pytest.raises(OutputConflictError, match=rf"{verb} the input --teacher=.*would destroy it.*outside every input"):
        check_output_dir(out, {"--teacher": model_folder}, overwrite=True)
    data = tmp_path / "runs" / "reviews.csv"
    data.parent.mkdir()
    data.write_text("text,label\n")
    with pytest.raises(OutputConflictError, match=r"contains the input --train_file="):
        check_output_dir(str(tmp_path / "runs"), {"--train_file": str(data)}, overwrite=True)
    assert digest(model_folder) == before and data.exists()


def test_an_output_next_to_an_input_is_fine(tmp_path, model_folder):
    out = os.path.join(os.path.dirname(model_folder), "teacher_copy")
    assert check_output_dir(out, {"--teacher": model_folder}) == out
    ownership.release_lock(out)


# ---------------------------------------------------------------------------------------------
# Two writers of one path


HOLDER = textwrap.dedent("""
    import os, sys, time
    from tfdistill.utils import atomic
    path, go, hold = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with atomic.atomic_dir(path, kind="model") as tmp:
        open(os.path.join(tmp, "writer"), "w").write(str(os.getpid()))
        open(go, "w").close()
        time.sleep(hold)
""")


def start_holder(tmp_path, path, hold):
    go = tmp_path / f"go-{time.monotonic_ns()}"
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(go), str(hold)], cwd=ROOT)
    deadline = time.monotonic() + 60
    while not go.exists():
        assert process.poll() is None and time.monotonic() < deadline, "the holder did not start"
        time.sleep(0.05)
    go.unlink()
    return process


def test_a_second_writer_gets_a_clear_error_and_the_first_wins_cleanly(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    out = runs / "student"
    holder = start_holder(tmp_path, out, hold=3)
    with pytest.raises(OutputConflictError, match=rf"being written by another process \(pid {holder.pid}.*wait for it"):
        with atomic.atomic_dir(str(out), kind="model"):
            pass
    with pytest.raises(OutputConflictError, match="another process"):
        check_output_dir(str(out))
    assert holder.wait(60) == 0
    assert (out / "writer").read_text() == str(holder.pid)
    assert os.listdir(runs) == ["student"]  # no lock file, temporary or .old-* copy left


def test_a_killed_writer_neither_blocks_the_next_nor_leaves_files(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    out = runs / "student"
    holder = start_holder(tmp_path, out, hold=60)
    holder.kill()
    holder.wait(60)
    assert any(name.startswith(".partial-") for name in os.listdir(runs))
    with atomic.atomic_dir(str(out), kind="model") as tmp:
        open(os.path.join(tmp, "writer"), "w").write("me")
    assert (out / "writer").read_text() == "me" and os.listdir(runs) == ["student"]


RACER = textwrap.dedent("""
    import os, sys, time
    from tfdistill.utils import atomic
    from tfdistill.utils.errors import OutputConflictError
    path, start, wins, conflicts = sys.argv[1], float(sys.argv[2]), 0, 0
    time.sleep(max(0.0, start - time.time()))
    for i in range(25):
        try:
            with atomic.atomic_dir(path, kind="model") as tmp:
                for name in ("a", "b"):
                    open(os.path.join(tmp, name), "w").write(f"{os.getpid()}-{i}")
                time.sleep(0.01)
            wins += 1
        except OutputConflictError:
            conflicts += 1
        time.sleep(0.003)
    print(wins, conflicts)
""")


def test_racing_writers_each_win_or_get_an_error_and_the_folder_stays_whole(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    start = time.time() + 3
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(runs / "out"), str(start)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [racer.communicate(timeout=120) for racer in racers]
    counts = [tuple(map(int, out.split())) for out, err in results]
    assert all(racer.returncode == 0 for racer in racers), [err for _, err in results]
    assert all(wins + conflicts == 25 for wins, conflicts in counts) and all(wins > 0 for wins, _ in counts)
    out = runs / "out"
    assert (out / "a").read_text() == (out / "b").read_text()  # one writer's whole folder
    assert os.listdir(runs) == ["out"]


def test_the_fallback_swap_without_renameat2_leaves_no_old_copy(tmp_path, monkeypatch):
    out = tmp_path / "pkg"
    with atomic.atomic_dir(str(out)) as tmp:
        open(os.path.join(tmp, "v"), "w").write("1")
    monkeypatch.setattr(atomic.ctypes, "CDLL", lambda *args, **kwargs: object())  # no renameat2
    with atomic.atomic_dir(str(out)) as tmp:
        open(os.path.join(tmp, "v"), "w").write("2")
    assert (out / "v").read_text() == "2" and os.listdir(tmp_path) == ["pkg"]


# ---------------------------------------------------------------------------------------------
# Resuming only on the same data


def make_flags(**values):
    flag_values = flags.FlagValues()
    flags.DEFINE_integer("seed", 0, "", flag_values=flag_values)
    flags.DEFINE_string("train_file", "reviews.csv", "", flag_values=flag_values)
    flags.DEFINE_bool("overwrite", False, "", flag_values=flag_values)
    flag_values(["test"])
    for name, value in values.items():
        flag_values[name].value = value
    return flag_values


def make_data(first_text="good film"):
    split = Split([first_text, "bad film", "good", "bad"], [1, 0, 1, 0])
    return TextClassificationData("reviews", ["neg", "pos"], split, split, split)


def test_a_backup_is_not_resumed_when_the_data_changed(tmp_path, capsys):
    out = str(tmp_path / "student")
    first = prepare_resumable_run(make_flags(), out, make_data())
    assert ownership.read_marker(out)["kind"] == "in_progress"  # a re-run resumes without --overwrite
    assert check_output_dir(out) == out
    ownership.release_lock(out)
    open(os.path.join(first, "epoch_1.weights"), "w").write("trained")
    assert prepare_resumable_run(make_flags(overwrite=True), out, make_data()) == first  # same inputs
    assert os.path.exists(os.path.join(first, "epoch_1.weights")) and "starting afresh" not in capsys.readouterr().out
    second = prepare_resumable_run(make_flags(), out, make_data("good films"))  # same file name, new content
    assert second != first and not os.path.exists(first)
    assert "the training data's content changed; starting afresh" in capsys.readouterr().out


def test_a_backup_with_other_flags_names_them(tmp_path, capsys):
    out = str(tmp_path / "student")
    prepare_resumable_run(make_flags(), out, make_data())
    prepare_resumable_run(make_flags(seed=1), out, make_data())
    assert "seed changed; starting afresh" in capsys.readouterr().out


def test_the_data_fingerprint_sees_every_text_label_and_class_name():
    base = manifest_lib.data_fingerprint(make_data())
    assert manifest_lib.data_fingerprint(make_data()) == base
    assert manifest_lib.data_fingerprint(make_data("good film ")) != base
    split = Split(["good film", "bad film", "good", "bad"], [0, 0, 1, 0])
    assert manifest_lib.data_fingerprint(TextClassificationData("reviews", ["neg", "pos"], split, split, split)) != base
    renamed = make_data()
    renamed = TextClassificationData("reviews", ["negative", "positive"], renamed.train, renamed.validation,
                                     renamed.test)
    assert manifest_lib.data_fingerprint(renamed) != base


def test_the_pipeline_redoes_finished_stages_when_the_data_changed(tmp_path, monkeypatch, capsys):
    from tfdistill.config import RunConfig
    from tfdistill.pipeline import runner
    from tfdistill.pipeline.context import PipelineContext

    calls = []

    def stage(ctx, folder):
        calls.append(os.path.basename(ctx.backup_dir).split("-")[0])
        return {}

    monkeypatch.setattr(runner, "STAGES", {name: stage for name in runner.ORDER})
    config = RunConfig(skip=("prune", "qat")).replace(**{"data.train_file": "reviews.csv"})

    def run(data):
        return runner.run_stages(PipelineContext(config, data, None, str(tmp_path / "run")))

    run(make_data())
    assert calls == ["teacher", "distill", "export", "evaluate", "benchmark"]
    run(make_data())
    assert len(calls) == 5 and "skipped" in capsys.readouterr().out
    run(make_data("good films"))
    assert calls[5:] == ["teacher", "distill", "export", "evaluate", "benchmark"]
    assert "the training data or an earlier stage changed since the earlier run; redoing it" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# The scripts: exit 2, the message, nothing replaced


def script(path, *args):
    return subprocess.run([sys.executable, os.path.join(ROOT, *path.split("/")), *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def assert_refused(result, *patterns):
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    for pattern in patterns:
        assert pattern in result.stderr, result.stderr[-2000:]


def test_distill_into_the_teacher_folder_is_refused(model_folder):
    before = digest(model_folder)
    result = script("recipes/distill.py", f"--teacher={model_folder}", f"--output_dir={model_folder}", "--overwrite")
    assert_refused(result, f"is the input --teacher={model_folder}", "Choose an output folder outside every input")
    assert digest(model_folder) == before


def test_export_into_the_model_folder_is_refused(model_folder):
    before = digest(model_folder)
    result = script("export/to_tflite.py", f"--model={model_folder}", f"--output_dir={model_folder}")
    assert_refused(result, f"is the input --model={model_folder}")
    assert digest(model_folder) == before


def test_distill_into_a_users_project_folder_is_refused(tmp_path, model_folder):
    folder = user_project(tmp_path)
    before = digest(folder)
    result = script("recipes/distill.py", f"--teacher={model_folder}", f"--output_dir={folder}", "--overwrite")
    assert_refused(result, "holds files that tfdistill did not write (README.md, config.json",
                   "Choose an empty or new folder")
    assert digest(folder) == before


def test_a_finished_output_needs_overwrite(tmp_path, model_folder):
    out = str(tmp_path / "student")
    tfdistill.save_pretrained(tfdistill.load_pretrained(model_folder), out)
    before = digest(out)
    result = script("recipes/pipeline.py", f"--teacher={model_folder}", f"--output_dir={out}")
    assert_refused(result, "holds a tfdistill model folder, not a pipeline run", "pass --overwrite")
    result = script("recipes/prune.py", f"--student={model_folder}", f"--output_dir={out}")
    assert_refused(result, "holds an earlier tfdistill output (model", "pass --overwrite")
    assert digest(out) == before and os.listdir(tmp_path) == ["student"]
