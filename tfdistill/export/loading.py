"""Loading the model an export script is pointed at: a Hugging Face folder or a Keras `.h5`."""

import os

H5_SUFFIXES = (".h5", ".hdf5")


def load_classifier(path):
    """Loads a classifier to export.

    Args:
        path: str, a Hugging Face BERT folder (`config.json` + `model.safetensors`, loaded with
            `tfdistill.load_pretrained`) or a QAT student `.h5` written by
            `tfdistill.compress.save_quantized` (loaded with `compress.load_quantized`).

    Returns:
        tf_keras model.

    Raises:
        FileNotFoundError: nothing at `path`.
        ValueError: a file that is not `.h5` (`.keras` QAT models do not load back; save QAT
            students with `tfdistill.compress.save_quantized(model, "student.h5")`).

    Example:
    >>> import tfdistill
    >>> tfdistill.save_pretrained(student, "runs/student")
    >>> load_classifier("runs/student").bert_config.num_layers
    2
    >>> load_classifier("runs/student.keras")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: No model at 'runs/student.keras'; ...
    """
    import tfdistill

    path = os.fspath(path)
    if os.path.isdir(path):
        return tfdistill.load_pretrained(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model at {path!r}; pass a Hugging Face model folder or a "
                                "tf_keras .h5 file.")
    if not path.endswith(H5_SUFFIXES):
        raise ValueError(f"{path!r} is neither a model folder nor a .h5 file; save QAT students "
                         "with tfdistill.compress.save_quantized(model, 'student.h5').")
    return _load_h5(path)


def tokenizer_folder(model_path, tokenizer_path=None):
    """Returns the folder to load the tokenizer from: `tokenizer_path`, else the model's folder.

    Example:
    >>> tokenizer_folder("/work/runs/qat/student.h5")  # a file's folder is made absolute
    '/work/runs/qat'
    >>> tokenizer_folder("runs/qat/student.h5", tokenizer_path="runs/student")
    'runs/student'
    """
    if tokenizer_path:
        return tokenizer_path
    return model_path if os.path.isdir(model_path) else os.path.dirname(os.path.abspath(model_path))


def _load_h5(path):
    from tfdistill import compress

    return compress.load_quantized(path)
