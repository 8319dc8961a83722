"""An optimizer's steps as definitions over a model's own quantities (a layered network's or a computation
graph's), so that `check` reads and judges every line `solve --steps K` prints (`mhat_w5<1>`, `v_w0<2>`,
`w_0<2>`, `E_total<1>`, `f<1>`).

Part 0 names the start: the rule's settings, w<0> = w, f<0> = f, g_w<1> = df/dw and each state at 0. Part k
(from 1) is step k's lines of the rule for every trained parameter (`derivation.optimizers.instance`), then the
model again at the parameters after step k: a copy of its forward and backward definitions whose loss is f<k>
and whose gradients are g_w<k+1>, its other quantities step-marked as the parameters are (net_h1<1>: a name a
diagnosis prints and a hand may type), or private symbols where that name is the model's own already (a
recurrent graph's h_1<1>) or a partial derivative's. Every line is thus a formula of the spec's values, evaluated
at the checker's random points like any other quantity, and its mistakes found alike.

A line about a quantity of step k reads the model at that step's parameters, as `solve` writes it:
`g_w0<2> = ∂f/∂w₀` is the gradient at the parameters after step 1 (`reading`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property

from sympy import Dummy, Expr, Rational, S, Symbol

from symbackprop.derivation.optimizers import OptimizerRule, at_step, gradient_at, instance, optimizer_rule, state_at
from symbackprop.names import Partial, name_of
from symbackprop.numbers.optimizers import Trainee
from symbackprop.spec.model import OptimizerSpec


class OptimizerSteps:
    """The definitions of an optimizer's steps on one model, part by part (see the module's note)."""

    def __init__(self, trainee: Callable[[], Trainee], model: Sequence[tuple[Symbol, Expr]],
                 optimizer: OptimizerSpec) -> None:
        """`trainee()`: the parameters as the optimizer trains them (made when a step is first asked for: a graph
        without a learning rate has none); `model`: the forward and backward definitions, copied after each step."""
        self._make_trainee = trainee
        self.model = model
        self.optimizer = optimizer
        self._renamings: dict[int, dict[Symbol, Symbol]] = {0: {}}
        self._read_at: dict[Symbol, int] = {}
        """Each quantity a part defines: the step after which its line reads the model."""
        self._before: dict[Symbol, Symbol] = {}
        """Each gradient g_w<k+1> (k >= 1): the gradient of the step before, g_w<k>."""

    def names(self, step: int) -> set[str]:
        """The names part `step` defines, its private copy of the model aside: cheap, for a name typed."""
        if step == 0:
            return {s.name for s, _ in self._start()}
        trainee = self._trainee
        after = [at_step(trainee.total, step), *(gradient_at(s, step + 1) for s in self._trained)]
        lines = {s.name for s, _ in self._lines(step)}
        copies = (self._copy(s, step, lines) for s, _ in self.model)
        return lines | {s.name for s in after} | {s.name for s in copies if not isinstance(s, Dummy)}

    def part(self, step: int) -> list[tuple[Symbol, Expr]]:
        """Part `step`'s definitions, reading those of the parts before it."""
        if step == 0:
            start = self._start()
            self._read_at.update((s, 0) for s, _ in start)
            return start
        lines, model = self._lines(step), self._model_after(step)
        self._read_at.update((s, step - 1) for s, _ in lines)
        self._read_at.update((s, step) for s, _ in model)
        self._before.update((gradient_at(s, step + 1), gradient_at(s, step)) for s in self._trained)
        return lines + model

    def read_after(self, quantity: Symbol) -> int:
        """The steps after which a line about `quantity` reads the model: k - 1 for a line of step k's rule or its
        gradient g_w<k>, k for the loss f<k> (and the rest of the model after step k), 0 for any other quantity."""
        return self._read_at.get(quantity, 0)

    def reading(self, quantity: Symbol) -> dict[Symbol, Symbol]:
        """The model's names as a line about `quantity` reads them (`read_after`): the spec's own for step 0."""
        return self._renamings[self.read_after(quantity)]

    def numbers(self, quantity: Symbol) -> tuple[Rational, ...]:
        """The numbers a line about `quantity` writes exactly, whatever their digits: for a quantity of a step, the
        rule's settings and the learning rate; none for another."""
        if quantity not in self._read_at:
            return ()
        return (*(value for _, value in self._rules[True].settings), self._trainee.learning_rate)

    def gradient_before(self, quantity: Symbol) -> Symbol | None:
        """For a gradient g_w<k> from step 2 on, the step before's g_w<k-1>, which a hand may reuse; else None."""
        return self._before.get(quantity)

    def _start(self) -> list[tuple[Symbol, Expr]]:
        """The settings, w<0> = w, f<0> = f, g_w<1> = df/dw and each state at 0."""
        trainee = self._trainee
        settings = dict(self._rules[False].settings) | dict(self._rules[True].settings)
        trained = self._trained
        return [*settings.items(), *((at_step(s, 0), s) for s in trained),
                (at_step(trainee.total, 0), trainee.total),
                *((gradient_at(s, 1), trained[s]) for s in trained),
                *((state_at(q, s, 0), S.Zero) for s in trained for q in self._rule(s).state)]

    def _lines(self, step: int) -> list[tuple[Symbol, Expr]]:
        """Step `step`'s lines of the rule (with the penalty where it applies), parameter by parameter."""
        return [line for s in self._trained for line in instance(self._rule(s), s, step)]

    def _model_after(self, step: int) -> list[tuple[Symbol, Expr]]:
        """The model's forward and backward definitions at the parameters after `step` steps."""
        trainee = self._trainee
        lines = {s.name for s, _ in self._lines(step)}
        names: dict[Symbol, Symbol] = {s: self._copy(s, step, lines) for s, _ in self.model}
        names |= {s: at_step(s, step) for s in self._trained} | {trainee.total: at_step(trainee.total, step)}
        names |= {g: gradient_at(s, step + 1) for s, g in self._trained.items()}
        self._renamings[step] = names
        return [(names[s], e.xreplace(names)) for s, e in self.model]

    def _copy(self, quantity: Symbol, step: int, lines: set[str]) -> Symbol:
        """The model's `quantity` after `step` steps: net_h1<1>, or a private symbol when that name is taken (by the
        model, or by one of the step's `lines`: a graph's node m_w0 beside momentum's m_w0<1>) or cannot be written
        (a partial derivative's, a quantity with a time step of its own)."""
        if not isinstance(quantity, Partial) and name_of(quantity).step is None:
            marked = at_step(quantity, step)
            if marked.name not in self._model_names and marked.name not in lines:
                return marked
        return Dummy(f"{quantity.name} after step {step}")

    @cached_property
    def _model_names(self) -> set[str]:
        return {s.name for s, _ in self.model}

    def _rule(self, parameter: Symbol) -> OptimizerRule:
        """The rule `parameter` is stepped by: with the penalty's derivative when the penalty covers it."""
        return self._rules[parameter in self._penalized]

    @cached_property
    def _trainee(self) -> Trainee:
        return self._make_trainee()

    @cached_property
    def _trained(self) -> dict[Symbol, Symbol]:
        """Each parameter the optimizer updates (a fixed bias is not), and its gradient, in the trainee's order."""
        trainee = self._trainee
        return {s: g for s, g, trained in zip(trainee.symbols, trainee.gradients, trainee.trained) if trained}

    @cached_property
    def _penalized(self) -> set[Symbol]:
        trainee = self._trainee
        return {s for s, penalized in zip(trainee.symbols, trainee.penalized) if penalized}

    @cached_property
    def _rules(self) -> dict[bool, OptimizerRule]:
        """The rule without (False) and with (True) the spec's penalty."""
        return {False: optimizer_rule(self.optimizer), True: optimizer_rule(self.optimizer, self._trainee.penalty)}
