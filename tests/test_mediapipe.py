"""MediaPipe Tasks' own TextClassifier on exported packages (`text_classifier.tflite`).

MediaPipe runs in its own venv (`make mediapipe`; it cannot share tfdistill's), as a subprocess.
A tiny random student with the shipped teacher's vocabulary is exported in float32 and int8; on
every Rotten Tomatoes test text (plus hard cases) that MediaPipe tokenizes exactly as tfdistill
does, MediaPipe's probabilities must equal LiteRT's on the same package within 1e-5. Which texts
MediaPipe tokenizes differently is asked of MediaPipe itself (the token-id probe), counted, and
each one explained.

Without the MediaPipe venv these tests skip, except under CI=true, where they fail.
"""

import json
import os
import unicodedata

import numpy as np
import pytest

from tfdistill.export import mediapipe_run

pytestmark = pytest.mark.integration

SEQ_LEN = 64
MODES = ("float32", "int8")
TOLERANCE = 1e-5
# Texts on which the two tokenizers part ways (besides accents, the RT data's only cause).
HARD_TEXTS = ["Café society", "naïve", "ÜBER COOL", "İstanbul", "x\u0301 combining", "Æsir",
              "zero\u200bwidth", "non\u00a0breaking space", "\u00ad soft hyphen", "bell\x07char",
              "[SEP] literal", "電影很好看", "great 👍🏽 film", "straße", "smart “quotes” — dashes",
              "mixed CASE Words", "e.g. U.S.A.", "a" * 120]


def _mediapipe_or_skip():
    python = mediapipe_run.mediapipe_python()
    if python is None:
        message = ("No MediaPipe venv (.venv-mediapipe, or $TFDISTILL_MEDIAPIPE_PYTHON): create it with "
                   "`make mediapipe` (`make test` does).")
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    return python


@pytest.fixture(scope="module")
def python():
    return _mediapipe_or_skip()


@pytest.fixture(scope="module")
def tokenizer(teacher_path):
    import tfdistill

    return tfdistill.Tokenizer.from_pretrained(teacher_path)


@pytest.fixture(scope="module")
def data():
    import tfdistill

    return tfdistill.datasets.load("rotten_tomatoes")


def _tiny_student(vocab_size, label_names):
    import tf_keras as keras

    import tfdistill

    keras.utils.set_random_seed(0)
    config = tfdistill.BertConfig(vocab_size=vocab_size, hidden_size=32, num_layers=2, num_heads=4,
                                  intermediate_size=64, num_labels=len(label_names),
                                  max_position_embeddings=SEQ_LEN, label_names=tuple(label_names))
    model = tfdistill.build_bert(config, name="tiny_student")
    classifier = model.get_layer("classifier")
    classifier.kernel.assign(classifier.kernel * 30.0)  # probabilities away from 0.5
    return model


def _export(model, tokenizer, data, folder, mode):
    from tfdistill.export import export_tflite

    return export_tflite(model, str(folder), mode, SEQ_LEN, tokenizer, data.train, data.validation, None,
                         num_representative=40, num_validation=100)


@pytest.fixture(scope="module")
def packages(tokenizer, data, tmp_path_factory):
    root = tmp_path_factory.mktemp("mediapipe")
    model = _tiny_student(tokenizer.vocab_size, data.label_names)
    return {mode: _export(model, tokenizer, data, root / mode, mode) for mode in MODES}


@pytest.fixture(scope="module")
def texts(data):
    return list(data.test.texts) + HARD_TEXTS


@pytest.fixture(scope="module")
def mediapipe(python, packages, tokenizer, texts):
    """One MediaPipe subprocess: the token-id probe, then each package's classifier."""
    models = [os.path.join(packages[mode].output_dir, "text_classifier.tflite") for mode in MODES]
    ids, runs = mediapipe_run.mediapipe_token_ids(tokenizer.vocab, SEQ_LEN, texts, python, models)
    return {"alike": mediapipe_run.tokenization_matches(tokenizer, SEQ_LEN, texts, ids), "ids": ids,
            "runs": dict(zip(MODES, runs))}


def _litert_probabilities(folder, tokenizer, texts):
    from tfdistill.export import TFLiteClassifier

    classifier = TFLiteClassifier(folder)
    features = tokenizer(texts, max_length=SEQ_LEN)
    return np.concatenate([classifier(**{name: features[name][i:i + 1] for name in classifier.input_details})
                           ["probabilities"] for i in range(len(texts))])


def test_every_package_holds_a_mediapipe_model_recorded_in_its_card(packages):
    from tfdistill.export.mediapipe_eval import mediapipe_model_path

    for result in packages.values():
        entry = result.card["mediapipe"]
        assert entry["file"] == "text_classifier.tflite" and entry["output"] == "probabilities"
        assert entry["inputs"] == {"ids": "input_ids", "mask": "attention_mask", "segment_ids": "token_type_ids"}
        assert entry["checked_examples"] == 8 and entry["min_parser_version"] == "1.1.0"
        assert mediapipe_model_path(result.output_dir) == os.path.join(result.output_dir, entry["file"])


