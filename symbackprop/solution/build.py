"""Assemble a worked solution in the document's order from the derivation and its values.

Forward pass and total error, then each layer from the output back: for every parameter
the chain rule as a goal, each factor not shown before (derived from its local
expression), the product with numbers, the delta-rule form, the node delta, and the
update; then all updates together, and the error after one update in both orders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import mpmath

from sympy import Abs, Derivative, Eq, Expr, Max, Mul, Pow, Rational, Symbol, preorder_traversal

from symbackprop.checks.finite_differences import (
    ABSOLUTE_EXPONENT, DOUBLE_TOLERANCE_FACTOR, FD_DIGITS, FD_EXPONENT, REQUIRED_DIGITS, TRUNCATION_FACTOR,
    ZERO_FLOOR_EXPONENT, GradientCheck,
)
from symbackprop.checks.graph import AdjointCheck
from symbackprop.checks.penalty import PenaltyCheck
from symbackprop.derivation import Delta, Derivation, Gradient, LocalDerivative
from symbackprop.network import Network, Parameter
from symbackprop.derivation.rules import RewriteRule, applied, fold_product, fold_sum, rule_steps, written_out
from symbackprop.network.symbols import TOTAL_ERROR, updated_symbol
from symbackprop.network.unevaluated import unevaluated_sum
from symbackprop.numbers.evaluate import to_mpf
from symbackprop.numbers.kinks import Kink, kinks
from symbackprop.numbers.point import pass_values, spec_values
from symbackprop.numbers.rounding import display_numerals, fixed, general, significant, tabulated
from symbackprop.numbers.training import ORDERS, error_after_update
from symbackprop.solution.figure import Figure, network_figure, path_figure
from symbackprop.solution.model import Note, Section, Step, Table, WorkedSolution
from symbackprop.spec import Spec

ERROR_AFTER_UPDATE = updated_symbol(TOTAL_ERROR)
DETAILS = ("brief", "full")
RULE_NAMES = {
    "ConstantRule": "constant rule",
    "IdentityRule": "d x/d x = 1",
    "SumRule": "sum rule",
    "ConstantMultipleRule": "constant multiple rule",
    "ProductRule": "product rule",
    "PowerRule": "power rule, with the chain rule",
    "ExpRule": "exponential rule, with the chain rule",
    "LogRule": "logarithm rule, with the chain rule",
    "FunctionRule": "derivative of the function, with the chain rule",
    "PiecewiseRule": "piece by piece",
    "MaxRule": "the maximum's derivative: its arg-max's, with the chain rule",
    "RewriteRule": "the {identity} identity, in terms of the output",
}
"""The name of each rule, as a full derivation labels its lines."""

FIXED_BIASES = ("The biases are not updated, although their gradients are found: the spec keeps the biases fixed "
                "(update_biases is false, the default), as the reference document does, which updates only the "
                "weights. Set update_biases to true in the spec to update the biases as well.")
"""Why a solution that derives the biases' gradients lists no bias update."""

SAMPLE_PARTS = ("Only its own term of E_total depends on a sample's outputs, so the derivatives by a sample's "
                "outputs start from that term.")
"""Why, in a batch, dE_total/dout of a sample is the derivative of that sample's part of E_total."""

SOFT_LABELS = ("These targets do not sum to 1 (soft labels, or rounded probabilities), so the delta keeps their sum: "
               "the textbook (out - target)/N holds only for targets that sum to 1.")
"""Why a softmax delta under cross-entropy stops short of (out - target)/N."""

_ORDER_NOTES = {
    "simultaneous": "every gradient from the weights before the update (the procedure of the text)",
    "output-first": "output layer updated first, lower layers back-propagating through its new weights",
}


