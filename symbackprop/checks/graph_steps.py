"""An optimizer's steps on a computation graph as definitions over the graph's own quantities, so that `check`
reads and judges every line `solve --steps K` prints for a graph (`mhat_w<1>`, `v_w<2>`, `w<2>`, `f<1>`).

Part 0 names the start: the rule's settings, w<0> = w, f<0> = f, g_w<1> = df/dw and each state at 0. Part k
(from 1) is step k's lines of the rule for every trainable name (`derivation.optimizers.instance`), then the
graph again at the names after step k: a copy of its forward and backward definitions whose loss is f<k> and
whose adjoints are g_w<k+1>, its other nodes private symbols. Every line is thus a formula of the spec's
values, evaluated at the checker's random points like any other quantity, and its mistakes found alike.
"""

from __future__ import annotations

from functools import cached_property

from sympy import Dummy, Expr, S, Symbol

from symbackprop.derivation.graph import GraphDerivation
from symbackprop.derivation.optimizers import OptimizerRule, at_step, gradient_at, instance, optimizer_rule, state_at
from symbackprop.numbers.graph_training import graph_trainee
from symbackprop.numbers.optimizers import Trainee
from symbackprop.spec.model import OptimizerSpec


class GraphSteps:
    """The definitions of an optimizer's steps on one graph, part by part (see the module's note)."""

    def __init__(self, derivation: GraphDerivation, optimizer: OptimizerSpec) -> None:
        self.derivation = derivation
        self.optimizer = optimizer

    def names(self, step: int) -> set[str]:
        """The names part `step` defines, its private copy of the graph's nodes aside: cheap, for a name typed."""
        if step == 0:
            return {s.name for s, _ in self._start()}
        trainee = self._trainee
        after = [at_step(trainee.total, step), *(gradient_at(s, step + 1) for s in trainee.symbols)]
        return {s.name for s, _ in self._lines(step)} | {s.name for s in after}

    def part(self, step: int) -> list[tuple[Symbol, Expr]]:
        """Part `step`'s definitions, reading those of the parts before it."""
        return self._start() if step == 0 else self._lines(step) + self._graph_after(step)

    def _start(self) -> list[tuple[Symbol, Expr]]:
        """The settings, w<0> = w, f<0> = f, g_w<1> = df/dw and each state at 0."""
        trainee = self._trainee
        settings = dict(self._rules[False].settings) | dict(self._rules[True].settings)
        return [*settings.items(), *((at_step(s, 0), s) for s in trainee.symbols),
                (at_step(trainee.total, 0), trainee.total),
                *((gradient_at(s, 1), g) for s, g in zip(trainee.symbols, trainee.gradients)),
                *((state_at(q, s, 0), S.Zero) for s, penalized in zip(trainee.symbols, trainee.penalized)
                  for q in self._rules[penalized].state)]

    def _lines(self, step: int) -> list[tuple[Symbol, Expr]]:
        """Step `step`'s lines of the rule (with the penalty where it applies), name by name."""
        trainee = self._trainee
        return [line for s, penalized in zip(trainee.symbols, trainee.penalized)
                for line in instance(self._rules[penalized], s, step)]

    def _graph_after(self, step: int) -> list[tuple[Symbol, Expr]]:
        """The graph's forward and backward definitions at the names after `step` steps."""
        trainee, graph = self._trainee, self.derivation.graph
        model = graph.forward_definitions() + self.derivation.definitions()
        names: dict[Symbol, Symbol] = {s: Dummy(f"{s.name} after step {step}") for s, _ in model}
        names |= {s: at_step(s, step) for s in trainee.symbols} | {trainee.total: at_step(trainee.total, step)}
        names |= {g: gradient_at(s, step + 1) for s, g in zip(trainee.symbols, trainee.gradients)}
        return [(names[s], e.xreplace(names)) for s, e in model]

    @cached_property
    def _trainee(self) -> Trainee:
        """The trainable names, their gradients and the penalty (`InputError` without a learning rate)."""
        return graph_trainee(self.derivation)

    @cached_property
    def _rules(self) -> dict[bool, OptimizerRule]:
        """The rule without (False) and with (True) the spec's penalty."""
        return {False: optimizer_rule(self.optimizer), True: optimizer_rule(self.optimizer, self._trainee.penalty)}
