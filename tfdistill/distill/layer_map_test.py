import pytest

from tfdistill.distill.layer_map import resolve_layer_map


@pytest.mark.parametrize("spec, student, teacher, expected", [
    ("uniform", 4, 12, [3, 6, 9, 12]),
    ("uniform", 3, 6, [2, 4, 6]),
    ("uniform", 4, 6, [2, 3, 4, 6]),
    ("last", 2, 6, [5, 6]),
    ([1, 3], 2, 6, [1, 3]),
    ("1, 6", 2, 6, [1, 6]),
])
def test_layer_maps(spec, student, teacher, expected):
    assert resolve_layer_map(spec, student, teacher) == expected


@pytest.mark.parametrize("spec, message", [
    ([5, 2], "decreases"),
    ("every-other", "neither a strategy"),
])
def test_malformed_maps_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        resolve_layer_map(spec, 2, 6)


def test_last_refuses_a_deeper_student():
    with pytest.raises(ValueError, match="no deeper than the teacher"):
        resolve_layer_map("last", 8, 6)
