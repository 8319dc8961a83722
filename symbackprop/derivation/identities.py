"""An activation's derivative written in terms of its outputs, derived rather than typed in.

For the logistic out = 1/(1 + e^{-net}), d out/d net = e^{-net}/(1 + e^{-net})^2; solving
out = f(net) for net and substituting gives out(1 - out), the form the document uses; tanh
gives 1 - out^2. The activations are chains of invertible one-argument steps, so out = f(net)
is solved by undoing f's steps from the outside in (`sympy.solve` would do the same, but
importing it costs a fifth of a second on every run). The derivative comes from our own rules
(`rules.differentiate`, as every local derivative does): SymPy's `diff` costs 6 ms on its first use in a
process. For softmax, replacing each e^{net_k} by out_k times the layer's sum gives
d out_k/d net_j = out_k (1 - out_k) for k = j and -out_k out_j otherwise.
"""

from __future__ import annotations

from functools import cache
from typing import Sequence

from sympy import Add, Dummy, Expr, Mul, Piecewise, Symbol, atanh, cancel, count_ops, diff, exp, expand, log, tanh, together

from symbackprop.derivation.rules import differentiate

from symbackprop.network.activations import Activation


@cache
def _output_form(activation: Activation) -> tuple[Dummy, Dummy, Expr | None]:
    x, y = Dummy("net"), Dummy("out")
    f = activation.output([x], 0)
    derivative = differentiate(f, x).result
    if not derivative.has(x) or f.has(Piecewise):  # constant, or defined piece by piece (relu)
        return x, y, None
    rewritten, net = derivative.xreplace({f: y}), None
    if rewritten.has(x):
        net = _inverse(f, x, y)
        rewritten = _shortest(derivative.xreplace({x: net})) if net is not None else None
    if rewritten is None or rewritten.has(x) or not _proved(rewritten, derivative, f, x, y, net):
        return x, y, None
    return x, y, rewritten


def _proved(form: Expr, derivative: Expr, f: Expr, x: Dummy, y: Dummy, net: Expr | None) -> bool:
    """Whether form(f(x)) = derivative(x) exactly, `net` being the inverse that gave `form` (None if none did).

    Two exact tests that cost next to nothing settle the activations here: substituting f back gives
    the derivative itself (1 - tanh(x)^2), or f(net(y)) is y, so that `net` undoes f and
    form(f(x)) = derivative(net(f(x))) = derivative(x) (`_inverse` undoes only one-to-one steps, so
    f is one-to-one on the reals). Only when neither holds is the difference brought to zero by `cancel`,
    whose polynomial machinery costs about 8 ms on its first use in a process.
    """
    if net is not None and f.xreplace({x: net}) == y:
        return True
    back = form.xreplace({y: f})
    return back == derivative or cancel(back - derivative) == 0


def _shortest(expr: Expr) -> Expr:
    """The shorter of `expr` over a common denominator and `expr` multiplied out: out(1 - out), 1 - e^{-out}.

    `sympy.simplify` finds the same forms here, but it imports sympy.physics (a tenth of a second).
    """
    return min((together(expr), expand(expr)), key=count_ops)


def _inverse(f: Expr, x: Symbol, y: Symbol) -> Expr | None:
    """x in terms of y = f(x), undoing f's outermost step until x is reached: 1/(1 + e^{-x}) gives
    -log(1/y - 1). None when a step cannot be undone (x in two places, or no inverse known here)."""
    while f != x:
        if f.is_Add or f.is_Mul:
            fixed = [a for a in f.args if not a.has(x)]
            varying = [a for a in f.args if a.has(x)]
            if len(varying) != 1:
                return None
            y = y - Add(*fixed) if f.is_Add else y / Mul(*fixed)
            f = varying[0]
        elif f.is_Pow and f.exp == -1:
            y, f = 1 / y, f.base
        elif isinstance(f, exp):
            y, f = log(y), f.args[0]
        elif isinstance(f, log):
            y, f = exp(y), f.args[0]
        elif isinstance(f, tanh):
            y, f = atanh(y), f.args[0]
        else:
            return None
    return y


def derivative_in_output(activation: Activation, net: Symbol, out: Symbol) -> Expr | None:
    """d out/d net as an expression of `out` alone, or None when the activation has no such form."""
    x, y, form = _output_form(activation)
    return None if form is None else form.xreplace({x: net, y: out})


def coupled_derivative_in_outputs(expression: Expr, nets: Sequence[Symbol], outs: Sequence[Symbol],
                                  wrt: Symbol) -> Expr | None:
    """d out_k/d net_j for a softmax-like layer, in the layer's outputs; None if it does not simplify so."""
    derivative = diff(expression, wrt)
    scale = Dummy("sum")
    rewritten = derivative.subs(sum(exp(net) for net in nets), scale)
    rewritten = _shortest(rewritten.subs({exp(net): out * scale for net, out in zip(nets, outs)}))
    if rewritten.has(scale) or any(rewritten.has(net) for net in nets):
        return None
    return rewritten


def layer_derivative_in_outputs(activation: Activation, outs: Sequence[Symbol], k: int, j: int) -> Expr | None:
    """dout_k/dnet_j of a coupled layer whose outputs are `outs`, in those outputs; None if it does not simplify so.

    Derived once per layer width for k = j and once for k != j, on a layer of placeholders, then
    renamed: deriving each of the width^2 entries anew costs a tenth of a second each (a minute for
    twenty outputs). The renaming is exact because a coupled activation treats the other neurons alike.
    """
    placeholders, form = _coupled_form(activation, len(outs), k == j)
    if form is None:
        return None
    order = [k] + ([] if k == j else [j]) + [m for m in range(len(outs)) if m not in (k, j)]
    return form.xreplace({placeholders[p]: outs[m] for p, m in enumerate(order)})


@cache
def _coupled_form(activation: Activation, width: int, same: bool) -> tuple[tuple[Dummy, ...], Expr | None]:
    """dout_0/dnet_0 (`same`) or dout_0/dnet_1 of a layer of `width` placeholder neurons, in their outputs."""
    nets = tuple(Dummy(f"net{k}") for k in range(width))
    outs = tuple(Dummy(f"out{k}") for k in range(width))
    return outs, coupled_derivative_in_outputs(activation.output(nets, 0), nets, outs, nets[0 if same else 1])
