"""Loading a trained classifier for a dataset, with the head checked against its classes."""


def load_classifier(path, data, role="student", fix="train it on this dataset first."):
    """Loads a BERT classifier folder and checks its head matches the dataset's classes.

    Args:
        path: str, a Hugging Face-format folder.
        data: `TextClassificationData`.
        role: str, `"student"` or `"teacher"`, for the message.
        fix: str, what the message tells the user to do about a mismatch.

    Raises:
        FileNotFoundError: no model folder at `path`.
        ValueError: the head does not match.

    Example:
    >>> teacher = load_classifier("runs/teacher", data, role="teacher")  # doctest: +SKIP
    """
    import tfdistill

    model = tfdistill.load_pretrained(path)
    if model.bert_config.num_labels != data.num_classes:
        raise ValueError(
            f"The {role} at {path} has {model.bert_config.num_labels or 'no'} classification labels but the "
            f"dataset has {data.num_classes}; {fix}")
    return model
