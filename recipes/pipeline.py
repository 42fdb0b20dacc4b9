"""One command from teacher to phone-ready student.

Stages: fine-tune the teacher (or take --teacher) -> distill -> prune -> QAT -> export every
mode -> evaluate each .tflite on the test split -> benchmark -> report. Each stage writes
--output_dir/<stage>/ with a manifest; re-running the same command skips finished stages, so a
killed run resumes where it stopped (--force_stages redoes some). --skip=prune,qat switches
those off. The report (report.md, report.json, pareto.png) lands in --output_dir.

Example:
    python recipes/pipeline.py --output_dir=runs/pipeline                  # the demo preset
    python recipes/pipeline.py --preset=full --output_dir=runs/pipeline_full
    python recipes/pipeline.py --train_file=tickets.csv --label_column=team --output_dir=runs/tickets
"""

import os
import shutil
import time

from absl import app, flags

import tfdistill
from tfdistill.cli import data_flags, distill_flags
from tfdistill.cli.output_dir import check_output_dir, input_paths
from tfdistill.cli.script import INPUT_ERRORS, run_or_exit

data_flags.define_data_flags()
distill_flags.define_distill_flags()
flags.DEFINE_enum("preset", "demo", ["demo", "full"], "demo: about 15 min on 2 cores; full: longer, more accurate. "
                  "Flags given explicitly override the preset.")
flags.DEFINE_string("teacher", None, "A fine-tuned teacher folder; skips fine-tuning.")
flags.DEFINE_string("base_model", None, "Folder fine-tuned into the teacher (default: the shipped MiniLM).")
flags.DEFINE_integer("max_length", 64, "Tokenized length; also the exported models' seq_len.")
flags.DEFINE_integer("teacher_epochs", 2, "Teacher fine-tuning epochs.")
flags.DEFINE_float("teacher_learning_rate", 5e-5, "Teacher AdamW peak learning rate.")
flags.DEFINE_integer("epochs", 2, "Distillation epochs.")
flags.DEFINE_float("learning_rate", 2e-4, "Distillation AdamW peak learning rate.")
flags.DEFINE_float("target_sparsity", 0.5, "Pruning target sparsity in (0, 1).")
flags.DEFINE_integer("prune_epochs", 1, "Pruning epochs (with teacher guidance).")
flags.DEFINE_integer("qat_epochs", 1, "Quantization-aware training epochs (with teacher guidance).")
flags.DEFINE_float("qat_learning_rate", 2e-5, "QAT AdamW peak learning rate.")
flags.DEFINE_enum("qat_source", "distill", ["distill", "prune"], "The student QAT starts from: the distilled one "
                  "(default: on Rotten Tomatoes QAT from the 53%-pruned student lost 1.5 points) or the pruned one "
                  "(its zeros kept: smaller gzip).")
flags.DEFINE_integer("calibration_steps", 20, "Batches that calibrate the QAT ranges before training.")
flags.DEFINE_integer("num_representative", 200, "Training examples that calibrate the int8 exports.")
flags.DEFINE_integer("benchmark_threads", 1, "Threads for the latency benchmark.")
flags.DEFINE_integer("benchmark_runs", 50, "Timed runs per model.")
flags.DEFINE_list("skip", [], "Stages to switch off: prune, qat.")
flags.DEFINE_list("force_stages", [], "Stages to redo even if finished.")
flags.DEFINE_enum("mixed_precision", "auto", ["auto", "bfloat16", "float32"],
                  "auto: teacher fine-tuning and the frozen teacher's passes in mixed bfloat16 where the CPU "
                  "has bfloat16 units (AVX512_BF16, AMX), distilled, pruned and QAT students in float32; "
                  "bfloat16: the distilled student too; float32: nothing. Every saved model is float32.")
flags.DEFINE_bool("cache_teacher_outputs", True, "When every loss term reads only the teacher's logits, compute "
                  "them once per split (shared by the distill, prune and qat stages) instead of a teacher "
                  "forward pass per step (same batches, same order).")
flags.DEFINE_string("output_dir", None, "Run folder: one sub-folder per stage and the report.")
flags.DEFINE_bool("overwrite", False, "Discard an earlier tfdistill output at --output_dir and start "
                  "afresh (a pipeline run there is resumed without it; other folders are never replaced).")
flags.mark_flag_as_required("output_dir")
FLAGS = flags.FLAGS

# Values a preset gives to the flags the user did not set.
# The student: 4 of the teacher's 6 blocks, each keeping its 6 most important heads (of 12) and
# 384 feed-forward units (of 1536): 0.23x the teacher's non-embedding parameters. Logit KD and
# hard labels alone train it as well as with hidden-state and attention terms added (README).
STUDENT = {"student_layers": 4, "student_heads": 6, "student_intermediate": 384}
PRESETS = {
    "demo": {**STUDENT, "teacher_epochs": 2, "epochs": 2, "prune_epochs": 1, "qat_epochs": 1},
    "full": {**STUDENT, "teacher_epochs": 3, "epochs": 3, "augment": 1, "prune_epochs": 2, "qat_epochs": 2},
}


