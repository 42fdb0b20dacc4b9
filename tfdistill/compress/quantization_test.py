import numpy as np
import pytest
import tf_keras as keras

from tfdistill import compress
from tfdistill.compress import quantization as q
from tfdistill.compress.pruning_config import PruningConfig
from tfdistill.compress.testing import TINY_CONFIG, tiny_dataset, tiny_student
from tfdistill.models.bert import bert_layers
from tfdistill.testing import run_model_saving_test, run_serialization_test

# Every layer of a one-block student, and what QAT's "full" scope does with it.
EXPECTED_FULL_PLAN = {
    "input_ids": q.SKIPPED_INPUT, "token_type_ids": q.SKIPPED_INPUT, "attention_mask": q.SKIPPED_INPUT,
    "word_embeddings": q.TABLE, "token_type_embeddings": q.TABLE,
    "embeddings_add": q.DEFAULT_8BIT, "position_embeddings": q.TABLE_AND_OUTPUT,
    "embeddings_layer_norm": q.OUTPUT, "embeddings_dropout": q.NONE,
    "attention_mask_bias": q.SKIPPED_INT_INPUT,
    "layer_0_query": q.DEFAULT_8BIT, "layer_0_key": q.DEFAULT_8BIT, "layer_0_value": q.DEFAULT_8BIT,
    "layer_0_split_heads": q.NONE, "layer_0_attention_scores": q.MASKED_SCORES, "layer_0_attention_probs": q.DEFAULT_8BIT,
    "layer_0_attention_probs_dropout": q.NONE, "layer_0_attention_context": q.OUTPUT, "layer_0_merge_heads": q.NONE,
    "layer_0_attention_output": q.DEFAULT_8BIT, "layer_0_attention_dropout": q.NONE,
    "layer_0_attention_add": q.DEFAULT_8BIT, "layer_0_attention_layer_norm": q.OUTPUT,
    "layer_0_intermediate": q.DEFAULT_8BIT, "layer_0_intermediate_activation": q.OUTPUT,
    "layer_0_output": q.DEFAULT_8BIT, "layer_0_output_dropout": q.NONE, "layer_0_output_add": q.DEFAULT_8BIT,
    "layer_0_output_layer_norm": q.OUTPUT, "cls_token": q.NONE, "pooler": q.DEFAULT_8BIT,
    "classifier_dropout": q.NONE, "classifier": q.DEFAULT_8BIT,
}
# The "xnnpack" scope (the default): what the int8 export recipe quantizes, the rest float.
EXPECTED_XNNPACK_PLAN = {
    **{name: q.FLOAT for name in EXPECTED_FULL_PLAN},
    "input_ids": q.SKIPPED_INPUT, "token_type_ids": q.SKIPPED_INPUT, "attention_mask": q.SKIPPED_INPUT,
    "attention_mask_bias": q.SKIPPED_INT_INPUT, "word_embeddings": q.TABLE,
    "layer_0_query": q.INT8, "layer_0_key": q.INT8, "layer_0_value": q.INT8, "layer_0_attention_output": q.INT8,
    "layer_0_intermediate": q.INT8, "layer_0_output": q.DYNAMIC_RANGE, "pooler": q.INT8,
    "classifier": q.DYNAMIC_RANGE,
}


@pytest.fixture(scope="module")
def student():
    return tiny_student()


@pytest.fixture(scope="module")
def features():
    return next(iter(tiny_dataset()))[0]


def test_every_layer_is_annotated_or_deliberately_skipped(student):
    assert q.quantization_plan(student, int8_scope="full") == EXPECTED_FULL_PLAN
    assert q.quantization_plan(student) == EXPECTED_XNNPACK_PLAN
    plan = q.quantization_plan(student, quantize_embeddings=False, int8_scope="full")
    assert plan["word_embeddings"] == plan["token_type_embeddings"] == q.SKIPPED_EMBEDDING
    assert q.quantization_plan(student, quantize_embeddings=False)["word_embeddings"] == q.SKIPPED_EMBEDDING
    with pytest.raises(ValueError, match="Unknown QAT int8_scope 'int4'; use one of xnnpack, full"):
        q.quantization_plan(student, int8_scope="int4")


