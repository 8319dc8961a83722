"""Step-by-step differentiation: each rule applied is a small record, printers render them.

`differentiate(expr, wrt)` walks a local expression once and returns the tree of rules
(sum, constant multiple, product, power with its inner derivative, exp, log, a named
function such as tanh, pieces; |u| and min by their cases, a maximum by its arg-max). Every
record's `result` is the derivative assembled from its children with only numeric
folding, so it keeps the shape a person writes: d/dout 1/2 (target - out)^2 gives
-(target - out), not SymPy's out - target. Tests check every result against `sympy.diff`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Callable

from sympy import (
    Abs, Add, And, Derivative, Dummy, Expr, Function, GreaterThan, Integer, Max, Min, Mul, Number, Piecewise, Pow, S,
    StrictGreaterThan, StrictLessThan, Symbol, diff, exp, log,
)

from symbackprop.network.unevaluated import unevaluated_product, unevaluated_sum


@dataclass(frozen=True)
class Rule:
    """d(expr)/d(wrt) = result."""

    expr: Expr
    wrt: Symbol
    result: Expr


@dataclass(frozen=True)
class ConstantRule(Rule):
    """expr does not depend on wrt: its derivative is 0."""


@dataclass(frozen=True)
class IdentityRule(Rule):
    """d wrt / d wrt = 1."""


@dataclass(frozen=True)
class SumRule(Rule):
    """The derivative of a sum is the sum of the derivatives."""

    terms: tuple[Rule, ...]


@dataclass(frozen=True)
class ConstantMultipleRule(Rule):
    """d(c f)/dx = c df/dx for c independent of x."""

    constant: Expr
    inner: Rule


@dataclass(frozen=True)
class ProductRule(Rule):
    """d(f g)/dx = f' g + f g', one term per factor."""

    factors: tuple[Expr, ...]
    derivatives: tuple[Rule, ...]


@dataclass(frozen=True)
class PowerRule(Rule):
    """d(u^n)/dx = n u^(n-1) du/dx: the power rule with the chain rule's inner derivative."""

    base: Expr
    exponent: Expr
    inner: Rule


@dataclass(frozen=True)
class ExpRule(Rule):
    """d(e^u)/dx = e^u du/dx."""

    argument: Expr
    inner: Rule


@dataclass(frozen=True)
class LogRule(Rule):
    """d(ln u)/dx = (1/u) du/dx."""

    argument: Expr
    inner: Rule


@dataclass(frozen=True)
class FunctionRule(Rule):
    """d f(u)/dx = f'(u) du/dx for a named function such as tanh; f' comes from `sympy.diff`."""

    argument: Expr
    outer: Expr
    inner: Rule


@dataclass(frozen=True)
class PiecewiseRule(Rule):
    """A function defined piece by piece is differentiated piece by piece (not at the pieces' boundary)."""

    pieces: tuple[tuple[Rule, Expr], ...]


@dataclass(frozen=True)
class MaxRule(Rule):
    """d max(u_1, ..., u_n)/dx = du_k/dx for the arg-max u_k: each argument's derivative times its selector,
    {1 if u_k is the maximum, 0 otherwise} (on a tie, the first of the tied arguments in the max's order)."""

    selectors: tuple[Expr, ...]
    inner: tuple[Rule, ...]
    """Only the arguments that depend on wrt, beside their selectors."""


@dataclass(frozen=True)
class RewriteRule(Rule):
    """The derivative rewritten through an identity, e.g. the logistic's e^{-x}/(1+e^{-x})^2 = out(1 - out)."""

    before: Rule
    identity: str


