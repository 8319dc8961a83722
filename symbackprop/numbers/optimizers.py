"""An optimizer's rule evaluated: exactly (mpmath) and compiled (mpmath and double), step by step.

`compile_rule` turns an `OptimizerRule` (derivation/optimizers.py) into one generated function of a
parameter, its gradient, its state and the step number; it serves any list of parameters with
gradients. `train_optimized` trains a layered network with it, one compiled gradient call per step
(`numbers.training.compile_gradient`), recording E_total and the outputs at the same steps as `train`.
`worked_steps` gives the exact value of every line of every step for a worked solution.
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
    BACKEND_FUNCTIONS, PROGRESS_CALLS, TrainingResult, compile_gradient, require_finite_run, require_recordable,
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
    `numbers` (eta, the settings, lambda) written in as constants, exact on the mpmath path."""
    lines = [(q, renamed(e, dict(numbers))) for q, e in rule.lines]
    arguments = [THETA, GRADIENT, *rule.state, STEP]
    writer = SourceWriter(lines, arguments, float_literals=backend == "math")
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
    functions = [BACKEND_FUNCTIONS[backend][f] for f in sorted(writer.functions)]
    namespace: dict[str, object] = {"_locals": (*numbers_used, *functions)}
    exec(compile(source, f"<symbackprop {rule.kind}>", "exec"), namespace)  # noqa: S102
    return namespace["update"]


@dataclass(frozen=True)
class OptimizerProgram:
    """A layered network trained by an optimizer: its compiled gradient and each parameter's compiled update."""

    gradient: Callable
    """(parameter values) -> (E_total, outputs, gradients)."""
    updates: tuple[Callable | None, ...]
    """Per parameter of `network.parameters`: its update, or None for one that is not trained (a fixed bias)."""
    states: int
    """How many numbers of state each parameter carries."""


def rules(derivation: Derivation, optimizer: OptimizerSpec) -> tuple[OptimizerRule, OptimizerRule, Penalty | None]:
    """The optimizer's rule without and with the spec's penalty, and the penalty."""
    found = penalty(derivation.network.spec.regularization)
    return optimizer_rule(optimizer), optimizer_rule(optimizer, found), found


def compile_optimizer(derivation: Derivation, optimizer: OptimizerSpec, backend: str = "mpmath") -> OptimizerProgram:
    """The compiled gradient and updates `train_optimized` runs, for the mpmath or the math backend."""
    if backend not in OPTIMIZER_BACKENDS:
        raise InputError(f"backend: the optimizer {optimizer.kind!r} runs on {' or '.join(OPTIMIZER_BACKENDS)}, "
                         f"not {backend!r} (the matrix form does plain gradient descent only)")
    network = derivation.network
    plain, with_penalty, found = rules(derivation, optimizer)
    eta = network.spec.learning_rate
    compiled = {False: compile_rule(plain, constants(plain, None, eta), backend)}
    if found is not None:
        compiled[True] = compile_rule(with_penalty, constants(with_penalty, found, eta), backend)
    trained = set(network.trainable)
    updates = tuple(compiled[penalized(p.is_bias, found) is not None] if p in trained else None
                    for p in network.parameters)
    return OptimizerProgram(compile_gradient(derivation, backend, outputs=True), updates,
                            len(plain.state))


def train_optimized(derivation: Derivation, steps: int, program: OptimizerProgram, backend: str = "mpmath",
                    progress: Callable[[int], None] | None = None, every: int = 1) -> TrainingResult:
    """`steps` steps of `program`'s optimizer from the spec's parameter values (simultaneous order: every
    gradient from the parameters before the step). E_total and the outputs are recorded as `train` does."""
    require_recordable(steps, every)
    network = derivation.network
    report = max(steps // PROGRESS_CALLS, 1)
    history: dict[int, tuple] = {}
    digits = working_precision(network) if backend == "mpmath" else PRECISION
    with mpmath.workdps(digits), finite_doubles("a value during training") if backend == "math" else nullcontext():
        number = (lambda r: to_mpf(r)) if backend == "mpmath" else float
        values = [number(p.value) for p in network.parameters]
        zero = number(Rational(0))
        state = [(zero,) * program.states for _ in values]
        for done in range(steps + 1):
            error, outputs, gradients = program.gradient(*values)
            if done % every == 0 or done == steps:
                history[done] = (error, outputs)
            if done == steps:
                break
            for k, update in enumerate(program.updates):
                if update is not None:
                    values[k], *new = update(values[k], gradients[k], *state[k], done + 1)
                    state[k] = tuple(new)
            if progress is not None and ((done + 1) % report == 0 or done + 1 == steps):
                progress(done + 1)
    result = TrainingResult(steps, "simultaneous", {p.name: v for p, v in zip(network.parameters, values)}, history)
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


def worked_steps(derivation: Derivation, optimizer: OptimizerSpec, steps: int,
                 gradient: Callable | None = None) -> WorkedSteps:
    """The optimizer's first `steps` steps evaluated exactly, line by line (evaluate_definitions, not the
    compiled code, which the tests check against these). `gradient`: `compile_gradient(derivation, "mpmath",
    outputs=True)` if the caller keeps one."""
    network = derivation.network
    plain, with_penalty, found = rules(derivation, optimizer)
    numbers = constants(with_penalty, found, network.spec.learning_rate)
    gradient = gradient or compile_gradient(derivation, "mpmath", outputs=True)
    trainable = set(network.trainable)
    trained = [p for p in network.parameters if p in trainable]
    worked = []
    with mpmath.workdps(working_precision(network)):
        known = {s: to_mpf(v) for s, v in numbers.items()}
        known.update((at_step(p.symbol, 0), to_mpf(p.value)) for p in network.parameters)
        known.update((q, mpmath.mpf(0)) for p in trained for q in _initial_state(plain, p.symbol))
        for step in range(1, steps + 2):
            error, _outputs, gradients = gradient(*(known[at_step(p.symbol, step - 1)] for p in network.parameters))
            if step > steps:
                break
            known.update((gradient_at(p.symbol, step), g) for p, g in zip(network.parameters, gradients))
            lines = [line for p in trained
                     for line in instance(with_penalty if penalized(p.is_bias, found) else plain, p.symbol, step)]
            known = evaluate_definitions(lines, known)
            known.update((at_step(p.symbol, step), known[at_step(p.symbol, step - 1)])
                         for p in network.parameters if p not in trainable)
            worked.append(WorkedStep(step, error, tuple(lines)))
    return WorkedSteps(plain, with_penalty if found is not None else None, numbers, tuple(worked), known, error)


def _initial_state(rule: OptimizerRule, parameter: Symbol) -> list[Symbol]:
    """The state symbols before the first step (m_w5<0>), each 0."""
    return [state_at(quantity, parameter, 0) for quantity in rule.state]
