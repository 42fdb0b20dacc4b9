"""Flags of the distillation recipe (shared with the pipeline): the student's shape and the loss,
read into `tfdistill.config.StudentConfig` and `LossConfig`, whose defaults they show."""

from absl import flags

from tfdistill.config import ConfigError, DistillConfig, LossConfig, StudentConfig
from tfdistill.config.sections import EMBEDDING_INITS

# flag -> StudentConfig field
STUDENT_FLAGS = {
    "student_layers": "layers",
    "student_hidden": "hidden",
    "student_heads": "heads",
    "student_intermediate": "intermediate",
    "student_head_size": "head_size",
    "importance_examples": "importance_examples",
    "embedding_init": "embedding_init",
    "layer_map": "layer_map",
    "student_embedding_size": "embedding_size",
}
# flag -> (loss term config, default weight); each flag is the LossConfig field of that name.
LOSS_FLAGS = {name: (term, getattr(LossConfig(), name)) for name, term in LossConfig.TERMS.items()}
# flag -> LossConfig field, for the loss settings that are not weights
LOSS_SETTING_FLAGS = {"temperature": "temperature", "head_average": "head_average"}


def define_distill_flags():
    """Defines the student-shape, loss-weight and schedule flags of a distillation run."""
    define_student_flags()
    flags.DEFINE_string("student_init", None, "Start from this general-distilled student folder (`tfdistill "
                        "general_distill`) instead of building one from the teacher; the --student_* shape flags "
                        "then do not apply.")
    loss, schedule = LossConfig(), DistillConfig()
    for flag, (term, weight) in LOSS_FLAGS.items():
        flags.DEFINE_float(flag, weight, f"Weight of the {term['loss']} term (0 switches it off).")
    flags.DEFINE_float("temperature", loss.temperature, "Soft-target temperature of logit_kd.")
    flags.DEFINE_boolean("head_average", loss.head_average,
                         "Average attention maps over heads (head counts may differ).")
    flags.DEFINE_integer("augment", schedule.augment, "Embedding-neighbour augmented copies of each training example.")
    flags.DEFINE_integer("intermediate_epochs", schedule.intermediate_epochs,
                         "TinyBERT stage 1 epochs (intermediate terms only).")


def define_student_flags():
    """Defines the student-shape flags (`STUDENT_FLAGS`): blocks, width, heads, units, initialisation."""
    student = StudentConfig()
    flags.DEFINE_integer("student_layers", student.layers, "Student transformer blocks.")
    flags.DEFINE_integer("student_hidden", student.hidden, "Student width (default: the teacher's).")
    flags.DEFINE_integer("student_heads", student.heads,
                         "Student attention heads (default: the teacher's if it divides).")
    flags.DEFINE_integer("student_intermediate", student.intermediate,
                         "Student feed-forward width (default: the teacher's at its width, else 4x width).")
    flags.DEFINE_integer("student_head_size", student.head_size,
                         "Width of one student head (default: the teacher's at its width, so fewer "
                         "--student_heads keeps the teacher's most important heads; else width / heads).")
    flags.DEFINE_integer("importance_examples", student.importance_examples,
                         "Training examples that score the teacher's heads and feed-forward units when the "
                         "student keeps only some of them.")
    flags.DEFINE_enum("embedding_init", student.embedding_init, list(EMBEDDING_INITS),
                      "Student embedding initialisation (auto: copy at the teacher's width, else PCA).")
    flags.DEFINE_string("layer_map", student.layer_map, "Student-to-teacher layer map: uniform, last, or '2,4,6'.")
    flags.DEFINE_integer("student_embedding_size", student.embedding_size,
                         "Rank of a factorised student word table (a vocab x rank table times a rank x width "
                         "projection, from the SVD of its initial table), trained as such; default: a full table.")


def flag_names(section, flag_fields):
    """`{dotted field: "--flag"}` for `ConfigError.renamed`, from `{flag: field}` of `section`."""
    return {f"{section}.{field}": f"--{flag}" for flag, field in flag_fields.items()}


def student_shape_from_flags(values):
    """The `StudentConfig` the student flags describe.

    Raises:
        ConfigError: a value the config refuses, named by its flag.
    """
    try:
        return StudentConfig(**{field: getattr(values, flag) for flag, field in STUDENT_FLAGS.items()})
    except ConfigError as error:
        raise error.renamed(flag_names("student", STUDENT_FLAGS)) from None


def loss_config_from_flags(values):
    """The `LossConfig` the loss flags describe.

    Raises:
        ConfigError: a negative weight, every weight zero, or a bad temperature, named by its flag.
    """
    weights = {flag: values[flag].value for flag in LOSS_FLAGS}
    settings = {field: getattr(values, flag) for flag, field in LOSS_SETTING_FLAGS.items()}
    try:
        return LossConfig(**weights, **settings)
    except ConfigError as error:
        names = flag_names("losses", {**{flag: flag for flag in LOSS_FLAGS}, **LOSS_SETTING_FLAGS})
        raise error.renamed(names) from None


def student_from_flags(teacher, values, preprocessor, train_split):
    """The student the shape flags describe, initialised from the teacher (heads and units
    scored on the first `--importance_examples` training examples)."""
    from tfdistill.distill.from_config import student_from_config

    return student_from_config(teacher, student_shape_from_flags(values), preprocessor, train_split)


def losses_from_flags(values):
    """Returns the loss-term configs the weight flags switch on (`LossConfig.terms`).

    Raises:
        ValueError: a negative weight, or every weight zero.
    """
    return loss_config_from_flags(values).terms(values.layer_map)
