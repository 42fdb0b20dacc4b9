"""The `--lazy_adam` flag of the training commands: which AdamW their stages train with."""

from absl import flags


def define_optimizer_flags():
    """Defines `--lazy_adam`."""
    flags.DEFINE_bool(
        "lazy_adam", True,
        "Train with LazyAdamW: AdamW that updates an embedding table only in the rows each batch reads "
        "(TensorFlow Addons' LazyAdam), with fused dense updates; faster steps. --nolazy_adam: Keras' AdamW, "
        "which also moves (decays) the rows a batch does not read.")


def apply_optimizer_flags(values):
    """Makes `--lazy_adam` the default of every optimizer this process builds
    (`tfdistill.training.optimization.adamw`)."""
    from tfdistill.training import optimization

    optimization.set_default_lazy_adam(values.lazy_adam)
