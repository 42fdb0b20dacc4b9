"""Unit tests of the MediaPipe-ready model writer on a tiny converted BERT-shaped graph.

MediaPipe itself runs in tests/test_mediapipe.py; these need only TensorFlow's converter, LiteRT
and the vendored metadata schema.
"""

import io
import zipfile

import numpy as np
import pytest

from tfdistill.export import mediapipe_model

SEQ_LEN = 8
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "bad"]
LABELS = ["negative", "positive", "neutral"]


@pytest.fixture(scope="module")
def flatbuffer():
    """A `serving_default` like the exporter's: 3 int32 inputs, `logits` and `probabilities`."""
    import tfdistill  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
    import tensorflow as tf

    holder = tf.Module()  # the trackable the converter needs for a signature
    holder.table = tf.Variable(np.random.default_rng(0).normal(size=(len(VOCAB), 3)).astype("float32"))
    specs = {name: tf.TensorSpec([1, SEQ_LEN], tf.int32, name=name) for name in mediapipe_model.BERT_INPUTS}

    @tf.function(input_signature=[specs])
    def serving_default(inputs):
        mask = tf.cast(inputs["attention_mask"], tf.float32)[..., None]
        hidden = tf.gather(holder.table, inputs["input_ids"]) * mask
        logits = tf.reduce_sum(hidden, axis=1) + tf.cast(tf.reduce_sum(inputs["token_type_ids"]), tf.float32)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits)}

    function = serving_default.get_concrete_function()
    return tf.lite.TFLiteConverter.from_concrete_functions([function], holder).convert()


