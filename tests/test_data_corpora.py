"""The built-in corpora beyond Rotten Tomatoes: counts, class names, clean texts, splits."""

import collections
import json
import subprocess
import sys

import numpy as np
import pytest

from tfdistill.data import corpora, datasets

pytestmark = pytest.mark.integration

# name -> (rows per class, in class-id order, and (train, validation, test) sizes at seed 0).
EXPECTED = {
    "presidential_debates_2016": (
        {"clinton": 151, "kaine": 177, "pence": 198, "trump": 214}, (590, 76, 74)),
    "trec": (
        {"abbreviation": 86, "description": 1162, "entity": 1250, "human": 1223,
         "location": 835, "numeric": 896}, (4362, 542, 548)),
    "health_news_tweets": (
        {"bbchealth": 3929, "cbchealth": 3735, "cnnhealth": 4061, "everydayhealth": 3235,
         "foxnewshealth": 1748, "gdnhealthcare": 2996, "goodhealth": 7859,
         "kaiserhealthnews": 3500, "latimeshealth": 4171, "msnhealthnews": 3195,
         "nbchealth": 4211, "nprhealth": 4825, "nytimeshealth": 6243, "reuters_health": 4455,
         "usnewshealth": 1400, "wsjhealth": 3200}, (50225, 6257, 6281)),
}


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def corpus(request):
    return datasets.load(request.param)


def normalized(text):
    return " ".join(text.lower().split())


def test_the_corpora_are_built_in():
    assert set(EXPECTED) <= set(datasets.BUILTIN_DATASETS)
    assert set(corpora.READERS) == set(EXPECTED)


def test_counts_and_class_names(corpus):
    per_class, sizes = EXPECTED[corpus.name]
    assert corpus.label_names == list(per_class)
    labels = np.concatenate([split.labels for split in corpus.splits.values()])
    assert np.bincount(labels).tolist() == list(per_class.values())
    assert tuple(len(split) for split in corpus.splits.values()) == sizes


def test_texts_are_clean_and_labels_consistent(corpus):
    label_of = {}
    for split in corpus.splits.values():
        for text, label in zip(split.texts, split.labels):
            assert text == text.strip() and text, repr(text)
            assert "\ufffd" not in text
            # Repeated texts carry one label: nothing that no model could learn.
            assert label_of.setdefault(normalized(text), label) == label, text


def test_loading_is_deterministic_and_splits_are_disjoint(corpus):
    again = datasets.load(corpus.name)
    seen = {}
    for name, split in corpus.splits.items():
        assert split.fingerprint() == again.splits[name].fingerprint(), name
        for text in split.texts:
            assert seen.setdefault(normalized(text), name) == name, text


def test_splits_are_stratified(corpus):
    total = np.bincount(np.concatenate([s.labels for s in corpus.splits.values()]))
    for name, split in corpus.splits.items():
        shares = np.bincount(split.labels, minlength=len(total)) / len(split)
        np.testing.assert_allclose(shares, total / total.sum(), atol=0.02, err_msg=name)


def test_debates_keep_candidates_statements_of_three_words_or_more():
    table = corpora.read_presidential_debates_2016()["train"]
    assert min(len(text.split()) for text in table.texts) == 3
    assert "Yeah." not in table.texts and "Thank you." not in table.texts
    assert table.texts[0].startswith("Elaine, thank you for being here tonight")
    assert table.labels[0] == "kaine"


def test_trec_reads_train_5500_with_coarse_classes():
    table = corpora.read_trec()["train"]
    assert (table.lines[0], table.lines[-1]) == ("line 10001", "line 15452")
    assert (table.texts[-1], table.labels[-1]) == ("What currency is used in Australia ?",
                                                   "entity")
    assert "Which city has the oldest relationship as a sister city with Los Angeles ?" in (
        table.texts)
    counts = collections.Counter(normalized(text) for text in table.texts)
    assert sum(count - 1 for count in counts.values()) == 72  # repeats kept, in one split


def test_tweets_lose_their_links_and_shared_headlines():
    table = corpora.read_health_news_tweets()["train"]
    assert not [text for text in table.texts if "http" in text or "&amp;" in text]
    assert table.texts[0] == ("It’s not hard to get a little cardio in at home! @KristinMcGee has "
                              "an awesome plyometric move you can do anywhere:")
    assert (table.lines[0], table.labels[0]) == ("line 2", "goodhealth")
    # Posted by goodhealth and foxnewshealth alike: dropped.
    assert "5 tricks for the best nap ever" not in {normalized(t) for t in table.texts}


def test_dataset_flag_loads_trec():
    # A fresh interpreter: the data flags are defined on absl's global FLAGS, as in a recipe.
    script = ("import json; from absl import flags; from tfdistill.cli import data_flags; "
              "data_flags.define_data_flags(); flags.FLAGS(['prog', '--dataset=trec', "
              "'--max_examples=100']); "
              "print(json.dumps(data_flags.load_data_from_flags().get_config()))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, timeout=120)
    config = json.loads(result.stdout.splitlines()[-1])
    assert config["name"] == "trec" and config["num_classes"] == 6
    assert config["num_examples"] == {"train": 100, "validation": 100, "test": 100}
