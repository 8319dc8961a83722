"""A layer spec's numeric fast path: every layer's forward and backward pass in numpy at the layer level, float64.

The exact path expands a layer spec to one scalar node per entry (`network.layers`) and derives it with the
graph engine; this path never does. Each layer kind is a `FastLayer` evaluated from its layer-level form, the one
the worked solutions state and `checks.layers` proves against the graph (a convolution's kernel gradient as the
correlation of its input with δ and its input gradient as the full correlation with the flipped kernel, BPTT as a
sum over time, attention's softmax as a Jacobian-vector product, the normalization's three-term formula):

    fast_blocks        dense, relu / sigmoid / tanh, flatten, dropout, embedding, layer and batch normalization
    fast_convolution   conv1d and conv2d (stride, padding, channels, filters), max and average pooling
    fast_recurrent     the Elman RNN, the LSTM and the GRU, backpropagation through time
    fast_attention     scaled dot-product self-attention, one head or several, with or without a causal mask

and this module walks them (a residual's block is a walk of its own), adds the loss, and trains by any optimizer,
the spec's weight penalty joining the gradients it covers (`fast_optimizers`: the optimizer's SymPy rule compiled
once for arrays). Parameters start from the spec's numbers as read (`LayerDef`'s tensors, each number as its
nearest double, no `Rational` made) and are reported by the names of the leaves `network.layers.layer_parameters`
names, which are made only when a report asks (or a penalty needs them); no node or SymPy expression of the
network is built. The tests hold every gradient and every step to the exact path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from sympy import Rational

from symbackprop.errors import InputError
from symbackprop.network.layers import LayerParameters
from symbackprop.numbers.fast_attention import FastAttention
from symbackprop.numbers.fast_blocks import (
    ACTIVATIONS, FastActivation, FastDense, FastDropout, FastEmbedding, FastFlatten, FastLayer, FastNorm, Gradients,
    Parameters, read,
)
from symbackprop.numbers.fast_convolution import FastConvolution, FastPool
from symbackprop.numbers.fast_optimizers import FastOptimizer, State
from symbackprop.numbers.fast_recurrent import FastGRU, FastLSTM, FastRNN
from symbackprop.numbers.stable import finite_doubles, require_finite
from symbackprop.numbers.training import Later, TrainingResult, require_recordable, run_recorded
from symbackprop.spec.layers import CONVOLUTIONS, NORMS, POOLS, LayerDef, LayersSpec
from symbackprop.spec.model import OptimizerSpec


class FastResidual(FastLayer):
    """r = x + F(x): F's walk on x, and in the backward pass r's gradient passed to both the skip and F."""

    def __init__(self, layer: LayerDef, shape: tuple[int, ...]) -> None:
        super().__init__(layer, shape)
        self.block = _walk(layer.block, shape)

    def forward(self, x: np.ndarray, parameters: Parameters) -> tuple[np.ndarray, object]:
        inner, caches = _forward(self.block, x, parameters)
        return x + inner, caches

    def backward(self, dy: np.ndarray, cache: object, parameters: Parameters, gradients: Gradients,
                 need_input: bool) -> np.ndarray | None:
        through = _backward(self.block, dy, cache, parameters, gradients, need_input)
        return dy + through if need_input else None


_KINDS: dict[str, Callable[[LayerDef, tuple[int, ...]], FastLayer]] = {
    **{kind: FastConvolution for kind in CONVOLUTIONS}, **{kind: FastPool for kind in POOLS},
    "flatten": FastFlatten, "dense": FastDense, **{kind: FastActivation for kind in ACTIVATIONS},
    "rnn": FastRNN, "lstm": FastLSTM, "gru": FastGRU, "attention": FastAttention, **{kind: FastNorm for kind in NORMS},
    "residual": FastResidual, "dropout": FastDropout, "embedding": FastEmbedding,
}
"""Each layer kind's fast layer, made from its definition and the shape it reads (every kind a spec may have:
tests/test_fast_layers.py checks that none is missing)."""


def _walk(layers: tuple[LayerDef, ...], shape: tuple[int, ...]) -> list[FastLayer]:
    made = []
    for layer in layers:
        made.append(_KINDS[layer.kind](layer, shape))
        shape = layer.output_shape
    return made


def _forward(layers: list[FastLayer], x: np.ndarray, parameters: Parameters) -> tuple[np.ndarray, list]:
    caches = []
    for layer in layers:
        x, cache = layer.forward(x, parameters)
        caches.append(cache)
    return x, caches


def _backward(layers: list[FastLayer], dy: np.ndarray, caches: list, parameters: Parameters, gradients: Gradients,
              need_input: bool) -> np.ndarray | None:
    """Through the layers in reverse; the first layer's input gradient only when `need_input`."""
    for position in range(len(layers) - 1, -1, -1):
        dy = layers[position].backward(dy, caches[position], parameters, gradients, need_input or position > 0)
    return dy


