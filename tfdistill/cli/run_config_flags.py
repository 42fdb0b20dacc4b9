"""The pipeline's run-config flags, and the `RunConfig` they resolve to.

Resolution, each step overriding the one before:
1. `--config=run.json` (a saved `RunConfig`), else `--preset` (default `default`);
2. `--student_preset` (a named student shape);
3. every flag given explicitly (on the command line or in a `--flagfile`);
4. `--set=section.field=value` overrides, for fields without a flag (`--set=qat.batch_size=16`).
A flag left out never overrides: the preset's or the saved config's value stands. One exception:
a student shape given explicitly (`--student_preset` or a `--student_*` shape flag) switches the
retention ladder off (`ladder.target_retention=0`) unless `--target_retention` is given too: the
user has chosen the student.
"""

import os

from absl import flags

from tfdistill.cli import data_flags, distill_flags
from tfdistill.config import ConfigError, RunConfig, get_preset, get_student_preset, list_presets, list_student_presets
from tfdistill.config.sections import MIXED_PRECISION_MODES, QAT_SOURCES, STUDENT_EXPORT_MODES, VOCABULARIES

_DATA_FLAGS = ("dataset", "train_file", "validation_file", "test_file", "text_column", "label_column",
               "text_pair_column", "data_dir", "max_examples", "max_length")
# flag -> the dotted RunConfig field it sets
FLAG_FIELDS = {
    **{flag: f"data.{flag}" for flag in _DATA_FLAGS},
    "seed": "seed",
    "teacher": "teacher.path",
    "base_model": "teacher.base_model",
    "teacher_epochs": "teacher.epochs",
    "teacher_learning_rate": "teacher.learning_rate",
    **{flag: f"student.{field}" for flag, field in distill_flags.STUDENT_FLAGS.items()},
    "student_init": "student.init",
    **{flag: f"losses.{flag}" for flag in distill_flags.LOSS_FLAGS},
    **{flag: f"losses.{field}" for flag, field in distill_flags.LOSS_SETTING_FLAGS.items()},
    "epochs": "distill.epochs",
    "intermediate_epochs": "distill.intermediate_epochs",
    "learning_rate": "distill.learning_rate",
    "augment": "distill.augment",
    "target_sparsity": "prune.target_sparsity",
    "prune_epochs": "prune.epochs",
    "qat_epochs": "qat.epochs",
    "qat_learning_rate": "qat.learning_rate",
    "qat_source": "qat.source",
    "calibration_steps": "qat.calibration_steps",
    "num_representative": "export.num_representative",
    "vocabulary": "export.vocabulary",
    "export_modes": "export.modes",
    "benchmark_threads": "benchmark.threads",
    "benchmark_runs": "benchmark.runs",
    "target_retention": "ladder.target_retention",
    "student_ladder": "ladder.students",
    "skip": "skip",
    "mixed_precision": "mixed_precision",
    "cache_teacher_outputs": "cache_teacher_outputs",
    "lazy_adam": "lazy_adam",
    "tensorboard_dir": "tensorboard_dir",
}
# Fields holding file or folder paths: recorded absolute, so a saved run.json works from anywhere.
PATH_FIELDS = ("data.train_file", "data.validation_file", "data.test_file", "data.data_dir", "teacher.path",
               "teacher.base_model", "student.init")
# Folders the run writes besides --output_dir: recorded absolute too, but not inputs.
OUTPUT_PATH_FIELDS = ("tensorboard_dir",)


