"""Check a formula or a number someone derived by hand, and find the mistake when it is wrong.

A formula is compared with the network's own quantity symbolically (backward quantities
expanded to the forward intermediates, then simplified) and numerically (at the spec's point
and at random points). When it is wrong, `diagnose` searches the likely mistakes around the
right derivation (a weight of the wrong path, a swapped index, a lost sign, a dropped factor,
a missing path, an updated weight used too early, hand rounding) and keeps those that give what was
written, at the digits it was written with. Every explanation is computed, none is guessed.

A chain `a = b = c` (a line of `solve`) is judged part by part (`check_chain`): a formula
symbolically, a bare number by the rounding model (numbers/rounding.py), and a formula of printed
numbers (0.74136507 · 0.186815602) by interval arithmetic: right when the exact value lies in the
range its numbers allow at the digits they were printed with.
"""

from __future__ import annotations

import difflib
import math
import random
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import mpmath
from sympy import Add, Dummy, Expr, Mul, Pow, S, Symbol, simplify

from symbackprop.checks.budget import attempt
from symbackprop.checks.steps import OptimizerSteps
from symbackprop.derivation import Derivation
from symbackprop.derivation.target_sum import distribution_constraints
from symbackprop.errors import InputError
from symbackprop.formulas import Numeral, Side
from symbackprop.names import name_of, parse_key, readings, symbol as name_symbol
from symbackprop.network import Partial
from symbackprop.numbers.evaluate import PRECISION, evaluate, evaluate_definitions, printed_mpf, to_mpf
from symbackprop.numbers.optimizers import Trainee, network_trainee
from symbackprop.numbers.interval import bounds, evaluate_interval, interval
from symbackprop.numbers.rounding import (
    ROUNDED, TRUNCATED, HandRounding, Rounding, decimals_of, how_written, round_half_up, rounds_to,
)
from symbackprop.spec.model import OptimizerSpec

RANDOM_POINTS = 3
HAND_ROUNDING = range(2, 13)
"""Decimals (or significant figures) tried when a number may come from rounding intermediates by hand."""
SHOWN = 3
CARRIED = "carried from the part before"
"""A number that the part before it gives at its digits, when the exact value does not round to it."""
_KINDS = {"net": "nets", "out": "outputs", "E": "errors", "delta": "deltas"}
"""The kind (numbers/rounding.py's HAND_KINDS) of a forward quantity or delta, by its name's base."""
NAMES_LISTED = 24
"""Names an unknown name's message lists before it says how many more there are."""
CLOSEST = 3
"""Names a message suggests for an unknown one, when there are too many to list."""
MAX_EXPANDED_TERMS = 10_000
"""A formula whose expansion could have more terms is compared numerically only: (w_1 + ... + w_8)^50
has 264 million."""
SYMBOLIC_SHARE = 0.5
"""The part of the time left that the symbolic comparison may take; the numbers decide without it."""


@dataclass(frozen=True)
class Mistake:
    """One likely mistake: its kind, the symbols involved, and where in the derivation it is made."""

    kind: str
    """wrong-weight, swapped, sign, dropped-factor, missing-term, updated-weight, stale-gradient, distribution,
    rounding."""
    used: Expr | None = None
    instead_of: Expr | None = None
    within: Symbol | None = None
    """The quantity whose definition the mistake changes."""
    path: tuple[str, str] | None = None
    """For a weight: the neurons it connects (source, target), e.g. ('h1', 'o2')."""
    decimals: int | None = None
    """For rounding: every intermediate rounded half-up to this many decimals (None for another rounding)."""
    rounding: HandRounding | None = None
    """For rounding: how the intermediates were rounded."""


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
    """For a wrong answer: only mistakes that give what was written (at its digits); else the closest one,
    which does not (see `reproduced`)."""
    rounding: str | None = None
    """For a right number: how it comes from the value (ROUNDED, TIE or TRUNCATED in numbers/rounding.py),
    or the hand rounding that gives it."""
    order: str | None = None
    """For a right value after an update: the order of update it holds for, when not the simultaneous one."""
    interval: tuple[mpmath.mpf, mpmath.mpf] | None = None
    """For a formula of printed numbers: every value those numbers allow at the digits they were printed with."""
    written: str | None = None
    """For a part of a chain: the part as written."""
    parts: tuple[Verdict, ...] = ()
    """For a chain a = b = c: the verdict of each part; the chain is right when every part is."""

    @property
    def reproduced(self) -> bool:
        """A wrong answer whose number a listed mistake gives; False when the one listed is only the closest."""
        return any(e.exact for e in self.explanations)



