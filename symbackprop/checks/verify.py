"""Check a formula or a number someone derived by hand, and find the mistake when it is wrong.

A formula is compared with the network's own quantity symbolically (backward quantities
expanded to the forward intermediates, then simplified) and numerically (at the spec's point
and at random points). When it is wrong, `diagnose` searches the likely mistakes around the
right derivation (a weight of the wrong path, a swapped index, a lost sign, a dropped factor,
a missing path, an updated weight used too early, hand rounding) and ranks what each one gives
against what was written. Every explanation is computed, none is guessed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import mpmath
from sympy import Add, Expr, Mul, Pow, S, Symbol, simplify

from symbackprop.checks.budget import attempt
from symbackprop.derivation import Derivation
from symbackprop.derivation.target_sum import distribution_constraints
from symbackprop.errors import InputError
from symbackprop.network import Partial
from symbackprop.numbers.evaluate import PRECISION, evaluate, evaluate_definitions, to_mpf
from symbackprop.numbers.rounding import decimals_of, rounds_to

RANDOM_POINTS = 3
HAND_ROUNDING = range(2, 13)
"""Decimals tried when a number may come from rounding every intermediate by hand."""
SHOWN = 3
MAX_EXPANDED_TERMS = 10_000
"""A formula whose expansion could have more terms is compared numerically only: (w_1 + ... + w_8)^50
has 264 million."""
SYMBOLIC_SHARE = 0.5
"""The part of the time left that the symbolic comparison may take; the numbers decide without it."""


@dataclass(frozen=True)
class Mistake:
    """One likely mistake: its kind, the symbols involved, and where in the derivation it is made."""

    kind: str
    """wrong-weight, swapped, sign, dropped-factor, missing-term, updated-weight, distribution, rounding."""
    used: Expr | None = None
    instead_of: Expr | None = None
    within: Symbol | None = None
    """The quantity whose definition the mistake changes."""
    path: tuple[str, str] | None = None
    """For a weight: the neurons it connects (source, target), e.g. ('h1', 'o2')."""
    decimals: int | None = None


@dataclass(frozen=True)
class Explanation:
    mistake: Mistake
    value: mpmath.mpf
    """What the derivation gives at the spec's point with this mistake made."""
    exact: bool
    """It reproduces what was written: the same digits, or the same formula everywhere."""
    distance: mpmath.mpf
    """|value - written| relative to |written|."""


@dataclass(frozen=True)
class Verdict:
    quantity: Symbol
    correct: bool
    expected: mpmath.mpf
    """The network's value of the quantity at the spec's point."""
    given: mpmath.mpf
    """The written number, or the written formula's value at the spec's point."""
    places: int | None = None
    """For a number: the decimals it was written with."""
    by_hand: bool = False
    """For a number: right only when intermediates are rounded to `places` decimals, as by hand."""
    symbolic: bool | None = None
    """For a formula: decided symbolically (True), or only numerically at several points (False)."""
    difference: Expr | None = None
    """For a wrong formula: written minus right, simplified, in the network's intermediates."""
    explanations: list[Explanation] = field(default_factory=list)


