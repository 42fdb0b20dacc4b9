"""The BERT fine-tuning optimizer: AdamW with linear warm-up and linear decay.

`FusedAdamW` is Keras' AdamW arithmetic in TensorFlow's fused Adam kernel. `LazyAdamW`
(`set_default_lazy_adam(True)`, a recipe's `--lazy_adam`) also updates an embedding table only
in the rows each batch reads, as TensorFlow Addons' `LazyAdam`: faster still, but not AdamW
(see its doc), and it lost 0.3-1.6 test points in 4 of 4 paired runs (bench/training_accuracy.py).
"""

import tensorflow as tf
import tf_keras as keras

# Weight decay on LayerNorm scales and biases hurts BERT fine-tuning (Devlin et al.).
NO_DECAY = ["layer_norm", "LayerNorm", "bias"]
# Variables at least this large (in practice the word table) take their AdamW step in one
# XLA-compiled loop: `python bench/optimizer_step.py`, 2 cores, gave 1.29x on the 30,522 x 384
# table (row-sparse gradient) and 0.90-1.10x on 384 x 1536 and 384 x 384 kernels, where the
# launch costs about what the fused loop saves (one XLA compile per shape, once).
XLA_MIN_ELEMENTS = 2**20

_lazy_adam = False


def set_default_lazy_adam(enabled):
    """Sets whether `adamw(lazy=None)` returns `LazyAdamW` (True) or `FusedAdamW`: what a
    recipe's `--lazy_adam` flag does for every training stage it runs.

    Returns:
        bool, the previous default.

    Example:
    >>> previous = set_default_lazy_adam(True)
    >>> type(adamw(5e-5, total_steps=10)).__name__
    'LazyAdamW'
    >>> set_default_lazy_adam(previous)
    True
    """
    global _lazy_adam
    previous, _lazy_adam = _lazy_adam, bool(enabled)
    return previous


