"""`run_pipeline`: the stages in order, each skipped when its manifest matches its inputs."""

import os
import shutil
import time

from tfdistill.pipeline import manifest as manifest_lib
from tfdistill.pipeline.stages import ORDER, STAGES
from tfdistill.utils import atomic

# The run-config sections (and top-level fields) each stage depends on; a stage also depends on
# every stage before it. `cache_teacher_outputs` is in none: it changes how fast, not what; nor is
# `tensorboard_dir`: it changes where the logs go. (The distribution strategy is no config field.)
STAGE_SECTIONS = {
    "teacher": ("data", "teacher", "seed", "mixed_precision", "lazy_adam"),
    "distill": ("student", "ladder", "losses", "distill"),
    "prune": ("prune",),
    "qat": ("qat",),
    "export": ("export",),
    "evaluate": (),
    "benchmark": ("benchmark",),
}
# Seconds per training example (per epoch) on a 2-core CPU, measured at batch 32; per example so
# that a changed batch size does not change the estimate much.
_SECONDS_PER_EXAMPLE = {"teacher": 0.45 / 32, "distill": 0.3 / 32, "prune": 0.3 / 32, "qat": 0.6 / 32}


def stage_inputs(config, stage):
    """The parts of the run config `stage` depends on: `{section or field: its to_dict() or value}`.

    Example:
    >>> from tfdistill.config import RunConfig
    >>> stage_inputs(RunConfig(), "benchmark")
    {'benchmark': {'threads': 1, 'runs': 50}}
    """
    values = config.to_dict()
    return {name: values[name] for name in STAGE_SECTIONS[stage]}


def estimate_seconds(stage, ctx):
    """A rough duration for the banner, from the work a stage does (2-core CPU rates)."""
    config, examples = ctx.config, len(ctx.data.train)
    epochs = {
        "teacher": 0 if config.teacher.path else config.teacher.epochs_for(examples),
        # The retention ladder's climb distils 2-3 students (their sizes differ; 2 is the estimate).
        "distill": (config.distill.epochs_for(examples) + config.distill.intermediate_epochs)
        * (1 + config.distill.augment) * (2 if config.ladder.enabled else 1),
        "prune": config.prune.epochs_for(examples),
        "qat": config.qat.epochs_for(examples),
    }
    if stage in epochs:
        return epochs[stage] * examples * _SECONDS_PER_EXAMPLE[stage]
    return {"export": 90, "evaluate": 40, "benchmark": 40}[stage]


class StagePace:
    """Scales `estimate_seconds` by how fast this machine ran the training stages of this run so
    far (measured seconds over estimated ones), so later banners use measured step times.

    Example:
    >>> pace = StagePace()
    >>> pace.scaled(100.0)
    100.0
    >>> pace.record("teacher", estimated=100.0, measured=250.0)
    >>> pace.scaled(60.0)
    150.0
    """

    def __init__(self):
        self.estimated = self.measured = 0.0

    def record(self, stage, estimated, measured):
        if stage in _SECONDS_PER_EXAMPLE and estimated > 0:  # training stages: their time is steps
            self.estimated += estimated
            self.measured += measured

    def scaled(self, estimate):
        return estimate * (self.measured / self.estimated if self.estimated else 1.0)

    def banner(self, stage, estimate):
        measured = self.estimated and stage in _SECONDS_PER_EXAMPLE  # exports do not scale with steps
        seconds = self.scaled(estimate) if measured else estimate
        basis = "at this run's measured step times" if measured else "at 2-core CPU rates"
        return (f"== {stage}: starting, about {seconds / 60:.0f} min {basis} "
                f"(ETA {time.strftime('%H:%M', time.localtime(time.time() + seconds))})")


