"""The recurrent layers in numpy over T steps, from their layer-level forms (derivation/recurrent.py): the forward
pass step by step, backpropagation through time as sums over time of each step's term.

    rnn    s<t> = W x<t> + U h<t-1> + b, h<t> = tanh(s<t>), y<t> = V h<t> + c
           ∂E/∂h<t> = Vᵀ δy<t> + Uᵀ δs<t+1>, δs<t> = ∂E/∂h<t> ⊙ (1 - h<t>²)
           ∂E/∂W = Σ_t δs<t> x<t>ᵀ, ∂E/∂U = Σ_t δs<t> h<t-1>ᵀ, ∂E/∂b = Σ_t δs<t>, ∂E/∂V = Σ_t δy<t> h<t>ᵀ
    lstm   z_q<t> = W_q x<t> + U_q h<t-1> + b_q, i, f, o = σ(z), g = tanh(z_g), c<t> = f c<t-1> + i g,
           h<t> = o tanh(c<t>); ∂E/∂c<t> = ∂E/∂h<t> o (1 - tanh² c<t>) + ∂E/∂c<t+1> f<t+1>
    gru    r, u = σ(z_r), σ(z_u), n = tanh(W_n x<t> + U_n (r ⊙ h<t-1>) + b_n), h<t> = (1 - u) n + u h<t-1>

The input's terms of every step (W x<t> + b) and the sums over time (∂E/∂W, ∂E/∂U, ∂E/∂b) are one matrix product
each; only the recurrence runs step by step. The initial state (h0, c0) is a value, not trained. With truncated
BPTT (`truncate` k) nothing flows back into the state after steps k, 2k, ... (`network.layers.chunk_ends`):
the carried ∂E/∂h (and ∂E/∂c) stops there, as PyTorch's `detach()` every k steps does.
"""

from __future__ import annotations

import numpy as np

from symbackprop.network.layers import chunk_ends
from symbackprop.numbers.fast_blocks import FastLayer, read, sigmoid
from symbackprop.spec.layers import GATE_SETS, LayerDef


class _Recurrent(FastLayer):
    """What every recurrent layer shares: its initial states, the input's terms, and the readout y = V h + b."""

    output_bias = "c"

    def __init__(self, layer: LayerDef, shape: tuple[int, ...]) -> None:
        super().__init__(layer, shape)
        self.hidden = layer.recurrent["U" if "U" in layer.recurrent else "U" + GATE_SETS[layer.kind][0]].shape[0]
        self.initial = {key: read(layer.recurrent[key]) if key in layer.recurrent
                        else np.zeros(self.hidden) for key in ("h0", "c0")}

    def detached(self, x: np.ndarray) -> frozenset[int]:
        """The states h<t> (t counted from 1) that the next step reads detached: no gradient flows back into them."""
        return frozenset(chunk_ends(self.layer, len(x)))

    def inputs(self, x: np.ndarray, p: dict, gate: str = "") -> np.ndarray:
        """W x<t> + b for every step t at once, one row per step."""
        terms = x @ p["W" + gate].T
        return terms + p["b" + gate] if "b" + gate in p else terms

    def readout(self, states: np.ndarray, p: dict) -> np.ndarray:
        y = states @ p["V"].T
        return y + p[self.output_bias] if self.output_bias in p else y

    def readout_gradients(self, dy: np.ndarray, states: np.ndarray, p: dict, g: dict) -> np.ndarray:
        """∂E/∂V and the output's bias, summed over time; ∂E/∂h<t> through y<t>."""
        g["V"] = dy.T @ states
        if self.output_bias in p:
            g[self.output_bias] = dy.sum(axis=0)
        return dy @ p["V"]

    def input_gradients(self, dz: np.ndarray, x: np.ndarray, before: np.ndarray, p: dict, g: dict,
                        gate: str = "") -> np.ndarray:
        """∂E/∂W, ∂E/∂U and ∂E/∂b of one gate summed over time from δz<t>, and ∂E/∂x<t> through it."""
        g["W" + gate], g["U" + gate] = dz.T @ x, dz.T @ before
        if "b" + gate in p:
            g["b" + gate] = dz.sum(axis=0)
        return dz @ p["W" + gate]


class FastRNN(_Recurrent):
    def forward(self, x, parameters):
        p = parameters[self.name]
        terms, u = self.inputs(x, p), p["U"]
        states = np.empty((len(x) + 1, self.hidden))
        states[0] = self.initial["h0"]
        for t in range(len(x)):
            states[t + 1] = np.tanh(terms[t] + u @ states[t])
        return self.readout(states[1:], p), (x, states)

    def backward(self, dy, cache, parameters, gradients, need_input):
        x, states = cache
        p, g = parameters[self.name], gradients[self.name]
        dh = self.readout_gradients(dy, states[1:], p, g)
        ds = np.empty_like(dh)
        carried, detached = np.zeros(self.hidden), self.detached(x)
        for t in range(len(x) - 1, -1, -1):
            ds[t] = (dh[t] + carried) * (1 - states[t + 1] ** 2)
            carried = np.zeros_like(carried) if t in detached else p["U"].T @ ds[t]
        dx = self.input_gradients(ds, x, states[:-1], p, g)
        return dx if need_input else None


