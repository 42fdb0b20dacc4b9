"""Loading a trained classifier for a dataset, with its head and class names checked against the
dataset's classes (see `tfdistill.data.labels` for the rules)."""

import logging

from tfdistill.data import datasets, labels

_log = logging.getLogger(__name__)


def load_classifier(path, data, role="student", fix="train it on this dataset first."):
    """Loads a BERT classifier folder and checks its head and class names match the dataset's.

    Use it where the data's class order is fixed already (e.g. a teacher for a student that was
    loaded first); `load_classifier_and_data` maps the data to the model's order instead.

    Args:
        path, data, role, fix: as in `load_classifier_and_data`.

    Returns:
        The `BertModel`. When its config carries only the placeholder names `LABEL_<i>`, they
        are replaced by the dataset's names (a warning says so: the order cannot be checked).

    Raises:
        FileNotFoundError: no model folder at `path`.
        ValueError: the head does not match, its weights are missing, the class names differ
            from the dataset's, or they are the same names in another order.

    Example:
    >>> import tfdistill
    >>> tfdistill.save_pretrained(teacher, "runs/teacher", tokenizer=tokenizer)
    >>> loaded = load_classifier("runs/teacher", data, role="teacher")
    >>> loaded.bert_config.label_names  # it had the placeholders LABEL_0, LABEL_1: named after the data
    ('neg', 'pos')
    """
    model, ordered = load_classifier_and_data(path, data, role, fix)
    if ordered is not data:
        raise ValueError(
            f"The {role} at {path} orders its classes {list(ordered.label_names)}, but the data (and the model "
            f"loaded with it) uses {list(data.label_names)}: its outputs would be read as the wrong classes. Use "
            f"a {role} whose config.json id2label lists the classes as {list(data.label_names)} (e.g. the one "
            "the student was distilled from).")
    return model


def load_classifier_and_data(path, data, role="student", fix="train it on this dataset first."):
    """Loads a BERT classifier folder and returns it with the dataset in the model's class order.

    Args:
        path: str, a Hugging Face-format folder.
        data: `TextClassificationData`.
        role: str, `"student"` or `"teacher"`, for the messages.
        fix: str, what the message tells the user to do about a head of the wrong size.

    Returns:
        `(model, data)`: the `BertModel`, and `data` with its class ids following the model's
        `id2label` (`data` itself when they already do; a warning says when they did not).

    Raises:
        FileNotFoundError: no model folder at `path`.
        ValueError: the head does not match the number of classes, its weights are missing,
            or the class names differ from the dataset's (the message names both sets).

    Example:
    >>> import tfdistill
    >>> tfdistill.save_pretrained(teacher, "runs/teacher", tokenizer=tokenizer)
    >>> loaded, ordered = load_classifier_and_data("runs/teacher", data, role="teacher")
    >>> ordered is data, loaded.bert_config.num_labels
    (True, 2)
    """
    import tfdistill

    model = tfdistill.load_pretrained(path)
    config = model.bert_config
    if config.num_labels != data.num_classes:
        raise ValueError(
            f"The {role} at {path} has {config.num_labels or 'no'} classification labels but the "
            f"dataset has {data.num_classes}; {fix}")
    data = data_in_model_order(config, data, role, path)
    if labels.is_placeholder(config.label_names):
        model.bert_config = config.replace(label_names=tuple(data.label_names))
    return model, data


def data_in_model_order(config, data, role="model", path=None):
    """Returns the dataset with its class ids in the order of a model's `id2label`.

    Args:
        config: `BertConfig` of the model (None, or no label names: `data` is returned as is).
        data: `TextClassificationData`.
        role: str, how the messages name the model (`"teacher"`, `"student"`, `"model"`).
        path: optional str, where the model is, for the messages.

    Returns:
        `TextClassificationData`: `data` itself when the order already agrees or the model has no
        real names (`LABEL_<i>`: a warning says the order cannot be checked), else `data` with
        its ids mapped by name (a warning names both orders).

    Raises:
        ValueError: the model's class names and the dataset's differ as sets.

    Example:
    >>> data.label_names, data.train.labels[:4].tolist()
    (['neg', 'pos'], [1, 0, 0, 1])
    >>> config = student.bert_config.replace(label_names=("pos", "neg"))  # a model's id2label
    >>> ordered = data_in_model_order(config, data, "teacher")
    >>> ordered.label_names, ordered.train.labels[:4].tolist()
    (['pos', 'neg'], [0, 1, 1, 0])
    >>> data_in_model_order(student.bert_config, data) is data  # LABEL_0, LABEL_1: taken as they are
    True
    """
    names = None if config is None else config.label_names
    where = f"The {role}" + (f" at {path}" if path else "")
    if config is None or not config.num_labels:
        return data
    if labels.is_placeholder(names):
        _log.warning("%s has no class names in config.json (%s): taking its output i as class i of the dataset's "
                     "%s, which cannot be checked. Save the model with id2label names to have it checked.",
                     where, list(names) if names else "no id2label", list(data.label_names))
        return data
    fix = (f"Relabel the data with the {role}'s class names, or use a {role} trained on the classes "
           f"{list(data.label_names)}.")
    ordered = datasets.reorder_classes(data, names, source=where, fix=fix)
    if ordered is not data:
        _log.warning("%s orders its classes %s (config.json id2label); the dataset's order was %s. "
                     "Mapped the data to the %s's order by name: class ids, labels.txt and reports follow it.",
                     where, list(names), list(data.label_names), role)
    return ordered
