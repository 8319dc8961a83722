"""Lines of text broken to fit a terminal's width, the way a worked solution is broken by hand.

A formula line that is too long is split where its structure is loosest: before its step's label,
then at the top-level `=` signs, then before a top-level `+` or `-`, then before a product's `·`
(`*`, `∘`, `.*`), then after a comma, then the same inside one bracket, and so on inwards. The
pieces of a split are laid one after the other while they fit; a piece that does not fit starts a
new line, unless it is to be split in its turn and the current line is nearly as roomy. Only
spaces are replaced, never the one after an operator, so a number or a name is never cut, a piece
without a space stays whole on a line of its own however long, and joining the lines of a step
with single spaces (the label's gap aside) gives the step back.

Continuation lines hang: one starting with `=` lines up under the line's first `=`, one inside a
bracket starts just after the bracket (or, if that is right of the middle, two columns in for each
bracket), the others start two columns right of the `=`.
A paragraph of prose breaks at its last space that fits, and hangs two columns in.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import NamedTuple

_OPENERS, _CLOSERS = "([{", ")]}"
_LABEL, _EQUALS, _PLUS, _TIMES, _COMMA, _OTHER = range(6)
_BEFORE = [(_EQUALS, re.compile(r"= ")), (_PLUS, re.compile(r"[+-] ")), (_TIMES, re.compile(r"(?:[·*∘]|\.\*) "))]
_OPERATORS = frozenset({"=", "+", "-", "·", "*", "∘", ".*"})
"""A space right after one of these is never broken at: a line does not end in `=` or `·`."""
_PROSE_HANG = "  "
_HANG = 4
"""Indent of continuation lines, past the line's own, when its first `=` is too far right to line up under."""


class _Break(NamedTuple):
    """A run of spaces the line may break at: line[start:end]."""

    start: int
    end: int
    rank: tuple[bool, int, int]
    """(is it a plain space, bracket depth, kind): lower ranks break first."""
    opener: int | None
    """Where the innermost bracket around it opens, if any."""


def wrap_formula(line: str, width: int | None) -> str:
    """`line` (one step of a worked solution) broken into lines of at most `width` columns where it can."""
    if width is None or len(line) <= width:
        return line
    return _Layout(line, width).text()


def wrap_prose(line: str, width: int | None) -> str:
    """A paragraph broken at its last space that fits, the lines after the first indented by two."""
    if width is None or len(line) <= width:
        return line
    lines, current = [], ""
    for word in line.split(" "):
        if current.strip() and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = _PROSE_HANG + word
        else:
            current = f"{current} {word}" if current else word
    return "\n".join([*lines, current])


class _Layout:
    """One formula line laid out in lines of `width` columns, piece by piece (see the module's docstring)."""

    def __init__(self, line: str, width: int) -> None:
        self.line, self.width = line, width
        indent = len(line) - len(line.lstrip(" "))
        self.breaks = _breaks(line, indent)
        self.starts = [b.start for b in self.breaks]
        equals = next((b.start for b in self.breaks if b.rank == (False, 0, _EQUALS)), None)
        self.hang = equals + 1 if equals is not None and equals + 1 <= width // 3 else indent + _HANG
        self.lines: list[str] = []
        self.current = ""
        self.columns: dict[int, int] = {}
        """Where each bracket opened so far was put: index in the line -> column on its output line."""

    def text(self) -> str:
        self._place(0, len(self.line))
        return "\n".join([*self.lines, self.current])

    def _place(self, start: int, end: int) -> None:
        """Lay out line[start:end] from the end of the current line."""
        if len(self.current) + end - start <= self.width:
            return self._emit(start, end)
        inner = self.breaks[bisect_right(self.starts, start):bisect_left(self.starts, end)]
        if not inner:
            return self._emit(start, end)
        loosest = min(b.rank for b in inner)
        cuts = [b for b in inner if b.rank == loosest]
        self._place(start, cuts[0].start)
        for k, cut in enumerate(cuts):
            piece_end = cuts[k + 1].start if k + 1 < len(cuts) else end
            indent = self._indent(cut)
            room, fresh = self.width - len(self.current) - (cut.end - cut.start), self.width - indent
            length = piece_end - cut.end
            if length > room and self._new_line(cut, piece_end, room, fresh):
                self.lines.append(self.current)
                self.current = " " * indent
            else:
                self.current += self.line[cut.start:cut.end]
            self._place(cut.end, piece_end)

    def _new_line(self, cut: _Break, end: int, room: int, fresh: int) -> bool:
        """Whether the piece after `cut`, too long for the room left, starts a new line: yes if it fits on
        one; one that cannot be broken goes on a line of its own; one that will be broken stays unless a
        new line is much roomier, its first unbreakable part does not fit here, or it starts with the label
        or an `=` of a chain."""
        if end - cut.end <= fresh:
            return True
        inside = bisect_right(self.starts, cut.end)
        if bisect_left(self.starts, end) == inside:  # no break inside
            return bool(self.current.strip())
        if self.starts[inside] - cut.end > room:  # its first unbreakable part does not fit here: at least
            return True                           # on a new line it stands alone, however long
        return room < fresh - self.width // 10 or (room < fresh and cut.rank[2] in (_LABEL, _EQUALS))

    def _emit(self, start: int, end: int) -> None:
        for index in range(start, end):
            if self.line[index] in _OPENERS:
                self.columns[index] = len(self.current) + index - start
        self.current += self.line[start:end]

    def _indent(self, cut: _Break) -> int:
        """Where a line starting after `cut` starts."""
        depth = cut.rank[1]
        if depth:
            column = self.columns.get(cut.opener, self.hang) + 1
            return column if column <= self.width // 2 else min(self.hang + 2 + 2 * depth, self.width // 2)
        return self.hang if self.line.startswith("=", cut.end) else self.hang + 2


def _breaks(line: str, indent: int) -> list[_Break]:
    """Every run of spaces after the indent that the line may break at, in order."""
    breaks = []
    open_at: list[int] = []
    position = indent
    while position < len(line):
        char = line[position]
        if char == " ":
            end = position
            while end < len(line) and line[end] == " ":
                end += 1
            if end < len(line) and line[line.rfind(" ", 0, position) + 1:position] not in _OPERATORS:
                opener = open_at[-1] if open_at else None
                breaks.append(_Break(position, end, _rank(line, position, end, len(open_at)), opener))
            position = end
            continue
        if char in _OPENERS:
            open_at.append(position)
        elif char in _CLOSERS and open_at:
            open_at.pop()
        position += 1
    return breaks


def _rank(line: str, start: int, end: int, depth: int) -> tuple[bool, int, int]:
    """The rank of a break at line[start:end], inside `depth` brackets: what follows it decides its kind."""
    if end - start > 1 and depth == 0:
        return (False, 0, _LABEL)
    for kind, pattern in _BEFORE:
        if pattern.match(line, end):
            return (False, depth, kind)
    if line[start - 1] == ",":
        return (False, depth, _COMMA)
    return (True, depth, _OTHER)