def _features(count=5):
    rng = np.random.default_rng(1)
    ids = rng.integers(0, len(VOCAB), size=(count, SEQ_LEN)).astype(np.int32)
    mask = (np.arange(SEQ_LEN) < rng.integers(2, SEQ_LEN + 1, size=(count, 1))).astype(np.int32)
    return {"input_ids": ids * mask, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def _outputs(model_bytes, features):
    from tfdistill.export.runtime import load_interpreter

    runner = load_interpreter(model_bytes).get_signature_runner("serving_default")
    rows = [runner(**{name: values[i:i + 1] for name, values in features.items()})
            for i in range(len(features["input_ids"]))]
    return {name: np.concatenate([row[name] for row in rows]) for name in rows[0]}


def test_the_model_keeps_only_probabilities_with_identical_values(flatbuffer):
    model = mediapipe_model.text_classifier_model(flatbuffer, VOCAB, LABELS)
    features = _features()
    derived, original = _outputs(model, features), _outputs(flatbuffer, features)
    assert list(derived) == ["probabilities"]
    np.testing.assert_array_equal(derived["probabilities"], original["probabilities"])
    assert mediapipe_model.check_same_probabilities(model, flatbuffer, features, count=3) == 3


def test_metadata_names_the_inputs_in_model_order_and_packs_vocab_and_labels(flatbuffer):
    from tfdistill.export import mediapipe_metadata_schema as md
    from tfdistill.export.flatbuffer_edit import read_model

    model = mediapipe_model.text_classifier_model(flatbuffer, VOCAB, LABELS)
    metadata, files = mediapipe_model.read_metadata(model)
    assert metadata.minParserVersion == b"1.1.0"
    (subgraph,) = metadata.subgraphMetadata
    tree = read_model(model)
    by_index = {t.tensorIndex: t.name.decode() for t in tree.signatureDefs[0].inputs}
    model_inputs = [by_index[index] for index in tree.subgraphs[0].inputs]
    assert [t.name.decode() for t in subgraph.inputTensorMetadata] == [
        mediapipe_model.BERT_INPUTS[name] for name in model_inputs]
    (tokenizer,) = subgraph.inputProcessUnits
    assert tokenizer.optionsType == md.ProcessUnitOptions.BertTokenizerOptions
    (vocab,) = tokenizer.options.vocabFile
    assert (vocab.name, vocab.type) == (b"vocab.txt", md.AssociatedFileType.VOCABULARY)
    (output,) = subgraph.outputTensorMetadata
    (labels,) = output.associatedFiles
    assert (labels.name, labels.type) == (b"labels.txt", md.AssociatedFileType.TENSOR_AXIS_LABELS)
    assert files == {"vocab.txt": "".join(f"{t}\n" for t in VOCAB).encode(),
                     "labels.txt": b"negative\npositive\nneutral\n"}
    # MediaPipe reads associated files in place: they must be stored, not deflated.
    with zipfile.ZipFile(io.BytesIO(model)) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


def test_buffers_stay_16_byte_aligned(flatbuffer):
    from ai_edge_litert import schema_py_generated as schema

    model = mediapipe_model.text_classifier_model(flatbuffer, VOCAB, LABELS)
    root = schema.Model.GetRootAs(model, 0)
    starts = []
    for index in range(root.BuffersLength()):
        buffer = root.Buffers(index)
        if buffer.DataLength():
            starts.append(buffer._tab.Vector(buffer._tab.Offset(4)))  # where the data bytes begin
    assert starts and all(start % 16 == 0 for start in starts)


def _with_buffer_outside(flatbuffer):
    """Moves the largest constant buffer after the flatbuffer (offset/size), as ai-edge-quantizer
    does."""
    from tfdistill.export.flatbuffer_edit import read_model, write_model

    model = read_model(flatbuffer)
    constants = {tensor.buffer for tensor in model.subgraphs[0].tensors
                 if model.buffers[tensor.buffer].data is not None}
    index = max(constants, key=lambda i: len(model.buffers[i].data))
    data = bytes(np.asarray(model.buffers[index].data, np.uint8))
    model.buffers[index].data, model.buffers[index].offset, model.buffers[index].size = None, 1, len(data)
    length = len(write_model(model))
    offset = -(-length // 16) * 16
    model.buffers[index].offset = offset
    packed = write_model(model)
    assert len(packed) == length
    return packed + b"\0" * (offset - length) + data


def test_constant_buffers_outside_the_flatbuffer_are_moved_inline(flatbuffer):
    from tfdistill.export.flatbuffer_edit import read_model

    outside = _with_buffer_outside(flatbuffer)
    features = _features()
    expected = _outputs(flatbuffer, features)["probabilities"]
    np.testing.assert_array_equal(_outputs(outside, features)["probabilities"], expected)
    model = mediapipe_model.text_classifier_model(outside, VOCAB, LABELS)
    assert all(b.offset == 0 for b in read_model(model).buffers)
    np.testing.assert_array_equal(_outputs(model, features)["probabilities"], expected)
    with pytest.raises(ValueError, match="the file is truncated"):
        mediapipe_model.text_classifier_model(outside[:-3], VOCAB, LABELS)


def test_unsupported_models_say_why():
    assert "cased" in mediapipe_model.unsupported_reason({"do_lower_case": False}, ["logits", "probabilities"])
    assert "with_probabilities=True" in mediapipe_model.unsupported_reason({"do_lower_case": True}, ["logits"])
    assert mediapipe_model.unsupported_reason({"do_lower_case": True}, ["logits", "probabilities"]) is None


def test_a_model_without_probabilities_or_with_other_inputs_is_refused(flatbuffer):
    from tfdistill.export.flatbuffer_edit import read_model

    tree = read_model(flatbuffer)
    with pytest.raises(ValueError, match="no 'scores'"):
        mediapipe_model.keep_only_output(tree, "scores")
    tree.signatureDefs[0].inputs[0].name = b"input_word_ids"
    with pytest.raises(ValueError, match="needs exactly"):
        mediapipe_model.bert_input_order(tree)


def test_the_token_id_probe_outputs_its_ids():
    from tfdistill.export.mediapipe_probe import token_id_probe

    probe = token_id_probe(VOCAB, SEQ_LEN)
    features = _features()
    (ids,) = _outputs(probe, features).values()
    np.testing.assert_array_equal(ids, features["input_ids"].astype(np.float32))
    metadata, files = mediapipe_model.read_metadata(probe)
    assert files["labels.txt"] == "".join(f"{i}\n" for i in range(SEQ_LEN)).encode()
    with pytest.raises(ValueError, match="seq_len >= 2"):
        token_id_probe(VOCAB, 1)