class Checker:
    """The network's quantities, their values at the spec's point and at random points."""

    def __init__(self, derivation: Derivation, after: Sequence[tuple[Symbol, Expr]] = ()):
        """`after`: more quantities defined over the derivation's, checked alike (an optimizer's first step)."""
        self.derivation = derivation
        network = derivation.network
        self.definitions: list[tuple[Symbol, Expr]] = list(network.forward_definitions())
        self.definitions += [(d.symbol, d.expression) for d in derivation.definitions] + list(after)
        self.defined = dict(self.definitions)
        self.backward = {d.symbol for d in derivation.definitions} | {s for s, _ in after}
        self.constraints = distribution_constraints(network)
        """Targets that form a distribution stay one at the random points, so (out - target)/N checks right."""
        self.deltas = {d.symbol: d for d in derivation.deltas}
        with mpmath.workdps(PRECISION):
            base = {s: to_mpf(v) for s, v in network.point().items()}
            self.start = [base] + [self._random_start(base, seed) for seed in range(RANDOM_POINTS)]
            self.points = [evaluate_definitions(self.definitions, start) for start in self.start]
        self.symbols = {symbol.name: symbol for symbol in self.points[0]}

    def resolve(self, name: str) -> Symbol:
        """For the formula reader: a canonical name to the network's symbol (KeyError if unknown)."""
        return self.symbols[name]

    def quantity(self, symbol: Expr) -> Symbol:
        if not isinstance(symbol, Symbol) or symbol not in self.points[0]:
            raise InputError(f"quantity: the network has no quantity {symbol}")
        return symbol

    # Formulas

    def check_formula(self, formula: Expr, quantity: Symbol) -> Verdict:
        """Numbers first (at the spec's point and at random points), then the simplified difference,
        which is left out (None) when the formula is too large to expand or the time runs out."""
        unknown = sorted((str(s) for s in formula.free_symbols if s not in self.points[0]))
        if unknown:
            raise InputError(f"--formula: the network has no quantity {unknown[0]}")
        values = [self._formula_value(formula, point) for point in self.points]
        expected = [point[quantity] for point in self.points]
        equal = all(close(a, b) for a, b in zip(values, expected))
        right = self.defined.get(quantity, quantity) if quantity not in self.backward else quantity
        difference = None
        if _expanded_terms(formula) <= MAX_EXPANDED_TERMS:
            difference = attempt(SYMBOLIC_SHARE, lambda: simplify(
                (self._expand(formula) - self._expand(right)).xreplace(self.constraints)))
        if equal:
            return Verdict(quantity, True, expected[0], values[0], symbolic=difference == 0)
        explanations = self._diagnose(quantity, formula_values=values)
        return Verdict(quantity, False, expected[0], values[0], symbolic=difference is not None,
                       difference=difference, explanations=explanations)

    def _formula_value(self, formula: Expr, point: dict) -> mpmath.mpf:
        try:
            return self._value(formula, point)
        except (ArithmeticError, ValueError) as error:  # mpmath: an exponent beyond any machine integer
            raise InputError(f"--formula: cannot be evaluated at the network's numbers "
                             f"({type(error).__name__}: {_first_line(error)})") from None

    # Numbers

    def check_value(self, text: str, quantity: Symbol) -> Verdict:
        places = decimals_of(text)
        given = mpmath.mpf(text)
        expected = self.points[0][quantity]
        if rounds_to(expected, text):
            return Verdict(quantity, True, expected, given, places)
        by_hand = self._by_hand(self.definitions, quantity, places)
        if by_hand is not None and rounds_to(by_hand, text):
            return Verdict(quantity, True, expected, given, places, by_hand=True)
        explanations = self._diagnose(quantity, text=text)
        for decimals in HAND_ROUNDING:
            value = self._by_hand(self.definitions, quantity, decimals)
            if value is not None and rounds_to(value, text):
                explanations.insert(0, Explanation(Mistake("rounding", decimals=decimals), value, True, _distance(value, given)))
                break
        return Verdict(quantity, False, expected, given, places, explanations=explanations[:SHOWN])

    def own_mistakes(self, quantity: Symbol) -> list[tuple[Mistake, mpmath.mpf]]:
        """Each mistake made in `quantity`'s own definition, with the value it gives at the spec's point when
        everything it uses is right: a step's wrong answers, worked out before anyone types one (a tutor page)."""
        found = []
        for mistake, definitions in self._mistakes(quantity, own=True):
            point = dict(self.points[0])
            with mpmath.workdps(PRECISION):
                for symbol, expression in definitions:
                    if self.defined.get(symbol) is not expression:  # the changed definition, or an early weight
                        point[symbol] = evaluate(expression, point)
            found.append((mistake, point[quantity]))
        return found

    # The search

    def _diagnose(self, quantity: Symbol, formula_values: list | None = None,
                  text: str | None = None) -> list[Explanation]:
        """The likeliest mistakes: those that reproduce what was written first, then the closest."""
        found = []
        for mistake, definitions in self._mistakes(quantity):
            values = [self._run(definitions, start)[quantity] for start in
                      (self.start if formula_values is not None else self.start[:1])]
            if formula_values is not None:
                exact = all(close(a, b) for a, b in zip(values, formula_values))
                given = formula_values[0]
            else:
                places = decimals_of(text)
                by_hand = self._by_hand(definitions, quantity, places)
                exact = rounds_to(values[0], text) or (by_hand is not None and rounds_to(by_hand, text))
                given = mpmath.mpf(text)
            found.append(Explanation(mistake, values[0], exact, _distance(values[0], given)))
        found.sort(key=lambda e: (not e.exact, e.distance))
        return found[:SHOWN]

    def _mistakes(self, quantity: Symbol, own: bool = False):
        """Each plausible mistake, with the definitions as they are once it is made; with `own`, only those made
        in `quantity`'s own definition."""
        network = self.derivation.network
        weights = [p for p in network.parameters if not p.is_bias]
        paths = _connections(network)
        siblings = _siblings(network)
        updated = {u.parameter.symbol: u.symbol for u in self.derivation.updates}
        for symbol in [quantity] if own else self._reachable(quantity):
            expression = self.defined[symbol]

            def changed(new: Expr) -> list[tuple[Symbol, Expr]]:
                return [(s, new if s == symbol else e) for s, e in self.definitions]

            present = expression.free_symbols
            for weight in [w for w in weights if w.symbol in present]:
                for other in weights:
                    if other.layer == weight.layer and other != weight and other.symbol not in present:
                        yield (Mistake("wrong-weight", other.symbol, weight.symbol, symbol, paths[weight.symbol]),
                               changed(expression.xreplace({weight.symbol: other.symbol})))
                early = self._with_updated(symbol, weight.symbol, updated.get(weight.symbol))
                if early is not None:
                    yield Mistake("updated-weight", updated[weight.symbol], weight.symbol, symbol), early
            for source in [s for s in present if s in siblings]:
                for other in siblings[source]:
                    if other not in present:
                        yield (Mistake("swapped", other, source, symbol),
                               changed(expression.xreplace({source: other})))
            if isinstance(symbol, Partial) and symbol.wrt in network.outputs and symbol.of not in self.backward:
                yield Mistake("sign", within=symbol), changed(-expression)
            textbook = self._textbook_delta(symbol)
            if textbook is not None:
                yield Mistake("distribution", textbook, within=symbol), changed(textbook)
            if isinstance(expression, Mul):
                for factor in expression.args:
                    yield (Mistake("dropped-factor", factor, within=symbol),
                           changed(Mul(*[f for f in expression.args if f is not factor])))
            if isinstance(expression, Add):
                for term in expression.args:
                    yield (Mistake("missing-term", term, within=symbol),
                           changed(Add(*[t for t in expression.args if t is not term]) or S.Zero))

    def _textbook_delta(self, symbol: Symbol) -> Expr | None:
        """A softmax delta's (out - target)/N, when its sample's targets do not sum to 1 (soft labels):
        the form that holds only for a distribution, as a mistake someone makes with them."""
        delta = self.deltas.get(symbol)
        if delta is None or delta.target_sum is None or delta.targets[-1] in self.constraints:
            return None
        return delta.target_sum.distribution

    def _with_updated(self, symbol: Symbol, weight: Symbol, updated: Symbol | None):
        """The definitions with `symbol` using the weight's updated value, or None when that value
        itself depends on `symbol` (or the weight is never updated)."""
        if updated is None:
            return None
        early = Symbol(f"{updated.name}(early)")
        definitions = [(s, e.xreplace({weight: early}) if s == symbol else e) for s, e in self.definitions]
        try:
            return _dependency_order(definitions + [(early, self.defined[updated])])
        except ValueError:
            return None

    def _reachable(self, quantity: Symbol) -> list[Symbol]:
        """The defined symbols `quantity` depends on, itself first."""
        seen, stack = [], [quantity]
        while stack:
            symbol = stack.pop()
            if symbol in seen or symbol not in self.defined:
                continue
            seen.append(symbol)
            stack.extend(sorted(self.defined[symbol].free_symbols, key=str))
        return seen

    def _by_hand(self, definitions, quantity: Symbol, places: int) -> mpmath.mpf | None:
        """`quantity` with every intermediate rounded to `places` decimals at the spec's point; None when
        rounding that coarsely leaves no number (an output rounded to 0 under a logarithm)."""
        try:
            return self._run(definitions, self.start[0], places)[quantity]
        except ArithmeticError:
            return None

    def _run(self, definitions, start: dict, hand_round: int | None = None) -> dict:
        with mpmath.workdps(PRECISION):
            return evaluate_definitions(definitions, start, hand_round)

    def _value(self, formula: Expr, point: dict) -> mpmath.mpf:
        with mpmath.workdps(PRECISION):
            return evaluate(formula, point)

    def _expand(self, expr: Expr) -> Expr:
        """Backward quantities replaced by their definitions, down to the forward intermediates."""
        for _ in range(len(self.definitions)):
            backward = [s for s in expr.free_symbols if s in self.backward]
            if not backward:
                return expr
            expr = expr.xreplace({s: self.defined[s] for s in backward})
        return expr

    def _random_start(self, base: dict, seed: int) -> dict:
        generator = random.Random(seed)
        start = {symbol: mpmath.mpf(generator.randint(-900, 900)) / 1000 for symbol in base}
        start.update((target, evaluate(rest, start)) for target, rest in self.constraints.items())
        return start


