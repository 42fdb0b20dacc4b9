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
    flags.DEFINE_integer("student_intermediate", None,
                         "Student feed-forward width (default: the teacher's at its width, else 4x width).")
    flags.DEFINE_integer("student_head_size", None,
                         "Width of one student head (default: the teacher's at its width, so fewer "
                         "--student_heads keeps the teacher's most important heads; else width / heads).")
    flags.DEFINE_integer("importance_examples", 512,
                         "Training examples that score the teacher's heads and feed-forward units when the "
                         "student keeps only some of them.")
    flags.DEFINE_enum("embedding_init", "auto", ["auto", "copy", "pca", "random"],
                      "Student embedding initialisation (auto: copy at the teacher's width, else PCA).")
    for flag, (term, weight) in LOSS_FLAGS.items():
        flags.DEFINE_float(flag, weight, f"Weight of the {term['loss']} term (0 switches it off).")
    flags.DEFINE_float("temperature", 2.0, "Soft-target temperature of logit_kd.")
    flags.DEFINE_string("layer_map", "uniform", "Student-to-teacher layer map: uniform, last, or '2,4,6'.")
    flags.DEFINE_boolean("head_average", False, "Average attention maps over heads (head counts may differ).")
    flags.DEFINE_integer("augment", 0, "Embedding-neighbour augmented copies of each training example.")
    flags.DEFINE_integer("intermediate_epochs", 0, "TinyBERT stage 1 epochs (intermediate terms only).")


def student_config_from_flags(teacher_config, values):
    """The student `BertConfig` the shape flags describe (checked, nothing built)."""
    from tfdistill.distill.student import student_config

    return student_config(teacher_config, values.student_layers, values.student_hidden, values.student_heads,
                          values.student_intermediate, values.student_head_size)


def student_from_flags(teacher, values, tokenizer, train_split):
    """The student the shape flags describe, initialised from the teacher (heads and units
    scored on the first `--importance_examples` training examples)."""
    from tfdistill.distill import student_from_teacher
    from tfdistill.distill.training import importance_features

    data = importance_features(tokenizer, train_split, values.max_length, values.importance_examples)
    return student_from_teacher(teacher, values.student_layers, hidden_size=values.student_hidden,
                                num_heads=values.student_heads, intermediate_size=values.student_intermediate,
                                head_size=values.student_head_size, embedding_init=values.embedding_init,
                                layer_map=values.layer_map, importance_data=data)


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
