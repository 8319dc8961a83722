"""A layer spec: an input tensor, a list of layers (convolution, pooling, flatten, dense, activations),
targets and a loss; the network stage expands it to a computation graph.

    name = "conv1d"
    inputs = [1, 2, -1, 0.5, 3]         # a tensor: a list, or lists of lists (channels first)
    targets = [0.5, -0.25]
    loss = "half_squared_error"
    learning_rate = 0.1                 # optional
    optimizer = "adam"                  # optional: what train runs (docs/optimizers.md)
    regularization = {kind = "l2", lambda = 0.01}   # optional: biases = true penalizes the biases too

    [[layers]]
    kind = "conv1d"
    kernel = [1, 0, -1]                 # [k], or [filters][channels][k]
    stride = 2                          # optional, 1
    padding = 1                         # optional, 0 (zeros on both sides)
    bias = 0.1                          # optional: one number, or one per filter

Every number is an exact decimal; every problem is one `InputError` line naming the field
(`layers[2].stride: expected a positive whole number, got 0`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import product
from typing import Any

from sympy import Rational

from symbackprop.errors import InputError
from symbackprop.spec.exact import Read, exact_number, number, plain_numbers, rational
from symbackprop.spec.limits import MAX_PARAMETERS, MAX_SIZE
from symbackprop.spec.load import optimizer_spec, regularization_spec
from symbackprop.spec.model import OptimizerSpec, RegularizationSpec
from symbackprop.spec.vocabulary import LOSSES

FIELDS = {"name", "inputs", "layers", "targets", "loss", "learning_rate", "optimizer", "regularization"}
CONVOLUTIONS = {"conv1d": 1, "conv2d": 2}
POOLS = {"maxpool1d": ("max", 1), "maxpool2d": ("max", 2), "avgpool1d": ("average", 1), "avgpool2d": ("average", 2)}
ACTIVATIONS = ("relu", "sigmoid", "tanh")
RECURRENT_MATRICES = {"W": "hidden, inputs", "U": "hidden, hidden", "V": "outputs, hidden"}
RECURRENT_VECTORS = {"b": "hidden", "c": "outputs", "h0": "hidden"}
GATES = ("i", "f", "o", "g")
"""An LSTM's input, forget and output gates and its candidate."""
GATE_SETS = {"lstm": GATES, "gru": ("r", "u", "n")}
"""Each gated cell's gates: a GRU's reset and update gates and its candidate."""
NORMS = {"layernorm": -1, "batchnorm": 0}
"""The axis each normalizes over: a layer norm each row over its last axis, a batch norm each feature over the batch."""
KINDS = (*CONVOLUTIONS, *POOLS, "flatten", "dense", *ACTIVATIONS, "rnn", "lstm", "gru", "attention", *NORMS, "residual", "dropout",
         "embedding")
_LAYER_FIELDS = {
    **{kind: {"kind", "name", "kernel", "bias", "stride", "padding"} for kind in CONVOLUTIONS},
    **{kind: {"kind", "name", "size", "stride"} for kind in POOLS},
    "flatten": {"kind", "name"},
    "dense": {"kind", "name", "weights", "bias"},
    "rnn": {"kind", "name", "truncate", *RECURRENT_MATRICES, *RECURRENT_VECTORS},
    "lstm": {"kind", "name", "truncate", "W", "U", "V", "b", "h0", "c0"},
    "gru": {"kind", "name", "truncate", "W", "U", "V", "b", "h0"},
    "attention": {"kind", "name", "WQ", "WK", "WV", "WO", "causal", "heads"},
    **{kind: {"kind", "name", "gamma", "beta", "epsilon"} for kind in NORMS},
    "residual": {"kind", "name", "layers"},
    "dropout": {"kind", "name", "mask", "scale"},
    "embedding": {"kind", "name", "table"},
    **{kind: {"kind", "name"} for kind in ACTIVATIONS},
}
_LAYER_NAME = re.compile(r"(?=.{1,8}\Z)[A-Za-z]+[0-9]*\Z")
"""Letters then digits (c1, conv2): a layer's name is a subscript of its quantities' names, which reads back so."""
_DEFAULT_PREFIX = {"conv1d": "c", "conv2d": "c", "dense": "d", "flatten": "f", "rnn": "r", "lstm": "l", "gru": "g", "attention": "t", "residual": "s", "layernorm": "n", "batchnorm": "n",
                   "dropout": "o", "embedding": "e", **{kind: "p" for kind in POOLS},
                   **{kind: "a" for kind in ACTIVATIONS}}


