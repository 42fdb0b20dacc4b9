"""Input files read as the user meant them (issue #12, class 3), or refused with a message that
names the real problem and the fix.

- Data files: a folder, a spreadsheet, Parquet, zip, compressed or UTF-16/32 file where CSV, TSV
  or JSONL text belongs is recognised by its magic bytes (or its NUL-byte pattern); a column
  name that repeats is refused; a field over the csv module's limit is explained (a quote never
  closed), and a long TSV field is simply read.
- Tokenizer files: a truncated, empty or foreign `tokenizer.json`, a config that is not an object.
- Cased models: the Python tokenizer, the model card and the Java core follow the model's casing
  (the Java side runs in tests/test_android_core.py; its fixture is checked here).
- Model packages: `copy_model_package.py` refuses files of different exports.
- A full disk while writing a package or a training backup: one line and exit status 3.

Script rows run as subprocesses: exit status 2 (3 for a full disk), one line, nothing written.
"""

import builtins
import contextlib
import errno
import gzip
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from tfdistill.cli.script import disk_full_message, is_disk_full, run_or_exit
from tfdistill.data import datasets
from tfdistill.data.tokenizer import Tokenizer
from tfdistill.export.package import model_card, write_model_package
from tfdistill.utils.errors import NonFiniteLossError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "android_demo", "tools")
COPY_TOOL = os.path.join(TOOLS, "copy_model_package.py")
ROWS = "text,label\n" + "".join(f"a good film {i},pos\na bad film {i},neg\n" for i in range(6))
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CASED_VOCAB = SPECIAL + ["The", "the", "Film", "film", "Café", "café", "cafe", "!"]


def _load(path, **kwargs):
    return datasets.load(train_file=str(path), validation_fraction=0, test_fraction=0, **kwargs)


def _write(path, content):
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def _zip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _xlsx():
    """The parts of an .xlsx that matter here: a zip holding xl/ (no openpyxl needed)."""
    return _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>",
                 "xl/worksheets/sheet1.xml": "<worksheet/>"})


def _parquet():
    try:
        import pandas as pd

        buffer = io.BytesIO()
        pd.DataFrame({"text": ["a good film"], "label": ["pos"]}).to_parquet(buffer)
        return buffer.getvalue()
    except ImportError:  # no Parquet engine: the magic bytes at both ends are what is tested
        return b"PAR1" + bytes(64) + b"PAR1"


# ---------------------------------------------------------------------------------------------
# Data files: (id, file name, content, error, problem, fix)

