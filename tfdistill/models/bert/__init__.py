"""A BERT encoder in tf-keras, built from small layers that tfmot can prune and quantize."""

from tfdistill.models.bert.bert_config import BertConfig

__all__ = ["BertConfig"]
