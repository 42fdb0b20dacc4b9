"""Class names: checked when a dataset is read, and matched against a model's own names.

A class name ends up in three places that must agree: the data's label column, a model's
`config.json` (`id2label`) and the `labels.txt` beside it (one name a line, id = line number).
The rules, in the order they apply:

- Surrounding whitespace is not part of a name: `" pos"` and `"pos"` are one class `pos`
  (`clean_label`), as integer labels already ignore it.
- A label column holds numbers or names, not both: `1` next to `pos` is refused, since the
  numbers would silently become extra classes `"1"`, `"2"` (`check_labels`).
- Names that differ only by case (`Pos`/`pos`) are refused, not merged: which spelling is meant
  is the user's call (`check_labels`).
- A name with a line break is refused: `labels.txt` would read it as two classes.
- Hugging Face's placeholder names `LABEL_0, LABEL_1, ...` (what `transformers` writes when a
  model was trained without names) are not names: a model carrying them is matched to the data
  by position, which cannot be checked (`is_placeholder`).
- Otherwise a model's names and the data's names must be the same set; in another order the
  data is mapped to the model's order by name (`class_order`).

Pure Python: no TensorFlow, no numpy.
"""

import re

PLACEHOLDER = "LABEL_{}"
# Every character `str.splitlines` breaks at: each would split a name across lines of labels.txt.
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_SHOWN = 10


def clean_label(label):
    """Returns a raw label without surrounding whitespace (strings), else unchanged.

    Args:
        label: str or int.

    Returns:
        str or int.

    Example:
    >>> clean_label("  pos\\t"), clean_label(3)
    ('pos', 3)
    """
    return label.strip() if isinstance(label, str) else label


def check_labels(labels, lines, source):
    """Refuses raw labels that would make silent extra classes or break `labels.txt`.

    Args:
        labels: list of str or int, one (cleaned) label per example.
        lines: list of str, where each example is (e.g. `"line 3"`), for the message.
        source: str, the file or dataset, for the message.

    Raises:
        ValueError: numbers mixed with names, a name with a line break, or names that differ
            only by case; the message names the labels, a line of each, and the fix.

    Example:
    >>> check_labels(["pos", "neg", "pos"], ["line 2", "line 3", "line 4"], "r.csv")
    >>> check_labels(["pos", 1], ["line 2", "line 3"], "r.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: r.csv mixes numeric labels ([1], e.g. line 3) and named labels (['pos'], e.g. line 2); ...
    """
    first_line = {}
    for label, line in zip(labels, lines):
        first_line.setdefault(label, line)
    numbers = [label for label in first_line if isinstance(label, int)]
    names = [label for label in first_line if not isinstance(label, int)]
    if numbers and names:
        raise ValueError(
            f"{source} mixes numeric labels ({_show(sorted(numbers))}, e.g. {first_line[numbers[0]]}) "
            f"and named labels ({_show(sorted(names))}, e.g. {first_line[names[0]]}); the numbers "
            "would become extra classes of their own. Write every label of the column as a name "
            "(e.g. 'pos' instead of 1) or every label as a number.")
    _check_names(names, source, lambda name: f" ({first_line[name]})")


def check_label_names(names, source):
    """Refuses a list of class names (e.g. a TFDS `ClassLabel`) that `check_labels` would refuse,
    or that repeats a name.

    Args:
        names: list of str, the class names in id order.
        source: str, where the names come from, for the message.

    Returns:
        list of str, `names`.

    Raises:
        ValueError: a repeated name, a name with a line break, names that differ only by case.

    Example:
    >>> check_label_names(["neg", "pos"], "TFDS imdb")
    ['neg', 'pos']
    """
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{source} names the classes {_show(names)}: {_show(repeated)} appear more "
                         "than once. Give every class its own name.")
    _check_names(names, source, lambda name: f" (class {names.index(name)})")
    return list(names)


def _check_names(names, source, where):
    for name in names:
        if _LINE_BREAK.search(name):
            raise ValueError(
                f"{source}{where(name)}: the label {name!r} contains a line break; labels.txt holds "
                "one class name a line, so it would read as two classes. Remove the line break from "
                "the label (e.g. replace it with a space).")
    by_case = {}
    for name in names:
        by_case.setdefault(name.casefold(), []).append(name)
    clashes = [sorted(group) for group in by_case.values() if len(group) > 1]
    if clashes:
        spelled = "; ".join(" and ".join(f"{name!r}{where(name)}" for name in group) for group in clashes)
        raise ValueError(
            f"{source} has labels that differ only by case: {spelled}; they would become separate "
            "classes. Spell each class one way in the label column (e.g. lowercase every label).")


def is_placeholder(names):
    """Whether `names` are Hugging Face's `LABEL_0, LABEL_1, ...` (or absent): no real names.

    Args:
        names: sequence of str, or None.

    Returns:
        bool.

    Example:
    >>> is_placeholder(["LABEL_0", "LABEL_1"]), is_placeholder(["neg", "pos"]), is_placeholder(None)
    (True, False, True)
    """
    return not names or list(names) == [PLACEHOLDER.format(index) for index in range(len(names))]


def class_order(data_names, model_names, model="the model", data="the data", fix=None):
    """Matches the data's classes to a model's by name.

    Args:
        data_names: list of str, the data's class names in its id order.
        model_names: list of str, the model's class names in output order (placeholders or
            None: nothing to match, the data is taken as it is).
        model: str, how the message names the model, e.g. `"the teacher at runs/teacher"`.
        data: str, how the message names the data.
        fix: optional str, what the message tells the user to do when the names differ
            (default: relabel the data or use a model trained on these classes).

    Returns:
        None when the data's ids already are the model's (same names, same order, or no model
        names); else a list giving, for each data class id, the model's id of the same name.

    Raises:
        ValueError: the names differ as sets (or in number); the message names both sets.

    Example:
    >>> class_order(["neg", "pos"], ["pos", "neg"])
    [1, 0]
    >>> class_order(["neg", "pos"], ["neg", "pos"]) is None
    True
    """
    data_names, model_names = list(data_names), None if model_names is None else list(model_names)
    if is_placeholder(model_names) or data_names == model_names:
        return None
    if sorted(data_names) != sorted(model_names):
        raise ValueError(_different_names_message(data_names, model_names, model, data, fix))
    return [model_names.index(name) for name in data_names]


def _different_names_message(data_names, model_names, model, data, fix):
    only_model = [name for name in model_names if name not in data_names]
    only_data = [name for name in data_names if name not in model_names]
    case_hint = ""
    if sorted(n.casefold() for n in data_names) == sorted(n.casefold() for n in model_names):
        case_hint = " (they differ only by case)"
    fix = fix or (f"Relabel the data with {model}'s class names, or use a model trained on the "
                  f"classes {_show(data_names)}.")
    return (f"{model} predicts the classes {_show(model_names)} but {data} has the classes "
            f"{_show(data_names)}{case_hint}: only the model has {_show(only_model)}, only the data "
            f"{_show(only_data)}. Scores or training on mismatched names would be meaningless. {fix}")


def _show(values):
    values = list(values)
    more = f" and {len(values) - _SHOWN} more" if len(values) > _SHOWN else ""
    return f"{values[:_SHOWN]}{more}"
