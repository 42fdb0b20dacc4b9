"""The `tfdistill` subcommands: one module each, with its absl flags (defined at import), `run(values)`
and `main(argv)`. `tfdistill.cli.main` imports only the chosen one; recipes/*.py and export/*.py
are thin entry points to the same modules."""

import sys

from absl import flags


def list_flags_in_help(*modules):
    """Makes `--help` list the flags that `modules` define, not only `--helpfull`.

    absl's `--help` lists the key flags of the program's file (`sys.argv[0]`: recipes/distill.py,
    or the `tfdistill` console script), but a command's flags are key flags of the module that
    defines them. Call it from a command module after its flags are defined.

    Args:
        *modules: module objects or names, e.g. `__name__` and `tfdistill.cli.data_flags`.

    Example:
    >>> list_flags_in_help(__name__, data_flags)  # doctest: +SKIP
    """
    values = flags.FLAGS
    for module in modules:
        for flag in values.get_key_flags_for_module(module):
            values.register_key_flag_for_module(sys.argv[0], flag)


# The training settings a command records in metrics.json (its model card lists them).
TRAINING_SETTINGS = ("max_length", "epochs", "batch_size", "learning_rate", "seed", "lazy_adam")


def training_settings(values, *extra):
    """`{flag: value}` of the training settings (and `extra` flags) for metrics.json's `flags`.

    Example:
    >>> from absl import flags
    >>> values = flags.FlagValues()
    >>> _ = flags.DEFINE_integer("epochs", 3, "", flag_values=values), values(["prog"])
    >>> training_settings(values)
    {'epochs': 3}
    """
    return {name: values[name].value for name in (*TRAINING_SETTINGS, *extra) if name in values}

