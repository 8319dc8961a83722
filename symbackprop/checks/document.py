"""Reproduce a published worked example: every number and formula it prints, against the engine.

Each source is `documents/<name>.toml`: its title, author, URL and date, the spec it works
(`spec`: a built-in example's name, or a JSON file beside it), its `kind` (`network` for a
layered network, `graph` for a computation graph, `layers` for a layer spec, solved by the graph it
expands to), and the values it prints, verbatim, each named by the engine's name: a forward value, a
gradient (dE/dK_1,2), an updated parameter (w_5^+, or K_1,2^+ when the spec has a learning rate), or a
quantity of the optimizer's first `optimizer_steps` steps (g_w1<2>, m_w1<2>, w_1<2>). A number matches only when
the engine's value, rounded half-up to the printed number of decimals, is the printed
string exactly. A formula matches when both sides agree as functions of the network's
inputs, targets and parameters (evaluated at the spec's point and at random points).
Where something does not match, the note says what the engine finds does produce the
printed value: a double's rounding of a long number, rounding intermediates by hand, the
source's own printed values carried to the next line (or cut instead of rounded), the other
order of update, or a nearby number of training rounds. Every finding is computed.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources

import mpmath
from sympy import Expr, Symbol

from symbackprop.derivation import Derivation
from symbackprop.derivation.graph import GraphDerivation
from symbackprop.numbers.graph_training import update_definitions
from symbackprop.numbers.optimizers import network_trainee, worked_steps
from symbackprop.errors import InputError
from symbackprop.formulas import read_equation
from symbackprop.network import Partial
from symbackprop.names import name_of
from symbackprop.checks.verify import Checker, close
from symbackprop.numbers.evaluate import PRECISION, evaluate, evaluate_definitions
from symbackprop.numbers.graph import graph_point, graph_values
from symbackprop.numbers.point import pass_values, spec_values
from symbackprop.numbers.rounding import decimals_of, round_half_up, rounds_to
from symbackprop.numbers.training import ORDERS, backward_sequence, compile_gradient, train
from symbackprop.spec.graph import GraphSpec
from symbackprop.spec.layers import LayersSpec
from symbackprop.spec.load import any_spec_from_dict, load_any_spec

TEXT_ORDER = "simultaneous"
"""The order of update the document's text describes: hidden gradients from the original output weights."""
STEP_SEARCH = 5
"""How many rounds either side of the stated count are tried when a training figure does not match."""
DOUBLE_ULPS = 4
"""A printed number this many units in the last place of a double from the exact value is floating-point noise."""
UNTRACED = "a double's rounding only: an optimizer's steps are not varied by hand rounding or carried values"
"""What is tried for a quantity of an optimizer's steps, which no line of the pass assigns."""
SAMPLE_VARIANCE = ("each normalization's variance divided by m - 1 instead of m (the sample variance, Bessel's "
                   "correction, torch.var's default)")
"""A variation for a layer spec's batch or layer norm: a source that normalizes by the sample variance."""
KINDS = ("network", "graph", "layers")
SOURCE_FIELDS = ("title", "author", "url", "date")
"""What a source file says about where its numbers come from (facts, not its prose)."""


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
    return sorted(entry.name.removesuffix(".toml") for entry in _folder().iterdir() if entry.name.endswith(".toml"))


def load_document(name: str) -> dict:
    """A source's TOML, its header checked: every source field, a known kind, a spec."""
    if name not in document_names():
        raise InputError(f"document: unknown document {name!r} (known: {', '.join(document_names())})")
    document = tomllib.loads((_folder() / f"{name}.toml").read_text(encoding="utf-8"))
    missing = [key for key in (*SOURCE_FIELDS, "kind", "spec") if not isinstance(document.get(key), str)]
    if missing:
        raise ValueError(f"documents/{name}.toml: {missing[0]} is missing")
    if document["kind"] not in KINDS:
        raise ValueError(f"documents/{name}.toml: kind must be one of {', '.join(KINDS)}")
    steps = document.get("optimizer_steps")
    if steps is not None and (document["kind"] != "network" or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"documents/{name}.toml: optimizer_steps is a positive whole number, for a network only")
    return document


