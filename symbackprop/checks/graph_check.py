"""Check a formula or a number someone derived by hand for a computation graph, and find the mistake.

The comparison is `checks.verify.Checker`'s (numbers at the spec's values and at random points, then
the simplified difference in the graph's intermediates); only what is particular to a graph is here:
its quantities (values, nodes, local derivatives, adjoints), random points near the spec's values (a
graph may take logs and roots, defined only near them), and the mistakes people make with the
multivariable chain rule, each computed by making it in the derivation:

- a dropped local factor: dE/dx = dE/dq where dE/dq · dq/dx belongs, or a factor lost inside a local
  derivative;
- a missing term for a name used more than once (the shared-parameter mistake): dE/dw = dE/da · da/dw
  where w is also used by b;
- a factor dropped or a term missing in a node's own formula (the forward pass);
- with a learning rate, in an update v+ = v - eta dE/dv: the v or the step left out, or a factor of the
  step dropped (eta forgotten, the sign lost).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import mpmath
from sympy import Dummy, Expr, Symbol

from symbackprop.checks.verify import (
    NAMES_LISTED, RANDOM_POINTS, Checker, Mistake, closest_names, dropped_parts, real_values,
)
from symbackprop.derivation.graph import GraphDerivation
from symbackprop.errors import InputError
from symbackprop.network.symbols import LEARNING_RATE
from symbackprop.numbers.evaluate import PRECISION, evaluate_definitions
from symbackprop.names import Partial
from symbackprop.numbers.graph import graph_point
from symbackprop.numbers.graph_training import graph_trainee, update_definitions
from symbackprop.spec.model import OptimizerSpec

RANDOM_SPREAD = mpmath.mpf("0.05")
"""Random points move every value by up to 5% of its size (at least 0.05): near the spec's values, where
the graph's logs and roots are defined."""
MAX_TRIES = 4 * RANDOM_POINTS
"""Random points drawn to find RANDOM_POINTS where every value is a real number."""


class GraphChecker(Checker):
    """A graph's quantities, their values at the spec's values and at random points near them."""

    def __init__(self, derivation: GraphDerivation, optimizer: OptimizerSpec | None = None, max_steps: int = 0) -> None:
        """The same attributes as `Checker`'s, from the graph (`Checker.__init__` reads a layered network);
        with `optimizer`, the names of its first `max_steps` steps (w<2>, mhat_w<1>) are defined when typed."""
        self.derivation = derivation
        graph = derivation.graph
        backward = derivation.definitions()
        model = graph.forward_definitions() + backward
        self._stepped(optimizer, max_steps, lambda: graph_trainee(derivation), model)
        self.updates = dict(update_definitions(derivation)) if graph.spec.learning_rate is not None else {}
        self.definitions: list[tuple[Symbol, Expr]] = model + [*self.updates.items()]
        self.defined = dict(self.definitions)
        self.backward = {symbol for symbol, _ in backward}
        self.constraints: dict[Symbol, Expr] = {}
        with mpmath.workdps(PRECISION):
            base = graph_point(graph)
            self.start, self.points = [base], [evaluate_definitions(self.definitions, base)]
            for seed in range(MAX_TRIES):
                if len(self.start) > RANDOM_POINTS:
                    break
                start = self._random_start(base, seed)
                values = real_values(lambda: evaluate_definitions(self.definitions, start))
                if values is not None:
                    self.start.append(start)
                    self.points.append(values)
        self.symbols = {symbol.name: symbol for symbol in self.points[0]}
        self.orders, self.scaled, self.deltas, self.updated = None, {}, {}, set()
        self.parameters = set(graph.spec.trainable)

    NOUN = "graph"

    def _unknown(self, name: str) -> str:
        """As a network's, but a large graph (a layer spec's expansion) names the closest names and how many it
        has, not a list."""
        names = [s.name for s in self.points[0] if not isinstance(s, (Partial, Dummy))]
        if len(names) <= NAMES_LISTED:
            return super()._unknown(name)
        close = closest_names(name, names)
        return (f"did you mean {', '.join(close)}? " if close else "") + f"the graph has {len(names)} names"

    def _samples(self) -> int:
        return 0

    def _total(self) -> Symbol:
        return self.derivation.graph.loss

    def quantity(self, symbol: Expr) -> Symbol:
        if not isinstance(symbol, Symbol) or symbol not in self.points[0]:
            raise InputError(f"quantity: the graph has no quantity {symbol}")
        return symbol

    def _random_start(self, base: dict, seed: int) -> dict:
        generator = random.Random(seed)
        return {symbol: value + RANDOM_SPREAD * max(abs(value), 1) * mpmath.mpf(generator.randint(-1000, 1000)) / 1000
                for symbol, value in base.items()}

    def _mistakes(self, quantity: Symbol, own: bool = False) -> Iterator[tuple[Mistake, list[tuple[Symbol, Expr]]]]:
        """Each factor dropped from a product and each term missing from a sum that `quantity` is made of:
        a chain-rule term's upstream or local factor, a use of a shared name, a factor of a local derivative
        or of a node's formula, a factor of an update's step; with `own`, only in `quantity`'s own definition."""
        for symbol in [quantity] if own else self._suspects(quantity):
            expression = self.defined[symbol]

            def changed(new: Expr) -> list[tuple[Symbol, Expr]]:
                return [(s, new if s == symbol else e) for s, e in self.definitions]

            yield from dropped_parts(symbol, expression, changed)
            yield from self._step_mistakes(symbol, changed)
            if symbol in self.updates:  # v - eta dE/dv: eta or the sign dropped from the step
                name, step = expression.as_independent(LEARNING_RATE, as_Add=True)
                yield from dropped_parts(symbol, step, lambda new: changed(name + new))
