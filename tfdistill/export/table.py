"""Fixed-width text tables for benchmark reports."""


def text_table(rows, columns):
    """Formats rows as right-aligned fixed-width columns under a header line.

    Args:
        rows: iterable of records.
        columns: list of `(title, width, cell)`; `cell(record)` returns the cell's text.

    Returns:
        str.

    Example:
    >>> print(text_table([{"n": 1, "us": 12.345}],
    ...                  [("n", 3, lambda r: str(r["n"])), ("us", 7, lambda r: f"{r['us']:.1f}")]))
      n      us
      1    12.3
    """
    lines = [" ".join(f"{title:>{width}}" for title, width, _ in columns)]
    lines += [" ".join(f"{cell(row):>{width}}" for _, width, cell in columns) for row in rows]
    return "\n".join(lines)
