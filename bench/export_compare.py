"""Teacher fp32 vs students in every TFLite mode vs ONNX Runtime vs this CPU's GEMM peak.

In one run on one machine, at --seq_len (64) and one thread:
- the teacher (the shipped all-MiniLM-L6-v2 with a 2-class head; the head is random unless
  --teacher names a fine-tuned folder) exported as fp32 `.tflite`;
- each student in float32, float16, dynamic and int8 (XNNPACK scope), each of these two quantized
  both ways (`/aeq`: ai-edge-quantizer from the recipe files, the default; `/conv`: TF's
  converter with its denylist and hand edits, the route before issue 13), and int8 (full scope):
  size, agreement with Keras (with XNNPACK, as exported, and `agree_ref` with the reference
  kernels only), XNNPACK partitions and ops outside, accuracy on the test split when --student is
  a trained folder (else random 4x384 and 4x192 students: latency and size only). A variant
  below the export's agreement bar (`MIN_AGREEMENT`) is kept and marked `REFUSED` (the export
  would refuse it); one that fails to convert is listed with its error; the others go on;
- the same students through ONNX Runtime (tf2onnx fp32, ORT dynamic int8);
- single-thread numpy GEMM FLOP/s against each student's achieved FLOP/s (analytic FLOPs).

Timing: every model is exported first; then --rounds rounds each time every model once, in a
fresh subprocess (TFLite through `tfdistill.export.benchmark`, ORT through
`bench/export_onnx.py`), so load from other processes on the machine hits all models alike.
A model's latency is the median over rounds of its per-round p50; the spread is shown.

Example:
    python bench/export_compare.py
    python bench/export_compare.py --student=runs/student --json_output=runs/export_compare.json
    python bench/export_compare.py --student=runs/demo/distill/model --noonnx --nogemm
"""

import os
import statistics
import sys

from absl import app, flags

from tfdistill.cli.script import run_or_exit

flags.DEFINE_string("student", None, "Trained student folder (adds test accuracy); default: "
                    "random 4x384, 4x384 with 6 heads of 32 and FFN 384, and 4x192 students.")
flags.DEFINE_string("teacher", None, "Teacher folder (default: the shipped MiniLM, random head).")
flags.DEFINE_integer("seq_len", 64, "Sequence length.")
flags.DEFINE_integer("num_runs", 40, "Timed runs per model and round.")
flags.DEFINE_integer("rounds", 5, "Interleaved timing rounds.")
flags.DEFINE_integer("num_validation", 200, "Validation examples per export.")
flags.DEFINE_string("work_dir", "runs/bench/export_compare", "Where the packages are written.")
flags.DEFINE_string("json_output", None, "Also write every figure as JSON.")
flags.DEFINE_bool("onnx", True, "Add the ONNX Runtime rows (tf2onnx).")
flags.DEFINE_bool("gemm", True, "Time numpy's GEMM as the FLOP/s reference.")
FLAGS = flags.FLAGS

# (mode, int8_scope, quantizer); see `tfdistill.export.converter`.
AEQ, CONVERTER = "ai-edge-quantizer", "converter"
TFLITE_MODES = (("float32", "xnnpack", AEQ), ("float16", "xnnpack", AEQ),
                ("dynamic", "xnnpack", AEQ), ("dynamic", "xnnpack", CONVERTER),
                ("int8", "xnnpack", AEQ), ("int8", "xnnpack", CONVERTER), ("int8", "full", CONVERTER))
RANDOM_STUDENTS = {"student_4x384": dict(hidden_size=384, num_layers=4, num_heads=6,
                                         intermediate_size=1536),
                   # The pipeline's default: 6 of the teacher's 12 heads of 32, 384 of its 1536 units.
                   "student_4x384_h6_ffn384": dict(hidden_size=384, num_layers=4, num_heads=6,
                                                   attention_head_size=32, intermediate_size=384),
                   "student_4x192": dict(hidden_size=192, num_layers=4, num_heads=3,
                                         intermediate_size=768)}


def students(values, tokenizer):
    """Yields `(name, model, trained)`: the --student folder, else the random students."""
    import tf_keras as keras

    import tfdistill

    if values.student:
        name = os.path.basename(os.path.normpath(values.student))
        yield name, tfdistill.load_pretrained(values.student), True
        return
    for name, shape in RANDOM_STUDENTS.items():
        keras.utils.set_random_seed(0)
        config = tfdistill.BertConfig(vocab_size=tokenizer.vocab_size, num_labels=2,
                                      label_names=("negative", "positive"), **shape)
        yield name, tfdistill.build_bert(config, name=name), False


