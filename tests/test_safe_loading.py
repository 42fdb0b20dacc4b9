"""Loading never executes code from a file: pickles are refused unread, Keras `Lambda` layers are
refused (and Keras' safe mode is on underneath), and no config is `eval`ed.

Every payload here writes a marker file when it runs; each test proves the marker never appears.
"""

import ast
import builtins
import json
import os
import pickle
import shutil
import subprocess
import sys

import pytest

import tfdistill
from tfdistill.data.tokenizer import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad"]
CONFIG = tfdistill.BertConfig(vocab_size=len(VOCAB), hidden_size=8, num_layers=1, num_heads=2,
                              intermediate_size=16, max_position_embeddings=8, num_labels=2)


class _Payload:
    """Unpickling this opens (creates) `marker`: the stand-in for arbitrary code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _pickle_payload(marker):
    return pickle.dumps(_Payload(marker))


def test_the_payload_runs_when_unpickled(tmp_path):
    """The control: the payload is live, so the refusals below mean something."""
    marker = tmp_path / "ran"
    pickle.loads(_pickle_payload(marker)).close()
    assert marker.exists()


@pytest.fixture
def pickled_folder(tmp_path):
    """A model folder whose weights exist only as pickles (config and tokenizer are fine)."""
    folder = tmp_path / "model"
    tfdistill.save_pretrained(tfdistill.build_bert(CONFIG), str(folder), Tokenizer.from_vocab(VOCAB))
    os.remove(folder / "model.safetensors")
    marker = tmp_path / "ran"
    for name in ("pytorch_model.bin", "weights.pkl"):
        (folder / name).write_bytes(_pickle_payload(marker))
    return folder, marker


def test_a_folder_with_only_pickles_is_refused_unread(pickled_folder):
    folder, marker = pickled_folder
    with pytest.raises(FileNotFoundError, match=r"No model\.safetensors .* has \['pytorch_model\.bin', "
                                                r"'weights\.pkl'\]: tfdistill never unpickles") as error:
        tfdistill.load_pretrained(str(folder))
    assert "safe_serialization=True" in str(error.value)
    assert not marker.exists()


def test_a_pickle_named_model_safetensors_is_refused(pickled_folder):
    folder, marker = pickled_folder
    shutil.copy(folder / "pytorch_model.bin", folder / "model.safetensors")
    with pytest.raises(ValueError, match="is not a readable safetensors file"):
        tfdistill.load_pretrained(str(folder))
    assert not marker.exists()


def test_export_script_refuses_a_pickled_model_and_writes_nothing(pickled_folder, tmp_path):
    folder, marker = pickled_folder
    out = tmp_path / "package"
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "export", "to_tflite.py"), f"--model={folder}",
         f"--output_dir={out}", "--seq_len=8"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 2, result.stderr[-2000:]
    assert "error: No model.safetensors" in result.stderr and "never unpickles" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and not marker.exists()


# ---------------------------------------------------------------------------------------------
# Keras h5 with a Lambda layer


@pytest.fixture
def lambda_h5(tmp_path):
    """A tf-keras h5 model whose Lambda layer creates `marker` each time the layer is called."""
    import tf_keras as keras

    marker = tmp_path / "ran"
    inputs = keras.Input((4,))
    touched = keras.layers.Lambda(lambda x, path=str(marker): (open(path, "w").close(), x)[1],
                                  name="payload")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(touched))
    path = tmp_path / "qat.h5"
    model.save(str(path), save_format="h5")
    os.remove(marker)  # building the model ran it once
    return path, marker


def test_the_lambda_payload_runs_when_keras_loads_the_h5_unsafely(lambda_h5):
    """The control: tf-keras' legacy h5 loader runs the stored bytecode unless told otherwise."""
    import tf_keras as keras

    path, marker = lambda_h5
    keras.models.load_model(str(path), compile=False)
    assert marker.exists()