def closest_names(written: str, names: Sequence[str]) -> list[str]:
    """The names nearest to what was written (at most `CLOSEST`), else a few with its first letter: what a
    message suggests when a name is unknown and the names are too many to list."""
    close = difflib.get_close_matches(written, names, n=CLOSEST, cutoff=0.5)
    return close or [name for name in names if name[:1] == written.strip()[:1]][:CLOSEST]

class Checker:
    """The network's quantities, their values at the spec's point and at random points.

    `orders`, when given, returns E_total after one update in each order of update (the problem's
    compiled loops): a value after an update is also right for an order other than the simultaneous one.
    With `optimizer`, the quantities of its first `max_steps` steps (m_w5<1>, mhat_w5<2>, w_5<3>, E_total<1>)
    are defined when a name of them is typed, and checked alike (`checks.steps`)."""

    def __init__(self, derivation: Derivation, orders: Callable[[], Mapping[str, mpmath.mpf]] | None = None,
                 optimizer: OptimizerSpec | None = None, max_steps: int = 0):
        self.derivation = derivation
        self.orders = orders
        network = derivation.network
        forward, backward = network.forward_definitions(), [(d.symbol, d.expression) for d in derivation.definitions]
        self.definitions: list[tuple[Symbol, Expr]] = forward + backward
        self.definitions += self._after_update(self.definitions)
        self.defined = dict(self.definitions)
        self.backward = {s for s, _ in backward}
        updates = {u.symbol for u in derivation.updates}
        self._stepped(optimizer, max_steps, lambda: network_trainee(derivation),
                      forward + [(s, e) for s, e in backward if s not in updates])
        self.constraints = distribution_constraints(network)
        """Targets that form a distribution stay one at the random points, so (out - target)/N checks right."""
        self.deltas = {d.symbol: d for d in derivation.deltas}
        with mpmath.workdps(PRECISION):
            base = {s: to_mpf(v) for s, v in network.point().items()}
            self.start = [base] + [self._random_start(base, seed) for seed in range(RANDOM_POINTS)]
            self.points = [evaluate_definitions(self.definitions, start) for start in self.start]
        self.symbols = {symbol.name: symbol for symbol in self.points[0]}
        self.scaled: dict[Symbol, Expr] = {}
        self.parameters = {p.symbol for p in network.parameters}
        self.updated = {u.symbol for u in derivation.updates}
        self._upstreams: dict[Symbol, set[Symbol]] = {}

    @cached_property
    def _intervals(self) -> dict:
        """The spec's point as intervals of one number each, for formulas of printed numbers."""
        return {s: interval(v, v) for s, v in self.points[0].items()}

    def _after_update(self, definitions: list[tuple[Symbol, Expr]]) -> list[tuple[Symbol, Expr]]:
        """The updated parameters, then the forward pass again with them (out_o1^+, E_total^+): the values
        after one simultaneous update."""
        updates = {u.parameter.symbol: u.symbol for u in self.derivation.updates}
        if not updates:
            return []
        forward = self.derivation.network.forward_definitions()
        renamed = dict(updates) | {s: name_symbol(name_of(s).after_update()) for s, _ in forward}
        return [(u.symbol, u.expression) for u in self.derivation.updates if u.symbol not in dict(definitions)] + \
            [(renamed[s], e.xreplace(renamed)) for s, e in forward]

    def _stepped(self, optimizer: OptimizerSpec | None, max_steps: int, trainee: Callable[[], Trainee],
                 model: list[tuple[Symbol, Expr]]) -> None:
        """The optimizer's steps over `model` (its forward and backward definitions), none defined yet."""
        self.steps = None if optimizer is None else OptimizerSteps(trainee, model, optimizer)
        self.max_steps, self.parts = max_steps, 0

    def resolve(self, name: str) -> Symbol:
        """For the formula reader: a canonical name to the network's symbol. Sample 1 of a network of one
        sample is the network's own name (net_h1[1] is net_h1). A name of the optimizer's step k (`v_w5<2>`)
        first defines steps 1 to k, and one of its settings (beta_1) the start. An unknown name is a KeyError
        whose message suggests the nearest name and lists the network's names."""
        if name not in self.symbols and self.steps is not None:
            step = _step(name)
            if step <= self.max_steps and name in self.steps.names(step) | self.steps.names(max(step - 1, 0)):
                while name not in self.symbols and self.parts <= step:
                    self._define(self.steps.part(self.parts))
                    self.parts += 1
        if name in self.symbols:
            return self.symbols[name]
        try:
            written = parse_key(name)
        except ValueError:
            written = None
        if written is not None and written.sample == 1 and self._samples() == 1:
            alone = written.at_sample(None).key
            if alone in self.symbols:
                return self.symbols[alone]
        if written is not None:  # an entry as people type it: W_11 for W_1,1; x[2] for x_2 where nothing has samples
            meant = [other.key for other in readings(written, bracket_is_index=not self._samples())
                     if other.key in self.symbols]
            if len(meant) == 1:
                return self.symbols[meant[0]]
            if meant:
                raise KeyError(f"it may be {' or '.join(meant)}: write the indices apart with commas")
        raise KeyError(self._unknown(name))

    def _define(self, definitions: list[tuple[Symbol, Expr]]) -> None:
        """`definitions` added, evaluated at every point (a random point where a value is not real is dropped).
        A formula for one of them is compared with its own definition, as a forward quantity's is (expanded down
        to the spec's values, step 3's lines multiply out past what simplifying does within the budget)."""
        self.definitions += definitions
        self.defined.update(definitions)
        with mpmath.workdps(PRECISION):
            kept = [(start, real_values(lambda point=point: evaluate_definitions(definitions, point)))
                    for start, point in zip(self.start, self.points)]
        if kept[0][1] is None:
            raise InputError("quantity: the optimizer's steps leave the real numbers at the spec's values")
        kept = [(start, values) for start, values in kept if values is not None]
        self.start, self.points = [start for start, _ in kept], [values for _, values in kept]
        self.symbols.update((s.name, s) for s, _ in definitions)
        self.__dict__.pop("_intervals", None)  # made again with the new names

    def _unknown(self, name: str) -> str:
        """did you mean ...? and the network's names (its parameters and forward and update quantities)."""
        names = [s.name for s in self.points[0] if not isinstance(s, (Partial, Dummy))]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        listed = ", ".join(names[:NAMES_LISTED]) + (f" and {len(names) - NAMES_LISTED} more" if len(names) > NAMES_LISTED else "")
        samples = self._samples()
        count = "" if not samples else f"; the spec has {samples} sample{'s' if samples > 1 else ''}" if "[" in name else ""
        return (f"did you mean {close[0]}? " if close else "") + f"the {self.NOUN} has {listed}{count}"

    NOUN = "network"
    """What the checker's quantities belong to, in its messages."""

    def _samples(self) -> int:
        """How many samples the network's passes are (a computation graph has none)."""
        return len(self.derivation.network.passes)

    def _total(self) -> Symbol:
        """The loss every gradient is of."""
        return self.derivation.network.total

    def quantity(self, symbol: Expr) -> Symbol:
        """The quantity to compare with: one of the network's, or a formula of them such as -delta_o1 or
        eta*dE_total/dw_5 (a textbook's Err_j = -delta_j, a step of an update), kept as a symbol of its own."""
        if isinstance(symbol, Symbol) and symbol in self.points[0]:
            return symbol
        unknown = [s for s in symbol.free_symbols if s not in self.points[0]]
        if unknown or not symbol.free_symbols:
            raise InputError(f"quantity: the network has no quantity {unknown[0] if unknown else symbol}")
        return self._scaled(symbol)

    def _scaled(self, expression: Expr) -> Symbol:
        """A symbol standing for a formula of quantities, defined after what it uses, evaluated at every point."""
        for scaled, defined in self.scaled.items():
            if defined == expression:
                return scaled
        scaled = Dummy(str(expression))
        self.scaled[scaled] = expression
        self.definitions.append((scaled, expression))
        self.defined[scaled] = expression
        for point in self.points:
            with mpmath.workdps(PRECISION):
                point[scaled] = evaluate(expression, point)
        return scaled

    def shown(self, quantity: Symbol) -> Expr:
        """The quantity as the person named it: a scaled quantity as its product."""
        return self.scaled.get(quantity, quantity)

    # Formulas

    def check_formula(self, formula: Expr, quantity: Symbol, symbolic: bool = True) -> Verdict:
        """Numbers first (at the spec's point and at random points), then the simplified difference,
        which is left out (None) when the formula is too large to expand, the time runs out, or `symbolic` is
        False (a whole solution's grade reads only the numbers' verdict)."""
        formula = self.as_read(formula, quantity)
        unknown = sorted((str(s) for s in formula.free_symbols if s not in self.points[0]))
        if unknown:
            raise InputError(f"--formula: the network has no quantity {unknown[0]}")
        values = [self._formula_value(formula, point) for point in self.points]
        expected = [point[quantity] for point in self.points]
        equal = all(close(a, b) for a, b in zip(values, expected))
        right = quantity if quantity in self.backward or formula == quantity else self.defined.get(quantity, quantity)
        difference = None
        if symbolic and _expanded_terms(formula) <= MAX_EXPANDED_TERMS:
            difference = attempt(SYMBOLIC_SHARE, lambda: simplify(
                (self._expand(formula) - self._expand(right)).xreplace(self.constraints)))
        shown = self.shown(quantity)
        if equal:
            return Verdict(shown, True, expected[0], values[0], symbolic=difference == 0)
        explanations = self._diagnose(
            quantity, self.points,
            judge=lambda mistaken, _: mistaken[0] if all(close(a, b) for a, b in zip(mistaken, values)) else None,
            differs=lambda mistaken: not all(close(a, b) for a, b in zip(mistaken, expected)), given=values[0])
        return Verdict(shown, False, expected[0], values[0], symbolic=difference is not None,
                       difference=difference, explanations=explanations)

    def as_read(self, formula: Expr, quantity: Symbol) -> Expr:
        """`formula` as a line about `quantity` means it: in a line of an optimizer's step k (`g_w5<2> =
        ∂E_total/∂w₅`), the model's quantities are those at the parameters before the step (`checks.steps`)."""
        return formula if self.steps is None else formula.xreplace(self.steps.reading(quantity))

    def _formula_value(self, formula: Expr, point: dict) -> mpmath.mpf:
        try:
            return self._value(formula, point)
        except (ArithmeticError, ValueError) as error:  # mpmath: an exponent beyond any machine integer
            raise InputError(f"--formula: cannot be evaluated at the network's numbers "
                             f"({type(error).__name__}: {_first_line(error)})") from None

    # Chains

    def check_chain(self, sides: list[Side], quantity: Symbol, hand: HandRounding | None = None) -> Verdict:
        """Every part of `a = b = c` against `quantity`: formulas symbolically, a bare number by the rounding
        model, a formula of printed numbers by the range they allow. One part gives that part's verdict;
        several give a verdict whose `parts` are theirs, right when all are, else like its first wrong part."""
        parts = []
        for side in sides:
            verdict = self.check_side(side, quantity, hand, parts[-1] if parts else None)
            parts.append(replace(verdict, written=side.written))
        if len(parts) == 1:
            return parts[0]
        wrong = [part for part in parts if not part.correct]
        head = wrong[0] if wrong else parts[-1]
        return replace(head, written=None, parts=tuple(parts))

    def check_side(self, side: Side, quantity: Symbol, hand: HandRounding | None = None,
                   before: Verdict | None = None) -> Verdict:
        """One part of a chain. A bare number that the part `before` it gives at its digits is right too
        (carried: 0.0822 after 0.7414 · 0.1868 · 0.5933), whatever the exact value rounds to."""
        numerals = side.numerals
        expression = side.expression
        if expression.free_symbols - numerals:  # a formula; its numbers exact, else at their printed digits
            formula = self.check_formula(expression.xreplace({n: n.value for n in numerals}), quantity)
            if formula.correct or not numerals:
                return formula
            numbers = self.check_numbers(expression, quantity)
            return numbers if numbers.correct else formula
        text = _numeral_text(expression)
        if text is not None:
            verdict = self.check_value(text, quantity, hand)
            if not verdict.correct and before is not None and before.correct and before.interval is not None:
                low, high = before.interval
                half = mpmath.mpf(10) ** -verdict.places / 2
                if low <= verdict.given + half and high >= verdict.given - half:
                    return replace(verdict, correct=True, rounding=CARRIED, explanations=[])
            return verdict
        return self.check_numbers(expression, quantity)

    def check_numbers(self, expression: Expr, quantity: Symbol) -> Verdict:
        """A formula with printed numbers in it: right when the network's value lies in the range the
        numbers allow, each anywhere within half a unit of its last digit (a number the spec gives taken as
        exact first, then as rounded too: 0.6 may be out_h1 rounded), or, failing that, each cut off there
        (truncated). In a line of an optimizer's step, its settings and the learning rate are exact each time
        (1 - 0.9 is 1 - β₁, not anything from 0.05 to 0.15). Mistakes are sought against the first, narrowest
        range."""
        expression = self.as_read(expression, quantity)
        expected = self.points[0][quantity]
        with mpmath.workdps(PRECISION):
            exact = {to_mpf(number) for number in self.steps.numbers(quantity)} if self.steps is not None else set()
        allowed, given = None, exact | set(self.start[0].values())
        for rule, exactly in ((ROUNDED, given), (ROUNDED, exact), (TRUNCATED, exact)):
            numbers = self._numbers_range(expression, rule, exactly)
            allowed = numbers if allowed is None else allowed
            if _within(numbers, expected):
                return Verdict(self.shown(quantity), True, expected, _middle(numbers),
                               rounding=None if rule == ROUNDED else rule, interval=bounds(numbers))
        explanations = self._diagnose(
            quantity, self.points[:1], judge=lambda mistaken, _: mistaken[0] if _within(allowed, mistaken[0]) else None,
            differs=lambda mistaken: not close(mistaken[0], expected), given=_middle(allowed))
        return Verdict(self.shown(quantity), False, expected, _middle(allowed), interval=bounds(allowed),
                       explanations=explanations)

    def _numbers_range(self, expression: Expr, rule: str, given: set[mpmath.mpf]):
        """Every value `expression` takes at the spec's point with each printed number anywhere it may have
        been before it was rounded (ROUNDED) or cut off (TRUNCATED), but those `given` (a weight, an input),
        taken as exact."""
        values = dict(self._intervals)
        for numeral in (s for s in expression.free_symbols if isinstance(s, Numeral)):
            with mpmath.workdps(PRECISION):
                value, unit = to_mpf(numeral.value), mpmath.mpf(10) ** -decimals_of(numeral.written)
                if value in given:
                    low, high = value, value
                elif rule == ROUNDED:
                    low, high = value - unit / 2, value + unit / 2
                else:  # toward zero, so the value lies beyond it
                    low, high = (value, value + unit) if value >= 0 else (value - unit, value)
            values[numeral] = interval(low, high)
        try:
            return evaluate_interval(expression, values)
        except KeyError as error:
            raise InputError(f"--formula: the network has no quantity {error.args[0]}") from None
        except (ArithmeticError, ValueError) as error:
            raise InputError(f"--formula: cannot be evaluated at the numbers written ({_first_line(error)})") from None

    # Numbers

    def check_value(self, text: str, quantity: Symbol, hand: HandRounding | None = None) -> Verdict:
        """A number against the quantity, at the decimals it is written with (numbers/rounding.py): right when
        rounded (an exact tie either way) or truncated from the value, or from the value after an update in
        another order, or from intermediates rounded by `hand` or to its own decimals."""
        places = decimals_of(text)
        given = printed_mpf(text)
        expected = self.points[0][quantity]
        shown = self.shown(quantity)
        how = how_written(expected, text)
        if how is not None:
            return Verdict(shown, True, expected, given, places, rounding=how)
        for order, value in self._other_orders(quantity).items():
            if rounds_to(value, text):
                return Verdict(shown, True, expected, given, places, order=order)
        for rounding in [*([hand] if hand is not None else []), HandRounding(rest=Rounding(places))]:
            by_hand = self._by_hand(self.definitions, quantity, rounding)
            if by_hand is not None and rounds_to(by_hand, text):
                return Verdict(shown, True, expected, given, places, by_hand=True, rounding=str(rounding))
        right = round_half_up(expected, places)
        explanations = self._diagnose(
            quantity, self.points[:1], judge=lambda mistaken, definitions: self._gives(definitions, quantity, mistaken[0], text),
            differs=lambda mistaken: round_half_up(mistaken[0], places) != right, given=given)
        slip = self._rounding_slip(quantity, text)
        if slip is not None:
            explanations = [slip] + [e for e in explanations if e.exact]
        return Verdict(shown, False, expected, given, places, explanations=explanations[:SHOWN])

    def _gives(self, definitions, quantity: Symbol, value: mpmath.mpf, text: str) -> mpmath.mpf | None:
        """The value a mistaken derivation gives that is the written number at its digits, worked exactly or
        with intermediates rounded to those digits; None when neither is."""
        if rounds_to(value, text):
            return value
        by_hand = self._by_hand(definitions, quantity, HandRounding(rest=Rounding(decimals_of(text))))
        return by_hand if by_hand is not None and rounds_to(by_hand, text) else None

    def _rounding_slip(self, quantity: Symbol, text: str) -> Explanation | None:
        """The first hand rounding that gives the written number: every intermediate to N decimals or N
        significant figures, half-up or truncated, or outputs and deltas each to their own decimals."""
        candidates = [HandRounding(rest=Rounding(digits, significant, rule)) for rule in ("half-up", "truncated")
                      for significant in (False, True) for digits in HAND_ROUNDING]
        candidates += [HandRounding((("outputs", Rounding(outputs)), ("deltas", Rounding(deltas))))
                       for outputs in range(2, 7) for deltas in range(2, 7)]
        for rounding in candidates:
            value = self._by_hand(self.definitions, quantity, rounding)
            if value is not None and rounds_to(value, text):
                uniform = rounding.rest if not rounding.kinds else None
                decimals = uniform.digits if uniform and not uniform.significant and uniform.rule == "half-up" else None
                return Explanation(Mistake("rounding", decimals=decimals, rounding=rounding), value, True,
                                   _distance(value, printed_mpf(text)))
        return None

    def _other_orders(self, quantity: Symbol) -> dict[str, mpmath.mpf]:
        """E_total after one update in each order other than the simultaneous one, for E_total^+."""
        if self.orders is None or quantity != name_symbol(name_of(self._total()).after_update()):
            return {}
        return {order: value for order, value in self.orders().items() if order != "simultaneous"}

    def own_mistakes(self, quantity: Symbol) -> list[tuple[Mistake, mpmath.mpf]]:
        """Each mistake made in `quantity`'s own definition, with the value it gives at the spec's point when
        everything it uses is right: a step's wrong answers, worked out before anyone types one (a tutor page).
        Only the definitions a mistake changes are evaluated (a checker that gives every one skips the rest)."""
        found = []
        for mistake, changes in self._mistakes(quantity, own=True):
            point = ChainMap({}, self.points[0])
            with mpmath.workdps(PRECISION):
                for symbol, expression in changes:
                    if self.defined.get(symbol) is not expression:  # the changed definition, or an early weight
                        point[symbol] = evaluate(expression, point)
            found.append((mistake, point[quantity]))
        return found

    # The search

    def _diagnose(self, quantity: Symbol, points: list[dict], judge: Callable, differs: Callable,
                  given: mpmath.mpf) -> list[Explanation]:
        """The mistakes that give what was written at `points` (`judge(values, definitions)` returns the value
        shown, or None), never one that gives the right value (`differs(values)` is False); when none gives it,
        only the closest of those that differ, with `exact` False. A mistake that differs at the spec's point and
        does not give what was written there is not evaluated at the other points."""
        found, closest = [], None
        for mistake, definitions in self._mistakes(quantity):
            values = [self._rerun(definitions, quantity, points[0])]
            if len(points) > 1 and (not differs(values) or judge(values, definitions) is not None):
                values += [self._rerun(definitions, quantity, point) for point in points[1:]]
            if not differs(values):
                continue
            value = judge(values, definitions)
            if value is not None:
                found.append(Explanation(mistake, value, True, _distance(value, given)))
            elif not found:
                candidate = Explanation(mistake, values[0], False, _distance(values[0], given))
                if closest is None or candidate.distance < closest.distance:
                    closest = candidate
        found.sort(key=lambda e: e.distance)
        return found[:SHOWN] if found else [closest] if closest is not None else []

    def _mistakes(self, quantity: Symbol, own: bool = False):
        """Each plausible mistake, with the definitions as they are once it is made; with `own`, only those made
        in `quantity`'s own definition, each with only the definitions it changes (a copy of every definition
        per mistake made a wide network's tutor page quadratic)."""
        network = self.derivation.network
        weights = [p for p in network.parameters if not p.is_bias]
        paths = _connections(network)
        siblings = _siblings(network)
        updated = {u.parameter.symbol: u.symbol for u in self.derivation.updates}
        for symbol in [quantity] if own else self._suspects(quantity):
            expression = self.defined[symbol]

            def changed(new: Expr) -> list[tuple[Symbol, Expr]]:
                return [(symbol, new)] if own else [(s, new if s == symbol else e) for s, e in self.definitions]

            present = expression.free_symbols
            for weight in [w for w in weights if w.symbol in present]:
                for other in weights:
                    if other.layer == weight.layer and other != weight and other.symbol not in present:
                        yield (Mistake("wrong-weight", other.symbol, weight.symbol, symbol, paths[weight.symbol]),
                               changed(expression.xreplace({weight.symbol: other.symbol})))
                early = self._with_updated(symbol, weight.symbol, updated.get(weight.symbol), own)
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
            yield from dropped_parts(symbol, expression, changed)
            yield from self._step_mistakes(symbol, changed)

    def _step_mistakes(self, symbol: Symbol, changed: Callable[[Expr], list]) -> Iterator[tuple[Mistake, list]]:
        """An optimizer's step k (from 2) reading the step before's gradient g_w<k-1> where its own g_w<k> belongs."""
        before = None if self.steps is None else self.steps.gradient_before(symbol)
        if before is not None:
            yield Mistake("stale-gradient", before, symbol, symbol), changed(before)

    def _textbook_delta(self, symbol: Symbol) -> Expr | None:
        """A softmax delta's (out - target)/N, when its sample's targets do not sum to 1 (soft labels):
        the form that holds only for a distribution, as a mistake someone makes with them."""
        delta = self.deltas.get(symbol)
        if delta is None or delta.target_sum is None or delta.targets[-1] in self.constraints:
            return None
        return delta.target_sum.distribution

    def _with_updated(self, symbol: Symbol, weight: Symbol, updated: Symbol | None, own: bool = False):
        """The definitions with `symbol` using the weight's updated value, or None when that value
        itself depends on `symbol` (or the weight is never updated); with `own`, only the two that change."""
        if updated is None:
            return None
        early = Dummy(f"{updated.name}(early)")
        if own:
            if symbol in self._upstream(updated):
                return None
            return [(early, self.defined[updated]), (symbol, self.defined[symbol].xreplace({weight: early}))]
        definitions = [(s, e.xreplace({weight: early}) if s == symbol else e) for s, e in self.definitions]
        try:
            return _dependency_order(definitions + [(early, self.defined[updated])])
        except ValueError:
            return None

    def _upstream(self, quantity: Symbol) -> set[Symbol]:
        """The defined symbols `quantity`'s definition depends on; kept per quantity (an updated weight's are
        asked once per definition that uses the weight)."""
        if quantity not in self._upstreams:
            self._upstreams[quantity] = set(self._reachable(quantity)) - {quantity}
        return self._upstreams[quantity]

    def _suspects(self, quantity: Symbol) -> list[Symbol]:
        """The definitions a mistake behind `quantity` is sought in, itself first: those it depends on; for a quantity
        of an optimizer's step only those of its own step (its lines, and the model at the parameters they read),
        as each step before has lines of its own to check."""
        reachable = self._reachable(quantity)
        if self.steps is None:
            return reachable
        step = self.steps.read_after(quantity)
        return [symbol for symbol in reachable if self.steps.read_after(symbol) == step]

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

    def _by_hand(self, definitions, quantity: Symbol, rounding: HandRounding) -> mpmath.mpf | None:
        """`quantity` with the intermediates rounded as `rounding` says at the spec's point; None when rounding
        that coarsely leaves no number (an output rounded to 0 under a logarithm)."""
        try:
            return self._run(_needed(definitions, quantity), self.start[0],
                             lambda symbol: rounding.of(self._kind(symbol)))[quantity]
        except ArithmeticError:
            return None

    def _kind(self, symbol: Symbol) -> str | None:
        """Which of HAND_KINDS an intermediate is, for a hand rounding that treats kinds apart."""
        if isinstance(symbol, Partial):
            gradient = symbol.of == self._total() and symbol.wrt in self.parameters
            return "gradients" if gradient else "deltas"
        if symbol in self.updated:
            return "updates"
        if isinstance(symbol, Dummy):
            return None
        return _KINDS.get(name_of(symbol).base)

    def _rerun(self, definitions: list[tuple[Symbol, Expr]], quantity: Symbol, point: dict) -> mpmath.mpf:
        """`quantity` as `definitions` (the checker's, a mistake made in them) give it at one of the checker's
        `point`s: only a definition that differs from the checker's, or reads one that does, is evaluated again
        (a mistake in a step's line need not evaluate the steps before it, nor the network, again)."""
        values, changed = ChainMap({}, point), set()
        with mpmath.workdps(PRECISION):
            for symbol, expression in definitions:
                if self.defined.get(symbol) is not expression or not self._reads(symbol).isdisjoint(changed):
                    changed.add(symbol)
                    values[symbol] = evaluate(expression, values)
                if symbol == quantity:
                    break
        return values[quantity]

    @cached_property
    def _uses(self) -> dict[Symbol, frozenset[Symbol]]:
        """What each definition reads, as `_reads` has found it so far."""
        return {}

    def _reads(self, symbol: Symbol) -> frozenset[Symbol]:
        """The symbols the checker's definition of `symbol` reads, kept per symbol."""
        if symbol not in self._uses:
            self._uses[symbol] = frozenset(self.defined[symbol].free_symbols)
        return self._uses[symbol]

    def _run(self, definitions, start: dict, hand_round: Callable[[Symbol], Rounding | None] | None = None) -> dict:
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


