r"""Measures a `.tflite` classifier's accuracy on a dataset split through the LiteRT interpreter.

Example:
    tfdistill evaluate --model=runs/student_int8 --split=test
    tfdistill evaluate --model=m.tflite --tokenizer=runs/student \
        --test_file=reviews.csv --split=test
"""

from absl import flags

from tfdistill.cli import data_flags
from tfdistill.cli.commands import list_flags_in_help
from tfdistill.cli.script import run_or_exit

flags.DEFINE_string("model", None, "A .tflite file or a model package folder.")
flags.DEFINE_string("tokenizer", None, "Tokenizer folder (default: the model package folder, "
                    "which holds vocab.txt).")
flags.DEFINE_enum("split", "test", ["train", "validation", "test"], "Split to evaluate.")
flags.DEFINE_integer("num_threads", 1, "Interpreter threads.")
data_flags.define_data_flags()
flags.mark_flag_as_required("model")
FLAGS = flags.FLAGS
list_flags_in_help(__name__, data_flags)


def run(values):
    """Evaluates and prints the accuracy; returns the `Evaluation`."""
    import tfdistill
    from tfdistill.export import evaluate_tflite
    from tfdistill.export.loading import tokenizer_folder

    tokenizer = tfdistill.Tokenizer.from_pretrained(tokenizer_folder(values.model, values.tokenizer))
    data = data_flags.load_data_from_flags(values)
    # Matched by name to the package's labels.txt: other names are refused, another order mapped.
    result = evaluate_tflite(values.model, tokenizer, data.splits[values.split], num_threads=values.num_threads,
                             label_names=data.label_names)
    print(f"{values.model}: accuracy {result.accuracy:.4f} on {result.examples} {values.split} "
          f"examples (seq_len {result.seq_len})")
    return result


def main(argv):
    del argv
    run_or_exit(run, FLAGS)
