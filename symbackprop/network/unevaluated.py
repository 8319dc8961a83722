"""Unevaluated sums and products, built straight from SymPy arguments.

The network and its derivation keep every expression in the order it was written
(w_1 i_1 + w_2 i_2 + b_1; -(target - out) out (1 - out)), so nothing may be evaluated.
`Mul(*args, evaluate=False)` does that as well, but it sympifies and caches every call,
which costs about ten times more per connection on a large network. These constructors
take arguments that are already SymPy expressions, all commutative (every symbol of a
network is), and at least two of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sympy import Add, Expr, Mul


def unevaluated_product(factors: Sequence[Expr]) -> Expr:
    """factors[0] * factors[1] * ..., as given."""
    return Mul._from_args(tuple(factors), True)


def unevaluated_sum(terms: Sequence[Expr]) -> Expr:
    """terms[0] + terms[1] + ..., as given."""
    return Add._from_args(tuple(terms), True)
