"""Long LaTeX formulas broken into lines as a textbook breaks them: before a top-level operator.

LaTeX does not break a displayed formula, so a line wider than the page sticks out into the
margin. `broken` cuts a printed formula before its top-level +, -, \\circ and \\cdot (never inside
parentheses, brackets, braces or a matrix) and packs the pieces into lines no wider than the
page; a piece still too wide is opened: its \\left( ... \\right) group is broken the same way inside, each
line closed by \\right. and the next reopened by \\left., so that every line's delimiters pair up. Widths
are estimated from the markup: about half an em per character, a matrix as wide as its widest entries; the
estimate errs wide, so a line it passes fits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

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
    return [part for line in lines for part in _opened(line, width)]


def _opened(line: str, width: float) -> list[str]:
    """`line` if it fits `width`, else broken inside its widest top-level \\left ... \\right group that has an
    operator of its own to break before; `line` whole if none has."""
    if estimated_width(line) > width:
        for start, end in sorted(_groups(line), key=lambda group: -estimated_width(line[group[0]:group[1]])):
            head, tail = line[:start], line[end:]
            inner = broken(line[start:end], width - max(estimated_width(head), estimated_width(tail)))
            if len(inner) > 1:
                middle = [rf"\left. {piece} \right." for piece in inner[1:-1]]
                return [rf"{head}{inner[0]} \right.", *middle, rf"\left. {inner[-1]}{tail}"]
    return [line]


def _groups(latex: str) -> list[tuple[int, int]]:
    """Where the inside of each \\left ... \\right group outside every other group starts and ends."""
    groups, start = [], 0
    for token, depth in _tokens(latex):
        if token.group().startswith(r"\left") and depth == 1:
            start = token.end()
        elif token.group().startswith(r"\right") and depth == 0:
            groups.append((start, token.start()))
    return groups


def _pieces(latex: str) -> list[str]:
    """`latex` cut before each operator outside every group; the pieces join back to `latex`."""
    start, pieces = 0, []
    for token, depth in _tokens(latex):
        if token.group().startswith(" ") and depth == 0 and token.start() > start:
            pieces.append(latex[start:token.start()])
            start = token.start()
    return pieces + [latex[start:]]


def _tokens(latex: str) -> Iterator[tuple[re.Match[str], int]]:
    """Each group's opening and closing and each spaced operator, with the number of groups open after it."""
    depth = 0
    for token in _TOKENS.finditer(latex):
        text = token.group()
        if text.startswith(r"\left") or text in ("{", r"\begin{array}"):
            depth += 1
        elif text.startswith(r"\right") or text in ("}", r"\end{array}"):
            depth -= 1
        yield token, depth


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
