"""Proof of the matrix form against the scalar derivation, entry by entry, in SymPy.

Every matrix symbol of the forward pass is replaced by the explicit matrix of the scalar
engine's symbols (W_h by the w_k, net_h by the net_{h1}[s], one column per sample) and every
matrix definition is expanded entry by entry (SymPy's `doit` and `as_explicit`). The scalar side is the scalar
engine's own definitions, each substituted into the next. Both sides then speak of the same
named intermediates of the forward pass (net, out), the targets, inputs and parameters, and
each entry must equal its scalar counterpart as a SymPy expression: the local expressions of
the forward pass, E_total, every dE_total/dout, delta, gradient and update.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sympy import Expr, ImmutableMatrix, Symbol, expand, simplify
from sympy.matrices.expressions import MatrixExpr

from symbackprop.derivation import Derivation
from symbackprop.derivation.entries import forward_entries, optimizer_entries, scalar_entries
from symbackprop.derivation.matrix import MatrixDefinition, MatrixDerivation, derive_matrix, optimizer_lines
from symbackprop.derivation.optimizers import gradient_at, instance, optimizer_rule
from symbackprop.errors import CheckFailure
from symbackprop.network import Network
from symbackprop.spec.model import OptimizerSpec


@dataclass(frozen=True)
class EntryCheck:
    """One entry of a matrix definition against the scalar engine's quantity."""

    entry: str
    """The matrix and the position, 1-based: delta_h[2, 1] (row 2, sample 1)."""
    scalar: Symbol
    matrix_value: Expr
    scalar_value: Expr

    @cached_property
    def equal(self) -> bool:
        difference = self.matrix_value - self.scalar_value
        return expand(difference) == 0 or simplify(difference) == 0


def check_matrix_form(derivation: Derivation, matrix: MatrixDerivation | None = None) -> list[EntryCheck]:
    """Every entry of the matrix form beside the scalar derivation's value, both in named intermediates."""
    network = derivation.network
    matrix = matrix or derive_matrix(network.spec)
    entries = scalar_entries(derivation, matrix)
    known = forward_entries(derivation, matrix)
    scalar = _resolved(network, derivation)
    checks: list[EntryCheck] = []
    for layer in matrix.layers:
        expressions = {s: e for one in network.passes for n in one.layers[layer.index].neurons
                       for s, e in ((n.net, n.net_expression), (n.out, n.out_expression))}
        for definition in (layer.net, layer.out):
            checks += _compare(definition, _explicit(definition.expression, known), known[definition.symbol],
                               expressions)
    backward = [matrix.total]
    for layer in reversed(matrix.layers):
        backward += [layer.sensitivity, layer.delta, layer.weight_gradient]
        if layer.bias_gradient is not None:
            backward.append(layer.bias_gradient)
    backward += [u.definition for u in matrix.updates]
    for definition in backward:
        known[definition.symbol] = value = _explicit(definition.expression, known)
        checks += _compare(definition, value, entries[definition.symbol], scalar)
    return checks


def check_matrix_optimizer(derivation: Derivation, matrix: MatrixDerivation,
                           optimizer: OptimizerSpec) -> list[EntryCheck]:
    """Every entry of the optimizer's update per weight matrix and bias (`optimizer_lines`, at any step: t kept
    a symbol) beside the scalar rule's line for that entry's parameter, both in the named parameters, gradients
    and state: entry (j, k) of m_Wh^+ against m_w^+ of W_h's entry (j, k), and so on."""
    rule = optimizer_rule(optimizer)
    known = {**scalar_entries(derivation, matrix), **optimizer_entries(derivation.network, matrix, rule, None)}
    trained = {u.parameter.symbol: u.parameter for u in derivation.updates}
    gradients = {g.parameter.symbol: g.symbol for g in derivation.gradients}
    scalar = {}
    for parameter in trained:
        scalar[gradient_at(parameter, None)] = gradients[parameter]
        scalar.update(instance(rule, parameter, None))
    return [check for definition in optimizer_lines(matrix, rule, None)
            for check in _compare(definition, _explicit(definition.expression, known), known[definition.symbol],
                                  scalar)]


def require_equal(checks: list[EntryCheck]) -> None:
    """Raise `CheckFailure` naming every entry of the matrix form that differs from the scalar derivation."""
    failed = [c for c in checks if not c.equal]
    if failed:
        raise CheckFailure("matrix form differs from the scalar derivation:\n" + "\n".join(
            f"{c.entry} = {c.matrix_value} but {c.scalar} = {c.scalar_value}" for c in failed))


def _compare(definition: MatrixDefinition, value: ImmutableMatrix, symbols: ImmutableMatrix,
             values: dict[Symbol, Expr]) -> list[EntryCheck]:
    """The definition's explicit `value` entry by entry, beside the scalar engine's `symbols` (same shape)
    and what each of them stands for in `values`."""
    name = definition.symbol.name
    if value.shape != symbols.shape:
        raise CheckFailure(f"{name} is {value.shape}; the scalar derivation has {symbols.shape}")
    rows, columns = value.shape
    return [EntryCheck(f"{name}[{r + 1}, {c + 1}]", symbols[r, c], value[r, c], values[symbols[r, c]])
            for r in range(rows) for c in range(columns)]


def _explicit(expression: MatrixExpr, known: dict) -> ImmutableMatrix:
    return ImmutableMatrix(expression.xreplace(known).doit().as_explicit())


def _resolved(network: Network, derivation: Derivation) -> dict[Symbol, Expr]:
    """Every scalar definition (errors, totals, the backward pass) substituted down to nets, outs,
    targets, inputs and parameters: what each of the scalar engine's symbols stands for."""
    intermediates = {s for one in network.passes for layer in one.layers for n in layer.neurons for s in (n.net, n.out)}
    resolved: dict[Symbol, Expr] = {}
    for symbol, expression in network.forward_definitions():
        if symbol not in intermediates:
            resolved[symbol] = expression.xreplace(resolved)
    for definition in derivation.definitions:
        resolved[definition.symbol] = definition.expression.xreplace(resolved)
    return resolved
