"""Unit tests of `tfdistill.data.labels`: checking raw labels and matching names to a model's."""

import re

import pytest

from tfdistill.data import labels


def _lines(count):
    return [f"line {index + 2}" for index in range(count)]


def test_clean_label_strips_names_and_keeps_numbers():
    assert labels.clean_label("  pos\t") == "pos"
    assert labels.clean_label("\u00a0neg ") == "neg"  # a no-break space is whitespace too
    assert labels.clean_label(3) == 3


def test_check_labels_accepts_numbers_or_names():
    labels.check_labels(["pos", "neg", "pos", "neutral"], _lines(4), "r.csv")
    labels.check_labels([1, 0, 10], _lines(3), "r.csv")
    labels.check_labels(["1", "2", "pos"], _lines(3), "r.csv")  # strings all: names, not numbers


@pytest.mark.parametrize("raw", [[1, "pos", 2, "neg"], ["pos", 0]])
def test_numbers_mixed_with_names_are_refused(raw):
    with pytest.raises(ValueError) as raised:
        labels.check_labels(raw, _lines(len(raw)), "r.csv")
    message = str(raised.value)
    assert message.startswith("r.csv mixes numeric labels")
    assert "would become extra classes" in message
    assert "Write every label of the column as a name" in message
    number_line = _lines(len(raw))[next(i for i, x in enumerate(raw) if isinstance(x, int))]
    assert f"e.g. {number_line})" in message


@pytest.mark.parametrize("name", ["po\ns", "po\r\ns", "po\u2028s", "po\x0bs"])
def test_a_name_with_a_line_break_is_refused(name):
    with pytest.raises(ValueError, match=r"r\.csv \(line 3\): the label .* contains a line break") as raised:
        labels.check_labels(["neg", name, "neg"], _lines(3), "r.csv")
    assert "labels.txt holds one class name a line" in str(raised.value)
    assert "Remove the line break from the label" in str(raised.value)


def test_names_differing_only_by_case_are_refused_with_every_spelling():
    raw = ["pos", "neg", "Pos", "NEG", "POS"]
    with pytest.raises(ValueError) as raised:
        labels.check_labels(raw, _lines(5), "r.csv")
    message = str(raised.value)
    assert "r.csv has labels that differ only by case" in message
    assert "'POS' (line 6) and 'Pos' (line 4) and 'pos' (line 2)" in message
    assert "'NEG' (line 5) and 'neg' (line 3)" in message
    assert "Spell each class one way" in message


def test_check_label_names_refuses_repeats_and_case_clashes():
    assert labels.check_label_names(["neg", "pos"], "TFDS x") == ["neg", "pos"]
    with pytest.raises(ValueError, match=r"TFDS x names the classes \['a', 'b', 'a'\]: \['a'\] appear more "
                                         r"than once\. Give every class its own name"):
        labels.check_label_names(["a", "b", "a"], "TFDS x")
    with pytest.raises(ValueError, match=r"'A' \(class 1\) and 'a' \(class 0\)"):
        labels.check_label_names(["a", "A"], "TFDS x")
    with pytest.raises(ValueError, match=r"TFDS x \(class 1\): the label 'b\\nc' contains a line break"):
        labels.check_label_names(["a", "b\nc"], "TFDS x")


@pytest.mark.parametrize("names, expected", [
    (None, True), ([], True), (["LABEL_0", "LABEL_1"], True), (("LABEL_0", "LABEL_1", "LABEL_2"), True),
    (["LABEL_1", "LABEL_0"], False),  # an explicit order is a choice someone made: real names
    (["neg", "pos"], False), (["LABEL_0", "pos"], False), (["label_0", "label_1"], False),
])
def test_placeholders_are_hugging_faces_default_names_only(names, expected):
    assert labels.is_placeholder(names) is expected


def test_class_order_maps_the_same_names_in_another_order():
    assert labels.class_order(["neg", "pos"], ["neg", "pos"]) is None
    assert labels.class_order(["neg", "pos"], ["pos", "neg"]) == [1, 0]
    assert labels.class_order(["a", "b", "c"], ["c", "a", "b"]) == [1, 2, 0]
    assert labels.class_order(["neg", "pos"], ["LABEL_0", "LABEL_1"]) is None
    assert labels.class_order(["neg", "pos"], None) is None


def test_class_order_refuses_other_names_naming_both_sets():
    with pytest.raises(ValueError) as raised:
        labels.class_order(["fresh", "rotten"], ["negative", "positive"], model="The package p",
                           data="the evaluation data")
    message = str(raised.value)
    assert message.startswith("The package p predicts the classes ['negative', 'positive'] but the "
                              "evaluation data has the classes ['fresh', 'rotten']")
    assert "Relabel the data with The package p's class names" in message


def test_class_order_refuses_a_different_count_and_hints_at_case():
    with pytest.raises(ValueError, match=re.escape("only the model has ['neutral'], only the data []")):
        labels.class_order(["neg", "pos"], ["neg", "neutral", "pos"])
    with pytest.raises(ValueError, match=r"\(they differ only by case\).*Rename them\.$"):
        labels.class_order(["Neg", "Pos"], ["neg", "pos"], fix="Rename them.")
