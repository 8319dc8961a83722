"""Recurrent layers' backward pass at the layer level: backpropagation through time as a sum over time, for
an Elman RNN (below), an LSTM (`lstm_form`) and a GRU (`gru_form`).

With δ<t> = ∂E/∂s<t> (the gradient at the pre-activation s<t> = W x<t> + U h<t-1> + b of step t):

    ∂E/∂h<t> = Vᵀ ∂E/∂y<t> + Uᵀ δ<t+1>           (no second term at the last step T)
    δ<t>     = ∂E/∂h<t> ⊙ tanh'(s<t>)             with tanh' written in the output, 1 - h<t>², by identities.py
    ∂E/∂V = Σ_t ∂E/∂y<t> h<t>ᵀ     ∂E/∂c = Σ_t ∂E/∂y<t>
    ∂E/∂W = Σ_t δ<t> x<t>ᵀ         ∂E/∂U = Σ_t δ<t> h<t-1>ᵀ     ∂E/∂b = Σ_t δ<t>
    ∂E/∂x<t> = Wᵀ δ<t>             ∂E/∂h<0> = Uᵀ δ<1>

each written entry by entry from these formulas (never from the graph's chain rule), so that
checks/layers.py can prove them against the graph's adjoints.

Truncated BPTT (`truncate` k): step t + 1 reads the state after a chunk's last step t = k, 2k, ... through
its detached copy hd<t> = detach(h<t>), whose derivative is 0. The sums over time then run back within each
chunk: ∂E/∂hd<t> takes the terms through step t + 1 (Uᵀ δ<t+1>), ∂E/∂h<t> keeps only its step's own (Vᵀ
∂E/∂y<t>), and the sums for U read the state each step read (hd<t-1> at a chunk's start).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sympy import Expr, S, Symbol, tanh

from symbackprop.derivation.graph import GraphDerivation
from symbackprop.derivation.identities import derivative_in_output
from symbackprop.derivation.layer_forms import LayerGradient
from symbackprop.derivation.rules import fold_product, fold_sum
from symbackprop.network.activations import ACTIVATIONS
from symbackprop.network.layers import BuiltLayer, LayerNetwork, chunk_ends


@dataclass(frozen=True)
class RecurrentForm:
    """One RNN's gradients by backpropagation through time, in the graph's adjoints and entries."""

    layer: BuiltLayer
    gradients: list[LayerGradient]
    """Backwards in time ∂E/∂h<t> and δ<t>, then the sums over time, then the inputs and h<0>."""
    meaning: dict[Symbol, Expr]
    """Each hidden state h<t> as what the graph computes it from, tanh(s<t>)."""


def recurrent_forms(network: LayerNetwork, derivation: GraphDerivation) -> list[RecurrentForm]:
    """The layer-level form of every RNN, LSTM and GRU of the network."""
    forms = {"rnn": recurrent_form, "lstm": lstm_form, "gru": gru_form}
    return [forms[layer.spec.kind](layer, derivation) for layer in network.every_layer() if layer.spec.kind in forms]


def recurrent_form(layer: BuiltLayer, derivation: GraphDerivation) -> RecurrentForm:
    """BPTT for one RNN from the adjoints of its outputs, hidden states and pre-activations."""
    grad = _adjoints(derivation)
    expressions = {node.symbol: node.expression for node in derivation.graph.nodes}

    W, U, V = (layer.recurrent[key] for key in "WUV")
    hidden, outputs, inputs = U.shape[0], V.shape[0], W.shape[1]
    steps = layer.source.shape[0]
    h = [[layer.timeline["h"].at((t, j)) for j in range(hidden)] for t in range(steps + 1)]
    read = _read(layer, "h", h)
    s = [None] + [[layer.timeline["s"].at((t - 1, j)) for j in range(hidden)] for t in range(1, steps + 1)]
    y, x = _by_time(layer.output, steps, outputs), _by_time(layer.source, steps, inputs)
    delta = [None] + [[grad(s[t][j]) for j in range(hidden)] for t in range(1, steps + 1)]
    every_s = frozenset(e for t in range(1, steps + 1) for e in s[t])
    tanh = ACTIVATIONS["tanh"]

    gradients = []
    for t in range(steps, 0, -1):
        later = frozenset(s[t + 1]) if t < steps else frozenset()
        for j in range(hidden):
            recurrent = [fold_product([U.at((l, j)), delta[t + 1][l]]) for l in range(hidden)] if t < steps else []
            gradients += _state_gradients(h[t][j], read[t + 1][j] if t < steps else h[t][j],
                                          [fold_product([V.at((k, j)), grad(y[t][k])]) for k in range(outputs)],
                                          frozenset(y[t]), recurrent, later)
        for j in range(hidden):
            slope = derivative_in_output(tanh, s[t][j], h[t][j])
            gradients.append(LayerGradient(s[t][j], fold_product([grad(h[t][j]), slope]), frozenset({h[t][j]})))
    over_time = range(1, steps + 1)
    gradients += _readout(V, layer.recurrent.get("c"), grad, y, h)
    gradients += [LayerGradient(W.at((j, i)), _total([fold_product([delta[t][j], x[t][i]]) for t in over_time]), every_s)
                  for j in range(hidden) for i in range(inputs)]
    gradients += [LayerGradient(U.at((j, k)), _total([fold_product([delta[t][j], read[t][k]]) for t in over_time]),
                                every_s) for j in range(hidden) for k in range(hidden)]
    if "b" in layer.recurrent:
        gradients += [LayerGradient(layer.recurrent["b"].at((j,)), _total([delta[t][j] for t in over_time]), every_s)
                      for j in range(hidden)]
    gradients += [LayerGradient(x[t][i], _total([fold_product([W.at((j, i)), delta[t][j]]) for j in range(hidden)]),
                                frozenset(s[t])) for t in over_time for i in range(inputs)]
    gradients += [LayerGradient(h[0][j], _total([fold_product([U.at((l, j)), delta[1][l]]) for l in range(hidden)]),
                                frozenset(s[1])) for j in range(hidden)]
    meaning = {h[t][j]: expressions[h[t][j]] for t in over_time for j in range(hidden)}
    return RecurrentForm(layer, gradients, meaning)


def lstm_form(layer: BuiltLayer, derivation: GraphDerivation) -> RecurrentForm:
    """BPTT for one LSTM, from the adjoints of its outputs, states, gates and pre-activations:

        ∂E/∂h<t> = Vᵀ ∂E/∂y<t> + Σ over the gates q of U_qᵀ ∂E/∂z_q<t+1>
        ∂E/∂c<t> = ∂E/∂h<t> ⊙ o<t> ⊙ (1 - tanh(c<t>)²) + ∂E/∂c<t+1> ⊙ f<t+1>
        ∂E/∂o<t> = ∂E/∂h<t> ⊙ tanh(c<t>)     ∂E/∂i<t> = ∂E/∂c<t> ⊙ g<t>
        ∂E/∂g<t> = ∂E/∂c<t> ⊙ i<t>           ∂E/∂f<t> = ∂E/∂c<t> ⊙ c<t-1>
        ∂E/∂z_q<t> = ∂E/∂q<t> ⊙ (σ' or tanh' written in the gate's output)
        ∂E/∂W_q = Σ_t ∂E/∂z_q<t> x<t>ᵀ, ∂E/∂U_q = Σ_t ∂E/∂z_q<t> h<t-1>ᵀ, ∂E/∂b_q = Σ_t ∂E/∂z_q<t>, and V, b_y, x<t>,
        h<0>, c<0> as for the RNN."""
    grad = _adjoints(derivation)
    expressions = {node.symbol: node.expression for node in derivation.graph.nodes}

    parts = layer.recurrent
    V = parts["V"]
    hidden, outputs, inputs = parts["Ui"].shape[0], V.shape[0], parts["Wi"].shape[1]
    steps = layer.source.shape[0]
    timeline = layer.timeline

    def by_step(key: str, start: int) -> list:
        """The quantity `key` at every step, indexed by the step (None before `start`)."""
        return [None] * start + [[timeline[key].at((t - start, j)) for j in range(hidden)]
                                 for t in range(start, steps + 1)]

    h, c = by_step("h", 0), by_step("c", 0)
    h_read, c_read = _read(layer, "h", h), _read(layer, "c", c)
    gate = {q: by_step(q, 1) for q in "ifog"}
    z = {q: by_step("z" + q, 1) for q in "ifog"}
    o = gate["o"]
    y, x = _by_time(layer.output, steps, outputs), _by_time(layer.source, steps, inputs)
    slope = {q: ACTIVATIONS["tanh" if q == "g" else "sigmoid"] for q in "ifog"}
    every_z = {q: frozenset(e for t in range(1, steps + 1) for e in z[q][t]) for q in "ifog"}
    over_time = range(1, steps + 1)

    gradients = []
    for t in range(steps, 0, -1):
        later = frozenset(e for q in "ifog" for e in z[q][t + 1]) if t < steps else frozenset()
        for j in range(hidden):
            recurrent = [fold_product([parts["U" + q].at((l, j)), grad(z[q][t + 1][l])])
                         for q in "ifog" for l in range(hidden)] if t < steps else []
            gradients += _state_gradients(h[t][j], h_read[t + 1][j] if t < steps else h[t][j],
                                          [fold_product([V.at((k, j)), grad(y[t][k])]) for k in range(outputs)],
                                          frozenset(y[t]), recurrent, later)
        for j in range(hidden):
            through_h = fold_product([grad(h[t][j]), o[t][j], derivative_in_output(ACTIVATIONS["tanh"], c[t][j], tanh(c[t][j]))])
            onward = [fold_product([grad(c[t + 1][j]), gate["f"][t + 1][j]])] if t < steps else []
            gradients += _state_gradients(c[t][j], c_read[t + 1][j] if t < steps else c[t][j], [through_h],
                                          frozenset({h[t][j]}), onward, frozenset({c[t + 1][j]} if t < steps else ()))
        for j in range(hidden):
            gradients += [
                LayerGradient(o[t][j], fold_product([grad(h[t][j]), tanh(c[t][j])]), frozenset({h[t][j]})),
                LayerGradient(gate["i"][t][j], fold_product([grad(c[t][j]), gate["g"][t][j]]), frozenset({c[t][j]})),
                LayerGradient(gate["g"][t][j], fold_product([grad(c[t][j]), gate["i"][t][j]]), frozenset({c[t][j]})),
                LayerGradient(gate["f"][t][j], fold_product([grad(c[t][j]), c_read[t][j]]), frozenset({c[t][j]})),
            ]
            gradients += [LayerGradient(z[q][t][j], fold_product([grad(gate[q][t][j]),
                                                                   derivative_in_output(slope[q], z[q][t][j], gate[q][t][j])]),
                                        frozenset({gate[q][t][j]})) for q in "ifog"]
    gradients += _readout(V, parts.get("by"), grad, y, h)
    gradients += _gate_sums(parts, z, x, lambda q, t, l: [h_read[t][l]], grad, every_z)
    every = frozenset().union(*every_z.values())
    gradients += [LayerGradient(h[0][j], _total([fold_product([parts["U" + q].at((l, j)), grad(z[q][1][l])])
                                                for q in "ifog" for l in range(hidden)]), every)
                  for j in range(hidden)]
    gradients += [LayerGradient(c[0][j], fold_product([grad(c[1][j]), gate["f"][1][j]]), frozenset({c[1][j]}))
                  for j in range(hidden)]
    meaning = {gate[q][t][j]: expressions[gate[q][t][j]] for q in "ifog" for t in over_time for j in range(hidden)}
    return RecurrentForm(layer, gradients, meaning)



def gru_form(layer: BuiltLayer, derivation: GraphDerivation) -> RecurrentForm:
    """BPTT for one GRU (r, u = σ(z_r), σ(z_u); n = tanh(W_n x + U_n (r ⊙ h<t-1>) + b_n); h = (1 - u) n + u h<t-1>):

        ∂E/∂h<t> = Vᵀ ∂E/∂y<t> + U_rᵀ ∂E/∂z_r<t+1> + U_uᵀ ∂E/∂z_u<t+1> + (U_nᵀ ∂E/∂z_n<t+1>) ⊙ r<t+1>
                   + ∂E/∂h<t+1> ⊙ u<t+1>
        ∂E/∂n<t> = ∂E/∂h<t> ⊙ (1 - u<t>)     ∂E/∂u<t> = ∂E/∂h<t> ⊙ (h<t-1> - n<t>)
        ∂E/∂r<t> = (U_nᵀ ∂E/∂z_n<t>) ⊙ h<t-1>
        ∂E/∂z_q = ∂E/∂q ⊙ (σ' or tanh' written in the gate's output)
        ∂E/∂U_n = Σ_t ∂E/∂z_n<t> (r<t> ⊙ h<t-1>)ᵀ, and the others' sums over time as for the LSTM."""
    grad = _adjoints(derivation)
    expressions = {node.symbol: node.expression for node in derivation.graph.nodes}

    parts, timeline = layer.recurrent, layer.timeline
    V, Un = parts["V"], parts["Un"]
    hidden, outputs, inputs = Un.shape[0], V.shape[0], parts["Wn"].shape[1]
    steps = layer.source.shape[0]

    def by_step(key: str, start: int) -> list:
        return [None] * start + [[timeline[key].at((t - start, j)) for j in range(hidden)]
                                 for t in range(start, steps + 1)]

    h = by_step("h", 0)
    h_read = _read(layer, "h", h)
    gate = {q: by_step(q, 1) for q in "run"}
    z = {q: by_step("z" + q, 1) for q in "run"}
    r, u, n = gate["r"], gate["u"], gate["n"]
    y, x = _by_time(layer.output, steps, outputs), _by_time(layer.source, steps, inputs)
    over_time = range(1, steps + 1)

    def from_next(t: int, j: int) -> tuple[list[Expr], frozenset]:
        """The gradient of h_j<t>, as step t + 1 reads it, through that step (every gate's pre-activation, and
        h<t+1> itself)."""
        if t >= steps:
            return [], frozenset()
        terms = [fold_product([parts["U" + q].at((l, j)), grad(z[q][t + 1][l])]) for q in "ru" for l in range(hidden)]
        terms += [fold_product([Un.at((l, j)), grad(z["n"][t + 1][l]), r[t + 1][j]]) for l in range(hidden)]
        terms.append(fold_product([grad(h[t + 1][j]), u[t + 1][j]]))
        return terms, frozenset({*(e for q in "run" for e in z[q][t + 1]), h[t + 1][j]})

    gradients = []
    for t in range(steps, 0, -1):
        for j in range(hidden):
            later, through = from_next(t, j)
            gradients += _state_gradients(h[t][j], h_read[t + 1][j] if t < steps else h[t][j],
                                          [fold_product([V.at((k, j)), grad(y[t][k])]) for k in range(outputs)],
                                          frozenset(y[t]), later, through)
        for j in range(hidden):
            step = frozenset({h[t][j]})
            one_minus_u = fold_sum([S.One, fold_product([S.NegativeOne, u[t][j]])])
            gradients += [
                LayerGradient(n[t][j], fold_product([grad(h[t][j]), one_minus_u]), step),
                LayerGradient(u[t][j], fold_product([grad(h[t][j]), fold_sum([h_read[t][j], fold_product([S.NegativeOne, n[t][j]])])]), step),
                LayerGradient(r[t][j], _total([fold_product([Un.at((l, j)), grad(z["n"][t][l]), h_read[t][j]])
                                              for l in range(hidden)]), frozenset(z["n"][t])),
            ]
            gradients += [LayerGradient(z[q][t][j], fold_product([grad(gate[q][t][j]), derivative_in_output(
                ACTIVATIONS["tanh" if q == "n" else "sigmoid"], z[q][t][j], gate[q][t][j])]), frozenset({gate[q][t][j]}))
                          for q in "run"]
    every_z = {q: frozenset(e for t in over_time for e in z[q][t]) for q in "run"}
    gradients += _readout(V, parts.get("by"), grad, y, h)
    gradients += _gate_sums(parts, z, x, lambda q, t, l: [r[t][l], h_read[t][l]] if q == "n" else [h_read[t][l]],
                            grad, every_z)
    for j in range(hidden):
        later, through = from_next(0, j)
        gradients.append(LayerGradient(h[0][j], _total(later), through))
    meaning = {gate[q][t][j]: expressions[gate[q][t][j]] for q in "run" for t in over_time for j in range(hidden)}
    return RecurrentForm(layer, gradients, meaning)


def _adjoints(derivation: GraphDerivation) -> Callable[[Symbol], Expr]:
    """dE/d(quantity) as the derivation's adjoint symbol, 0 for a quantity no gradient reaches."""
    adjoint = {a.quantity: a.symbol for a in derivation.adjoints}
    return lambda quantity: adjoint.get(quantity, S.Zero)


def _total(terms: list[Expr]) -> Expr:
    """The sum of the terms that are not 0."""
    return fold_sum([term for term in terms if term != 0])


def _read(layer: BuiltLayer, base: str, states: list) -> list:
    """The state `base` (h, c) each step t = 1..T reads, indexed by t (None at 0): the state after step t - 1,
    or its detached copy (hd<t-1>) when step t - 1 ends a chunk of truncated BPTT."""
    read = [None, *states[:-1]]
    for row, end in enumerate(chunk_ends(layer.spec, len(states) - 1)):
        read[end + 1] = [layer.timeline[base + "d"].at((row, j)) for j in range(len(states[0]))]
    return read


def _state_gradients(state: Symbol, read: Symbol, own: list[Expr], own_through: frozenset, later: list[Expr],
                     later_through: frozenset) -> list[LayerGradient]:
    """∂E/∂state from its `own` terms (at its step) and the `later` ones (through the next step, which reads it
    as `read`). When the next step reads a detached copy, ∂E/∂read takes the later terms and the state keeps
    its own alone: the copy's derivative is 0, so no gradient crosses the end of the chunk."""
    if read == state:
        return [LayerGradient(state, _total(own + later), own_through | later_through)]
    return [LayerGradient(read, _total(later), later_through), LayerGradient(state, _total(own), own_through | {read})]


def _by_time(tensor, steps: int, width: int) -> list:
    """A (steps × width) tensor's entries indexed by the step 1..steps (None at step 0)."""
    return [None] + [[tensor.at((t - 1, k)) for k in range(width)] for t in range(1, steps + 1)]


def _readout(V, bias, grad: Callable[[Symbol], Expr], y: list, h: list) -> list[LayerGradient]:
    """y<t> = V h<t> + b_y: ∂E/∂V = Σ_t ∂E/∂y<t> h<t>ᵀ and ∂E/∂b_y = Σ_t ∂E/∂y<t> (when there is a b_y)."""
    over_time = range(1, len(y))
    every_y = frozenset(e for t in over_time for e in y[t])
    outputs, hidden = V.shape
    gradients = [LayerGradient(V.at((k, j)), _total([fold_product([grad(y[t][k]), h[t][j]]) for t in over_time]),
                               every_y) for k in range(outputs) for j in range(hidden)]
    if bias is not None:
        gradients += [LayerGradient(bias.at((k,)), _total([grad(y[t][k]) for t in over_time]), every_y)
                      for k in range(outputs)]
    return gradients


def _gate_sums(parts: dict, z: dict, x: list, read: Callable[[str, int, int], list[Expr]], grad: Callable,
               every_z: dict[str, frozenset]) -> list[LayerGradient]:
    """A gated cell's sums over time: each gate q's ∂E/∂W_q, ∂E/∂U_q and ∂E/∂b_q from its δz_q<t> times what it
    reads (x<t>; the state as `read(q, t, l)` gives its factors), and each input's gradient through every gate.
    `z[q][t]` are the gate's pre-activations at step t (from 1), `x[t]` the inputs."""
    steps, hidden, inputs = len(x) - 1, len(z[next(iter(z))][1]), len(x[1])
    over_time = range(1, steps + 1)
    gradients = []
    for q in z:
        gradients += [LayerGradient(parts["W" + q].at((j, i)), _total([fold_product([grad(z[q][t][j]), x[t][i]])
                                                                     for t in over_time]), every_z[q])
                      for j in range(hidden) for i in range(inputs)]
        gradients += [LayerGradient(parts["U" + q].at((j, l)), _total([fold_product([grad(z[q][t][j]), *read(q, t, l)])
                                                                     for t in over_time]), every_z[q])
                      for j in range(hidden) for l in range(hidden)]
        if "b" + q in parts:
            gradients += [LayerGradient(parts["b" + q].at((j,)), _total([grad(z[q][t][j]) for t in over_time]), every_z[q])
                          for j in range(hidden)]
    every = frozenset().union(*every_z.values())
    gradients += [LayerGradient(x[t][i], _total([fold_product([parts["W" + q].at((j, i)), grad(z[q][t][j])])
                                                for q in z for j in range(hidden)]), every)
                  for t in over_time for i in range(inputs)]
    return gradients