def define_run_config_flags():
    """Defines every flag that feeds a `RunConfig` (defaults: the `default` preset's, shown in
    `--help`; a flag left out takes the preset's or `--config`'s value, not its default)."""
    defaults = get_preset("default")
    data_flags.define_data_flags()
    distill_flags.define_distill_flags()
    flags.DEFINE_enum("preset", "default", list_presets(), "Run preset the other flags override. default: "
                      "the retention ladder, pruning and QAT, about 27 min on 2 slow cores; demo (make demo): "
                      "one student, no pruning or QAT, used vocabulary, about 15 min; full: longer, more "
                      "accurate; tinybert: TinyBERT's two stages on a 4 x 192 student.")
    flags.DEFINE_string("config", None, "A saved run config (a run folder's run.json) to start from instead of "
                        "--preset; flags given explicitly override it.")
    flags.DEFINE_string("student_preset", None, f"Student shape replacing the preset's: one of "
                        f"{list_student_presets()} or any LAYERSxHEADSxFFN kept from the teacher (3x4x384); "
                        "--student_* flags override it. Switches the retention ladder off unless "
                        "--target_retention is given.")
    flags.DEFINE_float("target_retention", defaults.ladder.target_retention, "Retention ladder: distil the "
                       "--student_ladder shapes and ship the smallest whose validation accuracy keeps this share of "
                       "the teacher's (else the best found, with a note); 0 switches it off (one student, "
                       "--student_* shape).")
    flags.DEFINE_list("student_ladder", list(defaults.ladder.students), "The retention ladder's student shapes, "
                      "smallest first: presets or LAYERSxHEADSxFFN (blocks x heads x feed-forward units kept from "
                      "the teacher). The default climb starts at 4x6x384; a ladder given here starts at its smallest "
                      "(--set=ladder.start=NAME to change).")
    flags.DEFINE_multi_string("set", [], "Override any run-config field: --set=qat.batch_size=16 (repeatable; "
                              "fields as in run.json).")
    flags.DEFINE_string("teacher", defaults.teacher.path, "A fine-tuned teacher folder; skips fine-tuning.")
    flags.DEFINE_string("base_model", defaults.teacher.base_model,
                        "Folder fine-tuned into the teacher (default: the shipped MiniLM).")
    flags.DEFINE_integer("max_length", defaults.data.max_length, "Tokenized length; also the exported models' seq_len.")
    flags.DEFINE_integer("teacher_epochs", defaults.teacher.epochs, "Teacher fine-tuning epochs.")
    flags.DEFINE_float("teacher_learning_rate", defaults.teacher.learning_rate, "Teacher AdamW peak learning rate.")
    flags.DEFINE_integer("epochs", defaults.distill.epochs, "Distillation epochs.")
    flags.DEFINE_float("learning_rate", defaults.distill.learning_rate, "Distillation AdamW peak learning rate.")
    flags.DEFINE_float("target_sparsity", defaults.prune.target_sparsity, "Pruning target sparsity in (0, 1).")
    flags.DEFINE_integer("prune_epochs", defaults.prune.epochs, "Pruning epochs (with teacher guidance).")
    flags.DEFINE_integer("qat_epochs", defaults.qat.epochs,
                         "Quantization-aware training epochs (with teacher guidance).")
    flags.DEFINE_float("qat_learning_rate", defaults.qat.learning_rate, "QAT AdamW peak learning rate.")
    flags.DEFINE_enum("qat_source", defaults.qat.source, list(QAT_SOURCES), "The student QAT starts from: the "
                      "distilled one (default: on Rotten Tomatoes QAT from the 53%-pruned student lost 1.5 points) "
                      "or the pruned one (its zeros kept: smaller gzip).")
    flags.DEFINE_integer("calibration_steps", defaults.qat.calibration_steps,
                         "Batches that calibrate the QAT ranges before training.")
    flags.DEFINE_enum("vocabulary", defaults.export.vocabulary, list(VOCABULARIES), "The exported students' word "
                      "table: full (the teacher's 30,522 tokens), used (special tokens, single-character pieces "
                      "and the tokens the training texts use; smaller files, other words spelt with shorter "
                      "pieces) or both (the dynamic, int8 and QAT packages in each; the shipped student is "
                      "chosen among all on validation, ties to the smaller).")
    flags.DEFINE_list("export_modes", list(defaults.export.modes), f"Modes the distilled student is exported in, "
                      f"of {list(STUDENT_EXPORT_MODES)} (the pruned one: the quantized ones of them; QAT's: qat).")
    flags.DEFINE_integer("num_representative", defaults.export.num_representative,
                         "Training examples that calibrate the int8 exports.")
    flags.DEFINE_integer("benchmark_threads", defaults.benchmark.threads, "Threads for the latency benchmark.")
    flags.DEFINE_integer("benchmark_runs", defaults.benchmark.runs, "Timed runs per model.")
    flags.DEFINE_list("skip", list(defaults.skip), "Stages to switch off: prune, qat.")
    flags.DEFINE_enum("mixed_precision", defaults.mixed_precision, list(MIXED_PRECISION_MODES),
                      "auto: teacher fine-tuning and the frozen teacher's passes in mixed bfloat16 where the CPU "
                      "has bfloat16 units (AVX512_BF16, AMX), distilled, pruned and QAT students in float32; "
                      "bfloat16: the distilled student too; float32: nothing. Every saved model is float32.")
    flags.DEFINE_bool("cache_teacher_outputs", defaults.cache_teacher_outputs, "When every loss term reads only the "
                      "teacher's logits, hidden states and attention maps, compute them once per split (shared by "
                      "the distill, prune and qat stages; hidden states and maps while they fit in a third of the "
                      "memory, at most 8 GiB) instead of a teacher forward pass per step (same batches, same order).")
    flags.DEFINE_bool("lazy_adam", defaults.lazy_adam, "Train every stage with LazyAdamW: update an embedding "
                      "table only in the rows each batch reads (TensorFlow Addons' LazyAdam): faster steps, not "
                      "AdamW, 0.3-1.6 test points lower in 4 of 4 paired runs. Default: AdamW (fused kernel).")
    flags.DEFINE_string("tensorboard_dir", defaults.tensorboard_dir, "TensorBoard logs of the training stages, in "
                        "<dir>/teacher, <dir>/distill, <dir>/prune (with its pruning summaries) and <dir>/qat "
                        "(not inside a stage folder). Changing it redoes no stage.")