def worked_solution(derivation: Derivation, places: int = 9, hand_round: int | None = None,
                    checks: list[GradientCheck] | None = None, detail: str = "brief",
                    after_update: Mapping[str, mpmath.mpf] | None = None) -> WorkedSolution:
    """The whole worked solution, every number shown to `places` decimals.

    `hand_round=N` carries every intermediate rounded to N decimals, as a solution worked
    by hand does, instead of at full precision. `checks`, when given, are shown at the end.
    `detail="full"` shows every differentiation rule applied; "brief" only each factor.
    `after_update`: E_total after one update in each order (`numbers.training.error_after_update`),
    worked out here when not given.
    """
    if detail not in DETAILS:
        raise ValueError(f"unknown detail {detail!r}")
    values = pass_values(derivation, hand_round)
    numerals = display_numerals(values, places)
    if after_update is None:
        after_update = {order: error_after_update(derivation, order) for order in ORDERS}
    solution = _Builder(derivation, numerals, places, detail).build(after_update)
    if hand_round is not None:
        note = Note(f"Every intermediate is rounded to {hand_round} decimals before it is used, as by hand.")
        solution = replace(solution, sections=(replace(solution.sections[0], items=(note,) + solution.sections[0].items),)
                           + solution.sections[1:])
    at_kink = kink_section(kinks(derivation.network, values))
    if at_kink is not None:
        solution = replace(solution, sections=solution.sections[:1] + (at_kink,) + solution.sections[1:])
    if checks is None:
        return solution
    return replace(solution, sections=solution.sections + (check_section(derivation, checks),))


def fixed_biases_note(spec: Spec) -> tuple[Note, ...]:
    """The note that says why no bias is updated, when the spec has biases and keeps them fixed."""
    if spec.update_biases or all(layer.bias is None for layer in spec.layers):
        return ()
    return (Note(FIXED_BIASES),)


def penalty_kink_notes(network: Network, shown: list[tuple[Symbol, Parameter]],
                       values: Mapping[Symbol, mpmath.mpf]) -> list[Note]:
    """A note for each l1-penalized parameter that is exactly 0 (`shown`: the symbol its value is under, and
    the parameter): |w| has its kink there, and the update uses sign(0) = 0."""
    regularization = network.spec.regularization
    if regularization is None or regularization.kind != "l1":
        return []
    return [l1_kink_note(symbol, parameter.name) for symbol, parameter in shown
            if (regularization.biases or not parameter.is_bias) and values[symbol] == 0]


def l1_kink_note(symbol: Symbol, name: str) -> Note:
    """The note for a parameter `name`, shown as `symbol`, that is exactly 0 under an l1 penalty."""
    return Note((symbol, f" = 0 sits on the kink of |{name}|: the update uses sign(0) = 0, the "
                         "subgradient that adds no pull toward 0"))


def kink_section(at_kink: list[Kink]) -> Section | None:
    """Each net input that sits exactly on its activation's kink (`numbers.kinks.kinks`), with the one-sided
    derivative used; None if none does."""
    if not at_kink:
        return None
    return Section("At a kink", tuple(item for kink in at_kink
                                      for item in (Step(kink.neuron.net, (), None, "0"), Note(kink.note + "."))))


def question_sheet(derivation: Derivation, title: str) -> WorkedSolution:
    """An exercise: the network drawn with every weight labelled (so that no one wonders which is w_2), the given
    numbers, then every quantity to find (forward pass, error, gradients, updates)."""
    network = derivation.network
    given = [(symbol, fixed(value, 12)) for symbol, value in spec_values(network).items()]
    questions: list[Step] = [Step(symbol, (), None, "?") for one in network.passes
                             for layer in one.layers for neuron in layer.neurons for symbol in (neuron.net, neuron.out)]
    questions.append(Step(network.total, (network.total_expression,), None, "?"))
    questions += [Step(g.symbol, (), None, "?") for g in derivation.gradients]
    questions += [Step(u.symbol, (u.expression,), None, "?") for u in derivation.updates]
    loss = network.spec.loss.replace("_", " ")
    activations = ", ".join(f"{layer.name}: {spec.activation}" for layer, spec in zip(network.layers,
                                                                                        network.spec.layers))
    return WorkedSolution(title, (
        Section("The network", (
            Note(f"Layers (activation): {activations}. Loss: {loss}. "
                 f"Weights are numbered layer by layer, neuron by neuron, input by input."),
            network_figure(network, dict(given)),
            Table(("quantity", "value"), tuple(given)),
        )),
        Section("Find", (*questions, *fixed_biases_note(network.spec))),
    ), {}, 12, kind="exercise")


