"""Hugging Face-style `README.md` model cards for the model folders tfdistill saves.

A card is YAML front matter (what the Hugging Face Hub indexes: library, task, tags, base model,
`model-index` results) followed by Markdown sections: description, intended uses, how to use,
training data, training procedure, evaluation, size and speed, limitations. It is rendered from
plain facts (`ModelCardData`) and states only what was measured: a section with nothing
measured says "not measured" (or "not recorded") instead of showing a number.

This module is a bottom layer: standard library and `tfdistill.utils` only, no TensorFlow.
`tfdistill.models.bert.checkpoint.write_card_for_model` fills in the facts a saved model
itself tells (architecture, parameters, size on disk) and writes the card.
"""

import dataclasses
import json
import math
import os
import re
from typing import Optional, Tuple

from tfdistill.utils import atomic

README_FILE = "README.md"
NOT_MEASURED = "not measured"
NOT_RECORDED = "not recorded"
# Characters Markdown (CommonMark, GitHub tables) reads as syntax anywhere in a line (`(`, `!`, `.`
# only count after a `]`, `[` or at a line start, which are escaped here too), and line starts
# that open a heading, list, quote or ordered list.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_BLOCK_START = re.compile(r"^([#+\-=])")
_ORDERED_LIST_START = re.compile(r"^(\d+)([.)])")
# A string YAML reads back unchanged without quotes (no number, bool or null look-alikes).
_PLAIN_YAML = re.compile(r"^[A-Za-z][A-Za-z0-9_./-]*$")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}
_EXAMPLE_TEXTS = ("A gripping, beautifully acted drama.", "Two hours I will never get back.")


@dataclasses.dataclass(frozen=True)
class ModelCardData:
    """The facts a model card states. Every field is optional but `name`; what is left empty
    is reported as not measured or not recorded, never guessed.

    Args:
        name: str, the model's name (the card's title and `model-index` name).
        kind: str, what the model is, e.g. `"distilled student"`, `"fine-tuned classifier"`.
        folder: optional str, the folder path the "How to use" snippets load.
        label_names: tuple of str, the classes in id order (empty: an encoder without a head).
        base_model: optional str, the path or name of the model it was trained from.
        base_model_role: str, how the card names `base_model` (`"teacher"`, `"base model"`).
        base_model_id: optional str, a Hugging Face Hub model id for the front matter's
            `base_model` (the Hub refuses a `base_model` that is not a model id, so a local path
            stays in `base_model` only).
        guided_by: optional str, a teacher that guided training when `base_model` is not one.
        license: optional str, a Hub license id; omitted from the front matter when None.
        tags: tuple of str, extra front-matter tags (e.g. `"distillation"`).
        dataset_name: optional str, the training data's name.
        data_description: optional str, where the data comes from and how it was split.
        num_examples: dict `{split: int}`.
        text_pairs: bool, whether each example is a pair of texts.
        losses: tuple of loss-term dicts (`{"loss": ..., "weight": ...}`) or str.
        hyperparameters: dict `{name: value}` of the training settings that were recorded.
        max_length: optional int, the tokenized length the model was trained and evaluated at.
        epochs_run: optional int, training epochs that ran.
        train_seconds: optional float, training wall time.
        details: tuple of `(label, text)` pairs, more training facts (sparsity, best epoch).
        architecture: dict, a `BertConfig.get_config()`.
        accuracy: dict `{split: float}` of this model's measured accuracy.
        accuracy_of: optional str, what `accuracy` was measured on when it is not this
            folder's weights (then it stays out of `model-index`).
        reference_name: optional str, a model to compare with (e.g. `"teacher"`).
        reference_accuracy: dict `{split: float}`, the reference's accuracy.
        params: optional int, all parameters.
        non_embedding_params: optional int, parameters outside the embedding tables.
        size_bytes: optional int, the weights file's size.
        latency: optional dict with `p50_ms` (and optionally `p90_ms`, `threads`, `setting`).

    Example:
    >>> card = ModelCardData(name="student", label_names=("negative", "positive"),
    ...                      accuracy={"test": 0.8125}, num_examples={"test": 1285})
    >>> "81.25%" in render_model_card(card)
    True
    """

    name: str
    kind: str = "model"
    folder: Optional[str] = None
    label_names: Tuple[str, ...] = ()
    base_model: Optional[str] = None
    base_model_role: str = "base model"
    base_model_id: Optional[str] = None
    guided_by: Optional[str] = None
    license: Optional[str] = None
    tags: Tuple[str, ...] = ()
    dataset_name: Optional[str] = None
    data_description: Optional[str] = None
    num_examples: dict = dataclasses.field(default_factory=dict)
    text_pairs: bool = False
    losses: tuple = ()
    hyperparameters: dict = dataclasses.field(default_factory=dict)
    max_length: Optional[int] = None
    epochs_run: Optional[int] = None
    train_seconds: Optional[float] = None
    details: tuple = ()
    architecture: dict = dataclasses.field(default_factory=dict)
    accuracy: dict = dataclasses.field(default_factory=dict)
    accuracy_of: Optional[str] = None
    reference_name: Optional[str] = None
    reference_accuracy: dict = dataclasses.field(default_factory=dict)
    params: Optional[int] = None
    non_embedding_params: Optional[int] = None
    size_bytes: Optional[int] = None
    latency: Optional[dict] = None

    def replace(self, **changes):
        """Returns a copy with `changes` applied."""
        return dataclasses.replace(self, **changes)

    def get_config(self):
        """Returns a JSON-serialisable dict; `ModelCardData.from_config` inverts it."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_config(cls, config):
        """Builds the data from `get_config()` output, refusing unknown keys."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"Unknown ModelCardData fields {unknown}; known fields are {sorted(known)}.")
        tuples = {"label_names", "tags", "losses"}
        config = {key: tuple(value) if key in tuples else value for key, value in config.items()}
        config["details"] = tuple(tuple(pair) for pair in config.get("details", ()))
        return cls(**config)