def mode_label(mode, scope, quantizer):
    """Returns the table's name of a variant, e.g. `int8/aeq`, `dynamic/conv`, `int8-full`.

    Example:
    >>> mode_label("int8", "xnnpack", "converter"), mode_label("int8", "full", "converter")
    ('int8/conv', 'int8-full')
    """
    from tfdistill.export.modes import RECIPE_MODES

    if mode == "int8" and scope != "xnnpack":
        return f"{mode}-{scope}"
    if mode in RECIPE_MODES:
        return f"{mode}/{'aeq' if quantizer == AEQ else 'conv'}"
    return mode


def tflite_entry(name, model, variant, data, tokenizer, values, trained):
    """Exports one model in one variant; returns its row (latency filled in later).

    Every variant is written (`force`), and one below the export's agreement bar is marked
    `refused`; a variant that fails to convert gets a row with its `error` and no path.
    """
    from tfdistill.export import MIN_AGREEMENT, bert_flops, export_tflite

    mode, scope, quantizer = variant
    label = mode_label(mode, scope, quantizer)
    row = {"model": name, "runtime": "tflite", "mode": label, "path": None, "size_mb": None,
           "agreement": None, "agreement_ref": None, "max_diff": None, "partitions": None,
           "outside": None, "accuracy": None, "refused": None, "error": None,
           "flops": bert_flops(model.bert_config, values.seq_len)}
    try:
        result = export_tflite(
            model, os.path.join(values.work_dir, f"{name}_{label.replace('/', '_')}"), mode,
            values.seq_len, tokenizer, data.train, data.validation, data.test if trained else None,
            force=True, num_validation=values.num_validation, int8_scope=scope, source=name,
            quantizer=quantizer)
    except Exception as error:  # record it and go on with the other variants
        print(f"{name} {label}: export failed ({type(error).__name__}: {error})", flush=True)
        return dict(row, error=f"{type(error).__name__}: {error}")
    card = result.card
    agreement = card["validation"]["agreement"]
    row.update(path=result.tflite_path, size_mb=card["size_bytes"] / 1e6, agreement=agreement,
               max_diff=card["validation"]["max_abs_logit_diff"],
               partitions=card["xnnpack"]["xnnpack_partitions"],
               outside=card["xnnpack"]["ops_outside_xnnpack"], accuracy=card["accuracy"],
               refused=agreement < MIN_AGREEMENT[mode],
               agreement_ref=reference_kernel_agreement(model, result.tflite_path, data, tokenizer,
                                                        values))
    print(f"{name} {label}: agreement {agreement:.4f} (reference kernels "
          f"{row['agreement_ref']:.4f}){' REFUSED' if row['refused'] else ''}", flush=True)
    return row


def reference_kernel_agreement(model, path, data, tokenizer, values):
    """Agreement with Keras of a `.tflite` run without XNNPACK (LiteRT's reference kernels).

    The same validation examples as the export's check (`export_tflite`'s sampling, seed 0).
    """
    from tfdistill.export import TFLiteClassifier
    from tfdistill.export.features import encode_split
    from tfdistill.export.validation import Agreement, keras_logits

    features, _ = encode_split(data.validation, tokenizer, values.seq_len, values.num_validation, 0,
                               what="validation_split")
    candidate = TFLiteClassifier(path, xnnpack=False).predict_logits(features)
    return Agreement.of(keras_logits(model, features), candidate).agreement


def onnx_entries(name, model, data, tokenizer, values):
    """Converts a student with tf2onnx (fp32, ORT dynamic int8); [] (reason printed) if impossible."""
    import export_onnx  # bench/ sibling

    from tfdistill.export import bert_flops
    from tfdistill.export.features import encode_split
    from tfdistill.export.validation import Agreement, keras_logits

    reason = export_onnx.onnx_unavailable_reason()
    if reason:
        print(f"ONNX Runtime column skipped: {reason}")
        return []
    try:
        paths = export_onnx.export_onnx(model, values.seq_len, os.path.join(values.work_dir, f"{name}_onnx"))
    except Exception as error:  # report the converter's reason, keep the TFLite figures
        print(f"ONNX Runtime column skipped for {name}: tf2onnx failed ({type(error).__name__}: {error})")
        return []
    features, _ = encode_split(data.validation, tokenizer, values.seq_len, values.num_validation)
    reference = keras_logits(model, features)
    entries = []
    for mode, path in paths.items():
        agreement = Agreement.of(reference, export_onnx.onnx_logits(path, features))
        entries.append({"model": name, "runtime": "onnxruntime", "mode": mode, "path": path,
                        "size_mb": os.path.getsize(path) / 1e6, "agreement": agreement.agreement,
                        "max_diff": agreement.max_abs_logit_diff, "partitions": None,
                        "outside": None, "accuracy": None, "agreement_ref": None,
                        "refused": None, "error": None,
                        "flops": bert_flops(model.bert_config, values.seq_len)})
    return entries


