"""Optimizers and weight penalties as SymPy rules over one parameter, its gradient and its state.

An optimizer is a small record: its settings (exact numbers), the state it carries from step to
step (each starting at 0), and its update as ordered lines `quantity = expression` in generic
symbols: theta (a parameter), g (its gradient), eta, t (the step, from 1), and each state before
the step (m) and after it (m^+). Nothing here knows a network: the rules apply to any list of
parameters with gradients (a layered network's, a computation graph's). `instance` writes them
for one parameter at one step (w_5<k>, g_w5<k>, m_w5<k-1>), the names a worked step shows.

A penalty (l2: lambda/2 theta^2, l1: lambda |theta|) adds its derivative, found by SymPy, to the
gradient each rule reads; the sgd update then reads (1 - eta lambda) theta - eta g.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from sympy import Abs, Add, Dummy, Expr, Integer, Mul, Pow, Rational, S, Symbol, collect, diff, expand

from symbackprop.names import Name, name_of, symbol
from symbackprop.network.symbols import LEARNING_RATE, PENALTY_STRENGTH
from symbackprop.network.unevaluated import unevaluated_product, unevaluated_sum
from symbackprop.spec.model import OptimizerSpec, RegularizationSpec

THETA = symbol(Name("theta"))
GRADIENT = symbol(Name("g"))
STEP = symbol(Name("t"))
_SETTING_SYMBOLS = {
    "momentum": symbol(Name("mu")),
    "alpha": symbol(Name("alpha")),
    "beta1": symbol(Name("beta", ("1",))),
    "beta2": symbol(Name("beta", ("2",))),
    "epsilon": symbol(Name("epsilon")),
    "weight_decay": symbol(Name("lambda", ("wd",))),
}
"""Each setting of spec/vocabulary.py's OPTIMIZERS as a symbol: momentum mu, beta_1, epsilon, ..."""
_M, _V = symbol(Name("m")), symbol(Name("v"))
_M_HAT, _V_HAT = symbol(Name("mhat")), symbol(Name("vhat"))


@dataclass(frozen=True)
class OptimizerRule:
    """One optimizer's update of one parameter, as SymPy lines evaluated in order."""

    kind: str
    settings: tuple[tuple[Symbol, Rational], ...]
    """Each setting's symbol and exact value (beta_1 = 9/10)."""
    state: tuple[Symbol, ...]
    """What the optimizer carries between steps (m, v), each 0 before the first step; after a step, m^+."""
    lines: tuple[tuple[Symbol, Expr], ...]
    """quantity = expression, in order; the last is theta^+."""

    @property
    def new_state(self) -> tuple[Symbol, ...]:
        return tuple(after(s) for s in self.state)


@dataclass(frozen=True)
class Penalty:
    """A weight penalty lambda/2 theta^2 (l2) or lambda |theta| (l1) and its derivative by SymPy."""

    kind: str
    strength: Rational
    biases: bool
    """Whether biases are penalized (weights always are)."""
    term: Expr
    """The penalty of one parameter, in THETA and PENALTY_STRENGTH."""
    derivative: Expr
    """d term / d theta: lambda theta, or lambda sign(theta) (0 at theta = 0, where |theta| has its kink)."""


def after(quantity: Symbol) -> Symbol:
    """m -> m^+: a quantity after the step."""
    return symbol(name_of(quantity).after_update())


