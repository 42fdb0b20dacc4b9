"""Publishing a trained model's folder: the one layout every recipe writes."""

import os

from tfdistill.data.labels import is_placeholder
from tfdistill.models.bert.checkpoint import write_pretrained_files
from tfdistill.utils import atomic


def write_model_folder(output_dir, model, tokenizer, data, metrics, extra=None):
    """Publishes a model folder atomically: HF-format weights and config, tokenizer files,
    `labels.txt` and `metrics.json` (written last).

    Args:
        output_dir: str, the (already checked) output folder; an earlier tfdistill output there is replaced.
        model: a BERT without tfmot wrappers, for `model.safetensors`.
        tokenizer: `tfdistill.Tokenizer`.
        data: `TextClassificationData` (for `labels.txt`).
        metrics: dict written as `metrics.json`.
        extra: optional callable `extra(folder)` writing more files into the temporary folder.

    Raises:
        ValueError: the model names its classes (`config.json` `id2label`) otherwise than the
            data (`labels.txt`): the folder would contradict itself.

    Example:
    >>> write_model_folder("runs/student", student, tokenizer, data, {"test_accuracy": 0.81})  # doctest: +SKIP
    """
    names = list(model.bert_config.label_names or [])
    if not is_placeholder(names) and names != list(data.label_names):
        raise ValueError(f"The model names its classes {names} but the data {list(data.label_names)}; "
                         "config.json and labels.txt would disagree. Load the data in the model's class "
                         "order (tfdistill.training.classifier.load_classifier_and_data).")
    with atomic.atomic_dir(output_dir, kind="model") as tmp:
        write_pretrained_files(model, tmp, tokenizer)
        data.save_label_names(os.path.join(tmp, "labels.txt"))
        if extra is not None:
            extra(tmp)
        atomic.write_json(os.path.join(tmp, "metrics.json"), metrics)
