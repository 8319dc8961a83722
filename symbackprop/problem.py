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
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import mpmath
from sympy import Symbol

from symbackprop.arguments import (
    MAX_DECIMALS, MAX_WORKED_STEPS, choice, flag, optimizer_choice, text, training_backend, training_steps, whole,
)
from symbackprop.checks.budget import DEFAULT_BUDGET
from symbackprop.checking import SOLUTION_BUDGET, check_answer, grade_answer, readable
from symbackprop.checks.document import (SOURCE_FIELDS, document_names, document_spec, load_document,
                                         reproduce as reproduce_document)
from symbackprop.checks.finite_differences import GradientCheck, check_gradients, require
from symbackprop.checks.matrix_form import EntryCheck, check_matrix_form, check_matrix_optimizer, require_equal
from symbackprop.checks.penalty import PenaltyCheck, check_penalty, require_penalty
from symbackprop.checks.verify import Checker
from symbackprop.derivation import Derivation, derive
from symbackprop.derivation.matrix import MatrixDerivation, derive_matrix
from symbackprop.derivation.optimizers import optimizer_rule
from symbackprop.derivation.model import Gradient
from symbackprop.errors import InputError
from symbackprop.formulas import read_formula
from symbackprop.graph_problem import GraphProblem
from symbackprop.layer_problem import LayerProblem
from symbackprop.network import Network, build_network
from symbackprop.numbers.kinks import kinks
from symbackprop.prairielearn import question_files
from symbackprop.numbers.point import pass_values
from symbackprop.numbers.optimizers import (
    OptimizerProgram, OutputFirstProgram, Trainee, compile_optimizer, network_trainee, train_optimized, worked_steps,
)
from symbackprop.numbers.training import (
    BACKENDS, ORDERS, compile_gradient, compile_training, error_after_update, train as train_network,
)
from symbackprop.results import (
    CheckResult, DerivationView, GradientReport, Grading, Reproduction, Solution, Training, Tutor,
)
from symbackprop.solution import gradient_solution, question_sheet, worked_matrix_solution, worked_solution
from symbackprop.solution.build import DETAILS, fixed_biases_note
from symbackprop.solution.matrix import matrix_optimizer_items, matrix_optimizer_notes
from symbackprop.solution.optimizers import penalty_check_section, steps_solution, with_optimizer_steps
from symbackprop.solution.tutor import opened, tutor_page
from symbackprop.spec import Spec, load_any_spec
from symbackprop.spec.graph import GraphSpec
from symbackprop.spec.load import any_spec_from_dict
from symbackprop.spec.model import OptimizerSpec
from symbackprop.spec.layers import LayersSpec
from symbackprop.spec.exercise import exercise_spec, parse_layers
from symbackprop.spec.graph_exercise import DEFAULT_OPERATIONS, MAX_NODES, graph_exercise_spec, parse_operations
from symbackprop.spec.layer_exercise import layer_exercise_specs
from symbackprop.solution.graph import graph_question_sheet
from symbackprop.solution.layer_sheet import layer_question_sheet
from symbackprop.solution.answer_key import answer_key, asked_quantities
from symbackprop.printers import printer

SpecLike = str | os.PathLike | Mapping | Spec | GraphSpec | LayersSpec | None
"""A spec file's path (str or pathlib.Path), a built-in example's name, a dict with the spec's keys,
a `Spec`, or None (mazur)."""


def load(source: SpecLike = None) -> Spec | GraphSpec | LayersSpec:
    """A validated spec from any `SpecLike`: a layered network's, a computation graph's (one with `nodes`) or a
    layer spec's (layers with a `kind`)."""
    if isinstance(source, (Spec, GraphSpec, LayersSpec)):
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
    """The problem a spec describes: a layered network's `Problem`, a computation graph's `GraphProblem`, or a
    layer spec's `LayerProblem` (a `GraphProblem` over its expansion)."""
    spec = load(source)
    if isinstance(spec, LayersSpec):
        return LayerProblem(spec)
    return GraphProblem(spec) if isinstance(spec, GraphSpec) else Problem(spec)


