"""Hugging Face-format checkpoints: `config.json` + `model.safetensors`, read and written
through safetensors' numpy API (no torch, no pickle).

Both naming schemes are read: PyTorch-style (`encoder.layer.0.attention.self.query.weight`,
kernels `[out, in]`) and the TF-style names that transformers' TF `save_pretrained` writes
(`bert/encoder/layer_._0/attention/self/query/kernel:0`, kernels `[in, out]`). Files are written
PyTorch-style, which tfdistill, transformers (PyTorch and TF) and keras-hub all read.
"""

import json
import logging
import os
import re

import numpy as np

from tfdistill.models.bert.bert_config import BertConfig
from tfdistill.utils import atomic

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
# Heads tfdistill does not build (masked-LM, NSP) and non-weight buffers.
_IGNORED = re.compile(r"^(cls\.|embeddings\.position_ids$)")
# Weights a checkpoint may lack: initialised and reported, but a classifier folder lacking them
# is refused unless the caller asks for a new head (`_check_fresh_head`).
_OPTIONAL = re.compile(r"^(pooler\.|classifier\.)")
# Weight files tfdistill refuses to read: pickles (PyTorch, joblib) and transformers' TF h5.
_OTHER_WEIGHT_FORMATS = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".h5")

_log = logging.getLogger(__name__)


def _hf_layer_names(config):
    """Yields `(hf_module, keras_layer)` pairs for every weight-holding module."""
    yield "embeddings.word_embeddings", "word_embeddings"
    if config.embedding_size:
        yield "embeddings.word_embeddings_projection", "word_embeddings_projection"
    yield "embeddings.position_embeddings", "position_embeddings"
    yield "embeddings.token_type_embeddings", "token_type_embeddings"
    yield "embeddings.LayerNorm", "embeddings_layer_norm"
    for i in range(config.num_layers):
        hf, keras_name = f"encoder.layer.{i}.", f"layer_{i}_"
        yield hf + "attention.self.query", keras_name + "query"
        yield hf + "attention.self.key", keras_name + "key"
        yield hf + "attention.self.value", keras_name + "value"
        yield hf + "attention.output.dense", keras_name + "attention_output"
        yield hf + "attention.output.LayerNorm", keras_name + "attention_layer_norm"
        yield hf + "intermediate.dense", keras_name + "intermediate"
        yield hf + "output.dense", keras_name + "output"
        yield hf + "output.LayerNorm", keras_name + "output_layer_norm"
    yield "pooler.dense", "pooler"
    if config.num_labels:
        yield "classifier", "classifier"


def weight_map(model):
    """Maps PyTorch-style HF names to the model's variables.

    Args:
        model: a model from `build_bert` (or any model with the same layer names).

    Returns:
        dict `{hf_name: (variable, is_kernel)}`; a kernel is stored transposed in HF files.
    """
    mapping = {}
    for hf_module, layer_name in _hf_layer_names(model.bert_config):
        layer = model.get_layer(layer_name)
        for variable in layer.weights:
            short = variable.name.split("/")[-1].split(":")[0]
            suffix = {"kernel": "weight", "gamma": "weight", "embeddings": "weight", "beta": "bias"}.get(short, short)
            mapping[f"{hf_module}.{suffix}"] = (variable, short == "kernel")
    return mapping


def canonical_name(name):
    """Returns `(pytorch_style_name, stored_as_tf_kernel)` for a tensor name of either scheme.

    Example:
    >>> canonical_name("bert/encoder/layer_._0/attention/self/query/kernel:0")
    ('encoder.layer.0.attention.self.query.weight', True)
    >>> canonical_name("bert.embeddings.LayerNorm.gamma")
    ('embeddings.LayerNorm.weight', False)
    """
    tf_kernel = False
    if "/" in name or name.endswith(":0"):
        parts = re.sub(r":\d+$", "", name).replace("layer_._", "layer/").split("/")
        tf_kernel = parts[-1] == "kernel"
        parts[-1] = {"kernel": "weight", "gamma": "weight", "beta": "bias", "embeddings": "weight"}.get(
            parts[-1], parts[-1])
        name = ".".join(parts)
    name = re.sub(r"\.gamma$", ".weight", re.sub(r"\.beta$", ".bias", name))
    if name.startswith("bert."):
        name = name[len("bert."):]
    return name, tf_kernel