def differentiate(expr: Expr, wrt: Symbol) -> Rule:
    """The rule tree of d(expr)/d(wrt)."""
    if not depends_on(expr, wrt):
        return ConstantRule(expr, wrt, S.Zero)
    if expr == wrt:
        return IdentityRule(expr, wrt, S.One)
    if isinstance(expr, Add):
        terms = tuple(differentiate(term, wrt) for term in expr.args)
        return SumRule(expr, wrt, fold_sum([t.result for t in terms]), terms)
    if isinstance(expr, Mul):
        return _product(expr, wrt)
    if isinstance(expr, Pow) and not depends_on(expr.exp, wrt):
        inner = differentiate(expr.base, wrt)
        exponent = expr.exp
        return PowerRule(expr, wrt, fold_product([exponent, _power(expr.base, exponent - 1), inner.result]),
                         expr.base, exponent, inner)
    if isinstance(expr, exp):
        inner = differentiate(expr.args[0], wrt)
        return ExpRule(expr, wrt, fold_product([expr, inner.result]), expr.args[0], inner)
    if isinstance(expr, log):
        inner = differentiate(expr.args[0], wrt)
        return LogRule(expr, wrt, fold_product([Pow(expr.args[0], -1), inner.result]), expr.args[0], inner)
    if isinstance(expr, Max):
        return _maximum(expr, wrt)
    if isinstance(expr, (Piecewise, Abs, Min)):
        pieces = tuple((differentiate(piece, wrt), condition) for piece, condition in cases(expr))
        return PiecewiseRule(expr, wrt, Piecewise(*[(rule.result, c) for rule, c in pieces]), pieces)
    if isinstance(expr, Function) and len(expr.args) == 1:
        inner = differentiate(expr.args[0], wrt)
        outer = _outer_at(expr)
        return FunctionRule(expr, wrt, fold_product([outer, inner.result]), expr.args[0], outer, inner)
    raise NotImplementedError(f"no differentiation rule for {type(expr).__name__}")


def cases(expr: Piecewise | Abs | Min) -> tuple[tuple[Expr, object], ...]:
    """The pieces of a function with a kink: |u| is u where u > 0, -u where u < 0, and 0 at 0; min(a, b) is a
    where a < b, b where a > b, and (a + b)/2 at a tie (so the derivative there is the mean of the one-sided
    ones, as a central difference measures it). A relu's pieces are its own (0 at 0). A maximum has a rule of
    its own (`MaxRule`: the arg-max's derivative, the first tied argument's at a tie), as max pooling routes it."""
    if isinstance(expr, Piecewise):
        return expr.args
    if isinstance(expr, Abs):
        (u,) = expr.args
        return (u, StrictGreaterThan(u, 0)), (-u, StrictLessThan(u, 0)), (S.Zero, S.true)
    if len(expr.args) != 2:
        raise NotImplementedError(f"{type(expr).__name__} of {len(expr.args)} arguments")
    a, b = expr.args
    first, second = StrictLessThan(a, b), StrictGreaterThan(a, b)
    return (a, first), (b, second), (Mul(S.Half, Add(a, b, evaluate=False), evaluate=False), S.true)


@cache
def _outer_derivative(function: type) -> tuple[Dummy, Expr]:
    """f'(u) of a one-argument function such as tanh, at a point u of its own: SymPy derives it once per
    function (it costs milliseconds each time, which a graph with thousands of tanh nodes would pay)."""
    point = Dummy("u")
    return point, diff(function(point), point)


_VALUE = Dummy("v")


@cache
def _in_value(function: type) -> Expr | None:
    """f'(u) written in v = f(u) alone (tanh' = 1 - v^2) when putting a node f(x) in place of v cannot
    change it under SymPy's evaluation: only sums and products with at most one term that is not a
    number (nothing to combine or reorder), and integer powers of v, for an f without a power rule of
    its own. None otherwise."""
    point, derivative = _outer_derivative(function)
    in_value = derivative.xreplace({function(point): _VALUE})

    def plain(node: Expr) -> bool:
        if node == _VALUE or node.is_Number:
            return True
        if node.is_Add or node.is_Mul:
            return sum(not arg.is_Number for arg in node.args) <= 1 and all(map(plain, node.args))
        return node.is_Pow and node.base == _VALUE and node.exp.is_Integer
    keeps_powers = getattr(function, "_eval_power", None) is Expr._eval_power
    return in_value if keeps_powers and plain(in_value) else None


