"""Exact-first evaluation: SymPy expressions evaluated in mpmath at high precision.

The inputs are exact rationals; every intermediate is carried with `PRECISION`
significant digits and rounded only when displayed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

import mpmath
from sympy import (
    E, Abs, Add, Expr, GreaterThan, LessThan, Max, Min, Mul, Number, Piecewise, Pow, StrictGreaterThan, StrictLessThan,
    Symbol, exp, log, sign, tanh, true,
)
from sympy.logic.boolalg import And, Boolean

from symbackprop.network.detach import detach
from symbackprop.numbers.precision import PRECISION
from symbackprop.numbers.rounding import Rounding

__all__ = ["PRECISION", "evaluate", "evaluate_definitions", "printed_mpf", "to_mpf"]


def to_mpf(number: Number) -> mpmath.mpf:
    """A SymPy number (Rational, Integer, Float) as an mpf at the current precision."""
    if number.is_Rational:
        return mpmath.mpf(int(number.p)) / int(number.q)
    return mpmath.mpf(number._mpf_)


def printed_mpf(printed: str) -> mpmath.mpf:
    """A written decimal ('0.0821', '-.5', '8.2e-2') as an mpf at the current precision. Read through Decimal:
    mpmath reads no number from a point with no digit before it and only zeros after ('.0', '-.00'). The
    quotient is rounded once, as mpmath rounds what it reads."""
    return mpmath.fdiv(*Decimal(printed).as_integer_ratio())


def evaluate(expr: Expr, values: Mapping[Symbol, mpmath.mpf]) -> mpmath.mpf:
    """The value of `expr` with each symbol looked up in `values` (a missing symbol is a KeyError)."""
    if isinstance(expr, Symbol):
        return values[expr]
    if isinstance(expr, Number):
        return to_mpf(expr)
    if expr is E:  # Euler's number, as a formula's `e` (or e^{1}) reads
        return +mpmath.e
    if isinstance(expr, Add):
        return mpmath.fsum(evaluate(term, values) for term in expr.args)
    if isinstance(expr, Mul):
        return mpmath.fprod(evaluate(factor, values) for factor in expr.args)
    if isinstance(expr, Pow):
        base, exponent = expr.args
        if exponent.is_Integer:
            return evaluate(base, values) ** int(exponent)
        return mpmath.power(evaluate(base, values), evaluate(exponent, values))
    if isinstance(expr, exp):
        return mpmath.exp(evaluate(expr.args[0], values))
    if isinstance(expr, log):
        return mpmath.log(evaluate(expr.args[0], values))
    if isinstance(expr, tanh):
        return mpmath.tanh(evaluate(expr.args[0], values))
    if isinstance(expr, detach):  # a stop-gradient: the value of its argument
        return evaluate(expr.args[0], values)
    if isinstance(expr, sign):  # an l1 penalty's derivative: 0 at its kink
        return mpmath.sign(evaluate(expr.args[0], values))
    if isinstance(expr, Abs):
        return abs(evaluate(expr.args[0], values))
    if isinstance(expr, (Max, Min)):
        return (max if isinstance(expr, Max) else min)(evaluate(a, values) for a in expr.args)
    if isinstance(expr, Piecewise):
        for piece, condition in expr.args:
            if _holds(condition, values):
                return evaluate(piece, values)
        raise ValueError(f"no piece of {expr} applies")
    raise NotImplementedError(f"cannot evaluate {type(expr).__name__}")


def _holds(condition: Boolean, values: Mapping[Symbol, mpmath.mpf]) -> bool:
    if condition == true:
        return True
    if isinstance(condition, And):  # a max pool's arg-max: at least every later entry of its window
        return all(_holds(part, values) for part in condition.args)
    comparisons = {StrictGreaterThan: lambda a, b: a > b, GreaterThan: lambda a, b: a >= b,
                   StrictLessThan: lambda a, b: a < b, LessThan: lambda a, b: a <= b}
    compare = comparisons[type(condition)]
    return compare(evaluate(condition.lhs, values), evaluate(condition.rhs, values))


def evaluate_definitions(definitions: Iterable[tuple[Symbol, Expr]], values: Mapping[Symbol, mpmath.mpf],
                         hand_round: int | Callable[[Symbol], Rounding | None] | None = None) -> dict[Symbol, mpmath.mpf]:
    """Run assignments in order, each seeing the ones before it.

    With `hand_round=N` every assigned value is rounded half-up to N decimals before it is
    used further, the way a person working by hand carries numbers from line to line; with a
    function, each assigned symbol is rounded as it says (None: kept exact).
    """
    rounding_of = (lambda symbol: Rounding(hand_round)) if isinstance(hand_round, int) else hand_round
    known = dict(values)
    for symbol, expression in definitions:
        value = evaluate(expression, known)
        rounding = None if rounding_of is None else rounding_of(symbol)
        if rounding is not None:
            if not (isinstance(value, mpmath.mpf) and mpmath.isfinite(value)):
                raise ArithmeticError(f"{symbol} is {value}: no number to round by hand")
            value = rounding.apply(value)
        known[symbol] = value
    return known
