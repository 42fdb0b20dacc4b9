"""Lazy public names for packages whose modules import TensorFlow or tfmot (seconds to load)."""

import importlib
import sys


def lazy_attributes(package, exports):
    """Returns `(__getattr__, __dir__)` that import `exports` on first use.

    Args:
        package: str, the package's `__name__` (for error messages).
        exports: dict `{public_name: module_path}`; a name equal to the module's last part
            resolves to the module itself.

    Example:
    >>> __getattr__, __dir__ = lazy_attributes(__name__, {"Distiller": "tfdistill.distill.distiller"})
    """

    def __getattr__(name):
        module_name = exports.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(module_name)
        return module if module_name.endswith("." + name) else getattr(module, name)

    def __dir__():
        return sorted(set(exports) | set(vars(sys.modules[package])))

    return __getattr__, __dir__