@dataclass(frozen=True)
class Loss:
    """A loss summed over the outputs: its value and its gradient by the outputs, given the targets."""

    value: Callable[[np.ndarray, np.ndarray], float]
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]


def _huber(t: np.ndarray, o: np.ndarray) -> float:
    d = np.abs(t - o)
    return float(np.sum(np.where(d > 1, d - 0.5, 0.5 * d * d)))


LOSSES = {
    "half_squared_error": Loss(lambda t, o: 0.5 * float(np.sum((t - o) ** 2)), lambda t, o: o - t),
    "squared_error": Loss(lambda t, o: float(np.sum((t - o) ** 2)), lambda t, o: 2 * (o - t)),
    "mean_squared_error": Loss(lambda t, o: float(np.sum((t - o) ** 2)) / t.size, lambda t, o: 2 * (o - t) / t.size),
    "binary_cross_entropy": Loss(lambda t, o: -float(np.sum(t * np.log(o) + (1 - t) * np.log(1 - o))),
                                 lambda t, o: (1 - t) / (1 - o) - t / o),
    "cross_entropy": Loss(lambda t, o: -float(np.sum(t * np.log(o))), lambda t, o: -t / o),
    "huber": Loss(_huber, lambda t, o: np.clip(o - t, -1.0, 1.0)),
}
"""Each loss of `network.losses` (Huber's with δ = 1, as a layer spec has it) on whole arrays."""


def doubles(numbers: Sequence[Rational], shape: tuple[int, ...]) -> np.ndarray:
    """Exact numbers as the nearest doubles, in `shape` (Python's int / int rounds correctly, as float() of a
    Rational does, and is several times faster)."""
    return np.array([number.p / number.q for number in numbers], dtype=np.float64).reshape(shape)


def _bias(layer: LayerDef) -> np.ndarray:
    return doubles(layer.bias, (len(layer.bias),))


def start_values(layers: tuple[LayerDef, ...]) -> Parameters:
    """Each layer's parameters as the spec gives them, by the keys its fast layer reads, in the order (layers,
    keys) `network.layers.layer_parameters` names them: a residual's block after the residual."""
    start: Parameters = {}
    for layer in layers:
        if layer.kind in CONVOLUTIONS or layer.kind == "dense":
            arrays = {"kernel": read(layer.kernel)} if layer.kind in CONVOLUTIONS else {"weights": read(layer.weights)}
            start[layer.name] = arrays if layer.bias is None else {**arrays, "bias": _bias(layer)}
        elif layer.kind in NORMS:
            start[layer.name] = {"gamma": read(layer.weights), "beta": _bias(layer)}
        elif layer.kind == "embedding":
            start[layer.name] = {"table": read(layer.table)}
        elif layer.recurrent:  # the initial states h0 and c0 are values, not trained
            start[layer.name] = {key: read(t) for key, t in layer.recurrent.items() if key not in ("h0", "c0")}
        start.update(start_values(layer.block or ()))
    return start


