"""Every symbolic gradient checked against central finite differences, twice.

(a) Double precision, through the compiled step: step h = eps^(1/3) max(1, |p|), which
    balances truncation (~h^2) against cancellation (~eps |E| / h); the tolerance, which adds the
    truncation error estimated from a second difference at 2h, is stated with each result.
(b) mpmath at `FD_DIGITS` digits with h = 10^-`FD_EXPONENT`: truncation ~h^2 and
    cancellation ~10^-FD_DIGITS / h are both far below 10^-`REQUIRED_DIGITS`, so the
    difference quotient must agree with the symbolic value to `REQUIRED_DIGITS` digits.
A disagreement raises `CheckFailure` with both numbers side by side.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import mpmath
from sympy import Symbol

from symbackprop.derivation import Derivation
from symbackprop.errors import CheckFailure, InputError
from symbackprop.numbers.evaluate import PRECISION, evaluate_definitions
from symbackprop.numbers.kinks import kinks
from symbackprop.numbers.point import pass_values, spec_values, working_precision
from symbackprop.numbers.stable import finite_doubles, require_finite
from symbackprop.numbers.training import compile_loss

EPSILON = sys.float_info.epsilon
DOUBLE_TOLERANCE_FACTOR = 100
TRUNCATION_FACTOR = 4
"""Tolerance = factor * eps^(2/3) * max(1, |E|) + 4 * truncation: the optimal central-difference error, with
headroom, plus the truncation error estimated from the difference at 2h, which is not negligible where E
curves fast (weights of 1e3)."""
FD_DIGITS = 80
FD_EXPONENT = 25
REQUIRED_DIGITS = 20
MAX_CHECKED_PARAMETERS = 1_000
"""Each high-precision difference evaluates the whole network at 80 digits, so checking every gradient
costs the square of the size: about 10 s at 1,000 parameters, over a minute at 10,000."""
ZERO_FLOOR_EXPONENT = 25
"""A gradient smaller than 10^-25 (such as an exact zero) is compared absolutely, against 10^-25:
significant digits of zero mean nothing, and the symbolic value itself carries ~10^-50 of noise. Agreeing
to `REQUIRED_DIGITS` digits against that floor is a difference of at most 10^-`ABSOLUTE_EXPONENT`."""
ABSOLUTE_EXPONENT = ZERO_FLOOR_EXPONENT + REQUIRED_DIGITS


@dataclass(frozen=True)
class GradientCheck:
    """One parameter's gradient: the symbolic value and both finite-difference estimates."""

    parameter: str
    symbolic: mpmath.mpf
    double: float
    double_step: float
    double_tolerance: float
    high: mpmath.mpf
    kink: str | None = None
    """Set when the gradient runs through a relu at its kink: the derivative is one-sided there and
    a central difference cannot confirm it, so the check is reported, not passed or failed."""

    @property
    def double_error(self) -> float:
        return abs(self.double - float(self.symbolic))

    @property
    def agreeing_digits(self) -> float:
        """Significant digits on which the high-precision estimate agrees with the symbolic value."""
        return agreeing_digits(self.high, self.symbolic)

    @property
    def absolute_difference(self) -> mpmath.mpf | None:
        return absolute_difference(self.high, self.symbolic)

    @property
    def passed(self) -> bool:
        return self.double_error <= self.double_tolerance and self.agreeing_digits >= REQUIRED_DIGITS

    @property
    def status(self) -> str:
        return "kink" if self.kink else "pass" if self.passed else "FAIL"


def agreeing_digits(estimate: mpmath.mpf, symbolic: mpmath.mpf) -> float:
    """Significant digits on which a high-precision estimate agrees with the symbolic value; a value
    below 10^-ZERO_FLOOR_EXPONENT is compared absolutely, against that floor."""
    difference = abs(estimate - symbolic)
    if difference == 0:
        return float(FD_DIGITS)
    scale = max(abs(symbolic), mpmath.mpf(10) ** -ZERO_FLOOR_EXPONENT)
    return float(-mpmath.log10(difference / scale))


