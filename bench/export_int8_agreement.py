"""int8 / qat export variants of one trained student, side by side (issue #5).

For --model (a Hugging Face student folder, or a QAT `.h5` from `recipes/qat.py` with --tokenizer)
every variant is converted from one calibration (the export's own: --num_representative training
examples, seed 0, padded to --seq_len like real inputs) and measured in one run:
- agreement: argmax agreement with the Keras model on --num_validation validation examples
  (the export check: int8 and qat need >= 97%), and the max |logit diff|;
- test accuracy of the `.tflite` through the LiteRT interpreter;
- p50 latency, 1 thread, XNNPACK: the median over --rounds interleaved rounds (each variant once
  per round, a fresh `tfdistill.export.benchmark` subprocess) of each round's p50, so load from
  other processes hits all variants alike;
- XNNPACK partitions (`tfdistill.export.delegation`) and size.

Variants of a float student: float32 and dynamic (references), int8 through TF's converter as
before issue #5 (every FULLY_CONNECTED static int8), the same with --large_calibration examples,
int8 with the FCs fed by an activation (FFN output projection, classifier) kept float, int8 with
those FCs dynamic-range (the converter route of issue #5), and the int8 default since issue 13
(ai-edge-quantizer from `tfdistill/export/recipes/int8.json`, the same op treatment). Of a QAT
student: qat as before (converter output as is), with LayerNorm's MEAN in float, with
`converter.QAT_FLOAT_OPS` in float but every output requantized, the qat default (the same,
softmax not requantized: tfmot does not fake-quantize it), and its float copy
(`dequantized_copy`) quantized by the int8 recipe (ai-edge-quantizer, calibrated), compared with
the QAT model.

Example:
    python bench/export_int8_agreement.py --model=runs/demo/distill/model
    python bench/export_int8_agreement.py --model=runs/pipeline/qat/qat_model.h5 \
        --tokenizer=runs/pipeline/prune/model
"""

import os
import statistics

from absl import app, flags

from tfdistill.cli import data_flags
from tfdistill.cli.script import run_or_exit

flags.DEFINE_string("model", None, "Trained student: Hugging Face folder or QAT .h5.")
flags.DEFINE_string("tokenizer", None, "Tokenizer folder (default: the model's folder).")
flags.DEFINE_integer("seq_len", 64, "Sequence length.")
flags.DEFINE_integer("num_representative", 100, "Calibration examples (export_tflite's default).")
flags.DEFINE_integer("large_calibration", 1000, "Calibration examples of the 'more calibration' "
                     "int8 variant (0 skips it).")
flags.DEFINE_integer("num_validation", 300, "Validation examples (the export check's count).")
flags.DEFINE_integer("num_runs", 50, "Timed runs per variant and round.")
flags.DEFINE_integer("rounds", 3, "Interleaved timing rounds.")
flags.DEFINE_string("work_dir", "runs/bench/export_int8_agreement", "Where the .tflite files go.")
flags.DEFINE_string("json_output", None, "Also write the rows as JSON.")
data_flags.define_data_flags()
flags.mark_flags_as_required(["model"])
FLAGS = flags.FLAGS

# name -> (calibration, `converter.quantize_for_xnnpack` keywords); calibration "base" is
# --num_representative examples, "large" --large_calibration.
INT8_VARIANTS = {
    "int8 static (before #5)": ("base", {"activation_fed": "static"}),
    "int8 static, more calibration": ("large", {"activation_fed": "static"}),
    "int8 act-fed FCs float": ("base", {"activation_fed": "float"}),
    "int8 act-fed FCs dynamic (converter)": ("base", {"activation_fed": "dynamic"}),
}
QAT_VARIANTS = {
    "qat as converted (before #5)": ("base", {"float_ops": ()}),
    "qat + float LayerNorm MEAN": ("base", {"float_ops": ("MEAN",)}),
    "qat + float MEAN/BMM/SOFTMAX/GELU, requantized": ("base", {"unquantized_outputs": ()}),
    "qat + float MEAN/BMM/SOFTMAX/GELU (default)": ("base", {}),
}


def variants(model, is_qat, tokenizer, data, values):
    """Yields `(variant, flatbuffer)` for every variant of the model."""
    from tfdistill.export.converter import calibrate, convert, quantize_for_xnnpack
    from tfdistill.export.exporter import calibration_data
    from tfdistill.export.rewrites import export_graph
    from tfdistill.export.signature import serving_function

    serving_model = export_graph(model)
    function = serving_function(serving_model, values.seq_len)
    mode = "qat" if is_qat else "int8"
    if not is_qat:
        for float_mode in ("float32", "dynamic"):
            yield float_mode, convert(function, serving_model, float_mode)
    variants = QAT_VARIANTS if is_qat else INT8_VARIANTS
    calibrated = {}
    for name, (calibration, keywords) in variants.items():
        count = {"base": values.num_representative, "large": values.large_calibration}[calibration]
        if count <= 0:
            continue
        if count not in calibrated:
            representative = calibration_data(mode, data.train, tokenizer, values.seq_len, count)
            calibrated[count] = calibrate(function, serving_model, mode, representative)
        label = name if calibration == "base" else f"{name} ({count})"
        yield label, quantize_for_xnnpack(calibrated[count], mode, **keywords)
    yield from recipe_variant(model, is_qat, tokenizer, data, values)


