"""Read a spec from a file or a built-in example, and validate it field by field.

Every problem becomes one `InputError` line that names the field, e.g.
``layers[1].weights[0]: expected 2 numbers (one per output of layer 'h'), got 3``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import stat
import tomllib
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sympy import Rational

from symbackprop.errors import InputError
from symbackprop.spec.exact import exact_number
from symbackprop.spec.limits import MAX_NAME_LENGTH, MAX_SPEC_BYTES, require_size
from symbackprop.spec.model import LayerSpec, OptimizerSpec, RegularizationSpec, Sample, Spec
from symbackprop.spec.vocabulary import ACTIVATIONS, LOSSES, OPTIMIZERS, PENALTIES, REDUCTIONS

if TYPE_CHECKING:
    from symbackprop.spec.graph import GraphSpec
    from symbackprop.spec.layers import LayersSpec

DEFAULT_EXAMPLE = "mazur"
_EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
"""The built-in examples' folder (`importlib.resources` would import zipfile: 1.5 ms of a first `train`)."""
_TOP_FIELDS = {"name", "inputs", "targets", "samples", "reduction", "layers", "loss", "learning_rate",
               "update_biases", "optimizer", "regularization", "huber_delta"}
_SAMPLE_FIELDS = {"inputs", "targets"}
_LAYER_FIELDS = {"name", "activation", "weights", "bias"}
_RESERVED_LAYER_NAMES = {"i": "inputs i_1, i_2", "w": "weights w_1, w_2", "b": "biases b_1, b_2"}
_LAYER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,7}\Z")


def example_names() -> list[str]:
    """Names of the built-in example specs."""
    return sorted(entry.name.removesuffix(".json") for entry in _EXAMPLES.iterdir() if entry.name.endswith(".json"))


def example_text(name: str) -> str:
    """The JSON text of a built-in example, for `symbackprop example NAME`."""
    if name not in example_names():
        raise InputError(f"example: unknown example {name!r} (known: {', '.join(example_names())})")
    return (_EXAMPLES / f"{name}.json").read_text(encoding="utf-8")


def load_spec(source: str | None = None) -> Spec:
    """A layered network's spec from a file path (.json or .toml) or a built-in example's name; `None` means mazur."""
    return spec_from_dict(*read_spec_data(source))


def load_any_spec(source: str | None = None) -> Spec | GraphSpec | LayersSpec:
    """A layered network's spec, a computation graph's (a spec with `nodes`) or a layer spec's (layers with a
    `kind`), from a file or an example."""
    return any_spec_from_dict(*read_spec_data(source))


def any_spec_from_dict(data: Any, default_name: str = "network") -> Spec | GraphSpec | LayersSpec:
    """The one rule for which kind a spec is: with `nodes` a computation graph's, with layers that have a
    `kind` a layer spec's (convolution, pooling, ...), else a layered network's."""
    if isinstance(data, dict) and "nodes" in data:
        from symbackprop.spec.graph import graph_spec_from_dict  # reads formulas: imported only for graphs

        return graph_spec_from_dict(data, default_name=default_name)
    from symbackprop.spec.layers import is_layers_spec, layers_spec_from_dict

    if is_layers_spec(data):
        return layers_spec_from_dict(data, default_name=default_name)
    return spec_from_dict(data, default_name)


def read_spec_data(source: str | None = None) -> tuple[Any, str]:
    """The parsed JSON or TOML of a spec file or a built-in example, and the name it goes by."""
    if source is None:
        source = DEFAULT_EXAMPLE
    if not source.strip() or "\n" in source:
        raise InputError(f"spec: not a file name or example: {source!r}")
    path = Path(source)
    if not path.exists() and source in example_names():
        return _parse_json(example_text(source), source), source
    if not path.exists() and path.suffix.lower() not in (".json", ".toml") and path.name == source:
        raise InputError(f"spec: no spec file or built-in example {source!r}; {_close_example(source)}"
                         f"built-in: {', '.join(example_names())}")
    text = _read_text(path, source)
    data = _parse_toml(text, source) if path.suffix.lower() == ".toml" else _parse_json(text, source)
    return data, path.stem


def _close_example(name: str) -> str:
    """'did you mean mazur? ' for a near miss of a built-in example's name, else nothing."""
    close = difflib.get_close_matches(name, example_names(), n=1)
    return f"did you mean {close[0]}? " if close else ""


