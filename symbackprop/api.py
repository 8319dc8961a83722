"""The Python API: a network from a spec, its derivation, worked solutions, checks and training.

Every result that people read displays itself in Jupyter the same way (`_repr_html_`: a fragment
of HTML with MathML formulas and a style scoped to it, which renders without MathJax or a network)
and renders to any output format with `.render(format)`, text in Unicode math or, with
`ascii=True`, in plain ASCII, a worked solution's lines broken at `width` columns (80; None:
never); the raw engine records stay available as attributes
(`.derivation`, `.solution`, `.rows`, `.verdict`).

Each function here is a one-line convenience over `Problem` (symbackprop/problem.py), which
derives a network once and answers every question about it: to ask several, keep a `Problem`.

    >>> import symbackprop as sbp
    >>> solution = sbp.solve("mazur")
    >>> print(solution.render("text").splitlines()[6])
    net_h1 = w₁ · i₁ + w₂ · i₂ + b₁ = 0.15 · 0.05 + 0.2 · 0.1 + 0.35 = 0.3775
    >>> print(solution.render("text", ascii=True).splitlines()[6])
    net_h1 = w_1 * i_1 + w_2 * i_2 + b_1 = 0.15 * 0.05 + 0.2 * 0.1 + 0.35 = 0.3775
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mpmath

from symbackprop.arguments import MAX_DECIMALS, MAX_STEPS, MAX_WIDTH, MIN_WIDTH
from symbackprop.checks.budget import DEFAULT_BUDGET
from symbackprop.checks.finite_differences import GradientCheck
from symbackprop.network import Network
from symbackprop.numbers.training import ORDERS
from symbackprop.spec.vocabulary import OPTIMIZERS as _SETTINGS
from symbackprop.printers import PRINTERS
from symbackprop.prairielearn import FILES as PRAIRIELEARN_FILES
from symbackprop.printers.plot import plot_format
from symbackprop.errors import InputError
from symbackprop.checking import MAX_SOLUTION_CHARACTERS, SOLUTION_BUDGET
from symbackprop.graph_problem import GraphProblem
from symbackprop.problem import (
    Exercise, Problem, SpecLike, exercise, graph_exercise, layer_exercise, load, open_problem,
    reproduce, sources,
)
from symbackprop.results import CheckResult, DerivationView, GradientReport, Grading, Reproduction, Solution, Training, Tutor
from symbackprop.solution.build import DETAILS
from symbackprop.solution.optimizers import optimizer_rules as rules_record
from symbackprop.spec import Spec, example_names, example_text
from symbackprop.spec.layer_exercise import LAYER_EXERCISES

__version__ = "0.1.0"
OPTIMIZERS = tuple(_SETTINGS)
"""The optimizers `train` runs (`optimizer=`, `--optimizer`)."""

__all__ = ["DEFAULT_BUDGET", "DETAILS", "LAYER_EXERCISES", "MAX_DECIMALS", "MAX_SOLUTION_CHARACTERS", "MAX_STEPS", "MAX_WIDTH", "MIN_WIDTH",
           "OPTIMIZERS", "ORDERS", "PRAIRIELEARN_FILES", "PRINTERS", "SOLUTION_BUDGET", "CheckResult", "DerivationView",
           "Exercise", "GradientReport", "Grading", "GraphProblem", "Problem", "Reproduction", "Solution", "SpecLike",
           "Training", "Tutor", "check", "check_solution", "derivation", "example_names", "example_text", "exercise", "explain",
           "finite_difference_checks", "grade", "gradients", "graph_exercise", "layer_exercise", "matrix_solution",
           "network", "open_problem", "optimizer_rules", "optimizer_steps", "plot_format", "reproduce", "solve", "sources", "spec", "train",
           "tutor"]


def spec(source: SpecLike = None) -> Spec:
    """A validated spec from any `SpecLike`."""
    return load(source)


def network(source: SpecLike = None) -> Network:
    """The network as symbols with local expressions."""
    return Problem(source).network


def derivation(source: SpecLike = None) -> DerivationView:
    """Every gradient derived by the chain rule; displays as the chain rule and delta-rule forms."""
    return open_problem(source).derivation()


def solve(source: SpecLike = None, *, decimals: int = 9, hand_round: int | None = None,
          detail: str = "brief", checks: bool = True, steps: int | None = None,
          optimizer: str | None = None) -> Solution:
    """The whole worked solution; with `checks`, every gradient is checked by finite differences first;
    `steps` of the spec's (or `optimizer`'s) update worked at the end (see `Problem.solve`)."""
    return open_problem(source).solve(decimals=decimals, hand_round=hand_round, detail=detail, checks=checks,
                                      steps=steps, optimizer=optimizer)


def optimizer_steps(source: SpecLike = None, steps: int = 2, *, optimizer: str | None = None,
                    decimals: int = 9) -> Solution:
    """The first `steps` steps of the spec's optimizer (or `optimizer`'s) worked with numbers
    (see docs/optimizers.md)."""
    return open_problem(source).optimizer_steps(steps, optimizer=optimizer, decimals=decimals)


def optimizer_rules() -> Solution:
    """Every optimizer's update rule and each penalty's, as SymPy records (see docs/optimizers.md)."""
    return Solution(rules_record())


def matrix_solution(source: SpecLike = None, *, decimals: int = 9, checks: bool = True, steps: int | None = None,
                    optimizer: str | None = None) -> Solution:
    """The worked solution in matrix form, with `steps` of the spec's (or `optimizer`'s) update worked per
    weight matrix at the end (see `Problem.matrix_solution`).

        >>> print(matrix_solution("mazur", checks=False).render("text", width=None).splitlines()[18])
        net_h = W_h · i + 𝟙 · b_h = [[0.15, 0.2], [0.25, 0.3]] · [[0.05], [0.1]] + 𝟙 · 0.35 = [[0.3775], [0.3925]]
    """
    return open_problem(source).matrix_solution(decimals=decimals, checks=checks, steps=steps, optimizer=optimizer)


def explain(source: SpecLike, parameter: str, *, decimals: int = 9, hand_round: int | None = None,
            detail: str = "full") -> Solution:
    """The worked solution of one gradient, e.g. explain("mazur", "w5"), every rule shown by default."""
    return open_problem(source).explain(parameter, decimals=decimals, hand_round=hand_round, detail=detail)


def gradients(source: SpecLike = None) -> dict[str, mpmath.mpf]:
    """dE_total/dp for every parameter p at the spec's point, at 50 significant digits."""
    return open_problem(source).gradients()


