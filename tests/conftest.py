"""Shared fixtures: the shipped teacher folder and a few real sentences."""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def teacher_path():
    import tfdistill

    return tfdistill.default_teacher_path()


@pytest.fixture(scope="session")
def sentences():
    """Real review sentences: punctuation, a one-word review, a long one, accented words."""
    return [
        "A gripping, beautifully acted drama that never loses its nerve.",
        "Dull.",
        "The plot is a mess, but the performances are so good that you barely notice.",
        "Café society in Paris, naïvely romantic and über-stylish.",
    ]


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path, parent):
    """`--doctest-modules` (setup.cfg) is for tfdistill's docstrings: the scripts and tests here
    are not imported a second time as doctest modules."""
    from _pytest.doctest import DoctestModule

    collectors = yield
    return [collector for collector in collectors if not isinstance(collector, DoctestModule)]