def gradient_solution(derivation: Derivation, parameter: str, places: int = 9, hand_round: int | None = None,
                      detail: str = "brief") -> WorkedSolution:
    """The worked solution of one gradient only (with every factor it needs), e.g. for 'w5'."""
    values = pass_values(derivation, hand_round)
    numerals = display_numerals(values, places)
    gradient = derivation.gradient(parameter)
    section = _Builder(derivation, numerals, places, detail).gradient(gradient)
    if gradient.parameter.is_bias:
        section = replace(section, items=section.items + fixed_biases_note(derivation.network.spec))
    return WorkedSolution(f"Worked solution: {derivation.network.spec.name}", (section,), numerals, places)


def derivation_summary(derivation: Derivation) -> WorkedSolution:
    """Every gradient in symbols only: the chain rule (or the sum over deltas) and the delta-rule form."""
    sections = []
    for index in reversed(range(len(derivation.network.layers))):
        layer = derivation.network.layers[index]
        steps = []
        for parameter in [p for row in layer.weights for p in row] + list(layer.biases):
            gradient = derivation.gradient(parameter.name)
            first = fold_product(list(gradient.chain)) if gradient.chain else \
                fold_sum([fold_product([d.symbol, link.symbol]) for d, link in gradient.terms])
            steps.append(Step(gradient.symbol, tuple(_distinct([first, gradient.delta_rule]))))
        sections.append(Section(f"Layer {layer.name}", tuple(steps)))
    return WorkedSolution(f"Derivation: {derivation.network.spec.name}", tuple(sections), kind="derivation")


def check_section(derivation: Derivation, checks: list[GradientCheck]) -> Section:
    """The finite-difference checks as a table, with the step and tolerance of each."""
    rows = []
    for check in checks:
        rows.append((derivation.gradient(check.parameter).symbol, tabulated(check.symbolic, 15),
                     general(check.double, 15), general(check.double_step, 3), general(check.double_error, 2),
                     general(check.double_tolerance, 2), tabulated(check.high, 15),
                     agreement(check.agreeing_digits, check.absolute_difference), check.status))
    header = ("gradient", "symbolic", "double FD", "step h", "|difference|", "tolerance", "mpmath FD",
              "digits agreeing", "status")
    note = Note(("Central differences: in double precision with ", _FD_STEP, " and tolerance ", _FD_TOLERANCE,
                 f" plus {TRUNCATION_FACTOR} times the truncation error estimated at 2h, where ", _EPSILON,
                 f" is the machine epsilon; in mpmath at {FD_DIGITS} digits with ", _H,
                 f" = 1e-{FD_EXPONENT}, required to agree to {REQUIRED_DIGITS} significant digits."))
    return Section("Gradient checks", (note, *absolute_note(checks), Table(header, tuple(rows))))


def agreement(digits: float, difference: mpmath.mpf | None) -> str:
    """A check table's 'digits agreeing': the digits, or for a value compared absolutely (`difference`, from
    the checks) that difference, |diff| 2.9e-51: digits agreeing with a zero's noise would mean nothing."""
    return fixed(min(digits, FD_DIGITS), 0) if difference is None else f"|diff| {tabulated(difference, 2)}"


def absolute_note(checks: Sequence[GradientCheck | AdjointCheck | PenaltyCheck]) -> tuple[Note, ...]:
    """What a |diff| in the 'digits agreeing' column means, when a row has one."""
    if all(check.absolute_difference is None for check in checks):
        return ()
    return (Note(f"A value under 1e-{ZERO_FLOOR_EXPONENT} in size (a zero, up to the evaluation's noise) is compared "
                 f"absolutely: its 'digits agreeing' gives |diff|, the difference of the two values, at most "
                 f"1e-{ABSOLUTE_EXPONENT} to pass."),)