@pytest.mark.parametrize("mode", MODES)
def test_mediapipe_loads_the_model_and_its_probabilities_equal_litert(mediapipe, packages, tokenizer, texts, mode):
    run, alike = mediapipe["runs"][mode], mediapipe["alike"]
    assert run.labels == packages[mode].card["labels"]
    assert run.scores.shape == (len(texts), 2) and np.all(np.isfinite(run.scores))
    diff = np.abs(run.scores - _litert_probabilities(packages[mode].output_dir, tokenizer, texts))
    worst = int(np.argmax(np.where(alike, diff.max(axis=1), -1)))
    print(f"\n{mode}: {alike.sum()} texts tokenized alike, max |MediaPipe - LiteRT| {diff[alike].max():.2e}; "
          f"{(~alike).sum()} tokenized differently, max {diff[~alike].max():.2e}; MediaPipe load "
          f"{run.load_seconds:.3f} s, {len(texts)} texts in {run.classify_seconds:.2f} s")
    assert diff[alike].max() <= TOLERANCE, (texts[worst], diff[worst])


ACCENTS = ("accented or non-ASCII capital letter (tfdistill strips accents and lower-cases every letter; "
           "MediaPipe keeps accents and lower-cases ASCII only)")
SPACES = "non-ASCII space or format character (tfdistill splits on it or drops it, MediaPipe keeps it in the word)"
CONTROL = "control character (tfdistill drops it, MediaPipe keeps it in the word)"
SPECIAL = "literal special token such as [SEP] (tfdistill keeps it whole, MediaPipe splits it)"


def _causes(text, special_tokens):
    """Why MediaPipe's BERT tokenizer can differ from tfdistill's (HF BertTokenizerFast, uncased)."""
    causes = set()
    if any(token in text for token in special_tokens):
        causes.add(SPECIAL)
    for char in text:
        category = unicodedata.category(char)
        if ord(char) > 127 and category[0] in "LM" and (unicodedata.normalize("NFD", char) != char
                                                        or char.lower() != char or category[0] == "M"):
            causes.add(ACCENTS)
        elif ord(char) > 127 and category in ("Zs", "Cf"):
            causes.add(SPACES)
        elif category == "Cc" and char not in "\t\n\r":
            causes.add(CONTROL)
    return causes


def test_texts_tokenized_differently_are_counted_and_explained(mediapipe, texts, tokenizer, data):
    alike, ids = mediapipe["alike"], mediapipe["ids"]
    specials = [tokenizer.vocab[tokenizer.token_id(key)] for key in ("cls_token", "sep_token", "pad_token",
                                                                     "unk_token", "mask_token")]
    unexplained = [texts[i] for i in np.flatnonzero(~alike) if not _causes(texts[i], specials)]
    assert not unexplained, f"MediaPipe tokenized these differently for no known reason: {unexplained}"
    rt = ~alike[:len(data.test)]
    counts = {}
    for i in np.flatnonzero(rt):
        for cause in _causes(texts[i], specials):
            counts[cause] = counts.get(cause, 0) + 1
    print(f"\n{rt.sum()} of {len(data.test)} RT test texts tokenized differently: {counts}")
    # On the RT test split: 20 texts with accented letters, one with U+0085 (a mis-decoded "...").
    assert 0 < rt.sum() < 0.05 * len(data.test) and set(counts) <= {ACCENTS, CONTROL}
    assert counts[ACCENTS] >= 0.9 * rt.sum()
    hard = dict(zip(HARD_TEXTS, alike[len(data.test):]))
    assert not hard["Café society"] and not hard["[SEP] literal"] and not hard["zero\u200bwidth"]
    assert hard["mixed CASE Words"] and hard["電影很好看"] and hard["great 👍🏽 film"] and hard["a" * 120]
    assert ids[len(data.test) + HARD_TEXTS.index("Café society")][1] == tokenizer.token_id("unk_token")


def _entry(name, accuracy, mediapipe_accuracy):
    return {"name": name, "stage": "distill", "mode": name, "accuracy": accuracy, "mediapipe_accuracy": mediapipe_accuracy,
            "latency_ms_p50": 1.0, "latency_ms_p90": 1.2, "tflite_size_bytes": 4e6, "gzip_size_bytes": 3e6,
            "sparsity": None, "params": 1e6}