def document_spec(document: dict) -> str | dict:
    """The spec a source works: a built-in example's name, or the parsed JSON file it names."""
    if not document["spec"].endswith(".json"):
        return document["spec"]
    return json.loads((_folder() / document["spec"]).read_text(encoding="utf-8"))


def _folder():
    return resources.files("symbackprop.checks") / "documents"


def reproduce(derivation: Derivation | GraphDerivation, document: dict) -> list[Row]:
    """The verdict on every row of `document` for `derivation`: a layered network's, a graph's, or the graph a
    layer spec expands to."""
    if document["kind"] != spec_kind(document_spec(document)):
        raise ValueError(f"{document['title']}: its kind is {document['kind']}, its spec is not")
    if isinstance(derivation, GraphDerivation):
        return _GraphReproduction(derivation).rows(document["row"])
    return _Reproduction(derivation, document.get("optimizer_steps", 0)).rows(document["row"])


def spec_kind(spec: str | dict) -> str:
    """`network`, `graph` or `layers`: what a source's spec is, as its `kind` must say."""
    loaded = any_spec_from_dict(spec) if isinstance(spec, dict) else load_any_spec(spec)
    return "layers" if isinstance(loaded, LayersSpec) else "graph" if isinstance(loaded, GraphSpec) else "network"