def absolute_difference(estimate: mpmath.mpf, symbolic: mpmath.mpf) -> mpmath.mpf | None:
    """|estimate - symbolic| for a value compared absolutely (below 10^-ZERO_FLOOR_EXPONENT: a zero and its
    noise), whose agreeing digits a reader cannot trust; None for a value compared by its significant digits."""
    return abs(estimate - symbolic) if abs(symbolic) < mpmath.mpf(10) ** -ZERO_FLOOR_EXPONENT else None


def check_gradients(derivation: Derivation) -> list[GradientCheck]:
    """Both finite-difference checks for every parameter, at the spec's point."""
    network = derivation.network
    if len(network.parameters) > MAX_CHECKED_PARAMETERS:
        raise InputError(f"spec: checking {len(network.parameters):,} gradients by finite differences would take "
                         f"minutes (at most {MAX_CHECKED_PARAMETERS:,}); train --numpy handles large networks")
    symbolic = pass_values(derivation)
    at_kink = kinks(network, symbolic)
    loss = compile_loss(derivation, backend="math")
    start = [float(p.value) for p in network.parameters]
    with finite_doubles("E_total"):
        error_at_start = abs(loss(*start))
    require_finite([error_at_start], "E_total")
    checks = []
    for index, parameter in enumerate(network.parameters):
        h = EPSILON ** (1 / 3) * max(1.0, abs(start[index]))
        with finite_doubles(f"E_total near {parameter.name}"):
            double = _central_difference(loss, start, index, h)
            coarse = _central_difference(loss, start, index, 2 * h)
        # Truncation: D(h) = D + c h^2 + ..., so D(2h) - D(h) = 3 c h^2, three times the error of D(h).
        truncation = abs(coarse - double) / 3
        tolerance = DOUBLE_TOLERANCE_FACTOR * EPSILON ** (2 / 3) * max(1.0, error_at_start) + TRUNCATION_FACTOR * truncation
        high = _high_precision_difference(derivation, parameter.symbol)
        kink = next((k.note for k in at_kink if parameter.layer <= k.neuron.layer), None)
        checks.append(GradientCheck(parameter.name, symbolic[derivation.gradient(parameter.name).symbol],
                                    double, h, tolerance, high, kink))
    return checks


def _central_difference(loss, start: list[float], index: int, h: float) -> float:
    plus, minus = list(start), list(start)
    plus[index] += h
    minus[index] -= h
    return (loss(*plus) - loss(*minus)) / (plus[index] - minus[index])  # the step representable in doubles


def require(checks: list[GradientCheck]) -> None:
    """Raise `CheckFailure` naming every gradient that disagrees, with both numbers."""
    failed = [c for c in checks if c.status == "FAIL"]
    if failed:
        lines = [f"{c.parameter}: symbolic {mpmath.nstr(c.symbolic, 25)} vs double finite difference "
                 f"{c.double!r} (|diff| {c.double_error:.3g}, tolerance {c.double_tolerance:.3g}) vs mpmath "
                 f"finite difference {mpmath.nstr(c.high, 25)} ({c.agreeing_digits:.1f} digits agree, "
                 f"{REQUIRED_DIGITS} required)" for c in failed]
        raise CheckFailure("gradient check failed:\n" + "\n".join(lines))



def _high_precision_difference(derivation: Derivation, parameter: Symbol) -> mpmath.mpf:
    network = derivation.network
    with mpmath.workdps(FD_DIGITS + working_precision(network) - PRECISION):
        h = mpmath.mpf(10) ** -FD_EXPONENT
        values = spec_values(network)
        sides = []
        for sign in (1, -1):
            shifted = dict(values)
            shifted[parameter] = values[parameter] + sign * h
            sides.append(evaluate_definitions(network.forward_definitions(), shifted)[network.total])
        return (sides[0] - sides[1]) / (2 * h)
