"""Reproduce a printed document: every number and formula it prints, against the engine.

The printed values live in `documents/<name>.toml` verbatim. A number matches only when
the engine's value, rounded half-up to the printed number of decimals, is the printed
string exactly. A formula matches when both sides agree as functions of the network's
inputs, targets and parameters (evaluated at the spec's point and at random points).
Where something does not match, the note says what the engine finds does produce the
printed value: rounding intermediates by hand, the other order of update, or a nearby
number of training rounds.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources

import mpmath
from sympy import Expr, Symbol

from symbackprop.derivation import Derivation
from symbackprop.errors import InputError
from symbackprop.formulas import read_equation
from symbackprop.network import Partial
from symbackprop.names import name_of
from symbackprop.checks.verify import Checker, close
from symbackprop.numbers.evaluate import PRECISION, evaluate
from symbackprop.numbers.point import pass_values
from symbackprop.numbers.rounding import decimals_of, round_half_up, rounds_to
from symbackprop.numbers.training import ORDERS, train

TEXT_ORDER = "simultaneous"
"""The order of update the document's text describes: hidden gradients from the original output weights."""
STEP_SEARCH = 5
"""How many rounds either side of the stated count are tried when a training figure does not match."""


@dataclass(frozen=True)
class Row:
    """One printed number or formula and the engine's verdict on it."""

    section: str
    quantity: Expr
    """The symbol printed (or the left side of the printed formula)."""
    steps: int | None
    """For training figures: after how many rounds."""
    document: str
    """As printed, verbatim."""
    computed: mpmath.mpf | Expr
    """The value by the text's procedure, or the engine's own formula for `quantity`."""
    rounded: str | None
    """`computed` rounded half-up to the printed number of decimals (numbers only)."""
    status: str
    note: str
    alternatives: dict[str, mpmath.mpf] = field(default_factory=dict)
    """The value by each other order of update (training figures only)."""