def _outer_at(expr: Function) -> Expr:
    """f'(x) for the node f(x): from `_in_value` with the node put in, unevaluated (SymPy would evaluate
    f(x) and every sum and product again, most of a tanh node's derivation); else by substitution."""
    template = _in_value(expr.func)
    if template is None:
        point, derivative = _outer_derivative(expr.func)
        return derivative.xreplace({expr.func(point): expr, point: expr.args[0]})

    def put(node: Expr) -> Expr:
        if node == _VALUE:
            return expr
        if node.is_Add:
            return unevaluated_sum([put(arg) for arg in node.args])
        if node.is_Mul:
            return unevaluated_product([put(arg) for arg in node.args])
        return Pow(put(node.base), node.exp, evaluate=False) if node.is_Pow else node

    return put(template)


def depends_on(expr: Expr, wrt: Symbol) -> bool:
    """Whether `wrt` occurs in `expr`; the same as `expr.has(wrt)` for a symbol, several times faster."""
    if expr.is_Symbol:
        return expr == wrt
    return wrt in expr.args or wrt in expr.free_symbols


def _product(expr: Mul, wrt: Symbol) -> Rule:
    depends = [depends_on(f, wrt) for f in expr.args]
    constant = [f for f, varies in zip(expr.args, depends) if not varies]
    varying = [f for f, varies in zip(expr.args, depends) if varies]
    if constant:
        rest = varying[0] if len(varying) == 1 else Mul(*varying, evaluate=False)
        inner = differentiate(rest, wrt)
        c = constant[0] if len(constant) == 1 else Mul(*constant, evaluate=False)
        return ConstantMultipleRule(expr, wrt, fold_product([c, inner.result]), c, inner)
    derivatives = tuple(differentiate(f, wrt) for f in varying)
    terms = [fold_product([d.result if k == i else f for k, f in enumerate(varying)])
             for i, d in enumerate(derivatives)]
    return ProductRule(expr, wrt, fold_sum(terms), tuple(varying), derivatives)


def _maximum(expr: Max, wrt: Symbol) -> Rule:
    arguments = expr.args
    varying = [k for k, argument in enumerate(arguments) if depends_on(argument, wrt)]
    selectors = tuple(Piecewise((1, And(*(StrictGreaterThan(arguments[k], a) for a in arguments[:k]),
                                        *(GreaterThan(arguments[k], a) for a in arguments[k + 1:]))), (0, True))
                      for k in varying)
    inner = tuple(differentiate(arguments[k], wrt) for k in varying)
    return MaxRule(expr, wrt, fold_sum([fold_product([s, rule.result]) for s, rule in zip(selectors, inner)]),
                   selectors, inner)


def _power(base: Expr, exponent: Expr) -> Expr:
    exponent = exponent if not isinstance(exponent, Number) else Integer(exponent) if exponent.is_integer else exponent
    if exponent == 1:
        return base
    if exponent == 0:
        return S.One
    return Pow(base, exponent, evaluate=False)


def fold_product(factors: list[Expr]) -> Expr:
    """Multiply, folding only the numbers: [1/2, 2, (t - o), -1] -> -(t - o), shape kept."""
    if not any(factor.is_Mul or factor.is_Number for factor in factors):  # nothing to fold: most calls
        return factors[0] if len(factors) == 1 else unevaluated_product(factors)
    coefficient: Expr = S.One
    kept: list[Expr] = []
    stack = list(reversed(factors))
    while stack:
        factor = stack.pop()
        if isinstance(factor, Mul):
            stack.extend(reversed(factor.args))
        elif isinstance(factor, Number):
            if factor is not S.One:
                coefficient *= factor
        else:
            kept.append(factor)
    if coefficient == 0:
        return S.Zero
    if not kept:
        return coefficient
    if coefficient == 1 and len(kept) == 1:
        return kept[0]
    head = [] if coefficient == 1 else [coefficient]
    return unevaluated_product(head + kept)


