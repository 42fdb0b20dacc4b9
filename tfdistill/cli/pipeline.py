"""One command from teacher to phone-ready student (`recipes/pipeline.py`, `tfdistill pipeline`).

Stages: fine-tune the teacher (or take --teacher) -> distill -> prune -> QAT -> export every
mode -> evaluate each .tflite on the test split -> benchmark -> report. The flags resolve to one
`RunConfig` (`tfdistill.cli.run_config_flags`), written to --output_dir/run.json before any
stage runs. Each stage writes --output_dir/<stage>/ with a manifest; re-running the same command
(or `--config=<output_dir>/run.json`) skips finished stages, so a killed run resumes where it
stopped (--force_stages redoes some). --skip=prune,qat switches those off. The report
(report.md, report.json, pareto.png) lands in --output_dir. --distribution_strategy trains every
stage on several devices or machines (a multi-worker run starts on a new folder: it cannot skip
finished stages); --tensorboard_dir logs each training stage for TensorBoard.

Importing this module defines the flags; `main` runs under `absl.app.run`.

Example:
    python recipes/pipeline.py --output_dir=runs/pipeline                  # the default preset
    python recipes/pipeline.py --preset=demo --output_dir=runs/demo        # make demo's shorter tour
    python recipes/pipeline.py --preset=full --output_dir=runs/pipeline_full
    python recipes/pipeline.py --train_file=tickets.csv --label_column=team --output_dir=runs/tickets
    python recipes/pipeline.py --config=runs/pipeline/run.json --output_dir=runs/pipeline  # the same run
"""

import functools
import os
import shutil
import time

from absl import flags

import tfdistill
from tfdistill.cli import data_flags, distill_flags, distribution_flags, run_config_flags
from tfdistill.cli.commands import list_flags_in_help
from tfdistill.cli.output_dir import check_output_dir
from tfdistill.cli.script import INPUT_ERRORS, run_or_exit

RUN_CONFIG_FILE = "run.json"

run_config_flags.define_run_config_flags()
distribution_flags.define_distribution_flags()
flags.DEFINE_list("force_stages", [], "Stages to redo even if finished.")
flags.DEFINE_string("output_dir", None, "Run folder: one sub-folder per stage, run.json and the report.")
flags.DEFINE_bool("overwrite", False, "Discard an earlier tfdistill output at --output_dir and start "
                  "afresh (a pipeline run there is resumed without it; other folders are never replaced).")
flags.mark_flag_as_required("output_dir")
FLAGS = flags.FLAGS
list_flags_in_help(__name__, run_config_flags, data_flags, distill_flags, distribution_flags)


def check_inputs(values, config, output_dir):
    """Everything that can be checked before any training: fails early with a clear message.

    Args:
        output_dir: str, the folder this process writes (--output_dir, or a non-chief worker's
            temporary folder).

    Returns:
        str, the absolute run folder.
    """
    from tfdistill.data.pipeline import check_max_length
    from tfdistill.pipeline.runner import check_skip, check_stage_names

    output_dir = check_run_folder(values, config, output_dir)
    check_tensorboard_dir(config.tensorboard_dir, output_dir)
    check_skip(config.skip, "--skip")
    check_stage_names(values.force_stages, "--force_stages")
    teacher_config = tfdistill.load_config(_teacher_source(config))
    check_max_length(config.data.max_length, teacher_config.max_position_embeddings)
    check_student_shape(config, teacher_config)
    return output_dir


def _teacher_source(config):
    """The folder whose config and tokenizer the run starts from."""
    return config.teacher.path or config.teacher.base_model or tfdistill.default_teacher_path()


def check_run_folder(values, config, output_dir):
    """Accepts a new or empty folder, or an earlier pipeline run (resumed); any other tfdistill
    output only with --overwrite, which discards it once every other check has passed."""
    from tfdistill.utils import ownership

    inputs = run_config_flags.config_input_paths(config)
    output_dir = check_output_dir(output_dir, inputs, overwrite=True)
    marker = ownership.read_marker(output_dir)
    if marker is not None and marker.get("kind") != "pipeline_run" and not values.overwrite:
        raise ValueError(f"--output_dir {output_dir} holds a tfdistill {marker.get('kind')} folder, not a pipeline "
                         "run; pass --overwrite to discard it, or choose a new folder.")
    return output_dir


