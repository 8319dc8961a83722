"""One network and everything the engine derives from it, each derived at most once.

A `Problem` is made from any spec source; its network, derivation, values, finite-difference
checks and matrix form are worked out the first time something needs them and kept, and every
command is a method over them. Compiled training loops are kept too, so training the same
problem again does not compile again. Bad arguments are `InputError`s naming the argument.

    >>> problem = Problem("mazur")
    >>> print(problem.explain("w5").render("text").splitlines()[0])
    Gradient for w₅
    >>> problem.explain("w9")
    Traceback (most recent call last):
    ...
    symbackprop.errors.InputError: parameter: the network has no parameter 'w9' (it has w1, w2, w3, w4, w5, w6, w7, w8, b1, b2)
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import mpmath

from symbackprop.arguments import MAX_DECIMALS, MAX_STEPS, choice, flag, text, whole
from symbackprop.checks.budget import DEFAULT_BUDGET, MAX_BUDGET, within_budget
from symbackprop.checks.document import load_document, reproduce as reproduce_document
from symbackprop.checks.finite_differences import GradientCheck, check_gradients, require
from symbackprop.checks.matrix_form import EntryCheck, check_matrix_form, require_equal
from symbackprop.checks.penalty import PenaltyCheck, check_penalty, require_penalty
from symbackprop.checks.verify import Checker
from symbackprop.derivation import Derivation, derive
from symbackprop.derivation.matrix import MatrixDerivation, derive_matrix
from symbackprop.derivation.optimizers import first_step
from symbackprop.derivation.model import Gradient
from symbackprop.errors import InputError
from symbackprop.formulas import read_equation, read_formula
from symbackprop.graph_problem import GraphProblem
from symbackprop.network import Network, build_network
from symbackprop.numbers.kinks import kinks
from symbackprop.numbers.point import pass_values
from symbackprop.numbers.optimizers import OptimizerProgram, compile_optimizer, train_optimized, worked_steps
from symbackprop.numbers.training import (
    BACKENDS, ORDERS, compile_training, error_after_update, train as train_network,
)
from symbackprop.results import (
    CheckResult, DerivationView, GradientReport, Reproduction, Solution, Training, Tutor,
)
from symbackprop.solution import gradient_solution, question_sheet, worked_matrix_solution, worked_solution
from symbackprop.solution.build import DETAILS
from symbackprop.solution.optimizers import penalty_check_section, steps_solution, with_optimizer_steps
from symbackprop.solution.tutor import tutor_page
from symbackprop.spec import Spec, load_any_spec
from symbackprop.spec.graph import GraphSpec
from symbackprop.spec.load import any_spec_from_dict, optimizer_spec
from symbackprop.spec.model import OptimizerSpec
from symbackprop.spec.vocabulary import OPTIMIZERS
from symbackprop.spec.exact import exact_number
from symbackprop.spec.exercise import exercise_spec, parse_layers

SpecLike = str | os.PathLike | Mapping | Spec | GraphSpec | None
"""A spec file's path (str or pathlib.Path), a built-in example's name, a dict with the spec's keys,
a `Spec`, or None (mazur)."""
CURVE_POINTS = 1000
"""About how many steps a training run records for a loss curve."""
MAX_WORKED_STEPS = 100
"""The most optimizer steps a worked solution works out line by line."""


def load(source: SpecLike = None) -> Spec | GraphSpec:
    """A validated spec from any `SpecLike`: a layered network's, or a computation graph's (one with `nodes`)."""
    if isinstance(source, (Spec, GraphSpec)):
        return source
    if isinstance(source, Mapping):
        return any_spec_from_dict(dict(source))
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if source is None or isinstance(source, str):
        return load_any_spec(source)
    raise InputError(f"source: expected a spec file's path, a built-in example's name, a dict or a Spec, "
                     f"got {type(source).__name__}")


def open_problem(source: SpecLike = None) -> Problem | GraphProblem:
    """The problem a spec describes: a layered network's `Problem`, or a computation graph's `GraphProblem`."""
    spec = load(source)
    return GraphProblem(spec) if isinstance(spec, GraphSpec) else Problem(spec)


class Problem:
    """A spec's network, derived lazily and once, answering every command as a method."""

    def __init__(self, source: SpecLike = None) -> None:
        spec = load(source)
        if isinstance(spec, GraphSpec):
            raise InputError(f"spec: {spec.name!r} is a computation graph (it has nodes): open it with "
                             "open_problem() or GraphProblem()")
        self.spec: Spec = spec
        self._compiled: dict[tuple[str | OptimizerSpec, str], object] = {}

    def __repr__(self) -> str:
        return f"Problem({self.spec.name!r})"

    @cached_property
    def network(self) -> Network:
        """The network as symbols with local expressions."""
        return build_network(self.spec)

    @cached_property
    def derived(self) -> Derivation:
        """Every gradient derived by the chain rule, as records."""
        return derive(self.network)

    @cached_property
    def values(self) -> dict:
        """Every quantity of the forward and backward pass at the spec's point, at 50 significant digits."""
        return pass_values(self.derived)

    @cached_property
    def gradient_checks(self) -> list[GradientCheck]:
        """Both finite-difference checks of every gradient, passed or not."""
        return check_gradients(self.derived)

    @cached_property
    def penalty_checks(self) -> list[PenaltyCheck]:
        """The spec's weight penalty checked: each objective gradient against finite differences of E_total + R."""
        return check_penalty(self.derived)

    @cached_property
    def matrix(self) -> MatrixDerivation:
        """Backpropagation written once per layer (`InputError` for an activation it cannot write, or a penalty)."""
        if self.spec.regularization is not None:
            raise InputError("regularization: the matrix form (--matrix, --numpy) does not add a weight penalty; "
                             "drop the spec's regularization or use the scalar form")
        return derive_matrix(self.spec)

    @cached_property
    def matrix_proof(self) -> list[EntryCheck]:
        """Every entry of the matrix form against the scalar derivation."""
        return check_matrix_form(self.derived, self.matrix)

    @cached_property
    def after_update(self) -> dict[str, mpmath.mpf]:
        """E_total after one update in each order, by the compiled loops `train` keeps."""
        return {order: error_after_update(self.derived, order, self._loop(order, "mpmath")) for order in ORDERS}

    @cached_property
    def checker(self) -> Checker:
        """The derivation's quantities, and the first step of the spec's optimizer (m_w5<1>, mhat_w5<1>, w_5<1>)
        unless it is sgd, whose step is the derivation's update w_5^+."""
        optimizer = self.spec.optimizer
        return Checker(self.derived, first_step(self.derived, optimizer) if optimizer.kind != "sgd" else ())

    def solve(self, *, decimals: int = 9, hand_round: int | None = None, detail: str = "brief",
              checks: bool = True, steps: int | None = None, optimizer: str | None = None) -> Solution:
        """The whole worked solution; with `checks`, every gradient is checked by finite differences first.
        `steps`: the optimizer's first steps worked with numbers at the end (default: one for an optimizer
        other than sgd, none for sgd); `optimizer` names another than the spec's (see `train`)."""
        decimals, hand_round, detail = _places(decimals, hand_round, detail)
        chosen = self.optimizer(optimizer)
        steps = (0 if chosen.kind == "sgd" else 1) if steps is None else whole("steps", steps, 0, MAX_WORKED_STEPS)
        found = self.finite_difference_checks() if flag("checks", checks) else None
        solution = worked_solution(self.derived, decimals, hand_round, found, detail, self.after_update)
        if checks and self.spec.regularization is not None:
            require_penalty(self.penalty_checks)
            solution = replace(solution, sections=solution.sections + (
                penalty_check_section(self.derived, self.penalty_checks),))
        if steps:
            solution = with_optimizer_steps(solution, self.derived, worked_steps(self.derived, chosen, steps),
                                            chosen.kind)
        return Solution(solution)

    def tutor(self, *, decimals: int = 9) -> Tutor:
        """A tutor page (docs/tutor.md): the worked solution's steps to answer one at a time, each typed number
        judged at the decimals typed, a wrong one met by the mistakes the engine worked out for that step."""
        return Tutor(tutor_page(self.spec.name, self.solve(decimals=decimals).solution, self.checker))

    def optimizer_steps(self, steps: int = 2, *, optimizer: str | None = None, decimals: int = 9) -> Solution:
        """The first `steps` steps of the spec's optimizer (or `optimizer`'s) worked with numbers, alone."""
        steps = whole("steps", steps, 1, MAX_WORKED_STEPS)
        decimals = whole("decimals", decimals, 0, MAX_DECIMALS)
        chosen = self.optimizer(optimizer)
        return Solution(steps_solution(self.derived, worked_steps(self.derived, chosen, steps), chosen.kind, decimals))

    def matrix_solution(self, *, decimals: int = 9, checks: bool = True) -> Solution:
        """The worked solution in matrix form, one line per layer quantity, each with explicit matrices of
        numbers. With `checks`, every entry is first proved equal to the scalar derivation's quantity and
        every gradient is checked by finite differences (a failure raises `CheckFailure`)."""
        decimals = whole("decimals", decimals, 0, MAX_DECIMALS)
        proof = found = None
        if flag("checks", checks):
            proof = self.matrix_proof
            require_equal(proof)
            found = self.finite_difference_checks()
        return Solution(worked_matrix_solution(self.derived, decimals, found, proof, self.matrix))

    def explain(self, parameter: str, *, decimals: int = 9, hand_round: int | None = None,
                detail: str = "full") -> Solution:
        """The worked solution of one gradient, e.g. explain("w5"), every rule shown by default."""
        decimals, hand_round, detail = _places(decimals, hand_round, detail)
        name = self._gradient("parameter", parameter).parameter.name
        return Solution(gradient_solution(self.derived, name, decimals, hand_round, detail))

    def derivation(self) -> DerivationView:
        """Every gradient derived by the chain rule; displays as the chain rule and delta-rule forms."""
        return DerivationView(self.derived)

    def gradients(self) -> dict[str, mpmath.mpf]:
        """dE_total/dp for every parameter p at the spec's point, at 50 significant digits."""
        return {g.parameter.name: self.values[g.symbol] for g in self.derived.gradients}

    def finite_difference_checks(self) -> list[GradientCheck]:
        """Both finite-difference checks of every gradient; raises `CheckFailure` if one disagrees."""
        require(self.gradient_checks)
        return self.gradient_checks

    def gradient_report(self) -> GradientReport:
        """E_total and every gradient beside its checks, as the `gradients` command prints it;
        raises `CheckFailure` if a check disagrees."""
        checks = self.finite_difference_checks()
        return GradientReport(self.derived, self.values[self.network.total], checks,
                              kinks(self.network, self.values))

    def train(self, steps: int = 1, *, order: str = "simultaneous", fast: bool = False, every: int | None = None,
              backend: str | None = None, curve: bool = False,
              progress: Callable[[int], None] | None = None, optimizer: str | None = None) -> Training:
        """`steps` rounds of gradient descent (exact path, or double precision with `fast`), or of the spec's
        optimizer (`optimizer` names another: sgd, momentum, nesterov, rmsprop, adam, adamw, with the spec's
        settings when it names the same kind, else the defaults).

        E_total and the outputs are recorded in `history` every `every` steps (default: a tenth of the
        steps) and after the last; with `curve`, also at about a thousand steps for a loss curve.
        `backend` names the path instead of `fast`: "mpmath" (exact), "math" (double), or "numpy"
        (double, by the per-layer matrix form, for large networks; simultaneous order only).
        `progress(k)` is called now and then with the steps done. The compiled loop is kept: training
        this problem again with the same order and backend does not compile again.
        """
        steps = whole("steps", steps, 1, MAX_STEPS)
        order = choice("order", order, ORDERS)
        backend = _backend(backend, fast, order)
        every = max(steps // 10, 1) if every is None else whole("every", every, 1)
        recorded = math.gcd(every, max(steps // CURVE_POINTS, 1)) if flag("curve", curve) else every
        if progress is not None and not callable(progress):
            raise InputError(f"progress: expected a function of the steps done, got {type(progress).__name__}")
        chosen = self.optimizer(optimizer)
        if chosen.kind == "sgd":
            result = train_network(self.derived, steps, order, backend, progress, every=recorded,
                                   compiled=self._loop(order, backend))
        else:
            if order != "simultaneous":
                raise InputError(f"order: the optimizer {chosen.kind!r} updates in the simultaneous order only")
            result = train_optimized(self.derived, steps, self._optimizer_program(chosen, backend), backend,
                                     progress, every=recorded)
        return Training.of(result, self.network, every, chosen.kind)

    def optimizer(self, kind: str | None = None) -> OptimizerSpec:
        """The spec's optimizer, or the one `kind` names (with the spec's settings if it is the spec's kind)."""
        if kind is None or kind == self.spec.optimizer.kind:
            return self.spec.optimizer
        return optimizer_spec(choice("optimizer", kind, tuple(OPTIMIZERS)), "optimizer")

    def _optimizer_program(self, optimizer: OptimizerSpec, backend: str) -> OptimizerProgram:
        """The compiled gradient and updates of `optimizer` on `backend`, compiled the first time."""
        if (optimizer, backend) not in self._compiled:
            self._compiled[optimizer, backend] = compile_optimizer(self.derived, optimizer, backend)
        return self._compiled[optimizer, backend]

    def _loop(self, order: str, backend: str):
        """The training loop for `order` and `backend`, compiled the first time it is asked for."""
        if (order, backend) not in self._compiled:
            matrix = self.matrix if backend == "numpy" else None
            self._compiled[order, backend] = compile_training(self.derived, order, backend, matrix)
        return self._compiled[order, backend]

    def check(self, *, formula: str | None = None, value: str | None = None, wrt: str | None = None,
              quantity: str | None = None, budget: float | None = DEFAULT_BUDGET) -> CheckResult:
        """Is a hand-derived formula or number right? `quantity` or `wrt` names what it should equal;
        a formula may also be written 'quantity = formula'. Give a formula or a value, and at most one
        of `wrt` and `quantity`. A check that cannot decide within `budget` seconds (None: no limit;
        the first question asked of a problem spends some of it deriving the network) is an `InputError`."""
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))
                                   or not 0 < budget <= MAX_BUDGET):
            raise InputError(f"budget: expected seconds from 0.001 to {MAX_BUDGET:g} or None, got {budget!r}")
        return within_budget(budget, self._check, formula, value, wrt, quantity)

    def _check(self, formula: str | None, value: str | None, wrt: str | None, quantity: str | None) -> CheckResult:
        if formula is not None and value is not None:
            raise InputError("value: give a formula or a value to check, not both")
        if wrt is not None and quantity is not None:
            raise InputError("quantity: name the quantity by wrt or by quantity, not both")
        checker = self.checker
        target = None
        if wrt is not None:
            target = self._gradient("wrt", wrt).symbol
        elif quantity is not None:
            target = checker.quantity(read_formula(text("quantity", quantity), checker.resolve))
        if value is not None:
            if target is None:
                raise InputError("value: say which quantity it is, with quantity or wrt")
            exact_number(text("value", value), "value")
            return CheckResult(checker.check_value(value.strip(), target), value.strip())
        if formula is None:
            raise InputError("formula: give a formula or a value to check")
        sides = read_equation(text("formula", formula), checker.resolve)
        if target is None:
            if len(sides) != 2:
                raise InputError("formula: write 'quantity = formula', or name the quantity with quantity or wrt")
            target = checker.quantity(sides[0])
        return CheckResult(checker.check_formula(sides[-1], target), " ".join(formula.split()))

    def _gradient(self, argument: str, name: str) -> Gradient:
        """The gradient of the parameter `name` ('w5' or 'w_5'); an unknown name is an error naming `argument`."""
        try:
            return self.derived.gradient(text(argument, name).replace("_", ""))
        except KeyError:
            known = ", ".join(p.name for p in self.network.parameters)
            raise InputError(f"{argument}: the network has no parameter {name!r} (it has {known})") from None


