"""Labels that cannot silently invert (issue 12, class 2), on tiny made-up models and files.

Four ways class names used to go wrong without a word:
- a teacher whose id2label orders the classes differently from the data's sorted names: now the
  data is mapped to the teacher's order (a warning says so) and the student's labels.txt agrees
  with its config.json; other names are refused;
- evaluating a model or package on data labelled with other names: refused, naming both sets
  (the same names in another order are mapped by name);
- labels differing only by case, holding a line break, or mixing numbers and names: refused
  (surrounding whitespace is stripped, as documented);
- a classifier folder without its head weights: refused, unless a new head is asked for.

Script rows run the absl scripts as subprocesses: exit status 2, the one-line message, nothing
written.
"""

import json
import logging
import os
import re

import numpy as np
import pytest

import tfdistill
from tfdistill.data import datasets
from tfdistill.data.datasets import Split, TextClassificationData
from tfdistill.data.tokenizer import Tokenizer
from tfdistill.export.package import model_card, write_model_package
from tfdistill.training.classifier import data_in_model_order, load_classifier, load_classifier_and_data

from tests import bad_input
from tests.bad_input import VOCAB, WORDS, assert_refused, run_script

# The bad-input tests' tiny classifier, naming its classes out of the data's sorted order ["neg", "pos"].
CONFIG = bad_input.CONFIG.replace(label_names=("pos", "neg"))
FAKE_FLATBUFFER = b"\x1c\x00\x00\x00TFL3 not a real model"


def _write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("text,label\n" + "".join(f"{text},{label}\n" for text, label in rows))
    return str(path)


def _rows(labels):
    return [(f"{WORDS[i % 6]} {WORDS[(i * 5 + 1) % 6]} review {i}", label) for i, label in enumerate(labels)]


def _data(names=("neg", "pos"), rows=12):
    texts = [f"{WORDS[i % 6]} {WORDS[(i + 1) % 6]}" for i in range(rows)]
    split = Split(texts, [i % 2 for i in range(rows)])
    return TextClassificationData("made_up", list(names), split, split, split)


