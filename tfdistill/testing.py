"""The checks the tests of configs, layers, loss terms and saved models share.

Plain functions that raise `AssertionError` (pytest reports them where the test called them),
named after keras-hub's `TestCase` methods:

- `run_serialization_test(obj)`: `get_config()` -> JSON -> `from_config` gives the object back,
  and so does Keras' `serialize_keras_object` for a registered class;
- `run_layer_test(cls, init_kwargs, input_data, expected_output_shape, ...)`: a Keras layer builds
  the weights it should, computes the expected shapes, dtype and values, and a copy rebuilt from
  its config computes the same outputs with the same weights;
- `run_model_saving_test(model, input_data, path)`: a model saved the way tfdistill saves that
  kind of model loads back with tfdistill's loader and computes the same outputs.

The tiny models and data the checks run on stay with their layers (`tfdistill.distill.testing`,
`tfdistill.compress.testing`, `tfdistill.training.testing`). Messages are spelt out because pytest
rewrites the `assert`s of test modules only, not of this one.
"""

import json
import os

import numpy as np
import tensorflow as tf
import tf_keras as keras


def run_serialization_test(obj, from_config=None):
    """Checks that `obj` comes back from its config written as JSON, as configs reach disk.

    `from_config(json(get_config()))` must be an object of the same class with the same config
    (and an equal object when the class compares by value, as the config dataclasses do). A
    class registered with `keras.utils.register_keras_serializable` must also come back from
    Keras' `serialize_keras_object` through JSON, as it does inside a saved model.

    Args:
        obj: an object with `get_config()`: a layer, loss term, quantize config or config dataclass.
        from_config: callable, config dict -> object; default `type(obj).from_config`. Pass the
            entry point configs are read through, where there is one (`losses.get`).

    Returns:
        The object rebuilt by `from_config`.

    Raises:
        AssertionError: the class, the config or (for a value type) the object changed.

    Example:
    >>> from tfdistill.compress.pruning_config import PruningConfig
    >>> run_serialization_test(PruningConfig(m_by_n="2:4")).m_by_n
    (2, 4)
    """
    config = _as_json(obj.get_config())
    revived = (from_config or type(obj).from_config)(json.loads(config))
    _check_revived(obj, revived, config, "from_config")
    cls = type(obj)
    if keras.saving.get_registered_object(keras.saving.get_registered_name(cls)) is cls:
        serialized = json.loads(_as_json(keras.saving.serialize_keras_object(obj)))
        _check_revived(obj, keras.saving.deserialize_keras_object(serialized), config, "deserialize_keras_object")
    return revived


def _as_json(config):
    return json.dumps(config, sort_keys=True)


def _check_revived(obj, revived, config, how):
    name = type(obj).__name__
    assert type(revived) is type(obj), f"{how} turned {name} into {type(revived).__name__}"
    revived_config = _as_json(revived.get_config())
    assert revived_config == config, f"{how} changed the config of {name}:\n {config}\n {revived_config}"
    if type(obj).__eq__ is not object.__eq__:  # a value type: the config must carry every field
        assert revived == obj, f"{how} changed {name}:\n {obj!r}\n {revived!r}"


def run_layer_test(cls, init_kwargs, input_data, expected_output_shape, expected_output_data=None,
                   expected_output_dtype=None, expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0):
    """Checks a Keras layer: its config, build, output and a copy rebuilt from its config.

    Args:
        cls: the layer class.
        init_kwargs: dict, the constructor's arguments.
        input_data: numpy array, or a list of them for a layer taking several inputs.
        expected_output_shape: tuple, the output's shape (a structure of them for several outputs).
        expected_output_data: optional numpy array(s), the output's values (to 1e-6).
        expected_output_dtype: str; default the layer's compute dtype.
        expected_num_trainable_weights: int.
        expected_num_non_trainable_weights: int.

    Raises:
        AssertionError: naming the layer and what differs from the expectation or the original.

    Example:
    >>> from tfdistill.models.bert.bert_layers import ClsToken
    >>> inputs = np.arange(24, dtype="float32").reshape(2, 3, 4)
    >>> run_layer_test(ClsToken, {}, inputs, (2, 4), expected_output_data=inputs[:, 0])
    """
    layer = cls(**init_kwargs)
    run_serialization_test(layer)
    output = layer(input_data)
    name = cls.__name__
    assert layer.built, f"{name} is not built after a call"
    counts = len(layer.trainable_weights), len(layer.non_trainable_weights)
    expected_counts = expected_num_trainable_weights, expected_num_non_trainable_weights
    assert counts == expected_counts, f"{name} has (trainable, non-trainable) weights {counts}, not {expected_counts}"
    shapes = tf.nest.map_structure(lambda tensor: tuple(tensor.shape), output)
    assert shapes == expected_output_shape, f"{name} output shape {shapes}, not {expected_output_shape}"
    dtypes = {tensor.dtype.name for tensor in tf.nest.flatten(output)}
    dtype = expected_output_dtype or layer.compute_dtype
    assert dtypes == {dtype}, f"{name} outputs {sorted(dtypes)}, not {dtype}"
    if expected_output_data is not None:
        _assert_same_outputs(output, expected_output_data, atol=1e-6, rtol=1e-6, what=f"{name} output")
    # The copy gets the weights but nothing else: any setting the computation uses must be in the config.
    clone = run_serialization_test(layer)
    clone(input_data)
    clone.set_weights(layer.get_weights())
    _assert_same_outputs(clone(input_data), output, what=f"{name} rebuilt from its config, output")


