"""The reverse-mode derivation: document forms, the sympy.diff oracle, and linear cost."""

from __future__ import annotations

import random

import mpmath
import pytest

from symbackprop.checks.finite_differences import check_gradients, require
from tests.oracle import require_oracle_gradients
from symbackprop.derivation import derive
from symbackprop.network import build_network
from symbackprop.numbers.evaluate import PRECISION, evaluate_definitions, to_mpf
from symbackprop.printers.math import text_formula
from symbackprop.spec import spec_from_dict


def _points(derivation, count=3):
    """The spec's point and random points, each with every forward and backward value."""
    network = derivation.network
    with mpmath.workdps(PRECISION):
        start = {s: to_mpf(v) for s, v in network.point().items()}
        points = [start]
        generator = random.Random(7)
        for _ in range(count):
            points.append({s: mpmath.mpf(generator.randint(-900, 900)) / 1000 for s in start})
        full = []
        for point in points:
            known = evaluate_definitions(network.forward_definitions(), point)
            full.append(evaluate_definitions([(d.symbol, d.expression) for d in derivation.definitions], known))
        return full


def test_every_gradient_equals_sympy_diff_of_the_composed_loss(mazur):
    require_oracle_gradients(mazur, _points(mazur))


def test_document_forms(mazur):
    w5, w1 = mazur.gradient("w5"), mazur.gradient("w1")
    assert [text_formula(f) for f in w5.chain] == ["dE_total/dout_o1", "dout_o1/dnet_o1", "dnet_o1/dw_5"]
    assert text_formula(w5.delta_rule) == "-(target_o1 - out_o1) * out_o1 * (1 - out_o1) * out_h1"
    assert text_formula(w5.terms[0][1].form) == "out_h1"
    assert [text_formula(f) for f in w1.chain] == ["dE_total/dout_h1", "dout_h1/dnet_h1", "dnet_h1/dw_1"]
    hidden = w1.terms[0][0].sensitivity
    assert [text_formula(p.label) for p in hidden.paths] == ["dE_o1/dout_h1", "dE_o2/dout_h1"]
    assert text_formula(w1.delta_rule) == "(delta_o1 * w_5 + delta_o2 * w_7) * out_h1 * (1 - out_h1) * i_1"
    update = mazur.updates[4]
    assert text_formula(update.symbol) == "w_5^+"
    assert text_formula(update.expression) == "w_5 - eta * dE_total/dw_5"


def test_shared_bias_sums_over_the_neurons_it_enters(mazur):
    b2 = mazur.gradient("b2")
    assert [delta.neuron.label for delta, _ in b2.terms] == ["o1", "o2"]
    assert text_formula(b2.delta_rule) == "delta_o1 + delta_o2"


def test_biases_are_not_updated_unless_the_spec_says_so(mazur):
    assert [u.parameter.name for u in mazur.updates] == [f"w{k}" for k in range(1, 9)]


def _square_spec(width: int, depth: int) -> dict:
    layers = []
    for k in range(depth):
        weights = [[str(round(0.1 + 0.01 * (i + j), 2)) for j in range(width)] for i in range(width)]
        layers.append({"name": f"l{k}" if k < depth - 1 else "o", "activation": "sigmoid",
                       "weights": weights, "bias": "0.1"})
    return {"inputs": ["0.5"] * width, "targets": ["0.5"] * width, "layers": layers, "loss": "half_squared_error"}


@pytest.mark.parametrize("width", [2, 4, 8])
def test_derivation_work_grows_linearly_with_connections(width):
    derivation = derive(build_network(spec_from_dict(_square_spec(width, 3))))
    connections = 3 * width * width
    parameters = connections + 3
    # Per connection: dnet/dw, and dnet_k/dout_j for the layer below; per neuron: dout/dnet and the loss terms.
    assert len(derivation.local_derivatives) <= 2 * connections + 6 * width + parameters
    assert len(derivation.definitions) <= 4 * connections + 12 * width + 2 * parameters