@dataclass(frozen=True)
class Tensor:
    """Numbers laid out in `shape`, row-major (the last index runs fastest): `numbers` as read and validated
    (`spec.exact.number`: a float or an int as given, anything else as its Decimal), `entries` their exact values,
    made when the exact path first asks (the numpy fast path reads `numbers` as doubles and never needs them)."""

    shape: tuple[int, ...]
    numbers: tuple[Read, ...]

    @cached_property
    def entries(self) -> tuple[Rational, ...]:
        """Every number as an exact `Rational`, in row-major order."""
        return tuple(map(rational, self.numbers))

    def indices(self) -> list[tuple[int, ...]]:
        """Every index, 0-based, in row-major order."""
        return list(product(*(range(n) for n in self.shape)))

    def at(self, index: tuple[int, ...]) -> Rational:
        return self.entries[_flat(index, self.shape)]


@dataclass(frozen=True)
class LayerDef:
    """One layer of a layer spec; only the fields of its kind are set."""

    kind: str
    name: str
    kernel: Tensor | None = None
    """A convolution's kernel as (filters, channels, *window); `channelless` when given as the window alone."""
    weights: Tensor | None = None
    """A dense layer's weights, one row per output; a normalization's γ."""
    bias: tuple[Rational, ...] | None = None
    """One per filter or output, None for no bias; a normalization's β."""
    stride: int = 1
    padding: int = 0
    size: int = 0
    """A pooling window's side."""
    block: tuple[LayerDef, ...] | None = None
    """A residual's F in y = x + F(x)."""
    mask: Tensor | None = None
    """A dropout's mask: 0 drops an entry, 1 keeps it."""
    scale: Rational = Rational(1)
    """A dropout's scale for the kept entries; a normalization's ε."""
    table: Tensor | None = None
    """An embedding's table, one row per token."""
    recurrent: dict[str, Tensor] | None = None
    """An Elman RNN's W (hidden x inputs), U (hidden x hidden), V (outputs x hidden), and b, c, h0 when given;
    an LSTM's Wi, Wf, Wo, Wg, Ui, ..., V, its biases bi, ..., by and h0, c0 when given (a GRU's likewise, with
    the gates r, u, n); an attention's WQ, WK, WV and, when given, its output projection WO."""
    channelless: bool = False
    """A convolution given as one window (one filter, one channel): its output keeps the input's form."""
    causal: bool = False
    """An attention whose each position sees only the positions up to its own."""
    heads: int = 1
    """An attention's heads, each with an equal share of the columns of W_Q, W_K and W_V."""
    truncate: int | None = None
    """A recurrent layer's truncated BPTT: the state is detached after every `truncate` steps (None: full BPTT)."""
    output_shape: tuple[int, ...] = ()
    """The shape of what the layer writes, as the next layer reads it."""


@dataclass(frozen=True)
class LayersSpec:
    """A validated layer spec; shapes agree from the input through every layer to the targets."""

    name: str
    inputs: Tensor
    layers: tuple[LayerDef, ...]
    targets: Tensor
    loss: str
    learning_rate: Rational | None
    optimizer: OptimizerSpec = OptimizerSpec()
    """What `train` runs (default: sgd), with its settings."""
    regularization: RegularizationSpec | None = None
    """A weight penalty on the weights (kernels, weight matrices, an embedding's table), and on the biases and a
    normalization's gamma and beta too when it says `biases`."""


def is_layers_spec(data: Any) -> bool:
    """A spec whose layers have a `kind` is a layer spec (a layered network's layers have none)."""
    layers = data.get("layers") if isinstance(data, Mapping) else None
    return isinstance(layers, list) and any(isinstance(layer, Mapping) and "kind" in layer for layer in layers)


