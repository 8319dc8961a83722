"""An optimizer's rule evaluated: exactly (mpmath) and compiled (mpmath and double), step by step.

What an optimizer trains is a `Trainee`: parameters with a gradient function, from a layered network
(`network_trainee`) or a computation graph (`numbers.graph_training.graph_trainee`). `compile_rule` turns an
`OptimizerRule` (derivation/optimizers.py) into one generated function of a parameter, its gradient, its state
and the step number (for mpmath, doubles, or numpy arrays entry by entry: `numbers.fast_optimizers`);
`OptimizerProgram` runs it beside one compiled gradient call per step (the simultaneous
order). The output-first order interleaves each layer's lines of the rule with the backward pass
(`output_first_sequence`), one generated function per step (`OutputFirstProgram`). `train_optimized` runs
either, recording E_total and the outputs at the same steps as `train`. `worked_steps` and
`worked_output_first` give the exact value of every line of every step, uncompiled, for a worked solution and
for the tests that hold the compiled paths to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass

import mpmath
from sympy import Expr, Rational, Symbol

from symbackprop.derivation import Derivation
from symbackprop.derivation.optimizers import (
    GRADIENT, STEP, THETA, OptimizerRule, Penalty, after, at_step, gradient_at, instance, optimizer_rule,
    penalized, penalty, renamed, state_at,
)
from symbackprop.errors import InputError
from symbackprop.numbers.codegen import SourceWriter
from symbackprop.numbers.evaluate import PRECISION, evaluate, evaluate_definitions, to_mpf
from symbackprop.numbers.point import working_precision
from symbackprop.numbers.stable import finite_doubles
from symbackprop.network.symbols import LEARNING_RATE, PENALTY_STRENGTH
from symbackprop.numbers.training import (
    BACKEND_FUNCTIONS, PROGRESS_CALLS, TrainingResult, backward_sequence, compile_function, compile_gradient,
    require_finite_run, require_recordable,
)
from symbackprop.spec.model import OptimizerSpec

OPTIMIZER_BACKENDS = ("mpmath", "math")


def constants(rule: OptimizerRule, found: Penalty | None, learning_rate: Rational) -> dict[Symbol, Rational]:
    """Every number a rule reads besides the parameter, gradient, state and step: eta, its settings, lambda."""
    values = {LEARNING_RATE: learning_rate, **dict(rule.settings)}
    if found is not None:
        values[PENALTY_STRENGTH] = found.strength
    return values


def compile_rule(rule: OptimizerRule, numbers: Mapping[Symbol, Rational], backend: str = "mpmath") -> Callable:
    """(theta, g, *state, t) -> (theta^+, *state^+): the rule's lines as one generated function, with
    `numbers` (eta, the settings, lambda) written in as constants, exact on the mpmath path. On the numpy
    backend theta, g and the state are arrays of one shape, and the function applies the rule to each entry:
    its arithmetic is numpy's, and each function of the rule (sign, ...) numpy's ufunc of that name."""
    lines = [(q, renamed(e, dict(numbers))) for q, e in rule.lines]
    arguments = [THETA, GRADIENT, *rule.state, STEP]
    writer = SourceWriter(lines, arguments, float_literals=backend != "mpmath")
    results = [after(THETA), *rule.new_state]
    body = writer.body(results, 4, results_in_place=True)
    returned = ", ".join(writer.expression(r) for r in results)
    names = ", ".join(writer.name(a) for a in arguments)
    constants_line = "".join(f"{n}, " for n in [*writer.numbers.values(), *sorted(writer.functions)])
    source = (f"def update({names}):\n"
              + (f"    {constants_line}= _locals\n" if constants_line else "")
              + body + f"    return {returned},\n")
    with mpmath.workdps(PRECISION):
        exact = [evaluate(n, {}) for n in writer.numbers]
    numbers_used = exact if backend == "mpmath" else [float(x) for x in exact]
    functions = [_rule_function(backend, f) for f in sorted(writer.functions)]
    namespace: dict[str, object] = {"_locals": (*numbers_used, *functions)}
    exec(compile(source, f"<symbackprop {rule.kind}>", "exec"), namespace)  # noqa: S102
    return namespace["update"]


def _rule_function(backend: str, name: str) -> Callable:
    """The function `name` (codegen.FUNCTIONS) a rule compiled for `backend` calls: numpy's ufunc for arrays."""
    if backend == "numpy":
        import numpy  # optional: only the numpy fast path compiles for it
        return getattr(numpy, name)
    return BACKEND_FUNCTIONS[backend][name]


