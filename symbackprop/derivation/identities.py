"""An activation's derivative written in terms of its own output, derived rather than typed in.

For the logistic out = 1/(1 + e^{-net}), d out/d net = e^{-net}/(1 + e^{-net})^2; solving
out = f(net) for net and substituting gives out(1 - out), the form the document uses.
"""

from __future__ import annotations

from functools import cache

from sympy import Dummy, Eq, Expr, Symbol, diff, simplify, solve

from symbackprop.network.activations import Activation


@cache
def _output_form(activation: Activation) -> tuple[Dummy, Dummy, Expr | None]:
    x, y = Dummy("net"), Dummy("out")
    f = activation.expression(x)
    derivative = diff(f, x)
    rewritten = derivative.subs(f, y)
    if rewritten.has(x):
        solutions = [s for s in solve(Eq(y, f), x) if s.is_real is not False]
        rewritten = simplify(derivative.subs(x, solutions[0])) if solutions else None
    if rewritten is not None and (rewritten.has(x) or simplify(rewritten.subs(y, f) - derivative) != 0):
        rewritten = None
    return x, y, rewritten


def derivative_in_output(activation: Activation, net: Symbol, out: Symbol) -> Expr | None:
    """d out/d net as an expression of `out` alone, or None when the activation has no such form."""
    x, y, form = _output_form(activation)
    return None if form is None else form.xreplace({x: net, y: out})
