"""A weight penalty checked by finite differences: the gradient of the objective E_total + R.

The updates read dE_total/dw + dR/dw, with dR/dw SymPy's derivative of the penalty. The data part is
checked by `checks.finite_differences`; here the sum is compared with a central difference of the
objective itself in mpmath (`FD_DIGITS` digits, h = 10^-`FD_EXPONENT`), to `REQUIRED_DIGITS` digits.
At an l1-penalized weight of exactly 0, |w| has a kink: the central difference of |w| there is 0,
the subgradient sign(0) = 0 the update uses, so the check confirms that choice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import mpmath
from sympy import Abs, Expr, Piecewise, Symbol

from symbackprop.checks.finite_differences import (FD_DIGITS, FD_EXPONENT, REQUIRED_DIGITS, absolute_difference,
                                                   agreeing_digits)
from symbackprop.derivation import Derivation
from symbackprop.derivation.graph import GraphDerivation
from symbackprop.derivation.optimizers import THETA, Penalty, penalized, penalty
from symbackprop.errors import CheckFailure
from symbackprop.numbers.evaluate import PRECISION, evaluate, evaluate_definitions
from symbackprop.numbers.graph import graph_forward, graph_point
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
    def absolute_difference(self) -> mpmath.mpf | None:
        return absolute_difference(self.high, self.symbolic)

    @property
    def status(self) -> str:
        return "pass" if self.agreeing_digits >= REQUIRED_DIGITS else "FAIL"


def check_penalty(derivation: Derivation) -> list[PenaltyCheck]:
    """Every penalized parameter's objective gradient checked; none without a penalty."""
    network = derivation.network
    found = penalty(network.spec.regularization)
    if found is None:
        return []
    values = pass_values(derivation)
    parameters = [(p.name, p.symbol, values[derivation.gradient(p.name).symbol]) for p in network.parameters
                  if penalized(p.is_bias, found) is not None]
    with mpmath.workdps(FD_DIGITS + working_precision(network) - PRECISION):
        return _checked(found, spec_values(network), parameters,
                        lambda point: evaluate_definitions(network.forward_definitions(), point)[network.total])


def check_graph_penalty(derivation: GraphDerivation, values: Mapping[Symbol, mpmath.mpf]) -> list[PenaltyCheck]:
    """A graph's penalty checked as a layered network's: every penalized trainable name's dL/dv + dR/dv against
    the central difference of L + R (`values`: the graph's, its adjoints among them); none without a penalty."""
    graph = derivation.graph
    found = penalty(graph.spec.regularization)
    if found is None:
        return []
    adjoints = {adjoint.quantity: adjoint.symbol for adjoint in derivation.adjoints}
    parameters = [(name.name, name, values[adjoints[name]]) for name in graph.spec.trainable
                  if graph.spec.penalizes(name)]
    with mpmath.workdps(FD_DIGITS):
        return _checked(found, graph_point(graph), parameters, lambda point: graph_forward(graph, point)[graph.loss])


def _checked(found: Penalty, start: dict, parameters: list[tuple[str, Symbol, mpmath.mpf]],
             loss: Callable[[dict], mpmath.mpf]) -> list[PenaltyCheck]:
    """Each of `parameters` (name, symbol, its gradient of the loss) checked at the working precision: the gradient
    plus the penalty's derivative against the central difference of `loss` + R from `start`."""
    term = _evaluable(found.term)

    def objective(point) -> mpmath.mpf:
        return loss(point) + mpmath.fsum(evaluate(term, {**point, THETA: point[s]}) for _n, s, _g in parameters)

    h = mpmath.mpf(10) ** -FD_EXPONENT
    checks = []
    for name, parameter, gradient in parameters:
        sides = [objective({**start, parameter: start[parameter] + sign * h}) for sign in (1, -1)]
        slope = evaluate(found.derivative, {**start, THETA: start[parameter]})
        checks.append(PenaltyCheck(name, gradient + slope, (sides[0] - sides[1]) / (2 * h)))
    return checks


def require_penalty(checks: list[PenaltyCheck]) -> None:
    """Raise `CheckFailure` naming every parameter whose objective gradient disagrees, with both numbers."""
    failed = [c for c in checks if c.status == "FAIL"]
    if failed:
        raise CheckFailure("penalty check failed:\n" + "\n".join(
            f"{c.parameter}: dE/d{c.parameter} + dR/d{c.parameter} = {mpmath.nstr(c.symbolic, 25)} vs "
            f"mpmath finite difference of E + R {mpmath.nstr(c.high, 25)} ({c.agreeing_digits:.1f} digits "
            f"agree, {REQUIRED_DIGITS} required)" for c in failed))


def _evaluable(term: Expr) -> Expr:
    """|theta| as the pieces mpmath evaluates."""
    return term.replace(Abs, lambda x: Piecewise((x, x >= 0), (-x, True)))