DATA_CASES = [
    ("xlsx_named_csv", "reviews.csv", _xlsx(), ValueError,
     r"reviews\.csv is an Excel workbook \(\.xlsx\), not CSV text", r"Save it as UTF-8 CSV"),
    ("xlsx", "reviews.xlsx", _xlsx(), ValueError,
     r"reviews\.xlsx is an Excel workbook \(\.xlsx\), not CSV, TSV or JSONL", r"CSV UTF-8"),
    ("xls_ole2", "reviews.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), ValueError,
     r"Excel 97-2003 workbook", r"Save it as UTF-8 CSV"),
    ("parquet_named_csv", "reviews.csv", _parquet(), ValueError, r"is a Parquet file, not CSV",
     r"read_parquet\(.*\)\.to_csv"),
    ("parquet", "reviews.parquet", _parquet(), ValueError, r"is a Parquet file", r"to_csv"),
    ("zip_named_csv", "reviews.csv", _zip({"data/reviews.csv": ROWS}), ValueError,
     r"is a zip archive holding data/reviews\.csv, not CSV text",
     r"Unzip it and pass the file inside: --train_file=.*data/reviews\.csv"),
    ("zip", "reviews.zip", _zip({"reviews.tsv": ROWS, "README": "x"}), ValueError,
     r"zip archive holding reviews\.tsv", r"--train_file="),
    ("zip_named_gz", "reviews.csv.gz", _zip({"reviews.csv": ROWS}), ValueError,
     r"zip archive holding reviews\.csv, not \.gz data", r"Unzip it"),
    ("gzip_of_xlsx", "reviews.csv.gz", gzip.compress(_xlsx()), ValueError,
     r"Excel workbook \(\.xlsx\), not CSV text \(once decompressed\)", r"Save it as UTF-8 CSV"),
    ("gzip_of_parquet", "reviews.jsonl.gz", gzip.compress(_parquet()), ValueError,
     r"Parquet file, not JSON Lines text \(once decompressed\)", r"to_csv"),
    ("gzip_named_csv", "reviews.csv", gzip.compress(ROWS.encode()), ValueError,
     r"is gzip-compressed data, not CSV text", r"Add \.gz to its name"),
    ("utf16_bom", "reviews.csv", ROWS.encode("utf-16"), ValueError,
     r"UTF-16 text \(with a byte-order mark\), not UTF-8", r"iconv -f UTF-16 -t UTF-8"),
    ("utf16le_no_bom", "reviews.csv", ROWS.encode("utf-16-le"), ValueError,
     r"UTF-16LE text \(without a byte-order mark\)", r"iconv -f UTF-16LE -t UTF-8"),
    ("utf16be_tsv", "reviews.tsv", ROWS.replace(",", "\t").encode("utf-16-be"), ValueError,
     r"UTF-16BE text \(without a byte-order mark\)", r"Save it as UTF-8"),
    ("utf16_cjk", "reviews.csv", ("text,label\n" + "这部电影很好看,好\n这部电影很差,差\n" * 4)
     .encode("utf-16-le"), ValueError, r"UTF-16LE text", r"iconv"),
    ("utf32_jsonl", "reviews.jsonl", '{"text": "a", "label": 1}\n'.encode("utf-32"), ValueError,
     r"UTF-32 text \(with a byte-order mark\)", r"iconv -f UTF-32"),
    ("binary_with_nul_bytes", "reviews.csv", b"text,label\n\x00\x01\xff\xfe\x00\x00\x89PNG",
     ValueError, r"reviews\.csv is binary data, not CSV text", r"as a UTF-8 CSV"),
    ("unclosed_quote_over_field_limit", "reviews.csv",
     'text,label\nfine,pos\n"never closed,neg\n' + "another film,pos\n" * 9000, ValueError,
     r"the row that starts at line 3 has a field of over 131,072 characters",
     r"quote \(\"\) that opens a field and is never closed.*Close that quote"),
    ("duplicate_csv_column", "reviews.csv", "text,label,text\n" + "a,pos,b\nc,neg,d\n" * 3,
     ValueError, r"names the column\(s\) \['text'\] more than once",
     r"Rename or delete the copies"),
    ("duplicate_tsv_label_column", "reviews.tsv", "label\ttext\tlabel\n" + "pos\ta\tneg\n" * 4,
     ValueError, r"reviews\.tsv names the column\(s\) \['label'\] more than once",
     r"each column name appears once"),
    ("duplicate_jsonl_key", "reviews.jsonl",
     '{"text": "a", "label": "pos"}\n{"text": "b", "label": "neg", "label": "pos"}\n',
     ValueError, r"reviews\.jsonl line 2 names the column\(s\) \['label'\] more than once",
     r"Rename or delete"),
    ("unquoted_comma_in_a_text", "reviews.csv", "text,label\ngood film,pos\nbad, boring film,neg\n",
     ValueError, r"reviews\.csv line 3 has 3 cells but the header has 2 \(text, label\)",
     r"Quote texts that contain a comma"),
    ("row_missing_its_label", "reviews.csv", "text,label\ngood film,pos\nbad film\nfine,neg\n",
     ValueError, r"line 3 has 1 cells but the header has 2", r"or a missing one"),
    ("tsv_row_with_an_extra_tab", "reviews.tsv", "text\tlabel\ngood\tpos\nbad\tfilm\tneg\n",
     ValueError, r"line 3 has 3 cells but the header has 2", r"unquoted tab"),
    ("json_array_as_jsonl", "reviews.jsonl", json.dumps([{"text": "a", "label": 1}], indent=2),
     ValueError, r"holds one JSON array over several lines \(a \.json file\)",
     r"jq -c '\.\[\]' in\.json > out\.jsonl"),
    ("pretty_json_object_as_jsonl", "reviews.jsonl",
     json.dumps({"text": "a", "label": 1}, indent=2), ValueError,
     r"holds one JSON object over several lines", r"jq -c \. in\.json"),
    ("one_line_array_as_jsonl", "reviews.jsonl", json.dumps([{"text": "a", "label": 1}]),
     ValueError, r"line 1 is a JSON list, not an object", r"jq -c '\.\[\]'"),
]