def _dependency_order(definitions: list[tuple[Symbol, Expr]]) -> list[tuple[Symbol, Expr]]:
    """Definitions reordered so that each comes after what it uses: each in turn, what it uses first (a depth-first
    topological sort, linear in the definitions; the list is already in order but for a few)."""
    defined = dict(definitions)
    placed: set[Symbol] = set()
    ordered: list[tuple[Symbol, Expr]] = []
    for root, _ in definitions:
        stack, entered = [(root, False)], set()
        while stack:
            symbol, done = stack.pop()
            if symbol in placed:
                continue
            if done:
                placed.add(symbol)
                ordered.append((symbol, defined[symbol]))
                continue
            if symbol in entered:
                raise ValueError("circular definitions")
            entered.add(symbol)
            stack.append((symbol, True))
            stack.extend((used, False) for used in defined[symbol].free_symbols if used in defined and used not in placed)
    return ordered


def _connections(network) -> dict[Symbol, tuple[str, str]]:
    """Each weight's source and target: w_7 -> ('h1', 'o2'), w_2 -> ('i2', 'h1')."""
    paths = {}
    sources = [f"i{k + 1}" for k in range(len(network.passes[0].inputs))]
    for layer in network.layers:
        for neuron, row in zip(layer.neurons, layer.weights):
            for source, parameter in zip(sources, row):
                paths[parameter.symbol] = (source, neuron.label)
        sources = [neuron.label for neuron in layer.neurons]
    return paths