class Problem:
    """A spec's network, derived lazily and once, answering every command as a method."""

    def __init__(self, source: SpecLike = None) -> None:
        spec = load(source)
        if isinstance(spec, (GraphSpec, LayersSpec)):
            what = "a computation graph (it has nodes)" if isinstance(spec, GraphSpec) else "a layer spec"
            raise InputError(f"spec: {spec.name!r} is {what}: open it with open_problem()")
        self.spec: Spec = spec
        self._compiled: dict[object, object] = {}

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

    @property
    def checker(self) -> Checker:
        """The derivation's quantities, and those of the spec's optimizer's steps (m_w5<1>, mhat_w5<2>, w_5<3>,
        E_total<1>) as `solve --steps` prints them, each step defined when a name of it is first read."""
        return self.checker_for(None)

    def checker_for(self, optimizer: str | None) -> Checker:
        """`checker` with the steps of the optimizer `optimizer` names instead (None: the spec's), its settings
        as `train` takes them; one checker per optimizer, made the first time it is asked for."""
        chosen = self.optimizer(optimizer)
        if chosen not in self._checkers:
            self._checkers[chosen] = Checker(self.derived, lambda: self.after_update, chosen, MAX_WORKED_STEPS)
        return self._checkers[chosen]

    @cached_property
    def _checkers(self) -> dict[OptimizerSpec, Checker]:
        """The checkers made so far, by optimizer."""
        return {}

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
                penalty_check_section(self.trainee, self.penalty_checks),))
        if steps:
            solution = with_optimizer_steps(solution, self.trainee, self._worked_steps(chosen, steps), chosen.kind,
                                            fixed_biases_note(self.spec))
        return Solution(solution)

    def tutor(self, *, decimals: int = 9) -> Tutor:
        """A tutor page (docs/tutor.md): the worked solution's steps to answer one at a time, each typed number
        judged at the decimals typed, a wrong one met by the mistakes the engine worked out for that step."""
        return Tutor(opened(tutor_page(self.spec.name, self.solve(decimals=decimals).solution, self.checker),
                            self.derived))

    def optimizer_steps(self, steps: int = 2, *, optimizer: str | None = None, decimals: int = 9) -> Solution:
        """The first `steps` steps of the spec's optimizer (or `optimizer`'s) worked with numbers, alone."""
        steps = whole("steps", steps, 1, MAX_WORKED_STEPS)
        decimals = whole("decimals", decimals, 0, MAX_DECIMALS)
        chosen = self.optimizer(optimizer)
        return Solution(steps_solution(self.trainee, self.spec.name, self._worked_steps(chosen, steps), chosen.kind,
                                       decimals, fixed_biases_note(self.spec)))

    @cached_property
    def trainee(self) -> Trainee:
        """The parameters as an optimizer trains them: which are trained and penalized, and the numbers it reads."""
        return network_trainee(self.derived)

    def _worked_steps(self, optimizer: OptimizerSpec, steps: int):
        """The optimizer's first `steps` steps evaluated exactly, line by line, with the compiled exact gradient."""
        if "gradient" not in self._compiled:
            self._compiled["gradient"] = compile_gradient(self.derived, "mpmath", outputs=True)
        return worked_steps(self.trainee, optimizer, steps, self._compiled["gradient"])

    def matrix_solution(self, *, decimals: int = 9, checks: bool = True, steps: int | None = None,
                        optimizer: str | None = None) -> Solution:
        """The worked solution in matrix form, one line per layer quantity, each with explicit matrices of
        numbers. With `checks`, every entry is first proved equal to the scalar derivation's quantity and
        every gradient is checked by finite differences (a failure raises `CheckFailure`). `steps`, `optimizer`:
        as `solve`, the optimizer's steps worked per weight matrix and bias (with `checks`, each entry of its
        lines proved equal to the scalar rule's line for that entry's parameter)."""
        decimals = whole("decimals", decimals, 0, MAX_DECIMALS)
        chosen = self.optimizer(optimizer)
        steps = (0 if chosen.kind == "sgd" else 1) if steps is None else whole("steps", steps, 0, MAX_WORKED_STEPS)
        proof = found = None
        if flag("checks", checks):
            proof = self.matrix_proof
            require_equal(proof)
            found = self.finite_difference_checks()
        solution = worked_matrix_solution(self.derived, decimals, found, proof, self.matrix)
        if steps:
            entries = check_matrix_optimizer(self.derived, self.matrix, chosen) if checks else None
            if entries is not None:
                require_equal(entries)
            solution = with_optimizer_steps(solution, self.trainee, self._worked_steps(chosen, steps), chosen.kind,
                                            (*fixed_biases_note(self.spec), *matrix_optimizer_notes(entries)),
                                            matrix_optimizer_items(self.derived, self.matrix, optimizer_rule(chosen)))
        return Solution(solution)

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
        steps, every, recorded = training_steps(steps, every, curve, progress)
        order = choice("order", order, ORDERS)
        backend = _backend(backend, fast, order)
        chosen = self.optimizer(optimizer)
        if chosen.kind == "sgd":
            result = train_network(self.derived, steps, order, backend, progress, every=recorded,
                                   compiled=self._loop(order, backend))
        else:
            result = train_optimized(self._optimizer_program(chosen, backend, order), steps, progress, every=recorded)
        return Training.of(result, self.network, every, chosen.kind)

    def optimizer(self, kind: str | None = None) -> OptimizerSpec:
        """The spec's optimizer, or the one `kind` names (with the spec's settings if it is the spec's kind)."""
        return optimizer_choice(self.spec.optimizer, kind)

    def _optimizer_program(self, optimizer: OptimizerSpec, backend: str,
                           order: str) -> OptimizerProgram | OutputFirstProgram:
        """`optimizer`'s compiled program on `backend` in `order`, compiled the first time."""
        if (optimizer, backend, order) not in self._compiled:
            self._compiled[optimizer, backend, order] = compile_optimizer(self.derived, optimizer, backend, order)
        return self._compiled[optimizer, backend, order]

    def _loop(self, order: str, backend: str):
        """The training loop for `order` and `backend`, compiled the first time it is asked for."""
        if (order, backend) not in self._compiled:
            matrix = self.matrix if backend == "numpy" else None
            self._compiled[order, backend] = compile_training(self.derived, order, backend, matrix)
        return self._compiled[order, backend]

    def check(self, *, formula: str | None = None, value: str | None = None, wrt: str | None = None,
              quantity: str | None = None, budget: float | None = DEFAULT_BUDGET,
              hand_round: str | None = None, optimizer: str | None = None) -> CheckResult:
        """Is a hand-derived formula or number right? `quantity` or `wrt` names what it should equal;
        a formula may also be written 'quantity = formula', or as a chain 'quantity = formula = numbers = value'
        whose every part is judged. Give a formula or a value, and at most one of `wrt` and `quantity`.
        `hand_round` ('outputs=3,deltas=4', '4sf', ...: numbers/rounding.py) says how the intermediates were
        rounded by hand. `optimizer` names the optimizer whose steps' quantities (`mhat_w5<2>`) are meant, as
        `solve` takes it (default: the spec's). A check that cannot decide within `budget` seconds (None: no limit;
        the first question asked of a problem spends some of it deriving the network) is an `InputError`."""
        return check_answer(lambda: self.checker_for(optimizer), lambda name: self._gradient("wrt", name).symbol,
                            formula, value, wrt, quantity, budget, hand_round)

    def check_solution(self, solution: str, *, budget: float | None = SOLUTION_BUDGET,
                       optimizer: str | None = None) -> Grading:
        """Every line of a hand solution checked (see `grade`); a line that cannot be read is an `InputError`
        naming it, as every bad input is."""
        return readable(self.grade(solution, budget=budget, optimizer=optimizer))

    def grade(self, solution: str, *, budget: float | None = SOLUTION_BUDGET, asked: Sequence[str] = (),
              optimizer: str | None = None) -> Grading:
        """A hand solution graded line by line: one step per line ('name = formula = numbers = value'),
        the first wrong line diagnosed, later lines graded with the student's own earlier values carried
        forward. Lines that cannot be read are reported as `format_errors`, as PrairieLearn expects, and not
        graded. `asked`: the names of the quantities a question asks (`Exercise.asked()`), each one no line
        answers counted as a line scored 0. A solution that cannot be graded within `budget` seconds is an
        `InputError`."""
        return grade_answer(lambda: self.checker_for(optimizer), self.spec.name, solution, budget, asked)

    def _gradient(self, argument: str, name: str) -> Gradient:
        """The gradient of the parameter `name` ('w5', 'w_5', 'w₅', 'w_{5}'); an unknown name is an error naming
        `argument`."""
        try:
            return self.derived.gradient(text(argument, name).replace("_", ""))
        except KeyError:
            pass
        parameters = {p.symbol: p.name for p in self.network.parameters}
        try:
            return self.derived.gradient(parameters[read_formula(name, Symbol)])
        except (InputError, KeyError):
            known = ", ".join(p.name for p in self.network.parameters)
            raise InputError(f"{argument}: the network has no parameter {name!r} (it has {known})") from None