def check_tensorboard_dir(tensorboard_dir, output_dir):
    """Refuses TensorBoard logs that would land in a stage folder (or a training backup), which
    is replaced when the stage is published; elsewhere in the run folder they are safe.

    Raises:
        ValueError: naming the folder and the fix.
    """
    from tfdistill.pipeline.manifest import BACKUP_FOLDER
    from tfdistill.pipeline.stages import ORDER

    if not tensorboard_dir:
        return
    replaced = [os.path.join(output_dir, name) for name in (*ORDER, BACKUP_FOLDER)]
    if tensorboard_dir == output_dir or any(_inside(tensorboard_dir, folder) for folder in replaced):
        raise ValueError(f"--tensorboard_dir {tensorboard_dir} would put the logs in the stage folders of "
                         f"{output_dir}, which are replaced when published; choose a folder outside them, e.g. "
                         f"{os.path.join(output_dir, 'tensorboard')}.")


def _inside(path, folder):
    return path == folder or path.startswith(folder + os.sep)


def check_multi_worker_run_folder(values):
    """Refuses a multi-worker run on a folder that already holds finished stages.

    A worker cannot skip them as the chief would: a non-chief worker writes a temporary folder
    without them, so it would train a stage the chief skips, and their collective ops would not
    match. (Without --overwrite; with it the chief discards the folder and every worker starts
    afresh.)

    Raises:
        ValueError: naming the finished stages and the fix.
    """
    from tfdistill.pipeline.manifest import read_manifest
    from tfdistill.pipeline.stages import ORDER

    if values.distribution_strategy != distribution_flags.MULTI_WORKER or values.overwrite:
        return
    output_dir = os.path.abspath(values.output_dir)
    finished = [stage for stage in ORDER if read_manifest(os.path.join(output_dir, stage)) is not None]
    if finished:
        raise ValueError(f"--distribution_strategy={distribution_flags.MULTI_WORKER} cannot resume the run in "
                         f"{output_dir}: its stages {finished} are finished, and the workers cannot skip them "
                         "together (the other workers write temporary folders without them). Pass a new "
                         "--output_dir (or --overwrite to discard this run).")


def start_run_folder(values, config, output_dir):
    """Discards an earlier output (with --overwrite), marks the folder as a pipeline run (so a
    killed run's folder is accepted when it resumes) and writes the resolved `run.json`."""
    from tfdistill.utils import ownership

    if values.overwrite and ownership.read_marker(output_dir) is not None:
        shutil.rmtree(output_dir)
    ownership.claim(output_dir, "pipeline_run", bookkeeping=(RUN_CONFIG_FILE,))
    config.save(os.path.join(output_dir, RUN_CONFIG_FILE))


def set_training_speed(config):
    """Makes `mixed_precision`, `cache_teacher_outputs` and `lazy_adam` the defaults of every stage's
    training."""
    from tfdistill.distill import teacher_cache
    from tfdistill.training import optimization, precision

    precision.set_default_mode(config.mixed_precision)
    teacher_cache.set_default_enabled(config.cache_teacher_outputs)
    optimization.set_default_lazy_adam(config.lazy_adam)


def check_student_shape(config, teacher_config):
    """Builds the config of the student (or of every ladder rung) and the loss terms against it,
    without any weights.

    Raises:
        ValueError: a shape the teacher cannot give (a ladder rung is named in the message).
    """
    from tfdistill.config.presets import ladder_students
    from tfdistill.distill import losses
    from tfdistill.distill.from_config import student_bert_config

    students = ladder_students(config) if config.ladder.enabled else [(None, config.student)]
    teacher_spec = None
    for name, student in students:
        try:
            student_config = _initial_config(teacher_config, student) if student.init else \
                student_bert_config(teacher_config, student)
        except ValueError as error:
            if name is None:
                raise
            raise ValueError(f"ladder.students: rung {name}: {error} Drop it from --student_ladder, or pass "
                             "--target_retention=0 to distil one student of the --student_* shape.") from None
        spec = losses.bert_spec(student_config)
        teacher_spec = teacher_spec or losses.bert_spec(teacher_config.replace(num_labels=student_config.num_labels))
        for term in config.losses.terms(student.layer_map):
            losses.get(term).build_for(spec, teacher_spec)


