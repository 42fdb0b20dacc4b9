"""The `--lazy_adam` flag of the training commands: which AdamW their stages train with."""

from absl import flags


def define_optimizer_flags():
    """Defines `--lazy_adam`."""
    flags.DEFINE_bool(
        "lazy_adam", False,
        "Train with LazyAdamW: update an embedding table only in the rows each batch reads (TensorFlow "
        "Addons' LazyAdam): faster steps, but rarely read rows move less than under AdamW and test accuracy "
        "was 0.3-1.6 points lower in 4 of 4 paired runs. Default: AdamW (in TensorFlow's fused Adam kernel).")


def apply_optimizer_flags(values):
    """Makes `--lazy_adam` the default of every optimizer this process builds
    (`tfdistill.training.optimization.adamw`)."""
    from tfdistill.training import optimization

    optimization.set_default_lazy_adam(values.lazy_adam)
