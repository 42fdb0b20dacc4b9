"""The BERT fine-tuning optimizer: AdamW with linear warm-up and linear decay."""

import tensorflow as tf
import tf_keras as keras

# Weight decay on LayerNorm scales and biases hurts BERT fine-tuning (Devlin et al.).
NO_DECAY = ["layer_norm", "LayerNorm", "bias"]


@keras.utils.register_keras_serializable(package="tfdistill")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Rises linearly from 0 to `peak_learning_rate` over `warmup_steps`, then decays linearly
    to 0 at `total_steps`.

    Args:
        peak_learning_rate: float > 0.
        total_steps: int > 0, the number of optimizer steps of the whole run.
        warmup_steps: int in [0, total_steps).

    Raises:
        ValueError: a non-positive rate or step count, or warm-up not shorter than the run.

    Example:
    >>> schedule = WarmupLinearDecay(1e-4, total_steps=100, warmup_steps=10)
    >>> [round(float(schedule(step)), 10) for step in (0, 5, 10, 55, 100)]  # float32 rates
    [0.0, 5e-05, 0.0001, 5e-05, 0.0]
    """

    def __init__(self, peak_learning_rate, total_steps, warmup_steps=0):
        if not peak_learning_rate > 0:
            raise ValueError(f"peak_learning_rate must be > 0, got {peak_learning_rate}.")
        if total_steps <= 0 or not 0 <= warmup_steps < total_steps:
            raise ValueError(
                f"Need total_steps > 0 and 0 <= warmup_steps < total_steps, got total_steps={total_steps}, "
                f"warmup_steps={warmup_steps}.")
        self.peak_learning_rate = float(peak_learning_rate)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = step / max(self.warmup_steps, 1)
        decay = (self.total_steps - step) / max(self.total_steps - self.warmup_steps, 1)
        fraction = tf.where(step < self.warmup_steps, warmup, decay)
        return self.peak_learning_rate * tf.clip_by_value(fraction, 0.0, 1.0)

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps}


def adamw(learning_rate, total_steps, warmup_fraction=0.1, weight_decay=0.01):
    """Returns AdamW with `WarmupLinearDecay`, excluding LayerNorm and bias from weight decay.

    Args:
        learning_rate: float, the peak learning rate.
        total_steps: int, optimizer steps of the whole run (epochs x steps per epoch).
        warmup_fraction: float in [0, 1), the share of steps spent warming up.
        weight_decay: float >= 0.

    Example:
    >>> optimizer = adamw(5e-5, total_steps=1000)
    """
    if not 0 <= warmup_fraction < 1:
        raise ValueError(f"warmup_fraction must be in [0, 1), got {warmup_fraction}.")
    schedule = WarmupLinearDecay(learning_rate, total_steps, int(total_steps * warmup_fraction))
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=weight_decay, epsilon=1e-6)
    optimizer.exclude_from_weight_decay(var_names=NO_DECAY)
    return optimizer
