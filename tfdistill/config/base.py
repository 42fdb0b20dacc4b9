"""`Config`: a frozen, typed, validated dataclass that round-trips through plain dicts and JSON.

In the spirit of Model Garden's `official/core/config_definitions`: a run is described by nested
sections (`RunConfig.distill.learning_rate`), each field typed by its annotation, checked when the
config is built (a wrong value fails with the field's dotted name and the fix, before any
training), overridable by dotted name (`config.replace(**{"distill.learning_rate": 1e-4})`), and
strict about names: an unknown key in a dict, a JSON file or an override is refused instead of
silently ignored.

Only these annotations are supported (all a run needs): `int`, `float`, `str`, `bool`, any of
them `| None`, `tuple[str, ...]`, and another `Config` (a nested section).
"""

import dataclasses
import re
import types
import typing
from typing import ClassVar


class ConfigError(ValueError):
    """A config value or key that cannot be used. A `ValueError`, so scripts report it as bad
    input (exit status 2).

    Args:
        message: str, names the offending fields by their dotted names and says the fix.
        fields: tuple of the dotted field names the message names, so a front end can say them
            its own way (`renamed`).

    Example:
    >>> error = ConfigError("prune.target_sparsity=1.5 must be in (0, 1).", ("prune.target_sparsity",))
    >>> str(error.renamed({"prune.target_sparsity": "--target_sparsity"}))
    '--target_sparsity=1.5 must be in (0, 1).'
    """

    def __init__(self, message, fields=()):
        super().__init__(message)
        self.fields = tuple(fields)

    def renamed(self, names):
        """Returns the same error with each of its fields spelt as `names` says (e.g. a flag).

        Args:
            names: dict `{dotted field: name}`; fields it does not cover keep their names.

        Returns:
            ConfigError.
        """
        message = str(self)
        # Longest first, and whole names only, so `distill.epochs` never rewrites part of
        # `distill.intermediate_epochs`.
        for field in sorted(set(self.fields) & set(names), key=len, reverse=True):
            message = re.sub(rf"(?<![\w.]){re.escape(field)}(?![\w])", names[field], message)
        return ConfigError(message, tuple(names.get(field, field) for field in self.fields))


