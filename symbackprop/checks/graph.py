"""Every adjoint of a computation graph against a central finite difference in mpmath.

For a leaf v the loss is recomputed with v moved by ±h; for a node v, with v's value moved by ±h
while the names it depends on stay (the adjoint is the derivative through v's uses). Step and
precision are the layered network's: `FD_DIGITS` digits, h = 10^-`FD_EXPONENT`, and the estimate must
agree with the symbolic value to `REQUIRED_DIGITS` significant digits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import mpmath
from sympy import Symbol

from symbackprop.checks.finite_differences import FD_DIGITS, FD_EXPONENT, REQUIRED_DIGITS, agreeing_digits
from symbackprop.derivation.graph import GraphDerivation
from symbackprop.errors import CheckFailure
from symbackprop.numbers.graph import graph_forward, graph_point
from symbackprop.numbers.kinks import GraphKink


@dataclass(frozen=True)
class AdjointCheck:
    """One name's adjoint: the symbolic value and the high-precision finite-difference estimate."""

    quantity: str
    symbolic: mpmath.mpf
    estimate: mpmath.mpf
    step: mpmath.mpf
    kink: str | None = None
    """Set when the gradient runs through a relu, |u|, max or min at its kink: the derivative there is the
    engine's choice and a central difference cannot confirm it, so the check is reported, not passed or failed."""

    @property
    def agreeing_digits(self) -> float:
        return agreeing_digits(self.estimate, self.symbolic)

    @property
    def passed(self) -> bool:
        return self.agreeing_digits >= REQUIRED_DIGITS

    @property
    def status(self) -> str:
        return "kink" if self.kink else "pass" if self.passed else "FAIL"


def check_adjoints(derivation: GraphDerivation, symbolic: Mapping[Symbol, mpmath.mpf],
                   at_kink: Sequence[GraphKink] = ()) -> list[AdjointCheck]:
    """The finite-difference check of every adjoint (the loss's own, 1, included) against its value in
    `symbolic` (`numbers.graph.graph_values`); a name whose gradient runs through one of `at_kink`
    (`numbers.kinks.graph_kinks`) is marked with that kink's note."""
    graph = derivation.graph
    checks = []
    with mpmath.workdps(FD_DIGITS):
        h = mpmath.mpf(10) ** -FD_EXPONENT
        at_point = graph_forward(graph, graph_point(graph))
        for adjoint in derivation.adjoints:
            quantity = adjoint.quantity
            fixed = None if quantity in graph.spec.values else quantity
            sides = []
            for sign in (1, -1):
                start = dict(graph_point(graph))
                start[quantity] = at_point[quantity] + sign * h
                sides.append(graph_forward(graph, start, fixed)[graph.loss])
            kink = next((k.note for k in at_kink if quantity in k.depends), None)
            checks.append(AdjointCheck(quantity.name, symbolic[adjoint.symbol], (sides[0] - sides[1]) / (2 * h), h,
                                       kink))
    return checks


def require_adjoints(checks: list[AdjointCheck]) -> None:
    """Raise `CheckFailure` naming every adjoint that disagrees, with both numbers."""
    failed = [c for c in checks if c.status == "FAIL"]
    if failed:
        lines = [f"dE/d{c.quantity}: symbolic {mpmath.nstr(c.symbolic, 25)} vs mpmath finite difference "
                 f"{mpmath.nstr(c.estimate, 25)} ({c.agreeing_digits:.1f} digits agree, {REQUIRED_DIGITS} required)"
                 for c in failed]
        raise CheckFailure("adjoint check failed:\n" + "\n".join(lines))