@pytest.mark.parametrize("case", DATA_CASES, ids=[case[0] for case in DATA_CASES])
def test_bad_data_file_names_the_problem_and_the_fix(case, tmp_path):
    _, name, content, error, problem, fix = case
    with pytest.raises(error, match=problem) as raised:
        _load(_write(tmp_path / name, content))
    assert re.search(fix, str(raised.value), re.S), str(raised.value)


def test_a_folder_names_the_data_files_inside_and_the_flag(tmp_path):
    folder = tmp_path / "glue_sst2"
    folder.mkdir()
    _write(folder / "train.tsv", ROWS.replace(",", "\t"))
    _write(folder / "dev.tsv", ROWS.replace(",", "\t"))
    _write(folder / "LICENSE", "x")
    with pytest.raises(FileNotFoundError, match=r"is a folder, not a data file \(it holds "
                                                r"dev\.tsv, train\.tsv\)") as raised:
        _load(folder)
    assert f"Pass the file inside the folder: --train_file={folder}/train.tsv" in str(raised.value)
    with pytest.raises(FileNotFoundError, match=r"validation_file .* is a folder.*"
                                                r"--validation_file=.*dev\.tsv"):
        datasets.load(train_file=str(folder / "train.tsv"), validation_file=str(folder))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"it is empty\)"):
        _load(tmp_path / "empty")


def test_files_that_are_fine_are_read_as_meant(tmp_path):
    import csv

    limit = csv.field_size_limit()
    # TSV has no quoting: a 200,000-character field is a long text, not a runaway quote.
    long_text = "word " * 40_000
    data = _load(_write(tmp_path / "long.tsv", f"text\tlabel\n{long_text}\tpos\nshort\tneg\n"))
    assert data.train.texts[0] == long_text and csv.field_size_limit() == limit
    # A repeated column that is not read does not make the file ambiguous.
    data = _load(_write(tmp_path / "extra.csv", "note,text,label,note\n1,a,pos,2\n3,b,neg,4\n"))
    assert sorted(data.train.texts) == ["a", "b"]
    # Trailing empty cells (a spreadsheet's export) are not data: read.
    data = _load(_write(tmp_path / "trailing.csv", "text,label\n" + "a,pos,,\nb,neg,\n" * 2))
    assert sorted(data.train.texts) == ["a", "a", "b", "b"]
    # Excel's "CSV UTF-8" starts with a UTF-8 byte-order mark: read, mark dropped.
    data = _load(_write(tmp_path / "excel.csv", b"\xef\xbb\xbf" + ROWS.encode()))
    assert len(data.train) == 12


# ---------------------------------------------------------------------------------------------
# Tokenizer files


@pytest.fixture
def tokenizer_folder(tmp_path):
    return Tokenizer.from_vocab(CASED_VOCAB).save_pretrained(tmp_path / "tok")


def _damage_tokenizer_json(folder, damage):
    path = os.path.join(folder, "tokenizer.json")
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(damage(data))