def compile_rules(optimizer: OptimizerSpec, found: Penalty | None, learning_rate: Rational,
                  backend: str) -> dict[bool, Callable]:
    """The optimizer's update compiled once per kind of parameter: {False: without the penalty, True: with
    `found`'s derivative joining the gradient} (the same function twice without a penalty)."""
    plain, with_penalty, numbers = _rules(optimizer, found, learning_rate)
    compiled = {False: compile_rule(plain, numbers, backend)}
    compiled[True] = compile_rule(with_penalty, numbers, backend) if found is not None else compiled[False]
    return compiled


@dataclass(frozen=True)
class Trainee:
    """What an optimizer trains, whatever holds it (a layered network, a computation graph): every parameter
    its gradient function reads, in that order, whether each is trained and penalized, and the numbers the
    rules read. Nothing else of the model is needed to train it or to work its steps."""

    names: tuple[str, ...]
    """Each parameter's name, as a training result reports it."""
    symbols: tuple[Symbol, ...]
    start: tuple[Rational, ...]
    """The spec's value of each parameter."""
    trained: tuple[bool, ...]
    """Whether the optimizer updates it (a fixed bias is not)."""
    penalized: tuple[bool, ...]
    """Whether the penalty's derivative joins its gradient."""
    learning_rate: Rational
    penalty: Penalty | None
    digits: int
    """The digits the exact path carries (`numbers.point.working_precision`)."""
    total: Symbol
    """The loss's symbol (E_total), named at each step in a worked solution."""
    gradients: tuple[Symbol, ...]
    """dE/dθ for each parameter, as a worked step names the gradient it reads."""
    penalty_covers: str = "weights"
    """What the penalty covers, as a worked solution says it: weights, weights and biases, trainable names."""


def network_trainee(derivation: Derivation) -> Trainee:
    """A layered network's parameters as an optimizer trains them: the spec's trained parameters and penalty."""
    network = derivation.network
    found = penalty(network.spec.regularization)
    trainable = set(network.trainable)
    gradients = {g.parameter.name: g.symbol for g in derivation.gradients}
    parameters = network.parameters
    return Trainee(tuple(p.name for p in parameters), tuple(p.symbol for p in parameters),
                   tuple(p.value for p in parameters), tuple(p in trainable for p in parameters),
                   tuple(penalized(p.is_bias, found) is not None for p in parameters), network.spec.learning_rate,
                   found, working_precision(network), network.total, tuple(gradients[p.name] for p in parameters),
                   "weights and biases" if found is not None and found.biases else "weights")


class OptimizerProgram:
    """A trainee trained by an optimizer in the simultaneous order: its compiled gradient (every gradient from
    the parameters before the step) and each parameter's compiled update, one rule compiled per kind of
    parameter (penalized or not), whatever the number of parameters."""

    order = "simultaneous"

    def __init__(self, trainee: Trainee, optimizer: OptimizerSpec, gradient: Callable, backend: str) -> None:
        self.trainee, self.backend = trainee, backend
        self.gradient = gradient
        """(parameter values) -> (E_total, outputs, gradients)."""
        compiled = compile_rules(optimizer, trainee.penalty, trainee.learning_rate, backend)
        self.updates = tuple(compiled[p] if t else None for t, p in zip(trainee.trained, trainee.penalized))
        """Per parameter: its update, or None for one that is not trained (a fixed bias)."""
        self.states = len(optimizer_rule(optimizer).state)
        """How many numbers of state each parameter carries."""

    def step(self, values: list, state: list[tuple], t: int) -> tuple:
        """Step `t` from `values` and `state` (per parameter): (E_total, outputs) before it, and the
        values and state after it."""
        error, outputs, gradients = self.gradient(*values)
        values, state = list(values), list(state)
        for k, update in enumerate(self.updates):
            if update is not None:
                values[k], *new = update(values[k], gradients[k], *state[k], t)
                state[k] = tuple(new)
        return error, outputs, values, state