def layers_spec_from_dict(data: Mapping[str, Any], default_name: str = "layers") -> LayersSpec:
    """Validate a layer spec read from JSON or TOML; the first problem found is one `InputError` line."""
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise InputError(f"{unknown[0]}: unknown field (a layer spec has {', '.join(sorted(FIELDS))})")
    for field in ("inputs", "layers", "targets", "loss"):
        if field not in data:
            raise InputError(f"{field}: missing field")
    inputs = tensor(data["inputs"], "inputs")
    layers_data = data["layers"]
    if not isinstance(layers_data, list) or not layers_data:
        raise InputError("layers: expected a non-empty list of layers")
    layers, shape = _layers(layers_data, "layers", inputs, "", {}, [0])
    targets = tensor(data["targets"], "targets")
    if targets.shape != shape:
        raise InputError(f"targets: expected shape {_shape(shape)} (the last layer's output), got {_shape(targets.shape)}")
    loss = data["loss"]
    if loss not in LOSSES:
        raise InputError(f"loss: unknown loss {loss!r} (known: {', '.join(LOSSES)})")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise InputError("name: expected a printable name")
    rate = data.get("learning_rate")
    if rate is not None:
        rate = exact_number(rate, "learning_rate")
        if rate <= 0:
            raise InputError(f"learning_rate: expected a positive number, got {data['learning_rate']}")
    return LayersSpec(name, inputs, tuple(layers), targets, loss, rate,
                      optimizer_spec(data.get("optimizer", "sgd"), "optimizer"),
                      regularization_spec(data.get("regularization")))


def tensor(data: Any, field: str) -> Tensor:
    """Nested lists of numbers, every list at one depth of the same length, as a `Tensor`."""
    shape: list[int] = []
    probe = data
    while isinstance(probe, list):
        if not probe:
            raise InputError(f"{field}: expected a non-empty list of numbers")
        shape.append(len(probe))
        probe = probe[0]
    if not shape:
        raise InputError(f"{field}: expected a list of numbers, got {type(data).__name__}")
    read: list[Read] = []
    _read(data, tuple(shape), field, read)
    return Tensor(tuple(shape), tuple(read))


def _read(data: Any, shape: tuple[int, ...], field: str, read: list[Read]) -> None:
    """The numbers of `data`, lists nested as `shape`, appended to `read` in row-major order; a row of plain floats
    and ints is checked at once, any other entry by `number`, in order, for the first problem's one line."""
    if not isinstance(data, list) or len(data) != shape[0]:
        got = f"{len(data)} entries" if isinstance(data, list) else type(data).__name__
        raise InputError(f"{field}: expected a list of {shape[0]} entries (as the first at this depth), got {got}")
    if len(shape) > 1:
        for k, item in enumerate(data):
            _read(item, shape[1:], f"{field}[{k}]", read)
    elif plain_numbers(data):
        read.extend(data)
    else:
        read.extend(_entry(item, f"{field}[{k}]") for k, item in enumerate(data))


def _entry(item: Any, field: str) -> Read:
    if isinstance(item, list):
        raise InputError(f"{field}: expected a number, got a list (the lists are nested unevenly)")
    return number(item, field)


def _layers(layers_data: list, field: str, inputs: Tensor, prefix: str, seen: dict[str, str],
            parameters: list[int]) -> tuple[tuple[LayerDef, ...], tuple[int, ...]]:
    """The layers at `field` (the spec's, or a residual block's) on `inputs`, and the shape of their output;
    default names are a kind's letter, `prefix` (the positions of the residual blocks around them) and the
    position (d41: a dense layer, first in the block at position 4); `seen` holds every layer name so far,
    `parameters` their count."""
    layers, shape = [], inputs.shape
    for index, layer_data in enumerate(layers_data):
        at = f"{field}[{index}]"
        if isinstance(layer_data, Mapping) and layer_data.get("kind") == "embedding" and (prefix or index):
            raise InputError(f"{at}.kind: an embedding must be the first layer (it reads the inputs as token numbers)")
        layer, shape = _layer(layer_data, at, prefix, index, shape, inputs, seen, parameters)
        if layer.name in seen:
            raise InputError(f"{at}.name: layer name {layer.name!r} is used twice (also at {seen[layer.name]})")
        seen[layer.name] = at
        layers.append(replace(layer, output_shape=shape))
        parameters[0] += sum(len(t.numbers) for t in (layer.kernel, layer.weights, layer.table,
                                                       *(layer.recurrent or {}).values()) if t) + len(layer.bias or ())
        if parameters[0] > MAX_PARAMETERS or math.prod(shape) > MAX_SIZE:
            raise InputError(f"{at}: the network is larger than the engine derives entry by entry "
                             f"({MAX_PARAMETERS:,} parameters, {MAX_SIZE:,} values per layer)")
    return tuple(layers), shape


