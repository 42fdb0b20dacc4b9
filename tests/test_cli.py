"""The `tfdistill` console script that `pip install` (`make setup`) puts next to this venv's python:
the command list, an unknown command, every command's help, `tfdistill predict` end to end, and
the `--distribution_strategy` checks made before TensorFlow starts."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tfdistill.cli.distribution_flags import check_tf_config
from tfdistill.cli.main import COMMANDS

TFDISTILL = os.path.join(os.path.dirname(sys.executable), "tfdistill")
TRAINING_COMMANDS = ("finetune", "distill", "prune", "qat")
WORDS = "good bad great awful fine dull movie plot acting fun boring superb".split()


def _tfdistill(*args):
    if not os.path.exists(TFDISTILL):
        pytest.fail(f"No console script at {TFDISTILL}: run `make setup` (pip install -e .) to install it.")
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    return subprocess.run([TFDISTILL, *args], capture_output=True, text=True, timeout=300,
                          env={**env, "TF_CPP_MIN_LOG_LEVEL": "2"})


@pytest.mark.parametrize("args", [[], ["--help"], ["-h"]])
def test_help_lists_every_command(args):
    done = _tfdistill(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    listed = [line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ")]
    assert listed == list(COMMANDS)


def test_an_unknown_command_exits_2_naming_the_commands():
    done = _tfdistill("distil", "--teacher=runs/teacher")
    assert done.returncode == 2
    assert "unknown command 'distil'" in done.stderr and all(name in done.stderr for name in COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_help(name):
    if importlib.util.find_spec(COMMANDS[name][0]) is None:
        pytest.skip(f"{COMMANDS[name][0]} does not exist yet")
    done = _tfdistill(name, "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    if name != "pipeline":  # its module is not this test's: only its exit status is checked
        assert "--output_dir" in done.stdout or "--model" in done.stdout  # the command's own flags
    if name in TRAINING_COMMANDS:
        assert "--distribution_strategy: <off|mirrored|multi_worker_mirrored>" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["distill", "--epochs=two"], "flag --epochs=two: invalid literal for int()"),
    (["general_distill", "--losses=logit_kd"], "flag --losses=logit_kd: value should be one of <minilm|tinybert>"),
])
def test_a_flag_value_the_flag_refuses_exits_2(args, message, tmp_path):
    done = _tfdistill(*args, f"--output_dir={tmp_path / 'out'}")
    assert done.returncode == 2 and message in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "out").exists()


def test_helpfull_lists_absl_flags_too():
    done = _tfdistill("predict", "--helpfull")
    assert done.returncode == 0 and "--flagfile" in done.stdout and "--input_file" in done.stdout


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """A tiny random classifier folder with class names."""
    import tf_keras as keras

    import tfdistill
    from tfdistill.data import Tokenizer

    keras.utils.set_random_seed(0)
    tokenizer = Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])
    config = tfdistill.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_layers=1, num_heads=2,
                                  intermediate_size=32, max_position_embeddings=32, num_labels=2,
                                  label_names=("negative", "positive"))
    folder = tmp_path_factory.mktemp("cli") / "student"
    tfdistill.save_pretrained(tfdistill.build_bert(config), str(folder), tokenizer)
    return folder


def test_predict_runs_end_to_end_with_a_flagfile(student, tmp_path):
    import tfdistill

    texts = ["good movie", "dull boring plot"]
    flagfile = tmp_path / "predict.cfg"
    flagfile.write_text(f"--model={student}\n--max_length=16\n")
    done = _tfdistill("predict", f"--flagfile={flagfile}", *[f"--text={text}" for text in texts])
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    expected = tfdistill.TextClassifier.from_pretrained(str(student), max_length=16).predict(texts)
    assert [row["text"] for row in rows] == texts and [row["label"] for row in rows] == expected.labels
    probabilities = [[row["probabilities"][name] for name in expected.label_names] for row in rows]
    np.testing.assert_allclose(probabilities, expected.probabilities, atol=1e-5)


def test_a_bad_input_exits_2_with_the_message(student):
    done = _tfdistill("predict", f"--model={student}")
    assert done.returncode == 2 and "No text to classify" in done.stderr


def test_multi_worker_without_tf_config_exits_2_before_training(tmp_path):
    done = _tfdistill("distill", f"--teacher={tmp_path}", f"--output_dir={tmp_path / 'out'}",
                      "--distribution_strategy=multi_worker_mirrored")
    assert done.returncode == 2
    assert "reads the cluster from the TF_CONFIG environment variable, which is not set" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, message", [
    ("{not json", "TF_CONFIG is not JSON"),
    ('{"task": {"type": "worker", "index": 0}}', "names no workers"),
    ('{"cluster": {"worker": ["a:1", "b:1"]}}', "is not one of its cluster's tasks"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "is not one of its cluster's tasks"),
])
def test_a_tf_config_without_cluster_or_task_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        check_tf_config(text)
