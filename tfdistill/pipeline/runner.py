"""`run_pipeline`: the stages in order, each skipped when its manifest matches its inputs."""

import os
import shutil
import time

from tfdistill.pipeline import manifest as manifest_lib
from tfdistill.pipeline.stages import ORDER, STAGES
from tfdistill.utils import atomic

# The flags each stage depends on; a stage also depends on every stage before it.
STAGE_FLAGS = {
    "teacher": ("dataset", "train_file", "validation_file", "test_file", "text_column", "label_column",
                "text_pair_column", "data_dir", "max_examples", "seed", "teacher", "base_model", "max_length",
                "teacher_epochs", "teacher_learning_rate", "mixed_precision"),
    "distill": ("student_layers", "student_hidden", "student_heads", "student_intermediate", "student_head_size",
                "importance_examples", "embedding_init",
                "logit_weight", "hard_weight", "hidden_weight", "embedding_weight", "attention_weight",
                "relation_weight", "cosine_weight", "temperature", "layer_map", "head_average", "augment",
                "intermediate_epochs", "epochs", "learning_rate"),
    "prune": ("target_sparsity", "prune_epochs"),
    "qat": ("qat_epochs", "qat_learning_rate", "calibration_steps", "qat_source"),
    "export": ("num_representative",),
    "evaluate": (),
    "benchmark": ("benchmark_threads", "benchmark_runs"),
}


def estimate_seconds(stage, ctx):
    """A rough duration for the banner, from the work a stage does (2-core CPU rates)."""
    values, steps = ctx.values, len(ctx.data.train) / 32
    per_stage = {
        "teacher": 0 if values.teacher else values.teacher_epochs * steps * 0.45,
        "distill": (values.epochs + values.intermediate_epochs) * steps * (1 + values.augment) * 0.3,
        "prune": values.prune_epochs * steps * 0.3,
        "qat": values.qat_epochs * steps * 0.6,
        "export": 90, "evaluate": 40, "benchmark": 40,
    }
    return per_stage[stage]


def run_stages(ctx, force_stages=()):
    """Runs (or skips) every stage that is switched on; returns `{stage: seconds}`.

    A stage that runs is seeded with `--seed` first, and trains with a backup in
    `<output_dir>/training_backup/<stage>-<inputs hash>` (`ctx.backup_dir`), deleted once the
    stage is published: a run killed inside a stage resumes at its last finished epoch.
    """
    import tf_keras as keras

    # The data's content, not only its file names, feeds the first stage (and so every later one):
    # a training file edited in place redoes the run instead of reusing stale stages.
    previous, stage_seconds = manifest_lib.data_fingerprint(ctx.data), {}
    for stage in ORDER:
        if not ctx.ran(stage):
            continue
        inputs = {"flags": {name: ctx.values[name].value for name in STAGE_FLAGS[stage]}, "previous": previous}
        inputs_hash = manifest_lib.fingerprint(inputs)
        final = ctx.final_dir(stage)
        ctx.backup_dir = os.path.join(ctx.output_dir, manifest_lib.BACKUP_FOLDER, f"{stage}-{inputs_hash}")
        earlier = manifest_lib.read_manifest(final)
        if stage not in force_stages and earlier is not None and earlier.get("inputs_hash") == inputs_hash:
            print(f"== {stage}: done earlier with the same inputs, skipped ({final})", flush=True)
        else:
            if earlier is not None and stage not in force_stages:
                print(f"== {stage}: {_what_changed(earlier, inputs)} since the earlier run; redoing it", flush=True)
            print(f"== {stage}: starting, about {estimate_seconds(stage, ctx) / 60:.0f} min "
                  f"(ETA {time.strftime('%H:%M', time.localtime(time.time() + estimate_seconds(stage, ctx)))})",
                  flush=True)
            start = time.perf_counter()
            if stage in force_stages:
                shutil.rmtree(ctx.backup_dir, ignore_errors=True)
            keras.utils.set_random_seed(ctx.values.seed)  # the same start whether earlier stages ran here or not
            with atomic.atomic_dir(final, kind="pipeline_stage") as folder:
                outputs = STAGES[stage](ctx, folder)
                manifest_lib.write_manifest(folder, stage, inputs, inputs_hash, time.perf_counter() - start, outputs)
            shutil.rmtree(ctx.backup_dir, ignore_errors=True)
            print(f"== {stage}: finished in {time.perf_counter() - start:.0f} s", flush=True)
        manifest = manifest_lib.read_manifest(final)
        stage_seconds[stage] = manifest["seconds"]
        previous = manifest["inputs_hash"] + manifest["finished_at"]
    return stage_seconds


def _what_changed(earlier, inputs):
    """Names the flags (or the data / an earlier stage) whose change makes a finished stage stale."""
    old_flags = earlier.get("inputs", {}).get("flags", {})
    changed = [f"--{name}" for name in sorted(inputs["flags"]) if old_flags.get(name) != inputs["flags"][name]]
    if not changed:
        changed = ["the training data or an earlier stage"]
    return f"{', '.join(changed)} changed"


def check_stage_names(names, what):
    """Refuses unknown stage names in --skip/--force_stages."""
    unknown = sorted(set(names) - set(ORDER))
    if unknown:
        raise ValueError(f"{what} names unknown stages {unknown}; the stages are {list(ORDER)}.")
    return list(names)


def check_skip(skip):
    """Only prune and qat may be switched off: everything else feeds the report."""
    from tfdistill.pipeline.stages import OPTIONAL

    check_stage_names(skip, "--skip")
    required = sorted(set(skip) - set(OPTIONAL))
    if required:
        raise ValueError(f"--skip={','.join(skip)}: only {list(OPTIONAL)} can be skipped ({required} feed the report).")
    return list(skip)


def report_paths(output_dir):
    return {name: os.path.join(output_dir, name) for name in ("report.json", "report.md", "pareto.png")}
