"""A convolution's backward pass at the layer level, as textbooks write it, in the scalar graph's symbols.

With δ = ∂E/∂y (one entry per output position of each filter), stride s and padding p:

    ∂E/∂K_{f,c} = x_c (padded by p) ⋆ δ_f (dilated by s)                 the correlation of the input with δ
    ∂E/∂b_f     = the sum of δ_f
    ∂E/∂x_c     = sum over f of δ_f (dilated by s, padded by k - 1 - p) ⋆ flip(K_{f,c})
                                                                         the full correlation with the flipped kernel

where (a ⋆ k)[u] = sum over q of a[u + q] k[q]. These are built here from `correlation`, `dilated`,
`shifted` and `flipped` alone, never from the graph's chain rule, so that checks/convolution.py can
prove them entry by entry against the graph's adjoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from sympy import Expr, S

from symbackprop.derivation.graph import GraphDerivation
from symbackprop.derivation.layer_forms import LayerGradient
from symbackprop.derivation.rules import fold_product, fold_sum
from symbackprop.network.layers import BuiltLayer, Grid, LayerNetwork
from symbackprop.spec.layers import CONVOLUTIONS

Array = dict[tuple[int, ...], Expr]
"""A spatial array by index; an index that is absent holds 0 (padding, dilation)."""


@dataclass(frozen=True)
class ConvolutionForm:
    """One convolution's layer-level gradients, channels first, in δ (the adjoints of its outputs) and the
    entries of its input and kernel."""

    layer: BuiltLayer
    delta: Grid
    """(filters, *output sizes): ∂E/∂y as the graph's adjoint symbols."""
    kernel_gradient: Grid
    bias_gradient: Grid | None
    input_gradient: Grid
    """(channels, *input sizes)."""

    @property
    def gradients(self) -> list[LayerGradient]:
        """Every entry of dE/dK, dE/dx and dE/db, each through the layer's outputs."""
        layer, outputs = self.layer, frozenset(self.layer.output.entries)
        pairs = [(layer.kernel, self.kernel_gradient), (layer.source, self.input_gradient)]
        if layer.bias is not None:
            pairs.append((layer.bias, self.bias_gradient))
        return [LayerGradient(quantity, expression, outputs)
                for quantities, expressions in pairs for quantity, expression in zip(quantities.entries, expressions.entries)]

    @property
    def meaning(self) -> dict:
        """Nothing to substitute: both sides speak of δ, the input and the kernel."""
        return {}


def convolution_forms(network: LayerNetwork, derivation: GraphDerivation) -> list[ConvolutionForm]:
    """The layer-level form of every convolution of the network."""
    adjoints = {adjoint.quantity: adjoint.symbol for adjoint in derivation.adjoints}
    forms = []
    for layer in network.every_layer():
        if layer.spec.kind in CONVOLUTIONS:
            kernel = layer.kernel
            delta = Grid((kernel.shape[0], *layer.spec.output_shape[-CONVOLUTIONS[layer.spec.kind]:]),
                         tuple(adjoints.get(entry, S.Zero) for entry in layer.output.entries))
            forms.append(convolution_form(layer, delta))
    return forms


def convolution_form(layer: BuiltLayer, delta: Grid) -> ConvolutionForm:
    """∂E/∂K, ∂E/∂b and ∂E/∂x of one convolution from its δ, by correlation."""
    source, kernel, stride, padding = layer.source, layer.kernel, layer.spec.stride, layer.spec.padding
    filters, channels, window = kernel.shape[0], kernel.shape[1], kernel.shape[2:]
    sizes = source.shape[1:]
    deltas = [dilated(_array(delta, (f,)), stride) for f in range(filters)]
    kernel_gradient = [correlation(shifted(_array(source, (c,)), (padding,) * len(window)), deltas[f], window)
                       for f in range(filters) for c in range(channels)]
    input_gradient = [[correlation(shifted(deltas[f], tuple(k - 1 - padding for k in window)),
                                   flipped(_array(kernel, (f, c)), window), sizes) for f in range(filters)]
                      for c in range(channels)]
    bias = None
    if layer.bias is not None:
        bias = Grid((filters,), tuple(fold_sum(list(_array(delta, (f,)).values())) for f in range(filters)))
    return ConvolutionForm(
        layer, delta,
        Grid(kernel.shape, tuple(entry for array in kernel_gradient for entry in _entries(array, window))),
        bias,
        Grid(source.shape, tuple(fold_sum([array[index] for array in per_filter])
                                 for per_filter in input_gradient for index in _indices(sizes))),
    )


def correlation(signal: Array, kernel: Array, shape: tuple[int, ...]) -> Array:
    """(signal ⋆ kernel)[u] = sum over q of signal[u + q] kernel[q], for every u of `shape`."""
    return {u: fold_sum([fold_product([signal[at], value]) for q, value in kernel.items()
                         if (at := tuple(a + b for a, b in zip(u, q))) in signal])
            for u in _indices(shape)}


def dilated(array: Array, stride: int) -> Array:
    """stride - 1 zeros between neighbouring entries: entry q moves to q·stride."""
    return {tuple(i * stride for i in index): value for index, value in array.items()}


def shifted(array: Array, by: tuple[int, ...]) -> Array:
    """Padded by `by` zeros before each axis (cropped where negative): entry q moves to q + by."""
    return {tuple(i + b for i, b in zip(index, by)): value for index, value in array.items()}


def flipped(array: Array, shape: tuple[int, ...]) -> Array:
    """The kernel turned around on every axis: entry q moves to shape - 1 - q."""
    return {tuple(n - 1 - i for i, n in zip(index, shape)): value for index, value in array.items()}


def _array(grid: Grid, lead: tuple[int, ...]) -> Array:
    """The spatial array of `grid` at the leading indices `lead` (a filter, a channel)."""
    spatial = grid.shape[len(lead):]
    return {index: grid.at((*lead, *index)) for index in _indices(spatial)}


def _entries(array: Array, shape: tuple[int, ...]) -> list[Expr]:
    return [array[index] for index in _indices(shape)]


def _indices(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    return list(product(*(range(n) for n in shape)))