def _initial_config(teacher_config, student):
    """The config of the general student `student.init` names, with the teacher's head."""
    init = tfdistill.load_config(student.init)
    if init.vocab_size != teacher_config.vocab_size:
        raise ValueError(f"student.init {student.init} embeds {init.vocab_size} token ids but the teacher "
                         f"{teacher_config.vocab_size}: it was distilled from another model's vocabulary.")
    return init.replace(num_labels=teacher_config.num_labels, label_names=teacher_config.label_names)


def load_data(config):
    """The dataset `config.data` describes; with a given teacher, in its class order."""
    data_config = config.data
    data = tfdistill.datasets.load(
        data_config.dataset, train_file=data_config.train_file, validation_file=data_config.validation_file,
        test_file=data_config.test_file, text_column=data_config.text_column,
        label_column=data_config.label_column, text_pair_column=data_config.text_pair_column, seed=config.seed,
        max_examples=data_config.max_examples, data_dir=data_config.data_dir)
    if config.teacher.path:  # every stage's class ids follow the teacher's id2label (mapped by name)
        from tfdistill.training.classifier import data_in_model_order

        data = data_in_model_order(tfdistill.load_config(config.teacher.path), data, "teacher", config.teacher.path)
    return data


def run(values):
    """Resolves the run config, runs (or resumes) every stage under `--distribution_strategy` and
    writes the report.

    Returns:
        dict, the report (`report.json`).
    """
    config = run_config_flags.run_config_from_flags(values)
    check_multi_worker_run_folder(values)
    return distribution_flags.run_distributed(values, functools.partial(run_in, config=config))


def run_in(values, output_dir, resumable=True, *, config):
    """Runs (or resumes) every stage in `output_dir` and writes the report there.

    Args:
        values: the absl flag values.
        output_dir: str, the folder this process writes (see `check_inputs`).
        resumable: bool, whether the stages back up their training epochs (`PipelineContext`).
        config: `RunConfig`, resolved from the flags.

    Returns:
        dict, the report.
    """
    from tfdistill.pipeline import report as report_lib
    from tfdistill.pipeline.context import PipelineContext
    from tfdistill.pipeline.runner import report_paths, run_stages

    start = time.perf_counter()
    output_dir = check_inputs(values, config, output_dir)
    data = load_data(config)
    if config.teacher.path:
        files = (config.data.train_file, config.data.validation_file, config.data.test_file)
        data_flags.check_split_of(config.teacher.path, data, config.seed, not all(files), "teacher")
    tokenizer = tfdistill.Tokenizer.from_pretrained(_teacher_source(config))
    origin = f"config {values.config}" if values.config else f"{values.preset} preset"
    print(f"Pipeline ({origin}) on {data} -> {output_dir}", flush=True)
    start_run_folder(values, config, output_dir)
    set_training_speed(config)
    ctx = PipelineContext(config, data, tokenizer, output_dir,
                          config.teacher.base_model or tfdistill.default_teacher_path(), resumable=resumable)
    stage_seconds = run_stages(ctx, values.force_stages)
    report = report_lib.build_report(ctx, stage_seconds, time.perf_counter() - start)
    paths = report_paths(output_dir)
    report_lib.write_report(report, paths)
    print(report_lib.markdown(report))
    print(f"Report: {paths['report.md']} ({paths['report.json']}, {paths['pareto.png']})")
    return report


def main(argv):
    """The entry point for `absl.app.run`: runs the pipeline, bad input exiting with status 2."""
    del argv
    run_or_exit(run, FLAGS, INPUT_ERRORS + (TypeError,))
