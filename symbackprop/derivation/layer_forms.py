"""What a layer-level form is made of: one entry of a gradient as textbooks write it for the whole layer,
and the nodes of the scalar graph through which the proof (checks/layers.py) must find the same thing."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Expr, Symbol


@dataclass(frozen=True)
class LayerGradient:
    """dE/d(quantity) written at the layer level (a correlation with δ, a sum over time), in the graph's
    symbols; it must equal the sum of the graph's chain-rule terms through the nodes `through`."""

    quantity: Symbol
    expression: Expr
    through: frozenset[Symbol]
