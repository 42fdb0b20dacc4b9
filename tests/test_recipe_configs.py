"""The flagfiles in recipes/configs describe the students their comments promise."""

import os

import pytest

import tfdistill
from tfdistill.distill.student import student_config
from tfdistill.training.finetune import count_params

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "recipes", "configs")
pytestmark = pytest.mark.integration


def _flags(name):
    values = {}
    for line in open(os.path.join(CONFIGS, name)):
        if line.startswith("--"):
            key, _, value = line.strip()[2:].partition("=")
            values[key] = value
    return values


@pytest.mark.parametrize("name", ["default.cfg", "tinybert4.cfg"])
def test_students_have_at_most_a_quarter_of_the_teachers_non_embedding_params(name):
    flags = _flags(name)
    # Non-embedding parameters do not depend on the vocabulary: a small one builds faster.
    teacher_config = tfdistill.load_config(tfdistill.default_teacher_path()).replace(num_labels=2, vocab_size=8)
    config = student_config(teacher_config, int(flags["student_layers"]),
                            *(int(flags[key]) if key in flags else None
                              for key in ("student_hidden", "student_heads", "student_intermediate")))
    _, teacher_params = count_params(tfdistill.build_bert(teacher_config))
    _, student_params = count_params(tfdistill.build_bert(config))
    assert config.num_layers == 4
    assert student_params <= teacher_params / 4, (student_params, teacher_params)
