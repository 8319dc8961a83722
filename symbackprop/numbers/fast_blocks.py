"""The fast path's simple layers in numpy: dense, the activations, flatten, dropout, an embedding and the
normalizations, each a forward pass and its backward pass at the layer level (`numbers.fast_layers` walks them).

    dense       z = W a + b                 ∂E/∂W = δ aᵀ, ∂E/∂b = δ, ∂E/∂a = Wᵀ δ
    activation  a = f(x)                    ∂E/∂x = δ ⊙ f'(x): relu's (0 at its kink, as the engine), σ(1 - σ), 1 - tanh²
    dropout     d = scale · mask ⊙ x        ∂E/∂x = scale · mask ⊙ δ
    embedding   v_i = C_{token i}           ∂E/∂C_k = Σ over the inputs i holding token k of δ_i
    norm        y = γ n + β, n = (x - μ)(var + ε)^(-1/2) per group of m entries
                ∂E/∂γ = Σ δ n, ∂E/∂β = Σ δ, ∂E/∂x = (var + ε)^(-1/2)/m (m ∂E/∂n - Σ ∂E/∂n - n Σ ∂E/∂n n)
"""

from __future__ import annotations

import numpy as np

from symbackprop.spec.layers import NORMS, LayerDef, Tensor

Parameters = dict[str, dict[str, np.ndarray]]
"""Layer name -> key (kernel, bias, weights, W, ...) -> the parameter's array, in the shape its leaves have."""
Gradients = Parameters
"""The same layout, dE/d(each parameter)."""


def read(tensor: Tensor) -> np.ndarray:
    """A spec's tensor as the nearest doubles, from its numbers as read: a float as it is, an int or a Decimal by
    float(), which rounds correctly, so each equals float() of the exact number, with no `Rational` made; a zero
    written -0.0 is the exact 0, so + 0.0 makes it 0.0 (it would stay -0.0 where its gradient is 0)."""
    return np.array(tensor.numbers, dtype=np.float64).reshape(tensor.shape) + 0.0


class FastLayer:
    """One layer's forward pass (its output and what its backward pass keeps) and backward pass (its input's
    gradient, the parameters' gradients added to `gradients[name]`), in the shapes the spec gives."""

    def __init__(self, layer: LayerDef, shape: tuple[int, ...] = ()) -> None:
        self.name, self.layer, self.shape = layer.name, layer, shape

    def forward(self, x: np.ndarray, parameters: Parameters) -> tuple[np.ndarray, object]:
        raise NotImplementedError

    def backward(self, dy: np.ndarray, cache: object, parameters: Parameters, gradients: Gradients,
                 need_input: bool) -> np.ndarray | None:
        raise NotImplementedError


class FastDense(FastLayer):
    def forward(self, x, parameters):
        p = parameters[self.name]
        z = p["weights"] @ x
        return (z + p["bias"] if "bias" in p else z), x

    def backward(self, dy, x, parameters, gradients, need_input):
        p, g = parameters[self.name], gradients[self.name]
        g["weights"] = np.outer(dy, x)
        if "bias" in p:
            g["bias"] = dy.copy()
        return p["weights"].T @ dy if need_input else None


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1/(1 + e^(-x)) without overflow: e^(-|x|) on either side."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


ACTIVATIONS = {
    "relu": (lambda x: np.where(x > 0, x, 0.0), lambda x, y: (x > 0).astype(np.float64)),
    "sigmoid": (sigmoid, lambda x, y: y * (1 - y)),
    "tanh": (np.tanh, lambda x, y: 1 - y * y),
}
"""Each activation and its derivative in terms of its input x and output y."""


class FastActivation(FastLayer):
    def forward(self, x, parameters):
        y = ACTIVATIONS[self.layer.kind][0](x)
        return y, (x, y)

    def backward(self, dy, cache, parameters, gradients, need_input):
        return dy * ACTIVATIONS[self.layer.kind][1](*cache) if need_input else None


class FastFlatten(FastLayer):
    def forward(self, x, parameters):
        return x.reshape(self.layer.output_shape), None

    def backward(self, dy, cache, parameters, gradients, need_input):
        return dy.reshape(self.shape) if need_input else None


class FastDropout(FastLayer):
    def __init__(self, layer: LayerDef, shape: tuple[int, ...]) -> None:
        super().__init__(layer, shape)
        self.factor = float(layer.scale) * read(layer.mask).reshape(shape)

    def forward(self, x, parameters):
        return self.factor * x, None

    def backward(self, dy, cache, parameters, gradients, need_input):
        return self.factor * dy if need_input else None


class FastEmbedding(FastLayer):
    """The inputs are token numbers from 1; they have no gradient."""

    def forward(self, tokens, parameters):
        return parameters[self.name]["table"][tokens - 1], tokens

    def backward(self, dy, tokens, parameters, gradients, need_input):
        table = parameters[self.name]["table"]
        gradient = np.zeros_like(table)
        np.add.at(gradient, tokens.ravel() - 1, dy.reshape(-1, table.shape[1]))
        gradients[self.name]["table"] = gradient
        return None


class FastNorm(FastLayer):
    """A layer norm's groups are the rows (axis 1 of (rows, features)), a batch norm's the columns (axis 0)."""

    def __init__(self, layer: LayerDef, shape: tuple[int, ...]) -> None:
        super().__init__(layer, shape)
        self.rows = shape if len(shape) == 2 else (1, *shape)
        self.axis = 0 if NORMS[layer.kind] == 0 else 1
        self.epsilon = float(layer.scale)

    def forward(self, x, parameters):
        p = parameters[self.name]
        x = x.reshape(self.rows)
        deviation = x - x.mean(axis=self.axis, keepdims=True)
        scale = (np.mean(deviation * deviation, axis=self.axis, keepdims=True) + self.epsilon) ** -0.5
        n = deviation * scale
        return (p["gamma"] * n + p["beta"]).reshape(self.shape), (n, scale)

    def backward(self, dy, cache, parameters, gradients, need_input):
        n, scale = cache
        dy = dy.reshape(self.rows)
        g = gradients[self.name]
        g["gamma"], g["beta"] = np.sum(dy * n, axis=0), np.sum(dy, axis=0)
        if not need_input:
            return None
        dn = parameters[self.name]["gamma"] * dy
        m = n.shape[self.axis]
        dx = scale / m * (m * dn - dn.sum(axis=self.axis, keepdims=True)
                          - n * np.sum(dn * n, axis=self.axis, keepdims=True))
        return dx.reshape(self.shape)