def apply_preset(values):
    for name, value in PRESETS[values.preset].items():
        if not values[name].present:
            values[name].value = value


def check_inputs(values):
    """Everything that can be checked before any training: fails early with a clear message."""
    from tfdistill.data.pipeline import check_max_length
    from tfdistill.pipeline.runner import check_skip, check_stage_names

    output_dir = check_run_folder(values)
    check_skip(values.skip)
    check_stage_names(values.force_stages, "--force_stages")
    terms = distill_flags.losses_from_flags(values)
    teacher_config = tfdistill.load_config(values.teacher or values.base_model or tfdistill.default_teacher_path())
    check_max_length(values.max_length, teacher_config.max_position_embeddings)
    if not 0 < values.target_sparsity < 1:
        raise ValueError(f"--target_sparsity={values.target_sparsity} must be in (0, 1).")
    check_student_shape(values, teacher_config, terms)
    return output_dir


def check_run_folder(values):
    """Accepts a new or empty folder, or an earlier pipeline run (resumed); any other tfdistill
    output only with --overwrite, which discards it once every other check has passed."""
    from tfdistill.utils import ownership

    output_dir = check_output_dir(values.output_dir, input_paths(values), overwrite=True)
    marker = ownership.read_marker(output_dir)
    if marker is not None and marker.get("kind") != "pipeline_run" and not values.overwrite:
        raise ValueError(f"--output_dir {output_dir} holds a tfdistill {marker.get('kind')} folder, not a pipeline "
                         "run; pass --overwrite to discard it, or choose a new folder.")
    return output_dir


def start_run_folder(values, output_dir):
    """Discards an earlier output (with --overwrite), then marks the folder as a pipeline run,
    so a killed run's folder is accepted when it resumes."""
    from tfdistill.utils import atomic, ownership

    if values.overwrite and ownership.read_marker(output_dir) is not None:
        shutil.rmtree(output_dir)
    ownership.claim(output_dir, "pipeline_run", bookkeeping=("pipeline.json",))
    atomic.write_json(os.path.join(output_dir, "pipeline.json"), {"flags": values.flag_values_dict()})


def set_training_speed(values):
    """Makes --mixed_precision and --cache_teacher_outputs the defaults of every stage's training."""
    from tfdistill.distill import teacher_cache
    from tfdistill.training import precision

    precision.set_default_mode(values.mixed_precision)
    teacher_cache.set_default_enabled(values.cache_teacher_outputs)


def check_student_shape(values, teacher_config, terms):
    """Builds the student's config and the loss terms against it, without any weights."""
    from tfdistill.distill import losses

    config = distill_flags.student_config_from_flags(teacher_config, values)
    spec = losses.bert_spec(config)
    teacher_spec = losses.bert_spec(teacher_config.replace(num_labels=config.num_labels))
    for term in terms:
        losses.get(term).build_for(spec, teacher_spec)


def run(values):
    from tfdistill.pipeline import report as report_lib
    from tfdistill.pipeline.context import PipelineContext
    from tfdistill.pipeline.runner import report_paths, run_stages

    start = time.perf_counter()
    apply_preset(values)
    output_dir = check_inputs(values)
    data = data_flags.load_data_from_flags(values)
    if values.teacher:  # every stage's class ids follow the teacher's id2label (mapped by name)
        from tfdistill.training.classifier import data_in_model_order

        data = data_in_model_order(tfdistill.load_config(values.teacher), data, "teacher", values.teacher)
    tokenizer_source = values.teacher or values.base_model or tfdistill.default_teacher_path()
    tokenizer = tfdistill.Tokenizer.from_pretrained(tokenizer_source)
    print(f"Pipeline ({values.preset} preset) on {data} -> {output_dir}", flush=True)
    start_run_folder(values, output_dir)
    set_training_speed(values)
    ctx = PipelineContext(values, data, tokenizer, output_dir,
                          values.base_model or tfdistill.default_teacher_path(), values.skip)
    stage_seconds = run_stages(ctx, values.force_stages)
    report = report_lib.build_report(ctx, stage_seconds, time.perf_counter() - start)
    paths = report_paths(output_dir)
    report_lib.write_report(report, paths)
    print(report_lib.markdown(report))
    print(f"Report: {paths['report.md']} ({paths['report.json']}, {paths['pareto.png']})")
    return report


def main(argv):
    del argv
    run_or_exit(run, FLAGS, INPUT_ERRORS + (TypeError,))


if __name__ == "__main__":
    app.run(main)
