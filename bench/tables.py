"""Markdown tables of bench rows (dicts), as the benches print them."""


def markdown_table(rows, columns, large=1.0, large_format=".2f"):
    """One row per dict, one column per key of `columns`; floats up to `large` with 4 decimals
    (accuracies, ratios), larger ones with `large_format`; a missing or None value as `-`.

    Example:
    >>> print(markdown_table([{"model": "int8", "accuracy": 0.81234, "mb": 14.61}], ("model", "accuracy", "mb")))
    | model | accuracy | mb |
    |---|---|---|
    | int8 | 0.8123 | 14.61 |
    """
    def cell(value):
        if isinstance(value, float):
            return f"{value:.4f}" if value <= large else format(value, large_format)
        return "-" if value is None else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(column)) for column in columns) + " |" for row in rows]
    return "\n".join(lines)
