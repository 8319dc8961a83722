"""A graph spec: named values, which of them train, and named intermediates written as formulas.

    name = "staged"
    loss = "f"
    trainable = ["x", "y", "z"]      # default: every value
    learning_rate = 0.5              # optional: with it, the solution shows the updates
    optimizer = "adam"               # optional: what train runs (default sgd; docs/optimizers.md)
    regularization = {kind = "l2", lambda = 0.01}   # optional: a penalty on every trainable name

    [values]
    x = -2
    y = 5
    z = -4

    [nodes]                          # in any order; each a formula in the names above
    q = "x + y"
    f = "q \\cdot z"
    p = {softmax = ["q", "z"]}       # a softmax over a named group: the nodes p_1, p_2

Numbers are exact decimals; formulas are read by the formula reader (never eval), and every
name is the canonical key of a typed name (w0 and w_{0} are both w_0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sympy import Expr, Rational, Symbol

from symbackprop.errors import InputError
from symbackprop.formulas import read_formula
from symbackprop.formulas.reader import FormulaError
from symbackprop.names import name_of, parse_key, symbol as named
from symbackprop.spec.exact import exact_number
from symbackprop.spec.limits import MAX_GRAPH_NODES
from symbackprop.spec.load import optimizer_spec, regularization_spec
from symbackprop.spec.model import OptimizerSpec, RegularizationSpec

FIELDS = {"name", "values", "trainable", "nodes", "loss", "learning_rate", "optimizer", "regularization"}


@dataclass(frozen=True)
class GraphSpec:
    """A validated graph spec: every value exact, every formula read, every name known."""

    name: str
    values: dict[Symbol, Rational]
    """The graph's leaves (inputs, parameters, constants) in the spec's order."""
    trainable: tuple[Symbol, ...]
    nodes: tuple[tuple[Symbol, Expr], ...]
    """Each named intermediate with its local expression, in the spec's order."""
    loss: Symbol
    learning_rate: Rational | None
    groups: tuple[SoftmaxGroup, ...] = ()
    """Each softmax over a named group, whose members are nodes too (not in `nodes`)."""
    order: tuple[Symbol, ...] = ()
    """Every node's name in the spec's order, a group's members in the group's place (default: `nodes`' order)."""
    optimizer: OptimizerSpec = OptimizerSpec()
    """What `train` runs on the trainable values (default: sgd), with its settings."""
    regularization: RegularizationSpec | None = None
    """A weight penalty on the trainable values (every one but `unpenalized`), added to the loss the updates read."""
    unpenalized: frozenset[Symbol] = frozenset()
    """Trainable values the penalty leaves out: none in a graph spec; a layer spec's biases and a normalization's
    gamma and beta unless its regularization says `biases = true` (network/layers.py)."""

    def penalizes(self, name: Symbol) -> bool:
        """Whether the penalty's derivative joins the gradient of the trainable value `name`."""
        return self.regularization is not None and name not in self.unpenalized


@dataclass(frozen=True)
class SoftmaxGroup:
    """p = {softmax = [z1, z2, z3]}: the nodes p_1, p_2, p_3, p_k = e^{z_k} / (e^{z1} + e^{z2} + e^{z3})."""

    members: tuple[Symbol, ...]
    arguments: tuple[Symbol, ...]


def graph_spec_from_dict(data: Mapping[str, Any], default_name: str = "graph") -> GraphSpec:
    """Validate a graph spec read from JSON or TOML; the first problem found is one `InputError` line."""
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise InputError(f"{unknown[0]}: unknown field (a graph spec has {', '.join(sorted(FIELDS))})")
    values_data, nodes_data = _table(data, "values"), _table(data, "nodes")
    values = {_name(key, f"values.{key}"): exact_number(value, f"values.{key}") for key, value in values_data.items()}
    defined = {key: _defined(key, text) for key, text in nodes_data.items()}
    node_names = [name for names in defined.values() for name in names]
    known = {symbol.name: symbol for symbol in [*values, *node_names]}
    if len(known) < len(values) + len(node_names):
        twice = next(n for n in node_names if n in values or node_names.count(n) > 1)
        key = next(key for key, names in defined.items() if twice in names)
        raise InputError(f"nodes.{key}: {twice.name} is defined twice")
    nodes = tuple((names[0], _formula(nodes_data[key], f"nodes.{key}", known))
                  for key, names in defined.items() if isinstance(nodes_data[key], str))
    groups = tuple(SoftmaxGroup(names, _group(nodes_data[key], f"nodes.{key}", known))
                   for key, names in defined.items() if not isinstance(nodes_data[key], str))
    return GraphSpec(
        name=_text(data.get("name", default_name), "name"),
        values=values,
        trainable=_trainable(data.get("trainable"), values, node_names),
        nodes=nodes,
        loss=_loss(data.get("loss"), node_names),
        learning_rate=None if data.get("learning_rate") is None else _rate(data["learning_rate"]),
        groups=groups,
        order=tuple(node_names),
        optimizer=optimizer_spec(data.get("optimizer", "sgd"), "optimizer"),
        regularization=_regularization(data.get("regularization")),
    )


