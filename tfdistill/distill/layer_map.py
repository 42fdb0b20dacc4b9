"""Which teacher layer each student layer learns from.

Layers are numbered as in `hidden_states`: 0 is the embedding output, 1..L the transformer
blocks. A layer map lists, for student blocks 1..S, the teacher block each one imitates.
"""

STRATEGIES = ("uniform", "last")


def resolve_layer_map(spec, num_student_layers, num_teacher_layers):
    """Turns a layer-map spec into the teacher block (1-based) of each student block.

    Args:
        spec: `"uniform"` (TinyBERT: student block m learns from teacher block
            round(m * T / S), so the last learns from the last), `"last"` (the last S teacher
            blocks), a list of S teacher block numbers, or the same as a comma-separated string
            (`"2,4,6"`).
        num_student_layers: int, S.
        num_teacher_layers: int, T.

    Returns:
        list of S ints in [1, T], non-decreasing.

    Raises:
        ValueError: an unknown strategy, a list of the wrong length, a number outside [1, T],
            a decreasing map, or a student deeper than the teacher for `"last"`.

    Example:
    >>> resolve_layer_map("uniform", 2, 6)
    [3, 6]
    >>> resolve_layer_map("last", 2, 6)
    [5, 6]
    >>> resolve_layer_map("1,6", 2, 6)
    [1, 6]
    """
    student, teacher = int(num_student_layers), int(num_teacher_layers)
    if isinstance(spec, str) and spec not in STRATEGIES:
        spec = _parse_list(spec)
    if spec == "uniform":
        return [max(1, round(m * teacher / student)) for m in range(1, student + 1)]
    if spec == "last":
        if student > teacher:
            raise ValueError(f"layer_map='last' needs a student no deeper than the teacher; the student has "
                             f"{student} layers and the teacher {teacher}. Use 'uniform' or an explicit list.")
        return list(range(teacher - student + 1, teacher + 1))
    return _check_explicit(list(spec), student, teacher)


def _parse_list(text):
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(
            f"layer_map {text!r} is neither a strategy {list(STRATEGIES)} nor a comma-separated list "
            "of teacher layer numbers such as '2,4,6'.") from None


def _check_explicit(layers, student, teacher):
    if len(layers) != student:
        raise ValueError(f"layer_map {layers} has {len(layers)} entries but the student has {student} "
                         "layers; give one teacher layer per student layer.")
    bad = [layer for layer in layers if isinstance(layer, bool) or not isinstance(layer, int)
           or not 1 <= layer <= teacher]
    if bad:
        raise ValueError(f"layer_map {layers} has entries {bad} outside the teacher's layers 1..{teacher} "
                         "(0 is the embedding output: use the embedding loss for it).")
    if any(b < a for a, b in zip(layers, layers[1:])):
        raise ValueError(f"layer_map {layers} decreases; student layers must map to teacher layers in order.")
    return layers
