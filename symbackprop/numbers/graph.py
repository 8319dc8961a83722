"""Every name of a computation graph evaluated at the spec's values: forward pass, then backward."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import mpmath
from sympy import Expr, Symbol

from symbackprop.derivation.graph import GraphDerivation
from symbackprop.errors import InputError
from symbackprop.network.graph import Graph, GraphNode
from symbackprop.numbers.evaluate import PRECISION, evaluate, to_mpf


def graph_point(graph: Graph) -> dict[Symbol, mpmath.mpf]:
    """The leaves (and the learning rate) as high-precision numbers."""
    return {symbol: to_mpf(value) for symbol, value in graph.point().items()}


def graph_forward(graph: Graph, start: dict[Symbol, mpmath.mpf],
                  nodes: Iterable[GraphNode] | None = None) -> dict[Symbol, mpmath.mpf]:
    """The forward pass from `start`: `nodes` (every node by default; in topological order) computed from
    their expressions, every other name keeping its value in `start` (what the adjoint dE/dv measures,
    with `nodes` the ones downstream of v: v moved while everything it depends on stays)."""
    known = dict(start)
    for node in graph.nodes if nodes is None else nodes:
        known[node.symbol] = _defined(node.expression, known, f"nodes.{node.symbol.name}")
    return known


def graph_values(derivation: GraphDerivation, start: Mapping[Symbol, mpmath.mpf] | None = None) -> dict[Symbol, mpmath.mpf]:
    """Every leaf, node, local derivative and adjoint with its value, at `PRECISION` digits, from the spec's
    values or from `start` (every leaf, and the learning rate)."""
    with mpmath.workdps(PRECISION):
        known = graph_forward(derivation.graph, dict(start) if start is not None else graph_point(derivation.graph))
        for symbol, expression in derivation.definitions():
            known[symbol] = _defined(expression, known, f"nodes.{symbol.of.name}: the derivative by {symbol.wrt.name}")
        return known


def _defined(expression: Expr, known: dict[Symbol, mpmath.mpf], field: str) -> mpmath.mpf:
    """A value that exists: a division by zero, a log of a non-positive number or an even root of a
    negative one is the spec's problem, said in one line; so is a number too large for mpmath's functions
    (tanh of 2^(2^69) overflows its exponent arithmetic)."""
    try:
        value = evaluate(expression, known)
    except ZeroDivisionError:
        raise InputError(f"{field} divides by zero at the spec's values") from None
    except OverflowError:
        raise InputError(f"{field} cannot be evaluated at the spec's values: a number in it is too large") from None
    if not isinstance(value, mpmath.mpf) or not mpmath.isfinite(value):
        raise InputError(f"{field} is undefined at the spec's values ({expression} is {mpmath.nstr(value, 5)})")
    return value


def use_gradients(derivation: GraphDerivation, values: dict[Symbol, mpmath.mpf]) -> dict[tuple[Symbol, Symbol], mpmath.mpf]:
    """Each use's share of a gradient: for a node c that uses v, dE/dc * dc/dv, keyed (v, c); a name's
    shares sum to its adjoint. What the graph figure writes below the edge from v to c."""
    with mpmath.workdps(PRECISION):
        return {(adjoint.quantity, local.symbol.of): values[upstream] * values[local.symbol]
                for adjoint in derivation.adjoints for upstream, local in adjoint.terms}