@dataclass(frozen=True, eq=False)
class Exercise:
    """A fresh network (or computation graph, or layer spec) drawn from a seed: its question sheet, answer key and
    spec."""

    seed: int
    data: dict
    """The spec as JSON-ready data."""
    problem: Problem | GraphProblem
    options: dict
    """The arguments it was drawn with besides the seed: a network's layers, activation and loss, a graph's
    nodes and ops, or a layer exercise's layer kind."""
    drawn_by: str = "exercise"
    """The API function that draws it again from the seed and `options` (a PrairieLearn question's server.py
    calls it): exercise, graph_exercise or layer_exercise."""

    def sheet(self) -> Solution:
        """The given numbers, then every quantity to find."""
        title = f"Exercise {self.seed}"
        if isinstance(self.problem, LayerProblem):
            return Solution(layer_question_sheet(self.problem.layered, self.problem.derived, self.problem.layer_forms,
                                                 title))
        if isinstance(self.problem, GraphProblem):
            return Solution(graph_question_sheet(self.problem.derived, title))
        return Solution(question_sheet(self.problem.derived, title))

    def answers(self) -> Solution:
        """The full worked solution, checked by finite differences."""
        return self.problem.solve()

    def key(self) -> Solution:
        """The answer key: each quantity the sheet asks, in its order, as the worked solution's own line for it (a
        layer's layer-level form, a network's δ form); what a PrairieLearn question shows as its answer."""
        return Solution(answer_key(self.sheet().record, self.answers().record, f"Answers to exercise {self.seed}"))

    def asked(self) -> list[str]:
        """The quantities the sheet asks, in its order, as ASCII names (`dE/dK_1`) that `grade`'s `asked` reads."""
        names = printer("text", ascii=True)
        return [names.formula(quantity) for quantity in asked_quantities(self.sheet().record)]

    def spec_text(self) -> str:
        """The spec as a JSON file's text, for `solve`, `check` and `train`."""
        return json.dumps(self.data, indent=2) + "\n"

    def prairielearn(self) -> dict[str, str]:
        """A PrairieLearn question for this exercise (a network's, a graph's or a layer exercise's), by file name:
        info.json, question.html, server.py."""
        return question_files(self)


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
    options = {"layers": ",".join(str(size) for size in sizes), "activation": activation, "loss": loss}
    return Exercise(seed, data, Problem(data), options)


