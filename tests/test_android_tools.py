"""android_demo/tools/copy_model_package.py: only complete, consistent packages reach the app."""

import hashlib
import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "android_demo", "tools", "copy_model_package.py")
MODEL_BYTES = b"TFL3 not really a model"


def _load_tool():
    spec = importlib.util.spec_from_file_location("copy_model_package", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def _write_package(folder, **card_overrides):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.tflite").write_bytes(MODEL_BYTES)
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n", encoding="utf-8")
    (folder / "labels.txt").write_text("fresh\nrotten\n", encoding="utf-8")
    card = {"seq_len": 64, "inputs": ["input_ids"], "outputs": ["logits"],
            "labels": ["fresh", "rotten"], "mode": "fp32", "size_bytes": len(MODEL_BYTES),
            "sha256": hashlib.sha256(MODEL_BYTES).hexdigest(), "source": "test", "accuracy": 0.5}
    card.update(card_overrides)
    (folder / "model_card.json").write_text(json.dumps(card), encoding="utf-8")
    return folder


def test_copies_a_valid_package(tmp_path):
    package = _write_package(tmp_path / "export")
    assets = tmp_path / "assets"
    card = tool.copy_package(str(package), str(assets))
    assert card["mode"] == "fp32"
    for name in tool.PACKAGE_FILES:
        assert (assets / name).read_bytes() == (package / name).read_bytes()


@pytest.mark.parametrize("override, message", [
    ({"size_bytes": 1}, "different exports"),
    ({"sha256": "0" * 64}, "different exports"),
    ({"sha256": None}, "different exports"),
])
def test_rejects_a_card_that_does_not_describe_the_model(tmp_path, override, message):
    package = _write_package(tmp_path / "export", **override)
    with pytest.raises(ValueError, match=message):
        tool.copy_package(str(package), str(tmp_path / "assets"))
    assert not (tmp_path / "assets").exists()


def test_rejects_missing_files_and_folders(tmp_path):
    package = _write_package(tmp_path / "export")
    os.remove(package / "labels.txt")
    with pytest.raises(FileNotFoundError, match="labels.txt"):
        tool.validate_package(str(package))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tool.validate_package(str(tmp_path / "nowhere"))


def test_script_exits_non_zero_with_the_reason(tmp_path):
    package = _write_package(tmp_path / "export", size_bytes=3)
    result = subprocess.run(
        [sys.executable, SCRIPT, f"--package_dir={package}", f"--assets_dir={tmp_path / 'a'}"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "different exports" in result.stderr
