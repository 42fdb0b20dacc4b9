"""Unit tests of the `.tflite` file checks (no model needed)."""

import pytest

from tfdistill.export.runtime import check_flatbuffer, read_tflite


def test_only_tfl3_flatbuffers_are_accepted(tmp_path):
    assert check_flatbuffer(b"\x1c\x00\x00\x00TFL3rest") == b"\x1c\x00\x00\x00TFL3rest"
    for content in (b"", b"TFL3", b"PK\x03\x04 zip archive", b"\x08\x00\x00\x00ONNX"):
        with pytest.raises(ValueError, match="is not a TFLite model"):
            check_flatbuffer(content)


def test_missing_files_and_package_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="No TFLite model"):
        read_tflite(str(tmp_path / "absent.tflite"))
    with pytest.raises(FileNotFoundError, match="model.tflite"):
        read_tflite(str(tmp_path))  # a folder without model.tflite
    (tmp_path / "model.tflite").write_bytes(b"\x1c\x00\x00\x00TFL3")
    assert read_tflite(str(tmp_path)).startswith(b"\x1c")