def graph_exercise(seed: int, *, nodes: int = 6, ops: str = DEFAULT_OPERATIONS) -> Exercise:
    """A new computation graph with fresh exact values: same seed, same exercise. `nodes`: how many
    intermediates (the last is the loss, f); `ops`: the mix of operations, as "+,*,exp,tanh,sigma"
    (also -, /, log, sqrt)."""
    seed = whole("seed", seed, 0)
    data = graph_exercise_spec(whole("nodes", nodes, 1, MAX_NODES), parse_operations(text("ops", ops)), seed)
    return Exercise(seed, data, GraphProblem(data), {"nodes": nodes, "ops": ops}, "graph_exercise")


LAYER_ATTEMPTS = 50
"""Draws of a layer exercise tried for one whose values hit no kink (a tie in a max pooling's window)."""


def layer_exercise(seed: int, layer: str) -> Exercise:
    """A small network about one layer kind (`layer`: conv1d, conv2d, maxpool, avgpool, rnn, lstm, gru, attention,
    batchnorm, layernorm, dropout, embedding, residual) with fresh exact decimals: same seed, same exercise. The
    first draw of the seed's stream whose values hit no kink is taken."""
    seed = whole("seed", seed, 0)
    for _, data in zip(range(LAYER_ATTEMPTS), layer_exercise_specs(text("layer", layer), seed)):
        problem = LayerProblem(data)
        if not problem.kinks:
            return Exercise(seed, data, problem, {"layer": layer}, "layer_exercise")
    raise InputError(f"seed: no draw of a {layer} exercise without a kink in {LAYER_ATTEMPTS} draws; try another seed")


def reproduce(document: str = "mazur") -> Reproduction:
    """Every number and formula a published source prints, against the engine (`sources()` lists them)."""
    data = load_document(text("document", document))
    rows = reproduce_document(open_problem(document_spec(data)).derived, data)
    return Reproduction(rows, {key: data[key] for key in SOURCE_FIELDS})


def sources() -> dict[str, str]:
    """Every published source `reproduce` checks: its name and its title."""
    return {name: load_document(name)["title"] for name in document_names()}


def _places(decimals: int, hand_round: int | None, detail: str) -> tuple[int, int | None, str]:
    """A worked solution's options, checked."""
    return (whole("decimals", decimals, 0, MAX_DECIMALS),
            None if hand_round is None else whole("hand_round", hand_round, 0, MAX_DECIMALS),
            choice("detail", detail, DETAILS))


def _backend(backend: str | None, fast: bool, order: str) -> str:
    """The one mapping from the options to a backend: `backend` if given, else "math" with `fast`, else "mpmath"."""
    backend = training_backend(backend, fast, BACKENDS)
    if backend == "numpy":
        if order != "simultaneous":
            raise InputError(f"backend: the matrix form updates in the simultaneous order only, not {order}")
        if importlib.util.find_spec("numpy") is None:
            raise InputError("backend: needs numpy: pip install 'symbackprop[numpy]'")
    return backend
