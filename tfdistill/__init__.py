"""tfdistill: distil a BERT teacher into a small tf-keras student and ship it as TFLite.

The package lives in the tf-keras (Keras 2) world because tensorflow-model-optimization only
accepts tf_keras models. `TF_USE_LEGACY_KERAS=1` is set here, before TensorFlow can be imported
through this package, so that `tf.keras` and `tf_keras` agree for the whole process.

Public names are resolved lazily so that `import tfdistill` stays cheap until TensorFlow is needed.
"""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"

from tfdistill.utils.lazy import lazy_attributes  # noqa: E402  (after the variable is set)

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "BertConfig": "tfdistill.models.bert.bert_config",
    "build_bert": "tfdistill.models.bert.bert_model",
    "load_pretrained": "tfdistill.models.bert.checkpoint",
    "save_pretrained": "tfdistill.models.bert.checkpoint",
    "load_config": "tfdistill.models.bert.checkpoint",
    "default_teacher_path": "tfdistill.models.assets",
    "Tokenizer": "tfdistill.data.tokenizer",
    "TextClassifierPreprocessor": "tfdistill.data.preprocessor",
    "datasets": "tfdistill.data.datasets",
    "Distiller": "tfdistill.distill.distiller",
    "student_from_teacher": "tfdistill.distill.student",
    "TextClassifier": "tfdistill.export.text_classifier",
}


__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
