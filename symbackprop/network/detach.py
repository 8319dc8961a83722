"""A stop-gradient: detach(u) has the value of u and the derivative 0, as PyTorch's `Tensor.detach()`.

Truncated backpropagation through time (network/layers.py) reads a recurrent layer's state through it at
every chunk boundary: the forward values are unchanged and no gradient crosses the boundary. Its derivative
comes from SymPy like any function's (d detach(u)/dx = 0 · du/dx); the finite-difference check holds a
detached node at its value (checks/graph.py), which is what the truncated gradient is the derivative of.
"""

from __future__ import annotations

from sympy import Expr, Function, S


class detach(Function):  # noqa: N801 (lower case: printed by its class name, as tanh is)
    """detach(u) = u in value; its derivative is 0."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> Expr:
        return S.Zero


def is_detached(expression: Expr) -> bool:
    """Whether a node's expression is a stop-gradient (the node is held fixed when its inputs move)."""
    return isinstance(expression, detach)