def optimizer_rule(spec: OptimizerSpec, penalty: Penalty | None = None) -> OptimizerRule:
    """The rule of `spec`'s optimizer; with `penalty`, every line reads the gradient plus the penalty's derivative."""
    settings = {name: (_SETTING_SYMBOLS[name], value) for name, value in spec.settings}
    s = {name: pair[0] for name, pair in settings.items()}
    g, eta, theta = GRADIENT, LEARNING_RATE, THETA
    m, v = after(_M), after(_V)
    if spec.kind == "sgd":
        state, lines = (), [(after(theta), _minus(theta, _times(eta, g)))]
    elif spec.kind in ("momentum", "nesterov"):
        mu = s["momentum"]
        step = _plus(g, _times(mu, m)) if spec.kind == "nesterov" else m
        state, lines = (_M,), [(m, _plus(_times(mu, _M), g)), (after(theta), _minus(theta, _times(eta, step)))]
    elif spec.kind == "rmsprop":
        alpha, epsilon = s["alpha"], s["epsilon"]
        state, lines = (_V,), [(v, _average(alpha, _V, Pow(g, 2, evaluate=False))),
                               (after(theta), _minus(theta, _times(eta, g, _inverse(_plus(_root(v), epsilon)))))]
    else:  # adam, adamw
        beta1, beta2, epsilon = s["beta1"], s["beta2"], s["epsilon"]
        step = _times(eta, _M_HAT, _inverse(_plus(_root(_V_HAT), epsilon)))
        decayed = _times(_minus(S.One, _times(eta, s["weight_decay"])), theta) if spec.kind == "adamw" else theta
        state, lines = (_M, _V), [
            (m, _average(beta1, _M, g)), (v, _average(beta2, _V, Pow(g, 2, evaluate=False))),
            (_M_HAT, _times(m, _inverse(_minus(S.One, Pow(beta1, STEP, evaluate=False))))),
            (_V_HAT, _times(v, _inverse(_minus(S.One, Pow(beta2, STEP, evaluate=False))))),
            (after(theta), _minus(decayed, step))]
    if penalty is not None:
        gradient = {g: _plus(g, penalty.derivative)}
        lines = [(q, renamed(e, gradient)) for q, e in lines]
        lines[-1] = (lines[-1][0], _theta_first(lines[-1][1]))
    return OptimizerRule(spec.kind, tuple(settings.values()), state, tuple(lines))


def penalty(spec: RegularizationSpec | None) -> Penalty | None:
    """The penalty `spec` adds to the loss, with its derivative found by SymPy; None without one."""
    if spec is None:
        return None
    real = Dummy("theta", real=True)  # |theta|' is sign(theta) only for a real theta
    term = PENALTY_STRENGTH * (Rational(1, 2) * real ** 2 if spec.kind == "l2" else Abs(real))
    return Penalty(spec.kind, spec.strength, spec.biases, term.subs(real, THETA), diff(term, real).subs(real, THETA))


def penalized(parameter_is_bias: bool, found: Penalty | None) -> Penalty | None:
    """The penalty a parameter carries: weights always, biases when the penalty says so."""
    return found if found is not None and (found.biases or not parameter_is_bias) else None


def sgd_update(parameter: Symbol, gradient: Symbol, found: Penalty | None = None) -> Expr:
    """w^+ of plain gradient descent, as the worked solution shows it: w - eta dE/dw, or with a penalty
    (1 - eta lambda) w - eta dE/dw (l2), w - eta (dE/dw + lambda sign(w)) (l1)."""
    if found is None:
        return unevaluated_sum((parameter, unevaluated_product((S.NegativeOne, LEARNING_RATE, gradient))))
    return renamed(_penalized_sgd(found), {THETA: parameter, GRADIENT: gradient})


@lru_cache(maxsize=8)
def _penalized_sgd(found: Penalty) -> Expr:
    """theta^+ of sgd with a penalty, gathered once per penalty rather than once per parameter."""
    return optimizer_rule(OptimizerSpec(), found).lines[-1][1]


def instance(rule: OptimizerRule, parameter: Symbol, step: int | None) -> list[tuple[Symbol, Expr]]:
    """The rule's lines for one parameter at step `step` (from 1): w_5<k> = ..., reading w_5<k-1>,
    g_w5<k> (the gradient at w<k-1>) and the state at k-1 (m_w5<k-1>); t is the number k. With `step`
    None, for code that runs any step: w_5^+ = ..., reading w_5, g_w5 and m_w5 (m_w5^+ after), t kept."""
    names = instance_names(rule, parameter, step)
    return [(names[q], renamed(e, names)) for q, e in rule.lines]


