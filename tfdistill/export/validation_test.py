"""Unit tests of the agreement measure and the per-mode thresholds."""

import numpy as np
import pytest

from tfdistill.export.validation import MIN_AGREEMENT, Agreement, ExportValidationError, check_agreement


def test_agreement_counts_argmax_matches_and_the_largest_difference():
    reference = np.array([[0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])
    candidate = np.array([[0.1, 1.0], [0.5, 1.0], [0.0, 3.0]])
    agreement = Agreement.of(reference, candidate)
    assert agreement.examples == 3 and agreement.agreement == pytest.approx(2 / 3)
    assert agreement.max_abs_logit_diff == pytest.approx(1.5)


def test_different_heads_cannot_be_compared():
    with pytest.raises(ValueError, match="different heads"):
        Agreement.of(np.zeros((2, 2)), np.zeros((2, 3)))


@pytest.mark.parametrize("mode", sorted(MIN_AGREEMENT))
def test_threshold_per_mode_and_force(mode):
    minimum = MIN_AGREEMENT[mode]
    assert minimum == (0.97 if mode in ("int8", "qat") else 0.99)
    check_agreement(Agreement(100, minimum, 0.1), mode)
    low = Agreement(100, minimum - 0.01, 0.1)
    with pytest.raises(ExportValidationError, match=f"{mode} exports need >= {minimum:.0%}"):
        check_agreement(low, mode)
    assert check_agreement(low, mode, force=True) is low
