import numpy as np

from tfdistill.data import Split
from tfdistill.data.preprocessor import TextClassifierPreprocessor
from tfdistill.training import evaluation
from tfdistill.training.testing import tiny_classifier, tiny_task


def test_logits_come_back_in_split_order_each_as_the_text_alone_gives_them():
    # Lengths 2-11 in random order: sorted by length, the batches differ from the split's.
    tokenizer, data = tiny_task(evaluation=40, seed=3)
    model = tiny_classifier(tokenizer)
    preprocessor = TextClassifierPreprocessor(tokenizer, 16, data.label_names)
    logits, labels = evaluation.predict_logits(model, preprocessor, data.test, batch_size=8)
    alone = np.concatenate([np.asarray(model(preprocessor([text]), training=False)["logits"])
                            for text in data.test.texts])
    np.testing.assert_allclose(logits, alone, atol=1e-5)
    assert labels.tolist() == list(data.test.labels)
    assert evaluation.accuracy(model, preprocessor, data.test) == np.mean(alone.argmax(axis=1) == labels)