def fold_sum(terms: list[Expr]) -> Expr:
    """Add, dropping zero terms."""
    kept = [t for t in terms if not (t.is_Number and t.is_zero)]
    if not kept:
        return S.Zero
    if len(kept) == 1:
        return kept[0]
    return unevaluated_sum(kept)


def written_out(rule: Rule) -> Expr:
    """The derivative as the rules write it before any folding, e.g. 2 (1/2) (t - o)^(2-1) (-1) + 0.

    This is the line a careful hand-written solution shows between the expression and its
    derivative; it equals `rule.result` (the tests check that).
    """
    if isinstance(rule, RewriteRule):
        return written_out(rule.before)
    return _compose(rule, written_out)


def applied(rule: Rule) -> Expr:
    """The rule as a statement about derivatives: d/dx (1/2 u^2) = 1/2 d/dx u^2, children unevaluated.

    Together with `rule.result` this is one line of a full step-by-step derivation.
    """
    if isinstance(rule, RewriteRule):
        return rule.before.result
    return _compose(rule, lambda child: Derivative(child.expr, child.wrt))


def _compose(rule: Rule, child: Callable[[Rule], Expr]) -> Expr:
    """What `rule` makes of its children's derivatives, each written by `child`, unfolded."""
    if isinstance(rule, (ConstantRule, IdentityRule)):
        return rule.result
    if isinstance(rule, SumRule):
        return Add(*(child(term) for term in rule.terms), evaluate=False)
    if isinstance(rule, ConstantMultipleRule):
        return Mul(rule.constant, child(rule.inner), evaluate=False)
    if isinstance(rule, ProductRule):
        return Add(*(Mul(*[child(d) if k == i else f for k, f in enumerate(rule.factors)], evaluate=False)
                     for i, d in enumerate(rule.derivatives)), evaluate=False)
    if isinstance(rule, PowerRule):
        lowered = Pow(rule.base, Add(rule.exponent, -1, evaluate=False), evaluate=False)
        return Mul(rule.exponent, lowered, child(rule.inner), evaluate=False)
    if isinstance(rule, (ExpRule, LogRule, FunctionRule)):
        outer = rule.expr if isinstance(rule, ExpRule) else rule.outer if isinstance(rule, FunctionRule) \
            else Pow(rule.argument, -1, evaluate=False)
        return Mul(outer, child(rule.inner), evaluate=False)
    if isinstance(rule, PiecewiseRule):
        return Piecewise(*[(child(piece), condition) for piece, condition in rule.pieces])
    if isinstance(rule, MaxRule):
        terms = [Mul(s, child(inner), evaluate=False) for s, inner in zip(rule.selectors, rule.inner)]
        return terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)
    raise TypeError(type(rule).__name__)


def children(rule: Rule) -> list[Rule]:
    """The rules applied inside `rule`, in the order they are written."""
    if isinstance(rule, SumRule):
        return list(rule.terms)
    if isinstance(rule, ProductRule):
        return list(rule.derivatives)
    if isinstance(rule, (ConstantMultipleRule, PowerRule, ExpRule, LogRule, FunctionRule)):
        return [rule.inner]
    if isinstance(rule, PiecewiseRule):
        return [piece for piece, _ in rule.pieces]
    if isinstance(rule, MaxRule):
        return list(rule.inner)
    if isinstance(rule, RewriteRule):
        return [rule.before]
    return []


def rule_steps(rule: Rule) -> list[Rule]:
    """Every rule of the tree, outermost first: the lines of a full derivation."""
    return [rule] + [step for child in children(rule) for step in rule_steps(child)]