def compile_optimizer(derivation: Derivation, optimizer: OptimizerSpec, backend: str = "mpmath",
                      order: str = "simultaneous") -> OptimizerProgram | OutputFirstProgram:
    """What `train_optimized` runs for a layered network, for the mpmath or the math backend, in either order."""
    if backend not in OPTIMIZER_BACKENDS:
        raise InputError(f"backend: the optimizer {optimizer.kind!r} runs on {' or '.join(OPTIMIZER_BACKENDS)}, "
                         f"not {backend!r} (the matrix form does plain gradient descent only)")
    trainee = network_trainee(derivation)
    if order == "output-first":
        return OutputFirstProgram(derivation, trainee, optimizer, backend)
    return OptimizerProgram(trainee, optimizer, compile_gradient(derivation, backend, outputs=True), backend)


def train_optimized(program: OptimizerProgram | OutputFirstProgram, steps: int,
                    progress: Callable[[int], None] | None = None, every: int = 1) -> TrainingResult:
    """`steps` steps of `program`'s optimizer from the spec's parameter values, in the program's order, on its
    backend. E_total and the outputs are recorded as `train` does."""
    require_recordable(steps, every)
    trainee, backend = program.trainee, program.backend
    report = max(steps // PROGRESS_CALLS, 1)
    history: dict[int, tuple] = {}
    digits = trainee.digits if backend == "mpmath" else PRECISION
    with mpmath.workdps(digits), finite_doubles("a value during training") if backend == "math" else nullcontext():
        number = (lambda r: to_mpf(r)) if backend == "mpmath" else float
        values = [number(value) for value in trainee.start]
        zero = number(Rational(0))
        state = [(zero,) * program.states for _ in values]
        for done in range(steps + 1):
            error, outputs, after, new_state = program.step(values, state, done + 1)
            if done % every == 0 or done == steps:
                history[done] = (error, outputs)
            if done == steps:
                break
            values, state = after, new_state
            if progress is not None and ((done + 1) % report == 0 or done + 1 == steps):
                progress(done + 1)
    result = TrainingResult(steps, program.order, dict(zip(trainee.names, values)), history)
    if backend != "mpmath":
        require_finite_run(result)
    return result


@dataclass(frozen=True)
class WorkedStep:
    """One step of an optimizer, exactly: E_total before it, and each trained parameter's lines."""

    step: int
    error: mpmath.mpf
    """E_total at the parameters before the step, whose gradients the step reads."""
    lines: tuple[tuple[Symbol, Expr], ...]
    """Every trained parameter's instance of the rule (derivation.optimizers.instance), parameter by parameter."""


@dataclass(frozen=True)
class WorkedSteps:
    """An optimizer's first steps evaluated exactly, line by line, for a worked solution."""

    rule: OptimizerRule
    """The rule without a penalty."""
    penalized: OptimizerRule | None
    """The rule with the spec's penalty, for the parameters it penalizes; None without one."""
    constants: dict[Symbol, Rational]
    """eta, the settings and lambda, exact."""
    steps: tuple[WorkedStep, ...]
    values: dict[Symbol, mpmath.mpf]
    """The value of every symbol the lines read or define: g_w5<k>, m_w5<k-1>, ..., w_5<k>."""
    error: mpmath.mpf
    """E_total after the last step."""


def worked_steps(trainee: Trainee, optimizer: OptimizerSpec, steps: int, gradient: Callable) -> WorkedSteps:
    """The optimizer's first `steps` steps evaluated exactly, line by line (evaluate_definitions, not the
    compiled code, which the tests check against these), in the simultaneous order. `gradient`: (parameter
    values) -> (E_total, outputs, gradients) on the exact path (a layered network's compiled mpmath gradient,
    a graph's uncompiled evaluation)."""
    plain, with_penalty, numbers = _rules(optimizer, trainee.penalty, trainee.learning_rate)
    rules = {False: plain, True: with_penalty}
    worked = []
    with mpmath.workdps(trainee.digits):
        known = _start(trainee, plain, numbers)
        for step in range(1, steps + 2):
            error, _outputs, gradients = gradient(*(known[at_step(s, step - 1)] for s in trainee.symbols))
            if step > steps:
                break
            known.update((gradient_at(s, step), g) for s, g in zip(trainee.symbols, gradients))
            lines = _instances(trainee, rules, step)
            known = evaluate_definitions(lines, known)
            known.update(_kept(trainee, step, known))
            worked.append(WorkedStep(step, error, tuple(lines)))
    return WorkedSteps(plain, with_penalty if trainee.penalty is not None else None, numbers, tuple(worked), known,
                       error)


def worked_output_first(derivation: Derivation, optimizer: OptimizerSpec, steps: int) -> WorkedSteps:
    """A layered network's first `steps` steps in the output-first order, evaluated exactly and uncompiled: at
    each step the forward pass at the parameters before it, then layer by layer from the output, the layer's
    gradients (through the layers above as already updated: `output_first_sequence`) and its parameters'
    lines of the rule, each parameter with its own state."""
    trainee = network_trainee(derivation)
    plain, with_penalty, numbers = _rules(optimizer, trainee.penalty, trainee.learning_rate)
    rules = {False: plain, True: with_penalty}
    worked = []
    with mpmath.workdps(trainee.digits):
        known = {**{s: to_mpf(v) for s, v in derivation.network.point().items()}, **_start(trainee, plain, numbers)}
        for step in range(1, steps + 1):
            known.update((s, known[at_step(s, step - 1)]) for s in trainee.symbols)
            sequence = output_first_sequence(derivation, trainee, optimizer, step)
            known = evaluate_definitions(sequence, known)
            known.update(_kept(trainee, step, known))
            worked.append(WorkedStep(step, known[trainee.total], tuple(_instances(trainee, rules, step))))
        known.update((s, known[at_step(s, steps)]) for s in trainee.symbols)
        error = evaluate_definitions(derivation.network.forward_definitions(), known)[trainee.total]
    return WorkedSteps(plain, with_penalty if trainee.penalty is not None else None, numbers, tuple(worked), known,
                       error)


def output_first_sequence(derivation: Derivation, trainee: Trainee, optimizer: OptimizerSpec,
                          step: int | None) -> list[tuple[Symbol, Expr]]:
    """One step in the output-first order as assignments: the forward pass, then the backward pass layer by
    layer from the output, each layer followed by its trained parameters' lines of the rule (g_w5 = dE_total/dw5,
    m_w5^+ = ..., w_5^+ = ...) and their reassignment (w_5 = w_5^+, m_w5 = m_w5^+), so that the layer below
    back-propagates through the updated weights, as gradient descent's output-first order does. Named for
    step `step` (w_5<k>, m_w5<k>), or with `step` None for compiled code (every rule's number written in)."""
    plain, with_penalty, numbers = _rules(optimizer, trainee.penalty, trainee.learning_rate)
    rules = {False: plain, True: with_penalty}
    layer_of = {p.symbol: p.layer for p in derivation.network.parameters}

    def updates(layer: int) -> list[tuple[Symbol, Expr]]:
        lines: list[tuple[Symbol, Expr]] = []
        for k, parameter in enumerate(trainee.symbols):
            if not trainee.trained[k] or layer_of[parameter] != layer:
                continue
            rule = rules[trainee.penalized[k]]
            own = instance(rule, parameter, step)
            if step is None:
                own = [(q, renamed(e, numbers)) for q, e in own]
                state = [state_at(q, parameter, None) for q in rule.state]
                lines += [(gradient_at(parameter, None), trainee.gradients[k]), *own, (parameter, after(parameter)),
                          *((q, after(q)) for q in state)]
            else:
                lines += [(gradient_at(parameter, step), trainee.gradients[k]), *own,
                          (parameter, at_step(parameter, step))]
        return lines

    return derivation.network.forward_definitions() + backward_sequence(derivation, "output-first", updates)


class OutputFirstProgram:
    """A layered network trained by an optimizer in the output-first order: one generated function per step,
    the forward pass, the backward pass and each layer's lines of the rule interleaved
    (`output_first_sequence`), of the parameters, every trained parameter's state and t."""

    order = "output-first"

    def __init__(self, derivation: Derivation, trainee: Trainee, optimizer: OptimizerSpec, backend: str) -> None:
        self.trainee, self.backend = trainee, backend
        rule = optimizer_rule(optimizer)
        self.states = len(rule.state)
        self._trained = [k for k, t in enumerate(trainee.trained) if t]
        state = [state_at(q, trainee.symbols[k], None) for k in self._trained for q in rule.state]
        network = derivation.network
        self._function = compile_function(
            network, output_first_sequence(derivation, trainee, optimizer, None), [*trainee.symbols, *state, STEP],
            [trainee.total, list(network.outputs), list(trainee.symbols), state], backend)

    def step(self, values: list, state: list[tuple], t: int) -> tuple:
        """As `OptimizerProgram.step`, in the output-first order."""
        carried = [x for k in self._trained for x in state[k]]
        error, outputs, after_step, new = self._function(*values, *carried, t)
        state = list(state)
        for n, k in enumerate(self._trained):
            state[k] = new[n * self.states:(n + 1) * self.states]
        return error, outputs, list(after_step), state


def _rules(optimizer: OptimizerSpec, found: Penalty | None,
           learning_rate: Rational) -> tuple[OptimizerRule, OptimizerRule, dict[Symbol, Rational]]:
    """The rule without and with the penalty `found`, and every number they read."""
    with_penalty = optimizer_rule(optimizer, found)
    return optimizer_rule(optimizer), with_penalty, constants(with_penalty, found, learning_rate)


def _start(trainee: Trainee, rule: OptimizerRule, numbers: Mapping[Symbol, Rational]) -> dict[Symbol, mpmath.mpf]:
    """What step 1 reads: the numbers, each parameter's value (w_5<0>) and each trained parameter's state, 0."""
    known = {s: to_mpf(v) for s, v in numbers.items()}
    known.update((at_step(s, 0), to_mpf(v)) for s, v in zip(trainee.symbols, trainee.start))
    known.update((state_at(q, s, 0), mpmath.mpf(0))
                 for s, trained in zip(trainee.symbols, trainee.trained) if trained for q in rule.state)
    return known


def _kept(trainee: Trainee, step: int, known: Mapping[Symbol, mpmath.mpf]) -> list[tuple[Symbol, mpmath.mpf]]:
    """Each parameter the optimizer does not train keeps its value at step `step`."""
    return [(at_step(s, step), known[at_step(s, step - 1)])
            for s, trained in zip(trainee.symbols, trainee.trained) if not trained]



def _instances(trainee: Trainee, rules: Mapping[bool, OptimizerRule], step: int) -> list[tuple[Symbol, Expr]]:
    """Every trained parameter's lines of its rule (`rules[penalized]`) at `step`, parameter by parameter."""
    return [line for k, s in enumerate(trainee.symbols) if trainee.trained[k]
            for line in instance(rules[trainee.penalized[k]], s, step)]