def _layer(data: Any, field: str, prefix: str, index: int, shape: tuple[int, ...], inputs: Tensor,
           seen: dict[str, str], parameters: list[int]) -> tuple[LayerDef, tuple[int, ...]]:
    """The layer at `field` on an input of `shape`, and the shape of its output."""
    if not isinstance(data, Mapping):
        raise InputError(f"{field}: expected a table with a kind ({', '.join(KINDS)})")
    kind = data.get("kind")
    if kind not in KINDS:
        raise InputError(f"{field}.kind: {'missing' if kind is None else f'unknown kind {kind!r}'} (known: {', '.join(KINDS)})")
    unknown = sorted(set(data) - _LAYER_FIELDS[kind])
    if unknown:
        raise InputError(f"{field}.{unknown[0]}: unknown field for {kind} (known: {', '.join(sorted(_LAYER_FIELDS[kind]))})")
    name = data.get("name", f"{_DEFAULT_PREFIX[kind]}{prefix}{index + 1}")
    if not isinstance(name, str) or not _LAYER_NAME.match(name):
        raise InputError(f"{field}.name: expected letters then digits, at most 8 (conv1), got {name!r}")
    if kind in CONVOLUTIONS:
        return _convolution(data, field, kind, name, shape)
    if kind in POOLS:
        return _pool(data, field, kind, name, shape)
    if kind == "dense":
        return _dense(data, field, name, shape)
    if kind == "rnn":
        return _recurrent(data, field, name, shape)
    if kind in GATE_SETS:
        return _gated(data, field, kind, name, shape)
    if kind == "attention":
        return _attention(data, field, name, shape)
    if kind == "flatten":
        return LayerDef(kind, name), (math.prod(shape),)
    if kind in NORMS:
        return _norm(data, field, kind, name, shape)
    if kind == "residual":
        return _residual(data, field, name, f"{prefix}{index + 1}", shape, seen, parameters)
    if kind == "dropout":
        return _dropout(data, field, name, shape)
    if kind == "embedding":
        return _embedding(data, field, name, inputs)
    return LayerDef(kind, name), shape


def _residual(data: Mapping, field: str, name: str, prefix: str, shape: tuple[int, ...], seen: dict[str, str],
              parameters: list[int]):
    """y = x + F(x): F the block's layers, whose output must have the input's shape."""
    block = data.get("layers")
    if not isinstance(block, list) or not block:
        raise InputError(f"{field}.layers: expected a non-empty list of layers (the block F of y = x + F(x))")
    layers, out = _layers(block, f"{field}.layers", Tensor(shape, ()), prefix, seen, parameters)
    if out != shape:
        raise InputError(f"{field}.layers: the block's output has shape {_shape(out)}; y = x + F(x) needs the "
                         f"input's shape {_shape(shape)}")
    return LayerDef("residual", name, block=layers), shape


def _attention(data: Mapping, field: str, name: str, shape: tuple[int, ...]):
    """Scaled dot-product self-attention: Q = X W_Q, K = X W_K, V = X W_V, per head (an equal share of the
    columns) A = the row softmax of Q Kᵀ/sqrt(d) (with `causal`, each row over the positions up to its own),
    output A V, the heads' outputs side by side; with WO, that concatenation times the output projection W_O."""
    if len(shape) != 2:
        raise InputError(f"{field}: attention takes a sequence (positions, features), got shape {_shape(shape)}")
    parts = {}
    for key in ("WQ", "WK", "WV"):
        if key not in data:
            raise InputError(f"{field}.{key}: missing field (a matrix: features, {'values' if key == 'WV' else 'keys'})")
        parts[key] = tensor(data[key], f"{field}.{key}")
        if len(parts[key].shape) != 2 or parts[key].shape[0] != shape[1]:
            raise InputError(f"{field}.{key}: expected rows of numbers, one row per input feature ({shape[1]}), "
                             f"got shape {_shape(parts[key].shape)}")
    if parts["WK"].shape != parts["WQ"].shape:
        raise InputError(f"{field}.WK: expected the shape of WQ {_shape(parts['WQ'].shape)}, got {_shape(parts['WK'].shape)}")
    causal = data.get("causal", False)
    if not isinstance(causal, bool):
        raise InputError(f"{field}.causal: expected true or false, got {causal!r}")
    heads = _whole(data.get("heads", 1), f"{field}.heads", 1)
    for key in ("WQ", "WV"):
        if parts[key].shape[1] % heads:
            raise InputError(f"{field}.heads: {heads} heads do not divide {key}'s {parts[key].shape[1]} columns")
    width = parts["WV"].shape[1]
    if data.get("WO") is not None:
        parts["WO"] = tensor(data["WO"], f"{field}.WO")
        if len(parts["WO"].shape) != 2 or parts["WO"].shape[0] != width:
            raise InputError(f"{field}.WO: expected rows of numbers, one row per column of WV ({width}), "
                             f"got shape {_shape(parts['WO'].shape)}")
        width = parts["WO"].shape[1]
    return LayerDef("attention", name, recurrent=parts, causal=causal, heads=heads), (shape[0], width)


