import json

import pytest

from tfdistill.data import unlabeled


def test_files_of_every_format_and_repeats_dropped(tmp_path):
    (tmp_path / "a.txt").write_text("first text\n\n  second text  \nfirst text\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("id,review\n1,third text\n2,second text\n", encoding="utf-8")
    (tmp_path / "c.jsonl").write_text(json.dumps({"review": "fourth text"}) + "\n", encoding="utf-8")
    texts = unlabeled.load_texts([tmp_path / "a.txt", tmp_path / "b.csv"], column="review")
    assert texts == ["first text", "second text", "third text"]
    assert unlabeled.load_texts([str(tmp_path / "c.jsonl")], column="review", max_texts=5) == ["fourth text"]
    by_source = unlabeled.read_sources([str(tmp_path / "a.txt")])
    assert unlabeled.describe_sources(by_source) == {str(tmp_path / "a.txt"): (3, 6)}


def test_builtin_sources_and_training_texts_only():
    from tfdistill.data import datasets

    data = datasets.load("rotten_tomatoes")
    train = unlabeled.read_texts("rotten_tomatoes:train")
    assert train == list(data.train.texts)
    assert not set(train) & set(data.test.texts)  # the held-out splits are never read
    for name in unlabeled.BUILTIN_SOURCES:
        texts = unlabeled.read_texts(name)
        assert len(texts) > 1000 and all(isinstance(text, str) and text.strip() for text in texts)


@pytest.mark.parametrize("source, error, message", [
    ("missing.txt", FileNotFoundError, "does not exist"),
    ("wikipedia", FileNotFoundError, "neither a file nor a built-in source"),
])
def test_bad_sources_are_named(tmp_path, source, error, message):
    with pytest.raises(error, match=message):
        unlabeled.read_texts(str(tmp_path / source) if source.endswith(".txt") else source)


def test_empty_sources_are_refused(tmp_path):
    (tmp_path / "empty.txt").write_text("\n \n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no text"):
        unlabeled.read_texts(str(tmp_path / "empty.txt"))
    with pytest.raises(ValueError, match="at least one unlabeled text source"):
        unlabeled.load_texts([])
    (tmp_path / "t.csv").write_text("text\nok\n", encoding="utf-8")
    with pytest.raises(ValueError, match="review"):
        unlabeled.read_texts(str(tmp_path / "t.csv"), column="review")
