import numpy as np
import pytest
import tf_keras as keras

import tfdistill
from tfdistill.training import finetune, precision
from tfdistill.training.testing import tiny_classifier, tiny_task


def test_resolve_follows_the_cpu_and_the_mode():
    assert precision.resolve("auto", flags={"avx2", "avx512f"}) == "float32"
    assert precision.resolve("auto", flags={"avx512_bf16"}) == "mixed_bfloat16"
    assert precision.resolve("auto", flags={"amx_bf16", "amx_tile"}) == "mixed_bfloat16"
    assert precision.resolve("float32", flags={"avx512_bf16"}) == "float32"
    assert precision.resolve("bfloat16", flags=set()) == "mixed_bfloat16"
    with pytest.raises(ValueError, match="mixed_precision must be one of"):
        precision.resolve("fp16")
    previous = precision.set_default_mode("float32")
    try:
        assert precision.resolve(None, flags={"avx512_bf16"}) == "float32"
    finally:
        precision.set_default_mode(previous)


def test_policy_scope_restores_the_previous_policy_even_after_an_error():
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(RuntimeError):
        with precision.policy_scope("mixed_bfloat16"):
            assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
            raise RuntimeError("boom")
    assert keras.mixed_precision.global_policy().name == "float32"


def test_mixed_twin_keeps_float32_variables_logits_and_attention():
    tokenizer, _ = tiny_task(train=4)
    model = tiny_classifier(tokenizer)
    twin = precision.mixed_twin(model, "mixed_bfloat16")
    assert keras.mixed_precision.global_policy().name == "float32"
    assert {w.dtype.name for w in twin.weights} == {"float32"} and precision.is_mixed(twin)
    features = tokenizer(["good movie", "the plot was dull and weak"], max_length=12)
    fast, exact = twin(features), model(features)
    assert fast["logits"].dtype.name == "float32" and fast["attentions"][0].dtype.name == "float32"
    assert fast["attention_scores"][0].dtype.name == "float32" and fast["hidden_states"][1].dtype.name == "bfloat16"
    np.testing.assert_allclose(fast["logits"], exact["logits"], atol=0.05)
    np.testing.assert_allclose(np.sum(fast["attentions"][0], -1), 1.0, atol=1e-5)  # float32 softmax
    assert precision.mixed_twin(model, "float32") is model
    outputs = precision.float32_outputs(fast, keys=["hidden_states"])
    assert list(outputs) == ["hidden_states"] and outputs["hidden_states"][1].dtype.name == "float32"


def test_bfloat16_fine_tuning_trains_a_float32_model_with_known_steps(tmp_path):
    tokenizer, data = tiny_task()
    model = tiny_classifier(tokenizer)
    before = [w.copy() for w in model.get_weights()]

    class Steps(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.steps = self.params["steps"]

    steps = Steps()
    result = finetune.fine_tune_classifier(model, tokenizer, data, max_length=16, epochs=1, batch_size=16,
                                           learning_rate=1e-3, callbacks=[steps], verbose=0,
                                           mixed_precision="bfloat16")
    assert result.precision == "mixed_bfloat16" and steps.steps == 4  # 64 examples / 16: no "Unknown"
    assert keras.mixed_precision.global_policy().name == "float32"
    assert not precision.is_mixed(model) and {w.dtype.name for w in model.weights} == {"float32"}
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    assert all(np.isfinite(value) for value in result.history["loss"])
    tfdistill.save_pretrained(model, str(tmp_path / "model"), tokenizer=tokenizer)
    from safetensors.numpy import load_file

    assert {array.dtype for array in load_file(str(tmp_path / "model" / "model.safetensors")).values()} \
        == {np.dtype("float32")}
