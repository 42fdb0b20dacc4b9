"""The tf-keras BERT against references no one here wrote: transformers' TFBertModel and
keras-hub's BertBackbone, on the shipped all-MiniLM-L6-v2 and real sentences with padding."""

import numpy as np
import pytest

pytestmark = pytest.mark.integration

MAX_LENGTH = 32


@pytest.fixture(scope="module")
def encoded(teacher_path, sentences):
    import tfdistill

    tokenizer = tfdistill.Tokenizer.from_pretrained(teacher_path)
    batch = tokenizer(sentences, max_length=MAX_LENGTH)
    assert batch["attention_mask"].sum(axis=1).min() < MAX_LENGTH  # padding is exercised
    return batch


@pytest.fixture(scope="module")
def ours(teacher_path, encoded):
    import tfdistill

    model = tfdistill.load_pretrained(teacher_path)
    return {k: [np.asarray(t) for t in v] if isinstance(v, list) else np.asarray(v)
            for k, v in model(encoded).items()}


def test_hidden_states_and_attentions_match_transformers(teacher_path, encoded, ours):
    from transformers import TFBertModel

    reference = TFBertModel.from_pretrained(teacher_path)
    out = reference(dict(encoded), output_hidden_states=True, output_attentions=True)
    assert len(out.hidden_states) == len(ours["hidden_states"]) == 7
    for index, (expected, actual) in enumerate(zip(out.hidden_states, ours["hidden_states"])):
        diff = np.abs(expected.numpy() - actual).max()
        assert diff < 1e-4, f"hidden state {index}: max abs diff {diff}"
    for expected, actual in zip(out.attentions, ours["attentions"]):
        assert np.abs(expected.numpy() - actual).max() < 1e-5
    assert np.abs(out.pooler_output.numpy() - ours["pooled"]).max() < 1e-4


def test_keras_hub_backbone_agrees_within_approximate_gelu(teacher_path, encoded, ours):
    import keras_hub

    backbone = keras_hub.models.BertBackbone.from_preset(teacher_path)
    out = backbone({"token_ids": encoded["input_ids"], "segment_ids": encoded["token_type_ids"],
                    "padding_mask": encoded["attention_mask"]})
    real = encoded["attention_mask"].astype(bool)
    # keras-hub uses the tanh GELU; BERT (and tfdistill) the exact erf form.
    diff = np.abs(np.asarray(out["sequence_output"]) - ours["hidden_states"][-1])[real].max()
    assert diff < 5e-3, diff


def test_saved_student_reloads_in_transformers_and_keras_hub(tmp_path, teacher_path, encoded):
    import tfdistill
    from transformers import TFBertForSequenceClassification

    from tfdistill.testing import run_model_saving_test

    model = tfdistill.load_pretrained(teacher_path, num_labels=3)
    expected = np.asarray(model(encoded)["logits"])
    run_model_saving_test(model, encoded, tmp_path / "saved",
                          expected_config=model.bert_config.replace(label_names=("LABEL_0", "LABEL_1", "LABEL_2")))

    hf = TFBertForSequenceClassification.from_pretrained(str(tmp_path / "saved"))
    np.testing.assert_allclose(hf(dict(encoded)).logits.numpy(), expected, atol=1e-4)


def test_tf_style_names_from_transformers_save_pretrained(tmp_path, teacher_path, encoded, ours):
    import tfdistill
    from transformers import TFBertModel

    TFBertModel.from_pretrained(teacher_path).save_pretrained(str(tmp_path / "tf"), safe_serialization=True)
    model = tfdistill.load_pretrained(str(tmp_path / "tf"))
    np.testing.assert_allclose(np.asarray(model(encoded)["hidden_states"][-1]), ours["hidden_states"][-1],
                               atol=1e-6)
