"""The bad-input catalogue (issue #8): one row per way a user can get the input wrong.

Every row names what goes wrong, the exception, a pattern the message must match to name the
problem, and one it must match to name the fix. The rows run against the Python API on tiny
made-up models and files; a few rows at the end run the absl scripts as subprocesses to prove
that a script exits with status 2, prints the one-line message and leaves no file behind.
"""

import collections
import json
import os
import re
import shutil

import numpy as np
import pytest

import tfdistill
from tfdistill.cli.distill_flags import LOSS_FLAGS, losses_from_flags
from tfdistill.cli.output_dir import check_output_dir
from tfdistill.data import datasets
from tfdistill.data.datasets import Split, TextClassificationData
from tfdistill.data.pipeline import check_max_length
from tfdistill.data.tokenizer import Tokenizer
from tfdistill.distill import losses
from tfdistill.distill.augment import EmbeddingNeighbourAugmenter
from tfdistill.distill.student import student_config
from tfdistill.distill.training import distill
from tfdistill.export.checks import check_seq_len
from tfdistill.export.package import model_card, read_model_card, write_model_package
from tfdistill.export.runtime import read_tflite
from tfdistill.pipeline.runner import check_skip

from tests.bad_input import CONFIG, VOCAB, WORDS, assert_refused, run_script

WEIGHTS = "model.safetensors"

# A row: `trigger(env)` must raise `error` with a message matching `problem` and `fix`.
Case = collections.namedtuple("Case", ["id", "trigger", "error", "problem", "fix"])


class Env:
    """What a row may use: a scratch folder and the module's tiny models (built once)."""

    def __init__(self, tmp_path, models):
        self.tmp, self.models = tmp_path, models

    def file(self, name, content):
        path = self.tmp / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)

    def model_folder(self, damage=None):
        """A copy of the tiny saved classifier, with `damage(folder)` applied."""
        folder = self.tmp / "model"
        shutil.copytree(self.models["folder"], folder)
        if damage is not None:
            damage(str(folder))
        return str(folder)

    def config_folder(self, **fields):
        """A folder whose config.json is the tiny model's with `fields` changed (None drops one)."""
        hf = dict(CONFIG.to_hf_dict(), **fields)
        hf = {key: value for key, value in hf.items() if value is not None}
        return self.model_folder(lambda folder: _write_json(os.path.join(folder, "config.json"), hf))


def _write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def _edit_weights(edit):
    def damage(folder):
        from safetensors.numpy import load_file, save_file

        path = os.path.join(folder, WEIGHTS)
        tensors = load_file(path)
        edit(tensors)
        save_file(tensors, path)
    return damage