def test_the_evaluate_stage_measures_mediapipe_accuracy_beside_litert(python, packages, tokenizer, data, tmp_path):
    import types

    from tfdistill.pipeline import report, stages

    folders = {mode: packages[mode].output_dir for mode in MODES}
    test, validation = data.test.take(list(range(300))), data.validation.take(list(range(100)))
    ctx = types.SimpleNamespace(tokenizer=tokenizer, data=types.SimpleNamespace(
                                    test=test, validation=validation, label_names=data.label_names),
                                outputs=lambda stage: {"packages": {mode: {"stage": stage_of[mode]} for mode in MODES}},
                                path=lambda stage, name: folders[name])
    stage_of = {mode: "teacher" if mode == MODES[0] else "distill" for mode in MODES}
    outputs = stages.evaluate_stage(ctx, str(tmp_path))
    assert json.loads(json.dumps(outputs)) == outputs  # the stage manifest holds them as JSON
    # The students' validation accuracy is what the report chooses the shipped model by; the
    # teacher's package is scored on test only (nothing is chosen by it).
    assert set(outputs["validation_accuracy"]) == set(MODES[1:]) and set(outputs["accuracy"]) == set(MODES)
    mediapipe = outputs["mediapipe"]
    assert mediapipe["examples"] == 300 and mediapipe["not_ready"] == {} and mediapipe["seconds"] < 60
    for mode in MODES:
        # Only the texts MediaPipe tokenizes differently can change a prediction.
        assert abs(mediapipe["accuracy"][mode] - outputs["accuracy"][mode]) <= mediapipe["tokenized_differently"] / 300
        assert mediapipe["max_abs_prob_diff_vs_litert"][mode] <= TOLERANCE
    entries = [_entry(mode, outputs["accuracy"][mode], mediapipe["accuracy"][mode]) for mode in MODES]
    page = report.markdown({
        "dataset": {"name": "rotten_tomatoes"}, "machine": {"cpu": "cpu", "cores": 2}, "total_stage_seconds": 60,
        "wall_seconds": 60, "stage_seconds": {"evaluate": 60}, "teacher": _entry("teacher", 0.8, None),
        "students": entries, "retention": None, "refused_exports": {}, "mediapipe": mediapipe})
    assert "| validation accuracy | test accuracy | MediaPipe accuracy |" in page
    assert f"| {outputs['accuracy']['int8']:.4f} | {mediapipe['accuracy']['int8']:.4f} |" in page
    assert f"{mediapipe['tokenized_differently']} of 300 test texts got other token ids" in page
    assert "MediaPipe accuracy not measured: no MediaPipe venv" in report.markdown(
        {"dataset": {"name": "x"}, "machine": {"cpu": "cpu", "cores": 2}, "total_stage_seconds": 1, "wall_seconds": 1,
         "stage_seconds": {}, "teacher": _entry("teacher", 0.8, None), "students": [], "retention": None,
         "mediapipe": {"skipped": "no MediaPipe venv (create it with `make mediapipe`)"}})


def test_a_cased_model_gets_no_mediapipe_file_and_the_card_says_why(data, tmp_path):
    import tfdistill

    cased = tfdistill.Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Good", "good", "film"],
                                           do_lower_case=False)
    result = _export(_tiny_student(cased.vocab_size, data.label_names), cased, data, tmp_path / "cased", "float32")
    assert not os.path.exists(os.path.join(result.output_dir, "text_classifier.tflite"))
    assert result.card["mediapipe"]["file"] is None and "cased" in result.card["mediapipe"]["reason"]


def test_a_trimmed_vocabulary_travels_with_the_package_to_mediapipe(python, packages, tokenizer, data, tmp_path):
    import tfdistill
    from tfdistill.compress import trim_vocabulary, vocabulary_to_keep

    keep = vocabulary_to_keep(tokenizer, data.train.texts, max_size=8000)
    trimmed, small = trim_vocabulary(_tiny_student(tokenizer.vocab_size, data.label_names), tokenizer, keep)
    result = _export(trimmed, small, data, tmp_path / "trimmed", "int8")
    assert tfdistill.Tokenizer.from_pretrained(result.output_dir).vocab == small.vocab  # vocab.txt, tokenizer.json
    model = os.path.join(result.output_dir, "text_classifier.tflite")
    full_size = os.path.getsize(os.path.join(packages["int8"].output_dir, "model.tflite"))
    assert os.path.getsize(os.path.join(result.output_dir, "model.tflite")) < 0.6 * full_size
    texts = list(data.test.texts[:300]) + HARD_TEXTS
    # MediaPipe tokenizes with the vocabulary in the model's metadata: the trimmed one.
    ids, (run,) = mediapipe_run.mediapipe_token_ids(small.vocab, SEQ_LEN, texts, python, [model])
    alike = mediapipe_run.tokenization_matches(small, SEQ_LEN, texts, ids)
    assert alike.mean() > 0.9
    diff = np.abs(run.scores - _litert_probabilities(result.output_dir, small, texts))
    assert diff[alike].max() <= TOLERANCE


def test_the_vendored_metadata_schema_is_the_published_one(python):
    import subprocess

    from tfdistill.export import mediapipe_metadata_schema

    # find_spec does not run mediapipe's __init__ (which imports much more than the schema).
    package = subprocess.run([python, "-I", "-c", "import importlib.util; print(importlib.util.find_spec("
                              "'mediapipe').submodule_search_locations[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    where = os.path.join(package, "tasks", "metadata", "metadata_schema_py_generated.py")
    with open(mediapipe_metadata_schema.__file__, encoding="utf-8") as f:
        vendored = f.read().split("# ----- END OF HEADER -----\n", 1)[1]
    with open(where, encoding="utf-8") as f:
        assert vendored == f.read()
