"""Proof of every layer-level form against the scalar graph, entry by entry, in SymPy.

Each entry of a layer-level form (a convolution's ∂E/∂K as a correlation of the input with δ, an RNN's
∂E/∂W as a sum over time) must equal the graph's own chain rule through the layer: the sum, over the
layer's nodes that use the quantity, of the node's adjoint times the local derivative. Both sides speak
of the same symbols (adjoints, inputs, parameters; a form's `meaning` writes what it names differently,
h = tanh(s), in the graph's terms), so the comparison is exact; a kernel left unflipped fails it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sympy import Expr, Symbol

from symbackprop.checks.matrix_form import EntryCheck
from symbackprop.derivation.graph import Adjoint, GraphDerivation
from symbackprop.derivation.layer_forms import LayerGradient
from symbackprop.derivation.rules import fold_product, fold_sum
from symbackprop.errors import CheckFailure
from symbackprop.network.layers import BuiltLayer


class LayerForm(Protocol):
    """A layer's gradients at the layer level (derivation/convolution.py, derivation/recurrent.py)."""

    layer: BuiltLayer

    @property
    def gradients(self) -> list[LayerGradient]: ...

    @property
    def meaning(self) -> dict[Symbol, Expr]: ...


def check_layer_forms(forms: Sequence[LayerForm], derivation: GraphDerivation) -> list[EntryCheck]:
    """Every entry of every layer-level form beside the graph's chain rule through its layer."""
    adjoints = {adjoint.quantity: adjoint for adjoint in derivation.adjoints}
    checks: list[EntryCheck] = []
    for form in forms:
        meaning = form.meaning
        for gradient in form.gradients:
            symbol, through = _through(adjoints.get(gradient.quantity), gradient)
            checks.append(EntryCheck(f"{form.layer.spec.name}: dE/d{gradient.quantity.name}", symbol,
                                     _meant(gradient.expression, meaning), _meant(through, meaning)))
    return checks


def require_layer_forms(checks: list[EntryCheck]) -> None:
    """Raise `CheckFailure` naming every entry whose layer-level form differs from the graph's chain rule."""
    failed = [c for c in checks if not c.equal]
    if failed:
        raise CheckFailure("a layer-level form differs from the scalar graph:\n" + "\n".join(
            f"{c.entry}: layer-level {c.matrix_value}, graph {c.scalar_value}" for c in failed))


def _meant(expression: Expr, meaning: dict[Symbol, Expr]) -> Expr:
    """`expression` with what each of its quantities stands for, until none of them is left (a meaning may
    name another: a normalization's ∂E/∂μ holds ∂E/∂var)."""
    for _ in range(len(meaning) + 1):
        replaced = expression.xreplace(meaning)
        if replaced == expression:
            return expression
        expression = replaced
    raise ValueError("a layer-level form's meaning refers to itself")


def _through(adjoint: Adjoint | None, gradient: LayerGradient) -> tuple[Symbol, Expr]:
    """The adjoint's symbol and its chain-rule terms through the layer's nodes, each local derivative
    replaced by what it equals (a kernel or input entry, 1 - tanh(s)^2)."""
    if adjoint is None:  # reaches the loss through nothing: its gradient is 0
        return gradient.quantity, fold_sum([])
    return adjoint.symbol, fold_sum([fold_product([upstream, local.form]) for upstream, local in adjoint.terms
                                     if local.symbol.of in gradient.through])
