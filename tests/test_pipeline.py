"""The whole pipeline on a tiny random teacher and a few dozen made-up rows of a 3-class CSV:
every stage runs (resumed under MirroredStrategy with TensorBoard logs), the saved models have
model cards, the report is complete, a re-run skips every stage (also from the saved run.json),
bad input fails early, `--help` lists the flags."""

import csv
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.killed_runs import run_and_kill_mid_epoch
from tests.offline import offline_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS = {"billing": "invoice refund charge card payment price", "shipping": "parcel courier late box address track",
         "account": "password login email reset profile locked"}


def _pipeline(*args, timeout=600, env=None):
    return subprocess.run([sys.executable, os.path.join(ROOT, "recipes", "pipeline.py"), *args], capture_output=True,
                          text=True, timeout=timeout, env=env or {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, teacher_path):
    return write_tiny_inputs(tmp_path_factory.mktemp("pipeline"), teacher_path)


def write_tiny_inputs(folder, teacher_path):
    """Writes `tickets.csv` (90 rows, 3 classes) and a random 2-layer `teacher` into `folder`."""
    import tfdistill

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    with open(folder / "tickets.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["message", "team"])
        for index in range(90):
            team = list(WORDS)[index % 3]
            writer.writerow([" ".join(rng.choice(WORDS[team].split(), 5)), team])
    tokenizer = tfdistill.Tokenizer.from_pretrained(teacher_path)
    config = tfdistill.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=2, num_heads=4,
                                  intermediate_size=64, num_labels=3, label_names=("account", "billing", "shipping"))
    tfdistill.save_pretrained(tfdistill.build_bert(config), str(folder / "teacher"), tokenizer=tokenizer)
    return folder


def _flags(inputs, out):
    return [f"--teacher={inputs / 'teacher'}", f"--train_file={inputs / 'tickets.csv'}", "--text_column=message",
            "--label_column=team", "--max_length=16", "--student_layers=1", "--student_hidden=16", "--student_heads=2",
            "--student_intermediate=32",
            "--head_average", "--epochs=1", "--benchmark_runs=5", f"--output_dir={out}",
            # The stages' step floors (600 / 300 steps) would train these 30 rows for hundreds of epochs.
            "--set=distill.min_steps=0", "--set=prune.min_steps=0", "--set=qat.min_steps=0"]


def test_pipeline_runs_every_stage_reports_and_resumes(inputs, tmp_path):
    out = tmp_path / "run"
    # A factorised word table (rank 8 of 16) goes through every stage: pruning, QAT, both vocabularies.
    flags = [*_flags(inputs, out), "--epochs=2", "--student_embedding_size=8"]
    # SIGKILLed in the distill stage's second epoch (3 steps, so it may just have finished): the
    # same command skips the teacher stage (its manifest matches) and resumes distillation from
    # the stage's backup instead of redoing epoch 1.
    run_and_kill_mid_epoch([sys.executable, os.path.join(ROOT, "recipes", "pipeline.py"), *flags],
                           out / "training_backup", after_line="== distill: starting")
    assert not (out / "distill" / "manifest.json").exists()
    start = time.perf_counter()
    # Resumed on one device's MirroredStrategy and with TensorBoard logs: neither is an input of
    # any stage (the teacher stage stays skipped, and the run after this one skips them all).
    # The network is off (tests/offline.py): distilling, pruning, QAT, exporting, evaluating
    # (LiteRT and MediaPipe) and benchmarking need none.
    logs, offline = tmp_path / "logs", tmp_path / "offline"
    offline.mkdir()
    result = _pipeline(*flags, "--distribution_strategy=mirrored", f"--tensorboard_dir={logs}",
                       env=offline_env(offline))
    assert result.returncode == 0, result.stderr[-4000:]
    assert not (offline / "attempts.log").exists(), (offline / "attempts.log").read_text()
    assert time.perf_counter() - start < 300
    assert "== teacher: done earlier with the same inputs, skipped" in result.stdout
    assert re.search(r"Resumed from the backup in \S+/training_backup/distill-\w+/train: epochs 1-[12] were done",
                     result.stderr), result.stderr[-3000:]
    assert "== distill: starting" in result.stdout and "Epoch 1/2" not in result.stdout
    assert os.listdir(out / "training_backup") == []  # each stage's backup goes once it is published
    report = json.load(open(out / "report.json"))
    assert report["dataset"]["num_classes"] == 3 and report["dataset"]["train"] > 50
    assert set(report["stage_seconds"]) == {"teacher", "distill", "prune", "qat", "export", "evaluate", "benchmark"}
    modes = {(s["stage"], s["mode"]) for s in report["students"]}
    assert {("distill", "float32"), ("distill", "float16"), ("distill", "dynamic"), ("distill", "int8"),
            ("prune", "int8"), ("qat", "qat"), ("distill", "keras")} <= modes
    for student in report["students"]:
        assert 0 <= student["accuracy"] <= 1
        if student["mode"] != "keras":
            assert student["latency_ms_p50"] > 0 and student["gzip_size_bytes"] < student["tflite_size_bytes"]
            # export.vocabulary=both: the shippable modes of every student stage (QAT's too) also come
            # with the vocabulary of the training texts, `<name>_used`.
            keras = next(e for e in report["students"] if e["stage"] == student["stage"] and e["mode"] == "keras")
            if student["name"].endswith("_used"):
                assert student["vocab_size"] < 3000 and student["params"] < keras["params"], student
            else:
                assert student["vocab_size"] == 30522 and student["params"] == keras["params"], student
    names = {student["name"] for student in report["students"]}
    assert {"distill_int8_used", "distill_dynamic_used", "prune_int8_used", "qat_qat_used"} <= names
    assert "distill_float32_used" not in names
    # MediaPipe ran once per vocabulary: every package measured.
    assert set(report["mediapipe"]["tokenized_differently_by_package"]) == names - {
        "distill_keras", "prune_keras", "qat_keras"} | {"teacher_float32"}
    assert report["teacher"]["vocab_size"] == 30522 and report["mediapipe"]["accuracy"]
    assert report["teacher"]["latency_ms_p50"] > 0 and report["retention"] is not None
    assert os.path.getsize(out / "pareto.png") > 10_000 and "| model |" in open(out / "report.md").read()
    distilled = json.load(open(out / "distill" / "manifest.json"))["outputs"]
    card = (out / "distill" / "model" / "README.md").read_text()  # the model card
    assert f"| test | {report['dataset']['test']:,} | {distilled['accuracy']:.2%} |" in card
    assert (out / "prune" / "model" / "README.md").exists()
    for stage in ("distill", "prune", "qat"):
        assert any("tfevents" in name for _, _, files in os.walk(logs / stage) for name in files), stage

    again = _pipeline(*flags)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("skipped") == 7

    # run.json holds the resolved config: it reruns the same run, and an explicit flag overrides it.
    from tfdistill.config import RunConfig

    saved = RunConfig.load(str(out / "run.json"))
    assert (saved.student.hidden, saved.student.embedding_size, saved.distill.epochs, saved.teacher.path) == (
        16, 8, 2, str(inputs / "teacher"))
    assert json.load(open(out / "report.json"))["config"] == saved.to_dict()  # the last run's (no TensorBoard)
    rerun = _pipeline(f"--config={out / 'run.json'}", f"--output_dir={out}", "--benchmark_runs=6")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert rerun.stdout.count("skipped") == 6, rerun.stdout[-3000:]
    assert "== benchmark: benchmark.runs changed since the earlier run; redoing it" in rerun.stdout
    assert RunConfig.load(str(out / "run.json")) == saved.replace(**{"benchmark.runs": 6})


@pytest.mark.parametrize("extra, message", [
    (["--dataset=imdb_made_up"], "imdb_made_up"),
    (["--label_column=department"], "department"),
    (["--skip=export"], "only ['prune', 'qat'] can be skipped"),
    (["--student_hidden=24", "--student_heads=5"], "not divisible by num_heads=5"),
    (["--target_sparsity=1.5"], "--target_sparsity=1.5 must be in (0, 1)"),
    (["--set=qat.batch_size=0"], "qat.batch_size=0 must be >= 1"),
    (["--set=distill.lr=1e-4"], "the distill section has no 'lr'"),
    (["--config=/nonexistent/run.json"], "No run config at '/nonexistent/run.json'"),
    (["--tensorboard_dir={run}/distill"], "would put the logs in the stage folders"),
])
def test_bad_input_fails_before_training(inputs, tmp_path, extra, message):
    flags = [f for f in _flags(inputs, tmp_path / "run") if not (extra[0].startswith("--dataset") and "train_file" in f)]
    result = _pipeline(*flags, *[arg.format(run=tmp_path / "run") for arg in extra], timeout=120)
    assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    assert not (tmp_path / "run").exists()


def test_multi_worker_refuses_a_run_folder_with_finished_stages(inputs, tmp_path):
    # A non-chief worker, writing a temporary folder, could not skip the stages the chief skips.
    out = tmp_path / "run"
    (out / "teacher").mkdir(parents=True)
    (out / "teacher" / "manifest.json").write_text(json.dumps({"stage": "teacher"}))
    result = _pipeline(*_flags(inputs, out), "--distribution_strategy=multi_worker_mirrored", timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "its stages ['teacher'] are finished" in result.stderr and "Pass a new --output_dir" in result.stderr


def test_help_lists_the_pipeline_flags():
    result = _pipeline("--help", timeout=120)
    for flag in ("--output_dir", "--train_file", "--student_layers", "--preset", "--tensorboard_dir",
                 "--distribution_strategy: <off|mirrored|multi_worker_mirrored>"):
        assert flag in result.stdout, flag
