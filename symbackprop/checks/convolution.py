"""Proof of each convolution's layer-level form against the scalar graph, entry by entry, in SymPy.

For every entry of ∂E/∂K, ∂E/∂b and ∂E/∂x the layer-level expression (a correlation of δ with the
input or with the flipped kernel, derivation/convolution.py) must equal the graph's own chain rule
through that layer: the sum, over the layer's outputs that use the entry, of the output's adjoint δ
times the local derivative. Both sides speak of the same symbols (δ, the input's and the kernel's
entries), so the comparison is exact; a kernel left unflipped fails it.
"""

from __future__ import annotations

from sympy import Expr, Symbol

from symbackprop.checks.matrix_form import EntryCheck
from symbackprop.derivation.convolution import ConvolutionForm
from symbackprop.derivation.graph import GraphDerivation
from symbackprop.derivation.rules import fold_product, fold_sum
from symbackprop.errors import CheckFailure
from symbackprop.network.layers import Grid


def check_convolution_forms(forms: list[ConvolutionForm], derivation: GraphDerivation) -> list[EntryCheck]:
    """Every entry of every convolution's layer-level gradients beside the graph's chain rule through it."""
    adjoints = {adjoint.quantity: adjoint for adjoint in derivation.adjoints}
    checks: list[EntryCheck] = []
    for form in forms:
        layer = form.layer
        outputs = set(layer.output.entries)
        pairs = [(layer.kernel, form.kernel_gradient), (layer.source, form.input_gradient)]
        if layer.bias is not None:
            pairs.append((layer.bias, form.bias_gradient))
        for quantities, gradients in pairs:
            for quantity, gradient in zip(quantities.entries, gradients.entries):
                symbol, through = _through(adjoints.get(quantity), quantity, derivation, outputs)
                checks.append(EntryCheck(f"{layer.spec.name}: dE/d{quantity.name}", symbol, gradient, through))
    return checks


def require_convolution_forms(checks: list[EntryCheck]) -> None:
    """Raise `CheckFailure` naming every entry whose layer-level form differs from the graph's chain rule."""
    failed = [c for c in checks if not c.equal]
    if failed:
        raise CheckFailure("a convolution's layer-level form differs from the scalar graph:\n" + "\n".join(
            f"{c.entry}: layer-level {c.matrix_value}, graph {c.scalar_value}" for c in failed))


def _through(adjoint, quantity: Symbol, derivation: GraphDerivation, outputs: set[Symbol]) -> tuple[Symbol, Expr]:
    """The adjoint's symbol and its chain-rule terms through the layer's `outputs`, each local derivative
    replaced by what it equals (a kernel or input entry)."""
    if adjoint is None:  # reaches the loss through nothing: its gradient is 0
        return quantity, fold_sum([])
    return adjoint.symbol, fold_sum([fold_product([upstream, local.form]) for upstream, local in adjoint.terms
                                     if local.symbol.of in outputs])