@dataclasses.dataclass(frozen=True)
class Config:
    """Base of every config section. Subclasses are frozen dataclasses that set `SECTION` (their
    dotted prefix, `""` at the top) and may override `validate`.

    Values are coerced where that loses nothing (an int for a float field, a list for a tuple
    field) and otherwise refused with a `ConfigError`.
    """

    SECTION: ClassVar[str] = ""

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = _coerce(self.dotted(field.name), field.type, getattr(self, field.name))
            object.__setattr__(self, field.name, value)  # frozen: the only way to normalise
        self.validate()

    def validate(self):
        """Checks the values together; raises `ConfigError`. The base accepts everything."""

    @classmethod
    def dotted(cls, name):
        """The dotted name of field `name` (`"distill.epochs"`)."""
        return f"{cls.SECTION}.{name}" if cls.SECTION else name

    def to_dict(self):
        """Returns the config as nested plain dicts, lists and scalars (JSON-ready)."""
        result = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            result[field.name] = (value.to_dict() if isinstance(value, Config)
                                  else list(value) if isinstance(value, tuple) else value)
        return result

    @classmethod
    def from_dict(cls, values):
        """Builds the config from `to_dict`'s form; missing keys take their defaults.

        Args:
            values: dict.

        Returns:
            an instance of `cls`.

        Raises:
            ConfigError: not a dict, an unknown key, or a value of the wrong type or range.
        """
        where = f"the {cls.SECTION} section" if cls.SECTION else "a run config"
        if not isinstance(values, dict):
            raise ConfigError(f"{where} must be a JSON object (a dict), got {type(values).__name__}.")
        fields = {field.name: field for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(f"Unknown key{'s' if len(unknown) > 1 else ''} {[cls.dotted(k) for k in unknown]} in "
                              f"{where}; its keys are {sorted(fields)}. Fix the spelling or remove the key.")
        kwargs = {}
        for name, value in values.items():
            section = _section_type(fields[name].type)
            kwargs[name] = section.from_dict(value) if section and not isinstance(value, Config) else value
        return cls(**kwargs)

    def replace(self, **overrides):
        """Returns a copy with some values changed; the copy is validated as a whole.

        Args:
            **overrides: field names (`seed=1`), dotted names into sections
                (`**{"distill.learning_rate": 1e-4}`), or a section name with a section or a
                dict of some of its fields (`distill={"epochs": 4}`).

        Returns:
            a new config of the same type.

        Raises:
            ConfigError: an unknown name, or a value the config refuses.

        Example:
        >>> from tfdistill.config import RunConfig
        >>> RunConfig().replace(seed=1, **{"distill.learning_rate": 1e-4}).distill.learning_rate
        0.0001
        """
        direct, nested = {}, {}
        for key, value in overrides.items():
            head, _, rest = key.partition(".")
            section = _section_type(self._field(head, self.dotted(key)).type)
            if rest or (section and isinstance(value, dict)):
                if section is None:
                    raise ConfigError(f"{self.dotted(head)} is a value, not a section: "
                                      f"{self.dotted(key)!r} names nothing.")
                nested.setdefault(head, {}).update({rest: value} if rest else value)
            else:
                direct[head] = value
        for head, section_overrides in nested.items():
            direct[head] = direct.get(head, getattr(self, head)).replace(**section_overrides)
        return dataclasses.replace(self, **direct)

    @classmethod
    def parse_override(cls, text):
        """Parses one `"dotted.name=value"` string into `(name, typed value)` by the field's type.

        Booleans are `true/false` (also `1/0`, `yes/no`), `none`/`null` is None for optional
        fields, and a tuple field takes a comma-separated list (empty: none).

        Args:
            text: str.

        Returns:
            tuple `(dotted name, value)`, ready for `replace`.

        Raises:
            ConfigError: no `=`, an unknown name, or a value that does not parse as the type.

        Example:
        >>> from tfdistill.config import RunConfig
        >>> RunConfig.parse_override("qat.batch_size=16")
        ('qat.batch_size', 16)
        """
        name, equals, raw = text.partition("=")
        if not equals:
            raise ConfigError(f"Override {text!r} has no '='; write it as section.field=value, e.g. "
                              "distill.learning_rate=1e-4.")
        owner, field_name = cls, name.strip()
        while "." in field_name:
            head, _, field_name = field_name.partition(".")
            owner = _section_type(owner._field(head, name).type)
            if owner is None:
                raise ConfigError(f"Override {text!r}: {head} is a value, not a section.")
        field = owner._field(field_name, name)
        if _section_type(field.type):
            raise ConfigError(f"Override {text!r} names the whole {field_name} section; name one of its fields "
                              f"({sorted(f.name for f in dataclasses.fields(field.type))}).")
        return name.strip(), _parse(owner.dotted(field_name), field.type, raw.strip())

    @classmethod
    def _field(cls, name, key):
        fields = {field.name: field for field in dataclasses.fields(cls)}
        if name not in fields:
            where = f"the {cls.SECTION} section" if cls.SECTION else "a run config"
            raise ConfigError(f"Unknown config key {key!r}: {where} has no {name!r}; its keys are "
                              f"{sorted(fields)}.")
        return fields[name]


def check(condition, field, value, requirement):
    """Raises `ConfigError("<field>=<value> <requirement>")` unless `condition` holds.

    Example:
    >>> check(0.5 < 1, "prune.target_sparsity", 0.5, "must be in (0, 1).")
    """
    if not condition:
        raise ConfigError(f"{field}={value} {requirement}", (field,))


def _section_type(annotation):
    return annotation if isinstance(annotation, type) and issubclass(annotation, Config) else None


def _optional(annotation):
    """`(inner type, True)` for `X | None`, else `(annotation, False)`."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return inner[0], True
    return annotation, False


_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _coerce(field, annotation, value):
    """Returns `value` as the field's type (int -> float, list -> tuple) or raises ConfigError."""
    annotation, optional = _optional(annotation)
    if value is None and optional:
        return None
    section = _section_type(annotation)
    if section:
        if not isinstance(value, section):
            raise ConfigError(f"{field} must be a {section.__name__}, got {type(value).__name__}.", (field,))
        return value
    if typing.get_origin(annotation) is tuple:
        if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{field}={value!r} must be a list of strings.", (field,))
        return tuple(value)
    wanted = annotation
    if wanted is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, wanted) or (wanted is not bool and isinstance(value, bool)):
        none = " or null" if optional else ""
        raise ConfigError(f"{field}={value!r} must be {_TYPE_NAMES[wanted]}{none}, not {type(value).__name__}.",
                          (field,))
    return value


def _parse(field, annotation, text):
    """Parses an override string as the field's type."""
    annotation, optional = _optional(annotation)
    if optional and text.lower() in ("none", "null"):
        return None
    if typing.get_origin(annotation) is tuple:
        return tuple(item.strip() for item in text.split(",") if item.strip())
    try:
        if annotation is bool:
            return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}[text.lower()]
        return annotation(text)
    except (KeyError, ValueError):
        raise ConfigError(f"{field}={text} must be {_TYPE_NAMES[annotation]}"
                          f"{' or none' if optional else ''}.", (field,)) from None
