"""An activation's derivative written in terms of its outputs, derived rather than typed in.

For the logistic out = 1/(1 + e^{-net}), d out/d net = e^{-net}/(1 + e^{-net})^2; solving
out = f(net) for net and substituting gives out(1 - out), the form the document uses; tanh
gives 1 - out^2. For softmax, replacing each e^{net_k} by out_k times the layer's sum gives
d out_k/d net_j = out_k (1 - out_k) for k = j and -out_k out_j otherwise.
"""

from __future__ import annotations

from functools import cache
from typing import Sequence

from sympy import Dummy, Eq, Expr, Piecewise, Symbol, diff, exp, simplify, solve

from symbackprop.network.activations import Activation


@cache
def _output_form(activation: Activation) -> tuple[Dummy, Dummy, Expr | None]:
    x, y = Dummy("net"), Dummy("out")
    f = activation.output([x], 0)
    derivative = diff(f, x)
    if not derivative.has(x) or f.has(Piecewise):  # constant, or defined piece by piece (relu)
        return x, y, None
    rewritten = derivative.subs(f, y)
    if rewritten.has(x):
        try:
            solutions = [s for s in solve(Eq(y, f), x) if s.is_real is not False]
        except NotImplementedError:
            solutions = []
        rewritten = simplify(derivative.subs(x, solutions[0])) if solutions else None
    if rewritten is not None and (rewritten.has(x) or simplify(rewritten.subs(y, f) - derivative) != 0):
        rewritten = None
    return x, y, rewritten


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
    rewritten = simplify(rewritten.subs({exp(net): out * scale for net, out in zip(nets, outs)}))
    if rewritten.has(scale) or any(rewritten.has(net) for net in nets):
        return None
    return rewritten
