"""inference_function: the eager call's outputs, one trace reused, nothing kept after the model."""

import gc
import sys
import weakref

import numpy as np
import tf_keras as keras

import tfdistill
from tfdistill.models import inference
from tfdistill.models.bert.bert_config import BertConfig

CONFIG = BertConfig(vocab_size=40, hidden_size=16, num_layers=2, num_heads=2, intermediate_size=24,
                    max_position_embeddings=32, num_labels=3)


def _features(length, batch=4, seed=0):
    ids = np.random.default_rng(seed).integers(1, CONFIG.vocab_size, (batch, length)).astype(np.int32)
    return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}


def test_it_gives_the_eager_logits_for_every_length_and_keeps_one_function():
    keras.utils.set_random_seed(0)
    model = tfdistill.build_bert(CONFIG)
    call = inference.inference_function(model)
    for length in (5, 9, 13, 7):  # several padded lengths share the function (reduce_retracing)
        features = _features(length, seed=length)
        np.testing.assert_allclose(call(features)["logits"], model(features, training=False)["logits"],
                                   atol=1e-5)
    assert inference.inference_function(model) is call


def test_the_cache_holds_no_reference_to_the_model():
    model = tfdistill.build_bert(CONFIG)
    references = sys.getrefcount(model)
    inference.inference_function(model)
    assert sys.getrefcount(model) == references
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None and not any(key is None for key in inference._FUNCTIONS.keys())
