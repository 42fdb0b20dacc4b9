"""The absl recipes end to end on the shipped teacher and a few dozen real examples, and their
refusals of bad input (exit code 2, a message naming the problem, nothing written)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.integration


def _recipe(name, *args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "recipes", name), *args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("recipes") / "teacher")
    result = _recipe("finetune_teacher.py", "--max_examples=48", "--epochs=1", "--max_length=32",
                     "--batch_size=16", f"--output_dir={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Teacher test accuracy" in result.stdout
    return out


def test_finetune_teacher_writes_an_hf_folder_and_metrics(teacher_dir):
    assert {"config.json", "model.safetensors", "vocab.txt", "labels.txt", "metrics.json"} <= set(os.listdir(teacher_dir))
    metrics = json.load(open(os.path.join(teacher_dir, "metrics.json")))
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["params"] > 20_000_000
    card = open(os.path.join(teacher_dir, "README.md"), encoding="utf-8").read()  # the model card
    assert f"| test | {metrics['dataset']['num_examples']['test']:,} | {metrics['test_accuracy']:.2%} |" in card
    assert json.load(open(os.path.join(teacher_dir, "config.json")))["id2label"] == {"0": "negative", "1": "positive"}


def test_distill_writes_a_smaller_student(teacher_dir, tmp_path):
    out, logs = str(tmp_path / "student"), tmp_path / "logs"
    result = _recipe("distill.py", f"--teacher={teacher_dir}", "--max_examples=48", "--epochs=1", "--max_length=32",
                     "--student_layers=2", "--student_heads=4", "--student_intermediate=256", "--hidden_weight=1",
                     "--attention_weight=1", "--head_average", "--augment=1", f"--tensorboard_dir={logs}",
                     f"--output_dir={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert any("tfevents" in name for _, _, files in os.walk(logs / "distill" / "train") for name in files)
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["student_non_embedding_params"] < metrics["teacher_non_embedding_params"] / 10
    assert {"logit_kd", "hard_label", "hidden_mse", "attention", "accuracy", "agreement"} <= set(metrics["history"])
    import tfdistill
    config = tfdistill.load_config(out)
    # 4 of the teacher's 12 heads of 32, and 256 of its 1536 feed-forward units, in each of 2 blocks.
    assert (config.num_layers, config.num_heads, config.head_size, config.intermediate_size) == (2, 4, 32, 256)


@pytest.mark.parametrize("args, message", [
    (["--teacher=/nonexistent"], "No config.json at '/nonexistent'"),
    (["--logit_weight=-1"], "--logit_weight=-1.0 is negative"),
    (["--logit_weight=0", "--hard_weight=0"], "Every loss weight is 0"),
    (["--layer_map=9,9,9,9"], "outside the teacher's layers 1..6"),
    (["--max_length=1000"], "exceeds the model's max_position_embeddings=512"),
    # The teacher was fine-tuned on the split of --seed=0: another seed would test on its training examples.
    (["--seed=1"], "--seed=1 draws another split, whose validation and test sets hold examples the teacher"),
])
def test_distill_refuses_bad_flags_before_training(teacher_dir, tmp_path, args, message):
    out = tmp_path / "student"
    flags = [f"--teacher={teacher_dir}", f"--output_dir={out}", "--max_examples=16", *args]
    result = _recipe("distill.py", *flags)
    assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    assert not out.exists()


def test_output_dir_with_foreign_files_is_refused(tmp_path):
    (tmp_path / "thesis.tex").write_text("mine")
    result = _recipe("finetune_teacher.py", f"--output_dir={tmp_path}", "--max_examples=16")
    assert result.returncode == 2 and "holds files that tfdistill did not write" in result.stderr
    assert os.listdir(tmp_path) == ["thesis.tex"]


@pytest.fixture(scope="module")
def general_dir(tmp_path_factory):
    """A general student (2 x 128, fresh blocks) distilled from the pretrained MiniLM on 60 lines of text."""
    folder = tmp_path_factory.mktemp("general")
    texts = folder / "texts.txt"
    texts.write_text("\n".join(f"line {i}: a film about {word} that {verb}." for i, (word, verb) in enumerate(
        [(w, v) for w in ("love", "war", "money", "a dog", "the sea", "time") for v in
         ("works", "drags", "soars", "fails", "sings", "bores", "moves", "lasts", "shines", "stalls")])),
        encoding="utf-8")
    out = str(folder / "student")
    result = _recipe("general_distill.py", f"--texts={texts}", "--student_layers=2", "--student_hidden=128",
                     "--student_heads=4", "--student_intermediate=256", "--max_length=32", "--epochs=2",
                     "--batch_size=8", f"--output_dir={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "General student: held-out loss" in result.stdout
    return out


def test_general_distill_writes_an_encoder_folder(general_dir):
    import tfdistill

    assert {"config.json", "model.safetensors", "vocab.txt", "README.md", "metrics.json"} <= set(os.listdir(general_dir))
    metrics = json.load(open(os.path.join(general_dir, "metrics.json")))
    assert metrics["texts"] == 60 and metrics["train_texts"] + metrics["validation_texts"] == 60
    assert len(metrics["history"]["minilm_relation"]) == 2 and "accuracy" not in metrics["history"]
    config = tfdistill.load_config(general_dir)
    assert (config.num_layers, config.hidden_size, config.num_labels) == (2, 128, None)
    assert "general-distilled student" in open(os.path.join(general_dir, "README.md"), encoding="utf-8").read()


def test_distill_starts_from_a_general_student(teacher_dir, general_dir, tmp_path):
    import numpy as np
    import tfdistill

    out = str(tmp_path / "student")
    result = _recipe("distill.py", f"--teacher={teacher_dir}", f"--student_init={general_dir}", "--max_examples=48",
                     "--epochs=1", "--max_length=32", f"--output_dir={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    general, student = tfdistill.load_pretrained(general_dir), tfdistill.load_pretrained(out)
    assert student.bert_config.num_labels == 2 and student.bert_config.hidden_size == 128
    # Training started from the general student: its word table moved only a little from there.
    table = student.get_layer("word_embeddings").get_weights()[0]
    start = general.get_layer("word_embeddings").get_weights()[0]
    assert np.abs(table - start).max() < 0.05 * np.abs(start).max()


@pytest.mark.parametrize("recipe, args, message", [
    ("general_distill.py", ["--texts=/nonexistent.txt"], "Data file '/nonexistent.txt' does not exist"),
    ("general_distill.py", ["--texts=wikipedia"], "is neither a file nor a built-in source"),
    ("general_distill.py", ["--losses=logit_kd"], "--losses"),
    ("distill.py", ["--student_layers=2"], "fixes the student's shape; drop --student_layers"),
])
def test_general_student_refuses_bad_input(teacher_dir, general_dir, tmp_path, recipe, args, message):
    out = tmp_path / "out"
    flags = [f"--output_dir={out}", "--max_texts=16", *args] if recipe == "general_distill.py" else \
        [f"--teacher={teacher_dir}", f"--student_init={general_dir}", f"--output_dir={out}", "--max_examples=16", *args]
    result = _recipe(recipe, *flags)
    assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    assert not out.exists()