def write_model_card(folder, card):
    """Writes the card as `folder/README.md`, atomically.

    Inside `atomic_dir` (as `write_model_folder` and `save_pretrained` call it) the card is
    part of the folder's one publication.

    Args:
        folder: str, an existing folder.
        card: `ModelCardData`.

    Returns:
        str, the path written.

    Example:
    >>> import os
    >>> os.makedirs("runs/student")
    >>> write_model_card("runs/student", ModelCardData(name="student"))
    'runs/student/README.md'
    """
    path = os.path.join(folder, README_FILE)
    atomic.write_text(path, render_model_card(card))
    return path


def render_model_card(card):
    """Returns the card as Markdown with YAML front matter.

    Args:
        card: `ModelCardData`.

    Returns:
        str.

    Example:
    >>> render_model_card(ModelCardData(name="student")).splitlines()[:3]
    ['---', 'tags:', '- tfdistill']
    """
    sections = (_description, _intended_uses, _how_to_use, _training_data, _training_procedure,
                _evaluation, _size_and_speed, _limitations)
    body = "\n\n".join(section(card) for section in sections)
    return f"---\n{_front_matter(card)}---\n\n# {escape_markdown(card.name, line_start=True)}\n\n{body}\n"


def escape_markdown(text, line_start=False):
    """Returns `text` on one line with every Markdown-significant character backslash-escaped,
    so a class or folder name shows as written and never as formatting, HTML or a table cell.

    Args:
        text: any value (shown as `str(text)`).
        line_start: bool, whether the text begins a line, where `#`, `-`, `1.` open blocks.

    Example:
    >>> escape_markdown("very_good | *5 stars*")
    'very\\\\_good \\\\| \\\\*5 stars\\\\*'
    >>> escape_markdown("1. first", line_start=True)
    '1\\\\. first'
    """
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    if line_start:
        text = _ORDERED_LIST_START.sub(r"\1\\\2", _BLOCK_START.sub(r"\\\1", text))
    return text


def transformers_incompatibility(architecture):
    """Returns why Hugging Face transformers' BERT cannot load a folder of this architecture,
    or None when it can (or when the architecture is unknown: then nothing is claimed either way
    by this function; `render_model_card` only claims transformers support for a known one).

    Args:
        architecture: dict, a `BertConfig.get_config()`.

    Example:
    >>> transformers_incompatibility({"hidden_size": 384, "num_heads": 6, "attention_head_size": 32}).split(" (")[0]
    'its 6 attention heads of width 32 are narrower than the hidden size 384'
    >>> transformers_incompatibility({"hidden_size": 384, "num_heads": 12}) is None
    True
    """
    hidden, heads = architecture.get("hidden_size"), architecture.get("num_heads")
    head_size = architecture.get("attention_head_size")
    if hidden and heads and head_size and heads * head_size != hidden:
        return (f"its {heads} attention heads of width {head_size} are narrower than the hidden size {hidden} "
                "(transformers' BERT needs heads x width = hidden size)")
    return None


