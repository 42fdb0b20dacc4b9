"""Property tests of `datasets.load` (hypothesis): valid files round-trip, junk gives ValueError."""

import csv
import io
import json
import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfdistill.data import datasets

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NO_SPLITS = dict(validation_fraction=0, test_fraction=0)
MISSING = {"", "nan", "na", "n/a", "null"}

# Any text with a visible character (surrogates and NUL excluded); CSV is written with the csv
# module, so commas, quotes and line breaks inside a text are fair game.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1,
               max_size=30).filter(lambda text: text.strip())
# String labels may spell "inf" or "-inf": they are names, not numbers. The missing-value cells
# ("nan", "na", "null", ...) are left out: they mean "no label".
STRING_LABEL = st.one_of(st.sampled_from(["inf", "-inf", "Infinity", "x_1", "-"]),
                         st.text("abcdefghij_-XYZ", min_size=1, max_size=6)).filter(
    lambda label: label.lower() not in MISSING)
INT_LABEL = st.integers(min_value=-5, max_value=10**6)
ROWS = st.one_of(
    st.lists(st.tuples(TEXT, STRING_LABEL), min_size=2, max_size=12),
    st.lists(st.tuples(TEXT, INT_LABEL), min_size=2, max_size=12),
).filter(lambda rows: len({label for _, label in rows}) >= 2)


def _write(name, content):
    folder = tempfile.mkdtemp(prefix="tfdistill-property-")
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _csv_content(rows):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)  # "\r\n" lines: a text holding "\r" or "\n" is quoted
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    return buffer.getvalue()


def _tsv_content(rows):
    return "text\tlabel\n" + "".join(f"{text}\t{label}\n" for text, label in rows)


def _check_round_trip(data, rows):
    labels = {label for _, label in rows}
    expected_names = ([str(label) for label in sorted(labels)] if all(isinstance(label, int) for label in labels)
                      else sorted(str(label) for label in labels))
    assert data.label_names == expected_names
    assert data.train.texts == [text for text, _ in rows]
    assert [data.label_names[label] for label in data.train.labels] == [str(label) for _, label in rows]


@SETTINGS
@given(rows=ROWS)
def test_csv_with_valid_labels_round_trips(rows):
    data = datasets.load(train_file=_write("rows.csv", _csv_content(rows)), **NO_SPLITS)
    _check_round_trip(data, rows)


@SETTINGS
@given(rows=ROWS)
def test_jsonl_with_valid_labels_round_trips(rows):
    content = "".join(json.dumps({"text": text, "label": label}) + "\n" for text, label in rows)
    data = datasets.load(train_file=_write("rows.jsonl", content), **NO_SPLITS)
    _check_round_trip(data, rows)


@SETTINGS
@given(rows=ROWS.map(lambda rows: [(" ".join(text.split()), label) for text, label in rows]))
def test_tsv_with_valid_labels_round_trips(rows):
    """TSV is unquoted (GLUE): a quote is text; texts hold no tab or line break."""
    data = datasets.load(train_file=_write("rows.tsv", _tsv_content(rows)), **NO_SPLITS)
    _check_round_trip(data, rows)


_JSON_VALUE = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8),
                        st.lists(st.integers(), max_size=2))
JUNK = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.lists(st.one_of(_JSON_VALUE, st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)),
             max_size=6).map(lambda values: "\n".join(json.dumps(v) for v in values).encode("utf-8")),
    st.lists(st.dictionaries(st.sampled_from(["text", "label", "other"]), _JSON_VALUE, max_size=3),
             max_size=6).map(lambda rows: "\n".join(json.dumps(r) for r in rows).encode("utf-8")),
    st.lists(st.lists(st.one_of(st.text(max_size=6), _JSON_VALUE.map(str)), max_size=3), max_size=6).map(
        lambda rows: _csv_content(rows).encode("utf-8")),
)


@SETTINGS
@given(content=JUNK, extension=st.sampled_from([".csv", ".tsv", ".jsonl", ".csv.gz"]))
def test_junk_gives_a_value_error_naming_the_file(content, extension):
    path = _write("junk" + extension, content)
    try:
        data = datasets.load(train_file=path, **NO_SPLITS)
    except ValueError as error:
        message = str(error)
        assert "junk" + extension in message, message
        assert len(message) < 2000
    else:  # junk that happens to be a valid dataset
        assert data.num_classes >= 2 and len(data.train) >= 2