@pytest.mark.parametrize("damage, problem", [
    (lambda data: data[:len(data) // 2], r"tokenizer\.json is cut short: its [\d,]+ bytes end "
                                         r"inside the JSON .*interrupted download or copy"),
    (lambda data: data[:data.index(b'"[PAD]"') + 3], r"is cut short.*Unterminated string"),
    (lambda data: b"", r"tokenizer\.json is empty \(0 bytes\)"),
    (lambda data: data.replace(b'"model"', b'"model" x', 1), r"is not valid JSON .*it is damaged"),
    (lambda data: b'{"version": "1.0"}', r"is JSON but not a tokenizer that tokenizers [\d.]+ "
                                         r"can read"),
    (lambda data: b"\xff\xfe" + data, r"tokenizer\.json is not UTF-8 text"),
], ids=["truncated", "truncated_in_a_string", "empty", "damaged", "not_a_tokenizer", "not_utf8"])
def test_bad_tokenizer_json_names_the_problem_and_the_fix(tokenizer_folder, damage, problem):
    _damage_tokenizer_json(tokenizer_folder, damage)
    with pytest.raises(ValueError, match=problem) as raised:
        Tokenizer.from_pretrained(tokenizer_folder)
    assert ("Copy tokenizer.json again from where the model came from" in str(raised.value)
            and "or delete it: the folder's vocab.txt" in str(raised.value)), str(raised.value)


def test_bad_tokenizer_json_without_vocab_txt_is_only_told_to_copy_it_again(tokenizer_folder):
    os.remove(os.path.join(tokenizer_folder, "vocab.txt"))
    _damage_tokenizer_json(tokenizer_folder, lambda data: data[:100])
    with pytest.raises(ValueError, match="Copy tokenizer.json again") as raised:
        Tokenizer.from_pretrained(tokenizer_folder)
    assert "delete it" not in str(raised.value)


def test_bad_tokenizer_config_and_vocab_name_the_file(tokenizer_folder):
    config = os.path.join(tokenizer_folder, "tokenizer_config.json")
    _write_json(config, ["do_lower_case", False])
    with pytest.raises(ValueError, match=r"tokenizer_config\.json holds a JSON list, not an "
                                         r"object; fix or delete it"):
        Tokenizer.from_pretrained(tokenizer_folder)
    os.remove(config)
    os.remove(os.path.join(tokenizer_folder, "tokenizer.json"))
    with open(os.path.join(tokenizer_folder, "vocab.txt"), "ab") as f:
        f.write(b"caf\xe9\n")
    with pytest.raises(ValueError, match=r"vocab\.txt is not UTF-8 text .*copy the model's "
                                         r"vocab\.txt again"):
        Tokenizer.from_pretrained(tokenizer_folder)


# ---------------------------------------------------------------------------------------------
# Cased models: every tokenizer of a package follows the model's casing


def _ids(tokenizer, text):
    return tokenizer([text], max_length=8)["input_ids"][0].tolist()


def test_casing_is_what_the_normalizer_does():
    from tokenizers import normalizers

    assert Tokenizer.from_vocab(CASED_VOCAB).casing == {"do_lower_case": True, "strip_accents": True}
    cased = Tokenizer.from_vocab(CASED_VOCAB, do_lower_case=False)
    assert cased.casing == {"do_lower_case": False, "strip_accents": False}
    assert cased.get_config()["do_lower_case"] is False and cased.get_config()["strip_accents"] is False
    assert Tokenizer.from_vocab(CASED_VOCAB, strip_accents=False).casing == {
        "do_lower_case": True, "strip_accents": False}
    # Any normalizer, not only BertNormalizer: what it does to "A" and "é" is the casing.
    other = Tokenizer.from_vocab(CASED_VOCAB)
    other._backend.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents()])
    assert other.casing == {"do_lower_case": False, "strip_accents": True}