def finite_difference_checks(source: SpecLike = None) -> list[GradientCheck]:
    """Both finite-difference checks of every gradient; raises `CheckFailure` if one disagrees."""
    return open_problem(source).finite_difference_checks()


def train(source: SpecLike = None, steps: int = 1, *, order: str = "simultaneous", fast: bool = False,
          every: int | None = None, backend: str | None = None, curve: bool = False,
          progress: Callable[[int], None] | None = None, optimizer: str | None = None) -> Training:
    """`steps` rounds of gradient descent, or of the spec's or `optimizer`'s update (see `Problem.train`;
    a Problem keeps its compiled loop)."""
    return open_problem(source).train(steps, order=order, fast=fast, every=every, backend=backend, curve=curve,
                                 progress=progress, optimizer=optimizer)


def check(source: SpecLike = None, *, formula: str | None = None, value: str | None = None,
          wrt: str | None = None, quantity: str | None = None,
          budget: float | None = DEFAULT_BUDGET, hand_round: str | None = None,
          optimizer: str | None = None) -> CheckResult:
    """Is a hand-derived formula or number right? (see `Problem.check`)"""
    return open_problem(source).check(formula=formula, value=value, wrt=wrt, quantity=quantity, budget=budget,
                                      hand_round=hand_round, optimizer=optimizer)


def check_solution(source: SpecLike, solution: str, *, budget: float | None = SOLUTION_BUDGET,
                   optimizer: str | None = None) -> Grading:
    """Every line of a hand solution checked; an unreadable line is an `InputError` (see `Problem.check_solution`)."""
    return open_problem(source).check_solution(solution, budget=budget, optimizer=optimizer)


def grade(source: SpecLike, solution: str, *, budget: float | None = SOLUTION_BUDGET,
          asked: Sequence[str] = (), optimizer: str | None = None) -> Grading:
    """A hand solution graded line by line, with PrairieLearn's keys in its JSON (see `Problem.grade`).

        >>> grade("mazur", "net_h1 = w_1 i_1 + w_2 i_2 + b_1 = 0.3775\\nout_h1 = 0.61").score
        0.5
    """
    return open_problem(source).grade(solution, budget=budget, asked=asked, optimizer=optimizer)


def tutor(source: SpecLike = None, *, decimals: int = 9) -> Tutor:
    """A tutor page for a layered network, a graph or a layer spec (see `Problem.tutor`, `GraphProblem.tutor`;
    docs/tutor.md): `.html()` is the page."""
    return open_problem(source).tutor(decimals=decimals)
