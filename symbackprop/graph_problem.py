"""A computation graph and what the engine derives from it, each derived at most once.

The graph counterpart of `Problem`, with the same method names for the commands graphs answer so
far (solve, gradients, finite_difference_checks, gradient_report, train, check); the others say so in one line.

    >>> problem = GraphProblem({"values": {"x": -2, "y": 5, "z": -4},
    ...                         "nodes": {"q": "x + y", "f": "q * z"}, "loss": "f"})
    >>> {name: int(value) for name, value in problem.gradients().items()}
    {'f': 1, 'q': -4, 'x': -4, 'y': -4, 'z': 3}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from typing import Any

import mpmath
from sympy import Symbol

from symbackprop.arguments import (
    MAX_DECIMALS, MAX_WORKED_STEPS, choice, flag, optimizer_choice, text, training_backend, training_steps, whole,
)
from symbackprop.checking import SOLUTION_BUDGET, check_answer, grade_answer, readable
from symbackprop.checks.budget import DEFAULT_BUDGET
from symbackprop.checks.graph_check import GraphChecker
from symbackprop.checks.verify import closest_names
from symbackprop.checks.graph import AdjointCheck, check_adjoints, require_adjoints
from symbackprop.checks.penalty import PenaltyCheck, check_graph_penalty, require_penalty
from symbackprop.derivation.graph import GraphDerivation, derive_graph
from symbackprop.errors import InputError
from symbackprop.formulas import read_formula
from symbackprop.formulas.reader import FormulaError
from symbackprop.network.graph import Graph, build_graph
from symbackprop.numbers.graph import graph_values
from symbackprop.numbers.graph_training import (
    GRAPH_BACKENDS, compile_graph_optimizer, compiled_graph_training, exact_gradient, graph_trainee,
    require_learning_rate, train_graph, train_graph_optimized, update_definitions,
)
from symbackprop.numbers.optimizers import OptimizerProgram, Trainee, WorkedSteps, worked_steps
from symbackprop.numbers.kinks import GraphKink, graph_kinks
from symbackprop.numbers.training import ORDERS, CompiledNetwork
from symbackprop.results import CheckResult, Grading, Solution, Training, Tutor
from symbackprop.solution.build import DETAILS
from symbackprop.solution.graph import graph_gradient_report, graph_solution
from symbackprop.solution.graph_tutor import graph_tutor_page
from symbackprop.solution.optimizers import penalty_check_section, steps_solution, with_optimizer_steps
from symbackprop.spec.graph import GraphSpec, graph_spec_from_dict
from symbackprop.spec.model import OptimizerSpec


class GraphProblem:
    """A graph spec's graph, derivation, values and checks, answering commands as methods."""

    def __init__(self, source: GraphSpec | Mapping[str, Any]) -> None:
        self.spec = source if isinstance(source, GraphSpec) else graph_spec_from_dict(source)
        self._compiled: dict[object, CompiledNetwork | OptimizerProgram] = {}

    def __repr__(self) -> str:
        return f"GraphProblem({self.spec.name!r})"

    @cached_property
    def graph(self) -> Graph:
        """The nodes in topological order."""
        return build_graph(self.spec)

    @cached_property
    def derived(self) -> GraphDerivation:
        """Every name's adjoint by the multivariable chain rule."""
        return derive_graph(self.graph)

    @cached_property
    def values(self) -> dict:
        """Every leaf, node, local derivative and adjoint at the spec's values, at 50 significant digits."""
        return graph_values(self.derived)

    @cached_property
    def kinks(self) -> list[GraphKink]:
        """Every relu, |u|, max and min of the node formulas that sits on its kink at the spec's values."""
        return graph_kinks(self.graph, self.values)

    @cached_property
    def adjoint_checks(self) -> list[AdjointCheck]:
        """The finite-difference check of every adjoint, passed or not (or at a kink)."""
        return check_adjoints(self.derived, self.values, self.kinks)

    def solve(self, *, decimals: int = 9, hand_round: int | None = None, detail: str = "brief",
              checks: bool = True, steps: int | None = None, optimizer: str | None = None) -> Solution:
        """The whole worked solution; with `checks`, every gradient is checked by finite differences first.
        `steps`: the optimizer's first steps worked with numbers at the end, as `Problem.solve` (default: one for
        an optimizer other than sgd, none for sgd); `optimizer` names another than the spec's."""
        if hand_round is not None:
            raise InputError("hand_round: not available for a computation graph yet")
        decimals = whole("decimals", decimals, 0, MAX_DECIMALS)
        detail = choice("detail", detail, DETAILS)
        chosen = self.optimizer(optimizer)
        steps = (0 if chosen.kind == "sgd" else 1) if steps is None else whole("steps", steps, 0, MAX_WORKED_STEPS)
        found = self.finite_difference_checks() if flag("checks", checks) else None
        solution = graph_solution(self.derived, self.values, decimals, found, detail, self.kinks)
        if checks and self.spec.regularization is not None:
            require_penalty(self.penalty_checks)
            solution = replace(solution, sections=solution.sections + (
                penalty_check_section(self.trainee, self.penalty_checks),))
        if steps:
            solution = with_optimizer_steps(solution, self.trainee, self._worked_steps(chosen, steps), chosen.kind)
        return Solution(solution)

    def optimizer_steps(self, steps: int = 2, *, optimizer: str | None = None, decimals: int = 9) -> Solution:
        """The first `steps` steps of the spec's optimizer (or `optimizer`'s) worked with numbers, alone."""
        steps = whole("steps", steps, 1, MAX_WORKED_STEPS)
        decimals = whole("decimals", decimals, 0, MAX_DECIMALS)
        chosen = self.optimizer(optimizer)
        return Solution(steps_solution(self.trainee, self.spec.name, self._worked_steps(chosen, steps), chosen.kind,
                                       decimals))

    def optimizer(self, kind: str | None = None) -> OptimizerSpec:
        """The spec's optimizer (sgd if it names none), or the one `kind` names, as `Problem.optimizer`."""
        return optimizer_choice(self.spec.optimizer, kind)

    @cached_property
    def trainee(self) -> Trainee:
        """The trainable names as an optimizer trains them (`InputError` without a learning rate)."""
        return graph_trainee(self.derived)

    def _worked_steps(self, optimizer: OptimizerSpec, steps: int) -> WorkedSteps:
        """The optimizer's first `steps` steps, every line evaluated exactly and uncompiled."""
        return worked_steps(self.trainee, optimizer, steps, exact_gradient(self.derived))

    @cached_property
    def penalty_checks(self) -> list[PenaltyCheck]:
        """The spec's penalty checked: each trainable name's dL/dv + dR/dv against finite differences of L + R."""
        return check_graph_penalty(self.derived, self.values)

    def gradients(self) -> dict[str, mpmath.mpf]:
        """dE/dv for every name v that reaches the loss, the loss first, at 50 significant digits."""
        return {adjoint.quantity.name: self.values[adjoint.symbol] for adjoint in self.derived.adjoints}

    def finite_difference_checks(self) -> list[AdjointCheck]:
        """The check of every adjoint; raises `CheckFailure` if one disagrees."""
        require_adjoints(self.adjoint_checks)
        return self.adjoint_checks

    def gradient_report(self) -> Solution:
        """The loss and every gradient beside its check, as the `gradients` command prints it; raises
        `CheckFailure` if a check disagrees."""
        return Solution(graph_gradient_report(self.derived, self.values,
                                              self.finite_difference_checks(), self.kinks))

    def train(self, steps: int = 1, *, order: str = "simultaneous", fast: bool = False, every: int | None = None,
              backend: str | None = None, curve: bool = False,
              progress: Callable[[int], None] | None = None, optimizer: str | None = None) -> Training:
        """`steps` rounds of gradient descent, or of the spec's or `optimizer`'s update, on the trainable names
        with the spec's learning rate, as `Problem.train` (the exact path, or double precision with `fast`; every
        trainable name is updated from the values before the step, the simultaneous order). The compiled loop
        is kept."""
        steps, every, recorded = training_steps(steps, every, curve, progress)
        chosen = self.optimizer(optimizer)
        if choice("order", order, ORDERS) != "simultaneous":
            raise InputError(f"order: a computation graph updates every trainable name at once (simultaneous); "
                             f"{order} is a layered network's order")
        if backend == "numpy":
            raise InputError("backend: numpy runs a layered network's matrix form; a computation graph trains "
                             "with mpmath (exact) or math (double precision)")
        backend = training_backend(backend, fast, GRAPH_BACKENDS)
        update_definitions(self.derived)  # no learning rate: one line before anything is compiled
        if chosen.kind != "sgd":
            if (chosen, backend) not in self._compiled:
                self._compiled[chosen, backend] = compile_graph_optimizer(self.derived, chosen, backend)
            result = train_graph_optimized(self._compiled[chosen, backend], steps, progress, recorded)
            return Training.of(result, self.graph, every, chosen.kind)
        if backend not in self._compiled:
            self._compiled[backend] = compiled_graph_training(self.derived, backend)
        result = train_graph(self.derived, steps, backend, progress, recorded, self._compiled[backend])
        return Training.of(result, self.graph, every)

    @property
    def checker(self) -> GraphChecker:
        """The graph's quantities at the spec's values and at random points, for `check`, with the names of the
        spec's optimizer's steps (w<2>, mhat_w<1>, f<1>), as `solve --steps` prints them, given a learning rate."""
        return self.checker_for(None)

    def checker_for(self, optimizer: str | None) -> GraphChecker:
        """`checker` with the steps of the optimizer `optimizer` names instead (None: the spec's), as
        `Problem.checker_for`; naming one on a graph without a learning rate is an `InputError`."""
        chosen = self.optimizer(optimizer)
        if chosen not in self._checkers:
            if optimizer is not None:  # its steps asked for: without a learning rate, one line now
                require_learning_rate(self.derived)
            stepped = self.spec.learning_rate is not None
            self._checkers[chosen] = GraphChecker(self.derived, chosen if stepped else None, MAX_WORKED_STEPS)
        return self._checkers[chosen]

    @cached_property
    def _checkers(self) -> dict[OptimizerSpec, GraphChecker]:
        """The checkers made so far, by optimizer."""
        return {}

    def check(self, *, formula: str | None = None, value: str | None = None, wrt: str | None = None,
              quantity: str | None = None, budget: float | None = DEFAULT_BUDGET,
              hand_round: str | None = None, optimizer: str | None = None) -> CheckResult:
        """Is a hand-derived formula or number right for this graph? As `Problem.check`: `wrt` names a
        gradient dE/dv (any name that has one, node or value), `quantity` any quantity of the graph (a node,
        a value, ∂f/∂x, a local derivative ∂q/∂x); the formula may use every one of them, and the quantities of
        `optimizer`'s steps (default: the spec's)."""
        return check_answer(lambda: self.checker_for(optimizer), self._adjoint, formula, value, wrt, quantity, budget,
                            hand_round)

    def check_solution(self, solution: str, *, budget: float | None = SOLUTION_BUDGET,
                       optimizer: str | None = None) -> Grading:
        """Every line of a hand solution checked, as `Problem.check_solution`."""
        return readable(self.grade(solution, budget=budget, optimizer=optimizer))

    def grade(self, solution: str, *, budget: float | None = SOLUTION_BUDGET, asked: Sequence[str] = (),
              optimizer: str | None = None) -> Grading:
        """A hand solution graded line by line, as `Problem.grade`, over the graph's quantities."""
        return grade_answer(lambda: self.checker_for(optimizer), self.spec.name, solution, budget, asked)

    def tutor(self, *, decimals: int = 9) -> Tutor:
        """A tutor page (docs/tutor.md) over the graph's worked solution, as `Problem.tutor`: each step's node
        and edges lit in the graph figure; `InputError` past `graph_tutor.MAX_TUTOR_STEPS` steps."""
        return Tutor(graph_tutor_page(self.spec.name, self.derived, lambda: self.solve(decimals=decimals).solution,
                                      lambda: self.checker))

    def _adjoint(self, name: str) -> Symbol:
        """dE/d`name`, the gradient `wrt` names; an unknown name is an error naming wrt."""
        written = text("wrt", name)
        try:
            symbol = read_formula(written, self.checker.resolve)
            return next(adjoint.symbol for adjoint in self.derived.adjoints if adjoint.quantity == symbol)
        except (FormulaError, StopIteration):
            known = [adjoint.quantity.name for adjoint in self.derived.adjoints]
            if len(known) > _LISTED:  # one short line: the closest names, not all
                close = closest_names(written, known)
                listed = (f"closest: {', '.join(close)}; " if close else "") + f"{len(known)} gradients in all"
            else:
                listed = "it has " + ", ".join(known)
            raise InputError(f"wrt: the graph has no gradient for {name!r} ({listed})") from None

    def __getattr__(self, name: str) -> Any:
        """The commands graphs do not answer yet say so, as bad input, in one line."""
        if name in _NOT_YET:
            raise InputError(f"{name}: not available for a computation graph yet (solve, gradients, train and check are)")
        raise AttributeError(name)


_LISTED = 12
"""A graph with more gradients than this names the closest ones when a name is unknown, not all."""
_NOT_YET = {"matrix_solution", "explain", "derivation"}
