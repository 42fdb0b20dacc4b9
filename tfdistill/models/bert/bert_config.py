"""`BertConfig`: the architecture of a BERT encoder (and its optional classification head)."""

import dataclasses
from typing import Optional, Tuple

# HF `hidden_act` names -> (tf-keras activation, whether GELU uses the tanh approximation).
ACTIVATIONS = {
    "gelu": "gelu",
    "gelu_new": "gelu_approximate",
    "gelu_pytorch_tanh": "gelu_approximate",
    "gelu_approximate": "gelu_approximate",
    "relu": "relu",
}


@dataclasses.dataclass(frozen=True)
class BertConfig:
    """The shape of a BERT encoder and its optional classification head.

    Field names follow Keras conventions; `from_hf_dict`/`to_hf_dict` translate to and from a
    Hugging Face `config.json`.

    Args:
        vocab_size: int, number of WordPiece ids.
        hidden_size: int, width of every hidden state.
        num_layers: int, number of transformer blocks.
        num_heads: int, attention heads per block; must divide `hidden_size` unless
            `attention_head_size` is given.
        intermediate_size: int, width of the feed-forward block.
        max_position_embeddings: int, longest sequence the position table covers.
        type_vocab_size: int, number of segment (token type) ids.
        hidden_dropout: float in [0, 1), dropout on embeddings and block outputs.
        attention_dropout: float in [0, 1), dropout on attention probabilities.
        layer_norm_epsilon: float > 0.
        activation: str, one of `"gelu"` (exact erf, as BERT), `"gelu_approximate"` (tanh),
            `"relu"`; the HF names `"gelu_new"` and `"gelu_pytorch_tanh"` are accepted.
        num_labels: optional int >= 2; adds a pooler-fed classification head when set.
        label_names: optional tuple of `num_labels` strings.
        initializer_range: float > 0, stddev of the truncated-normal kernel initializer.
        pad_token_id: int, id of `[PAD]`.
        attention_head_size: optional int, the width of one head. Default `hidden_size //
            num_heads` (BERT's rule). Set it to give a block fewer heads than the width implies,
            e.g. a student that keeps 6 of its teacher's 12 heads of 32 at width 384; the
            queries, keys and values are then `num_heads * attention_head_size` wide.
            `transformers`' BERT cannot load such a model; tfdistill can.
        embedding_size: optional int, factorised word embeddings (ALBERT's name): a
            `vocab_size x embedding_size` table and a `embedding_size x hidden_size` projection
            (`word_embeddings_projection`, no bias) instead of a `vocab_size x hidden_size` table;
            `tfdistill.compress.factorize_embeddings` makes one from a trained model by SVD.
            `transformers`' BERT cannot load such a model either.

    Raises:
        ValueError: a size is not positive, heads do not divide the width, a rate is outside
            [0, 1), the activation is unknown, or the label names do not match `num_labels`.

    Example:
    >>> config = BertConfig(vocab_size=100, hidden_size=32, num_layers=2, num_heads=4,
    ...                     intermediate_size=64, num_labels=2)
    >>> config.head_size
    8
    """

    vocab_size: int = 30522
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.1
    layer_norm_epsilon: float = 1e-12
    activation: str = "gelu"
    num_labels: Optional[int] = None
    label_names: Optional[Tuple[str, ...]] = None
    initializer_range: float = 0.02
    pad_token_id: int = 0
    attention_head_size: Optional[int] = None
    embedding_size: Optional[int] = None

    def __post_init__(self):
        for name in ("vocab_size", "hidden_size", "num_layers", "num_heads", "intermediate_size",
                     "max_position_embeddings", "type_vocab_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"BertConfig.{name} must be a positive int, got {value!r}.")
        for name in ("attention_head_size", "embedding_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise ValueError(f"BertConfig.{name} must be a positive int or None, got {value!r}.")
        if self.attention_head_size is None and self.hidden_size % self.num_heads:
            raise ValueError(
                f"BertConfig.hidden_size={self.hidden_size} is not divisible by "
                f"num_heads={self.num_heads}; choose a head count that divides the width "
                f"(e.g. {_divisors_hint(self.hidden_size)})."
            )
        for name in ("hidden_dropout", "attention_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"BertConfig.{name} must be in [0, 1), got {value!r}.")
        for name in ("layer_norm_epsilon", "initializer_range"):
            if not getattr(self, name) > 0:
                raise ValueError(f"BertConfig.{name} must be > 0, got {getattr(self, name)!r}.")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"Unknown BertConfig.activation {self.activation!r}; use one of {sorted(ACTIVATIONS)}."
            )
        # HF spells the tanh GELU two ways; one canonical name keeps configs comparable.
        object.__setattr__(self, "activation", ACTIVATIONS[self.activation])
        if not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(
                f"BertConfig.pad_token_id={self.pad_token_id} is outside the vocabulary "
                f"[0, {self.vocab_size})."
            )
        self._validate_labels()

    def _validate_labels(self):
        if self.num_labels is not None and (
            isinstance(self.num_labels, bool) or not isinstance(self.num_labels, int) or self.num_labels < 2
        ):
            raise ValueError(f"BertConfig.num_labels must be an int >= 2 or None, got {self.num_labels!r}.")
        if self.label_names is None:
            return
        names = tuple(str(n) for n in self.label_names)
        object.__setattr__(self, "label_names", names)
        if self.num_labels is None or len(names) != self.num_labels:
            raise ValueError(
                f"BertConfig.label_names has {len(names)} names but num_labels={self.num_labels}; "
                "give one name per label."
            )

    @property
    def head_size(self):
        """int, the width of one attention head."""
        return self.attention_head_size or self.hidden_size // self.num_heads

    @property
    def attention_size(self):
        """int, the width of the queries, keys and values (all heads side by side)."""
        return self.num_heads * self.head_size

    def replace(self, **changes):
        """Returns a copy with `changes` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def get_config(self):
        """Returns a JSON-serialisable dict; `BertConfig.from_config` inverts it."""
        config = dataclasses.asdict(self)
        if config["label_names"] is not None:
            config["label_names"] = list(config["label_names"])
        return config

    @classmethod
    def from_config(cls, config):
        """Builds a config from `get_config()` output, refusing unknown keys."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"Unknown BertConfig fields {unknown}; known fields are {sorted(known)}.")
        config = dict(config)
        if config.get("label_names") is not None:
            config["label_names"] = tuple(config["label_names"])
        return cls(**config)

    def to_hf_dict(self):
        """Returns the Hugging Face `config.json` content for this architecture."""
        hf = {
            "architectures": ["BertForSequenceClassification" if self.num_labels else "BertModel"],
            "model_type": "bert",
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "num_hidden_layers": self.num_layers,
            "num_attention_heads": self.num_heads,
            "intermediate_size": self.intermediate_size,
            "max_position_embeddings": self.max_position_embeddings,
            "type_vocab_size": self.type_vocab_size,
            "hidden_dropout_prob": self.hidden_dropout,
            "attention_probs_dropout_prob": self.attention_dropout,
            "layer_norm_eps": self.layer_norm_epsilon,
            "hidden_act": "gelu_new" if self.activation == "gelu_approximate" else self.activation,
            "initializer_range": self.initializer_range,
            "pad_token_id": self.pad_token_id,
            "position_embedding_type": "absolute",
        }
        for name in ("attention_head_size", "embedding_size"):
            if getattr(self, name) is not None:
                hf[name] = getattr(self, name)
        if self.num_labels:
            names = self.label_names or tuple(f"LABEL_{i}" for i in range(self.num_labels))
            hf["num_labels"] = self.num_labels
            hf["id2label"] = {str(i): name for i, name in enumerate(names)}
            hf["label2id"] = {name: i for i, name in enumerate(names)}
        return hf

    @classmethod
    def from_hf_dict(cls, hf, num_labels=None):
        """Builds a config from a Hugging Face BERT `config.json` dict.

        Args:
            hf: dict, the parsed `config.json`.
            num_labels: optional int; overrides the labels the file declares.

        Raises:
            ValueError: a required field is missing or the model is not a BERT encoder.
        """
        model_type = hf.get("model_type", "bert")
        if model_type != "bert":
            raise ValueError(f"config.json describes a {model_type!r} model; tfdistill loads BERT models only.")
        if hf.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("Only absolute position embeddings are supported "
                             f"(config.json has {hf['position_embedding_type']!r}).")
        required = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")
        missing = [key for key in required if key not in hf]
        if missing:
            raise ValueError(f"config.json is missing the BERT fields {missing}; it needs all of {list(required)}.")
        label_names = _hf_label_names(hf)
        if num_labels is not None and label_names is not None and len(label_names) != num_labels:
            label_names = None
        if num_labels is None and label_names is not None and hf.get("architectures", [""])[0].endswith(
                "ForSequenceClassification"):
            num_labels = len(label_names)
        return cls(
            vocab_size=hf["vocab_size"],
            hidden_size=hf["hidden_size"],
            num_layers=hf["num_hidden_layers"],
            num_heads=hf["num_attention_heads"],
            intermediate_size=hf["intermediate_size"],
            max_position_embeddings=hf.get("max_position_embeddings", 512),
            type_vocab_size=hf.get("type_vocab_size", 2),
            hidden_dropout=hf.get("hidden_dropout_prob", 0.1),
            attention_dropout=hf.get("attention_probs_dropout_prob", 0.1),
            layer_norm_epsilon=hf.get("layer_norm_eps", 1e-12),
            activation=hf.get("hidden_act", "gelu"),
            num_labels=num_labels,
            label_names=label_names if num_labels else None,
            initializer_range=hf.get("initializer_range", 0.02),
            pad_token_id=hf.get("pad_token_id", 0) or 0,
            attention_head_size=hf.get("attention_head_size"),
            embedding_size=hf.get("embedding_size"),
        )


def _hf_label_names(hf):
    id2label = hf.get("id2label")
    if not id2label:
        return None
    return tuple(id2label[key] for key in sorted(id2label, key=int))


def _divisors_hint(width):
    return ", ".join(str(d) for d in range(2, 17) if width % d == 0) or "1"
