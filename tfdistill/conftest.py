"""Docstring examples as tests: the names they may use without defining them.

`pytest` runs every docstring example under tfdistill/ (`--doctest-modules` in setup.cfg's
`[tool:pytest]`, with NORMALIZE_WHITESPACE, ELLIPSIS and NUMBER). Each example runs in a fresh
temporary working directory, so `"runs/student"` in an example writes nowhere real, and may use
these names; each is built on first use and cached for the session (the models get their first
weights back before every example that names them, so one example's training does not change
another's numbers):

    tokenizer    `Tokenizer` with a 23-token WordPiece vocabulary (`training.testing.tiny_task`)
    preprocessor `TextClassifierPreprocessor(tokenizer, max_length=16, label_names=["neg", "pos"])`
    data         `TextClassificationData` "tiny": 64 train, 16 validation and 16 test texts of
                 made-up reviews, labels `["neg", "pos"]`
    teacher      random classifier `BertModel` for `tokenizer`: 4 blocks of width 32, 4 heads
    student      random classifier `BertModel` for `tokenizer`: 2 blocks of width 16, 2 heads
    pruned       `compress.prune_student(student, PruningConfig(schedule="constant", end_step=-1,
                 frequency=1), training_token_ids(...))` trained one epoch on `train` with
                 `pruning_callbacks()`: 50% of every kernel and of the word table is zeros
    qat          `compress.quantize_student(student)`, not calibrated
    train        `tf.data.Dataset` of `(features, labels)` batches (8 rows, at most 16 tokens) of
                 `data.train`; `validation` the same of `data.validation`
    features     dict of int32 numpy arrays `[4, 16]`: the first 4 validation texts
    package_dir  str, a float32 model package of `student` (`export.export_tflite`, seq_len 16,
                 labels `data.label_names`)
    flatbuffer   bytes, that package's `model.tflite`

A name that the example's own module defines, or that the example assigns before using it, is
not injected. Examples that need the shipped teacher's weights, training (a traced `fit` costs
seconds), the MediaPipe venv, the network or a user's files stay `# doctest: +SKIP`, written as
correct calls all the same. Every example of the package runs in under a minute of CPU in all
(`pytest --doctest-modules tfdistill --durations=30`); a tfmot transform or a TFLite
conversion costs 1-3 s, so use the cached names rather than building another.
"""

import ast
import doctest
import functools
import os

import pytest

# Vendored FlatBuffers code (no examples of ours); not a module to collect.
collect_ignore = ["export/mediapipe_metadata_schema.py"]

SEQ_LEN = 16
BATCH = 8


@functools.cache
def _task():
    from tfdistill.training.testing import tiny_task

    return tiny_task()


@functools.cache
def _model(name):
    """`(model, its first weights)`: every variable, so a pruned model's masks and step and a QAT
    model's ranges come back too."""
    from tfdistill.training.testing import tiny_classifier

    tokenizer = _task()[0]
    if name == "teacher":
        model = tiny_classifier(tokenizer, seed=1, name="teacher", hidden_size=32, num_layers=4, num_heads=4,
                                intermediate_size=64)
    elif name == "student":
        model = tiny_classifier(tokenizer, seed=0, name="student")
    elif name == "pruned":
        model = _pruned(_fresh_model("student"))
    else:  # qat
        from tfdistill.compress import quantize_student

        model = quantize_student(_fresh_model("student"))
    return model, model.get_weights()


def _pruned(student):
    import tf_keras as keras

    from tfdistill.compress import PruningConfig, prune_student, pruning_callbacks
    from tfdistill.models.bert.bert_model import logits_model

    tokenizer, data = _task()
    used = _training_token_ids()
    pruned = prune_student(student, PruningConfig(schedule="constant", end_step=-1, frequency=1), used)
    classifier = logits_model(pruned)
    # Eager: 8 tiny steps run faster than tracing the training graph.
    classifier.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), run_eagerly=True)
    classifier.fit(_dataset("train"), epochs=1, callbacks=pruning_callbacks(), verbose=0)
    return pruned


