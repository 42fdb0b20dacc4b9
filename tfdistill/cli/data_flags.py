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