class FastLSTM(_Recurrent):
    output_bias = "by"

    def forward(self, x, parameters):
        p = parameters[self.name]
        terms = {q: self.inputs(x, p, q) for q in "ifog"}
        steps = len(x)
        h, c = np.empty((steps + 1, self.hidden)), np.empty((steps + 1, self.hidden))
        h[0], c[0] = self.initial["h0"], self.initial["c0"]
        gates = {q: np.empty((steps, self.hidden)) for q in "ifog"}
        for t in range(steps):
            for q in "ifog":
                z = terms[q][t] + p["U" + q] @ h[t]
                gates[q][t] = np.tanh(z) if q == "g" else sigmoid(z)
            c[t + 1] = gates["f"][t] * c[t] + gates["i"][t] * gates["g"][t]
            h[t + 1] = gates["o"][t] * np.tanh(c[t + 1])
        return self.readout(h[1:], p), (x, h, c, gates)

    def backward(self, dy, cache, parameters, gradients, need_input):
        x, h, c, gates = cache
        p, g = parameters[self.name], gradients[self.name]
        dh = self.readout_gradients(dy, h[1:], p, g)
        dz = {q: np.empty_like(dh) for q in "ifog"}
        carried_h, carried_c = np.zeros(self.hidden), np.zeros(self.hidden)
        detached = self.detached(x)
        for t in range(len(x) - 1, -1, -1):
            i, f, o, cand = (gates[q][t] for q in "ifog")
            squashed = np.tanh(c[t + 1])
            dh_t = dh[t] + carried_h
            dc = dh_t * o * (1 - squashed ** 2) + carried_c
            dz["i"][t], dz["f"][t] = dc * cand * i * (1 - i), dc * c[t] * f * (1 - f)
            dz["o"][t], dz["g"][t] = dh_t * squashed * o * (1 - o), dc * i * (1 - cand ** 2)
            carried_c = dc * f
            carried_h = sum(p["U" + q].T @ dz[q][t] for q in "ifog")
            if t in detached:
                carried_h, carried_c = np.zeros_like(carried_h), np.zeros_like(carried_c)
        dx = sum(self.input_gradients(dz[q], x, h[:-1], p, g, q) for q in "ifog")
        return dx if need_input else None


class FastGRU(_Recurrent):
    output_bias = "by"

    def forward(self, x, parameters):
        p = parameters[self.name]
        terms = {q: self.inputs(x, p, q) for q in "run"}
        steps = len(x)
        h = np.empty((steps + 1, self.hidden))
        h[0] = self.initial["h0"]
        gates = {q: np.empty((steps, self.hidden)) for q in "run"}
        for t in range(steps):
            r = gates["r"][t] = sigmoid(terms["r"][t] + p["Ur"] @ h[t])
            u = gates["u"][t] = sigmoid(terms["u"][t] + p["Uu"] @ h[t])
            n = gates["n"][t] = np.tanh(terms["n"][t] + p["Un"] @ (r * h[t]))
            h[t + 1] = (1 - u) * n + u * h[t]
        return self.readout(h[1:], p), (x, h, gates)

    def backward(self, dy, cache, parameters, gradients, need_input):
        x, h, gates = cache
        p, g = parameters[self.name], gradients[self.name]
        dh = self.readout_gradients(dy, h[1:], p, g)
        dz = {q: np.empty_like(dh) for q in "run"}
        carried, detached = np.zeros(self.hidden), self.detached(x)
        for t in range(len(x) - 1, -1, -1):
            r, u, n = (gates[q][t] for q in "run")
            dh_t = dh[t] + carried
            dz["n"][t] = dh_t * (1 - u) * (1 - n ** 2)
            dz["u"][t] = dh_t * (h[t] - n) * u * (1 - u)
            reset = p["Un"].T @ dz["n"][t]
            dz["r"][t] = reset * h[t] * r * (1 - r)
            carried = dh_t * u + reset * r + p["Ur"].T @ dz["r"][t] + p["Uu"].T @ dz["u"][t]
            if t in detached:
                carried = np.zeros_like(carried)
        dx = sum(self.input_gradients(dz[q], x, h[:-1] * gates["r"] if q == "n" else h[:-1], p, g, q) for q in "run")
        return dx if need_input else None
