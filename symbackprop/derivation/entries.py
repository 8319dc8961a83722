"""Which scalar quantity each entry of the matrix form is: W_h[1, 2] is w_2, net_h[2, s] is net_h2 of sample s.

The matrix form (`matrix.py`) and the scalar derivation name the same quantities, one per matrix
and one per entry. This is the correspondence, used to prove the one against the other
(`checks/matrix_form.py`) and to show the matrix form with the scalar engine's numbers
(`solution/matrix.py`). Rows are neurons (or inputs), columns samples, as in the matrix form.
"""

from __future__ import annotations

from collections.abc import Sequence

from sympy import ImmutableMatrix, Symbol
from sympy.matrices.expressions import MatrixSymbol

from symbackprop.derivation.matrix import MatrixDerivation
from symbackprop.derivation.optimizers import OptimizerRule, instance_names
from symbackprop.derivation.model import Derivation
from symbackprop.network import Network


def parameter_entries(network: Network, matrix: MatrixDerivation) -> dict[MatrixSymbol, ImmutableMatrix]:
    """Each weight matrix and bias of the matrix form as the explicit matrix of the scalar parameters' symbols."""
    entries = {}
    for layer, structure in zip(matrix.layers, network.layers):
        entries[layer.weights] = ImmutableMatrix([[p.symbol for p in row] for row in structure.weights])
        if layer.bias is not None:
            entries[layer.bias] = ImmutableMatrix([[b.symbol] for b in structure.biases])
    return entries


def given_entries(network: Network, matrix: MatrixDerivation) -> dict[MatrixSymbol, ImmutableMatrix]:
    """What the matrix form is given (inputs, targets, each weight matrix and bias) as explicit matrices
    of scalar symbols."""
    passes = network.passes
    return {matrix.inputs: columns([one.inputs for one in passes]),
            matrix.targets: columns([one.targets for one in passes]),
            **parameter_entries(network, matrix)}


def forward_entries(derivation: Derivation, matrix: MatrixDerivation) -> dict[MatrixSymbol, ImmutableMatrix]:
    """Inputs, targets, and each layer's weights, bias, net and out as explicit matrices of scalar symbols."""
    passes = derivation.network.passes
    entries = given_entries(derivation.network, matrix)
    for layer in matrix.layers:
        entries[layer.net.symbol] = columns([[n.net for n in one.layers[layer.index].neurons] for one in passes])
        entries[layer.out.symbol] = columns([[n.out for n in one.layers[layer.index].neurons] for one in passes])
    return entries


def scalar_entries(derivation: Derivation, matrix: MatrixDerivation) -> dict[MatrixSymbol, ImmutableMatrix]:
    """Every matrix symbol of the matrix form (forward pass, E_total, each layer's dE/dout, delta and
    gradients, the updates) as the explicit matrix of the scalar derivation's symbols."""
    entries = forward_entries(derivation, matrix)
    entries[matrix.total.symbol] = ImmutableMatrix([[derivation.network.total]])
    by_net = {s.neuron.net: s.partial for s in derivation.sensitivities}
    deltas = {d.neuron.net: d.symbol for d in derivation.deltas}
    gradients = {g.parameter.symbol: g.symbol for g in derivation.gradients}
    updates = {u.parameter.symbol: u.symbol for u in derivation.updates}
    for layer in matrix.layers:
        nets = entries[layer.net.symbol]
        entries[layer.sensitivity.symbol] = nets.applyfunc(by_net.__getitem__)
        entries[layer.delta.symbol] = nets.applyfunc(deltas.__getitem__)
        entries[layer.weight_gradient.symbol] = entries[layer.weights].applyfunc(gradients.__getitem__)
        if layer.bias_gradient is not None:
            entries[layer.bias_gradient.symbol] = entries[layer.bias].applyfunc(gradients.__getitem__)
    for update in matrix.updates:
        entries[update.definition.symbol] = entries[update.parameter].applyfunc(updates.__getitem__)
    return entries


def optimizer_entries(network: Network, matrix: MatrixDerivation, rule: OptimizerRule,
                      step: int | None) -> dict[MatrixSymbol, ImmutableMatrix]:
    """Each matrix quantity of the optimizer's lines at `step` (`matrix.optimizer_lines`: g_Wh<k>, m_Wh<k>,
    W_h<k>, ...) as the explicit matrix of its entries' scalar quantities (g_w1<k>, m_w1<k>, w_1<k>, ...):
    entry (j, k) of a quantity of W_h is the same quantity of the rule for W_h's entry (j, k)."""
    given = parameter_entries(network, matrix)
    entries = {}
    for update in matrix.updates:
        scalars = given[update.parameter]
        per_entry = [[instance_names(rule, scalars[r, c], step) for c in range(scalars.cols)]
                     for r in range(scalars.rows)]
        for quantity, name in instance_names(rule, Symbol(update.parameter.name), step).items():
            if isinstance(name, Symbol):
                entries[MatrixSymbol(name.name, *scalars.shape)] = ImmutableMatrix(
                    [[names[quantity] for names in row] for row in per_entry])
    return entries


def columns(per_sample: Sequence[Sequence[Symbol]]) -> ImmutableMatrix:
    """One column per sample."""
    return ImmutableMatrix([list(row) for row in zip(*per_sample)])
