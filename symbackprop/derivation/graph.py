"""Reverse mode over a computation graph: every name's adjoint by the multivariable chain rule.

Walking the nodes in reverse topological order, each name v gets

    dE/dv = sum over the nodes c that use v of dE/dc * dc/dv

where dc/dv is a `LocalDerivative` of c's small local expression (with its rule records) and
dE/dc is already known. Each edge is differentiated once, so the work grows linearly with the
number of edges; a name used in several places (a shared parameter) gets one term per use.

A term through the loss node itself is its local derivative alone (dE/dE = 1 is not written). When
the loss uses v directly and v also reaches it another way, that local derivative (the partial,
v's other uses held fixed) is a `DirectPartial`, a symbol of its own, so that it is never confused
with the adjoint dE/dv (the total).

This is the one engine: the fully connected network reaches it through its front end
(`network/layered_graph.py`), and `derivation/backprop.py` lays its adjoints out as the document does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sympy import S, Expr, Symbol

from symbackprop.derivation.identities import layer_derivative_in_outputs
from symbackprop.derivation.model import LocalDerivative
from symbackprop.derivation.rules import differentiate, fold_product, fold_sum
from symbackprop.memory import cycle_collector_paused
from symbackprop.network import Partial
from symbackprop.network.activations import ACTIVATIONS
from symbackprop.network.graph import Graph, GraphNode
from symbackprop.names import partial_key


def local_derivative(of: Symbol, expression: Expr, wrt: Symbol, term: Expr | None = None) -> LocalDerivative:
    """d(of)/d(wrt) from `of`'s local expression.

    `term`, when given, is the only term of the sum `expression` that holds `wrt` (a net input's
    w_k x_k): differentiating it alone gives the same result in constant time per connection.
    """
    result = differentiate(expression if term is None else term, wrt).result
    return LocalDerivative(Partial(of, wrt), expression, result)


def node_derivative(user: GraphNode, quantity: Symbol) -> LocalDerivative:
    """d(user)/d(quantity) from the user's local expression: the engine's own local rule."""
    return local_derivative(user.symbol, user.expression, quantity)


LocalRule = Callable[[GraphNode, Symbol], LocalDerivative]
"""How a front end differentiates one use, d(user)/d(quantity): the layered network's writes an
activation's derivative in its outputs (out(1 - out)), as the document does."""


class DirectPartial(Partial):
    """dE/dv through the loss's own expression only, named apart from the adjoint dE/dv; printed as the
    derivative of that expression, d/dv[a + g], so that it never reads as the adjoint."""

    expression: Expr

    def __new__(cls, of: Symbol, wrt: Symbol, expression: Expr) -> "DirectPartial":
        obj = Symbol.__xnew__(cls, partial_key(of.name, wrt.name) + "|direct")
        obj.of, obj.wrt, obj.expression = of, wrt, expression
        return obj


@dataclass(frozen=True)
class Adjoint:
    """dE/dv: one term dE/dc * dc/dv per node c that uses v; none for the loss itself (dE/dE = 1)."""

    quantity: Symbol
    symbol: Partial
    terms: tuple[tuple[Partial, LocalDerivative], ...]

    @property
    def expression(self) -> Expr:
        """The chain rule in named intermediates: the sum over uses of upstream times local."""
        if not self.terms:
            return S.One if self.quantity == self.symbol.of else S.Zero
        return fold_sum([local.symbol if upstream.of == upstream.wrt else fold_product([upstream, local.symbol])
                         for upstream, local in self.terms])


@dataclass(frozen=True)
class GraphDerivation:
    graph: Graph
    adjoints: tuple[Adjoint, ...]
    """The loss first, then every node backwards, then the leaves asked for (by default all, in the spec's order)."""

    def adjoint(self, name: str) -> Adjoint:
        for adjoint in self.adjoints:
            if adjoint.quantity.name == name:
                return adjoint
        raise KeyError(name)

    def definitions(self) -> list[tuple[Symbol, Expr]]:
        """The backward pass as assignments in evaluation order: local derivatives, then each adjoint."""
        lines: list[tuple[Symbol, Expr]] = []
        for adjoint in self.adjoints:
            lines.extend((local.symbol, local.form) for _, local in adjoint.terms)
            if adjoint.expression != adjoint.symbol:  # not a single use by the loss, already defined
                lines.append((adjoint.symbol, adjoint.expression))
        return lines


def derive_graph(graph: Graph, rule: LocalRule = node_derivative,
                 leaves: Iterable[Symbol] | None = None) -> GraphDerivation:
    """Every name's adjoint, from the loss back to the leaves (`leaves`: only these leaves' adjoints,
    as the layered network wants its parameters' and not its inputs'; every leaf's by default)."""
    with cycle_collector_paused():
        loss = graph.loss
        leaves = graph.leaves if leaves is None else tuple(leaves)
        wanted = set(leaves)
        adjoints: dict[Symbol, Adjoint] = {}
        for quantity in [*(node.symbol for node in reversed(graph.nodes)), *leaves]:
            users = [user for user in graph.consumers[quantity] if user.symbol in adjoints]
            terms = tuple((adjoints[user.symbol].symbol, _local(rule, user, quantity, loss, len(users)))
                          for user in users)
            if terms or quantity == loss or quantity in wanted:
                adjoints[quantity] = Adjoint(quantity, Partial(loss, quantity), terms)
        return GraphDerivation(graph, tuple(adjoints.values()))


def _local(rule: LocalRule, user: GraphNode, quantity: Symbol, loss: Symbol, uses: int) -> LocalDerivative:
    local = _softmax_local(user, quantity) if user.group is not None else None
    local = local or rule(user, quantity)
    if user.symbol == loss and uses > 1:
        return LocalDerivative(DirectPartial(loss, quantity, user.expression), local.expression, local.form)
    return local


def _softmax_local(user: GraphNode, quantity: Symbol) -> LocalDerivative | None:
    """dp_k/dz_j of a softmax group's member, in the group's outputs: p_k(1 - p_k) for k = j, -p_k p_j
    otherwise, derived by SymPy from the softmax's expression (`identities.layer_derivative_in_outputs`)."""
    members, arguments = user.group.members, user.group.arguments
    if quantity not in arguments:
        return None
    form = layer_derivative_in_outputs(ACTIVATIONS["softmax"], members, members.index(user.symbol),
                                       arguments.index(quantity))
    if form is None:
        return None
    return LocalDerivative(Partial(user.symbol, quantity), user.expression, form, "softmax")