@dataclass(frozen=True, eq=False)
class Exercise:
    """A fresh network drawn from a seed: its question sheet, answer key and spec."""

    seed: int
    data: dict
    """The spec as JSON-ready data."""
    problem: Problem

    def sheet(self) -> Solution:
        """The given numbers, then every quantity to find."""
        return Solution(question_sheet(self.problem.derived, f"Exercise {self.seed}"))

    def answers(self) -> Solution:
        """The full worked solution, checked by finite differences."""
        return self.problem.solve()

    def spec_text(self) -> str:
        """The spec as a JSON file's text, for `solve`, `check` and `train`."""
        return json.dumps(self.data, indent=2) + "\n"


def exercise(seed: int, *, layers: str | Sequence[int] = "2,2,2", activation: str = "sigmoid",
             loss: str = "half_squared_error") -> Exercise:
    """A new network with fresh, sensible numbers: same seed, same exercise. `layers`: inputs, then each
    layer's size, as "2,3,1" or [2, 3, 1]."""
    seed = whole("seed", seed, 0)
    if isinstance(layers, str):
        sizes = parse_layers(layers)
    elif isinstance(layers, Sequence):
        sizes = parse_layers(",".join(str(whole("layers", size, 1)) for size in layers))
    else:
        raise InputError(f"layers: expected sizes like '2,2,2' or [2, 2, 2], got {type(layers).__name__}")
    data = exercise_spec(sizes, text("activation", activation), text("loss", loss), seed)
    return Exercise(seed, data, Problem(data))


