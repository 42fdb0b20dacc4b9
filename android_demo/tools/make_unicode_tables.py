"""Writes `UnicodeTables.java`: the character classes of the Python BERT tokenizer, measured.

Hugging Face `tokenizers` (the Python side of tfdistill) classifies characters with the Rust
`unicode_categories` crate, whose tables are from an old Unicode version, while Java's
`Character.getType` follows the Unicode version of the JDK or, on a phone, of the Android release.
The two disagree on a few hundred code points (newer punctuation and combining marks), so the
Java tokenizer does not ask `Character` at all: it reads the sets written here, which are measured
by running every code point through the Python tokenizer's own normalizer and pre-tokenizer.
The result is identical on every JDK and every Android version.

Usage:
    .venv/bin/python android_demo/tools/make_unicode_tables.py [--output=PATH]
"""

import os
import sys

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUTPUT = os.path.join(
    ROOT, "android_demo", "core", "src", "main", "java", "org", "tfdistill", "core",
    "UnicodeTables.java",
)
_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)
_VALUES_PER_LINE = 8
_BATCH = 1 << 16
_CHECKED_SAMPLE = 3000

flags.DEFINE_string("output", DEFAULT_OUTPUT, "Path of the generated Java source.")
FLAGS = flags.FLAGS


def _code_points():
    # Python strings may hold lone surrogates, but they never reach a tokenizer from Java
    # (a String's surrogates pair into one code point or are dropped as invalid input).
    return (cp for cp in range(_MAX_CODE_POINT + 1) if cp not in _SURROGATES)


class _Probes:
    """The pieces of the Python BERT tokenizer whose character classes are measured."""

    def __init__(self):
        from tokenizers import normalizers, pre_tokenizers

        def bert_normalizer(**on):
            options = dict(clean_text=False, handle_chinese_chars=False, strip_accents=False,
                           lowercase=False)
            options.update(on)
            return normalizers.BertNormalizer(**options)

        self.clean = bert_normalizer(clean_text=True)
        self.chinese = bert_normalizer(handle_chinese_chars=True)
        self.strip = bert_normalizer(strip_accents=True)
        self.nfd = normalizers.NFD()
        self.pre_tokenizer = pre_tokenizers.BertPreTokenizer()


def _classify_one(probes, cp):
    """Classifies one code point with single-character probes (slow, used to check the batches)."""
    char = chr(cp)
    probe = "a" + char + "a"
    pieces = len(probes.pre_tokenizer.pre_tokenize_str(probe))
    return {
        "CONTROL": probes.clean.normalize_str(probe) == "aa",
        "WHITESPACE": pieces == 2,
        "PUNCTUATION": pieces == 3,
        "CJK": probes.chinese.normalize_str(char) == " " + char + " ",
        "NONSPACING_MARK": (probes.nfd.normalize_str(char) == char
                            and probes.strip.normalize_str(char) == ""),
    }


def _classify_batch(probes, cps):
    """Classifies many code points with one call per probe.

    Every step measured maps each character on its own (cleaning, CJK padding, NFD between
    starters, accent filtering, splitting), so probing "a c1 a c2 a ..." and cutting the result
    at the separators gives each character's own result. `_check_batches` verifies this against
    single-character probes.
    """
    chars = [chr(cp) for cp in cps]
    # 'a' separates the normalizer and pre-tokenizer probes: none of those steps changes it.
    text = "a" + "a".join(chars) + "a"
    cleaned = probes.clean.normalize_str(text).split("a")[1:-1]
    padded = probes.chinese.normalize_str(text).split("a")[1:-1]
    # NFD may produce an 'a' ("à" -> "a" + U+0300), so the NFD probes use U+0001 instead.
    marked = "\x01" + "\x01".join(chars) + "\x01"
    decomposed = probes.nfd.normalize_str(marked).split("\x01")[1:-1]
    stripped = probes.strip.normalize_str(marked).split("\x01")[1:-1]
    if not len(cleaned) == len(padded) == len(decomposed) == len(stripped) == len(chars):
        raise AssertionError("a separator was altered; the batch cannot be cut apart")
    covered = [0] * len(text)
    isolated = set()
    for _, (start, end) in probes.pre_tokenizer.pre_tokenize_str(text):
        for i in range(start, end):
            covered[i] = 1
        if end == start + 1:
            isolated.add(start)
    for i, char in enumerate(chars):
        position = 2 * i + 1
        yield cps[i], {
            "CONTROL": cleaned[i] == "",
            "WHITESPACE": not covered[position],
            "PUNCTUATION": position in isolated,
            "CJK": padded[i] == " " + char + " ",
            "NONSPACING_MARK": decomposed[i] == char and stripped[i] == "",
        }


