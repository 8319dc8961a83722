"""A weight penalty checked by finite differences: the gradient of the objective E_total + R.

The updates read dE_total/dw + dR/dw, with dR/dw SymPy's derivative of the penalty. The data part is
checked by `checks.finite_differences`; here the sum is compared with a central difference of the
objective itself in mpmath (`FD_DIGITS` digits, h = 10^-`FD_EXPONENT`), to `REQUIRED_DIGITS` digits.
At an l1-penalized weight of exactly 0, |w| has a kink: the central difference of |w| there is 0,
the subgradient sign(0) = 0 the update uses, so the check confirms that choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
from sympy import Abs, Expr, Piecewise

from symbackprop.checks.finite_differences import FD_DIGITS, FD_EXPONENT, REQUIRED_DIGITS, agreeing_digits
from symbackprop.derivation import Derivation
from symbackprop.derivation.optimizers import THETA, penalized, penalty
from symbackprop.errors import CheckFailure
from symbackprop.numbers.evaluate import PRECISION, evaluate, evaluate_definitions
from symbackprop.numbers.point import pass_values, spec_values, working_precision


@dataclass(frozen=True)
class PenaltyCheck:
    """One penalized parameter: dE_total/dw + dR/dw against the central difference of E_total + R."""

    parameter: str
    symbolic: mpmath.mpf
    high: mpmath.mpf

    @property
    def agreeing_digits(self) -> float:
        return agreeing_digits(self.high, self.symbolic)

    @property
    def status(self) -> str:
        return "pass" if self.agreeing_digits >= REQUIRED_DIGITS else "FAIL"


def check_penalty(derivation: Derivation) -> list[PenaltyCheck]:
    """Every penalized parameter's objective gradient checked; none without a penalty."""
    network = derivation.network
    found = penalty(network.spec.regularization)
    if found is None:
        return []
    term = _evaluable(found.term)
    parameters = [p for p in network.parameters if penalized(p.is_bias, found) is not None]
    values = pass_values(derivation)
    checks = []
    with mpmath.workdps(FD_DIGITS + working_precision(network) - PRECISION):
        start = spec_values(network)

        def objective(point) -> mpmath.mpf:
            loss = evaluate_definitions(network.forward_definitions(), point)[network.total]
            return loss + mpmath.fsum(evaluate(term, {**point, THETA: point[p.symbol]}) for p in parameters)

        h = mpmath.mpf(10) ** -FD_EXPONENT
        for parameter in parameters:
            sides = [objective({**start, parameter.symbol: start[parameter.symbol] + sign * h}) for sign in (1, -1)]
            slope = evaluate(found.derivative, {**start, THETA: start[parameter.symbol]})
            symbolic = values[derivation.gradient(parameter.name).symbol] + slope
            checks.append(PenaltyCheck(parameter.name, symbolic, (sides[0] - sides[1]) / (2 * h)))
    return checks


def require_penalty(checks: list[PenaltyCheck]) -> None:
    """Raise `CheckFailure` naming every parameter whose objective gradient disagrees, with both numbers."""
    failed = [c for c in checks if c.status == "FAIL"]
    if failed:
        raise CheckFailure("penalty check failed:\n" + "\n".join(
            f"{c.parameter}: dE_total/d{c.parameter} + dR/d{c.parameter} = {mpmath.nstr(c.symbolic, 25)} vs "
            f"mpmath finite difference of E_total + R {mpmath.nstr(c.high, 25)} ({c.agreeing_digits:.1f} digits "
            f"agree, {REQUIRED_DIGITS} required)" for c in failed))


def _evaluable(term: Expr) -> Expr:
    """|theta| as the pieces mpmath evaluates."""
    return term.replace(Abs, lambda x: Piecewise((x, x >= 0), (-x, True)))