_EPSILON, _H, _P = Symbol("epsilon"), Symbol("h"), Symbol("p")
_FD_STEP = Eq(_H, Mul(Pow(_EPSILON, Rational(1, 3)), Max(1, Abs(_P)), evaluate=False), evaluate=False)
_FD_TOLERANCE = Mul(DOUBLE_TOLERANCE_FACTOR, Pow(_EPSILON, Rational(2, 3)), Max(1, Abs(TOTAL_ERROR)), evaluate=False)
"""The double-precision step for a parameter p and the tolerance, as formulas for the checks' note."""


class _Builder:
    def __init__(self, derivation: Derivation, numerals: dict[Symbol, str], places: int, detail: str):
        self.derivation = derivation
        self.detail = detail
        self.network = derivation.network
        self.numerals = numerals
        self.places = places
        self.definitions = {d.symbol: d.expression for d in derivation.definitions}
        self.locals = {d.symbol: d for d in derivation.local_derivatives}
        self.deltas = {d.symbol: d for d in derivation.deltas}
        self.point = self.network.point()
        self.shown: set[Symbol] = set()
        self.stated: set[tuple[Expr, Expr]] = set()
        """The local expressions (and sums of targets) written out in the current gradient's section: once there."""

    def build(self, after_update: Mapping[str, mpmath.mpf]) -> WorkedSolution:
        sections = [self.forward()]
        for index in reversed(range(len(self.network.layers))):
            sections.append(self.backward(index))
        kinks_at_zero = penalty_kink_notes(self.network, [(p.symbol, p) for p in self.network.trainable], self.point)
        sections.append(Section("Updates", (*fixed_biases_note(self.network.spec), *kinks_at_zero,
                                            *(self.step(u.symbol) for u in self.derivation.updates))))
        sections.append(self.after_update(after_update))
        return WorkedSolution(f"Worked solution: {self.network.spec.name}", tuple(sections), self.numerals, self.places,
                              network_figure(self.network, self.numerals))

    def step(self, symbol: Symbol, *forms: Expr, substituted: Expr | None = None, rule=None) -> Step:
        return Step(symbol, tuple(forms), substituted, self.numerals.get(symbol), rule)

    def forward(self) -> Section:
        """Every net and out, sample by sample in a batch; then each output error and the sample's loss."""
        per_sample = []
        for one in self.network.passes:
            items = [self.step(symbol, expression, substituted=expression)
                     for symbol, expression in one.forward_definitions()]
            per_sample.append(Section(f"Sample {one.sample}", tuple(items)) if one.sample else items)
        if len(per_sample) == 1:
            return Section("Forward pass and total error", tuple(per_sample[0]))
        total = self.network.total_expression
        parts = fold_sum([one.part for one in self.network.passes])
        return Section("Forward pass and total error", (
            *per_sample, self.step(self.network.total, *_distinct([total, parts]), substituted=total),
            Note(SAMPLE_PARTS)))

    def backward(self, index: int) -> Section:
        layer = self.network.layers[index]
        output = index == len(self.network.layers) - 1
        items: list[Step | Note | Section] = []
        for parameter in [p for row in layer.weights for p in row] + list(layer.biases):
            items.append(self.gradient(self.derivation.gradient(parameter.name)))
        title = "Output layer" if output else f"Hidden layer {layer.name}"
        return Section(title, tuple(items))

    def gradient(self, gradient: Gradient) -> Section:
        self.stated = set()
        items: list[Step | Note | Figure] = [path_figure(self.network, gradient)]
        chain = gradient.chain
        product = fold_product(list(chain)) if chain else self.definitions[gradient.symbol]
        items.append(Step(gradient.symbol, (product,)))
        for dependency in _symbols_in(product):
            items += self.explain(dependency)
        items.append(self.step(gradient.symbol, product, substituted=product))
        items.append(Note("In the delta-rule form:"))
        items.append(Step(gradient.symbol, (gradient.delta_rule,)))
        for delta, _link in gradient.terms:
            items += self.explain(delta.symbol)
        definition = self.definitions[gradient.symbol]
        in_deltas = fold_sum([fold_product([delta.symbol, link.form]) for delta, link in gradient.terms])
        items.append(self.step(gradient.symbol, definition, in_deltas, substituted=definition))
        for update in self.derivation.updates:
            if update.parameter == gradient.parameter:
                items.append(self.step(update.symbol, update.expression, substituted=update.expression))
        return Section("Gradient for", tuple(items), gradient.parameter.symbol)

    def explain(self, symbol: Symbol) -> list[Step | Note]:
        """The steps that define `symbol`, after the ones it depends on; nothing if shown before."""
        if symbol in self.shown or symbol not in self.definitions:
            return []
        self.shown.add(symbol)
        expression = self.definitions[symbol]
        steps: list[Step | Note] = []
        for dependency in _symbols_in(expression):
            steps += self.explain(dependency)
        local = self.locals.get(symbol)
        delta = self.deltas.get(symbol)
        if delta is not None and delta.target_sum is not None:
            return steps + self.delta_in_targets(delta, expression)
        if local is None:
            steps.append(self.step(symbol, expression, substituted=expression))
            return steps
        if (local.symbol.of, local.expression) not in self.stated:
            self.stated.add((local.symbol.of, local.expression))
            steps.append(Step(local.symbol.of, (local.expression,)))
        return steps + local_derivative_steps(local, self.numerals, self.detail)

    def delta_in_targets(self, delta: Delta, definition: Expr) -> list[Step | Note]:
        """The Jacobian sum of a coupled output delta, carried to its targets' sum and, when the sample's
        targets sum to exactly 1, to (out - target)/N; the sum of the targets is shown first, once."""
        forms = delta.target_sum
        targets = unevaluated_sum(forms.targets)
        total = sum(self.point[t] for t in forms.targets)
        steps: list[Step | Note] = []
        if (targets, targets) not in self.stated:
            self.stated.add((targets, targets))
            steps.append(Step(targets, (), targets, fixed(to_mpf(total), self.places)))
            if total != 1:
                steps.append(Note(SOFT_LABELS))
        chain = [definition, delta.form, forms.general] + ([forms.distribution] if total == 1 else [])
        steps.append(self.step(delta.symbol, *_distinct(chain), substituted=chain[-1]))
        return steps

    def after_update(self, errors: Mapping[str, mpmath.mpf]) -> Section:
        """E_total after one update, in each order of update."""
        items: list[Step | Note] = []
        for order in ORDERS:
            items.append(Note(f"Order of update '{order}': {_ORDER_NOTES[order]}."))
            items.append(Step(ERROR_AFTER_UPDATE, (), None, fixed(errors[order], self.places)))
        return Section("Error after one update", tuple(items))