def _read_text(path: Path, source: str) -> str:
    """The file's text, read only if it is a regular file of at most MAX_SPEC_BYTES: a FIFO or a device
    such as /dev/zero would block or never end. Opened without blocking, then checked, so no other file
    can take its place between the check and the read."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise InputError(f"{source}: cannot read spec file: not a regular file")
            data = handle.read(MAX_SPEC_BYTES + 1)
        if len(data) > MAX_SPEC_BYTES:
            raise InputError(f"{source}: spec file larger than {MAX_SPEC_BYTES:,} bytes; for large networks see "
                             "docs/spec.md (limits)")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"{source}: cannot read spec file: {reason}") from None


def _parse_json(text: str, source: str) -> Any:
    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        data = dict(pairs)
        if len(data) < len(pairs):
            repeated = next(key for key in data if sum(k == key for k, _ in pairs) > 1)
            raise InputError(f"{source}: the key {repeated!r} appears twice in one object")
        return data

    try:
        return json.loads(text, parse_float=Decimal, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as error:
        raise InputError(f"{source}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    except (ValueError, RecursionError) as error:  # an integer of thousands of digits, nesting too deep
        raise InputError(f"{source}: not a usable JSON spec: {_first_line(error)}") from None


def _parse_toml(text: str, source: str) -> Any:
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{source}: not valid TOML: {_first_line(error)}") from None
    except (ValueError, RecursionError) as error:
        raise InputError(f"{source}: not a usable TOML spec: {_first_line(error)}") from None


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def spec_from_dict(data: Any, default_name: str = "network") -> Spec:
    """Validate parsed JSON/TOML data into a `Spec`."""
    if not isinstance(data, dict):
        raise InputError("spec: expected an object with the fields inputs, targets, layers, loss")
    _no_unknown_fields(data, _TOP_FIELDS, "spec")
    if "samples" in data:
        for field in ("inputs", "targets"):
            if field in data:
                raise InputError(f"{field}: give either samples or inputs and targets, not both")
    for field in ("layers", "loss") if "samples" in data else ("inputs", "targets", "layers", "loss"):
        if field not in data:
            raise InputError(f"{field}: missing field")
    samples_data = _samples_data(data)
    inputs = _numbers(samples_data[0][0], samples_data[0][2] + "inputs")
    layers_data = data["layers"]
    if not isinstance(layers_data, list) or not layers_data:
        raise InputError("layers: expected a non-empty list of layers")
    names = _default_layer_names(len(layers_data))
    _require_size(layers_data, len(inputs), len(samples_data))
    layers: list[LayerSpec] = []
    fan_in, previous = len(inputs), "the inputs"
    for index, layer_data in enumerate(layers_data):
        layer = _layer(layer_data, f"layers[{index}]", names[index], fan_in, previous)
        layers.append(layer)
        fan_in, previous = layer.size, f"layer {layer.name!r}"
    _distinct_layer_names(layers)
    loss = data["loss"]
    if loss not in LOSSES:
        raise InputError(f"loss: unknown loss {loss!r} (known: {', '.join(LOSSES)})")
    samples = tuple(_sample(sample_inputs, sample_targets, prefix, len(inputs), layers[-1], loss)
                    for sample_inputs, sample_targets, prefix in samples_data)
    reduction = data.get("reduction", "sum")
    if reduction not in REDUCTIONS:
        raise InputError(f"reduction: unknown reduction {reduction!r} (known: {', '.join(REDUCTIONS)})")
    update_biases = data.get("update_biases", False)
    if not isinstance(update_biases, bool):
        raise InputError(f"update_biases: expected true or false, got {update_biases!r}")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise InputError("name: expected a non-empty string")
    _printable(name, "name")
    learning_rate = exact_number(data.get("learning_rate", Decimal("0.5")), "learning_rate")
    if learning_rate <= 0:
        raise InputError(f"learning_rate: expected a positive number, got {float(learning_rate):g}")
    return Spec(
        name=name,
        samples=samples,
        layers=tuple(layers),
        loss=loss,
        learning_rate=learning_rate,
        update_biases=update_biases,
        reduction=reduction,
        optimizer=optimizer_spec(data.get("optimizer", "sgd"), "optimizer"),
        regularization=regularization_spec(data.get("regularization")),
        huber_delta=_huber_delta(data, loss),
    )


_FRACTIONS = {"momentum", "alpha", "beta1", "beta2"}
"""Settings that weigh the old state against the new: from 0 up to, not including, 1."""


def optimizer_spec(data: Any, field: str) -> OptimizerSpec:
    """An optimizer from its kind ("adam", with the default settings) or an object with its kind and settings
    ({kind = "adam", beta1 = 0.8})."""
    if isinstance(data, str):
        data = {"kind": data}
    if not isinstance(data, dict):
        raise InputError(f"{field}: expected an optimizer's name or an object with its kind and settings")
    if "kind" not in data:
        raise InputError(f"{field}.kind: missing field")
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in OPTIMIZERS:
        raise InputError(f"{field}.kind: unknown optimizer {kind!r} (known: {', '.join(OPTIMIZERS)})")
    defaults = OPTIMIZERS[kind]
    _no_unknown_fields(data, {"kind", *defaults}, field)
    values = []
    for name, default in defaults.items():
        value = exact_number(data.get(name, default), f"{field}.{name}")
        if name in _FRACTIONS and not 0 <= value < 1:
            raise InputError(f"{field}.{name}: expected a number from 0 up to (not including) 1, got {value}")
        if name == "epsilon" and value <= 0:
            raise InputError(f"{field}.{name}: expected a positive number, got {value}")
        if name == "weight_decay" and value < 0:
            raise InputError(f"{field}.{name}: expected a number of at least 0, got {value}")
        values.append((name, value))
    return OptimizerSpec(kind, tuple(values))


def _huber_delta(data: dict, loss: str) -> Rational:
    """Huber's delta: positive, default 1, and only beside the loss huber."""
    if "huber_delta" not in data:
        return Rational(1)
    if loss != "huber":
        raise InputError(f"huber_delta: only the loss huber has a delta (the loss is {loss})")
    delta = exact_number(data["huber_delta"], "huber_delta")
    if delta <= 0:
        raise InputError(f"huber_delta: expected a positive number, got {delta}")
    return delta