def _norm(data: Mapping, field: str, kind: str, name: str, shape: tuple[int, ...]):
    """y = γ (x - μ)/sqrt(σ² + ε) + β, the mean μ and variance σ² (the biased one, 1/n) of each row (layer
    norm) or of each feature over the batch, the first axis (batch norm, in training mode)."""
    if len(shape) > 2 or (kind == "batchnorm" and len(shape) != 2):
        want = "(batch, features)" if kind == "batchnorm" else "(features) or (rows, features)"
        raise InputError(f"{field}: {kind} takes an input of shape {want}, got {_shape(shape)}")
    features = shape[-1]
    gamma = _vector(data.get("gamma", 1 if features == 1 else [1] * features), f"{field}.gamma", features, "feature")
    beta = _bias(data.get("beta", 0 if features == 1 else [0] * features), f"{field}.beta", features, "feature")
    epsilon = exact_number(data.get("epsilon", "0.00001"), f"{field}.epsilon")
    if epsilon < 0:
        raise InputError(f"{field}.epsilon: expected a number 0 or more, got {data['epsilon']}")
    return LayerDef(kind, name, weights=gamma, bias=beta, scale=epsilon), shape


def _dropout(data: Mapping, field: str, name: str, shape: tuple[int, ...]):
    """y = scale · mask · x entry by entry, with the mask and the scale given (inverted dropout: scale 1/(1 - p))."""
    if "mask" not in data:
        raise InputError(f"{field}.mask: missing field (0 drops an entry, 1 keeps it)")
    mask = tensor(data["mask"], f"{field}.mask")
    if mask.shape != shape:
        raise InputError(f"{field}.mask: expected shape {_shape(shape)} (the input's), got {_shape(mask.shape)}")
    if any(m not in (0, 1) for m in mask.numbers):  # as read, a number equals 0 or 1 when its exact value does
        raise InputError(f"{field}.mask: expected 0 or 1 in every entry")
    scale = exact_number(data.get("scale", 1), f"{field}.scale")
    if scale <= 0:
        raise InputError(f"{field}.scale: expected a positive number, got {data['scale']}")
    return LayerDef("dropout", name, mask=mask, scale=scale), shape


def _embedding(data: Mapping, field: str, name: str, inputs: Tensor):
    """Each input, a token's number from 1, looks up its row of the table."""
    if "table" not in data:
        raise InputError(f"{field}.table: missing field (one row per token)")
    table = tensor(data["table"], f"{field}.table")
    if len(table.shape) != 2:
        raise InputError(f"{field}.table: expected rows (one per token) of numbers, got shape {_shape(table.shape)}")
    for position, token in zip(inputs.indices(), inputs.entries):
        if not (token.is_integer and 1 <= token <= table.shape[0]):
            where = "[" + "][".join(map(str, position)) + "]"  # a field's path, inputs[0][2]
            raise InputError(f"inputs{where}: expected a token's number from 1 to {table.shape[0]} (the table's rows), "
                             f"got {token}")
    return LayerDef("embedding", name, table=table), (*inputs.shape, table.shape[1])


def _spatial(shape: tuple[int, ...], dims: int, field: str, kind: str) -> tuple[int, tuple[int, ...], bool]:
    """Channels, the spatial sizes, and whether the input has no channel axis, for a `dims`-dimensional layer."""
    if len(shape) == dims:
        return 1, shape, True
    if len(shape) == dims + 1:
        return shape[0], shape[1:], False
    raise InputError(f"{field}: {kind} takes an input of {dims} or {dims + 1} axes (channels first), "
                     f"got shape {_shape(shape)}")


