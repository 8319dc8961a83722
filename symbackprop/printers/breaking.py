"""Long LaTeX formulas broken into lines as a textbook breaks them: before a top-level operator.

LaTeX does not break a displayed formula, so a line wider than the page sticks out into the
margin. `broken` cuts a printed formula before its top-level +, -, \\circ and \\cdot (never inside
parentheses, brackets, braces or a matrix) and packs the pieces into lines no wider than the
page. Widths are estimated from the markup: about half an em per character, a matrix as wide as
its widest entries; the estimate errs wide, so a line it passes fits.
"""

from __future__ import annotations

import re

TEXT_WIDTH = 480.0
"""Points available on a line: the text width with 2 cm margins (500 pt on Letter, 481 on A4)."""
EQUALS = 30.0
"""Points taken by an equals sign and its spacing, or by the indent of a continued line."""
WIDE_LEFT = 150.0
"""A left-hand side wider than this stands on its own line, so that the right-hand sides have the page."""
_CHARACTER, _COMMAND, _CELL_GAP = 5.5, 9.0, 12.0
"""Estimated widths in points: a character, a command such as \\circ or \\partial, the gap between matrix
columns and the brackets' share."""

_TOKENS = re.compile(r"\\(?:left|right)(?:\\[a-zA-Z]+|\\.|.)|\\begin\{array\}|\\end\{array\}|\\.|[{}]"
                     r"| (?:[+-]|\\circ|\\cdot) ")
_COMMANDS = re.compile(r"\\[a-zA-Z]+")
_SPACING = frozenset({r"\left", r"\right", r"\mathbf", r"\mathrm", r"\text"})
"""Commands that take no width of their own."""


def broken(latex: str, width: float) -> list[str]:
    """`latex` as one line if it fits `width`, else as lines each starting with the operator it was cut before."""
    if estimated_width(latex) <= width:
        return [latex]
    lines: list[str] = []
    for piece in _pieces(latex):
        if lines and estimated_width(lines[-1] + piece) <= width:
            lines[-1] += piece
        else:
            lines.append(piece.lstrip())
    return lines


def _pieces(latex: str) -> list[str]:
    """`latex` cut before each operator outside every group; the pieces join back to `latex`."""
    depth, start, pieces = 0, 0, []
    for token in _TOKENS.finditer(latex):
        text = token.group()
        if text.startswith(r"\left") or text in ("{", r"\begin{array}"):
            depth += 1
        elif text.startswith(r"\right") or text in ("}", r"\end{array}"):
            depth -= 1
        elif text.startswith(" ") and depth == 0 and token.start() > start:
            pieces.append(latex[start:token.start()])
            start = token.start()
    return pieces + [latex[start:]]


def estimated_width(latex: str) -> float:
    """An upper estimate of the formula's width in points, in display style at 10 pt: a fraction as wide as
    its wider part, a script at 70%, a matrix as wide as its widest entries."""
    width, _ = _width(latex, 0)
    return width


def _width(latex: str, at: int) -> tuple[float, int]:
    """The width of `latex` from `at` up to the closing brace of the group (or the end), and where it stopped."""
    width = 0.0
    while at < len(latex):
        char = latex[at]
        if char == "}":
            return width, at + 1
        if char == "{":
            inner, at = _width(latex, at + 1)
            width += inner
        elif char in "^_":
            script, at = _width(latex, at + 2) if latex[at + 1:at + 2] == "{" else (_CHARACTER, at + 2)
            width += 0.7 * script
        elif latex.startswith(r"\begin{array}", at):
            end = latex.index(r"\end{array}", at)
            width += _array_width(latex[latex.index("}", at + 13) + 1:end])
            at = end + len(r"\end{array}")
        elif latex.startswith(r"\frac{", at):
            above, at = _width(latex, at + 6)
            below, at = _width(latex, at + 1)
            width += max(above, below)
        elif char == "\\":
            command = _COMMANDS.match(latex, at)
            at = command.end() if command else at + 2
            width += _COMMAND if command and command.group() not in _SPACING else 0.0
        else:
            width += 0.0 if char.isspace() else _CHARACTER
            at += 1
    return width, at


def _array_width(body: str) -> float:
    rows = [row.split("&") for row in body.split(r"\\")]
    columns = max(len(row) for row in rows)
    widest = [max(estimated_width(row[k]) for row in rows if k < len(row)) for k in range(columns)]
    return sum(widest) + (columns + 1) * _CELL_GAP