def test_a_cased_package_stays_cased_in_python(tmp_path):
    cased = Tokenizer.from_vocab(CASED_VOCAB, do_lower_case=False)
    card = model_card(b"TFL3", seq_len=8, inputs=["input_ids"], outputs=["logits"],
                      labels=["neg", "pos"], mode="float32", source="test", accuracy=None,
                      tokenizer=cased.get_config())
    assert (card["do_lower_case"], card["strip_accents"]) == (False, False)
    package = str(tmp_path / "pkg")
    write_model_package(package, b"TFL3", cased.vocab, ["neg", "pos"], card)
    assert not os.path.exists(os.path.join(package, "tokenizer_config.json"))
    loaded = Tokenizer.from_pretrained(package)  # vocab.txt and model_card.json only
    assert loaded.casing == cased.casing
    assert _ids(loaded, "The Film Café!") == _ids(cased, "The Film Café!") == [2, 5, 7, 9, 12, 3, 0, 0]
    # Uncased packages (and cards that do not say) stay uncased.
    uncased_card = dict(card, do_lower_case=True, strip_accents=True)
    _write_json(os.path.join(package, "model_card.json"), uncased_card)
    assert _ids(Tokenizer.from_pretrained(package), "The Film Café!") == [2, 6, 8, 11, 12, 3, 0, 0]
    # Cards written before the casing was at the top hold it in their "tokenizer" entry.
    older = {key: value for key, value in card.items() if key not in ("do_lower_case", "strip_accents")}
    _write_json(os.path.join(package, "model_card.json"), older)
    assert Tokenizer.from_pretrained(package).casing["do_lower_case"] is False
    _write_json(os.path.join(package, "model_card.json"), dict(card, do_lower_case="no"))
    with pytest.raises(ValueError, match=r"model_card\.json: do_lower_case must be true or false"):
        Tokenizer.from_pretrained(package)


def test_the_java_cased_fixture_is_current():
    """The Java CasedTokenizerParityTest (run by tests/test_android_core.py) checks its ids."""
    spec = importlib.util.spec_from_file_location("make_tokenizer_fixture",
                                                  os.path.join(TOOLS, "make_tokenizer_fixture.py"))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    committed = os.path.join(ROOT, "android_demo", "core", "src", "test", "resources",
                             tool.CASED_FIXTURE)
    with open(committed, encoding="utf-8") as f:
        assert f.read() == tool.cased_fixture(), (
            f"{committed} is stale: run .venv/bin/python android_demo/tools/"
            "make_tokenizer_fixture.py, re-run the Java tests and commit the output.")


# ---------------------------------------------------------------------------------------------
# Model packages: files of different exports are refused before they reach the app