def run_config_from_flags(values):
    """Resolves the flags into a `RunConfig` (see the module docstring for the order).

    Args:
        values: absl `FLAGS` with `define_run_config_flags`' flags.

    Returns:
        RunConfig, its paths absolute.

    Raises:
        ConfigError: `--config` together with an explicit `--preset`, an unknown `--set` field,
            or a refused value (named by its flag when a flag gave it).
        FileNotFoundError: no file at `--config`.
    """
    if values.config and values["preset"].present:
        raise ConfigError(f"--config={values.config} and --preset={values.preset} both choose where the run "
                          "starts; pass one of them.")
    config = RunConfig.load(values.config) if values.config else get_preset(values.preset)
    if values.student_preset:
        config = config.replace(student=get_student_preset(values.student_preset))
    overrides = {field: values[flag].value for flag, field in FLAG_FIELDS.items() if values[flag].present}
    if _student_chosen(values) and not values["target_retention"].present:
        overrides["ladder.target_retention"] = 0.0
    if values["student_ladder"].present:  # a new ladder climbs from its smallest rung (or --set=ladder.start=...)
        overrides["ladder.start"] = None
    overrides.update(RunConfig.parse_override(text) for text in values["set"].value)
    try:
        config = config.replace(**overrides)
    except ConfigError as error:
        given = {FLAG_FIELDS[flag]: f"--{flag}" for flag in FLAG_FIELDS if values[flag].present}
        raise error.renamed(given) from None
    return with_absolute_paths(config)


def _student_chosen(values):
    """Whether the command line names a student shape (a preset, a shape flag or a general student)."""
    from tfdistill.config.sections import SHAPE_FIELDS

    shape_flags = [flag for flag, field in distill_flags.STUDENT_FLAGS.items() if field in SHAPE_FIELDS]
    return bool(values.student_preset or values.student_init) or any(values[flag].present for flag in shape_flags)


def with_absolute_paths(config):
    """Returns `config` with its file and folder paths (`PATH_FIELDS`, `OUTPUT_PATH_FIELDS`) made absolute."""
    fields = PATH_FIELDS + OUTPUT_PATH_FIELDS
    paths = {field: os.path.abspath(value) for field, value in _values(config, fields).items() if value}
    return config.replace(**paths)


def config_input_paths(config):
    """`{--flag: path}` of the run's inputs, for `check_output_dir` (the run never writes into them)."""
    flag_of = {field: flag for flag, field in FLAG_FIELDS.items()}
    return {f"--{flag_of[field]}": value for field, value in _values(config, PATH_FIELDS).items() if value}


def _values(config, fields):
    """`{dotted field: value}` of `config` (`"data.train_file"` or a top-level `"tensorboard_dir"`)."""
    result = {}
    for field in fields:
        value = config
        for name in field.split("."):
            value = getattr(value, name)
        result[field] = value
    return result
