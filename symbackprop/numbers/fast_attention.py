"""Scaled dot-product self-attention in numpy, one head or several, with or without a causal mask, from its
layer-level form (derivation/blocks.py's `attention_form`):

    Q = X W_Q, K = X W_K, V = X W_V; per head h (an equal share of the columns, d of the keys'):
    S_h = Q_h K_hᵀ/√d, A_h = the row softmax of S_h (a causal row over the positions up to its own), O_h = A_h V_h
    ∂E/∂V_h = A_hᵀ δO_h, ∂E/∂A_h = δO_h V_hᵀ,
    ∂E/∂S_h = A_h ⊙ (∂E/∂A_h - rowsum(A_h ⊙ ∂E/∂A_h))        the softmax's Jacobian-vector product
    ∂E/∂Q_h = ∂E/∂S_h K_h/√d, ∂E/∂K_h = ∂E/∂S_hᵀ Q_h/√d,
    ∂E/∂W_Q = Xᵀ ∂E/∂Q (W_K, W_V likewise), ∂E/∂X = ∂E/∂Q W_Qᵀ + ∂E/∂K W_Kᵀ + ∂E/∂V W_Vᵀ

With an output projection, Y = O W_O (O the heads side by side): ∂E/∂W_O = Oᵀ ∂E/∂Y, ∂E/∂O = ∂E/∂Y W_Oᵀ.
The heads are one batched matrix product each.
"""

from __future__ import annotations

import numpy as np

from symbackprop.numbers.fast_blocks import FastLayer
from symbackprop.spec.layers import LayerDef


class FastAttention(FastLayer):
    def __init__(self, layer: LayerDef, shape: tuple[int, ...]) -> None:
        super().__init__(layer, shape)
        positions, heads = shape[0], layer.heads
        self.scale = (layer.recurrent["WQ"].shape[1] // heads) ** -0.5
        self.hidden = np.triu(np.ones((positions, positions), dtype=bool), 1) if layer.causal else None
        """The entries a causal row does not see: the positions after its own."""

    def _heads(self, m: np.ndarray) -> np.ndarray:
        """(positions, columns) -> (heads, positions, the head's columns)."""
        return m.reshape(m.shape[0], self.layer.heads, -1).transpose(1, 0, 2)

    def _joined(self, m: np.ndarray) -> np.ndarray:
        """(heads, positions, columns) -> (positions, heads · columns): the heads side by side."""
        return m.transpose(1, 0, 2).reshape(m.shape[1], -1)

    def forward(self, x, parameters):
        p = parameters[self.name]
        q, k, v = (self._heads(x @ p[key]) for key in ("WQ", "WK", "WV"))
        scores = (q @ k.transpose(0, 2, 1)) * self.scale
        if self.hidden is not None:
            scores[:, self.hidden] = -np.inf
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        joined = self._joined(weights @ v)
        return (joined @ p["WO"] if "WO" in p else joined), (x, q, k, v, weights, joined)

    def backward(self, dy, cache, parameters, gradients, need_input):
        x, q, k, v, weights, joined = cache
        p, g = parameters[self.name], gradients[self.name]
        if "WO" in p:
            g["WO"], dy = joined.T @ dy, dy @ p["WO"].T
        do = self._heads(dy)
        dv = weights.transpose(0, 2, 1) @ do
        da = do @ v.transpose(0, 2, 1)
        ds = weights * (da - np.sum(weights * da, axis=-1, keepdims=True))
        dq, dk = (ds @ k) * self.scale, (ds.transpose(0, 2, 1) @ q) * self.scale
        dx = 0
        for key, d in (("WQ", dq), ("WK", dk), ("WV", dv)):
            d = self._joined(d)
            g[key] = x.T @ d
            if need_input:
                dx = dx + d @ p[key].T
        return dx if need_input else None