class _Numbers:
    """A printed number against the engine: the same digits at the printed decimals, or what gives them."""

    values: dict[Symbol, mpmath.mpf]
    start: dict[Symbol, mpmath.mpf]
    """The spec's values, where every pass starts."""
    orders: tuple[str, ...] = (TEXT_ORDER,)
    tried = "hand rounding, the source's own rounded values carried forward"

    def rows(self, entries: list[dict]) -> list[Row]:
        self.printed: dict[Symbol, mpmath.mpf] = {}
        """Each number printed so far, in the engine's sign, as a person carries it to the next line."""
        return [self.formula_row(e) if "formula" in e else self.number_row(e) for e in entries]

    def sequence(self, order: str) -> list[tuple[Symbol, Expr]]:
        """Every assignment of the forward and backward pass, in `order`."""
        raise NotImplementedError

    @cached_property
    def traced(self) -> set[Symbol]:
        """The quantities the pass assigns line by line: those hand rounding and carried values can vary (an
        optimizer's later steps read gradients at updated parameters, which no line assigns)."""
        return set(self.start) | {target for target, _ in self.sequence(TEXT_ORDER)}

    def number_row(self, entry: dict) -> Row:
        symbol = self.resolve(entry["quantity"])
        printed, steps = entry["document"], entry.get("steps")
        places = decimals_of(printed)
        sign = -1 if entry.get("convention") == "negated-delta" else 1
        value = _signed(sign, self.value_of(symbol, steps))
        alternatives = {order: _signed(sign, v) for order, v in self.alternatives(symbol, steps).items()}
        rounded = format(round_half_up(value, places), "f")
        matched = rounded == printed
        remark = entry.get("remark", "")
        note = remark if matched else self.explain(symbol, printed, steps, sign, remark)
        if steps is None:
            with mpmath.workdps(PRECISION):
                self.printed.setdefault(symbol, sign * mpmath.mpf(printed))
        return Row(entry["section"], symbol, steps, printed, value, rounded,
                   "match" if matched else "erratum", note, alternatives)

    def explain(self, symbol: Symbol, printed: str, steps: int | None, sign: int, remark: str) -> str:
        """What the engine finds does produce a printed number that the exact procedure does not."""
        places = decimals_of(printed)
        findings = self.findings(symbol, printed, steps, sign)
        if not findings:
            tried = self.tried if steps is not None or symbol in self.traced else UNTRACED
            findings.append(f"no variation the engine tries ({tried}) produces the printed value")
        exact = _signed(sign, self.value_of(symbol, steps))
        text = f"the exact value rounds to {format(round_half_up(exact, places), 'f')}; " + "; ".join(findings) + "."
        return f"{text} {remark}".strip()

    def findings(self, symbol: Symbol, printed: str, steps: int | None, sign: int) -> list[str]:
        places = decimals_of(printed)
        if _within_double_rounding(printed, _signed(sign, self.value_of(symbol, steps))):
            return [f"it is within {DOUBLE_ULPS} units in the last place of a double (about 16 significant digits) "
                    "of the exact value: floating-point rounding in the source's program, not a mistake"]
        if steps is not None or symbol not in self.traced:
            return []
        by_hand = _attempted(lambda: _signed(sign, self.hand_rounded(places)[symbol]))
        if by_hand is not None and rounds_to(by_hand, printed):
            return [f"carrying every intermediate rounded to {places} decimals, as by hand, gives "
                    f"{format(round_half_up(by_hand, places), 'f')}: a rounding slip, the method is right"]
        carried = {order: _attempted(lambda order=order: _signed(sign, self.carried(symbol, order)))
                   for order in self.orders}
        carried = {order: value for order, value in carried.items() if value is not None}
        if TEXT_ORDER not in carried:
            return []
        if rounds_to(carried[TEXT_ORDER], printed):
            return ["computing it from the source's own rounded values of the lines before, as printed, gives it: "
                    "the rounding carried forward, not a wrong method"]
        if _truncated(carried[TEXT_ORDER], places) == printed:
            return ["computing it from the source's own rounded values of the lines before, as printed, and "
                    f"cutting the digits after the {_ordinal(places)} decimal instead of rounding gives it"]
        return [f"computing it from the source's own rounded values of the lines before, as printed, in the "
                f"'{order}' order of update (the hidden layer's gradient taken through the output weights already "
                "updated), gives it" for order in self.orders[1:] if order in carried and rounds_to(carried[order], printed)]

    def carried(self, symbol: Symbol, order: str) -> mpmath.mpf:
        """`symbol` computed from the printed values of the rows before it in place of the exact ones."""
        known = dict(self.start)
        printed = self.aliases()
        with mpmath.workdps(PRECISION):
            for target, expression in self.sequence(order):
                overridden = target in printed and target != symbol
                known[target] = printed[target] if overridden else evaluate(expression, known)
        return known[symbol]

    def aliases(self) -> dict[Symbol, mpmath.mpf]:
        """The printed values, each also standing for every intermediate with the same exact value (the
        engine's dE_o1/dnet_o1 is the printed delta_o1 when there is one output): what a person carries."""
        same = {}
        for symbol, value in self.values.items():
            if symbol not in self.start:
                for known, printed in self.printed.items():
                    if mpmath.almosteq(value, self.values[known], rel_eps=mpmath.mpf(10) ** -40):
                        same[symbol] = printed
        return same

    def alternatives(self, symbol: Symbol, steps: int | None) -> dict[str, mpmath.mpf]:
        return {}