def _load_copy_tool():
    """The tool as a module, its functions called in-process (its flags only matter in main)."""
    from absl import flags

    def drop_flags():
        for name in ("package_dir", "assets_dir"):
            if name in flags.FLAGS:
                delattr(flags.FLAGS, name)

    # tests/test_android_tools.py loads the tool too, before or after this file: leave the flag
    # names free both ways.
    drop_flags()
    spec = importlib.util.spec_from_file_location("copy_model_package", COPY_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    drop_flags()
    return module


copy_tool = _load_copy_tool()


def _package(folder, labels="neg\npos\n", vocab=CASED_VOCAB, **card_changes):
    tokenizer = Tokenizer.from_vocab(CASED_VOCAB, do_lower_case=False)
    card = model_card(b"TFL3 model", seq_len=8, inputs=["input_ids"], outputs=["logits"],
                      labels=["neg", "pos"], mode="float32", source="test", accuracy=None,
                      tokenizer=tokenizer.get_config())
    write_model_package(str(folder), b"TFL3 model", vocab, ["neg", "pos"], card)
    _write_json(os.path.join(folder, "model_card.json"), {**card, **card_changes})
    _write(folder / "labels.txt", labels)
    return folder


@pytest.mark.parametrize("change, problem", [
    (dict(labels="pos\nneg\n"), r"labels\.txt lists \['pos', 'neg'\] but model_card\.json lists "
                                r"\['neg', 'pos'\]"),
    (dict(labels="neg\npos\nmixed\n"), r"lists \['neg', 'pos', 'mixed'\] but"),
    (dict(vocab=CASED_VOCAB + ["extra"]), r"vocab\.txt has 14 tokens but model_card\.json "
                                          r"records a vocabulary of 13"),
    (dict(vocab=["[UNK]", "[PAD]"] + CASED_VOCAB[2:]), r"model's pad_token is '\[PAD\]' \(id 0\) "
                                                        r"but .*vocab\.txt has it at id 1"),
    (dict(vocab_sha256="0" * 64), r"vocab\.txt has SHA-256 [0-9a-f]{64} but model_card\.json "
                                  r"records 0{64}"),
    (dict(do_lower_case="false"), r"model_card\.json: do_lower_case must be true or false"),
], ids=["labels_reordered", "labels_added", "vocab_size", "special_token_id", "vocab_sha256",
        "casing_not_bool"])
def test_copy_tool_refuses_files_of_different_exports(tmp_path, change, problem):
    package = _package(tmp_path / "pkg", **change)
    assets = tmp_path / "assets"
    with pytest.raises(ValueError, match=problem) as raised:
        copy_tool.copy_package(str(package), str(assets))
    assert "Export the model again (export/to_tflite.py)" in str(raised.value)
    assert not assets.exists()


def test_copy_tool_copies_a_consistent_cased_package(tmp_path):
    card = copy_tool.copy_package(str(_package(tmp_path / "pkg")), str(tmp_path / "assets"))
    assert card["do_lower_case"] is False
    assert sorted(os.listdir(tmp_path / "assets")) == sorted(copy_tool.PACKAGE_FILES)


def test_copy_tool_copies_the_mediapipe_model_only_when_the_card_describes_it(tmp_path):
    import hashlib

    model = b"TFL3 mediapipe model"
    entry = {"file": "text_classifier.tflite", "size_bytes": len(model),
             "sha256": hashlib.sha256(model).hexdigest()}
    folder = _package(tmp_path / "pkg", mediapipe=entry)
    _write(folder / "text_classifier.tflite", model)
    copy_tool.copy_package(str(folder), str(tmp_path / "assets"))
    assert (tmp_path / "assets" / "text_classifier.tflite").read_bytes() == model
    _write(folder / "text_classifier.tflite", b"TFL3 another export")
    with pytest.raises(ValueError, match=r"text_classifier\.tflite has 19 bytes but model_card\.json says 20"):
        copy_tool.copy_package(str(folder), str(tmp_path / "assets2"))
    os.remove(folder / "text_classifier.tflite")
    with pytest.raises(FileNotFoundError, match=r"names the MediaPipe model 'text_classifier\.tflite' but"):
        copy_tool.copy_package(str(folder), str(tmp_path / "assets3"))
    assert not (tmp_path / "assets2").exists() and not (tmp_path / "assets3").exists()


# ---------------------------------------------------------------------------------------------
# A full disk: one line, exit status 3, nothing half-written


@contextlib.contextmanager
def _full_disk_for(monkeypatch, fragment):
    """Files opened for writing whose path holds `fragment` are created, but their bytes go to
    /dev/full, where the kernel answers ENOSPC as a full disk does."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    real_open = builtins.open

    def fake_open(file, mode="r", *args, **kwargs):
        if (any(c in mode for c in "wax+") and isinstance(file, (str, os.PathLike))
                and fragment in os.fspath(file)):
            real_open(file, mode, *args, **kwargs).close()
            file = "/dev/full"
        return real_open(file, mode, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(builtins, "open", fake_open)
        yield


class _Flags:
    """Stands in for absl FLAGS: what a script was told to write to."""

    def __init__(self, **values):
        self.__dict__.update(values)


def test_full_disk_during_an_export_write_exits_3_in_one_line(tmp_path, monkeypatch, capsys):
    package = tmp_path / "pkg"
    card = model_card(b"TFL3", seq_len=8, inputs=["input_ids"], outputs=["logits"], labels=["a", "b"],
                      mode="float32", source="test", accuracy=None)
    with _full_disk_for(monkeypatch, "model.tflite"), pytest.raises(SystemExit) as exited:
        run_or_exit(lambda flags: write_model_package(flags.output_dir, b"TFL3", SPECIAL, ["a", "b"], card),
                    _Flags(output_dir=str(package)))
    assert exited.value.code == 3
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and "Traceback" not in message
    # Python's own write error names no file: the message names where the script was writing.
    assert message.startswith(f"error: The disk is full (No space left on device) while writing "
                              f"into --output_dir={package}.")
    assert "Free space on that disk" in message
    assert os.listdir(tmp_path) == []  # no package, no temporaries


def test_every_library_spelling_of_a_full_disk_exits_3(capsys):
    import tensorflow as tf

    faults = [
        # What a TensorFlow checkpoint save (the training backup) raises on a full disk.
        tf.errors.ResourceExhaustedError(None, None, "{{function_node __wrapped__SaveV2}} "
                                         "/runs/x/training_backup/ckpt_temp/part-00000; No space "
                                         "left on device [Op:SaveV2]"),
        OSError(28, "Can't synchronously write data (file write failed: time = Tue Dec 1\n, "
                    "filename = '/runs/x/qat.h5', errno = 28, error message = 'No space left on "
                    "device')"),
        Exception("Error while serializing: I/O error: No space left on device (os error 28)"),
        OSError(errno.EDQUOT, "Disk quota exceeded", "/runs/x/model.tflite"),
    ]
    for fault, path in zip(faults, ["/runs/x/training_backup/ckpt_temp/part-00000", "/runs/x/qat.h5",
                                    None, "/runs/x/model.tflite"]):
        assert is_disk_full(fault)
        assert (f"while writing {path}." in disk_full_message(fault)) if path else (
            "while writing" not in disk_full_message(fault))
        with pytest.raises(SystemExit) as exited:
            run_or_exit(_raiser(fault), None)
        assert exited.value.code == 3
        assert capsys.readouterr().err.count("\n") == 1
    # Input errors stay 2, a NaN loss stays 3 (even where RuntimeError counts as input), the
    # rest propagates with its traceback.
    for fault, errors, code in ((ValueError("bad: 'No space left on device' as a label"), None, 2),
                                (NonFiniteLossError("kd was NaN"), (RuntimeError,), 3)):
        with pytest.raises(SystemExit) as exited:
            run_or_exit(_raiser(fault), None, *([errors] if errors else []))
        assert exited.value.code == code
    with pytest.raises(KeyError):
        run_or_exit(_raiser(KeyError("x")), None)


def _raiser(error):
    def run(_):
        raise error
    return run


@pytest.fixture
def tiny_disk(tmp_path):
    """A 32 KB tmpfs (skipped where mounting is not permitted)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(disk)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        if subprocess.run(["umount", str(disk)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(disk)], check=True)  # still busy: detach it


def test_a_really_full_disk_during_a_training_backup_exits_3(tiny_disk, capsys):
    import tf_keras as keras

    from tfdistill.training.callbacks import TrainingBackup

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(2048, input_shape=(16,)), keras.layers.Dense(2)])
    model.compile("adam", "mse")
    x, y = np.zeros((4, 16), "float32"), np.zeros((4, 2), "float32")
    backup = TrainingBackup(str(tiny_disk / "training_backup"))  # weights + Adam: ~400 KB
    with pytest.raises(SystemExit) as exited:
        run_or_exit(lambda _: model.fit(x, y, epochs=1, verbose=0, callbacks=[backup]), None)
    assert exited.value.code == 3
    message = capsys.readouterr().err
    assert message.startswith("error: The disk is full") and message.count("\n") == 1
    assert str(tiny_disk) in message