def _training_token_ids():
    from tfdistill.compress import training_token_ids

    return training_token_ids(_preprocessor(), _task()[1].train)


def _fresh_model(name):
    model, weights = _model(name)
    model.set_weights(weights)
    return model


@functools.cache
def _dataset(split_name):
    from tfdistill.data import make_tf_dataset

    tokenizer, data = _task()
    return make_tf_dataset(getattr(data, split_name), tokenizer, SEQ_LEN, BATCH)


@functools.cache
def _preprocessor():
    from tfdistill.data import TextClassifierPreprocessor

    tokenizer, data = _task()
    return TextClassifierPreprocessor(tokenizer, SEQ_LEN, data.label_names)


def _features():
    tokenizer, data = _task()
    return tokenizer(data.validation.texts[:4], max_length=SEQ_LEN)


_package_root = []  # the session's temporary folder, set by `_doctest_names`


@functools.cache
def _package_dir():
    from tfdistill.export import export_tflite

    tokenizer, data = _task()
    folder = os.path.join(_package_root[0], "student_float32")
    student, weights = _model("student")
    student.set_weights(weights)
    export_tflite(student, folder, "float32", SEQ_LEN, tokenizer, data.train, data.validation, data.test,
                  labels=data.label_names)
    return folder


def _flatbuffer():
    with open(os.path.join(_package_dir(), "model.tflite"), "rb") as f:
        return f.read()


# name -> builder (called once per example that uses the name)
FIXTURES = {
    "tokenizer": lambda: _task()[0],
    "data": lambda: _task()[1],
    "preprocessor": _preprocessor,
    "teacher": lambda: _fresh_model("teacher"),
    "student": lambda: _fresh_model("student"),
    "pruned": lambda: _fresh_model("pruned"),
    "qat": lambda: _fresh_model("qat"),
    "train": lambda: _dataset("train"),
    "validation": lambda: _dataset("validation"),
    "features": _features,
    "package_dir": _package_dir,
    "flatbuffer": _flatbuffer,
}


def names_read_before_assigned(dtest):
    """The names a doctest's (not skipped) examples read before they bind them, in order."""
    skip = doctest.OPTIONFLAGS_BY_NAME["SKIP"]
    bound, read = set(), []
    for example in dtest.examples:
        if example.options.get(skip):
            continue
        try:
            tree = ast.parse(example.source)
        except SyntaxError:
            continue
        events = []  # (line, column, name, whether it binds)
        # An assignment binds its targets after its value is read: `student = f(student)` reads it.
        ends = {id(target): (node.end_lineno, node.end_col_offset)
                for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
                for target in ast.walk(ast.Tuple(getattr(node, "targets", None) or [node.target]))}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                line, column = ends.get(id(node), (node.lineno, node.col_offset))
                events.append((line, column, node.id, not isinstance(node.ctx, ast.Load)))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                events += [(node.lineno, node.col_offset, (alias.asname or alias.name).split(".")[0], True)
                           for alias in node.names]
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                events.append((node.lineno, node.col_offset, node.name, True))
        for _, _, name, binds in sorted(events):
            if binds:
                bound.add(name)
            elif name not in bound and name not in read:
                read.append(name)
    return read


@pytest.fixture(autouse=True)
def _doctest_names(request):
    item = request.node
    if getattr(item, "dtest", None) is None:  # not a doctest
        yield
        return
    if not _package_root:
        _package_root.append(str(request.getfixturevalue("tmp_path_factory").mktemp("doctest_packages")))
    request.getfixturevalue("monkeypatch").chdir(request.getfixturevalue("tmp_path"))
    namespace = request.getfixturevalue("doctest_namespace")
    added = [name for name in names_read_before_assigned(item.dtest)
             if name in FIXTURES and name not in item.dtest.globs]
    for name in added:
        namespace[name] = FIXTURES[name]()
    yield
    for name in added:
        namespace.pop(name, None)