class _Reproduction(_Numbers):
    """A layered network: numbers (after training too) and formulas."""

    tried = (f"hand rounding, the source's own rounded values carried forward, either order of update, "
             f"{STEP_SEARCH} rounds either side")
    orders = (TEXT_ORDER, *(order for order in ORDERS if order != TEXT_ORDER))

    def __init__(self, derivation: Derivation, optimizer_steps: int = 0):
        self.derivation = derivation
        self.network = derivation.network
        self.checker = Checker(derivation)
        self.steps = (worked_steps(network_trainee(derivation), self.network.spec.optimizer, optimizer_steps,
                                   compile_gradient(derivation, "mpmath", outputs=True)).values
                      if optimizer_steps else {})
        """The spec's optimizer's first steps, every line's value by name (g_w1<2>, m_w1<2>, w_1<2>)."""
        self.values = {**self.checker.points[0], **self.steps}
        self.start = spec_values(self.network)
        self.formulas: dict[Symbol, Expr] = dict(self.network.forward_definitions())
        self.formulas.update((d.symbol, d.expression) for d in derivation.definitions)
        self.formulas.update((d.symbol, d.form) for d in derivation.local_derivatives)
        self._training: dict[str, tuple] = {}
        self._hand_rounded: dict[int, dict[Symbol, mpmath.mpf]] = {}
        self._updated: dict[str, dict[Symbol, mpmath.mpf]] = {}

    def sequence(self, order: str) -> list[tuple[Symbol, Expr]]:
        return self.network.forward_definitions() + backward_sequence(self.derivation, order)

    def resolve(self, name: str) -> Symbol:
        """A quantity of the optimizer's steps by its name, or any other by the checker's names."""
        return next((symbol for symbol in self.steps if symbol.name == name), None) or self.checker.resolve(name)

    def alternatives(self, symbol: Symbol, steps: int | None) -> dict[str, mpmath.mpf]:
        """The value by each other order of update (training figures and updated parameters)."""
        if steps is None and symbol not in self.updated(TEXT_ORDER):
            return {}
        return {order: self.by_order(symbol, order, steps) for order in ORDERS if order != TEXT_ORDER}

    def by_order(self, symbol: Symbol, order: str, steps: int | None) -> mpmath.mpf:
        return self.updated(order)[symbol] if steps is None else self.trained(symbol, order, steps)

    def findings(self, symbol: Symbol, printed: str, steps: int | None, sign: int) -> list[str]:
        if steps is None:
            for order in ORDERS:
                if order != TEXT_ORDER and symbol in self.updated(order) and self.order_matters(symbol, order) \
                        and _gives(_signed(sign, self.by_order(symbol, order, None)), printed):
                    return [f"the '{order}' order of update gives it: the hidden layer's gradient taken "
                            "through the output weights already updated"]
            return super().findings(symbol, printed, steps, sign)
        found = super().findings(symbol, printed, steps, sign)
        for order in ORDERS:
            for count in _nearest_first(steps, STEP_SEARCH):
                if rounds_to(_signed(sign, self.trained(symbol, order, count)), printed):
                    when = (f"({_rounds(steps)}, as stated)" if count == steps
                            else f"after {_rounds(count)} instead of the stated {steps:,}")
                    found.append(f"the '{order}' order of update gives it {when}")
                    break
        return found

    def order_matters(self, symbol: Symbol, order: str) -> bool:
        """The update of `symbol` differs in `order` (a hidden weight's does; an output weight's does not)."""
        exact = self.values[symbol]
        with mpmath.workdps(PRECISION):
            return not mpmath.almosteq(self.updated(order)[symbol], exact, rel_eps=mpmath.mpf(10) ** -30)

    def updated(self, order: str) -> dict[Symbol, mpmath.mpf]:
        """Every parameter after one update in `order`, by its updated symbol (w_5^+)."""
        if order not in self._updated:
            after = train(self.derivation, 1, order).parameters
            self._updated[order] = {update.symbol: after[update.parameter.name]
                                    for update in self.derivation.updates}
        return self._updated[order]

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
                    mismatches.append((index, point is self.checker.points[0], a, b))
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