def test_activation_derivatives_are_rewritten_in_outputs_as_a_person_writes_them():
    """Derived by inverting out = f(net): the identities the document and textbooks use, and None without one."""
    from sympy import exp, symbols

    from symbackprop.derivation.identities import coupled_derivative_in_outputs, derivative_in_output
    from symbackprop.network.activations import ACTIVATIONS

    net, out = symbols("net out")
    assert derivative_in_output(ACTIVATIONS["sigmoid"], net, out) == out * (1 - out)
    assert derivative_in_output(ACTIVATIONS["tanh"], net, out) == 1 - out**2
    assert derivative_in_output(ACTIVATIONS["softplus"], net, out) == 1 - exp(-out)
    assert derivative_in_output(ACTIVATIONS["relu"], net, out) is None
    assert derivative_in_output(ACTIVATIONS["identity"], net, out) is None
    nets, outs = symbols("n1:4"), symbols("o1:4")
    softmax_first = ACTIVATIONS["softmax"].output(nets, 0)
    assert coupled_derivative_in_outputs(softmax_first, nets, outs, nets[0]) == outs[0] * (1 - outs[0])
    assert coupled_derivative_in_outputs(softmax_first, nets, outs, nets[2]) == -outs[0] * outs[2]


def test_an_activation_identity_is_proved_and_a_wrong_one_rejected():
    """The cheap exact tests accept out(1 - out) for the logistic; a wrong form, or a form reached through
    a wrong inverse, falls through to `cancel`, which rejects it."""
    from sympy import Dummy, log

    from symbackprop.derivation.identities import _proved
    from symbackprop.derivation.rules import differentiate
    from symbackprop.network.activations import ACTIVATIONS

    x, y = Dummy("net"), Dummy("out")
    f = ACTIVATIONS["sigmoid"].output([x], 0)
    derivative = differentiate(f, x).result
    right_inverse, wrong_inverse = -log(1 / y - 1), -2 * log(1 / y - 1)
    assert _proved(y * (1 - y), derivative, f, x, y, right_inverse)
    assert _proved(y * (1 - y), derivative, f, x, y, None)
    assert not _proved(y * (1 + y), derivative, f, x, y, None)
    assert not _proved(derivative.xreplace({x: wrong_inverse}), derivative, f, x, y, wrong_inverse)


def test_a_wide_softmax_layer_derives_its_jacobian_twice_and_renames_it():
    """dout_k/dnet_j of a 12-neuron softmax: two derivations (k = j, k != j) renamed 144 times, each entry the
    form the direct derivation gives; deriving all 144 anew took a minute at 20 neurons."""
    from symbackprop.derivation import identities

    width = 12
    spec = {"inputs": ["0.5", "-0.25"], "targets": ["1"] + ["0"] * (width - 1), "loss": "cross_entropy",
            "layers": [{"activation": "softmax", "weights": [[str(k / 20), str(-k / 40)] for k in range(width)],
                        "bias": "0.1"}]}
    identities._coupled_form.cache_clear()
    derivation = derive(build_network(spec_from_dict(spec)))
    assert identities._coupled_form.cache_info().misses == 2
    neurons = derivation.network.layers[0].neurons
    nets, outs = [n.net for n in neurons], [n.out for n in neurons]
    jacobian = [d for d in derivation.local_derivatives if d.symbol.of in outs and d.symbol.wrt in nets]
    assert len(jacobian) == width * width
    for d in jacobian[::7]:
        k = outs.index(d.symbol.of)
        direct = identities.coupled_derivative_in_outputs(neurons[k].out_expression, nets, outs, d.symbol.wrt)
        assert d.form == direct, d.symbol
    require(check_gradients(derivation))


def test_each_definition_is_placed_in_its_layer_by_an_explicit_argument(mazur):
    """The backward pass passes the layer it is at to each step, instead of keeping it in an attribute."""
    from symbackprop.derivation.backprop import _Layout
    assert not hasattr(_Layout(mazur.network, {}), "layer")
    layers = {definition.symbol: definition.layer for definition in mazur.definitions}
    assert [layers[g.symbol] for g in mazur.gradients] == [0, 0, 0, 0, 1, 1, 1, 1, 0, 1]
    assert {layers[d.symbol] for d in mazur.deltas} == {0, 1}