def _drop_tensors(folder, prefixes):
    from safetensors.numpy import load_file, save_file

    path = os.path.join(folder, "model.safetensors")
    tensors = {name: value for name, value in load_file(path).items() if not name.startswith(prefixes)}
    save_file(tensors, path)
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Tiny classifier folders: `teacher` (id2label pos, neg), `placeholder` (LABEL_0, LABEL_1),
    `headless` (classifier weights removed), `base` (no head at all, like the shipped MiniLM)."""
    import tf_keras as keras

    keras.utils.set_random_seed(0)
    root = tmp_path_factory.mktemp("labels")
    tokenizer = Tokenizer.from_vocab(VOCAB)
    teacher = tfdistill.build_bert(CONFIG, name="teacher")
    folders = {}
    for name, config in (("teacher", CONFIG), ("placeholder", CONFIG.replace(label_names=None)),
                         ("headless", CONFIG), ("no_pooler", CONFIG),
                         ("base", CONFIG.replace(num_labels=None, label_names=None))):
        model = teacher if config is CONFIG else tfdistill.build_bert(config)
        if model is not teacher and config.num_labels:
            model.set_weights(teacher.get_weights())
        folders[name] = str(root / name)
        tfdistill.save_pretrained(model, folders[name], tokenizer=tokenizer)
    _drop_tensors(folders["headless"], ("classifier.",))
    _drop_tensors(folders["no_pooler"], ("bert.pooler.",))
    return {"root": root, "tokenizer": tokenizer, **folders}


# ---------------------------------------------------------------------------------------------
# 1. A teacher's id2label against the data's classes


def test_data_is_mapped_to_a_teacher_ordering_the_same_names_differently(models, caplog):
    data = _data(["neg", "pos"])
    with caplog.at_level(logging.WARNING):
        teacher, mapped = load_classifier_and_data(models["teacher"], data, role="teacher")
    assert mapped.label_names == ["pos", "neg"] == list(teacher.bert_config.label_names)
    for split in ("train", "validation", "test"):
        before, after = getattr(data, split), getattr(mapped, split)
        assert after.texts == before.texts and (after.labels == 1 - before.labels).all()
        assert [mapped.label_names[i] for i in after.labels] == [data.label_names[i] for i in before.labels]
    assert "orders its classes ['pos', 'neg']" in caplog.text and "Mapped the data" in caplog.text


def test_a_teacher_with_other_class_names_is_refused_naming_both_sets(models):
    with pytest.raises(ValueError) as raised:
        load_classifier_and_data(models["teacher"], _data(["fresh", "rotten"]), role="teacher")
    message = str(raised.value)
    assert f"The teacher at {models['teacher']} predicts the classes ['pos', 'neg']" in message
    assert "the dataset 'made_up' has the classes ['fresh', 'rotten']" in message
    assert "Relabel the data with the teacher's class names" in message


def test_placeholder_names_are_not_names_the_data_names_them(models, caplog):
    data = _data(["neg", "pos"])
    with caplog.at_level(logging.WARNING):
        model, same = load_classifier_and_data(models["placeholder"], data, role="teacher")
    assert same is data
    assert model.bert_config.label_names == ("neg", "pos")  # a student copies these into config.json
    assert "has no class names in config.json (['LABEL_0', 'LABEL_1'])" in caplog.text
    assert "cannot be checked" in caplog.text


def test_a_teacher_for_data_already_fixed_to_another_order_is_refused(models):
    # prune/qat: the data follows the student's order first; a teacher ordering the classes
    # otherwise would hand the student inverted soft targets.
    with pytest.raises(ValueError) as raised:
        load_classifier(models["teacher"], _data(["neg", "pos"]), role="teacher")
    message = str(raised.value)
    assert "orders its classes ['pos', 'neg'], but the data (and the model loaded with it) uses ['neg', " \
           "'pos']" in message
    assert "Use a teacher whose config.json id2label lists the classes as ['neg', 'pos']" in message


def test_distill_script_maps_the_data_and_the_student_agrees_with_itself(models, tmp_path):
    train = _write_csv(tmp_path / "reviews.csv", _rows(["neg", "pos"] * 20))
    out = tmp_path / "student"
    result = run_script("recipes/distill.py", f"--teacher={models['teacher']}", f"--train_file={train}",
                        "--max_length=8", "--epochs=1", "--batch_size=16", "--student_layers=1",
                        "--importance_examples=16", f"--output_dir={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Mapped the data to the teacher's order by name" in result.stderr
    config = json.loads((out / "config.json").read_text())
    labels_txt = (out / "labels.txt").read_text().splitlines()
    assert labels_txt == [config["id2label"][str(i)] for i in range(len(labels_txt))] == ["pos", "neg"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset"]["label_names"] == ["pos", "neg"]


def _distill_is_refused(tmp_path, teacher, labels, *fragments):
    """Runs recipes/distill.py on a CSV of `labels`: exit 2, `fragments` in the message, no output."""
    train = _write_csv(tmp_path / "reviews.csv", _rows(labels))
    result = run_script("recipes/distill.py", f"--teacher={teacher}", f"--train_file={train}", "--max_length=8",
                        f"--output_dir={tmp_path / 'student'}")
    assert_refused(result, *fragments)
    assert os.listdir(tmp_path) == ["reviews.csv"]


def test_distill_script_refuses_a_teacher_with_other_names(models, tmp_path):
    _distill_is_refused(tmp_path, models["teacher"], ["fresh", "rotten"] * 10,
                        "predicts the classes ['pos', 'neg']", "has the classes ['fresh', 'rotten']",
                        "Relabel the data with the teacher's class names")


# ---------------------------------------------------------------------------------------------
# 2. Evaluating a model or package on data with other class names


def _fake_package(folder, labels):
    card = model_card(FAKE_FLATBUFFER, seq_len=8, inputs=["input_ids"], outputs=["logits"], labels=labels,
                      mode="float32", source="made up", accuracy=None)
    write_model_package(str(folder), FAKE_FLATBUFFER, VOCAB, labels, card)
    return str(folder)


def test_evaluating_a_package_on_other_names_is_refused_before_running_it(tmp_path):
    from tfdistill.export import evaluate_tflite

    package = _fake_package(tmp_path / "package", ["negative", "positive"])
    with pytest.raises(ValueError) as raised:
        evaluate_tflite(package, Tokenizer.from_vocab(VOCAB), _data().test, label_names=["fresh", "rotten"])
    message = str(raised.value)
    assert "predicts the classes ['negative', 'positive'] but the evaluation data has the classes " \
           "['fresh', 'rotten']" in message
    assert "Evaluate it on data labelled with the package's classes" in message


def test_to_tflite_refuses_a_model_with_other_names_than_the_data(models):
    model = tfdistill.load_pretrained(models["teacher"])
    with pytest.raises(ValueError, match=r"The model at .* predicts the classes \['pos', 'neg'\] but the dataset "
                                         r"'made_up' has the classes \['negative', 'positive'\]"):
        data_in_model_order(model.bert_config, _data(["negative", "positive"]), "model", models["teacher"])
    assert data_in_model_order(model.bert_config, _data(), "model").label_names == ["pos", "neg"]
    assert data_in_model_order(None, _data(), "model").label_names == ["neg", "pos"]  # a QAT .h5: no names


@pytest.fixture(scope="module")
def tflite_package(tmp_path_factory):
    """A real float32 package of a tiny model whose argmax is the word "good" (so accuracy is
    far from 0.5 and an inverted reading is far from it the other way)."""
    import tf_keras as keras

    from tfdistill.export import export_tflite

    keras.utils.set_random_seed(0)
    tokenizer = Tokenizer.from_vocab(VOCAB)
    model = tfdistill.build_bert(CONFIG.replace(label_names=("negative", "positive")), name="tiny")
    classifier = model.get_layer("classifier")
    classifier.kernel.assign(classifier.kernel * 30.0)
    texts = [" ".join(WORDS[(i + j) % 6] for j in range(i % 4 + 1)) for i in range(40)]
    predictions = np.argmax(model(tokenizer(texts, max_length=8))["logits"], axis=-1)
    labels = [int(p) if i % 5 else 1 - int(p) for i, p in enumerate(predictions)]  # 80% agree
    split = Split(texts, labels)
    folder = str(tmp_path_factory.mktemp("tflite") / "package")
    export_tflite(model, folder, "float32", 8, tokenizer, split, split, None)
    return folder, tokenizer, split


def test_evaluation_maps_the_same_names_by_name(tflite_package):
    from tfdistill.export import evaluate_tflite

    folder, tokenizer, split = tflite_package
    flipped = Split(split.texts, 1 - split.labels)  # the same rows, named ["positive", "negative"]
    right = evaluate_tflite(folder, tokenizer, split, label_names=["negative", "positive"]).accuracy
    mapped = evaluate_tflite(folder, tokenizer, flipped, label_names=["positive", "negative"]).accuracy
    by_position = evaluate_tflite(folder, tokenizer, flipped).accuracy  # the old, silent reading
    assert right == mapped == pytest.approx(0.8)
    assert by_position == pytest.approx(0.2)


def test_evaluate_script_refuses_data_with_other_names(tmp_path):
    package = _fake_package(tmp_path / "package", ["negative", "positive"])
    test_file = _write_csv(tmp_path / "test.csv", _rows(["fresh", "rotten"] * 4))
    before = sorted(os.listdir(package))
    result = run_script("export/evaluate_tflite.py", f"--model={package}", f"--train_file={test_file}",
                        f"--validation_file={test_file}", f"--test_file={test_file}", "--split=test")
    assert_refused(result, "predicts the classes ['negative', 'positive']", "has the classes ['fresh', 'rotten']",
                   "rename the labels in the data file")
    assert sorted(os.listdir(package)) == before and sorted(os.listdir(tmp_path)) == ["package", "test.csv"]


# ---------------------------------------------------------------------------------------------
# 3. Label names checked when data is loaded


def _load(path, **kwargs):
    return datasets.load(train_file=path, validation_fraction=0, test_fraction=0, **kwargs)


def test_labels_differing_only_by_case_are_refused(tmp_path):
    path = _write_csv(tmp_path / "r.csv", _rows(["pos", "neg", "Pos", "neg"]))
    with pytest.raises(ValueError) as raised:
        _load(path)
    message = str(raised.value)
    assert "r.csv has labels that differ only by case: 'Pos' (line 4) and 'pos' (line 2)" in message
    assert "Spell each class one way in the label column" in message


def test_a_test_file_spelling_a_class_in_another_case_is_named(tmp_path):
    train = _write_csv(tmp_path / "train.csv", _rows(["pos", "neg"] * 5))
    test = _write_csv(tmp_path / "test.csv", _rows(["Pos", "neg"]))
    with pytest.raises(ValueError, match=r"test\.csv has labels \['Pos'\] that are not classes of this dataset "
                                         r"\(\['neg', 'pos'\]\); they differ only by case: 'Pos' \(train has "
                                         r"'pos'\)\. Spell each class one way"):
        datasets.load(train_file=train, test_file=test, validation_fraction=0)


def test_surrounding_whitespace_is_not_part_of_a_label(tmp_path):
    rows = [(text, label) for text, label in _rows([" pos", "neg", "pos ", '" neg"'])]
    data = _load(_write_csv(tmp_path / "r.csv", rows))
    assert data.label_names == ["neg", "pos"] and data.train.labels.tolist() == [1, 0, 1, 0]


def test_a_label_with_a_line_break_is_refused(tmp_path):
    path = _write_csv(tmp_path / "r.csv", _rows(["neg", '"po\ns"', "neg"]))
    with pytest.raises(ValueError) as raised:
        _load(path)
    message = str(raised.value)
    # The quoted cell spans lines 3-4; the CSV reader reports where the row ends.
    assert re.search(r"r\.csv \(line [34]\): the label 'po\\ns' contains a line break", message), message
    assert "Remove the line break from the label" in message


@pytest.mark.parametrize("labels, numbers, names", [
    ([1, "pos", 0, "neg"], "[0, 1]", "['neg', 'pos']"),
    (["1", "pos", "1", "pos"], "[1]", "['pos']"),  # CSV cells: "1" reads as the number 1
])
def test_numbers_mixed_with_names_are_refused(tmp_path, labels, numbers, names):
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps({"text": text, "label": label}) + "\n" for text, label in _rows(labels)))
    with pytest.raises(ValueError) as raised:
        _load(str(path))
    message = str(raised.value)
    assert f"r.jsonl mixes numeric labels ({numbers}, e.g. line 1) and named labels ({names}, e.g. line 2)" \
           in message
    assert "Write every label of the column as a name (e.g. 'pos' instead of 1) or every label as a number" \
           in message


def test_evaluate_script_refuses_labels_differing_by_case(tmp_path):
    package = _fake_package(tmp_path / "package", ["neg", "pos"])
    test_file = _write_csv(tmp_path / "test.csv", _rows(["pos", "neg", "Pos", "neg"] * 2))
    result = run_script("export/evaluate_tflite.py", f"--model={package}", f"--train_file={test_file}", "--split=test")
    assert_refused(result, "differ only by case: 'Pos' (line 4) and 'pos' (line 2)", "Spell each class one way")


# ---------------------------------------------------------------------------------------------
# 4. A classifier folder without its head


@pytest.mark.parametrize("folder, missing", [
    ("headless", "['classifier.weight', 'classifier.bias']"),
    ("no_pooler", "['pooler.dense.weight', 'pooler.dense.bias']"),
])
def test_a_classifier_folder_without_its_head_is_refused(models, folder, missing):
    with pytest.raises(ValueError) as raised:
        tfdistill.load_pretrained(models[folder])
    message = str(raised.value)
    assert f"{models[folder]} is a 2-label classifier" in message
    assert f"model.safetensors lacks {missing}: its classification head would be random" in message
    assert "export the fine-tuned folder again with its head" in message
    assert "load_pretrained(path, num_labels=...)" in message


def test_asking_for_a_new_head_warns_when_config_declared_one(models, caplog):
    with caplog.at_level(logging.INFO):
        model = tfdistill.load_pretrained(models["headless"], num_labels=2)
    assert model.bert_config.num_labels == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("declares a 2-label classifier in config.json" in w and "fresh, random head" in w for w in warnings)


def test_fine_tuning_a_base_model_starts_a_fresh_head_quietly(models, caplog):
    with caplog.at_level(logging.INFO):
        model = tfdistill.load_pretrained(models["base"], num_labels=3)
    assert model.bert_config.num_labels == 3
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "Newly initialised" in caplog.text and "classifier.weight" in caplog.text


def test_distill_script_refuses_a_teacher_without_its_head(models, tmp_path):
    _distill_is_refused(tmp_path, models["headless"], ["neg", "pos"] * 10,
                        "is a 2-label classifier", "lacks ['classifier.weight', 'classifier.bias']",
                        "recipes/finetune_teacher.py --model=")


def test_a_model_folder_never_contradicts_its_labels_txt(tmp_path):
    from tfdistill.training.outputs import write_model_folder

    model = tfdistill.build_bert(CONFIG)  # names its classes (pos, neg)
    with pytest.raises(ValueError, match=r"names its classes \['pos', 'neg'\] but the data \['neg', 'pos'\]"
                                         r".*config\.json and labels\.txt would disagree"):
        write_model_folder(str(tmp_path / "out"), model, Tokenizer.from_vocab(VOCAB), _data(), {})
    assert not (tmp_path / "out").exists()
    write_model_folder(str(tmp_path / "out"), model, Tokenizer.from_vocab(VOCAB), _data(("pos", "neg")), {})
    assert (tmp_path / "out" / "labels.txt").read_text() == "pos\nneg\n"