def _siblings(network) -> dict[Symbol, list[Symbol]]:
    """Symbols a hand could swap for each other: inputs, outs of one layer, targets."""
    groups = [list(network.passes[0].inputs), list(network.passes[0].targets)]
    groups += [[n.out for n in layer.neurons] for layer in network.layers]
    groups += [[n.net for n in layer.neurons] for layer in network.layers]
    return {s: [o for o in group if o != s] for group in groups for s in group}


def _expanded_terms(expr: Expr) -> int:
    """How many terms `expr` has once multiplied out (what simplifying it may build), counted up to
    just past MAX_EXPANDED_TERMS."""
    beyond = MAX_EXPANDED_TERMS + 1
    if expr.is_Add:
        return min(sum(_expanded_terms(term) for term in expr.args), beyond)
    if expr.is_Mul:
        return min(math.prod(_expanded_terms(factor) for factor in expr.args), beyond)
    if isinstance(expr, Pow) and expr.exp.is_Integer and expr.base.is_Add:
        terms, power = _expanded_terms(expr.base), abs(int(expr.exp))
        return beyond if power > MAX_EXPANDED_TERMS else min(math.comb(terms + power - 1, power), beyond)
    return 1


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [""])[0]


def close(a: mpmath.mpf, b: mpmath.mpf) -> bool:
    """Equal to half the working precision: the test of an identity at a point."""
    return abs(a - b) <= mpmath.mpf(10) ** (-PRECISION // 2) * max(1, abs(a), abs(b))


def _distance(value: mpmath.mpf, given: mpmath.mpf) -> mpmath.mpf:
    return abs(value - given) / max(abs(given), mpmath.mpf(10) ** -PRECISION)