def regularization_spec(data: Any) -> RegularizationSpec | None:
    """A weight penalty: {kind = "l2", lambda = 0.01, biases = false}; none when the field is absent."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise InputError('regularization: expected an object such as {"kind": "l2", "lambda": 0.01}')
    _no_unknown_fields(data, {"kind", "lambda", "biases"}, "regularization")
    if "kind" not in data:
        raise InputError("regularization.kind: missing field")
    kind = data["kind"]
    if kind not in PENALTIES:
        raise InputError(f"regularization.kind: unknown penalty {kind!r} (known: {', '.join(PENALTIES)})")
    if "lambda" not in data:
        raise InputError("regularization.lambda: missing field")
    strength = exact_number(data["lambda"], "regularization.lambda")
    if strength <= 0:
        raise InputError(f"regularization.lambda: expected a positive number, got {strength}")
    biases = data.get("biases", False)
    if not isinstance(biases, bool):
        raise InputError(f"regularization.biases: expected true or false, got {biases!r}")
    return RegularizationSpec(kind, strength, biases)


def _require_size(layers_data: list, fan_in: int, samples: int) -> None:
    """The network's size from the lengths of its weight rows, before any number is read exactly."""
    parameters = 0
    for layer in layers_data:
        rows = layer.get("weights") if isinstance(layer, dict) else None
        size = len(rows) if isinstance(rows, list) else 0
        bias = layer.get("bias") if isinstance(layer, dict) else None
        parameters += size * fan_in + (len(bias) if isinstance(bias, list) else bias is not None)
        fan_in = size
    require_size(parameters, samples, "layers")


def _printable(name: str, field: str) -> None:
    """A name is printed in every output: no control characters (terminal escape codes), no line breaks."""
    if len(name) > MAX_NAME_LENGTH:
        raise InputError(f"{field}: longer than {MAX_NAME_LENGTH} characters")
    for position, char in enumerate(name):
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise InputError(f"{field}: control or invisible character {char!r} at position {position}")


def _samples_data(data: dict) -> list[tuple[Any, Any, str]]:
    """(inputs, targets, field prefix) per sample, from `samples` or from top-level inputs and targets."""
    if "samples" not in data:
        return [(data["inputs"], data["targets"], "")]
    samples = data["samples"]
    if not isinstance(samples, list) or not samples:
        raise InputError("samples: expected a non-empty list of {\"inputs\": [...], \"targets\": [...]}")
    result = []
    for index, sample in enumerate(samples):
        field = f"samples[{index}]"
        if not isinstance(sample, dict):
            raise InputError(f"{field}: expected an object with the fields inputs, targets")
        _no_unknown_fields(sample, _SAMPLE_FIELDS, field)
        for key in ("inputs", "targets"):
            if key not in sample:
                raise InputError(f"{field}.{key}: missing field")
        result.append((sample["inputs"], sample["targets"], f"{field}."))
    return result


