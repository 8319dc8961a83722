"""The Python API: a network from a spec, its derivation, worked solutions, checks and training.

Every result that people read displays itself in Jupyter (`_repr_markdown_`, `_repr_latex_`)
and renders to any output format with `.render(format)`, text in Unicode math or, with
`ascii=True`, in plain ASCII; the raw engine records stay available as attributes
(`.derivation`, `.solution`, `.rows`, `.verdict`).

    >>> import symbackprop as sbp
    >>> solution = sbp.solve("mazur")
    >>> print(solution.render("text").splitlines()[6])
    net_h1 = w₁ · i₁ + w₂ · i₂ + b₁ = 0.15 · 0.05 + 0.2 · 0.1 + 0.35 = 0.3775
    >>> print(solution.render("text", ascii=True).splitlines()[6])
    net_h1 = w_1 * i_1 + w_2 * i_2 + b_1 = 0.15 * 0.05 + 0.2 * 0.1 + 0.35 = 0.3775
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mpmath

from symbackprop.checks.budget import DEFAULT_BUDGET, within_budget
from symbackprop.checks.document import Row, load_document, reproduce as reproduce_document
from symbackprop.checks.finite_differences import GradientCheck, check_gradients, require
from symbackprop.checks.matrix_form import check_matrix_form, require_equal
from symbackprop.checks.verify import Checker, Verdict
from symbackprop.derivation import Derivation, derive
from symbackprop.derivation.matrix import derive_matrix
from symbackprop.errors import InputError
from symbackprop.formulas import read_equation, read_formula
from symbackprop.network import Network, build_network
from symbackprop.numbers.point import pass_values
from symbackprop.numbers.training import TrainingResult, train as train_network
from symbackprop.printers import printer
from symbackprop.printers.reproduction import reproduction_json, reproduction_table
from symbackprop.printers.verdict import verdict_json, verdict_text
from symbackprop.solution import (
    WorkedSolution, derivation_summary, gradient_solution, worked_matrix_solution, worked_solution,
)
from symbackprop.spec import Spec, load_spec, spec_from_dict
from symbackprop.spec.exact import exact_number

SpecLike = str | Mapping | Spec | None
"""A spec file's path, a built-in example's name, a dict with the spec's keys, a `Spec`, or None (mazur)."""


def spec(source: SpecLike = None) -> Spec:
    """A validated spec from any `SpecLike`."""
    if isinstance(source, Spec):
        return source
    if isinstance(source, Mapping):
        return spec_from_dict(dict(source))
    return load_spec(source)


def network(source: SpecLike = None) -> Network:
    """The network as symbols with local expressions."""
    return build_network(spec(source))


def derivation(source: SpecLike = None) -> "DerivationView":
    """Every gradient derived by the chain rule; displays as the chain rule and delta-rule forms."""
    return DerivationView(derive(network(source)))


def solve(source: SpecLike = None, *, decimals: int = 9, hand_round: int | None = None,
          detail: str = "brief", checks: bool = True) -> "Solution":
    """The whole worked solution; with `checks`, every gradient is checked by finite differences first."""
    derived = derive(network(source))
    found = _checked(derived) if checks else None
    return Solution(worked_solution(derived, decimals, hand_round, found, detail))


def matrix_solution(source: SpecLike = None, *, decimals: int = 9, checks: bool = True) -> "Solution":
    """The worked solution in matrix form, one line per layer quantity: net = W out + b 1^T, out, E_total,
    dE_total/dout, delta, dE_total/dW = delta out^T, dE_total/db and the updates, each with explicit
    matrices of numbers. With `checks`, every entry of the matrix form is first proved equal to the
    scalar derivation's quantity and every gradient is checked by finite differences (a failure raises
    `CheckFailure`). A network whose activation the matrix form cannot write raises `InputError`.

        >>> print(matrix_solution("mazur", checks=False).render("text").splitlines()[18])
        net_h = W_h · i + 𝟙 · b_h = [[0.15, 0.2], [0.25, 0.3]] · [[0.05], [0.1]] + 𝟙 · 0.35 = [[0.3775], [0.3925]]
    """
    derived = derive(network(source))
    matrix = derive_matrix(derived.network.spec)
    proof = found = None
    if checks:
        proof = check_matrix_form(derived, matrix)
        require_equal(proof)
        found = _checked(derived)
    return Solution(worked_matrix_solution(derived, decimals, found, proof, matrix))


def explain(source: SpecLike, parameter: str, *, decimals: int = 9, hand_round: int | None = None,
            detail: str = "full") -> "Solution":
    """The worked solution of one gradient, e.g. explain("mazur", "w5"), every rule shown by default."""
    return Solution(gradient_solution(derive(network(source)), parameter, decimals, hand_round, detail))


def gradients(source: SpecLike = None) -> dict[str, mpmath.mpf]:
    """dE_total/dp for every parameter p at the spec's point, at 50 significant digits."""
    derived = derive(network(source))
    values = pass_values(derived)
    return {g.parameter.name: values[g.symbol] for g in derived.gradients}


