"""Interval evaluation: every value a formula can take when some of its numbers are known only to the
digits they were printed with (0.593269992 is anything from 0.5932699915 to 0.5932699925).

A hand-worked line such as 0.74136507 · 0.186815602 · 0.593269992 is right when the network's exact value
lies in the interval its printed numbers allow: the numbers were rounded, the arithmetic was not.
Bounds are computed with mpmath's interval arithmetic at `PRECISION` digits, so they are rigorous;
they may be wider than the exact range (x · (1 - x) counts x twice), never narrower.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import mpmath
from sympy import (
    E, Abs, Add, Expr, GreaterThan, LessThan, Max, Min, Mul, Number, Piecewise, Pow, StrictGreaterThan, StrictLessThan,
    Symbol, exp, log, tanh, true,
)

from symbackprop.network.detach import detach
from symbackprop.numbers.precision import PRECISION

Interval = mpmath.ctx_iv.ivmpf


@contextmanager
def _working_precision() -> Iterator[None]:
    """mpmath's interval context at `PRECISION` digits (it has no workdps of its own), restored after."""
    saved = mpmath.iv.dps
    mpmath.iv.dps = PRECISION
    try:
        with mpmath.workdps(PRECISION):
            yield
    finally:
        mpmath.iv.dps = saved


def interval(low: mpmath.mpf, high: mpmath.mpf) -> Interval:
    """The closed interval [low, high]."""
    with _working_precision():
        return mpmath.iv.mpf([low, high])


def bounds(value: Interval) -> tuple[mpmath.mpf, mpmath.mpf]:
    """The lower and upper bound of an interval as numbers."""
    with mpmath.workdps(PRECISION):
        return mpmath.mpf(value.a), mpmath.mpf(value.b)


def evaluate_interval(expr: Expr, values: Mapping[Symbol, Interval]) -> Interval:
    """Every value `expr` takes with each symbol anywhere in its interval in `values` (KeyError if missing);
    ArithmeticError when an interval holds a point where it is undefined (a division by an interval around 0)."""
    with _working_precision():
        return _evaluate(expr, values)


def _evaluate(expr: Expr, values: Mapping[Symbol, Interval]) -> Interval:
    iv = mpmath.iv
    if isinstance(expr, Symbol):
        return values[expr]
    if isinstance(expr, Number):
        return iv.mpf(expr.p) / expr.q if expr.is_Rational else iv.mpf(mpmath.mpf(expr._mpf_))
    if expr is E:  # Euler's number, as a formula's `e` (or e^{1}) reads: an interval that holds it
        return +iv.e
    if isinstance(expr, Add):
        return sum((_evaluate(term, values) for term in expr.args), iv.mpf(0))
    if isinstance(expr, Mul):
        product = iv.mpf(1)
        for factor in expr.args:
            product *= _evaluate(factor, values)
        return product
    if isinstance(expr, Pow):
        base, exponent = _evaluate(expr.args[0], values), expr.args[1]
        if exponent.is_Integer:
            if exponent < 0 and bounds(base)[0] <= 0 <= bounds(base)[1]:
                raise ZeroDivisionError("an interval around 0 divides")
            return base ** int(exponent)
        if bounds(base)[0] <= 0:
            raise ValueError("a power of an interval that reaches 0 or below")
        return iv.exp(_evaluate(exponent, values) * iv.log(base))
    if isinstance(expr, exp):
        return iv.exp(_evaluate(expr.args[0], values))
    if isinstance(expr, log):
        argument = _evaluate(expr.args[0], values)
        if bounds(argument)[0] <= 0:
            raise ValueError("the logarithm of an interval that reaches 0 or below")
        return iv.log(argument)
    if isinstance(expr, tanh):  # increasing: its bounds are the bounds' images
        low, high = bounds(_evaluate(expr.args[0], values))
        return iv.mpf([mpmath.tanh(low) - _ulp(low), mpmath.tanh(high) + _ulp(high)])
    if isinstance(expr, Piecewise):
        return _piecewise(expr, values)
    if isinstance(expr, detach):  # a stop-gradient: its argument's value
        return _evaluate(expr.args[0], values)
    if isinstance(expr, (Max, Min)):  # increasing in each argument: the bounds' maxima (minima)
        pick = max if isinstance(expr, Max) else min
        ends = [bounds(_evaluate(argument, values)) for argument in expr.args]
        return iv.mpf([pick(low for low, _ in ends), pick(high for _, high in ends)])
    if isinstance(expr, Abs):
        low, high = bounds(_evaluate(expr.args[0], values))
        return iv.mpf([0 if low <= 0 <= high else min(abs(low), abs(high)), max(abs(low), abs(high))])
    raise NotImplementedError(f"cannot evaluate {type(expr).__name__} on intervals")


def _piecewise(expr: Piecewise, values: Mapping[Symbol, Interval]) -> Interval:
    """The pieces whose conditions may hold, up to the first that surely holds, joined into one interval."""
    joined = None
    for piece, condition in expr.args:
        holds = _holds(condition, values)
        if holds is False:
            continue
        value = bounds(_evaluate(piece, values))
        joined = value if joined is None else (min(joined[0], value[0]), max(joined[1], value[1]))
        if holds:
            return mpmath.iv.mpf(joined)
    if joined is None:
        raise ValueError(f"no piece of {expr} applies")
    return mpmath.iv.mpf(joined)


def _holds(condition, values: Mapping[Symbol, Interval]) -> bool | None:
    """True or False when the condition is decided over the whole interval, None when it is not."""
    if condition == true:
        return True
    difference = bounds(_evaluate(condition.lhs, values) - _evaluate(condition.rhs, values))
    if isinstance(condition, (StrictGreaterThan, GreaterThan, StrictLessThan, LessThan)):
        sign = 1 if isinstance(condition, (StrictGreaterThan, GreaterThan)) else -1
        low, high = sorted((sign * difference[0], sign * difference[1]))
        strict = isinstance(condition, (StrictGreaterThan, StrictLessThan))
        if low > 0 or (not strict and low == 0):
            return True
        if high < 0 or (strict and high == 0):
            return False
        return None
    raise NotImplementedError(f"cannot decide {type(condition).__name__} on intervals")


def _ulp(value: mpmath.mpf) -> mpmath.mpf:
    """A margin of a few units in the last digit carried, so rounding never narrows a bound."""
    return abs(value) * mpmath.mpf(10) ** (-PRECISION + 2) + mpmath.mpf(10) ** (-10 * PRECISION)
