"""Interval evaluation (numbers/interval.py): the range a formula of printed numbers allows, never narrower."""

from __future__ import annotations

import mpmath
import pytest
from sympy import E, Abs, Max, Min, Piecewise, StrictGreaterThan, Symbol, exp, log, tanh

from symbackprop.numbers.evaluate import evaluate
from symbackprop.numbers.interval import bounds, evaluate_interval, interval

x, y = Symbol("x"), Symbol("y")
with mpmath.workdps(50):
    AROUND = {x: interval(mpmath.mpf("-0.2"), mpmath.mpf("0.1")), y: interval(mpmath.mpf("0.5"), mpmath.mpf("0.6"))}


@pytest.mark.parametrize("expr, low, high", [
    (x * (1 - x), "-0.24", "0.09"),
    (Max(0, x, evaluate=False), "0", "0.1"),
    (Min(0, x, evaluate=False), "-0.2", "0"),
    (Abs(x, evaluate=False), "0", "0.2"),
    (Piecewise((x, StrictGreaterThan(x, 0)), (0, True)), "-0.2", "0.1"),  # undecided: both pieces
    (Piecewise((y, StrictGreaterThan(y, 0)), (0, True)), "0.5", "0.6"),  # decided: y > 0 throughout
])
def test_bounds_hold_every_value(expr, low, high):
    found = bounds(evaluate_interval(expr, AROUND))
    with mpmath.workdps(50):
        low, high = mpmath.mpf(low), mpmath.mpf(high)
    assert found[0] <= low + mpmath.mpf("1e-40") and found[1] >= high - mpmath.mpf("1e-40")
    assert found[1] - found[0] <= high - low + mpmath.mpf("0.2")


def test_increasing_functions_take_their_bounds_images():
    for function, same in ((exp, mpmath.exp), (tanh, mpmath.tanh), (log, mpmath.log)):
        low, high = bounds(evaluate_interval(function(y), AROUND))
        with mpmath.workdps(50):
            exact = [same(mpmath.mpf(v)) for v in ("0.5", "0.6")]
        assert low <= exact[0] and high >= exact[1] and high - low < mpmath.mpf("0.2")


def test_eulers_number_evaluates_and_is_held_by_its_interval():
    """A typed formula's `e` (or e^{1}) is SymPy's E, a constant and no Number."""
    low, high = bounds(evaluate_interval(E * y, AROUND))
    with mpmath.workdps(50):
        assert low <= mpmath.e * mpmath.mpf("0.5") and mpmath.e * mpmath.mpf("0.6") <= high
        assert evaluate(E, {}) == +mpmath.e


@pytest.mark.parametrize("expr", [1 / x, log(x), x ** mpmath.mpf("0.5")])
def test_an_interval_reaching_a_pole_or_a_negative_base_is_refused(expr):
    with pytest.raises((ArithmeticError, ValueError)):
        evaluate_interval(expr, AROUND)