def _regularization(data: Any) -> RegularizationSpec | None:
    """A layered spec's penalty, on every trainable name: a graph has no biases to leave out or take in."""
    if isinstance(data, dict) and "biases" in data:
        raise InputError("regularization.biases: a graph has no biases; the penalty applies to every trainable name")
    return regularization_spec(data)


def _defined(key: str, node: Any) -> tuple[Symbol, ...]:
    """The names a node defines: its own, or p_1 ... p_k for a softmax over k names."""
    name = _name(key, f"nodes.{key}")
    if isinstance(node, str):
        return (name,)
    if not isinstance(node, Mapping) or set(node) != {"softmax"}:
        raise InputError(f"nodes.{key}: expected a formula as a string, or a softmax over a group: "
                         f"{key} = {{softmax = [\"z1\", \"z2\"]}}, got {type(node).__name__}")
    group = node["softmax"]
    if not isinstance(group, list) or len(group) < 2:
        raise InputError(f"nodes.{key}.softmax: expected a list of at least two names")
    base = name_of(name)
    return tuple(named(replace(base, subscript=(*base.subscript, str(k)))) for k in range(1, len(group) + 1))


def _group(node: Mapping[str, Any], field: str, known: Mapping[str, Symbol]) -> tuple[Symbol, ...]:
    """A softmax's arguments: known names, each at most once."""
    arguments = []
    for index, key in enumerate(node["softmax"]):
        argument = _name(key, f"{field}.softmax[{index}]")
        if argument.name not in known:
            raise InputError(f"{field}.softmax[{index}]: unknown name {key!r}")
        if argument in arguments:
            raise InputError(f"{field}.softmax[{index}]: {key!r} is in the group twice")
        arguments.append(argument)
    return tuple(arguments)


def _table(data: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    table = data.get(field, {})
    if not isinstance(table, Mapping):
        raise InputError(f"{field}: expected a table of names, got {type(table).__name__}")
    if field == "nodes" and not table:
        raise InputError("nodes: expected at least one named intermediate, e.g. f = \"x * y\"")
    if field == "nodes" and len(table) > MAX_GRAPH_NODES:
        raise InputError(f"nodes: the graph has {len(table):,} nodes, more than the {MAX_GRAPH_NODES:,} the engine takes")
    return table


def _name(text: Any, field: str) -> Symbol:
    """A spec's name in its canonical spelling, read as the formula reader reads names."""
    if not isinstance(text, str):
        raise InputError(f"{field}: expected a name, got {type(text).__name__}")
    try:
        symbol = read_formula(text)
    except FormulaError:
        symbol = None
    if not isinstance(symbol, Symbol):
        raise InputError(f"{field}: {text!r} is not a name (letters, then digits or a subscript: x, w0, net_h1)")
    try:
        parse_key(symbol.name)
    except ValueError:
        raise InputError(f"{field}: {text!r} is not a name (letters, then digits or a subscript: x, w0, net_h1)") from None
    return symbol


def _formula(text: Any, field: str, known: Mapping[str, Symbol]) -> Expr:
    if not isinstance(text, str):
        raise InputError(f"{field}: expected a formula as a string, got {type(text).__name__}")

    def resolve(name: str) -> Symbol:
        return known[name]

    try:
        return read_formula(text, resolve)
    except FormulaError as error:
        raise InputError(f"{field}: {error.reason} at position {error.position} of {text!r}") from None


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise InputError(f"{field}: expected a printable name")
    return value


def _trainable(data: Any, values: Mapping[Symbol, Rational], nodes: list[Symbol]) -> tuple[Symbol, ...]:
    if data is None:
        return tuple(values)
    if not isinstance(data, list):
        raise InputError(f"trainable: expected a list of value names, got {type(data).__name__}")
    chosen = []
    for index, key in enumerate(data):
        symbol = _name(key, f"trainable[{index}]")
        if symbol in nodes:
            raise InputError(f"trainable[{index}]: {key!r} is a node, computed from other names; only values "
                             f"train ({', '.join(s.name for s in values)})")
        if symbol not in values:
            raise InputError(f"trainable[{index}]: {key!r} is not one of the values ({', '.join(s.name for s in values)})")
        chosen.append(symbol)
    return tuple(s for s in values if s in chosen)


def _loss(key: Any, nodes: list[Symbol]) -> Symbol:
    if key is None:
        raise InputError("loss: missing: name the node whose gradient is wanted, e.g. loss = \"f\"")
    symbol = _name(key, "loss")
    if symbol not in nodes:
        raise InputError(f"loss: {key!r} is not one of the nodes ({', '.join(s.name for s in nodes)})")
    return symbol


def _rate(value: Any) -> Rational:
    rate = exact_number(value, "learning_rate")
    if rate <= 0:
        raise InputError(f"learning_rate: expected a positive number, got {value}")
    return rate
