"""One adapter for every kind of teacher: it yields the standard output dict (`logits`,
`hidden_states`, `attentions`, and what else the model exposes) from int32 features.

Supported: a tfdistill `BertModel` (all outputs), a transformers TF BERT (extra `hf`:
logits, hidden states, attentions), and a keras-hub `BertBackbone` or `BertTextClassifier`
(extra `keras-hub`: hidden states, attentions, logits for classifiers). Keras 3 objects stay
inside `KerasHubTeacher`.
"""

import tensorflow as tf

from tfdistill.distill.losses import ModelSpec, bert_spec


class Teacher:
    """Base adapter. `provides` lists the output keys; `spec` is a `ModelSpec`."""

    provides = ()

    def __init__(self, model, spec):
        self.model, self.spec = model, spec

    def __call__(self, features):
        """Returns the output dict for a batch of features, in inference mode."""
        raise NotImplementedError


class BertTeacher(Teacher):
    """A tfdistill `BertModel` (from `build_bert`/`load_pretrained`)."""

    provides = ("logits", "hidden_states", "attentions", "attention_scores", "queries", "keys", "values",
                "pooled")

    def __init__(self, model):
        config = model.bert_config
        super().__init__(model, bert_spec(config))
        if not config.num_labels:
            self.provides = tuple(k for k in self.provides if k != "logits")

    def __call__(self, features):
        return self.model(features, training=False)


class TransformersTeacher(Teacher):
    """A transformers TF BERT (`TFBertForSequenceClassification` or `TFBertModel`, 4.54.1)."""

    def __init__(self, model):
        config = model.config
        num_labels = config.num_labels if hasattr(model, "classifier") else None
        super().__init__(model, ModelSpec(config.num_hidden_layers, config.hidden_size,
                                          config.num_attention_heads, num_labels))
        self.provides = ("hidden_states", "attentions") + (("logits",) if num_labels else ())

    def __call__(self, features):
        out = self.model(dict(features), output_hidden_states=True, output_attentions=True, training=False)
        result = {"hidden_states": list(out.hidden_states), "attentions": list(out.attentions)}
        if "logits" in self.provides:
            result["logits"] = out.logits
        return result


class KerasHubTeacher(Teacher):
    """A keras-hub `BertBackbone` or `BertTextClassifier` (Keras 3, TensorFlow backend).

    The backbone is run block by block so each block's attention probabilities can be read
    (`TransformerEncoder(..., return_attention_scores=True)`).
    """

    def __init__(self, model):
        backbone = getattr(model, "backbone", model)
        self.classifier = model if model is not backbone else None
        num_labels = getattr(model, "num_classes", None) if self.classifier is not None else None
        super().__init__(model, ModelSpec(backbone.num_layers, backbone.hidden_dim, backbone.num_heads,
                                          num_labels))
        self.backbone = backbone
        self.provides = ("hidden_states", "attentions") + (("logits",) if num_labels else ())

    def __call__(self, features):
        backbone = self.backbone
        token_ids, mask = features["input_ids"], features["attention_mask"]
        segment_ids = features.get("token_type_ids", tf.zeros_like(token_ids))
        tokens = backbone.token_embedding(token_ids)
        hidden = backbone.embeddings_layer_norm(backbone.embeddings_add(
            (tokens, backbone.position_embedding(tokens), backbone.segment_embedding(segment_ids))))
        hidden_states, attentions = [hidden], []
        for block in backbone.transformer_layers:
            hidden, probabilities = block(hidden, padding_mask=mask, return_attention_scores=True,
                                          training=False)
            hidden_states.append(hidden)
            attentions.append(probabilities)
        result = {"hidden_states": hidden_states, "attentions": attentions}
        if self.classifier is not None:
            result["logits"] = self.classifier({"token_ids": token_ids, "segment_ids": segment_ids,
                                                "padding_mask": mask}, training=False)
        return result


def as_teacher(model):
    """Wraps a supported model in its adapter.

    Args:
        model: a tfdistill `BertModel`, a transformers TF BERT, a keras-hub `BertBackbone` or
            `BertTextClassifier`, or a `Teacher` (returned as is).

    Raises:
        TypeError: an unsupported model, with the supported list.
    """
    if isinstance(model, Teacher):
        return model
    if hasattr(model, "bert_config"):
        return BertTeacher(model)
    module = type(model).__module__
    if module.startswith("transformers.") and hasattr(model, "config"):
        return TransformersTeacher(model)
    if module.startswith("keras_hub."):
        return KerasHubTeacher(model)
    raise TypeError(
        f"Unsupported teacher {type(model).__name__} (from {module}). Use a tfdistill BertModel "
        "(tfdistill.load_pretrained), a transformers TF BERT (TFBertForSequenceClassification), or a "
        "keras-hub BertBackbone/BertTextClassifier.")
