"""ONNX Runtime as the alternative runtime: convert a student with tf2onnx and time it.

Used by `bench/export_compare.py`; run as a script, it times one `.onnx` in a fresh process
without TensorFlow (`python bench/export_onnx.py MODEL SEQ_LEN VOCAB_SIZE NUM_RUNS WARMUP_RUNS`,
JSON on stdout).

tf2onnx 1.17 converts TF 2.21 graphs under numpy 2.4, except TF's exact GELU, which lowers to
`Erfc`, an op tf2onnx 1.17 cannot map ("Unsupported ops: Counter({'Erfc': 2})", then
onnxruntime rejects the graph). The ONNX graph therefore writes GELU with `erf`
(`0.5 x (1 + erf(x / sqrt 2))`, the same function; ORT fuses it back into one Gelu op).
"""

import json
import math
import os
import subprocess
import sys
import time

import numpy as np

OPSET = 17


def onnx_substitutes():
    """Returns the export substitutes plus exact GELU as `erf` (tf2onnx maps it to ONNX `Erf`)."""
    import tfdistill  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
    import tensorflow as tf
    import tf_keras as keras

    from tfdistill.export import rewrites
    from tfdistill.models.bert import bert_layers

    class ErfGelu(keras.layers.Layer):
        def call(self, inputs):
            return 0.5 * inputs * (1.0 + tf.math.erf(inputs / math.sqrt(2.0)))

    def erf_gelu(layer):
        return layer if layer.approximate else ErfGelu(name=layer.name)

    return {**rewrites.SUBSTITUTES, bert_layers.Gelu: erf_gelu}


def onnx_unavailable_reason():
    """Returns None when tf2onnx and onnxruntime import, else why they cannot be used."""
    try:
        import onnxruntime  # noqa: F401
        import tf2onnx  # noqa: F401
    except Exception as error:  # any import-time failure means: skip the column, say why
        return f"tf2onnx/onnxruntime do not import here ({type(error).__name__}: {error})"
    return None


def export_onnx(model, seq_len, folder):
    """Writes `model_fp32.onnx` and `model_int8.onnx` (ORT dynamic int8) for a student.

    Args:
        model: a tfdistill BERT classifier.
        seq_len: int.
        folder: str, created if needed.

    Returns:
        dict mode -> path (`"float32"`, `"dynamic"`).
    """
    import tensorflow as tf
    import tf2onnx
    from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic

    from tfdistill.export.rewrites import export_graph
    from tfdistill.export.signature import INPUT_NAMES, serving_function

    os.makedirs(folder, exist_ok=True)
    function = serving_function(export_graph(model, onnx_substitutes()), seq_len,
                                with_probabilities=False)
    specs = [tf.TensorSpec([1, seq_len], tf.int32, name=name) for name in INPUT_NAMES]

    @tf.function(input_signature=specs)
    def positional(input_ids, attention_mask, token_type_ids):
        return function(input_ids=input_ids, attention_mask=attention_mask,
                        token_type_ids=token_type_ids)

    paths = {"float32": os.path.join(folder, "model_fp32.onnx"),
             "dynamic": os.path.join(folder, "model_int8.onnx")}
    tf2onnx.convert.from_function(positional, input_signature=specs, opset=OPSET,
                                  output_path=paths["float32"])
    prepared = os.path.join(folder, "model_fp32_prepared.onnx")  # ORT's recommended pre-pass
    quant_pre_process(paths["float32"], prepared, skip_symbolic_shape=True)  # static shapes already
    quantize_dynamic(prepared, paths["dynamic"], weight_type=QuantType.QInt8)
    return paths


def session(path, threads=1):
    """Opens an ORT CPU session with `threads` intra-op threads and full graph optimisation."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def onnx_logits(path, features):
    """Returns ORT logits `[n, num_labels]` for `[n, seq_len]` features, one example a run."""
    sess = session(path)
    names = [i.name for i in sess.get_inputs()]
    return np.concatenate([sess.run(None, {n: features[n][i:i + 1] for n in names})[0]
                           for i in range(len(features["input_ids"]))])


def time_onnx(path, seq_len, vocab_size, num_runs=100, warmup_runs=10, threads=1, seed=0):
    """Returns `{p50_us, avg_us, min_us}` of single-example ORT runs, measured in this process.

    The inputs match `tfdistill.export.benchmark.example_inputs`: random ids, full attention.
    """
    rng = np.random.default_rng(seed)
    shape = (1, seq_len)
    inputs = {"input_ids": rng.integers(1, vocab_size, shape, dtype=np.int32),
              "attention_mask": np.ones(shape, np.int32), "token_type_ids": np.zeros(shape, np.int32)}
    sess = session(path, threads)
    feed = {i.name: inputs[i.name] for i in sess.get_inputs()}
    for _ in range(warmup_runs):
        sess.run(None, feed)
    times = []
    for _ in range(num_runs):
        start = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - start) * 1e6)
    return {"p50_us": float(np.percentile(times, 50)), "avg_us": float(np.mean(times)),
            "min_us": float(np.min(times))}


def time_onnx_in_subprocess(path, seq_len, vocab_size, num_runs=100, warmup_runs=10):
    """Runs `time_onnx` in a fresh Python (as the TFLite benchmark runs each model), no TF loaded."""
    command = [sys.executable, os.path.abspath(__file__), path, str(seq_len), str(vocab_size),
               str(num_runs), str(warmup_runs)]
    process = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if process.returncode != 0:
        raise RuntimeError(f"ORT timing failed for {path}:\n{process.stderr[-2000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    model_path, seq, vocab, runs, warmup = sys.argv[1:6]
    print(json.dumps(time_onnx(model_path, int(seq), int(vocab), int(runs), int(warmup))))