class _GraphReproduction(_Numbers):
    """A computation graph: every printed node value and adjoint (df/dx) at the spec's values."""

    def __init__(self, derivation: GraphDerivation):
        self.derivation = derivation
        self.updates = update_definitions(derivation) if derivation.graph.spec.learning_rate is not None else []
        """v+ = v - eta dE/dv for every trainable name, when the spec gives a learning rate."""
        with mpmath.workdps(PRECISION):
            self.values = evaluate_definitions(self.updates, graph_values(derivation))
        self.start = graph_point(derivation.graph)
        self.symbols = {symbol.name: symbol for symbol in self.values}
        self._hand_rounded: dict[int, dict[Symbol, mpmath.mpf]] = {}

    def sequence(self, order: str) -> list[tuple[Symbol, Expr]]:
        return [*((node.symbol, node.expression) for node in self.derivation.graph.nodes),
                *self.derivation.definitions(), *self.updates]

    def resolve(self, name: str) -> Symbol:
        if name not in self.symbols:
            raise InputError(f"document: the graph has no quantity {name!r}")
        return self.symbols[name]

    def value_of(self, symbol: Symbol, steps: int | None) -> mpmath.mpf:
        if steps is not None:
            raise InputError(f"document: {symbol.name} after training: a graph is not trained")
        return self.values[symbol]

    def hand_rounded(self, places: int) -> dict[Symbol, mpmath.mpf]:
        """The forward and backward pass with every node and derivative rounded to `places` decimals."""
        if places not in self._hand_rounded:
            with mpmath.workdps(PRECISION):
                self._hand_rounded[places] = evaluate_definitions(self.sequence(TEXT_ORDER), self.start, places)
        return self._hand_rounded[places]

    def formula_row(self, entry: dict) -> Row:
        raise InputError(f"document: {entry['formula']!r}: formulas are checked for layered networks only")

    @property
    def tried(self) -> str:
        return _Numbers.tried + (f", {SAMPLE_VARIANCE}" if self.sample_variance else "")

    def findings(self, symbol: Symbol, printed: str, steps: int | None, sign: int) -> list[str]:
        found = super().findings(symbol, printed, steps, sign)
        variant = self.sample_variance.get(symbol)
        if not found and variant is not None and rounds_to(_signed(sign, variant), printed):
            found.append(f"{SAMPLE_VARIANCE} gives it")
        return found

    @cached_property
    def sample_variance(self) -> dict[Symbol, mpmath.mpf]:
        """Every node's value with each normalization's variance, var = 1/m sum (x - mu)^2, divided by m - 1
        instead of m; empty when the graph has no such variance."""
        nodes, changed = [], False
        for node in self.derivation.graph.nodes:
            expression = node.expression
            coefficient, total = expression.as_coeff_Mul()
            mean = coefficient.is_Rational and coefficient.p == 1 and coefficient.q > 1  # 1/m times a sum
            if name_of(node.symbol).base == "var" and mean:
                expression, changed = total / (coefficient.q - 1), True
            nodes.append((node.symbol, expression))
        if not changed:
            return {}
        with mpmath.workdps(PRECISION):
            return evaluate_definitions(nodes, self.start)


def _attempted(compute: Callable[[], mpmath.mpf]) -> mpmath.mpf | None:
    """A variation's value, or None when it leaves no number (a value rounded to 0 that is divided by)."""
    try:
        value = compute()
    except ArithmeticError:
        return None
    return value if isinstance(value, mpmath.mpf) and mpmath.isfinite(value) else None


def _gives(value: mpmath.mpf, printed: str) -> bool:
    """`value` is what was printed: the same digits, or the same number up to a double's rounding."""
    return rounds_to(value, printed) or _within_double_rounding(printed, value)


def _within_double_rounding(printed: str, exact: mpmath.mpf) -> bool:
    """A number printed with more digits than a double holds, off the exact value only by a double's rounding."""
    significant = len(printed.lstrip("-").replace(".", "").lstrip("0"))
    with mpmath.workdps(PRECISION):
        gap = abs(mpmath.mpf(printed) - exact)
        return significant >= 15 and gap <= DOUBLE_ULPS * mpmath.mpf(2) ** -52 * abs(exact)


def _truncated(value: mpmath.mpf, places: int) -> str:
    """`value` with its digits after `places` decimals cut off, as printed by someone who truncates."""
    with mpmath.workdps(PRECISION):
        scaled = value * 10 ** places
        kept = int(mpmath.nint(scaled)) if mpmath.almosteq(scaled, mpmath.nint(scaled), abs_eps=1e-30) else int(scaled)
    digits = f"{abs(kept):0{places + 1}d}"
    whole, fraction = digits[:len(digits) - places], digits[len(digits) - places:]
    return ("-" if value < 0 else "") + whole + ("." + fraction if places else "")


def _ordinal(number: int) -> str:
    return f"{number}{'th' if 10 <= number % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th')}"


def _signed(sign: int, value: mpmath.mpf) -> mpmath.mpf:
    """The value in the source's sign convention (-1: its delta is -dE/dnet), at full precision."""
    with mpmath.workdps(PRECISION):
        return sign * value


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