def time_rounds(entries, values, vocab_size):
    """Times every entry with a model (and the GEMMs, with --gemm) once per round, interleaved.

    Sets each timed entry's `p50_us` (median of its round p50s) and `gflops_per_s`; returns the
    GEMM figures (`blas`, and per shape `best`/`median` FLOP/s), or None without --gemm.
    """
    import export_onnx  # bench/ sibling

    from tfdistill.export import benchmark_tflite

    gemm = {}
    timed = [entry for entry in entries if entry["path"]]
    for entry in entries:
        entry.update(round_p50_us=[], p50_us=None, gflops_per_s=None)
    for round_index in range(values.rounds):
        if values.gemm:
            time_gemm_round(gemm)
        for entry in timed:
            if entry["runtime"] == "tflite":
                p50 = benchmark_tflite(entry["path"], threads=(1,), xnnpack=(True,),
                                       num_runs=values.num_runs, warmup_runs=10)[0].p50_us
            else:
                p50 = export_onnx.time_onnx_in_subprocess(entry["path"], values.seq_len, vocab_size,
                                                          values.num_runs)["p50_us"]
            entry["round_p50_us"].append(p50)
        print(f"timing round {round_index + 1}/{values.rounds} done", flush=True)
    for entry in timed:
        entry["p50_us"] = statistics.median(entry["round_p50_us"])
        entry["gflops_per_s"] = entry["flops"] / entry["p50_us"] / 1e3
    return finish_gemm(gemm) if values.gemm else None


def format_rows(rows):
    """Formats the comparison table."""
    from tfdistill.export.table import text_table

    def cell(key, fmt):
        return lambda r: "-" if r.get(key) is None else format(r[key], fmt)

    def spread(r):
        rounds = r["round_p50_us"]
        return f"{min(rounds):.0f}-{max(rounds):.0f}" if rounds else "-"

    def status(r):
        return "error" if r.get("error") else "REFUSED" if r.get("refused") else "ok"

    columns = [("model", 14, lambda r: r["model"]), ("runtime", 11, lambda r: r["runtime"]),
               ("mode", 13, lambda r: r["mode"]), ("size_MB", 8, cell("size_mb", ".2f")),
               ("p50_us", 8, cell("p50_us", ".0f")), ("rounds_us", 13, spread),
               ("agree", 6, cell("agreement", ".3f")), ("agree_ref", 9, cell("agreement_ref", ".3f")),
               ("max_diff", 9, cell("max_diff", ".3g")), ("status", 7, status),
               ("parts", 5, cell("partitions", "d")), ("outside", 7, cell("outside", "d")),
               ("acc", 6, cell("accuracy", ".4f")), ("GFLOP/s", 8, cell("gflops_per_s", ".1f"))]
    return text_table(rows, columns)


def summary(rows, gemm):
    """Returns the target ratios: student vs teacher, quantizer routes, TFLite vs ORT, GEMM."""
    timed = [r for r in rows if r["p50_us"] is not None]
    teacher = next(r for r in timed if r["model"] == "teacher")
    lines = gemm_lines(teacher, gemm)
    for name in sorted({r["model"] for r in timed} - {"teacher"}):
        own = [r for r in timed if r["model"] == name]
        tflite = {r["mode"]: r for r in own if r["runtime"] == "tflite"}
        best = min(tflite.values(), key=lambda r: r["p50_us"])
        lines.append(f"{name}: best TFLite mode {best['mode']} {best['p50_us']:.0f} us vs teacher "
                     f"fp32 {teacher['p50_us']:.0f} us -> {teacher['p50_us'] / best['p50_us']:.1f}x "
                     "faster.")
        if gemm and "float32" in tflite:
            fp32, peak = tflite["float32"], gemm["square"]["median"]
            lines.append(f"  fp32 {fp32['gflops_per_s']:.1f} GFLOP/s = "
                         f"{fp32['gflops_per_s'] * 1e9 / peak:.0%} of the GEMM median; {best['mode']} "
                         f"{best['gflops_per_s']:.1f} effective GFLOP/s.")
        lines += route_lines(tflite)
        for r in own:
            mine = tflite.get("float32" if r["mode"] == "float32" else "dynamic/aeq")
            if r["runtime"] == "onnxruntime" and mine:
                lines.append(f"  {r['mode']}: TFLite {mine['p50_us']:.0f} us vs ONNX Runtime "
                             f"{r['p50_us']:.0f} us (ORT / TFLite = {r['p50_us'] / mine['p50_us']:.2f}).")
    return "\n".join(lines)