def _loads_in_transformers(card):
    return bool(card.architecture) and transformers_incompatibility(card.architecture) is None


# Front matter


def _front_matter(card):
    meta = {}
    if _loads_in_transformers(card):
        meta["library_name"] = "transformers"
    if card.label_names:
        meta["pipeline_tag"] = "text-classification"
    meta["tags"] = list(dict.fromkeys(("tfdistill", "bert", "tf-keras", *card.tags)))
    if card.license:
        meta["license"] = card.license
    if card.base_model_id:
        meta["base_model"] = card.base_model_id
    if _measured(card.accuracy):
        meta["metrics"] = ["accuracy"]
    results = _model_index_results(card)
    if results:
        meta["model-index"] = [{"name": card.name, "results": results}]
    return "".join(line + "\n" for line in _yaml_lines(meta))


def _model_index_results(card):
    """One `model-index` result per measured split, only for accuracy of this folder's weights
    on a named dataset (the Hub needs a dataset `type`)."""
    if card.accuracy_of or not card.dataset_name or not card.label_names:
        return []
    return [{"task": {"type": "text-classification", "name": "Text Classification"},
             "dataset": {"type": card.dataset_name, "name": _dataset_label(card, split), "split": split},
             "metrics": [{"type": "accuracy", "value": round(value, 4), "name": f"{split} accuracy"}]}
            for split, value in _measured(card.accuracy).items()]


def _dataset_label(card, split):
    """The dataset's name with the split's size: a score from 48 examples must not read like a benchmark."""
    count = card.num_examples.get(split)
    return f"{card.dataset_name} ({count:,} {split} examples)" if count else card.dataset_name


def _yaml_lines(value, indent=0):
    """Block-style YAML for dicts, lists and scalars (front matter needs nothing more)."""
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_scalar(item) or not item:
                yield f"{pad}{key}: {_yaml_scalar(item) if _is_scalar(item) else json.dumps(item)}"
            else:
                yield f"{pad}{key}:"  # a list's dashes stay at the key's column, as the Hub writes them
                yield from _yaml_lines(item, indent if isinstance(item, (list, tuple)) else indent + 2)
        return
    for item in value:
        if _is_scalar(item):
            yield f"{pad}- {_yaml_scalar(item)}"
            continue
        first, *rest = _yaml_lines(item, indent + 2)
        yield f"{pad}- {first.lstrip()}"
        yield from rest


def _is_scalar(value):
    return not isinstance(value, (dict, list, tuple))


def _yaml_scalar(value):
    if isinstance(value, str):
        plain = _PLAIN_YAML.match(value) and value.lower() not in _YAML_WORDS
        return value if plain else json.dumps(value)  # a JSON string is a YAML double-quoted one
    return json.dumps(value)


# Sections


def _description(card):
    parts = [f"A {escape_markdown(card.kind)}: a BERT text classifier" if card.label_names
             else f"A {escape_markdown(card.kind)}: a BERT encoder without a classification head"]
    shape = _architecture_summary(card.architecture)
    if shape:
        parts.append(f" ({shape})")
    if card.base_model:
        source = card.base_model_id or card.base_model
        parts.append(f", trained from the {escape_markdown(card.base_model_role)} {_code(source)}")
    if card.guided_by:
        parts.append(f" with the teacher {_code(card.guided_by)} guiding it")
    parts.append(". Saved by tfdistill as a Hugging Face-format folder (`config.json`, float32 "
                 "`model.safetensors`).")
    text = "".join(parts)
    labels = ", ".join(_code(name) for name in card.label_names) if card.label_names else "none"
    return f"## Model description\n\n{text}\n\n- Classes (in id order): {labels}"


def _architecture_summary(architecture):
    if not architecture:
        return ""
    keys = ("num_layers", "hidden_size", "num_heads", "intermediate_size")
    if not all(architecture.get(key) for key in keys):
        return ""
    head = architecture.get("attention_head_size") or architecture["hidden_size"] // architecture["num_heads"]
    layers = architecture["num_layers"]
    return (f"{layers} layer{'s' if layers != 1 else ''}, hidden size {architecture['hidden_size']}, "
            f"{architecture['num_heads']} heads of width {head}, feed-forward {architecture['intermediate_size']}")


