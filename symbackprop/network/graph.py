"""A computation graph: leaves with values, and named intermediates each with a small local expression.

The nodes are kept in topological order (every node after the names its expression uses), so
the forward pass is one walk and the backward pass the same walk reversed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sympy import Expr, Rational, Symbol

from symbackprop.errors import InputError
from symbackprop.network.symbols import LEARNING_RATE, PENALTY_STRENGTH
from symbackprop.network.activations import ACTIVATIONS
from symbackprop.spec.graph import GraphSpec, SoftmaxGroup


@dataclass(frozen=True)
class GraphNode:
    """symbol := expression, where the expression uses `inputs` (nodes or leaves)."""

    symbol: Symbol
    expression: Expr
    inputs: tuple[Symbol, ...]
    """The names the expression uses, in the spec's order of names."""
    group: SoftmaxGroup | None = None
    """The softmax over a named group this node is a member of, if it is one."""


@dataclass(frozen=True)
class Graph:
    spec: GraphSpec
    nodes: tuple[GraphNode, ...]
    """In topological order."""

    @property
    def loss(self) -> Symbol:
        return self.spec.loss

    @property
    def leaves(self) -> tuple[Symbol, ...]:
        return tuple(self.spec.values)

    @cached_property
    def consumers(self) -> dict[Symbol, tuple[GraphNode, ...]]:
        """For every name, the nodes whose expression uses it, in topological order."""
        found: dict[Symbol, list[GraphNode]] = {name: [] for name in [*self.leaves, *(n.symbol for n in self.nodes)]}
        for node in self.nodes:
            for name in node.inputs:
                found[name].append(node)
        return {name: tuple(nodes) for name, nodes in found.items()}

    def depends_on(self, name: Symbol) -> set[Symbol]:
        """Every name (node or leaf) that `name`'s value is computed from, itself excluded."""
        inputs = {node.symbol: node.inputs for node in self.nodes}
        found: set[Symbol] = set()
        pending = list(inputs.get(name, ()))
        while pending:
            symbol = pending.pop()
            if symbol not in found:
                found.add(symbol)
                pending.extend(inputs.get(symbol, ()))
        return found

    def point(self) -> dict[Symbol, Rational]:
        """The leaves' values, the learning rate when the spec gives one, and the penalty's strength lambda
        when it has a penalty (as `Network.point`)."""
        point = dict(self.spec.values)
        if self.spec.learning_rate is not None:
            point[LEARNING_RATE] = self.spec.learning_rate
        if self.spec.regularization is not None:
            point[PENALTY_STRENGTH] = self.spec.regularization.strength
        return point

    def forward_definitions(self) -> list[tuple[Symbol, Expr]]:
        return [(node.symbol, node.expression) for node in self.nodes]


def build_graph(spec: GraphSpec, trainable_required: bool = True) -> Graph:
    """The spec's nodes in topological order; a cycle is an `InputError` that names it, and so is a loss that
    depends on no trainable name when `trainable_required` (a spec a person wrote; a layer spec's expansion
    may leave a kernel that only meets padding, and its inputs' gradients are still wanted). A softmax group's
    members are nodes p_k = e^{z_k} / (e^{z_1} + ... + e^{z_n}), the softmax activation's own expression."""
    softmax = ACTIVATIONS["softmax"].output
    members = {member: (group, softmax(group.arguments, k))
               for group in spec.groups for k, member in enumerate(group.members)}
    given = {**dict(spec.nodes), **{member: expression for member, (_, expression) in members.items()}}
    definitions = {name: given[name] for name in spec.order or given}
    order = {name: index for index, name in enumerate([*spec.values, *definitions])}
    inputs = {symbol: tuple(sorted(expression.free_symbols, key=order.__getitem__))
              for symbol, expression in definitions.items()}
    placed: list[GraphNode] = []
    done: set[Symbol] = set()
    for root in definitions:  # depth first, iteratively: a long chain must not exhaust Python's stack
        if root in done:
            continue
        trail, pending, open_ = [root], [iter(inputs[root])], {root}
        while trail:
            for name in pending[-1]:
                if name in definitions and name not in done:
                    if name in open_:
                        cycle = " -> ".join(s.name for s in [*trail[trail.index(name):], name])
                        raise InputError(f"nodes.{name.name}: the graph has a cycle: {cycle}")
                    trail.append(name)
                    open_.add(name)
                    pending.append(iter(inputs[name]))
                    break
            else:
                symbol = trail.pop()
                pending.pop()
                open_.discard(symbol)
                done.add(symbol)
                placed.append(GraphNode(symbol, definitions[symbol], inputs[symbol],
                                        members[symbol][0] if symbol in members else None))
    graph = Graph(spec, tuple(placed))
    if trainable_required and not graph.depends_on(spec.loss) & set(spec.trainable):
        trainable = ", ".join(s.name for s in spec.trainable) or "none"
        raise InputError(f"loss: {spec.loss.name} depends on no trainable name (trainable: {trainable}), so "
                         "no gradient could train it")
    return graph