def route_lines(tflite):
    """One line per mode quantized both ways: ai-edge-quantizer vs the converter route."""
    lines = []
    for mode in ("dynamic", "int8"):
        new, old = tflite.get(f"{mode}/aeq"), tflite.get(f"{mode}/conv")
        if not (new and old):
            continue
        accuracy = ("" if new["accuracy"] is None else
                    f", test accuracy {new['accuracy']:.4f} vs {old['accuracy']:.4f}")
        lines.append(f"  {mode}: ai-edge-quantizer vs converter route: agreement "
                     f"{new['agreement']:.3f} vs {old['agreement']:.3f}{accuracy}, partitions "
                     f"{new['partitions']} vs {old['partitions']}, p50 {new['p50_us']:.0f} vs "
                     f"{old['p50_us']:.0f} us ({new['p50_us'] / old['p50_us']:.2f}x), "
                     f"{new['size_mb']:.2f} vs {old['size_mb']:.2f} MB.")
    return lines


def gemm_lines(teacher, gemm):
    """The GEMM reference lines (none without --gemm)."""
    if not gemm:
        return []
    peak = gemm["square"]["median"]
    return [f"Single-thread numpy GEMM ({gemm['blas']}), median (best): "
            f"{peak / 1e9:.1f} ({gemm['square']['best'] / 1e9:.1f}) GFLOP/s at 1024^3, "
            f"{gemm['shaped']['median'] / 1e9:.1f} ({gemm['shaped']['best'] / 1e9:.1f}) GFLOP/s "
            "at 64x384x1536 (a 4x384 student's FFN GEMM at seq 64).",
            f"teacher fp32: {teacher['p50_us']:.0f} us, {teacher['gflops_per_s']:.1f} GFLOP/s = "
            f"{teacher['gflops_per_s'] * 1e9 / peak:.0%} of the GEMM median."]


GEMM_SHAPES = {"square": (1024, 1024, 1024), "shaped": (64, 384, 1536)}


def time_gemm_round(gemm):
    """Measures every GEMM shape once (fresh subprocesses); appends to `gemm[key]["rounds"]`."""
    import export_gemm  # bench/ sibling

    for key, shape in GEMM_SHAPES.items():
        measured = export_gemm.gemm_in_subprocess(*shape)
        gemm["blas"] = measured["blas"]
        gemm.setdefault(key, {"rounds": []})["rounds"].append(measured["flops_per_s"])


def finish_gemm(gemm):
    """Sets each GEMM shape's `best` and `median` FLOP/s over the rounds."""
    for key in GEMM_SHAPES:
        gemm[key].update(best=max(gemm[key]["rounds"]), median=statistics.median(gemm[key]["rounds"]))
    return gemm


def run(values):
    """Exports, times, prints the table and the summary; returns the rows."""
    import tfdistill
    from tfdistill.utils import atomic

    data = tfdistill.datasets.load("rotten_tomatoes")
    teacher_path = values.teacher or tfdistill.default_teacher_path()
    tokenizer = tfdistill.Tokenizer.from_pretrained(teacher_path)
    teacher = tfdistill.load_pretrained(teacher_path, num_labels=2)
    rows = [tflite_entry("teacher", teacher, ("float32", "xnnpack", AEQ), data, tokenizer, values,
                         trained=bool(values.teacher))]
    for name, model, trained in students(values, tokenizer):
        rows += [tflite_entry(name, model, variant, data, tokenizer, values, trained)
                 for variant in TFLITE_MODES]
        rows += onnx_entries(name, model, data, tokenizer, values) if values.onnx else []
    gemm = time_rounds(rows, values, tokenizer.vocab_size)
    print(f"\nseq_len {values.seq_len}, 1 thread; p50 = median over {values.rounds} interleaved "
          f"rounds of {values.num_runs} runs\n{format_rows(rows)}\n\n{summary(rows, gemm)}")
    if values.json_output:
        atomic.write_json(values.json_output, {"rows": rows, "gemm": gemm, "seq_len": values.seq_len})
    return rows


def main(argv):
    del argv
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    run_or_exit(run, FLAGS)


if __name__ == "__main__":
    app.run(main)
