"""Convolutions (1-d and 2-d: stride, padding, channels, filters) and max and average pooling in numpy, from
their layer-level forms (derivation/convolution.py), with (a ⋆ k)[u] = Σ_q a[u + q] k[q]:

    y_f          = Σ_c x_c (padded by p) ⋆ K_{f,c}, read every s-th position, + b_f
    ∂E/∂K_{f,c}  = x_c (padded by p) ⋆ δ_f (dilated by s)       the correlation of the input with δ
    ∂E/∂b_f      = Σ δ_f
    ∂E/∂x_c      = Σ_f δ_f (dilated by s, padded by k - 1 - p) ⋆ flip(K_{f,c})
                                                                the full correlation with the flipped kernel

The input's windows (numpy's sliding windows, every s-th) make the forward pass and the kernel's gradient one
tensordot each; δ placed at s·o + k - 1 - p in a zero array makes the input's gradient one more. A pool reads
each window's entries by index: max routes δ to the arg-max (the first of tied entries in the window's order),
average spreads δ/n over the window.
"""

from __future__ import annotations

from itertools import product

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from symbackprop.numbers.fast_blocks import FastLayer
from symbackprop.spec.layers import CONVOLUTIONS, POOLS, LayerDef


def _channels_first(shape: tuple[int, ...], dims: int) -> tuple[int, ...]:
    """The input's shape with a channel axis (of one when the spec gives none)."""
    return (1, *shape) if len(shape) == dims else shape


def windows(array: np.ndarray, window: tuple[int, ...], stride: int) -> np.ndarray:
    """(lead, *sizes) -> (lead, *positions, *window): the window at every `stride`-th position (a view)."""
    dims = len(window)
    view = sliding_window_view(array, window, axis=tuple(range(1, dims + 1)))
    return view[(slice(None), *(slice(None, None, stride),) * dims)] if stride > 1 else view


class FastConvolution(FastLayer):
    def __init__(self, layer: LayerDef, shape: tuple[int, ...]) -> None:
        super().__init__(layer, shape)
        self.dims = dims = CONVOLUTIONS[layer.kind]
        self.source = _channels_first(shape, dims)
        filters, self.window = layer.kernel.shape[0], layer.kernel.shape[2:]
        p, s = layer.padding, layer.stride
        self.padded = ((0, 0), *((p, p),) * dims)
        positions = tuple((n + 2 * p - k) // s + 1 for n, k in zip(self.source[1:], self.window))
        self.out = (filters, *positions)
        # δ_f dilated by s and padded by k - 1 - p, cropped to the n + k - 1 entries the full correlation reads
        self.placed = (filters, *(n + k - 1 for n, k in zip(self.source[1:], self.window)))
        at = [np.arange(o) * s + k - 1 - p for o, k in zip(positions, self.window)]
        kept = [(a >= 0) & (a < n) for a, n in zip(at, self.placed[1:])]
        self.place_at = np.ix_(range(filters), *(a[keep] for a, keep in zip(at, kept)))
        self.place_from = np.ix_(range(filters), *(np.flatnonzero(keep) for keep in kept))
        self.axes = tuple(range(2, dims + 2))
        """The kernel's window axes."""

    def forward(self, x, parameters):
        p = parameters[self.name]
        x = x.reshape(self.source)
        if self.layer.padding:
            x = np.pad(x, self.padded)
        read = windows(x, self.window, self.layer.stride)
        y = np.tensordot(p["kernel"], read, axes=((1, *self.axes), (0, *(a + self.dims - 1 for a in self.axes))))
        if "bias" in p:
            y += p["bias"].reshape((-1,) + (1,) * self.dims)
        return y.reshape(self.layer.output_shape), read

    def backward(self, dy, read, parameters, gradients, need_input):
        p, g = parameters[self.name], gradients[self.name]
        dy = dy.reshape(self.out)
        spatial = tuple(range(1, self.dims + 1))
        g["kernel"] = np.tensordot(dy, read, axes=(spatial, spatial))
        if "bias" in p:
            g["bias"] = dy.sum(axis=spatial)
        if not need_input:
            return None
        placed = np.zeros(self.placed)
        placed[self.place_at] = dy[self.place_from]
        flipped = p["kernel"][(slice(None), slice(None), *(slice(None, None, -1),) * self.dims)]
        full = windows(placed, self.window, 1)
        dx = np.tensordot(flipped, full, axes=((0, *self.axes), (0, *(a + self.dims - 1 for a in self.axes))))
        return dx.reshape(self.shape)


class FastPool(FastLayer):
    def __init__(self, layer: LayerDef, shape: tuple[int, ...]) -> None:
        super().__init__(layer, shape)
        self.how, dims = POOLS[layer.kind]
        source = _channels_first(shape, dims)
        flat = np.arange(int(np.prod(source))).reshape(source)
        offsets = list(product(range(layer.size), repeat=dims))
        read = windows(flat, (layer.size,) * dims, layer.stride)
        # every window's entries by their flat index in the input, in the order of the window's offsets
        self.index = np.stack([read[(Ellipsis, *offset)] for offset in offsets], axis=-1)
        self.size = int(np.prod(source))

    def forward(self, x, parameters):
        entries = x.ravel()[self.index]
        if self.how == "average":
            return entries.mean(axis=-1).reshape(self.layer.output_shape), None
        chosen = entries.argmax(axis=-1)[..., None]
        return np.take_along_axis(entries, chosen, axis=-1)[..., 0].reshape(self.layer.output_shape), chosen

    def backward(self, dy, chosen, parameters, gradients, need_input):
        if not need_input:
            return None
        if self.how == "average":
            spread = np.repeat(dy.ravel() / self.index.shape[-1], self.index.shape[-1])
            return np.bincount(self.index.ravel(), spread, minlength=self.size).reshape(self.shape)
        routed = np.take_along_axis(self.index, chosen, axis=-1)
        return np.bincount(routed.ravel(), dy.ravel(), minlength=self.size).reshape(self.shape)