def instance_names(rule: OptimizerRule, parameter: Symbol, step: int | None) -> dict[Expr, Expr]:
    """Each generic quantity of the rule (theta, theta^+, g, t, the state before and after, mhat) as `instance`
    names it for `parameter` at `step`: one name per quantity, whatever the parameter (a weight matrix's
    quantities and its entries' correspond through these)."""
    if step is None:
        names: dict[Expr, Expr] = {THETA: parameter, after(THETA): after(parameter),
                                   GRADIENT: gradient_at(parameter, None)}
        names.update((q, state_at(q, parameter, None)) for q in rule.state)
        names.update((after(q), after(state_at(q, parameter, None))) for q in rule.state)
    else:
        names = {THETA: at_step(parameter, step - 1), after(THETA): at_step(parameter, step),
                 GRADIENT: gradient_at(parameter, step), STEP: Integer(step)}
        names.update((q, state_at(q, parameter, step - 1)) for q in rule.state)
        names.update((after(q), state_at(q, parameter, step)) for q in rule.state)
    for quantity, _expression in rule.lines:
        names.setdefault(quantity, state_at(quantity, parameter, step))
    return names


def at_step(parameter: Symbol, step: int | None) -> Symbol:
    """w_5 -> w_5<k>, the parameter after k steps (None: w_5 itself)."""
    return symbol(replace(name_of(parameter), step=step))


def gradient_at(parameter: Symbol, step: int | None) -> Symbol:
    """g_w5<k>: dE_total/dw_5 at the parameters after k - 1 steps, what step k reads (None: g_w5, any step's)."""
    return state_at(GRADIENT, parameter, step)


def state_at(quantity: Symbol, parameter: Symbol, step: int | None) -> Symbol:
    """m -> m_w5<k>: an optimizer's quantity for one parameter after k steps (None: m_w5, any step's)."""
    label = name_of(parameter)
    return symbol(Name(name_of(quantity).base, (label.base + "".join(label.subscript),), step=step))


def renamed(expression: Expr, names: dict[Expr, Expr]) -> Expr:
    """`expression` with each key of `names` replaced, every sum and product kept in its written order."""
    if expression in names:
        return names[expression]
    if not expression.args:
        return expression
    args = [renamed(a, names) for a in expression.args]
    if isinstance(expression, (Add, Mul)):
        return expression.func._from_args(args, True) if len(args) > 1 else args[0]
    if isinstance(expression, Pow):
        return Pow(*args, evaluate=False)
    return expression.func(*args)


def _plus(*terms: Expr) -> Expr:
    return unevaluated_sum(terms)


def _minus(a: Expr, b: Expr) -> Expr:
    return unevaluated_sum((a, unevaluated_product((S.NegativeOne, b))))


def _times(*factors: Expr) -> Expr:
    return unevaluated_product(factors)


def _inverse(x: Expr) -> Expr:
    return Pow(x, -1, evaluate=False)


def _root(x: Expr) -> Expr:
    return Pow(x, Rational(1, 2), evaluate=False)


def _average(weight: Symbol, old: Expr, new: Expr) -> Expr:
    """weight old + (1 - weight) new, an exponential moving average."""
    return _plus(_times(weight, old), _times(_minus(S.One, weight), new))


def _theta_first(expression: Expr) -> Expr:
    """theta^+ with theta's terms gathered first: (1 - eta lambda) theta - eta g rather than
    theta - eta (g + lambda theta); an expression whose theta terms do not gather is kept."""
    parts = collect(expand(expression), THETA, evaluate=False)
    coefficient = parts.pop(THETA, None)
    if coefficient is None or any(THETA in e.free_symbols for e in parts.values()):
        return expression
    rest = [factor * term for term, factor in parts.items()]
    head = THETA if coefficient == 1 else unevaluated_product((coefficient, THETA))
    return unevaluated_sum((head, *rest))
