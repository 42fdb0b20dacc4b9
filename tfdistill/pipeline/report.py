"""The pipeline report: `report.json`, `report.md` and `pareto.png` (accuracy vs latency)."""

import gzip
import math
import os
import platform

from tfdistill.pipeline import ladder
from tfdistill.pipeline.selection import choose_shipped
from tfdistill.utils import atomic

INT8_MODES = ("int8", "qat", "dynamic")


def machine():
    """CPU model and core count of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count()}


def _tflite_entry(ctx, name, package, evaluation, latency, stage_outputs):
    path = os.path.join(ctx.path("export", name), "model.tflite")
    data = open(path, "rb").read()
    stage = package["stage"]
    params = package.get("params", stage_outputs[stage].get("params"))  # runs before trimming recorded none
    return {"name": name, "stage": stage, "mode": package["mode"], "params": params,
            "accuracy": evaluation["accuracy"][name],
            "validation_accuracy": evaluation.get("validation_accuracy", {}).get(name), "tflite_size_bytes": len(data), "gzip_size_bytes": len(gzip.compress(data)),
            "sparsity": stage_outputs[stage].get("sparsity"), "vocab_size": package.get("vocab_size"),
            "latency_ms_p50": latency[name]["p50_ms"],
            "latency_ms_p90": latency[name]["p90_ms"], "threads": latency[name]["threads"]}


def _keras_entry(stage, outputs):
    return {"name": f"{stage}_keras", "stage": stage, "mode": "keras", "params": outputs.get("params"),
            "accuracy": outputs["accuracy"], "validation_accuracy": outputs.get("validation_accuracy"),
            "tflite_size_bytes": None, "gzip_size_bytes": None, "vocab_size": None,
            "sparsity": outputs.get("sparsity"), "latency_ms_p50": None, "latency_ms_p90": None, "threads": None}


def build_report(ctx, stage_seconds, wall_seconds):
    """Collects every stage's outputs, and the run config they came from, into the `report.json`
    structure."""
    stage_outputs = {stage: ctx.outputs(stage) for stage in stage_seconds if stage in ("teacher", "distill", "prune", "qat")}
    packages = ctx.outputs("export")["packages"]
    evaluation, latency = ctx.outputs("evaluate"), ctx.outputs("benchmark")["latency"]
    entries = [_tflite_entry(ctx, name, package, evaluation, latency, stage_outputs) for name, package in packages.items()]
    # The same packages' text_classifier.tflite through MediaPipe's TextClassifier (None: not MediaPipe-ready).
    mediapipe = ctx.outputs("evaluate").get("mediapipe") or {}
    for entry in entries:
        entry["mediapipe_accuracy"] = mediapipe.get("accuracy", {}).get(entry["name"])
    teacher_tflite = next(e for e in entries if e["stage"] == "teacher")
    teacher = dict(_keras_entry("teacher", stage_outputs["teacher"]), name="teacher",
                   latency_ms_p50=teacher_tflite["latency_ms_p50"], latency_ms_p90=teacher_tflite["latency_ms_p90"],
                   threads=teacher_tflite["threads"], tflite_size_bytes=teacher_tflite["tflite_size_bytes"],
                   gzip_size_bytes=teacher_tflite["gzip_size_bytes"], tflite_accuracy=teacher_tflite["accuracy"],
                   vocab_size=teacher_tflite["vocab_size"],
                   mediapipe_accuracy=teacher_tflite["mediapipe_accuracy"])
    students = [_keras_entry(stage, stage_outputs[stage]) for stage in ("distill", "prune", "qat") if stage in stage_outputs]
    students += [e for e in entries if e["stage"] != "teacher"]
    # Chosen on validation, reported on test: picking the best test score among several candidates
    # would overstate what the shipped model does on new data (`selection`: ties within noise).
    split_sizes = {name: len(split) for name, split in ctx.data.splits.items()}
    best, choice = choose_shipped([e for e in students if e["mode"] in INT8_MODES], split_sizes["validation"])
    return {
        "dataset": {"name": ctx.data.name, "num_classes": ctx.data.num_classes, **split_sizes},
        "machine": machine(), "wall_seconds": wall_seconds, "stage_seconds": stage_seconds,
        # A resumed run's wall time covers only what it redid; the stages' own times add up the whole.
        "total_stage_seconds": sum(stage_seconds.values()),
        "teacher": teacher, "students": students,
        "best_quantized_student": best and best["name"],
        "chosen_on": "validation accuracy",
        "choice": choice,
        "retention": best and best["accuracy"] / teacher["accuracy"],
        "latency_gain": best and teacher["latency_ms_p50"] / best["latency_ms_p50"],
        "refused_exports": ctx.outputs("export").get("refused", {}),
        "ladder": stage_outputs["distill"].get("ladder"),  # None: one student, no ladder
        "mediapipe": mediapipe,
        "config": ctx.config.to_dict(),  # the run.json this report measured
    }


def markdown(report):
    """The report as a Markdown page with one table."""
    lines = [f"# tfdistill pipeline report: {report['dataset']['name']}", "",
             f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores. "
             f"Stages took {report['total_stage_seconds'] / 60:.1f} min "
             f"(this invocation {report['wall_seconds'] / 60:.1f} min): " +
             ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in report["stage_seconds"].items()) + ".", "",
             "| model | stage | mode | validation accuracy | test accuracy | MediaPipe accuracy | p50 ms | p90 ms "
             "| .tflite MB | gzip MB | sparsity | params | vocab |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for entry in [report["teacher"], *report["students"]]:
        lines.append("| " + " | ".join([
            entry["name"], entry["stage"], entry["mode"], _fmt(entry.get("validation_accuracy"), ".4f"),
            f"{entry['accuracy']:.4f}",
            _fmt(entry.get("mediapipe_accuracy"), ".4f"), _fmt(entry["latency_ms_p50"], ".2f"),
            _fmt(entry["latency_ms_p90"], ".2f"), _fmt(entry["tflite_size_bytes"], ".2f", 1e-6),
            _fmt(entry["gzip_size_bytes"], ".2f", 1e-6), _fmt(entry["sparsity"], ".2f"),
            _fmt(entry["params"], ".2f", 1e-6) + ("M" if entry["params"] else ""),
            _fmt(entry.get("vocab_size"), ",.0f")]) + " |")
    lines += ["", _mediapipe_note(report.get("mediapipe") or {})]
    if report.get("ladder"):
        lines += ["", *ladder.markdown(report["ladder"])]
    for name, refusal in report.get("refused_exports", {}).items():
        lines += ["", f"Not exported: {name} ({refusal['reason']})"]
    if report["retention"] is not None:
        lines += ["", f"Shipped student (chosen on validation accuracy): {report['best_quantized_student']}, "
                      "test retention "
                      f"{report['retention']:.3f} of the teacher's accuracy, {report['latency_gain']:.1f}x faster than the "
                      f"fp32 teacher ({report['teacher']['threads']} thread, XNNPACK)."]
        choice = report.get("choice") or {}
        if choice.get("tied"):
            lines += ["", f"Tied on validation (within one standard error, {choice['standard_error']:.4f}, of the best "
                          f"{choice['best_validation_accuracy']:.4f}): {', '.join(choice['tied'])}; the rule: "
                          f"{choice['rule']}."]
    return "\n".join(lines) + "\n"


def _mediapipe_note(mediapipe):
    """One line on the MediaPipe column: what it measures, or why it is empty."""
    if "accuracy" not in mediapipe:
        return f"MediaPipe accuracy not measured: {mediapipe.get('skipped', 'the evaluate stage predates it')}."
    worst = max((mediapipe.get("max_abs_prob_diff_vs_litert") or {}).values(), default=None)
    agreement = ("" if worst is None else "; on the others its probabilities are " +
                 ("exactly LiteRT's" if worst == 0 else f"within {worst:.1e} of LiteRT's"))
    return (f"MediaPipe accuracy: each package's text_classifier.tflite through MediaPipe Tasks' TextClassifier, "
            f"which tokenizes itself: {_count_range(mediapipe)} of {mediapipe['examples']} test texts got other "
            f"token ids than tfdistill's tokenizer gives (MediaPipe keeps accents){agreement}.")


def _count_range(mediapipe):
    """How many texts MediaPipe tokenized differently: one count, or `low-high` over the packages'
    vocabularies (a trimmed student's and the teacher's)."""
    counts = set((mediapipe.get("tokenized_differently_by_package") or {}).values())
    if len(counts) > 1:
        return f"{min(counts)}-{max(counts)} (by vocabulary)"
    return str(mediapipe["tokenized_differently"])


def _fmt(value, spec, scale=1.0):
    return "-" if value is None else format(value * scale, spec)


def pareto_plot(report, path):
    """Accuracy vs p50 latency, marker area by file size; every `.tflite` plus the teacher."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401  (matplotlib.ticker.FuncFormatter)

    points = [report["teacher"]] + [e for e in report["students"] if e["latency_ms_p50"] is not None]
    colours = {"teacher": "black", "distill": "tab:blue", "prune": "tab:orange", "qat": "tab:green"}
    figure, axes = plt.subplots(figsize=(11, 5.5), dpi=120)
    largest = max(e["tflite_size_bytes"] for e in points)
    # Clustered points (the int8 students) make text labels collide: each marker carries a number
    # and a key beside the plot names it, with its figures.
    key, placed = [], []
    for number, entry in enumerate(sorted(points, key=lambda e: e["latency_ms_p50"]), start=1):
        size = 80 + 900 * entry["tflite_size_bytes"] / largest
        point = (entry["latency_ms_p50"], entry["accuracy"])
        axes.scatter(*point, s=size, alpha=0.55, color=colours[entry["stage"]], edgecolors="black", linewidths=0.5)
        # A point on top of an earlier one (fp16 next to fp32) gets its number beside it.
        stacked = sum(abs(math.log(point[0] / other[0])) < 0.05 and abs(point[1] - other[1]) < 0.003
                      for other in placed)
        placed.append(point)
        axes.annotate(str(number), point, textcoords="offset points", xytext=(16 * stacked, 14 * stacked),
                      ha="center", va="center", fontsize=8, fontweight="bold",
                      arrowprops={"arrowstyle": "-", "color": "grey", "linewidth": 0.5} if stacked else None)
        key.append(plt.Line2D([], [], marker=f"${number}$", linestyle="", color=colours[entry["stage"]],
                              label=f"{entry['name']}: {entry['accuracy']:.4f}, {entry['latency_ms_p50']:.2f} ms, "
                                    f"{entry['tflite_size_bytes'] / 1e6:.1f} MB"))
    figure.legend(handles=key, loc="center left", bbox_to_anchor=(0.71, 0.5), fontsize=8, title="model: accuracy, p50, size",
                  title_fontsize=8, frameon=False)
    accuracies = [e["accuracy"] for e in points]
    margin = max(0.02, (max(accuracies) - min(accuracies)) * 0.4)
    axes.set_ylim(min(accuracies) - margin, max(accuracies) + margin)
    axes.set_xscale("log")
    latencies = [e["latency_ms_p50"] for e in points]
    axes.set_xlim(min(latencies) / 1.4, max(latencies) * 1.4)
    formatter = matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}")
    axes.xaxis.set_major_formatter(formatter)
    axes.xaxis.set_minor_formatter(formatter)
    axes.set_xlabel(f"p50 latency, ms (log scale; {report['teacher']['threads']} thread, XNNPACK)")
    axes.set_ylabel("test accuracy (LiteRT interpreter)")
    axes.set_title(f"{report['dataset']['name']}: accuracy vs latency (marker area ~ .tflite size)")
    axes.grid(True, which="both", alpha=0.3)
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=c, label=s) for s, c in colours.items()]
    axes.legend(handles=handles, loc="lower right", fontsize=8)
    figure.tight_layout(rect=(0, 0, 0.71, 1))
    with atomic.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    plt.close(figure)


def write_report(report, paths):
    """Writes `report.json`, `report.md` and `pareto.png` atomically."""
    atomic.write_json(paths["report.json"], report)
    atomic.write_text(paths["report.md"], markdown(report))
    pareto_plot(report, paths["pareto.png"])
