"""`PruningConfig`: how a student is pruned (no TensorFlow import: scripts validate flags cheaply)."""

import dataclasses
from typing import Optional, Tuple

SCHEDULES = ("polynomial_decay", "constant")


@dataclasses.dataclass(frozen=True)
class PruningConfig:
    """How a student is pruned.

    Args:
        target_sparsity: float in (0, 1), the final fraction of zeros in each pruned kernel
            (ignored for kernels when `m_by_n` is set) and in the word-embedding table.
        schedule: `"polynomial_decay"` (sparsity rises from 0 to the target between
            `begin_step` and `end_step`, cubic; the usual choice when fine-tuning) or
            `"constant"` (the target from `begin_step` on, masks refreshed every `frequency`
            steps).
        begin_step: int >= 0, the training step pruning starts at.
        end_step: int > begin_step, the step the polynomial schedule reaches the target (for
            `"constant"`, the last step masks are updated; -1 means until training ends).
        frequency: int >= 1, steps between mask updates.
        m_by_n: optional `(m, n)` with 0 < m < n: N:M structured sparsity for the kernels,
            m zeros in every n consecutive input weights of each output unit, e.g. `(2, 4)`.
            The mask is chosen once, at the first training step.
        prune_embeddings: bool, also prune the word-embedding table, in whole rows.

    Raises:
        ValueError: a value is out of range or the schedule is unknown.

    Example:
    >>> PruningConfig(target_sparsity=0.5, end_step=600, frequency=50).schedule
    'polynomial_decay'
    >>> PruningConfig(target_sparsity=1.5)
    Traceback (most recent call last):
    ...
    ValueError: target_sparsity must be in (0, 1) (exclusive), got 1.5. ...
    """

    target_sparsity: float = 0.5
    schedule: str = "polynomial_decay"
    begin_step: int = 0
    end_step: int = 1000
    frequency: int = 100
    m_by_n: Optional[Tuple[int, int]] = None
    prune_embeddings: bool = True

    def __post_init__(self):
        sparsity = self.target_sparsity
        if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float)) or not 0 < sparsity < 1:
            raise ValueError(
                f"target_sparsity must be in (0, 1) (exclusive), got {sparsity!r}. It is the "
                "fraction of zeros, e.g. 0.5 for half the weights.")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"Unknown pruning schedule {self.schedule!r}; use one of {list(SCHEDULES)}.")
        if not _is_int(self.begin_step) or self.begin_step < 0:
            raise ValueError(f"begin_step must be an int >= 0, got {self.begin_step!r}.")
        open_ended = self.schedule == "constant" and self.end_step == -1
        if not _is_int(self.end_step) or (self.end_step <= self.begin_step and not open_ended):
            raise ValueError(
                f"end_step must be an int > begin_step={self.begin_step}, got {self.end_step!r} "
                "(the constant schedule also accepts -1: until training ends).")
        if not _is_int(self.frequency) or self.frequency < 1:
            raise ValueError(f"frequency must be an int >= 1, got {self.frequency!r}.")
        if self.schedule == "polynomial_decay" and (self.end_step - self.begin_step) % self.frequency:
            raise ValueError(
                f"end_step - begin_step = {self.end_step - self.begin_step} is not a multiple of "
                f"frequency={self.frequency}: masks only update every frequency steps, so the last "
                "update would stop short of the target. Use PruningConfig.for_steps to derive them.")
        if self.m_by_n is not None:
            object.__setattr__(self, "m_by_n", parse_m_by_n(self.m_by_n))

    @classmethod
    def for_steps(cls, total_steps, end_fraction=0.7, frequency=20, **kwargs):
        """A config whose schedule reaches the target within a run of `total_steps` steps.

        The target is reached after `end_fraction` of the steps (the rest recovers accuracy at
        the final masks); `frequency` shrinks for short runs and `end_step` is rounded down to a
        multiple of it, so the last mask update lands on the target.

        Args:
            total_steps: int >= 1, the optimizer steps of the whole run.
            end_fraction: float in (0, 1].
            frequency: int >= 1, the wanted steps between mask updates.
            **kwargs: the other `PruningConfig` fields.

        Raises:
            ValueError: a bad step count or fraction, or a bad field.

        Example:
        >>> config = PruningConfig.for_steps(640, end_fraction=0.7, frequency=20)
        >>> config.end_step, config.frequency
        (440, 20)
        """
        if not _is_int(total_steps) or total_steps < 1:
            raise ValueError(f"total_steps must be an int >= 1, got {total_steps!r}.")
        if not 0 < end_fraction <= 1:
            raise ValueError(f"end_fraction must be in (0, 1], got {end_fraction!r}.")
        begin = kwargs.pop("begin_step", 0)
        span = max(1, int(total_steps * end_fraction) - begin)
        frequency = max(1, min(frequency, span))
        return cls(begin_step=begin, end_step=begin + span - span % frequency, frequency=frequency, **kwargs)

    def make_schedule(self, target_sparsity=None):
        """Returns the tfmot `PruningSchedule` (to `target_sparsity`, default the config's).

        Example:
        >>> type(PruningConfig(end_step=100).make_schedule()).__name__
        'PolynomialDecay'
        >>> PruningConfig(schedule="constant").make_schedule(0.3).get_config()["config"]["target_sparsity"]
        0.3
        """
        import tensorflow_model_optimization as tfmot

        target = self.target_sparsity if target_sparsity is None else target_sparsity
        if self.schedule == "constant":
            return tfmot.sparsity.keras.ConstantSparsity(
                target, begin_step=self.begin_step, end_step=self.end_step, frequency=self.frequency)
        return tfmot.sparsity.keras.PolynomialDecay(
            initial_sparsity=0.0, final_sparsity=target, begin_step=self.begin_step,
            end_step=self.end_step, frequency=self.frequency)

    def get_config(self):
        """Returns a JSON-serialisable dict; `PruningConfig.from_config` inverts it."""
        config = dataclasses.asdict(self)
        config["m_by_n"] = None if self.m_by_n is None else list(self.m_by_n)
        return config

    @classmethod
    def from_config(cls, config):
        """Builds a config from `get_config()` output."""
        return cls(**config)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def parse_m_by_n(value):
    """Parses an N:M pattern given as `(m, n)`, `"2,4"` or `"2:4"`.

    Args:
        value: tuple/list of two ints, or a string `"m,n"` / `"m:n"`.

    Returns:
        tuple `(m, n)` of ints with 0 < m < n.

    Raises:
        ValueError: not two ints, or not 0 < m < n.

    Example:
    >>> parse_m_by_n("2:4")
    (2, 4)
    """
    parts = value.replace(":", ",").split(",") if isinstance(value, str) else value
    try:
        m, n = (int(part) for part in parts)
    except (TypeError, ValueError):
        raise ValueError(f"m_by_n must be two integers like '2,4' (m zeros in every n weights), "
                         f"got {value!r}.") from None
    if not 0 < m < n:
        raise ValueError(f"m_by_n=({m}, {n}) needs 0 < m < n (m zeros in every n weights), e.g. (2, 4).")
    return m, n