def load_config(path, num_labels=None):
    """Reads a Hugging Face `config.json` (a file or the folder holding it) as a `BertConfig`.

    Args:
        path: str, a folder or a `config.json` path.
        num_labels: optional int, overrides the labels the file declares.

    Raises:
        FileNotFoundError: no `config.json` there.
        ValueError: the file is not valid JSON or not a BERT config.
    """
    config_path = os.path.join(path, CONFIG_FILE) if os.path.isdir(path) else path
    if not os.path.isfile(config_path):
        raise FileNotFoundError(
            f"No {CONFIG_FILE} at {path!r}. Pass a Hugging Face model folder "
            f"(config.json + model.safetensors), e.g. tfdistill.default_teacher_path()."
        )
    try:
        with open(config_path, encoding="utf-8") as f:
            hf = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{config_path} is not valid JSON ({error}); re-export the model folder.") from None
    if not isinstance(hf, dict):
        raise ValueError(f"{config_path} must hold a JSON object, got {type(hf).__name__}; re-export the "
                         "model folder (tfdistill.save_pretrained or transformers' save_pretrained).")
    try:
        return BertConfig.from_hf_dict(hf, num_labels=num_labels)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        # A wrong field type (e.g. id2label keys that are not ids) would otherwise surface as a bare
        # "invalid literal for int()" with no file named.
        detail = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
        raise ValueError(
            f"{config_path} is not a usable BERT config ({detail.rstrip('.')}). Fix that field, or re-export "
            "the model folder with tfdistill.save_pretrained or transformers' save_pretrained.") from None


