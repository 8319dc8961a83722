"""Formulas that differ only in their names are read by the grammar once: a graph spec of 100,000
nodes has a handful of shapes (x + y, tanh(x), ...), and the grammar costs far more than the rest.

A plain formula (ASCII letters, digits, spaces, `. + - * / ^ ( )`) splits into its shape, the text
with each name replaced by its rank among the formula's distinct names, and those names. The first
formula of a shape is read by the grammar with stand-in names that sort as the real ones do, so
SymPy orders and combines its terms the same way; the others of that shape take that expression
with their own symbols put in, unevaluated (it is in SymPy's canonical form already).

Why a shape reads as its stand-in does: the plain characters are scanned with the grammar's own
NUMBER and word patterns, so tokens start and end at the same places; a word the grammar takes for
a function or Euler's number stays in the shape; a name starting with d (which could begin an ASCII
partial, dE/dw) is not plain; every lookaround of the grammar sees a letter or a digit at a name's
either end, whichever name it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from string import ascii_lowercase

from sympy import Add, Expr, Mul, Symbol
from sympy.functions.elementary.piecewise import ExprCondPair

Shape = tuple[tuple[str, ...], tuple[int, ...]]
"""The text between names (one more piece than names), and each name's rank among the distinct ones."""

_PLAIN = re.compile(r"[A-Za-z0-9.+\-*/^() ]*")
# grammar.lark's NUMBER and _WORD, in that order: a number's exponent (2e5) is not a word.
_NUMBER_OR_WORD = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?P<word>[A-Za-z]+[0-9]*)")
_STAND_IN_LETTERS = 4
MAX_NAMES = len(ascii_lowercase) ** _STAND_IN_LETTERS
"""Distinct names a shape can stand in for (far more than a formula of `MAX_LENGTH` can hold)."""


def split(text: str, keywords: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The text between names and the names, or None for a formula that is not plain; `keywords` are
    the words the grammar does not read as names (exp, tanh, e, ...)."""
    if not _PLAIN.fullmatch(text):
        return None
    pieces, words, last = [], [], 0
    for match in _NUMBER_OR_WORD.finditer(text):
        word = match["word"]
        if word is None or word in keywords:
            continue
        if word[0] == "d":
            return None
        pieces.append(text[last:match.start()])
        words.append(word)
        last = match.end()
    pieces.append(text[last:])
    return tuple(pieces), tuple(words)


@cache
def stand_in(rank: int) -> str:
    """The stand-in name of rank `rank`: letters only (so it is its own key), of one length, so stand-ins
    sort as their ranks do; never a keyword nor starting with d."""
    letters = []
    for _ in range(_STAND_IN_LETTERS):
        rank, digit = divmod(rank, len(ascii_lowercase))
        letters.append(ascii_lowercase[digit])
    return "v" + "".join(reversed(letters))


@cache
def stand_in_symbol(rank: int) -> Symbol:
    return Symbol(stand_in(rank))


def stand_in_text(shape: Shape) -> str:
    """A formula of `shape` whose names are the stand-ins."""
    pieces, ranks = shape
    return "".join(piece + stand_in(rank) for piece, rank in zip(pieces, ranks)) + pieces[-1]


def fill(template: Expr, symbols: Sequence[Symbol]) -> Expr:
    """`template` (read from `stand_in_text`) with the stand-in of rank k replaced by `symbols[k]`,
    rebuilt without evaluation, so its terms keep the order SymPy gave them (sums and products by
    `_from_args`, as SymPy's own constructors end)."""
    by_stand_in = {stand_in_symbol(rank): symbol for rank, symbol in enumerate(symbols)}

    def put(expression: Expr) -> Expr:
        if not expression.args:
            return by_stand_in.get(expression, expression)
        args = tuple(map(put, expression.args))
        if expression.func in (Add, Mul):
            return expression.func._from_args(args)
        if expression.func is ExprCondPair:  # a piece of relu's cases: it takes no evaluate flag
            return ExprCondPair(*args)
        return expression.func(*args, evaluate=False)

    return put(template)
