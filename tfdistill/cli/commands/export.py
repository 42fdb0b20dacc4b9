r"""Exports a classifier as a validated `.tflite` model package (the Android app's input).

Writes to --output_dir: model.tflite, vocab.txt, labels.txt and model_card.json (seq_len, inputs,
outputs, labels, mode, size_bytes, sha256, source, test accuracy of the .tflite, validation
agreement with the Keras model, XNNPACK coverage). Nothing is written when the .tflite disagrees
with the Keras model on more than 1% (float modes) or 3% (int8, qat) of validation examples,
unless --force is given.

Example:
    tfdistill export --model=runs/student --mode=int8 --output_dir=runs/student_int8
    tfdistill export --model=runs/qat/student.h5 --tokenizer=runs/student --mode=qat \
        --output_dir=runs/student_qat
"""

from absl import flags

from tfdistill.cli import data_flags
from tfdistill.cli.output_dir import define_overwrite_flag
from tfdistill.cli.commands import list_flags_in_help
from tfdistill.cli.script import run_or_exit
from tfdistill.export.modes import INT8_SCOPES, MODES

flags.DEFINE_string("model", None, "Hugging Face BERT classifier folder, or a tf_keras .h5 model "
                    "(e.g. a QAT student).")
flags.DEFINE_string("tokenizer", None, "Tokenizer folder (default: the model's folder).")
flags.DEFINE_enum("mode", "dynamic", MODES, "Export mode.")
flags.DEFINE_integer("seq_len", 64, "Fixed sequence length of the inputs.")
flags.DEFINE_enum("int8_scope", "xnnpack", INT8_SCOPES, "int8/qat: quantize only the ops "
                  "XNNPACK runs in int8 (one partition) or every op it can.")
flags.DEFINE_integer("num_representative", 100, "Training examples used to calibrate int8/qat.")
flags.DEFINE_integer("num_validation", 300, "Validation examples compared with the Keras model.")
flags.DEFINE_bool("evaluate_test", True, "Measure the .tflite's accuracy on the test split.")
flags.DEFINE_bool("probabilities", True, "Add a `probabilities` (softmax) output.")
flags.DEFINE_bool("force", False, "Write the package even if validation agreement is too low.")
flags.DEFINE_string("output_dir", None, "Model package folder to write.")
define_overwrite_flag()
data_flags.define_data_flags()
flags.mark_flags_as_required(["model", "output_dir"])
FLAGS = flags.FLAGS
list_flags_in_help(__name__, data_flags)


def run(values):
    """Loads the model and data, exports, prints a summary; returns the `ExportResult`."""
    import tfdistill
    from tfdistill.cli.output_dir import check_output_dir, input_paths
    from tfdistill.export import export_tflite
    from tfdistill.export.loading import load_classifier, tokenizer_folder
    from tfdistill.training.classifier import data_in_model_order

    output_dir = check_output_dir(values.output_dir, input_paths(values), values.overwrite)
    tokenizer = tfdistill.Tokenizer.from_pretrained(tokenizer_folder(values.model, values.tokenizer))
    model = load_classifier(values.model)
    data = data_flags.load_data_from_flags(values)
    # The test accuracy in the card compares outputs with labels: both in the model's class order.
    data = data_in_model_order(getattr(model, "bert_config", None), data, "model", values.model)
    result = export_tflite(
        model, output_dir, mode=values.mode, seq_len=values.seq_len, tokenizer=tokenizer,
        representative_split=data.train, validation_split=data.validation,
        test_split=data.test if values.evaluate_test else None,
        labels=labels_to_write(model, data.label_names),
        source=values.model, force=values.force, num_representative=values.num_representative,
        num_validation=values.num_validation, int8_scope=values.int8_scope,
        with_probabilities=values.probabilities, seed=values.seed)
    print(summary(result.card, result.tflite_path))
    return result


def labels_to_write(model, dataset_labels):
    """Returns the dataset's class names unless the model names its classes itself.

    A Hugging Face folder saved without names carries the placeholders `LABEL_<i>`.

    Example:
    >>> labels_to_write(object(), ["negative", "positive"])
    ['negative', 'positive']
    """
    config = getattr(model, "bert_config", None)
    names = list(config.label_names or []) if config is not None else []
    if names and names != [f"LABEL_{index}" for index in range(len(names))]:
        return None
    return list(dataset_labels)


def summary(card, path):
    """Returns the one-paragraph report printed after an export."""
    validation, xnnpack = card["validation"], card["xnnpack"]
    accuracy = "n/a" if card["accuracy"] is None else f"{card['accuracy']:.4f}"
    return (f"{card['mode']} -> {path} ({card['size_bytes'] / 1e6:.2f} MB, sha256 "
            f"{card['sha256'][:12]})\n"
            f"  validation: {validation['agreement']:.2%} argmax agreement on "
            f"{validation['examples']} examples, max |logit diff| {validation['max_abs_logit_diff']:.3g}\n"
            f"  XNNPACK: {xnnpack['xnnpack_partitions']} partition(s), "
            f"{xnnpack['ops_outside_xnnpack']}/{xnnpack['nodes']} ops outside {xnnpack['outside_ops']}\n"
            f"  test accuracy (.tflite): {accuracy}")


def main(argv):
    del argv
    run_or_exit(run, FLAGS)