def run_model_saving_test(model, input_data, path, expected_config=None, atol=0.0):
    """Saves `model` at `path` the way tfdistill saves it, loads it back and compares.

    The format follows the path: `*.keras` is Keras' `model.save` and `keras.models.load_model`;
    `*.h5` is a QAT model's `compress.save_quantized` and `compress.load_quantized`; anything else
    is a Hugging Face folder, `tfdistill.save_pretrained` and `tfdistill.load_pretrained`. The
    reloaded model must be of the same class, carry the `bert_config` expected and compute every
    output (logits, hidden states, attentions, ...) of `model` on `input_data`.

    Args:
        model: a tfdistill BERT (`build_bert`, `load_pretrained`, a compressed student).
        input_data: dict of int arrays, the model's input.
        path: str or path-like, where to save (its parent must exist).
        expected_config: `BertConfig` the reloaded model must carry; default `model.bert_config`.
            A folder names unnamed labels `LABEL_0`, `LABEL_1`, ... (Hugging Face's convention).
        atol: float, the largest output difference allowed (0: exact).

    Returns:
        The reloaded model.

    Raises:
        AssertionError: the class, the `bert_config` or an output (named by its path) changed.

    Example:
    >>> run_model_saving_test(student, features, "student.keras").bert_config.num_layers
    2
    """
    expected = model(input_data)
    reloaded = _save_and_load(model, os.fspath(path))
    assert type(reloaded) is type(model), f"saved {type(model).__name__}, loaded {type(reloaded).__name__}"
    if expected_config is None:
        expected_config = getattr(model, "bert_config", None)
    if expected_config is not None:
        assert reloaded.bert_config == expected_config, (
            f"saved with\n {expected_config}\nloaded with\n {reloaded.bert_config}")
    _assert_same_outputs(reloaded(input_data), expected, atol=atol, what=f"{path} reloaded, output")
    return reloaded


def _save_and_load(model, path):
    if path.endswith(".keras"):
        model.save(path)
        return keras.models.load_model(path)
    if path.endswith(".h5"):
        from tfdistill import compress

        compress.save_quantized(model, path)
        return compress.load_quantized(path)
    from tfdistill.models.bert.checkpoint import load_pretrained, save_pretrained

    save_pretrained(model, path)
    return load_pretrained(path)


def _assert_same_outputs(actual, expected, atol=0.0, rtol=0.0, what="output"):
    """Asserts two output structures (tensors or arrays, in dicts and lists) match leaf by leaf."""
    got, want = dict(_leaves(actual)), dict(_leaves(expected))
    assert list(got) == list(want), f"{what}: the structure {list(got)} is not {list(want)}"
    for key, value in got.items():
        np.testing.assert_allclose(np.asarray(value), np.asarray(want[key]), rtol=rtol, atol=atol,
                                   err_msg=f"{what} {key}".rstrip())


def _leaves(structure, key=""):
    """Yields `(path, leaf)` of a structure of dicts and lists: `("/hidden_states/1", tensor)`."""
    if isinstance(structure, dict):
        for name in sorted(structure):
            yield from _leaves(structure[name], f"{key}/{name}")
    elif isinstance(structure, (list, tuple)):
        for index, item in enumerate(structure):
            yield from _leaves(item, f"{key}/{index}")
    else:
        yield key, structure
