"""Plain-text tables that fit a terminal: free-text columns are truncated (with '…') before anything else shrinks.

Used by the listings (`algrid strategies`, `algrid datasets`): their long descriptions, licences and sources made
tables 260+ characters wide; the full text stays available with --json or a larger --width."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import click

#: Default table width (a common terminal); --width 0 means no limit.
DEFAULT_WIDTH = 100
_SEP = "  "


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    right: bool = False  # numbers
    shrink: bool = False  # free text that may be truncated to fit
    min_width: int = 8


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def render(rows: Sequence[dict], columns: Sequence[Column], width: int = DEFAULT_WIDTH) -> str:
    """Header plus one line per row, at most ``width`` characters per line (0 = unlimited)."""
    cells = [
        [" ".join(str("" if r.get(c.key) is None else r.get(c.key)).split()) for c in columns] for r in rows
    ]
    widths = [
        max(len(c.header), *(len(row[i]) for row in cells)) if cells else len(c.header)
        for i, c in enumerate(columns)
    ]
    if width > 0:
        excess = sum(widths) + len(_SEP) * (len(columns) - 1) - width
        # shrink the widest free-text column first, one character at a time, down to its minimum
        while excess > 0:
            shrinkable = [i for i, c in enumerate(columns) if c.shrink and widths[i] > c.min_width]
            if not shrinkable:
                break
            i = max(shrinkable, key=lambda j: widths[j])
            widths[i] -= 1
            excess -= 1

    def line(values: Sequence[str]) -> str:
        out = []
        for v, w, c in zip(values, widths, columns, strict=True):
            v = _cut(v, w)
            out.append(v.rjust(w) if c.right else v.ljust(w))
        return _SEP.join(out).rstrip()

    return "\n".join([line([c.header for c in columns]), *(line(row) for row in cells)])


def width_option(f):
    """--width N: the table width (default 100; 0 = no limit, nothing truncated)."""
    return click.option(
        "--width",
        type=click.IntRange(min=0),
        default=DEFAULT_WIDTH,
        show_default=True,
        help="Table width in characters; long text is truncated with '…' (0 = no limit; --json has everything).",
    )(f)