def _needed(definitions: list[tuple[Symbol, Expr]], quantity: Symbol) -> list[tuple[Symbol, Expr]]:
    """The definitions `quantity` depends on, in their order: a mistake in dE_total/dw_5 needs neither the
    other gradients nor the pass after the update."""
    defined = dict(definitions)
    needed, stack = set(), [quantity]
    while stack:
        symbol = stack.pop()
        if symbol in needed or symbol not in defined:
            continue
        needed.add(symbol)
        stack.extend(defined[symbol].free_symbols)
    return [(s, e) for s, e in definitions if s in needed]


def dropped_parts(symbol: Symbol, expression: Expr, changed: Callable[[Expr], list]) -> Iterator[tuple[Mistake, list]]:
    """The mistakes of a definition written with a part left out: each factor of a product dropped, each
    term of a sum missing; `changed(new)` gives the definitions with `symbol` defined as `new`."""
    if isinstance(expression, Mul):
        for factor in expression.args:
            yield Mistake("dropped-factor", factor, within=symbol), changed(Mul(*[f for f in expression.args
                                                                                if f is not factor]))
    if isinstance(expression, Add):
        for term in expression.args:
            yield Mistake("missing-term", term, within=symbol), changed(Add(*[t for t in expression.args
                                                                              if t is not term]) or S.Zero)


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


