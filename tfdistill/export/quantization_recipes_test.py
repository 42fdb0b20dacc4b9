"""Unit tests of the recipe files and of quantizing a tiny student's float graph with them."""

import numpy as np
import pytest

from tfdistill.export import quantization_recipes as recipes

SEQ_LEN = 8
VOCAB = 40


@pytest.fixture(scope="module")
def float_flatbuffer():
    import tf_keras as keras

    import tfdistill
    from tfdistill.export.exporter import to_flatbuffer

    keras.utils.set_random_seed(0)
    config = tfdistill.BertConfig(vocab_size=VOCAB, hidden_size=16, num_layers=2, num_heads=2,
                                  intermediate_size=32, num_labels=2, max_position_embeddings=16)
    return to_flatbuffer(tfdistill.build_bert(config, name="student"), "float32", SEQ_LEN)


def _feeds(count):
    rng = np.random.default_rng(0)
    return [{"input_ids": rng.integers(1, VOCAB, (1, SEQ_LEN), dtype=np.int32),
             "attention_mask": np.ones((1, SEQ_LEN), np.int32),
             "token_type_ids": np.zeros((1, SEQ_LEN), np.int32)} for _ in range(count)]


def test_every_mode_with_a_recipe_ships_one_the_quantizer_loads():
    from ai_edge_quantizer import recipe_manager

    from tfdistill.export.modes import RECIPE_MODES

    assert recipes.recipe_names() == sorted(RECIPE_MODES)
    for name in RECIPE_MODES:
        manager = recipe_manager.RecipeManager()
        manager.load_quantization_recipe(recipes.load_recipe(name))
        # The file is the quantizer's own normalised form: what it applies is what ships.
        assert manager.get_quantization_recipe() == recipes.load_recipe(name)
    with pytest.raises(ValueError, match="No quantization recipe 'int4'; use one of dynamic, int8"):
        recipes.load_recipe("int4")


def test_the_dynamic_range_rule_names_exactly_the_fcs_fed_by_an_activation(float_flatbuffer):
    from tfdistill.export.flatbuffer_edit import activation_fed_fully_connected

    scopes = recipes.op_scopes(float_flatbuffer)
    dynamic_rule = recipes.load_recipe("int8")[2]
    assert "activation_tensor_config" not in dynamic_rule["op_config"]
    named = recipes.matching_ops(scopes, dynamic_rule)
    # 2 FFN output projections (after GELU) and the classifier (after the pooler's tanh).
    assert named == [f"{name};" for name in activation_fed_fully_connected(float_flatbuffer)]
    assert len(named) == 3


def test_a_rule_that_names_no_op_is_refused(float_flatbuffer):
    renamed = [dict(rule, regex="encoder_\\d+_ffn_out/") for rule in recipes.load_recipe("int8")]
    with pytest.raises(ValueError, match="Rule 0 of the quantization recipe .* names no op"):
        recipes.quantize(float_flatbuffer, renamed, _feeds(2))
    with pytest.raises(ValueError, match="needs calibration examples"):
        recipes.quantize(float_flatbuffer, recipes.load_recipe("int8"), None)


def test_dynamic_recipe_needs_no_real_examples(float_flatbuffer):
    recipe = recipes.load_recipe("dynamic")
    padded = recipes.quantize(float_flatbuffer, recipe, [recipes.padding_feed(float_flatbuffer)])
    # GATHER's int8 output takes its table's scale: no calibrated range reaches the model.
    assert padded == recipes.quantize(float_flatbuffer, recipe, _feeds(4))


def test_layer_ranges_replace_the_calibrated_ranges_of_their_fully_connected_ops(float_flatbuffer):
    from ai_edge_quantizer import quantizer as aeq

    from tfdistill.export.runtime import SIGNATURE_KEY

    engine = aeq.Quantizer(bytearray(float_flatbuffer), recipes.load_recipe("int8"))
    calibration = engine.calibrate({SIGNATURE_KEY: _feeds(2)})
    ranges = {"layer_0_query": {"input": (-1.0, 1.0), "output": (-2.0, 3.0)},
              "layer_0_key": {"input": (-3.0, 3.0)}, "pooler": {"output": (-4.0, 4.0)}}
    replaced = recipes.apply_layer_ranges(calibration, float_flatbuffer, ranges)
    query_out = [name for name in replaced if "layer_0_query/" in name]
    assert len(replaced) == 3 and len(query_out) == 1, replaced
    assert float(calibration[query_out[0]]["max"].max()) == 3.0
    # Query and key read the same LayerNorm output: one tensor, the mean of their ranges.
    shared = [name for name in replaced if "layer_norm" in name]
    assert len(shared) == 1 and float(calibration[shared[0]]["min"].min()) == -2.0
    pooler = [name for name in replaced if "pooler" in name]
    assert float(calibration[pooler[0]]["min"].min()) == -4.0