def _check_batches(probes, measured):
    """Re-measures a fixed sample of code points one by one; raises if a batch result differs."""
    import random

    sample = list(range(0x250)) + random.Random(0).sample(sorted(measured), _CHECKED_SAMPLE)
    for cp in sample:
        if _classify_one(probes, cp) != measured[cp]:
            raise AssertionError(f"U+{cp:04X}: batch and single-character probes disagree")


def measure_classes():
    """Runs every code point through the BERT normalizer and pre-tokenizer pieces.

    Returns:
        dict of class name -> sorted list of code points.
    """
    probes = _Probes()
    separators = (ord("a"), 0x01)
    cps = [cp for cp in _code_points() if cp not in separators]
    measured = {cp: _classify_one(probes, cp) for cp in separators}
    for start in range(0, len(cps), _BATCH):
        measured.update(_classify_batch(probes, cps[start:start + _BATCH]))
    _check_batches(probes, measured)
    classes = {name: [] for name in measured[separators[0]]}
    for cp in sorted(measured):
        for name, member in measured[cp].items():
            if member:
                classes[name].append(cp)
    # The Java normalizer drops CONTROL first and maps WHITESPACE to a space second; that
    # reproduces the Python normalizer only if this holds (it does: checked, not assumed).
    control = set(classes["CONTROL"])
    for cp in classes["WHITESPACE"]:
        if cp not in control and probes.clean.normalize_str("a" + chr(cp) + "a") != "a a":
            raise AssertionError(f"U+{cp:04X}: normalizer and pre-tokenizer disagree on whitespace")
    return classes


def to_ranges(code_points):
    """Collapses sorted code points into inclusive [start, end] pairs."""
    ranges = []
    for cp in code_points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return ranges


def render_java(classes, tokenizers_version):
    """Returns the Java source of `UnicodeTables`."""
    lines = [
        "// Generated by android_demo/tools/make_unicode_tables.py from Hugging Face tokenizers",
        f"// {tokenizers_version}. Do not edit: regenerate (tests/test_android_core.py checks it).",
        "package org.tfdistill.core;",
        "",
        "/**",
        " * Character classes of the Python BERT tokenizer, measured code point by code point.",
        " *",
        " * <p>They replace {@link Character#getType}, whose Unicode version differs between JDKs",
        " * and Android releases, so that tokenization is identical everywhere. Each set is a list",
        " * of inclusive {@code start, end} pairs.",
        " */",
        "final class UnicodeTables {",
    ]
    for name in sorted(classes):
        ranges = to_ranges(classes[name])
        lines.append(f"  /** {len(classes[name])} code points in {len(ranges)} ranges. */")
        lines.append(f"  static final CodePointSet {name} = CodePointSet.ofRanges(new int[] {{")
        values = [f"0x{v:X}" for pair in ranges for v in pair]
        for start in range(0, len(values), _VALUES_PER_LINE):
            lines.append("    " + ", ".join(values[start:start + _VALUES_PER_LINE]) + ",")
        lines.append("  });")
        lines.append("")
    lines += ["  private UnicodeTables() {}", "}", ""]
    return "\n".join(lines)


def main(argv):
    del argv
    import tokenizers

    from tfdistill.utils import atomic

    source = render_java(measure_classes(), tokenizers.__version__)
    atomic.write_text(FLAGS.output, source)
    print(f"Wrote {FLAGS.output}", file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    app.run(main)
