"""The dataset flags every recipe shares, and loading the dataset they describe."""

from absl import flags

from tfdistill.data import datasets


def define_data_flags():
    """Defines `--dataset`, the file flags, the column flags and the split flags."""
    flags.DEFINE_string("dataset", None, "Built-in (`rotten_tomatoes`, the default when no "
                        "--train_file is given) or TFDS dataset name (`tfds:<name>`).")
    flags.DEFINE_string("train_file", None, "Training examples: .csv, .tsv or .jsonl (optionally "
                        ".gz/.bz2/.xz).")
    flags.DEFINE_string("validation_file", None, "Validation examples; carved from train if omitted.")
    flags.DEFINE_string("test_file", None, "Test examples; carved from train if omitted.")
    flags.DEFINE_string("text_column", "text", "Text column (files) or feature (TFDS).")
    flags.DEFINE_string("label_column", "label", "Label column or feature.")
    flags.DEFINE_string("text_pair_column", None, "Second-text column for sentence-pair tasks.")
    flags.DEFINE_string("data_dir", None, "TFDS data folder.")
    flags.DEFINE_integer("max_examples", None, "Cap on the examples kept in each split.")
    flags.DEFINE_integer("seed", 0, "Seed of the data split, shuffling and initialisation.")


def load_data_from_flags(values=None):
    """Loads the dataset the data flags describe (see `define_data_flags`)."""
    values = values or flags.FLAGS
    return datasets.load(
        values.dataset, train_file=values.train_file, validation_file=values.validation_file,
        test_file=values.test_file, text_column=values.text_column, label_column=values.label_column,
        text_pair_column=values.text_pair_column, seed=values.seed, max_examples=values.max_examples,
        data_dir=values.data_dir)


def check_split_of(folder, data, seed, carved, role="teacher"):
    """Refuses a split drawn with another seed than the one the model in `folder` trained on.

    A recipe's `--seed` also draws the validation and test splits it carves: a student distilled
    with `--seed=1` from a teacher fine-tuned with `--seed=0` would be tested on examples the
    teacher trained on, and its retention would read high for no reason (seen: 0.909 teacher
    "test" accuracy instead of 0.836). The model's `metrics.json` (written by every recipe) says
    which dataset and seed it trained on; folders without one are not checked.

    Args:
        folder: str, the teacher's (or the student's) folder.
        data: `TextClassificationData`, the data this run loaded.
        seed: int, this run's `--seed`.
        carved: bool, whether this run carved its split from a dataset (False when the train,
            validation and test files were all given).
        role: str, how the message names the model.

    Raises:
        ValueError: the same dataset, carved with another seed.
    """
    import json
    import os

    path = os.path.join(folder, "metrics.json")
    if not carved or not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as f:
        metrics = json.load(f)
    trained_seed = (metrics.get("flags") or {}).get("seed")
    trained_on = (metrics.get("dataset") or {}).get("name")
    if trained_seed is not None and trained_seed != seed and trained_on == data.name:
        raise ValueError(
            f"The {role} {folder} trained on {data.name} split with --seed={trained_seed}; --seed={seed} draws "
            f"another split, whose validation and test sets hold examples the {role} trained on. Pass "
            f"--seed={trained_seed}, or give the split as files (--train_file, --validation_file, --test_file) "
            "to change only the student's seed.")


def carves_split(values):
    """Whether the data flags carve a split (all three files not given)."""
    return not (values.train_file and values.validation_file and values.test_file)
