"""The matrix form of backpropagation: derived per layer, and proved entry by entry against the scalar engine."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from sympy import Add
from sympy.matrices.expressions import HadamardProduct

from symbackprop.checks.matrix_form import check_matrix_form, require_equal
from symbackprop.derivation import derive
from symbackprop.derivation.matrix import derive_matrix
from symbackprop.errors import CheckFailure, InputError
from symbackprop.network import build_network
from symbackprop.network.activations import ACTIVATIONS, Activation
from symbackprop.spec import load_spec, spec_from_dict
from tests.test_networks import networks

EXAMPLES = ["mazur", "deep", "classifier"]


def _proved(derivation) -> list:
    checks = check_matrix_form(derivation)
    require_equal(checks)
    return checks


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_entry_of_the_examples_equals_the_scalar_derivation(name):
    derivation = derive(build_network(load_spec(name)))
    checks = _proved(derivation)
    covered = {check.scalar for check in checks}
    assert {delta.symbol for delta in derivation.deltas} <= covered
    assert {sensitivity.partial for sensitivity in derivation.sensitivities} <= covered
    assert {gradient.symbol for gradient in derivation.gradients} <= covered
    assert {update.symbol for update in derivation.updates} <= covered
    assert {n.net for n in derivation.network.neurons} | {n.out for n in derivation.network.neurons} <= covered
    assert derivation.network.total in covered


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_every_entry_of_random_networks_equals_the_scalar_derivation(data):
    _proved(derive(build_network(spec_from_dict(data))))


def test_the_form_is_per_layer_matrices():
    matrix = derive_matrix(load_spec("deep"))
    for below, above in zip(matrix.layers, matrix.layers[1:]):
        assert below.sensitivity.expression == above.weights.T * above.delta.symbol
        assert below.delta.expression == HadamardProduct(below.sensitivity.symbol, below.derivative)
    for layer in matrix.layers:
        assert layer.weight_gradient.expression == layer.delta.symbol * layer.source.T
        assert layer.weight_gradient.symbol.shape == layer.weights.shape
    assert [u.parameter for u in matrix.updates] == list(matrix.parameters)


def test_untrained_biases_get_gradients_but_no_update():
    matrix = derive_matrix(load_spec("mazur"))
    assert [layer.bias_gradient.symbol.shape for layer in matrix.layers] == [(1, 1), (1, 1)]
    assert [u.parameter for u in matrix.updates] == [layer.weights for layer in matrix.layers]


def test_a_transposition_slip_is_caught():
    """W_o delta_o where W_o^T delta_o belongs: w_6 and w_7 trade places, as in a hand slip."""
    derivation = derive(build_network(load_spec("mazur")))
    matrix = derive_matrix(derivation.network.spec)
    hidden, output = matrix.layers
    slipped = replace(hidden, sensitivity=replace(hidden.sensitivity, expression=output.weights * output.delta.symbol))
    checks = check_matrix_form(derivation, replace(matrix, layers=(slipped, output)))
    failed = {check.entry for check in checks if not check.equal}
    assert "delta_h[1, 1]" in failed and "dE_total/dW_h[2, 2]" in failed
    assert not any(entry.startswith(("delta_o", "dE_total/dW_o")) for entry in failed)
    with pytest.raises(CheckFailure, match=r"delta_h\[1, 1\]"):
        require_equal(checks)


def test_a_missing_activation_derivative_is_caught():
    derivation = derive(build_network(load_spec("mazur")))
    matrix = derive_matrix(derivation.network.spec)
    hidden, output = matrix.layers
    bare = replace(hidden, delta=replace(hidden.delta, expression=hidden.sensitivity.symbol))
    with pytest.raises(CheckFailure, match="delta_h"):
        require_equal(check_matrix_form(derivation, replace(matrix, layers=(bare, output))))


def test_a_coupled_activation_without_a_matrix_form_is_refused_naming_the_layer(monkeypatch):
    coupled = Activation("softmax", lambda nets, j: nets[j] * Add(*nets), coupled=True)
    monkeypatch.setitem(ACTIVATIONS, "softmax", coupled)
    with pytest.raises(InputError, match=r"layers\[1\] \(o\).*softmax"):
        derive_matrix(load_spec("classifier"))