class FastNetwork:
    """A layer spec's layers as fast layers, its inputs, targets and loss, and its parameters as arrays; `naming`
    makes the parameters' named leaves (`names`) when they are first needed."""

    def __init__(self, spec: LayersSpec, naming: Callable[[], LayerParameters]) -> None:
        self.spec, self._naming = spec, naming
        self.layers = _walk(spec.layers, spec.inputs.shape)
        tokens = spec.layers[0].kind == "embedding"
        self.inputs = read(spec.inputs).astype(np.int64 if tokens else np.float64)
        self.targets = read(spec.targets)
        self.loss = LOSSES[spec.loss]
        self.start: Parameters = start_values(spec.layers)

    @cached_property
    def names(self) -> LayerParameters:
        """Every parameter's named leaf, as the exact path names it (a `Name` and a `Symbol` each: made on first use)."""
        return self._naming()

    def outputs(self, parameters: Parameters) -> np.ndarray:
        """The last layer's output."""
        return _forward(self.layers, self.inputs, parameters)[0]

    def error(self, parameters: Parameters) -> float:
        """The loss at `parameters`."""
        return self.loss.value(self.targets, self.outputs(parameters))

    def gradients(self, parameters: Parameters, inputs: bool = False) -> tuple[float, Gradients, np.ndarray | None]:
        """The loss, dE/d(every parameter) in the parameters' shapes, and dE/d(the inputs) when `inputs`."""
        out, caches = _forward(self.layers, self.inputs, parameters)
        gradients: Gradients = {layer: {} for layer in parameters}
        dx = _backward(self.layers, self.loss.gradient(self.targets, out), caches, parameters, gradients, inputs)
        return self.loss.value(self.targets, out), gradients, dx

    def named(self, arrays: Parameters) -> dict[str, float]:
        """Every entry of `arrays` (parameters or their gradients) by the name of its leaf."""
        return {symbol.name: float(value) for layer, grids in self.names.grids.items() for key, grid in grids.items()
                for symbol, value in zip(grid.entries, arrays[layer][key].ravel())}


@dataclass
class FastLoop:
    """An optimizer on a `FastNetwork`, as a compiled loop runs: `run(blocks, every, arrays, state, done)` does
    `blocks` blocks of `every` steps from the parameter arrays (in `keys()` order), the optimizer's state per
    array and the number of steps done before, recording the loss before each block, and gives the arrays, the
    state and the number of steps done after them (`start()`: where training starts)."""

    network: FastNetwork
    optimizer: OptimizerSpec = OptimizerSpec()

    def __post_init__(self) -> None:
        self.update = FastOptimizer(self.optimizer, self.network.spec, lambda: self.network.names, self.keys())

    def keys(self) -> list[tuple[str, str]]:
        return [(layer, key) for layer, grids in self.network.start.items() for key in grids]

    def start(self) -> tuple[tuple[np.ndarray, ...], State, int]:
        """The spec's arrays, the optimizer's state before its first step, no step done."""
        arrays = tuple(self.network.start[layer][key] for layer, key in self.keys())
        return arrays, self.update.start(arrays), 0

    def parameters(self, arrays: Sequence[np.ndarray]) -> Parameters:
        """`arrays` (in `keys()` order) by layer and key."""
        parameters: Parameters = {layer: {} for layer in self.network.start}
        for (layer, key), array in zip(self.keys(), arrays):
            parameters[layer][key] = array
        return parameters

    def run(self, blocks: int, every: int, arrays: tuple[np.ndarray, ...], state: State,
            done: int) -> tuple[list[tuple[float, tuple]], tuple]:
        keys, history = self.keys(), []
        for _ in range(blocks):
            for step in range(every):
                loss, gradients, _ = self.network.gradients(self.parameters(arrays))
                if not step:
                    history.append((loss, ()))
                done += 1
                arrays, state = self.update.step(arrays, [gradients[layer][key] for layer, key in keys], state, done)
        return history, (arrays, state, done)


def train_fast(network: FastNetwork, steps: int, every: int = 1, progress: Callable[[int], None] | None = None,
               optimizer: OptimizerSpec = OptimizerSpec()) -> TrainingResult:
    """`steps` steps of `optimizer` (every parameter from the values before the step) from the spec's values, the
    spec's penalty joining the gradients it covers; the loss recorded as `numbers.graph_training.train_graph`
    and `train_graph_optimized` record it (E, without the penalty)."""
    if network.spec.learning_rate is None:
        raise InputError("learning_rate: training a layer spec needs the spec's learning_rate, e.g. learning_rate = 0.1")
    require_recordable(steps, every)
    with np.errstate(over="raise", divide="raise", invalid="raise"), finite_doubles("a value during training"):
        loop = FastLoop(network, optimizer)
        history, (arrays, _state, _done) = run_recorded(loop, steps, every, loop.start(), progress)
        final = loop.parameters(arrays)
        history[steps] = (network.error(final), ())
    require_finite([loss for loss, _ in history.values()], "the loss during training")
    return TrainingResult(steps, "simultaneous", Later(lambda: network.named(final)), history)