def reproduce(document: str = "mazur") -> Reproduction:
    """Every number and formula the document prints, against the engine."""
    data = load_document(text("document", document))
    return Reproduction(reproduce_document(Problem(data["example"]).derived, data), data["title"])


def _places(decimals: int, hand_round: int | None, detail: str) -> tuple[int, int | None, str]:
    """A worked solution's options, checked."""
    return (whole("decimals", decimals, 0, MAX_DECIMALS),
            None if hand_round is None else whole("hand_round", hand_round, 0, MAX_DECIMALS),
            choice("detail", detail, DETAILS))


def _backend(backend: str | None, fast: bool, order: str) -> str:
    """The one mapping from the options to a backend: `backend` if given, else "math" with `fast`, else "mpmath"."""
    if backend is None:
        return "math" if flag("fast", fast) else "mpmath"
    backend = choice("backend", backend, BACKENDS)
    if flag("fast", fast) and backend != "math":
        raise InputError(f"fast: fast=True means backend 'math', not {backend!r}; give one of them")
    if backend == "numpy":
        if order != "simultaneous":
            raise InputError(f"backend: the matrix form updates in the simultaneous order only, not {order}")
        if importlib.util.find_spec("numpy") is None:
            raise InputError("backend: needs numpy: pip install 'symbackprop[numpy]'")
    return backend