@pytest.mark.parametrize("int8_scope, plan", [("full", EXPECTED_FULL_PLAN), ("xnnpack", EXPECTED_XNNPACK_PLAN)])
def test_quantized_model_wraps_what_the_plan_says(student, features, int8_scope, plan):
    qat = compress.quantize_student(student, int8_scope=int8_scope)
    assert isinstance(qat, compress.CompressedBert) and qat.bert_config == TINY_CONFIG
    assert q.qat_int8_scope(qat) == int8_scope and q.qat_int8_scope(student) is None
    wrapped = {layer.layer.name for layer in qat.layers if hasattr(layer, "quantize_config")}
    expected = {name for name, treatment in plan.items() if not treatment.startswith("skipped")
                and treatment != q.FLOAT}
    assert wrapped == expected
    assert not {id(v) for v in qat.weights} & {id(v) for v in student.weights}, "QAT must copy the weights"
    np.testing.assert_allclose(compress.dequantized_copy(qat)(features)["logits"], student(features)["logits"],
                               atol=1e-6)


def test_unknown_custom_layer_is_refused_and_custom_configs_accepted(student):
    @keras.utils.register_keras_serializable(package="tfdistill_test")
    class Scale(keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

        def get_prunable_weights(self):
            return []

    pooled = Scale(name="scale")(student.output["pooled"])
    model = keras.Model(student.input, {"logits": student.output["logits"], "scaled": pooled})
    model.bert_config = TINY_CONFIG
    with pytest.raises(ValueError, match=r"No quantization rule for layers \['scale \(Scale\)'\]"):
        q.quantization_plan(model)
    with keras.utils.custom_object_scope({"Scale": Scale}):
        qat = compress.quantize_student(model, custom_configs={"Scale": compress.OutputQuantizeConfig()})
    assert q.quantization_plan(model, custom_configs={"scale": compress.NoOpQuantizeConfig()})["scale"] == q.CUSTOM
    assert qat.get_layer("quant_scale").quantize_config.get_config() == {}


def test_wrapped_students_are_refused(student):
    pruned = compress.prune_student(student, PruningConfig())
    with pytest.raises(ValueError, match="must be stripped first"):
        compress.quantize_student(pruned)


def test_calibration_moves_ranges_and_brings_qat_close_to_float(student, features):
    qat = compress.quantize_student(student, int8_scope="full")
    uncalibrated = np.abs(np.asarray(qat(features)["logits"]) - student(features)["logits"]).max()
    report = compress.calibrate_ranges(qat, tiny_dataset(), steps=2)
    assert "layer_0_output_layer_norm/output" in report and "pooler/pre_activation" in report
    for key, ranges in report.items():
        assert ranges["before"] == pytest.approx([-6.0, 6.0], abs=0.1), key
        assert ranges["after"][0] <= 0 <= ranges["after"][1] and ranges["after"] != ranges["before"], key
    norm = report["layer_0_output_layer_norm/output"]["after"]
    assert 1 < norm[1] - norm[0] < 12  # a LayerNorm output spans a few units, not [-6, 6]
    scores = report["layer_0_attention_scores/output"]["after"]
    assert -12 < scores[0] < -8, "the padding bias (-10000) must not stretch the scores' range"
    calibrated = np.abs(np.asarray(qat(features)["logits"]) - student(features)["logits"]).max()
    assert calibrated < uncalibrated / 3
    with pytest.raises(ValueError, match="no quantization wrappers"):
        compress.calibrate_ranges(student, tiny_dataset())


def test_save_load_round_trip(student, features, tmp_path):
    qat = compress.quantize_student(student)
    compress.calibrate_ranges(qat, tiny_dataset(), steps=1)
    expected = np.asarray(qat(features)["logits"])
    loaded = run_model_saving_test(qat, features, tmp_path / "qat.h5", expected_config=TINY_CONFIG)
    assert isinstance(loaded, compress.CompressedBert)

    compress.save_quantized(qat, str(tmp_path / "weights.h5"), weights_only=True)
    fresh = compress.quantize_student(student)
    np.testing.assert_array_equal(compress.load_quantized(str(tmp_path / "weights.h5"), weights_into=fresh)(
        features)["logits"], expected)
    with pytest.raises(ValueError, match="holds weights only"):
        compress.load_quantized(str(tmp_path / "weights.h5"))
    for bad in ("qat.keras", "qat.weights.h5"):
        with pytest.raises(ValueError, match="do not round-trip"):
            compress.save_quantized(qat, str(tmp_path / bad))
    with pytest.raises(FileNotFoundError):
        compress.load_quantized(str(tmp_path / "missing.h5"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qat.h5", "weights.h5"]


def test_qat_inside_the_distiller_keeps_pruned_zeros():
    from tfdistill.distill import Distiller

    pruned = compress.prune_student(tiny_student(), PruningConfig(end_step=2, frequency=1))
    classifier = keras.Model(pruned.input, pruned.output["logits"])
    classifier.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    classifier.fit(tiny_dataset(), epochs=1, verbose=0, callbacks=compress.pruning_callbacks())
    sparse = compress.strip_student(pruned)
    before = compress.weight_sparsity(sparse)
    results = {}
    for preserve in (True, False):
        qat = compress.quantize_student(sparse, preserve_sparsity=preserve)
        compress.calibrate_ranges(qat, tiny_dataset(), steps=1)
        distiller = Distiller(student=qat, teacher=sparse, losses=["logit_kd", "hard_label"])
        distiller.compile(optimizer=keras.optimizers.Adam(1e-2))
        history = distiller.fit(tiny_dataset(), epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"]).all()
        results[preserve] = compress.weight_sparsity(qat)
    for name in ("layer_0_query", "layer_0_output", "word_embeddings"):
        assert results[True][name]["sparsity"] == pytest.approx(before[name]["sparsity"]), name
        assert results[False][name]["sparsity"] < before[name]["sparsity"] / 2, name


def test_quantize_configs_serialise():
    for config in (compress.OutputQuantizeConfig(), compress.NoOpQuantizeConfig(), compress.ScoresQuantizeConfig(4.0),
                   compress.TableQuantizeConfig(quantize_output=True, preserve_sparsity=True)):
        run_serialization_test(config)
    layer = bert_layers.AddPositionEmbedding(8)
    layer.build((None, 4, 3))
    table = compress.TableQuantizeConfig(quantize_output=True)
    assert [w is layer.embeddings for w, _ in table.get_weights_and_quantizers(layer)] == [True]
    assert len(table.get_output_quantizers(layer)) == 1


def test_xnnpack_scope_quantizes_dense_inputs_where_they_are_read(student, features):
    # The residual reads the LayerNorm output in float, the query reads it rounded to int8.
    qat = compress.quantize_student(student)
    report = compress.calibrate_ranges(qat, tiny_dataset(), steps=2)
    # Static int8: the linear query's output, and the pooler's matmul before its float tanh.
    assert {"layer_0_query/input", "layer_0_query/post_activation", "pooler/input", "pooler/pre_activation"} <= set(
        report)
    assert "pooler/post_activation" not in report
    assert not any(key.startswith(("layer_0_output/", "classifier/")) for key in report), "dynamic: no ranges"
    query = qat.get_layer("quant_layer_0_query")
    assert query.weights[0].shape == student.get_layer("layer_0_query").kernel.shape
    kernel_max = [v for v in query.weights if v.name.endswith("kernel_max:0")][0]
    assert kernel_max.shape == (TINY_CONFIG.hidden_size,), "kernels are quantized per output channel"
    calibrated = np.abs(np.asarray(qat(features)["logits"]) - student(features)["logits"]).max()
    assert calibrated < 0.05