@keras.utils.register_keras_serializable(package="tfdistill")
class FusedAdamW(keras.optimizers.AdamW):
    """Keras' AdamW with each variable's update in TensorFlow's fused `ResourceApplyAdam` kernel.

    The same arithmetic as `keras.optimizers.AdamW` (decoupled weight decay, then the Adam
    step; the results agree to float32 rounding), in one pass over a variable and its two
    moments where Keras makes about ten, which matters most for the 30,522-row word table
    (bench/training_throughput.py measures it with the other always-on changes). Variables of
    `XLA_MIN_ELEMENTS` or more (the word table) take decay and step in one XLA-compiled loop
    instead of the decay's passes plus the kernel's. A row-sparse gradient (an embedding
    lookup's) is made dense first, as Keras' AdamW effectively does.
    Arguments are Keras' `AdamW`'s; `amsgrad` is refused.

    Example:
    >>> variable = tf.Variable([1.0, 2.0])
    >>> _ = FusedAdamW(learning_rate=0.1, weight_decay=0.0).apply_gradients([(tf.constant([1.0, -1.0]), variable)])
    >>> variable.numpy().round(2).tolist()
    [0.9, 2.1]
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.amsgrad:
            raise ValueError(f"{type(self).__name__} does not implement amsgrad; use keras.optimizers.AdamW.")

    def _apply_weight_decay(self, variables):
        """Keras decays every variable before the step; here `update_step` decays each one."""

    def update_step(self, gradient, variable):
        dtype = variable.dtype
        lr = tf.cast(self.learning_rate, dtype)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        index = self._index_dict[self._var_key(variable)]
        moments = self._momentums[index], self._velocities[index]
        decays = self.weight_decay and self._use_weight_decay(variable)
        decay = tf.cast(self.weight_decay, dtype) * lr if decays else None
        if isinstance(gradient, tf.IndexedSlices):
            return self._sparse_step(gradient, variable, moments, lr, step, decay)
        m, v = moments
        powers = tf.pow(beta_1, step), tf.pow(beta_2, step)
        epsilon = tf.cast(self.epsilon, dtype)
        if (variable.shape.num_elements() or 0) >= XLA_MIN_ELEMENTS:
            no_decay = tf.zeros([], dtype)
            return _xla_adamw_step(variable, m, v, gradient, lr, no_decay if decay is None else decay, *powers,
                                   beta_1, beta_2, epsilon)
        if decay is not None:
            variable.assign_sub(variable * decay)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=m.handle, v=v.handle, beta1_power=powers[0], beta2_power=powers[1], lr=lr,
            beta1=beta_1, beta2=beta_2, epsilon=epsilon, grad=tf.convert_to_tensor(gradient))

    def _sparse_step(self, gradient, variable, moments, lr, step, decay):
        return self.update_step(tf.convert_to_tensor(gradient), variable)


@tf.function(jit_compile=True)
def _xla_adamw_step(variable, m, v, gradient, lr, decay, beta1_power, beta2_power, beta_1, beta_2, epsilon):
    """`ResourceApplyAdam` after the decoupled decay, as one fused loop over the variable and its
    moments (a dense gradient: a row-sparse one would recompile for every count of rows)."""
    alpha = lr * tf.sqrt(1 - beta2_power) / (1 - beta1_power)
    new_m = m + (gradient - m) * (1 - beta_1)
    new_v = v + (tf.square(gradient) - v) * (1 - beta_2)
    m.assign(new_m)
    v.assign(new_v)
    variable.assign(variable - variable * decay - alpha * new_m / (tf.sqrt(new_v) + epsilon))


@keras.utils.register_keras_serializable(package="tfdistill")
class LazyAdamW(FusedAdamW):
    """`FusedAdamW` that updates an embedding table only in the rows each batch reads.

    A gradient that arrives as `tf.IndexedSlices` (an embedding lookup's) moves only its rows:
    their two moments, their decoupled weight decay and their Adam step, as TensorFlow Addons'
    `LazyAdam` with its decoupled weight decay did; rows the batch does not read keep their
    weights and moments. That is not AdamW: there, a row read once keeps moving on its decaying
    momentum for the next steps, so rarely read rows move several times further than here.

    Example:
    >>> table = tf.Variable(tf.ones([4, 2]))
    >>> optimizer = LazyAdamW(learning_rate=0.1, weight_decay=0.0)
    >>> with tf.GradientTape() as tape:
    ...     loss = tf.reduce_sum(tf.gather(table, [1]))
    >>> _ = optimizer.apply_gradients([(tape.gradient(loss, table), table)])
    >>> table.numpy().round(2).tolist()  # only row 1 moved
    [[1.0, 1.0], [0.9, 0.9], [1.0, 1.0], [1.0, 1.0]]
    """

    def _sparse_step(self, gradient, variable, moments, lr, step, decay):
        dtype = variable.dtype
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        (m, v), rows, values = moments, gradient.indices, gradient.values  # deduplicated by apply_gradients
        m_rows = tf.gather(m, rows) * beta_1 + values * (1 - beta_1)
        v_rows = tf.gather(v, rows) * beta_2 + tf.square(values) * (1 - beta_2)
        weights = tf.gather(variable, rows)
        if decay is not None:
            weights -= weights * decay
        alpha = lr * tf.sqrt(1 - tf.pow(beta_2, step)) / (1 - tf.pow(beta_1, step))
        weights -= alpha * m_rows / (tf.sqrt(v_rows) + tf.cast(self.epsilon, dtype))
        m.scatter_update(tf.IndexedSlices(m_rows, rows))
        v.scatter_update(tf.IndexedSlices(v_rows, rows))
        variable.scatter_update(tf.IndexedSlices(weights, rows))


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


def adamw(learning_rate, total_steps, warmup_fraction=0.1, weight_decay=0.01, lazy=None):
    """Returns AdamW with `WarmupLinearDecay`, excluding LayerNorm and bias from weight decay.

    Args:
        learning_rate: float, the peak learning rate.
        total_steps: int, optimizer steps of the whole run (epochs x steps per epoch).
        warmup_fraction: float in [0, 1), the share of steps spent warming up.
        weight_decay: float >= 0.
        lazy: bool, `LazyAdamW` (True) or `FusedAdamW`; None: the process default
            (`set_default_lazy_adam`, False unless a recipe's `--lazy_adam` changed it).

    Example:
    >>> optimizer = adamw(5e-5, total_steps=1000)
    >>> type(optimizer).__name__
    'FusedAdamW'
    """
    if not 0 <= warmup_fraction < 1:
        raise ValueError(f"warmup_fraction must be in [0, 1), got {warmup_fraction}.")
    schedule = WarmupLinearDecay(learning_rate, total_steps, int(total_steps * warmup_fraction))
    optimizer_class = LazyAdamW if (_lazy_adam if lazy is None else lazy) else FusedAdamW
    optimizer = optimizer_class(learning_rate=schedule, weight_decay=weight_decay, epsilon=1e-6)
    optimizer.exclude_from_weight_decay(var_names=NO_DECAY)
    return optimizer