def _intended_uses(card):
    if not card.label_names:
        return "## Intended uses\n\nAn encoder to fine-tune for a task; it has no classes to predict."
    data = f" like those of {_code(card.dataset_name)}" if card.dataset_name else ""
    names = ", ".join(_code(name) for name in card.label_names)
    return (f"## Intended uses\n\nSorting short texts{data} into one of: {names}. It knows no other "
            "classes and was evaluated only on data from the same source as its training data.")


def _how_to_use(card):
    folder = card.folder or card.name
    lines = ["## How to use", ""]
    if not card.label_names:
        lines.append("Load it with `tfdistill.load_pretrained(folder)` and fine-tune a head on it.")
        return "\n".join(lines)
    length = f", max_length={card.max_length}" if card.max_length else ""
    texts = ", ".join(repr(text) for text in _EXAMPLE_TEXTS)
    lines += ["With tfdistill (tf-keras):", "", "```python", "import tfdistill", "",
              f"classifier = tfdistill.TextClassifier.from_pretrained({folder!r}{length})",
              f"predictions = classifier.predict([{texts}])",
              "print(predictions.labels, predictions.probabilities)", "```"]
    if card.text_pairs:
        lines += ["", "It was trained on text pairs; `TextClassifier.predict` takes single texts, so for "
                  "pairs tokenize with `classifier.tokenizer(texts, text_pairs)` and run the model yourself."]
    lines += ["", *_transformers_route(card, folder)]
    return "\n".join(lines)


def _transformers_route(card, folder):
    reason = transformers_incompatibility(card.architecture) if card.architecture else "its architecture is unknown"
    if reason:
        return [f"Hugging Face transformers cannot load this folder: {reason}. Use tfdistill."]
    length = card.max_length or 128
    return ["With Hugging Face transformers 4.x (TensorFlow; the TensorFlow classes are gone in v5):", "",
            "```python", "from transformers import AutoTokenizer, TFBertForSequenceClassification", "",
            f"tokenizer = AutoTokenizer.from_pretrained({folder!r})",
            f"model = TFBertForSequenceClassification.from_pretrained({folder!r})",
            f"inputs = tokenizer([{_EXAMPLE_TEXTS[0]!r}], padding=True, truncation=True, max_length={length}, "
            "return_tensors=\"tf\")",
            "print(model.config.id2label[int(model(**inputs).logits.numpy().argmax(-1)[0])])", "```", "",
            "The weights are safetensors with PyTorch names; PyTorch's `BertForSequenceClassification` reads "
            "the same names (tfdistill's tests load these folders with the TensorFlow class only)."]


def _training_data(card):
    lines = ["## Training data", ""]
    if not card.dataset_name and not card.num_examples:
        return "\n".join(lines + [f"The training data was {NOT_RECORDED}."])
    name = _code(card.dataset_name) if card.dataset_name else "A dataset whose name was not recorded"
    counts = " / ".join(f"{count:,} {escape_markdown(split)}" for split, count in card.num_examples.items())
    lines.append(f"{name}: {counts} examples." if counts else f"{name}.")
    if card.data_description:
        lines += ["", escape_markdown(card.data_description, line_start=True)]
    if card.text_pairs:
        lines += ["", "Each example is a pair of texts."]
    return "\n".join(lines)


def _training_procedure(card):
    lines = ["## Training procedure", ""]
    if card.losses:
        lines.append("- Loss terms: " + "; ".join(_loss_text(term) for term in card.losses))
    settings = dict(card.hyperparameters)
    if card.max_length and "max_length" not in settings:
        settings["max_length"] = card.max_length
    if settings:
        lines.append("- Hyperparameters: " + ", ".join(
            f"{escape_markdown(key)} {escape_markdown(_number(value))}" for key, value in settings.items()))
    else:
        lines.append(f"- Hyperparameters: {NOT_RECORDED}")
    if card.epochs_run is not None:
        lines.append(f"- Epochs run: {card.epochs_run}")
    if card.train_seconds is not None:
        lines.append(f"- Training time: {card.train_seconds / 60:.1f} min")
    lines += [f"- {escape_markdown(label)}: {escape_markdown(text)}" for label, text in card.details]
    return "\n".join(lines)