def _convolution(data: Mapping, field: str, kind: str, name: str, shape: tuple[int, ...]):
    dims = CONVOLUTIONS[kind]
    channels, sizes, bare = _spatial(shape, dims, field, kind)
    if "kernel" not in data:
        raise InputError(f"{field}.kernel: missing field")
    kernel = tensor(data["kernel"], f"{field}.kernel")
    channelless = len(kernel.shape) == dims
    if channelless:
        kernel = Tensor((1, 1, *kernel.shape), kernel.numbers)
    if len(kernel.shape) != dims + 2:
        raise InputError(f"{field}.kernel: expected {dims} axes (one window) or {dims + 2} (filters, channels, "
                         f"window), got shape {_shape(kernel.shape)}")
    if kernel.shape[1] != channels:
        raise InputError(f"{field}.kernel: expected {channels} channels (as the input), got {kernel.shape[1]}")
    stride = _whole(data.get("stride", 1), f"{field}.stride", 1)
    padding = _whole(data.get("padding", 0), f"{field}.padding", 0)
    out = []
    for axis, (size, window) in enumerate(zip(sizes, kernel.shape[2:])):
        if size + 2 * padding < window:
            raise InputError(f"{field}.kernel: the window ({window}) is wider than the padded input "
                             f"({size + 2 * padding}) on axis {axis + 1}")
        out.append((size + 2 * padding - window) // stride + 1)
    filters = kernel.shape[0]
    bias = _bias(data.get("bias"), f"{field}.bias", filters, "filter")
    out_shape = tuple(out) if channelless and bare else (filters, *out)
    return LayerDef(kind, name, kernel=kernel, bias=bias, stride=stride, padding=padding,
                     channelless=channelless and bare), out_shape


def _pool(data: Mapping, field: str, kind: str, name: str, shape: tuple[int, ...]):
    dims = POOLS[kind][1]
    channels, sizes, bare = _spatial(shape, dims, field, kind)
    if "size" not in data:
        raise InputError(f"{field}.size: missing field (the window's side)")
    size = _whole(data["size"], f"{field}.size", 1)
    stride = _whole(data.get("stride", size), f"{field}.stride", 1)
    if any(n < size for n in sizes):
        raise InputError(f"{field}.size: the window ({size}) is wider than the input (shape {_shape(shape)})")
    out = tuple((n - size) // stride + 1 for n in sizes)
    return LayerDef(kind, name, stride=stride, size=size), out if bare else (channels, *out)


def _dense(data: Mapping, field: str, name: str, shape: tuple[int, ...]):
    if len(shape) != 1:
        raise InputError(f"{field}: dense takes a vector, got shape {_shape(shape)} (put a flatten layer before it)")
    if "weights" not in data:
        raise InputError(f"{field}.weights: missing field")
    weights = tensor(data["weights"], f"{field}.weights")
    if len(weights.shape) != 2 or weights.shape[1] != shape[0]:
        raise InputError(f"{field}.weights: expected rows of {shape[0]} numbers (one per input), "
                         f"got shape {_shape(weights.shape)}")
    bias = _bias(data.get("bias"), f"{field}.bias", weights.shape[0], "output")
    return LayerDef("dense", name, weights=weights, bias=bias), (weights.shape[0],)


def _recurrent(data: Mapping, field: str, name: str, shape: tuple[int, ...]):
    """h<t> = tanh(W x<t> + U h<t-1> + b), y<t> = V h<t> + c over the T steps of a (T, inputs) input."""
    if len(shape) != 2:
        raise InputError(f"{field}: rnn takes a sequence (steps, inputs), got shape {_shape(shape)}")
    parts: dict[str, Tensor] = {}
    for key, axes in RECURRENT_MATRICES.items():
        if key not in data:
            raise InputError(f"{field}.{key}: missing field (a matrix: {axes})")
        parts[key] = tensor(data[key], f"{field}.{key}")
    hidden, outputs = parts["W"].shape[0], parts["V"].shape[0]
    expected = {"W": (hidden, shape[1]), "U": (hidden, hidden), "V": (outputs, hidden)}
    for key, want in expected.items():
        if parts[key].shape != want:
            raise InputError(f"{field}.{key}: expected shape {_shape(want)} ({RECURRENT_MATRICES[key]}), "
                             f"got {_shape(parts[key].shape)}")
    for key, axis in RECURRENT_VECTORS.items():
        if data.get(key) is not None:
            size = hidden if axis == "hidden" else outputs
            parts[key] = _vector(data[key], f"{field}.{key}", size, f"{axis} unit")
    return LayerDef("rnn", name, recurrent=parts, truncate=_truncate(data, field)), (shape[0], outputs)


def _gated(data: Mapping, field: str, kind: str, name: str, shape: tuple[int, ...]):
    """An LSTM or a GRU over the T steps of a (T, inputs) input: W and U hold a matrix per gate (i, f, o, g; or
    r, u, n), V maps h<t> to the output y<t>; b holds any of the gates' biases and y's; h0 (and an LSTM's c0)
    the initial state."""
    gates = GATE_SETS[kind]
    if len(shape) != 2:
        raise InputError(f"{field}: {kind} takes a sequence (steps, inputs), got shape {_shape(shape)}")
    parts: dict[str, Tensor] = {}
    for key in ("W", "U"):
        table = data.get(key)
        if not isinstance(table, Mapping) or set(table) != set(gates):
            raise InputError(f"{field}.{key}: expected a table with a matrix for each gate: {', '.join(gates)}")
        for gate in gates:
            parts[key + gate] = tensor(table[gate], f"{field}.{key}.{gate}")
    if "V" not in data:
        raise InputError(f"{field}.V: missing field (a matrix: outputs, hidden)")
    parts["V"] = tensor(data["V"], f"{field}.V")
    hidden, outputs = parts["W" + gates[0]].shape[0], parts["V"].shape[0]
    for key, want in [*((f"W{g}", (hidden, shape[1])) for g in gates), *((f"U{g}", (hidden, hidden)) for g in gates),
                      ("V", (outputs, hidden))]:
        if parts[key].shape != want:
            where = f"{key[0]}.{key[1]}" if len(key) == 2 else key
            raise InputError(f"{field}.{where}: expected shape {_shape(want)}, got {_shape(parts[key].shape)}")
    biases = data.get("b", {})
    if not isinstance(biases, Mapping) or set(biases) - {*gates, "y"}:
        raise InputError(f"{field}.b: expected a table of biases for any of {', '.join(gates)} (the gates) and y "
                         "(the output)")
    for key, values in biases.items():
        if values is None:
            continue
        size = outputs if key == "y" else hidden
        parts["b" + key] = _vector(values, f"{field}.b.{key}", size, "output" if key == "y" else "unit")
    for key in ("h0", "c0"):
        if data.get(key) is not None:
            parts[key] = _vector(data[key], f"{field}.{key}", hidden, "hidden unit")
    return LayerDef(kind, name, recurrent=parts, truncate=_truncate(data, field)), (shape[0], outputs)


def _truncate(data: Mapping, field: str) -> int | None:
    """Truncated BPTT's chunk length k (the state detached after steps k, 2k, ...), or None for full BPTT."""
    return None if data.get("truncate") is None else _whole(data["truncate"], f"{field}.truncate", 1)


def _bias(data: Any, field: str, count: int, per: str) -> tuple[Rational, ...] | None:
    """`_vector`'s exact numbers (a layer's bias or β: a few, made at once), or None for none given."""
    vector = _vector(data, field, count, per)
    return None if vector is None else vector.entries


def _vector(data: Any, field: str, count: int, per: str) -> Tensor | None:
    """`count` numbers, one per `per` (a bare number when `count` is 1), or None for none given."""
    if data is None:
        return None
    if not isinstance(data, list):
        if count != 1:
            raise InputError(f"{field}: expected {count} numbers (one per {per}), got one")
        return Tensor((1,), (number(data, field),))
    vector = tensor(data, field)
    if vector.shape != (count,):
        raise InputError(f"{field}: expected {count} numbers (one per {per}), got shape {_shape(vector.shape)}")
    return vector


def _whole(value: Any, field: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        what = "a positive whole number" if least else "a whole number, 0 or more"
        raise InputError(f"{field}: expected {what}, got {value!r}")
    return value


def _flat(index: tuple[int, ...], shape: tuple[int, ...]) -> int:
    flat = 0
    for i, n in zip(index, shape):
        flat = flat * n + i
    return flat


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