def local_derivative_steps(local: LocalDerivative, numerals: Mapping[Symbol, str], detail: str) -> list[Step]:
    """A local derivative worked out: with `detail="full"` every rule applied, each on its own line; then
    the derivative as the rules write it, simplified, with numbers substituted, and its value."""
    rules = local.steps.before if isinstance(local.steps, RewriteRule) else local.steps
    # written out (exponents as n - 1), then folded (the exponent's arithmetic done), then the local form
    forms = [written_out(rules), rules.result, local.form]
    steps = []
    if detail == "full":
        steps += [Step(Derivative(rule.expr, rule.wrt), tuple(_distinct([applied(rule), rule.result])),
                       label=RULE_NAMES[type(rule).__name__].format(identity=getattr(rule, "identity", "")))
                  for rule in rule_steps(local.steps)]
    steps.append(Step(local.symbol, tuple(_distinct(forms)), local.form, numerals.get(local.symbol), local.steps))
    return steps


def _symbols_in(expr: Expr) -> list[Symbol]:
    """The symbols of `expr` in the order they are written."""
    seen: list[Symbol] = []
    for node in preorder_traversal(expr):
        if isinstance(node, Symbol) and node not in seen:
            seen.append(node)
    return seen


def _distinct(forms: list[Expr]) -> list[Expr]:
    kept: list[Expr] = []
    for form in forms:
        if not kept or kept[-1] != form:
            kept.append(form)
    return kept