def _loss_text(term):
    if not isinstance(term, dict):
        return escape_markdown(term)
    options = ", ".join(f"{key} {_number(value)}" for key, value in term.items() if key != "loss")
    return escape_markdown(f"{term.get('loss', '?')} ({options})" if options else term.get("loss", "?"))


def _evaluation(card):
    lines = ["## Evaluation results", ""]
    measured, reference = _measured(card.accuracy), _measured(card.reference_accuracy)
    if not measured:
        return "\n".join(lines + [f"Accuracy: {NOT_MEASURED}."])
    if card.accuracy_of:
        lines += [f"Measured on {escape_markdown(card.accuracy_of)}.", ""]
    ref = escape_markdown(card.reference_name) if card.reference_name and reference else None
    header = "| Split | Examples | Accuracy | 95% interval |" + (f" {ref} accuracy |" if ref else "")
    lines += [header, "|---|---|---|---|" + ("---|" if ref else "")]
    for split, value in measured.items():
        count = card.num_examples.get(split)
        row = (f"| {escape_markdown(split)} | {f'{count:,}' if count else NOT_RECORDED} | {value:.2%} | "
               f"{_interval(value, count)} |")
        if ref:
            row += f" {reference[split]:.2%} |" if split in reference else f" {NOT_MEASURED} |"
        lines.append(row)
    return "\n".join(lines)


def _interval(accuracy, count):
    """The Wilson score 95% interval (sound at 0% and 100%, unlike accuracy ± 1.96 standard errors)."""
    if not count:
        return NOT_MEASURED
    z2 = 1.96 ** 2
    center = (accuracy + z2 / (2 * count)) / (1 + z2 / count)
    half = 1.96 * math.sqrt(accuracy * (1 - accuracy) / count + z2 / (4 * count ** 2)) / (1 + z2 / count)
    return f"{max(center - half, 0):.1%} to {min(center + half, 1):.1%}"


def _size_and_speed(card):
    lines = ["## Size and speed", ""]
    if card.params is not None:
        extra = f" ({card.non_embedding_params:,} outside the embeddings)" if card.non_embedding_params else ""
        lines.append(f"- Parameters: {card.params:,}{extra}")
    else:
        lines.append(f"- Parameters: {NOT_MEASURED}")
    size = f"{_bytes(card.size_bytes)} (`model.safetensors`, float32)" if card.size_bytes else NOT_MEASURED
    lines.append(f"- Size on disk: {size}")
    lines.append(f"- Latency: {_latency_text(card.latency)}")
    return "\n".join(lines)


def _latency_text(latency):
    if not latency or latency.get("p50_ms") is None:
        return f"{NOT_MEASURED} for this folder (export it to `.tflite` and benchmark it)"
    text = f"{latency['p50_ms']:.2f} ms median"
    if latency.get("p90_ms") is not None:
        text += f", {latency['p90_ms']:.2f} ms p90"
    where = [escape_markdown(latency["setting"])] if latency.get("setting") else []
    if latency.get("threads"):
        where.append(f"{latency['threads']} thread{'s' if latency['threads'] != 1 else ''}")
    return text + (f" ({', '.join(where)})" if where else "")


def _limitations(card):
    lines = ["## Limitations", ""]
    test = _measured(card.accuracy).get("test")
    count = card.num_examples.get("test")
    if test is not None and count:
        lines.append(f"- The test accuracy comes from {count:,} examples: with 95% confidence it lies "
                     f"between {_interval(test, count).replace(' to ', ' and ')}.")
    elif test is None:
        lines.append(f"- Test accuracy: {NOT_MEASURED}; do not rely on this model before measuring it.")
    lines.append("- Its knowledge, biases and language coverage are those of its base model and its "
                 "training data; it was not evaluated for fairness or on text from other sources.")
    if card.max_length:
        lines.append(f"- Texts longer than {card.max_length} tokens are cut to that length.")
    reason = transformers_incompatibility(card.architecture) if card.architecture else None
    if reason:
        lines.append(f"- Hugging Face transformers cannot load it: {reason}.")
    if not card.license:
        lines.append("- License: not set here; it follows the licenses of the base model and the data.")
    return "\n".join(lines)


# Formatting


def _measured(values):
    """The entries that hold a finite number (None, NaN and non-numbers were not measured)."""
    return {key: float(value) for key, value in (values or {}).items()
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)}


def _bytes(size):
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


def _number(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def _code(text):
    """An inline code span that holds any text: fenced by more backticks than it contains."""
    text = " ".join(str(text).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