def run_stages(ctx, force_stages=()):
    """Runs (or skips) every stage that is switched on; returns `{stage: seconds}`.

    A stage that runs is seeded with `config.seed` first, and trains with a backup in
    `<output_dir>/training_backup/<stage>-<inputs hash>` (`ctx.backup_dir`), deleted once the
    stage is published: a run killed inside a stage resumes at its last finished epoch (unless
    `ctx.resumable` is off: no backup).
    """
    import tf_keras as keras

    # The data's content, not only its file names, feeds the first stage (and so every later one):
    # a training file edited in place redoes the run instead of reusing stale stages.
    previous, stage_seconds, pace = manifest_lib.data_fingerprint(ctx.data), {}, StagePace()
    for stage in ORDER:
        if not ctx.ran(stage):
            continue
        inputs = {"config": stage_inputs(ctx.config, stage), "previous": previous}
        inputs_hash = manifest_lib.fingerprint(inputs)
        final = ctx.final_dir(stage)
        ctx.backup_dir = (os.path.join(ctx.output_dir, manifest_lib.BACKUP_FOLDER, f"{stage}-{inputs_hash}")
                          if ctx.resumable else None)
        earlier = manifest_lib.read_manifest(final)
        if stage not in force_stages and earlier is not None and earlier.get("inputs_hash") == inputs_hash:
            print(f"== {stage}: done earlier with the same inputs, skipped ({final})", flush=True)
        else:
            if earlier is not None and stage not in force_stages:
                print(f"== {stage}: {_what_changed(earlier, inputs)} since the earlier run; redoing it", flush=True)
            print(pace.banner(stage, estimate_seconds(stage, ctx)), flush=True)
            start = time.perf_counter()
            if stage in force_stages:
                _remove_backup(ctx)
            keras.utils.set_random_seed(ctx.config.seed)  # the same start whether earlier stages ran here or not
            with atomic.atomic_dir(final, kind="pipeline_stage") as folder:
                outputs = STAGES[stage](ctx, folder)
                manifest_lib.write_manifest(folder, stage, inputs, inputs_hash, time.perf_counter() - start, outputs)
            _remove_backup(ctx)
            pace.record(stage, estimate_seconds(stage, ctx), time.perf_counter() - start)
            print(f"== {stage}: finished in {time.perf_counter() - start:.0f} s", flush=True)
        manifest = manifest_lib.read_manifest(final)
        stage_seconds[stage] = manifest["seconds"]
        previous = manifest["inputs_hash"] + manifest["finished_at"]
    return stage_seconds


def _remove_backup(ctx):
    if ctx.backup_dir:
        shutil.rmtree(ctx.backup_dir, ignore_errors=True)


def _what_changed(earlier, inputs):
    """Names the run-config fields (`distill.learning_rate`), or the data / an earlier stage, whose
    change makes a finished stage stale."""
    if "config" not in earlier.get("inputs", {}):
        return "the way runs record their settings (a run of an older tfdistill)"
    old, new = _flatten(earlier["inputs"]["config"]), _flatten(inputs["config"])
    changed = [name for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]
    if not changed:
        changed = ["the training data or an earlier stage"]
    return f"{', '.join(changed)} changed"


def _flatten(values, prefix=""):
    """`{"distill": {"epochs": 2}}` -> `{"distill.epochs": 2}`."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_stage_names(names, what):
    """Refuses unknown stage names in `skip` or `--force_stages` (`what` names the setting)."""
    unknown = sorted(set(names) - set(ORDER))
    if unknown:
        raise ValueError(f"{what} names unknown stages {unknown}; the stages are {list(ORDER)}.")
    return list(names)


def check_skip(skip, what="--skip"):
    """Only prune and qat may be switched off: everything else feeds the report.

    Args:
        skip: the stage names (`RunConfig.skip`).
        what: str, how the message names the setting.
    """
    from tfdistill.pipeline.stages import OPTIONAL

    check_stage_names(skip, what)
    required = sorted(set(skip) - set(OPTIONAL))
    if required:
        raise ValueError(f"{what}={','.join(skip)}: only {list(OPTIONAL)} can be skipped ({required} feed the report).")
    return list(skip)


def report_paths(output_dir):
    return {name: os.path.join(output_dir, name) for name in ("report.json", "report.md", "pareto.png")}