def finite_difference_checks(source: SpecLike = None) -> list[GradientCheck]:
    """Both finite-difference checks of every gradient; raises `CheckFailure` if one disagrees."""
    return _checked(derive(network(source)))


def train(source: SpecLike = None, steps: int = 1, *, order: str = "simultaneous", fast: bool = False,
          every: int = 1, backend: str | None = None) -> TrainingResult:
    """`steps` rounds of gradient descent (exact path, or double precision with `fast`); E_total and the
    outputs are recorded in `history` every `every` steps and after the last. `backend` names the path
    instead of `fast`: "mpmath" (exact), "math" (double), or "numpy" (double, by the per-layer matrix
    form, for large networks; simultaneous order only)."""
    return train_network(derive(network(source)), steps, order, backend or ("math" if fast else "mpmath"),
                         every=every)


def check(source: SpecLike = None, *, formula: str | None = None, value: str | None = None,
          wrt: str | None = None, quantity: str | None = None,
          budget: float | None = DEFAULT_BUDGET) -> "CheckResult":
    """Is a hand-derived formula or number right? `quantity` or `wrt` names what it should equal;
    a formula may also be written 'quantity = formula'. Bad input raises `InputError` naming the
    argument (the CLI's options have the same names); so does a check that cannot finish within
    `budget` seconds (None: no limit)."""
    return within_budget(budget, _check, source, formula, value, wrt, quantity)


def _check(source: SpecLike, formula: str | None, value: str | None, wrt: str | None,
           quantity: str | None) -> "CheckResult":
    derived = derive(network(source))
    checker = Checker(derived)
    target = None
    if wrt is not None:
        try:
            target = derived.gradient(wrt.replace("_", "")).symbol
        except KeyError:
            raise InputError(f"--wrt: the network has no parameter {wrt!r}") from None
    elif quantity is not None:
        target = checker.quantity(read_formula(quantity, checker.resolve))
    if value is not None:
        if target is None:
            raise InputError("--value: say which quantity it is, with --quantity or --wrt")
        exact_number(value, "--value")
        return CheckResult(checker.check_value(value.strip(), target), value.strip())
    if formula is None:
        raise InputError("--formula: give a formula or a value to check")
    sides = read_equation(formula, checker.resolve)
    if target is None:
        if len(sides) != 2:
            raise InputError("--formula: write 'quantity = formula', or name the quantity with --quantity or --wrt")
        target = checker.quantity(sides[0])
    return CheckResult(checker.check_formula(sides[-1], target), formula.strip())


def reproduce(document: str = "mazur") -> "Reproduction":
    """Every number and formula the document prints, against the engine."""
    data = load_document(document)
    return Reproduction(reproduce_document(derive(network(data["example"])), data), data["title"])


def _checked(derived: Derivation) -> list[GradientCheck]:
    found = check_gradients(derived)
    require(found)
    return found


class _Displayed:
    """Renders to any format; shows itself as rendered math in a notebook."""

    def render(self, fmt: str = "text", *, ascii: bool = False) -> str:
        """`ascii`: plain ASCII text instead of Unicode math (for the text format)."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.render("text")

    def _repr_markdown_(self) -> str:
        return self.render("markdown")


@dataclass(frozen=True, eq=False)
class Solution(_Displayed):
    solution: WorkedSolution

    def render(self, fmt: str = "text", *, ascii: bool = False) -> str:
        """`fmt`: one of `symbackprop.printers.PRINTERS` (text, latex, markdown, json, ...)."""
        return printer(fmt, ascii=ascii).doprint(self.solution)

    def _repr_html_(self) -> str:
        return self.render("html")


@dataclass(frozen=True, eq=False)
class DerivationView(_Displayed):
    derivation: Derivation

    def render(self, fmt: str = "text", *, ascii: bool = False) -> str:
        return printer(fmt, ascii=ascii).doprint(derivation_summary(self.derivation))


@dataclass(frozen=True, eq=False)
class Reproduction(_Displayed):
    rows: list[Row]
    title: str

    def render(self, fmt: str = "text", *, ascii: bool = False) -> str:
        """text or markdown (a table), or json."""
        if fmt == "json":
            return reproduction_json(self.rows)
        return reproduction_table(self.rows, self.title, fmt, ascii=ascii)


@dataclass(frozen=True, eq=False)
class CheckResult(_Displayed):
    verdict: Verdict
    written: str

    def __bool__(self) -> bool:
        return self.verdict.correct

    def render(self, fmt: str = "text", *, ascii: bool = False) -> str:
        """text (markdown shows the same text) or json."""
        if fmt == "json":
            return verdict_json(self.verdict, self.written)
        return verdict_text(self.verdict, self.written, ascii=ascii)

    def _repr_markdown_(self) -> str:
        return "```\n" + self.render("text") + "```\n"