# ---------------------------------------------------------------------------------------------
# Scripts: exit status 2 (3 for a full disk), one line on stderr, nothing written


def _script(*argv, code=None):
    command = [sys.executable, "-c", code, *argv] if code else [sys.executable, *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


def _assert_one_line_error(result, status, *fragments):
    assert result.returncode == status, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@pytest.fixture(scope="module")
def tiny_task(tmp_path_factory):
    from tfdistill.compress.testing import write_tiny_task

    root = tmp_path_factory.mktemp("task")
    write_tiny_task(root, rows=16)
    return root


def test_distill_script_refuses_a_folder_as_train_file(tiny_task, tmp_path):
    out = tmp_path / "student"
    result = _script("recipes/distill.py", f"--teacher={tiny_task / 'model'}", "--max_length=16",
                     f"--train_file={tiny_task}", f"--output_dir={out}")
    _assert_one_line_error(result, 2, "is a folder, not a data file (it holds train.csv)",
                           f"--train_file={tiny_task}/train.csv")
    assert os.listdir(tmp_path) == []
    result = _script("recipes/distill.py", f"--teacher={tiny_task / 'model'}", "--max_length=16",
                     f"--train_file={tiny_task / 'train.csv'}", "--student_layers=1", "--student_embedding_size=4096",
                     f"--output_dir={out}")
    _assert_one_line_error(result, 2, "embedding_size must be an int in [1, ", "or None (a full word table)")
    assert os.listdir(tmp_path) == []


def test_distill_script_exits_3_when_the_disk_fills_during_the_training_backup(tiny_task, tiny_disk):
    out = tiny_disk / "student"
    result = _script("recipes/distill.py", f"--teacher={tiny_task / 'model'}", "--student_layers=1",
                     f"--train_file={tiny_task / 'train.csv'}", "--max_length=16", "--batch_size=8",
                     "--epochs=1", f"--output_dir={out}")
    _assert_one_line_error(result, 3, "The disk is full (No space left on device) while writing "
                           f"{out}/training_backup/", "run the same command again")
    assert not [name for name in os.listdir(out) if name.endswith((".json", ".safetensors"))
                and not name.startswith(".")]  # no student published


def test_evaluate_script_refuses_a_truncated_tokenizer_and_a_spreadsheet(tiny_task, tmp_path):
    tokenizer = tmp_path / "tokenizer"
    Tokenizer.from_pretrained(tiny_task / "model").save_pretrained(tokenizer)
    _write(tmp_path / "reviews.csv", _xlsx())
    args = ["export/evaluate_tflite.py", f"--model={tmp_path / 'missing.tflite'}",
            f"--train_file={tmp_path / 'reviews.csv'}"]
    result = _script(*args, f"--tokenizer={tokenizer}")
    _assert_one_line_error(result, 2, "reviews.csv is an Excel workbook (.xlsx), not CSV text",
                           "Save it as UTF-8 CSV")
    _damage_tokenizer_json(tokenizer, lambda data: data[:len(data) // 3])
    result = _script(*args, f"--tokenizer={tokenizer}")
    _assert_one_line_error(result, 2, "tokenizer.json is cut short", "Copy tokenizer.json again")
    assert sorted(os.listdir(tmp_path)) == ["reviews.csv", "tokenizer"]


def test_copy_tool_script_exits_2_on_disagreeing_files(tmp_path):
    package = _package(tmp_path / "pkg", labels="pos\nneg\n")
    result = _script(COPY_TOOL, f"--package_dir={package}", f"--assets_dir={tmp_path / 'assets'}")
    _assert_one_line_error(result, 2, "labels.txt lists ['pos', 'neg'] but model_card.json",
                           "Export the model again")
    assert not (tmp_path / "assets").exists()


_FULL_DISK_COPY = """
import errno, runpy, shutil, sys
def copy_onto_a_full_disk(src, dst, *args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", dst)
shutil.copyfile = copy_onto_a_full_disk
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_copy_tool_script_exits_3_on_a_full_disk(tmp_path):
    package, assets = _package(tmp_path / "pkg"), tmp_path / "assets"
    result = _script(COPY_TOOL, f"--package_dir={package}", f"--assets_dir={assets}",
                     code=_FULL_DISK_COPY)
    _assert_one_line_error(result, 3, "The disk is full (No space left on device) while writing",
                           str(assets))
    assert os.listdir(assets) == []  # no temporaries left


def test_copy_tool_script_exits_3_on_a_really_full_disk(tmp_path, tiny_disk):
    big = Tokenizer.from_vocab(SPECIAL + [f"w{i}" for i in range(20_000)])  # ~150 KB vocab.txt
    package = tmp_path / "pkg"
    card = model_card(b"TFL3", seq_len=8, inputs=["input_ids"], outputs=["logits"],
                      labels=["a", "b"], mode="float32", source="test", accuracy=None,
                      tokenizer=big.get_config())
    write_model_package(str(package), b"TFL3", big.vocab, ["a", "b"], card)
    result = _script(COPY_TOOL, f"--package_dir={package}", f"--assets_dir={tiny_disk}")
    _assert_one_line_error(result, 3, "The disk is full", str(tiny_disk))
    assert os.listdir(tiny_disk) == []