def _truncate(folder):
    path = os.path.join(folder, WEIGHTS)
    data = open(path, "rb").read()
    open(path, "wb").write(data[:len(data) // 2])


def _corrupt(folder):
    open(os.path.join(folder, WEIGHTS), "wb").write(os.urandom(256))


def _only(name, content):
    def damage(folder):
        os.remove(os.path.join(folder, WEIGHTS))
        if name:
            open(os.path.join(folder, name), "wb").write(content)
    return damage


def _data(rows=8):
    texts = [f"{WORDS[i % len(WORDS)]} {WORDS[(i + 1) % len(WORDS)]}" for i in range(rows)]
    split = Split(texts, [i % 2 for i in range(rows)])
    return TextClassificationData("made_up", ["neg", "pos"], split, split, split)


def _distill(env, teacher="teacher", student="student", tokenizer=None, **kwargs):
    models = env.models
    return distill(models[teacher], models[student], tokenizer or models["tokenizer"], _data(),
                   max_length=8, epochs=1, verbose=0, **kwargs)


def _csv(env, rows, name="r.csv"):
    return env.file(name, "text,label\n" + "".join(f"{text},{label}\n" for text, label in rows))


def _load_csv(env, rows, **kwargs):
    return datasets.load(train_file=_csv(env, rows), validation_fraction=0, test_fraction=0, **kwargs)


def _rows(labels):
    return [(f"{WORDS[i % 6]} review {i}", label) for i, label in enumerate(labels)]


class _Flags:
    """Stands in for absl FLAGS in `losses_from_flags` (flag -> `.value`, plus attributes)."""

    def __init__(self, **weights):
        self._values = {flag: weights.get(flag, default) for flag, (_, default) in LOSS_FLAGS.items()}
        self.temperature, self.layer_map, self.head_average = 2.0, "uniform", False

    def __getitem__(self, flag):
        return collections.namedtuple("Flag", "value")(self._values[flag])


def _losses_from_flags(**weights):
    return losses_from_flags(_Flags(**weights))


def _build_term(identifier, student=(2, 16, 2, 2), teacher=(4, 32, 4, 2)):
    losses.get(identifier).build_for(losses.ModelSpec(*student), losses.ModelSpec(*teacher))


def _card_for_other_model(env):
    folder = str(env.tmp / "package")
    card = model_card(b"\x1c\x00\x00\x00TFL3 one export", seq_len=16, inputs=["input_ids"],
                      outputs=["logits"], labels=["neg", "pos"], mode="int8", source="x", accuracy=None)
    write_model_package(folder, b"\x1c\x00\x00\x00TFL3 another export", VOCAB, ["neg", "pos"], card)
    return read_model_card(folder)


def _unwritable(env):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; the file-parent row covers unwritable paths")
    folder = env.tmp / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        check_output_dir(str(folder / "out"))
    finally:
        folder.chmod(0o700)


def _load_quantized(path):
    from tfdistill import compress

    return compress.load_quantized(path)


CASES = [
    # --- Model folders: weights -----------------------------------------------------------
    Case("weights_missing", lambda env: tfdistill.load_pretrained(env.model_folder(_only(None, b""))),
         FileNotFoundError, r"No model\.safetensors in", r"Pass a folder written by tfdistill\.save_pretrained"),
    Case("weights_corrupt", lambda env: tfdistill.load_pretrained(env.model_folder(_corrupt)),
         ValueError, r"is not a readable safetensors file", r"copy or export it again"),
    Case("weights_truncated", lambda env: tfdistill.load_pretrained(env.model_folder(_truncate)),
         ValueError, r"is not a readable safetensors file", r"It may be truncated .* export it again"),
    Case("weights_lack_a_tensor", lambda env: tfdistill.load_pretrained(env.model_folder(
        _edit_weights(lambda t: t.pop("bert.encoder.layer.1.output.dense.weight")))),
        ValueError, r"has no tensor 'encoder\.layer\.1\.output\.dense\.weight'", r"check num_hidden_layers"),
    Case("weights_wrong_shape", lambda env: tfdistill.load_pretrained(env.model_folder(
        _edit_weights(lambda t: t.update({"bert.encoder.layer.0.output.dense.bias": np.zeros(3, "float32")})))),
        ValueError, r"has shape \(3,\) but the model expects \(16,\)", r"Fix config\.json's sizes"),
    Case("weights_only_a_pickle", lambda env: tfdistill.load_pretrained(env.model_folder(
        _only("pytorch_model.bin", b"\x80\x04pickle"))),
        FileNotFoundError, r"has \['pytorch_model\.bin'\]: tfdistill never unpickles",
        r"safe_serialization=True"),
    # --- Model folders: config.json -------------------------------------------------------
    Case("config_missing", lambda env: tfdistill.load_config(str(env.tmp / "nowhere")),
         FileNotFoundError, r"No config\.json at", r"Pass a Hugging Face model folder"),
    Case("config_not_json", lambda env: tfdistill.load_config(env.model_folder(
        lambda f: open(os.path.join(f, "config.json"), "w").write("{not json"))),
        ValueError, r"config\.json is not valid JSON", r"re-export the model folder"),
    Case("config_not_an_object", lambda env: tfdistill.load_config(env.model_folder(
        lambda f: _write_json(os.path.join(f, "config.json"), [1, 2]))),
        ValueError, r"must hold a JSON object, got list", r"re-export the model folder"),
    Case("config_missing_field", lambda env: tfdistill.load_config(env.config_folder(intermediate_size=None)),
         ValueError, r"missing the BERT fields \['intermediate_size'\]", r"Fix that field, or re-export"),
    Case("config_field_of_wrong_type", lambda env: tfdistill.load_config(env.config_folder(hidden_size="16")),
         ValueError, r"hidden_size must be a positive int, got '16'", r"Fix that field"),
    Case("config_label_ids_not_numbers", lambda env: tfdistill.load_config(
        env.config_folder(id2label={"neg": "neg", "pos": "pos"})),
        ValueError, r"config\.json is not a usable BERT config \(invalid literal", r"Fix that field"),
    Case("config_of_another_model", lambda env: tfdistill.load_config(env.config_folder(model_type="roberta")),
         ValueError, r"describes a 'roberta' model", r"BERT models only"),
    Case("config_sizes_disagree_with_weights", lambda env: tfdistill.load_pretrained(
        env.config_folder(num_hidden_layers=3)),
        ValueError, r"has no tensor 'encoder\.layer\.2\.", r"does not match config\.json"),
    # --- Vocabularies ---------------------------------------------------------------------
    Case("tokenizer_vocab_not_the_embedding", lambda env: _distill(
        env, tokenizer=Tokenizer.from_vocab(VOCAB + ["extra"])),
        ValueError, r"The tokenizer has 12 ids but the student embeds 11",
        r"Pass the tokenizer the model was trained with"),
    Case("teacher_and_student_vocabularies_differ", lambda env: _distill(env, student="other_vocab_student"),
         ValueError, r"The teacher embeds 11 token ids but the student 20: they have different vocabularies",
         r"Build the student with tfdistill\.student_from_teacher"),
    Case("tokenizer_config_field_of_wrong_type", lambda env: Tokenizer.from_pretrained(env.model_folder(
        lambda f: _write_json(os.path.join(f, "tokenizer_config.json"), {"do_lower_case": "yes"}))),
        ValueError, r"tokenizer_config\.json: do_lower_case must be true or false, got 'yes'",
        r"Fix that field or delete it"),
    Case("augmenter_vocab_not_the_embedding", lambda env: EmbeddingNeighbourAugmenter(VOCAB, np.zeros((3, 4))),
        ValueError, r"11 entries but the embedding table 3 rows",
        r"pass the teacher's tokenizer and its own word embeddings"),
    # --- Layer maps and heads -------------------------------------------------------------
    Case("layer_map_beyond_the_teacher", lambda env: _build_term({"loss": "hidden_mse", "layer_map": [2, 7]}),
         ValueError, r"entries \[7\] outside the teacher's layers 1\.\.4", r"0 is the embedding output"),
    Case("layer_map_to_the_embeddings", lambda env: _build_term({"loss": "attention", "head_average": True,
                                                                 "layer_map": "0,4"}),
         ValueError, r"entries \[0\] outside the teacher's layers", r"use the embedding loss for it"),
    Case("layer_map_wrong_length", lambda env: _build_term({"loss": "hidden_cosine", "layer_map": "1,2,3"}),
         ValueError, r"has 3 entries but the student has 2", r"give one teacher layer per student layer"),
    Case("heads_do_not_divide_the_width", lambda env: tfdistill.load_config(
        env.config_folder(num_attention_heads=5)),
        ValueError, r"config\.json is not a usable BERT config \(.*hidden_size=16 is not divisible by num_heads=5",
        r"choose a head count that divides the width \(e\.g\. 2, 4, 8"),
    Case("attention_heads_differ", lambda env: _build_term("attention"),
         ValueError, r"the student has 2 heads and the teacher 4", r"pass head_average=True"),
    Case("relation_heads_do_not_divide", lambda env: _build_term({"loss": "minilm_relation", "relation_heads": 3}),
         ValueError, r"relation_heads=3 does not divide", r"choose relation_heads dividing both widths"),
    # --- Loss settings and flags ----------------------------------------------------------
    Case("temperature_zero", lambda env: _build_term({"loss": "logit_kd", "temperature": 0}),
         ValueError, r"temperature must be a finite number > 0, got 0", r"> 0"),
    Case("temperature_negative", lambda env: _build_term({"loss": "logit_kd", "temperature": -1.0}),
         ValueError, r"temperature must be a finite number > 0, got -1\.0", r"> 0"),
    Case("loss_weight_negative", lambda env: _build_term({"loss": "hard_label", "weight": -0.5}),
         ValueError, r"weight must be a finite number >= 0, got -0\.5", r">= 0"),
    Case("flag_loss_weight_negative", lambda env: _losses_from_flags(hidden_weight=-1.0),
         ValueError, r"--hidden_weight=-1\.0 is negative", r"loss weights must be >= 0"),
    Case("flags_switch_every_loss_off", lambda env: _losses_from_flags(logit_weight=0.0, hard_weight=0.0),
         ValueError, r"Every loss weight is 0", r"set at least --logit_weight or --hard_weight above 0"),
    Case("unknown_loss", lambda env: _build_term("logits_kd"),
         ValueError, r"Unknown distillation loss 'logits_kd'", r"choose from \[.*'logit_kd'"),
    # --- Datasets -------------------------------------------------------------------------
    Case("data_file_empty", lambda env: datasets.load(train_file=env.file("blank.csv", "")),
         ValueError, r"blank\.csv is empty", r"Pass a file with a header row"),
    Case("data_file_header_only", lambda env: datasets.load(train_file=env.file("h.csv", "text,label\n")),
         ValueError, r"h\.csv has no examples", r"add labelled examples below the header"),
    Case("data_one_class", lambda env: _load_csv(env, _rows(["pos"] * 6)),
         ValueError, r"single class \('pos'\) in 6 examples", r"Add examples of the other classes"),
    Case("data_labels_nan", lambda env: _load_csv(env, _rows(["a", "NaN", "b", "", "a"])),
         ValueError, r"2 example\(s\) have no label \(empty or NaN\) in column 'label' \(line 3, line 5\)",
         r"Drop or fill them"),
    Case("data_not_utf8", lambda env: datasets.load(train_file=env.file(
        "latin1.csv", "text,label\ngood,1\ncaf\xe9 noir,0\n".encode("latin-1"))),
        ValueError, r"latin1\.csv is not UTF-8 text: byte 0xe9 at byte offset 21 \(line 3\)",
        r"Re-encode the file as UTF-8"),
    Case("data_compressed_file_corrupt", lambda env: datasets.load(train_file=env.file("r.csv.gz", b"text,label")),
         ValueError, r"r\.csv\.gz is not valid \.gz data", r"Compress it again, or rename it without \.gz"),
    Case("data_labels_unseen_in_train", lambda env: datasets.load(
        train_file=_csv(env, _rows(["a", "b"] * 5)), validation_file=_csv(env, [("x", "c")], "dev.csv"),
        test_fraction=0),
        ValueError, r"dev\.csv has labels \['c'\] that are not classes", r"\['a', 'b'\]"),
    # --- Lengths --------------------------------------------------------------------------
    Case("max_length_beyond_positions", lambda env: check_max_length(600, 512),
         ValueError, r"max_length=600 exceeds the model's max_position_embeddings=512",
         r"Pass max_length <= 512, e\.g\. --max_length=128"),
    Case("distill_texts_longer_than_positions", lambda env: distill(
        env.models["teacher"], env.models["student"], env.models["tokenizer"], _data(), max_length=32),
        ValueError, r"max_length=32 exceeds the model's max_position_embeddings=16", r"Pass max_length <= 16"),
    Case("export_seq_len_beyond_positions", lambda env: check_seq_len(64, 16),
        ValueError, r"seq_len=64 exceeds the model's 16 position embeddings", r"Pass seq_len <= 16"),
    Case("max_length_too_small", lambda env: env.models["tokenizer"](["good"], max_length=1),
         ValueError, r"max_length=1 is too small", r"Pass max_length >= 2"),
    # --- Output folders -------------------------------------------------------------------
    Case("output_dir_holds_foreign_files", lambda env: (
        env.file("thesis.tex", "mine"), check_output_dir(str(env.tmp))),
        ValueError, r"holds files that tfdistill did not write \(thesis\.tex; no \.tfdistill\.json\)",
        r"Choose an empty or new folder"),
    Case("output_dir_under_a_file", lambda env: check_output_dir(
        os.path.join(env.file("notes.txt", "x"), "out")),
        ValueError, r"notes\.txt is a file, not a folder", r"Choose a path whose parents are folders"),
    Case("output_dir_is_a_file", lambda env: check_output_dir(env.file("out", "x")),
         ValueError, r"is a file;", r"pass a folder"),
    Case("output_dir_not_writable", _unwritable,
         PermissionError, r"is not writable", r"choose a folder you can write"),
    # --- Model files ----------------------------------------------------------------------
    Case("tflite_that_is_not_one", lambda env: read_tflite(
        env.file("model.onnx", b"\x08\x07\x12\x07tf2onnx")),
        ValueError, r"model\.onnx is not a TFLite model", r"Pass a \.tflite file"),
    Case("model_card_disagrees_with_its_model", _card_for_other_model,
         ValueError, r"does not describe .*model\.tflite \(size_bytes, sha256 differ",
         r"Export the model again with export/to_tflite\.py"),
    Case("qat_h5_that_is_not_hdf5", lambda env: _load_quantized(env.file("qat.h5", b"PK\x03\x04 a zip")),
         ValueError, r"is not an HDF5 file", r"Save the QAT model again with tfdistill\.compress\.save_quantized"),
    Case("qat_model_as_keras_v3", lambda env: _load_quantized(env.file("qat.keras", b"")),
         ValueError, r"do not round-trip tfmot", r"Use a path ending in \.h5"),
    # --- Arguments and flags that contradict each other ------------------------------------
    Case("dataset_name_and_train_file", lambda env: datasets.load("rotten_tomatoes", train_file="x.csv"),
         ValueError, r"Pass either a dataset name \('rotten_tomatoes'\) or train_file", r"not both"),
    Case("validation_file_without_train_file", lambda env: datasets.load(validation_file="x.csv"),
         ValueError, r"validation_file and test_file need train_file", r"\(the training examples\)"),
    Case("fixed_columns_of_a_builtin_dataset", lambda env: datasets.load(text_column="review"),
         ValueError, r"has fixed columns", r"apply to files and TFDS datasets only"),
    Case("skip_a_stage_the_report_needs", lambda env: check_skip(["qat", "export"]),
        ValueError, r"--skip=qat,export: only \['prune', 'qat'\] can be skipped", r"feed the report"),
    Case("student_not_smaller_than_teacher", lambda env: student_config(CONFIG, 3),
        ValueError, r"A student of 3 layers x 16 is not smaller than the teacher \(2 x 16\)",
        r"choose fewer layers or a narrower width"),
    Case("factorised_table_wider_than_the_student", lambda env: student_config(CONFIG, 1, embedding_size=17),
        ValueError, r"embedding_size must be an int in \[1, 16\] \(the student's width\)", r"or None \(a full word table\)"),
    Case("intermediate_epochs_without_intermediate_terms", lambda env: _distill(
        env, losses=["logit_kd"], intermediate_epochs=1),
        ValueError, r"intermediate_epochs needs both intermediate terms", r"prediction terms .* in losses"),
]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The tiny models every row shares: a saved classifier folder, a teacher, students, a tokenizer."""
    import tf_keras as keras

    keras.utils.set_random_seed(0)
    tokenizer = Tokenizer.from_vocab(VOCAB)
    teacher = tfdistill.build_bert(CONFIG, name="teacher")
    folder = str(tmp_path_factory.mktemp("catalogue") / "model")
    tfdistill.save_pretrained(teacher, folder, tokenizer=tokenizer)
    student = tfdistill.build_bert(CONFIG.replace(num_layers=1), name="student")
    other = tfdistill.build_bert(CONFIG.replace(num_layers=1, vocab_size=20), name="other")
    return {"folder": folder, "teacher": teacher, "student": student, "other_vocab_student": other,
            "tokenizer": tokenizer}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_names_the_problem_and_the_fix(case, models, tmp_path):
    with pytest.raises(case.error, match=case.problem) as raised:
        case.trigger(Env(tmp_path, models))
    assert re.search(case.fix, str(raised.value)), f"no fix in: {raised.value}"


def test_catalogue_rows_are_distinct():
    assert len({case.id for case in CASES}) == len(CASES) >= 30


# ---------------------------------------------------------------------------------------------
# The scripts: exit status 2, the message on stderr, nothing written


def test_distill_script_refuses_an_output_dir_under_a_file(models, tmp_path):
    blocker = tmp_path / "results.txt"
    blocker.write_text("not a folder")
    result = run_script("recipes/distill.py", f"--teacher={models['folder']}",
                        f"--output_dir={blocker / 'student'}")
    assert_refused(result, "results.txt is a file, not a folder", "Choose a path whose parents are folders")
    assert os.listdir(tmp_path) == ["results.txt"] and blocker.read_text() == "not a folder"


def test_distill_script_refuses_contradicting_data_flags(models, tmp_path):
    out = tmp_path / "student"
    result = run_script("recipes/distill.py", f"--teacher={models['folder']}", "--max_length=16",
                        "--dataset=rotten_tomatoes",
                        f"--train_file={tmp_path / 'reviews.csv'}", f"--output_dir={out}")
    assert_refused(result, "error: Pass either a dataset name ('rotten_tomatoes') or train_file", "not both")
    assert os.listdir(tmp_path) == []
