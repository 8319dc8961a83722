"""A layer spec: an input tensor, a list of layers (convolution, pooling, flatten, dense, activations),
targets and a loss; the network stage expands it to a computation graph.

    name = "conv1d"
    inputs = [1, 2, -1, 0.5, 3]         # a tensor: a list, or lists of lists (channels first)
    targets = [0.5, -0.25]
    loss = "half_squared_error"
    learning_rate = 0.1                 # optional

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
from itertools import product
from typing import Any

from sympy import Rational

from symbackprop.errors import InputError
from symbackprop.spec.exact import exact_number
from symbackprop.spec.limits import MAX_PARAMETERS, MAX_SIZE
from symbackprop.spec.vocabulary import LOSSES

FIELDS = {"name", "inputs", "layers", "targets", "loss", "learning_rate"}
CONVOLUTIONS = {"conv1d": 1, "conv2d": 2}
POOLS = {"maxpool1d": ("max", 1), "maxpool2d": ("max", 2), "avgpool1d": ("average", 1), "avgpool2d": ("average", 2)}
ACTIVATIONS = ("relu", "sigmoid", "tanh")
RECURRENT_MATRICES = {"W": "hidden, inputs", "U": "hidden, hidden", "V": "outputs, hidden"}
RECURRENT_VECTORS = {"b": "hidden", "c": "outputs", "h0": "hidden"}
KINDS = (*CONVOLUTIONS, *POOLS, "flatten", "dense", *ACTIVATIONS, "rnn")
_LAYER_FIELDS = {
    **{kind: {"kind", "name", "kernel", "bias", "stride", "padding"} for kind in CONVOLUTIONS},
    **{kind: {"kind", "name", "size", "stride"} for kind in POOLS},
    "flatten": {"kind", "name"},
    "dense": {"kind", "name", "weights", "bias"},
    "rnn": {"kind", "name", *RECURRENT_MATRICES, *RECURRENT_VECTORS},
    **{kind: {"kind", "name"} for kind in ACTIVATIONS},
}
_LAYER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,7}\Z")
_DEFAULT_PREFIX = {"conv1d": "c", "conv2d": "c", "dense": "d", "flatten": "f", "rnn": "r", **{kind: "p" for kind in POOLS},
                   **{kind: "a" for kind in ACTIVATIONS}}


@dataclass(frozen=True)
class Tensor:
    """Exact numbers laid out in `shape`, row-major (the last index runs fastest)."""

    shape: tuple[int, ...]
    entries: tuple[Rational, ...]

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
    """A dense layer's weights, one row per output."""
    bias: tuple[Rational, ...] | None = None
    """One per filter or output; None for no bias."""
    stride: int = 1
    padding: int = 0
    size: int = 0
    """A pooling window's side."""
    recurrent: dict[str, Tensor] | None = None
    """An Elman RNN's W (hidden x inputs), U (hidden x hidden), V (outputs x hidden), and b, c, h0 when given."""
    channelless: bool = False
    """A convolution given as one window (one filter, one channel): its output keeps the input's form."""
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
    layers, shape, parameters = [], inputs.shape, 0
    for index, layer_data in enumerate(layers_data):
        layer, shape = _layer(layer_data, f"layers[{index}]", index, shape)
        layers.append(replace(layer, output_shape=shape))
        parameters += sum(len(t.entries) for t in (layer.kernel, layer.weights, *(layer.recurrent or {}).values()) if t) \
            + len(layer.bias or ())
        if parameters > MAX_PARAMETERS or math.prod(shape) > MAX_SIZE:
            raise InputError(f"layers[{index}]: the network is larger than the engine derives entry by entry "
                             f"({MAX_PARAMETERS:,} parameters, {MAX_SIZE:,} values per layer)")
    _distinct_names(layers)
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
    return LayersSpec(name, inputs, tuple(layers), targets, loss, rate)


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
    entries: list[Rational] = []
    _read(data, tuple(shape), field, entries)
    return Tensor(tuple(shape), tuple(entries))


def _read(data: Any, shape: tuple[int, ...], field: str, entries: list[Rational]) -> None:
    if not shape:
        if isinstance(data, list):
            raise InputError(f"{field}: expected a number, got a list (the lists are nested unevenly)")
        entries.append(exact_number(data, field))
        return
    if not isinstance(data, list) or len(data) != shape[0]:
        got = f"{len(data)} entries" if isinstance(data, list) else type(data).__name__
        raise InputError(f"{field}: expected a list of {shape[0]} entries (as the first at this depth), got {got}")
    for k, item in enumerate(data):
        _read(item, shape[1:], f"{field}[{k}]", entries)


def _layer(data: Any, field: str, index: int, shape: tuple[int, ...]) -> tuple[LayerDef, tuple[int, ...]]:
    """The layer at `field` on an input of `shape`, and the shape of its output."""
    if not isinstance(data, Mapping):
        raise InputError(f"{field}: expected a table with a kind ({', '.join(KINDS)})")
    kind = data.get("kind")
    if kind not in KINDS:
        raise InputError(f"{field}.kind: {'missing' if kind is None else f'unknown kind {kind!r}'} (known: {', '.join(KINDS)})")
    unknown = sorted(set(data) - _LAYER_FIELDS[kind])
    if unknown:
        raise InputError(f"{field}.{unknown[0]}: unknown field for {kind} (known: {', '.join(sorted(_LAYER_FIELDS[kind]))})")
    name = data.get("name", f"{_DEFAULT_PREFIX[kind]}{index + 1}")
    if not isinstance(name, str) or not _LAYER_NAME.match(name):
        raise InputError(f"{field}.name: expected a letter then up to 7 letters or digits, got {name!r}")
    if kind in CONVOLUTIONS:
        return _convolution(data, field, kind, name, shape)
    if kind in POOLS:
        return _pool(data, field, kind, name, shape)
    if kind == "dense":
        return _dense(data, field, name, shape)
    if kind == "rnn":
        return _recurrent(data, field, name, shape)
    if kind == "flatten":
        return LayerDef(kind, name), (math.prod(shape),)
    return LayerDef(kind, name), shape


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
        kernel = Tensor((1, 1, *kernel.shape), kernel.entries)
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
            parts[key] = Tensor((size,), _bias(data[key], f"{field}.{key}", size, f"{axis} unit"))
    return LayerDef("rnn", name, recurrent=parts), (shape[0], outputs)


def _bias(data: Any, field: str, count: int, per: str) -> tuple[Rational, ...] | None:
    if data is None:
        return None
    if not isinstance(data, list):
        if count != 1:
            raise InputError(f"{field}: expected {count} numbers (one per {per}), got one")
        return (exact_number(data, field),)
    bias = tensor(data, field)
    if bias.shape != (count,):
        raise InputError(f"{field}: expected {count} numbers (one per {per}), got shape {_shape(bias.shape)}")
    return bias.entries


def _whole(value: Any, field: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        what = "a positive whole number" if least else "a whole number, 0 or more"
        raise InputError(f"{field}: expected {what}, got {value!r}")
    return value


def _distinct_names(layers: list[LayerDef]) -> None:
    seen: set[str] = set()
    for index, layer in enumerate(layers):
        if layer.name in seen:
            raise InputError(f"layers[{index}].name: layer name {layer.name!r} is used twice")
        seen.add(layer.name)


def _flat(index: tuple[int, ...], shape: tuple[int, ...]) -> int:
    flat = 0
    for i, n in zip(index, shape):
        flat = flat * n + i
    return flat


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