def read_safetensors(path):
    """Reads every tensor of a `.safetensors` file as numpy, with a clear error if corrupt."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return load_file(path)
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(
            f"{path} is not a readable safetensors file ({error}). It may be truncated or "
            "corrupt; copy or export it again."
        ) from None


def _weights_path(folder):
    path = os.path.join(folder, WEIGHTS_FILE)
    if os.path.isfile(path):
        return path
    other = sorted(name for name in os.listdir(folder) if name.endswith(_OTHER_WEIGHT_FORMATS))
    hint = (f" The folder has {other}: tfdistill never unpickles files (a pickle can run code when "
            "loaded); convert them to safetensors with transformers' "
            "`save_pretrained(..., safe_serialization=True)`.") if other else (
        " Pass a folder written by tfdistill.save_pretrained or by transformers' "
        "`save_pretrained(..., safe_serialization=True)`.")
    raise FileNotFoundError(f"No {WEIGHTS_FILE} in {folder!r}.{hint}")


def load_pretrained(path, num_labels=None, name="bert"):
    """Loads a Hugging Face-format BERT folder into a tfdistill model.

    Args:
        path: str, a folder with `config.json` and `model.safetensors`.
        num_labels: optional int >= 2. Adds (or keeps) a classification head with that many
            labels, starting it fresh when the checkpoint has none: pass it to fine-tune a base
            model. When omitted, the head is built only if the checkpoint has one (config.json
            declares a classifier, or the weights hold one), and it must then be complete.
        name: str, the model name.

    Returns:
        A `BertModel` from `build_bert`, with every tensor of the checkpoint loaded. Weights the
        checkpoint lacks (a new classifier or pooler, with `num_labels`) keep their fresh
        initialisation and are logged: a warning when config.json declares a classifier whose
        weights are missing.

    Raises:
        FileNotFoundError: the folder, its config or its weights are missing.
        ValueError: a tensor is missing, has the wrong shape, or the file is corrupt; or, without
            `num_labels`, the folder is a classifier whose head (classifier or pooler) is missing.

    Example:
    >>> import numpy as np, tfdistill
    >>> tfdistill.save_pretrained(student, "runs/student", tokenizer)
    >>> copy = tfdistill.load_pretrained("runs/student")
    >>> copy.bert_config.num_layers, copy.bert_config.label_names  # unnamed labels get HF's names
    (2, ('LABEL_0', 'LABEL_1'))
    >>> all(np.array_equal(a, b) for a, b in zip(copy.get_weights(), student.get_weights()))
    True

    The shipped teacher (a 6-layer MiniLM without a classifier) with a new 2-way head:

    >>> teacher = tfdistill.load_pretrained(tfdistill.default_teacher_path(), num_labels=2)  # doctest: +SKIP
    """
    from tfdistill.models.bert.bert_model import build_bert

    if not os.path.isdir(path):
        raise FileNotFoundError(f"Model folder {path!r} does not exist.")
    weights_path = _weights_path(path)
    tensors = {}
    for stored_name, array in read_safetensors(weights_path).items():
        canonical, tf_kernel = canonical_name(stored_name)
        tensors[canonical] = array.T if tf_kernel else array
    config = load_config(path, num_labels=num_labels)
    if config.num_labels is None and "classifier.weight" in tensors:
        config = config.replace(num_labels=int(tensors["classifier.bias"].shape[0]))
    model = build_bert(config, name=name)
    fresh = _assign(model, tensors, weights_path)
    _check_fresh_head(fresh, config, path, num_labels)
    return model


def _check_fresh_head(fresh, config, path, num_labels):
    """Refuses a classifier folder whose head is missing, unless `num_labels` asks for a new head.

    A missing head used to be an INFO line and a random head: a teacher that then predicted
    noise, and a student distilled from it. Fine-tuning a base model is the one case where a
    fresh head is meant, and that caller passes `num_labels`.
    """
    if not fresh:
        return
    if config.num_labels and num_labels is None:
        raise ValueError(
            f"{path} is a {config.num_labels}-label classifier (config.json or its classifier tensors say so) "
            f"but {WEIGHTS_FILE} lacks {fresh}: its classification head would be random and every prediction "
            "noise. Copy or export the fine-tuned folder again with its head (tfdistill.save_pretrained, or "
            "transformers' save_pretrained(..., safe_serialization=True)); to start a fresh head on purpose, "
            "fine-tune it (recipes/finetune_teacher.py --model=..., or load_pretrained(path, num_labels=...)).")
    declared = load_config(path).num_labels
    if declared and any(name.startswith("classifier.") for name in fresh):
        _log.warning("%s declares a %d-label classifier in config.json, but %s has no weights %s: starting a "
                     "fresh, random head because num_labels=%d was passed (fine-tuning). If the folder is a "
                     "fine-tuned classifier, its head is lost; export it again.",
                     path, declared, WEIGHTS_FILE, fresh, num_labels)
    else:
        _log.info("Newly initialised (not in %s): %s", os.path.join(path, WEIGHTS_FILE), fresh)


def _assign(model, tensors, source):
    mapping = weight_map(model)
    fresh, values = [], []
    for hf_name, (variable, is_kernel) in mapping.items():
        if hf_name not in tensors:
            if not _OPTIONAL.match(hf_name):
                raise ValueError(
                    f"{source} has no tensor {hf_name!r}; the file is incomplete or does not "
                    "match config.json (check num_hidden_layers).")
            fresh.append(hf_name)
            continue
        array = tensors[hf_name].T if is_kernel else tensors[hf_name]
        if tuple(array.shape) != tuple(variable.shape):
            raise ValueError(
                f"Tensor {hf_name!r} in {source} has shape {tuple(array.shape)} but the model "
                f"expects {tuple(variable.shape)}; config.json and the weights disagree. Fix config.json's "
                "sizes (hidden_size, intermediate_size, vocab_size) or re-export the folder.")
        values.append((variable, array.astype(np.float32)))
    for variable, array in values:
        variable.assign(array)
    unused = sorted(n for n in set(tensors) - set(mapping) if not _IGNORED.match(n))
    if unused:
        _log.warning("Unused tensors in %s: %s", source, unused)
    return fresh


def save_pretrained(model, path, tokenizer=None, overwrite=True, model_card=None):
    """Writes a model as a Hugging Face-format folder, atomically.

    The folder holds `config.json` (with `num_labels`/`id2label` for classifiers) and
    `model.safetensors` with PyTorch-style names, so it loads back in tfdistill,
    transformers (PyTorch or TF) and keras-hub. The folder appears complete or not at all.

    Args:
        model: a model from `build_bert`/`load_pretrained`.
        path: str, the output folder: new, empty, or an earlier tfdistill output.
        tokenizer: optional `tfdistill.Tokenizer`; its files are written too.
        overwrite: bool, whether an earlier tfdistill output at `path` may be replaced. A file
            or a folder that tfdistill did not write is never replaced.
        model_card: optional `tfdistill.models.model_card.ModelCardData`: the folder then also
            gets a `README.md` model card, completed with what the model tells
            (`write_card_for_model`).

    Raises:
        OutputConflictError (a ValueError): `path` is a file, a folder tfdistill did not write,
            an earlier output with `overwrite=False`, or being written by another process.

    Example:
    >>> import os, tfdistill
    >>> tfdistill.save_pretrained(student, "runs/student", tokenizer=tokenizer)
    >>> sorted(os.listdir("runs/student"))
    ['.tfdistill.json', 'config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json',
     'vocab.txt']
    """
    with atomic.atomic_dir(path, overwrite=overwrite, kind="model") as tmp:
        write_pretrained_files(model, tmp, tokenizer)
        if model_card is not None:
            write_card_for_model(model, tmp, model_card)


def write_pretrained_files(model, folder, tokenizer=None):
    """Writes `config.json`, `model.safetensors` (and the tokenizer) into an existing folder.

    Not atomic by itself: call it inside `tfdistill.utils.atomic.atomic_dir` when the folder
    gets more files (metrics, labels) before it is published; `save_pretrained` does that.
    """
    from safetensors.numpy import save_file

    config = model.bert_config
    prefix = "bert." if config.num_labels else ""
    tensors = {}
    for hf_name, (variable, is_kernel) in weight_map(model).items():
        array = variable.numpy()
        key = hf_name if hf_name.startswith("classifier.") else prefix + hf_name
        tensors[key] = np.ascontiguousarray(array.T if is_kernel else array)
    save_file(tensors, os.path.join(folder, WEIGHTS_FILE), metadata={"format": "pt"})
    atomic.write_json(os.path.join(folder, CONFIG_FILE), config.to_hf_dict())
    if tokenizer is not None:
        tokenizer.save_pretrained(folder)


def count_params(model):
    """Returns `(total, non_embedding)` parameter counts of a BERT model.

    Non-embedding excludes the word, position and token-type tables (and a factorised table's
    projection), as papers report it.
    """
    embedding_layers = ("word_embeddings", "position_embeddings", "token_type_embeddings")
    if getattr(model.bert_config, "embedding_size", None):
        embedding_layers += ("word_embeddings_projection",)
    total = model.count_params()
    return total, total - sum(model.get_layer(name).count_params() for name in embedding_layers)


def write_card_for_model(model, folder, card):
    """Writes `folder/README.md`: `card` completed with what the saved model itself tells.

    The architecture, parameter counts and the size of `model.safetensors` come from the model
    and the folder (always: they describe these weights); the class names from the model's
    config when the card has none. Call it after `write_pretrained_files`, inside the
    `atomic_dir` that publishes the folder.

    Args:
        model: the model whose files are in `folder`.
        folder: str, the folder holding its `model.safetensors`.
        card: `tfdistill.models.model_card.ModelCardData`, the facts only the caller knows
            (accuracy, data, training).

    Returns:
        str, the path of `README.md`.

    Example:
    >>> import os
    >>> from tfdistill.models.model_card import ModelCardData
    >>> os.makedirs("runs/student")  # save_pretrained: the `atomic_dir` being published
    >>> write_pretrained_files(student, "runs/student", tokenizer)
    >>> write_card_for_model(student, "runs/student", ModelCardData(name="student"))
    'runs/student/README.md'
    """
    from tfdistill.models.model_card import write_model_card

    config = model.bert_config
    total, non_embedding = count_params(model)
    weights = os.path.join(folder, WEIGHTS_FILE)
    card = card.replace(architecture=config.get_config(), params=total, non_embedding_params=non_embedding,
                        size_bytes=os.path.getsize(weights) if os.path.isfile(weights) else None,
                        label_names=tuple(card.label_names or config.label_names or ()))
    return write_model_card(folder, card)
