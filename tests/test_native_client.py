"""The native LiteRT client (android_demo/native/litert_client.c) against the Python interpreter.

The client is compiled with gcc against the libLiteRt.so of the ai-edge-litert wheel (CompiledModel
C API). A tiny model with the student's interface (int32 `input_ids`, `attention_mask`,
`token_type_ids` of shape [1, 16] -> float `logits`) is converted with TFLite, run through the C
client and through `ai_edge_litert.interpreter.Interpreter`, and the logits must agree.
"""

import importlib.metadata
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENT_SOURCE = os.path.join(ROOT, "android_demo", "native", "litert_client.c")
SEQ_LEN = 16
VOCAB_SIZE = 50
NUM_LABELS = 3
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
TOLERANCE = 1e-5


def _litert_library_dir():
    dist = importlib.metadata.distribution("ai-edge-litert")
    library = next((f for f in dist.files if f.name == "libLiteRt.so"), None)
    if library is None:
        pytest.fail(f"ai-edge-litert {dist.version} ships no libLiteRt.so; the C client needs it.")
    return os.path.dirname(os.path.abspath(str(dist.locate_file(library))))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed; the native client cannot be compiled here.")
    library_dir = _litert_library_dir()
    binary = str(tmp_path_factory.mktemp("native") / "litert_client")
    subprocess.run(
        ["gcc", "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", binary, CLIENT_SOURCE,
         f"-L{library_dir}", "-l:libLiteRt.so", f"-Wl,-rpath,{library_dir}"],
        check=True, capture_output=True, text=True)
    return binary


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A .tflite with the student's signature: embeddings, masked mean pooling, a dense head."""
    import tfdistill  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)
    import tensorflow as tf

    class TinyClassifier(tf.Module):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.words = tf.Variable(rng.normal(size=(VOCAB_SIZE, 8)).astype("float32"))
            self.types = tf.Variable(rng.normal(size=(2, 8)).astype("float32"))
            self.kernel = tf.Variable(rng.normal(size=(8, NUM_LABELS)).astype("float32"))
            self.bias = tf.Variable(rng.normal(size=(NUM_LABELS,)).astype("float32"))

        @tf.function(input_signature=[tf.TensorSpec([1, SEQ_LEN], tf.int32, name=name)
                                      for name in INPUT_NAMES])
        def __call__(self, input_ids, attention_mask, token_type_ids):
            hidden = tf.tanh(tf.gather(self.words, input_ids)
                             + tf.gather(self.types, token_type_ids))
            mask = tf.cast(attention_mask, tf.float32)[..., None]
            count = tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)
            pooled = tf.reduce_sum(hidden * mask, axis=1) / count
            return {"logits": tf.matmul(pooled, self.kernel) + self.bias}

    module = TinyClassifier()
    # Passing the module keeps its variables; without it the weights would be dropped.
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [module.__call__.get_concrete_function()], module)
    path = tmp_path_factory.mktemp("model") / "tiny.tflite"
    path.write_bytes(converter.convert())
    return str(path)


def _example_inputs(seed):
    rng = np.random.default_rng(seed)
    input_ids = rng.integers(0, VOCAB_SIZE, size=(1, SEQ_LEN), dtype=np.int32)
    length = int(rng.integers(3, SEQ_LEN))
    attention_mask = (np.arange(SEQ_LEN) < length).astype(np.int32)[None]
    token_type_ids = ((np.arange(SEQ_LEN) >= length // 2) & (attention_mask[0] == 1))
    return {"input_ids": input_ids, "attention_mask": attention_mask,
            "token_type_ids": token_type_ids.astype(np.int32)[None]}


def _python_logits(model_path, inputs):
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=model_path).get_signature_runner("serving_default")
    return runner(**inputs)["logits"].ravel()


def _run_client(client, model_path, inputs, names=INPUT_NAMES, flags=(), tmp_path=None):
    """Runs the C client on `inputs` written in the order of `names` (stdin if no tmp_path)."""
    data = np.concatenate([inputs[name].ravel() for name in names]).astype("<i4").tobytes()
    args = [client, model_path, f"--input_names={','.join(names)}", *flags]
    if tmp_path is None:
        args.append("--input=-")
        stdin = data
    else:
        input_path = tmp_path / "inputs.bin"
        input_path.write_bytes(data)
        args.append(f"--input={input_path}")
        stdin = None
    return subprocess.run(args, input=stdin, capture_output=True, timeout=60)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_c_client_logits_match_the_python_interpreter(client, tiny_model, tmp_path, seed):
    inputs = _example_inputs(seed)
    result = _run_client(client, tiny_model, inputs, flags=("--runs=5", "--warmup=2"),
                         tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    np.testing.assert_allclose(report["outputs"]["logits"], _python_logits(tiny_model, inputs),
                               rtol=0, atol=TOLERANCE)
    assert report["signature"] == "serving_default"
    assert report["runs"] == 5 and report["warmup_runs"] == 2
    latency = report["latency_ms"]
    assert 0 < latency["min"] <= latency["median"] <= latency["max"]
    assert report["init_ms"] > 0 and report["first_inference_ms"] > 0


def test_c_client_binds_inputs_by_name_from_stdin(client, tiny_model):
    inputs = _example_inputs(4)
    # The reverse of the signature's (alphabetical) order: a positional binding would mix them up.
    names = ("token_type_ids", "input_ids", "attention_mask")
    result = _run_client(client, tiny_model, inputs, names)
    assert result.returncode == 0, result.stderr.decode()
    np.testing.assert_allclose(json.loads(result.stdout)["outputs"]["logits"],
                               _python_logits(tiny_model, inputs), rtol=0, atol=TOLERANCE)


def test_c_client_rejects_unknown_inputs_and_short_files(client, tiny_model, tmp_path):
    inputs = _example_inputs(5)
    unknown = _run_client(client, tiny_model, {"pixels": inputs["input_ids"]}, ("pixels",),
                          tmp_path=tmp_path)
    assert unknown.returncode == 2
    assert b"no input named pixels" in unknown.stderr
    short = subprocess.run([client, tiny_model, "--input=-"], input=b"\x01\x00\x00\x00",
                           capture_output=True, timeout=60)
    assert short.returncode == 2
    assert b"ends before all values of input_ids" in short.stderr
    missing = subprocess.run([client, str(tmp_path / "absent.tflite")], capture_output=True,
                             timeout=60)
    assert missing.returncode != 0
    assert b"LiteRtCreateModelFromFile" in missing.stderr
