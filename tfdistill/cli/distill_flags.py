"""Flags of the distillation recipe (shared with the pipeline), and the loss list they mean."""

from absl import flags

# flag -> (loss term config, default weight)
LOSS_FLAGS = {
    "logit_weight": ({"loss": "logit_kd"}, 1.0),
    "hard_weight": ({"loss": "hard_label"}, 0.5),
    "hidden_weight": ({"loss": "hidden_mse"}, 0.0),
    "embedding_weight": ({"loss": "embedding_mse"}, 0.0),
    "attention_weight": ({"loss": "attention", "target": "probs"}, 0.0),
    "relation_weight": ({"loss": "minilm_relation"}, 0.0),
    "cosine_weight": ({"loss": "hidden_cosine"}, 0.0),
}


def define_distill_flags():
    """Defines the student-shape, loss-weight and schedule flags of a distillation run."""
    flags.DEFINE_integer("student_layers", 4, "Student transformer blocks.")
    flags.DEFINE_integer("student_hidden", None, "Student width (default: the teacher's).")
    flags.DEFINE_integer("student_heads", None, "Student attention heads (default: the teacher's if it divides).")
    flags.DEFINE_integer("student_intermediate", None, "Student feed-forward width (default: 4x width).")
    flags.DEFINE_enum("embedding_init", "auto", ["auto", "copy", "pca", "random"],
                      "Student embedding initialisation (auto: copy at the teacher's width, else PCA).")
    for flag, (term, weight) in LOSS_FLAGS.items():
        flags.DEFINE_float(flag, weight, f"Weight of the {term['loss']} term (0 switches it off).")
    flags.DEFINE_float("temperature", 2.0, "Soft-target temperature of logit_kd.")
    flags.DEFINE_string("layer_map", "uniform", "Student-to-teacher layer map: uniform, last, or '2,4,6'.")
    flags.DEFINE_boolean("head_average", False, "Average attention maps over heads (head counts may differ).")
    flags.DEFINE_integer("augment", 0, "Embedding-neighbour augmented copies of each training example.")
    flags.DEFINE_integer("intermediate_epochs", 0, "TinyBERT stage 1 epochs (intermediate terms only).")


def losses_from_flags(values):
    """Returns the loss-term configs the weight flags switch on.

    Raises:
        ValueError: a negative weight, or every weight zero.
    """
    terms = []
    for flag, (term, _) in LOSS_FLAGS.items():
        weight = values[flag].value
        if weight < 0:
            raise ValueError(f"--{flag}={weight} is negative; loss weights must be >= 0.")
        if weight > 0:
            term = dict(term, weight=weight)
            if term["loss"] == "logit_kd":
                term["temperature"] = values.temperature
            if term["loss"] in ("hidden_mse", "attention", "hidden_cosine"):
                term["layer_map"] = values.layer_map
            if term["loss"] == "attention":
                term["head_average"] = values.head_average
            terms.append(term)
    if not terms:
        raise ValueError("Every loss weight is 0; set at least --logit_weight or --hard_weight above 0.")
    return terms