def recipe_variant(model, is_qat, tokenizer, data, values):
    """Yields the int8 recipe's variant: of the model, or of a QAT model's float copy."""
    from tfdistill.compress.calibration import dequantized_copy
    from tfdistill.export.exporter import calibration_data, to_flatbuffer

    representative = calibration_data("int8", data.train, tokenizer, values.seq_len,
                                      values.num_representative)
    if is_qat:
        yield "qat float copy, int8 ai-edge-quantizer recipe", to_flatbuffer(
            dequantized_copy(model), "int8", values.seq_len, representative)
    else:
        yield "int8 ai-edge-quantizer recipe (default)", to_flatbuffer(
            model, "int8", values.seq_len, representative)


def measure(name, flatbuffer, reference, features, tokenizer, data, values):
    """Writes one variant and returns its row (latency filled in by `time_rounds`)."""
    from tfdistill.export.delegation import xnnpack_delegation
    from tfdistill.export.evaluate import evaluate_tflite
    from tfdistill.export.runtime import TFLiteClassifier
    from tfdistill.export.validation import Agreement
    from tfdistill.utils import atomic

    path = os.path.join(values.work_dir, "".join(c if c.isalnum() else "_" for c in name) + ".tflite")
    atomic.write_bytes(path, flatbuffer)
    agreement = Agreement.of(reference, TFLiteClassifier(flatbuffer).predict_logits(features))
    row = {"variant": name, "path": path, "size_mb": len(flatbuffer) / 1e6,
           "agreement": agreement.agreement, "max_diff": agreement.max_abs_logit_diff,
           "accuracy": evaluate_tflite(flatbuffer, tokenizer, data.test).accuracy,
           "partitions": xnnpack_delegation(flatbuffer).partitions}
    print(f"{name}: agreement {row['agreement']:.4f}, max |logit diff| {row['max_diff']:.3f}", flush=True)
    return row


def time_rounds(rows, values):
    """Sets each row's `p50_ms`: median over interleaved rounds of per-round p50s."""
    from tfdistill.export.benchmark import benchmark_tflite

    for row in rows:
        row["round_p50_ms"] = []
    for _ in range(values.rounds):
        for row in rows:
            (result,) = benchmark_tflite(row["path"], threads=(1,), xnnpack=(True,),
                                         num_runs=values.num_runs, warmup_runs=10)
            row["round_p50_ms"].append(result.p50_us / 1e3)
    for row in rows:
        row["p50_ms"] = statistics.median(row["round_p50_ms"])


def format_rows(rows):
    """Formats the table."""
    from tfdistill.export.table import text_table

    return text_table(rows, [
        ("variant", 44, lambda r: r["variant"]), ("agree", 6, lambda r: f"{r['agreement']:.3f}"),
        ("max|dlogit|", 11, lambda r: f"{r['max_diff']:.3f}"),
        ("test_acc", 8, lambda r: f"{r['accuracy']:.4f}"), ("p50_ms", 6, lambda r: f"{r['p50_ms']:.2f}"),
        ("rounds_ms", 11, lambda r: f"{min(r['round_p50_ms']):.2f}-{max(r['round_p50_ms']):.2f}"),
        ("parts", 5, lambda r: str(r["partitions"])), ("MB", 6, lambda r: f"{r['size_mb']:.2f}")])


def run(values):
    """Converts and measures every variant; prints and returns the rows."""
    import tfdistill
    from tfdistill.export.checks import check_seq_len, model_max_positions
    from tfdistill.export.features import encode_split
    from tfdistill.export.loading import load_classifier, tokenizer_folder
    from tfdistill.export.validation import keras_logits
    from tfdistill.utils import atomic

    tokenizer = tfdistill.Tokenizer.from_pretrained(tokenizer_folder(values.model, values.tokenizer))
    model = load_classifier(values.model)
    check_seq_len(values.seq_len, model_max_positions(model))
    is_qat = not os.path.isdir(values.model)
    data = data_flags.load_data_from_flags(values)
    features, _ = encode_split(data.validation, tokenizer, values.seq_len, values.num_validation,
                               what="validation split")
    reference = keras_logits(model, features)
    rows = [measure(name, flatbuffer, reference, features, tokenizer, data, values)
            for name, flatbuffer in variants(model, is_qat, tokenizer, data, values)]
    time_rounds(rows, values)
    print(f"\n{values.model}: seq_len {values.seq_len}, {values.num_representative} calibration "
          f"examples, agreement on {values.num_validation} validation examples, test accuracy on "
          f"{len(data.test)}; p50 = 1 thread, XNNPACK, median of {values.rounds} interleaved rounds "
          f"of {values.num_runs} runs\n{format_rows(rows)}")
    if values.json_output:
        atomic.write_json(values.json_output, {"model": values.model, "rows": rows})
    return rows


def main(argv):
    del argv
    run_or_exit(run, FLAGS)


if __name__ == "__main__":
    app.run(main)
