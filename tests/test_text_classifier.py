"""`tfdistill.TextClassifier`: raw text in, class names and probabilities out, the same for a
Keras model folder and a `.tflite` package."""

import numpy as np
import pytest

import tfdistill
from tfdistill.data import Split, Tokenizer
from tfdistill.training import evaluation

WORDS = "good bad great awful fine dull movie plot acting fun boring superb".split()
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
CONFIG = tfdistill.BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_layers=1, num_heads=2,
                              intermediate_size=32, max_position_embeddings=32, num_labels=3,
                              label_names=("negative", "neutral", "positive"))
TEXTS = ["good movie", "awful boring plot", "fine", "Superb ACTING, great fun!", "dull dull dull dull"]


def _split(count, seed):
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, rng.integers(2, 9))) for _ in range(count)]
    return Split(texts, rng.integers(0, 3, count))


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    import tf_keras as keras

    from tfdistill.export import export_tflite

    keras.utils.set_random_seed(0)
    root = tmp_path_factory.mktemp("text_classifier")
    tokenizer, model = Tokenizer.from_vocab(VOCAB), tfdistill.build_bert(CONFIG)
    tfdistill.save_pretrained(model, str(root / "student"), tokenizer=tokenizer)
    export_tflite(model, str(root / "package"), "float32", 16, tokenizer, _split(40, 0), _split(40, 1))
    return {"model": model, "tokenizer": tokenizer, "student": str(root / "student"),
            "package": str(root / "package"), "root": root}


def test_a_keras_folder_gives_names_and_the_models_own_probabilities(folders):
    classifier = tfdistill.TextClassifier.from_pretrained(folders["student"])
    predictions = classifier.predict(TEXTS)
    logits, _ = evaluation.predict_logits(folders["model"], folders["tokenizer"], Split(TEXTS, [0] * len(TEXTS)),
                                          classifier.max_length)
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(predictions.probabilities, expected, atol=1e-5)
    assert predictions.label_names == ["negative", "neutral", "positive"]
    assert predictions.labels == [predictions.label_names[i] for i in expected.argmax(-1)]
    assert classifier.max_length == 32  # the model's positions, under the default of 128
    assert classifier.predict("good movie").labels == predictions.labels[:1]


def test_a_package_predicts_what_its_keras_model_predicts(folders):
    package = tfdistill.TextClassifier.from_pretrained(folders["package"])
    keras_model = tfdistill.TextClassifier.from_pretrained(folders["student"], max_length=16)
    assert package.max_length == 16 and package.label_names == keras_model.label_names
    np.testing.assert_allclose(package.predict(TEXTS).probabilities, keras_model.predict(TEXTS).probabilities,
                               atol=1e-5)
    same = tfdistill.TextClassifier.from_pretrained(f"{folders['package']}/model.tflite")
    assert same.predict(TEXTS).labels == package.predict(TEXTS).labels
    assert len(package.predict([])) == 0


def test_bad_uses_name_the_problem_and_the_fix(folders):
    with pytest.raises(ValueError, match=r"takes exactly 16 tokens.*--seq_len=64"):
        tfdistill.TextClassifier.from_pretrained(folders["package"], max_length=64)
    with pytest.raises(TypeError, match=r"texts\[1\] is a bytes .*decode"):
        tfdistill.TextClassifier.from_pretrained(folders["package"]).predict(["fine", b"good"])
    unnamed = str(folders["root"] / "unnamed")
    tfdistill.save_pretrained(tfdistill.build_bert(CONFIG.replace(label_names=None)), unnamed,
                              tokenizer=folders["tokenizer"])
    with pytest.raises(ValueError, match=r"does not name its classes.*re-train it with named classes"):
        tfdistill.TextClassifier.from_pretrained(unnamed)
    with pytest.raises(FileNotFoundError):
        tfdistill.TextClassifier.from_pretrained(str(folders["root"] / "missing"))


def test_the_predict_script_prints_one_json_line_per_text(folders, tmp_path):
    import json
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    texts = tmp_path / "texts.txt"
    texts.write_text("fine\nSuperb ACTING, great fun!\n", encoding="utf-8")
    command = [sys.executable, os.path.join(root, "export", "predict.py"), f"--model={folders['package']}"]
    result = subprocess.run([*command, "--text=good movie", f"--input_file={texts}"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    expected = tfdistill.TextClassifier.from_pretrained(folders["package"]).predict(
        ["good movie", "fine", "Superb ACTING, great fun!"])
    assert [row["label"] for row in rows] == expected.labels
    assert set(rows[0]["probabilities"]) == {"negative", "neutral", "positive"}
    refused = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "No text to classify; pass --text" in refused.stderr