def test_load_quantized_refuses_lambda_layers(lambda_h5):
    from tfdistill import compress
    from tfdistill.export.loading import load_classifier

    path, marker = lambda_h5
    for load in (compress.load_quantized, load_classifier):
        with pytest.raises(ValueError, match=r"holds Lambda layers \['payload'\]: loading them would run "
                                             r"Python code .* Rebuild the model from registered layers"):
            load(str(path))
    assert not marker.exists()


def test_keras_safe_mode_backs_up_the_lambda_check(lambda_h5, monkeypatch):
    """Even past tfdistill's own check, the load runs in Keras' safe mode."""
    from tfdistill.compress import quantization

    path, marker = lambda_h5
    monkeypatch.setattr(quantization, "_refuse_code_layers", lambda *args: None)
    with pytest.raises(ValueError, match="Lambda layer with a Python `lambda`"):
        quantization.load_quantized(str(path))
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------
# No eval


def test_config_strings_are_data_never_code(tmp_path, monkeypatch):
    """Loading runs with `eval`/`exec` disabled; a code-like field is refused as an unknown value."""
    marker = tmp_path / "ran"
    code = f"__import__('os').system('touch {marker}')"

    def forbidden(*args, **kwargs):
        raise AssertionError(f"eval/exec called while loading: {args[:1]}")

    folder = tmp_path / "model"
    tfdistill.save_pretrained(tfdistill.build_bert(CONFIG), str(folder), Tokenizer.from_vocab(VOCAB))
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    assert tfdistill.load_pretrained(str(folder)).bert_config.hidden_size == CONFIG.hidden_size
    assert Tokenizer.from_pretrained(str(folder)).vocab == VOCAB
    hf = json.loads((folder / "config.json").read_text())
    for field in ("hidden_act", "num_attention_heads", "model_type"):
        (folder / "config.json").write_text(json.dumps(dict(hf, **{field: code})))
        with pytest.raises(ValueError, match="config.json"):
            tfdistill.load_config(str(folder))
    for tokenizer_config, message in (({"do_lower_case": code}, "do_lower_case must be true or false"),
                                      ({"pad_token": code}, "lacks the special tokens pad_token=")):
        (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
        with pytest.raises(ValueError, match=message):
            Tokenizer.from_pretrained(str(folder))
    assert not marker.exists()


# Calls and imports that would run code from data.
_CODE_RUNNERS = {"eval", "exec", "compile", "__import__"}
_UNSAFE_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "joblib", "marshal", "shelve", "torch"}


def test_the_library_and_scripts_never_eval_or_unpickle():
    offenders = []
    for top in ("tfdistill", "recipes", "export"):
        for folder, _, names in os.walk(os.path.join(ROOT, top)):
            for name in names:
                if not name.endswith(".py") or name.endswith("_test.py"):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    tree = ast.parse(f.read(), path)
                for node in ast.walk(tree):
                    where = f"{os.path.relpath(path, ROOT)}:{getattr(node, 'lineno', '?')}"
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CODE_RUNNERS:
                        offenders.append(f"{where} calls {node.func.id}()")
                    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                            node.func.attr in ("load_model", "model_from_json", "model_from_config")):
                        offenders.append(f"{where} calls {node.func.attr}()")
                    elif isinstance(node, (ast.Import, ast.ImportFrom)):
                        modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [
                            node.module or ""]
                        offenders += [f"{where} imports {m}" for m in modules if m.split(".")[0] in _UNSAFE_MODULES]
                    elif isinstance(node, ast.keyword) and node.arg in ("allow_pickle", "safe_mode") and (
                            isinstance(node.value, ast.Constant) and node.value.value is not None
                            and node.value.value is (node.arg == "allow_pickle")):
                        offenders.append(f"{where} passes {node.arg}={node.value.value}")
    # The one Keras load is the guarded one in load_quantized (Lambda check + safe mode); the test
    # harness's saving round trip (tfdistill/testing.py) reloads only the file it has just written.
    allowed = {"calls load_model()": ("tfdistill/compress/quantization.py", "tfdistill/testing.py")}
    offenders = [o for o in offenders
                 if not any(o.endswith(call) and o.startswith(paths) for call, paths in allowed.items())]
    assert offenders == []