def _numeral_text(expression: Expr) -> str | None:
    """A side that is one number, as written (-0.217071535, 0, 1), else None."""
    sign = ""
    if expression.could_extract_minus_sign() and isinstance(-expression, Numeral):
        sign, expression = "-", -expression
    if isinstance(expression, Numeral):
        return sign + expression.written
    return str(expression) if expression.is_Integer else None


def _within(allowed, value: mpmath.mpf) -> bool:
    """`value` in the range, up to what `close` allows: the spec's numbers and the value are each exact only
    to the working precision."""
    low, high = bounds(allowed)
    return close(low, value) or close(high, value) or low <= value <= high


def _middle(value) -> mpmath.mpf:
    low, high = bounds(value)
    return (low + high) / 2


def _step(name: str) -> int:
    """The step a typed name is marked with (`w<2>`: 2), else 0."""
    try:
        return parse_key(name).step or 0
    except ValueError:
        return 0


def real_values(compute: Callable[[], dict]) -> dict | None:
    """`compute()`'s values when every one is a finite real number, else None (a log of a negative number
    at a random point)."""
    try:
        values = compute()
    except (ArithmeticError, ValueError, TypeError):
        return None
    return values if all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) for v in values.values()) else None


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [""])[0]


def close(a: mpmath.mpf, b: mpmath.mpf) -> bool:
    """Equal to half the working precision: the test of an identity at a point."""
    return abs(a - b) <= mpmath.mpf(10) ** (-PRECISION // 2) * max(1, abs(a), abs(b))


def _distance(value: mpmath.mpf, given: mpmath.mpf) -> mpmath.mpf:
    return abs(value - given) / max(abs(given), mpmath.mpf(10) ** -PRECISION)
