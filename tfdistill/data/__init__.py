"""The data layer: tokenizer, text-classification datasets and the tf.data input pipeline.

Reading a dataset or tokenizing does not import TensorFlow; only `make_tf_dataset` and
`check_max_length` (from `tfdistill.data.pipeline`) do, when first used.

Example:
>>> import tfdistill
>>> from tfdistill import data
>>> splits = data.load("rotten_tomatoes", max_examples=2000)  # 2,000 of each split
>>> tokenizer = data.Tokenizer.from_pretrained(tfdistill.default_teacher_path())
>>> train = data.make_tf_dataset(splits.train, tokenizer, 128, 32, shuffle=True)  # length-bucketed
>>> features, labels = next(iter(train))
>>> sorted(features), labels.shape
(['attention_mask', 'input_ids', 'token_type_ids'], TensorShape([32]))
"""

from tfdistill.data.datasets import Split, TextClassificationData, load
from tfdistill.data.preprocessor import TextClassifierPreprocessor
from tfdistill.data.tokenizer import Tokenizer

_PIPELINE_NAMES = ("make_tf_dataset", "features_dataset", "check_max_length")

__all__ = ["Split", "TextClassificationData", "TextClassifierPreprocessor", "Tokenizer", "load", *_PIPELINE_NAMES]


def __getattr__(name):
    if name in _PIPELINE_NAMES:
        from tfdistill.data import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'tfdistill.data' has no attribute {name!r}")