def document_names() -> list[str]:
    folder = resources.files("symbackprop.checks") / "documents"
    return sorted(entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml"))


def load_document(name: str) -> dict:
    if name not in document_names():
        raise InputError(f"document: unknown document {name!r} (known: {', '.join(document_names())})")
    text = (resources.files("symbackprop.checks") / "documents" / f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def reproduce(derivation: Derivation, document: dict) -> list[Row]:
    """The verdict on every row of `document` for the network of `derivation`."""
    return _Reproduction(derivation).rows(document["row"])


class _Reproduction:
    def __init__(self, derivation: Derivation):
        self.derivation = derivation
        self.network = derivation.network
        self.checker = Checker(derivation)
        self.values = self.checker.points[0]
        self.formulas: dict[Symbol, Expr] = dict(self.network.forward_definitions())
        self.formulas.update((d.symbol, d.expression) for d in derivation.definitions)
        self.formulas.update((d.symbol, d.form) for d in derivation.local_derivatives)
        self._training: dict[str, tuple] = {}
        self._hand_rounded: dict[int, dict[Symbol, mpmath.mpf]] = {}

    def rows(self, entries: list[dict]) -> list[Row]:
        return [self.formula_row(e) if "formula" in e else self.number_row(e) for e in entries]

    # Numbers

    def number_row(self, entry: dict) -> Row:
        symbol = self.checker.resolve(entry["quantity"])
        printed, steps = entry["document"], entry.get("steps")
        places = decimals_of(printed)
        if steps is None:
            value, alternatives = self.values[symbol], {}
        else:
            value = self.trained(symbol, TEXT_ORDER, steps)
            alternatives = {order: self.trained(symbol, order, steps) for order in ORDERS if order != TEXT_ORDER}
        rounded = format(round_half_up(value, places), "f")
        matched = rounded == printed
        note = entry.get("remark", "") if matched else self.explain(symbol, printed, steps, entry.get("remark", ""))
        return Row(entry["section"], symbol, steps, printed, value, rounded,
                   "match" if matched else "erratum", note, alternatives)

    def explain(self, symbol: Symbol, printed: str, steps: int | None, remark: str) -> str:
        """What the engine finds does produce a printed number that the exact procedure does not."""
        places = decimals_of(printed)
        findings = []
        if steps is None:
            by_hand = self.hand_rounded(places)[symbol]
            if rounds_to(by_hand, printed):
                findings.append(f"carrying every intermediate rounded to {places} decimals, as by hand, gives "
                                f"{format(round_half_up(by_hand, places), 'f')}: a rounding slip, the method is right")
        else:
            for order in ORDERS:
                for count in _nearest_first(steps, STEP_SEARCH):
                    if rounds_to(self.trained(symbol, order, count), printed):
                        when = (f"({_rounds(steps)}, as stated)" if count == steps
                                else f"after {_rounds(count)} instead of the stated {steps:,}")
                        findings.append(f"the '{order}' order of update gives it {when}")
                        break
        if not findings:
            findings.append("no variation the engine tries (hand rounding, either order of update, "
                            f"{STEP_SEARCH} rounds either side) produces the printed value")
        text = f"the exact value rounds to {format(round_half_up(self.value_of(symbol, steps), places), 'f')}; " \
               + "; ".join(findings) + "."
        return f"{text} {remark}".strip()

    def value_of(self, symbol: Symbol, steps: int | None) -> mpmath.mpf:
        return self.values[symbol] if steps is None else self.trained(symbol, TEXT_ORDER, steps)

    def hand_rounded(self, places: int) -> dict[Symbol, mpmath.mpf]:
        if places not in self._hand_rounded:
            self._hand_rounded[places] = pass_values(self.derivation, hand_round=places)
        return self._hand_rounded[places]

    def trained(self, symbol: Symbol, order: str, steps: int) -> mpmath.mpf:
        """E_total or an output after `steps` rounds in `order` (one run per order, search window included)."""
        if len(self._training.get(order, ())) <= steps:
            self._training[order] = train(self.derivation, steps + STEP_SEARCH, order).history
        error, outputs = self._training[order][steps]
        if symbol == self.network.total:
            return error
        labels = list(self.network.outputs)
        if symbol not in labels:
            raise InputError(f"document: {symbol.name} after training is not reported (only E_total and outputs)")
        return outputs[labels.index(symbol)]

    # Formulas

    def formula_row(self, entry: dict) -> Row:
        printed = entry["formula"]
        sides = read_equation(printed, self.checker.resolve)
        negate = entry.get("convention") == "negated-delta"
        mismatches = []
        for index, (left, right) in enumerate(zip(sides, sides[1:])):
            for point in self.checker.points:
                a, b = self.value_in(left, point, negate), self.value_in(right, point, negate)
                if not close(a, b):
                    mismatches.append((index, point is self.values, a, b))
                    break
        head = sides[0]
        engine = self.formulas.get(head, head)
        remark = entry.get("remark", "")
        if not mismatches:
            return Row(entry["section"], head, None, printed, engine, None, "match", remark)
        index, at_spec, a, b = mismatches[0]
        where = "at the spec's point" if at_spec else "at a random point"
        side = "it" if len(sides) == 2 else f"equality {index + 1} of {len(sides) - 1}"
        note = (f"The network does not satisfy {side}: {where} the left side is {mpmath.nstr(a, 12)} and the "
                f"right side {mpmath.nstr(b, 12)}. The engine's formula is in the computed column.")
        return Row(entry["section"], head, None, printed, engine, None, "erratum", f"{note} {remark}".strip())

    def value_in(self, expr: Expr, point: dict[Symbol, mpmath.mpf], negate_deltas: bool) -> mpmath.mpf:
        with mpmath.workdps(PRECISION):
            if negate_deltas:
                point = {s: (-v if _is_delta(s) else v) for s, v in point.items()}
            return evaluate(expr, point)


def _is_delta(quantity: Symbol) -> bool:
    """A node delta (delta_o1), the quantity the document's text negates."""
    return not isinstance(quantity, Partial) and name_of(quantity).base == "delta"


def _rounds(count: int) -> str:
    return f"{count:,} round" + ("" if count == 1 else "s")


def _nearest_first(center: int, radius: int) -> list[int]:
    """center, center - 1, center + 1, ... within radius, never below 0."""
    counts = [center]
    for offset in range(1, radius + 1):
        counts += [c for c in (center - offset, center + offset) if c >= 0]
    return counts