def _sample(inputs_data: Any, targets_data: Any, prefix: str, input_count: int, output: LayerSpec,
            loss: str) -> Sample:
    inputs = _numbers(inputs_data, f"{prefix}inputs")
    if len(inputs) != input_count:
        raise InputError(f"{prefix}inputs: expected {input_count} numbers (as many as the first sample), "
                         f"got {len(inputs)}")
    targets = _numbers(targets_data, f"{prefix}targets")
    if len(targets) != output.size:
        raise InputError(
            f"{prefix}targets: expected {output.size} numbers (one per neuron of the output layer "
            f"{output.name!r}), got {len(targets)}"
        )
    if loss in ("binary_cross_entropy", "cross_entropy") and any(t < 0 or t > 1 for t in targets):
        raise InputError(f"{prefix}targets: {loss} needs targets between 0 and 1")
    return Sample(inputs, targets)


def _default_layer_names(count: int) -> list[str]:
    """'h' and 'o' as in the document; numbered hidden layers when there are several."""
    if count == 1:
        return ["o"]
    if count == 2:
        return ["h", "o"]
    return [f"h{n}" for n in range(1, count)] + ["o"]


def _layer(data: Any, field: str, default_name: str, fan_in: int, previous: str) -> LayerSpec:
    if not isinstance(data, dict):
        raise InputError(f"{field}: expected an object with the fields activation, weights, bias")
    _no_unknown_fields(data, _LAYER_FIELDS, field)
    name = data.get("name", default_name)
    if not isinstance(name, str) or not _LAYER_NAME.match(name):
        raise InputError(f"{field}.name: expected a letter then up to 7 letters or digits, got {name!r}")
    if name in _RESERVED_LAYER_NAMES:
        raise InputError(f"{field}.name: {name!r} would make neurons read like the {_RESERVED_LAYER_NAMES[name]}; "
                         f"choose another name")
    if "activation" not in data:
        raise InputError(f"{field}.activation: missing field")
    activation = data["activation"]
    if activation not in ACTIVATIONS:
        raise InputError(f"{field}.activation: unknown activation {activation!r} (known: {', '.join(ACTIVATIONS)})")
    if "weights" not in data:
        raise InputError(f"{field}.weights: missing field")
    rows = data["weights"]
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{field}.weights: expected a non-empty list of rows, one per neuron")
    if activation == "softmax" and len(rows) < 2:
        raise InputError(f"{field}.activation: softmax needs at least two neurons in its layer (it has one)")
    weights = []
    for j, row in enumerate(rows):
        numbers = _numbers(row, f"{field}.weights[{j}]")
        if len(numbers) != fan_in:
            raise InputError(
                f"{field}.weights[{j}]: expected {fan_in} numbers (one per output of {previous}), got {len(numbers)}"
            )
        weights.append(numbers)
    bias = data.get("bias")
    if isinstance(bias, list):
        bias = _numbers(bias, f"{field}.bias")
        if len(bias) != len(weights):
            raise InputError(f"{field}.bias: expected one number or {len(weights)} numbers (one per neuron), got {len(bias)}")
    elif bias is not None:
        bias = exact_number(bias, f"{field}.bias")
    return LayerSpec(name=name, activation=activation, weights=tuple(weights), bias=bias)


def _numbers(value: Any, field: str) -> tuple:
    if not isinstance(value, list) or not value:
        raise InputError(f"{field}: expected a non-empty list of numbers")
    return tuple(exact_number(item, f"{field}[{k}]") for k, item in enumerate(value))


def _no_unknown_fields(data: dict, known: set[str], field: str) -> None:
    unknown = sorted(set(data) - known, key=str)
    if unknown:
        raise InputError(f"{field}: unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})")


def _distinct_layer_names(layers: list[LayerSpec]) -> None:
    seen: set[str] = set()
    for index, layer in enumerate(layers):
        if layer.name in seen:
            raise InputError(f"layers[{index}].name: layer name {layer.name!r} is used twice")
        seen.add(layer.name)
