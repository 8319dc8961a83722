"""Any feed-forward network: every activation, loss, bias kind and batch form, against finite differences."""

from __future__ import annotations

from dataclasses import replace

import mpmath
import pytest
from hypothesis import HealthCheck, assume, example, given, settings, strategies as st

from symbackprop.checks.finite_differences import check_gradients, require
from tests.oracle import require_oracle_gradients
from symbackprop.derivation import derive
from symbackprop.errors import CheckFailure
from symbackprop.network import build_network
from symbackprop.numbers.evaluate import PRECISION, to_mpf
from symbackprop.numbers.kinks import kinks
from symbackprop.numbers.point import pass_values
from symbackprop.numbers.training import compile_network, train
from symbackprop.printers.math import text_formula
from symbackprop.spec import spec_from_dict

ELEMENTWISE = ["sigmoid", "tanh", "relu", "identity", "softplus"]
SQUARED = ["half_squared_error", "squared_error", "mean_squared_error"]

_value = st.integers(-90, 90).map(lambda n: str(n / 100))
_probability = st.integers(5, 95).map(lambda n: str(n / 100))


@st.composite
def networks(draw):
    """A random small network and samples, with a loss that suits its output layer."""
    widths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    inputs = draw(st.integers(1, 3))
    output_kind = draw(st.sampled_from(["squared", "binary", "softmax"]))
    if output_kind == "softmax":
        widths[-1] = max(widths[-1], 2)
    layers, fan_in = [], inputs
    for index, width in enumerate(widths):
        last = index == len(widths) - 1
        activation = {"squared": draw(st.sampled_from(ELEMENTWISE)), "binary": "sigmoid",
                      "softmax": "softmax"}[output_kind] if last else draw(st.sampled_from(ELEMENTWISE))
        layer = {"activation": activation,
                 "weights": [[draw(_value) for _ in range(fan_in)] for _ in range(width)]}
        bias_kind = draw(st.sampled_from(["shared", "per-neuron", "none"]))
        if bias_kind == "shared":
            layer["bias"] = draw(_value)
        elif bias_kind == "per-neuron":
            layer["bias"] = [draw(_value) for _ in range(width)]
        layers.append(layer)
        fan_in = width
    outputs = widths[-1]
    soft = output_kind == "softmax" and draw(st.booleans())
    """Soft labels: targets between 0 and 1 that need not sum to 1, as PyTorch accepts them."""

    def targets():
        if soft:
            return [draw(_probability) for _ in range(outputs)]
        if output_kind == "softmax":
            weights = [draw(st.integers(0, 4)) for _ in range(outputs)]
            weights[0] += 1
            return [str(w / sum(weights)) if k < outputs - 1 else None for k, w in enumerate(weights)]
        if output_kind == "binary":
            return [draw(_probability) for _ in range(outputs)]
        return [draw(_value) for _ in range(outputs)]

    def sample():
        chosen = targets()
        if output_kind == "softmax" and not soft:  # make the last target close the distribution exactly
            from fractions import Fraction
            rest = sum(Fraction(t) for t in chosen[:-1])
            chosen[-1] = str(float(1 - rest)) if (1 - rest).denominator in (1, 2, 4, 5, 8, 10) else None
            if chosen[-1] is None:
                chosen = ["1"] + ["0"] * (outputs - 1)
        return {"inputs": [draw(_value) for _ in range(inputs)], "targets": chosen}

    loss = {"squared": draw(st.sampled_from(SQUARED)), "binary": "binary_cross_entropy",
            "softmax": "cross_entropy"}[output_kind]
    spec = {"layers": layers, "loss": loss, "update_biases": draw(st.booleans()),
            "learning_rate": draw(_probability)}
    count = draw(st.integers(1, 3))
    if count == 1 and draw(st.booleans()):
        spec.update(sample())
    else:
        spec["samples"] = [sample() for _ in range(count)]
        spec["reduction"] = draw(st.sampled_from(["sum", "mean"]))
    return spec


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_every_gradient_agrees_with_finite_differences(data):
    derivation = derive(build_network(spec_from_dict(data)))
    checks = check_gradients(derivation)
    assert len(checks) == len(derivation.network.parameters)
    for check in checks:
        if check.kink is None:
            assert check.passed, check
    require(checks)


DIVERGING = {  # found by hypothesis: w1 reaches -3608 in 5 steps, and 5 chained steps differ by 1.2e-12
    "layers": [{"activation": "tanh", "weights": [["0.0"] * 3] * 3, "bias": "-0.77"},
               {"activation": "identity", "weights": [["0.0", "0.0", "-0.51"]], "bias": "0.0"}],
    "loss": "squared_error", "update_biases": False, "learning_rate": "0.92", "reduction": "sum",
    "samples": [{"inputs": ["0.46", "0.0", "0.0"], "targets": ["0.0"]},
                {"inputs": ["-0.51", "0.0", "0.0"], "targets": ["0.43"]},
                {"inputs": ["0.0", "0.0", "0.0"], "targets": ["0.0"]}],
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
@example(DIVERGING)
def test_compiled_double_path_follows_the_exact_path(data):
    """Each double step from the exact path's parameters lands where the exact step does, to 1e-12.

    Step by step, so that a run that diverges (some random networks do) does not amplify the
    rounding of one step into the next: that would measure the network's conditioning, not the code.
    """
    derivation = derive(build_network(spec_from_dict(data)))
    # A relu exactly at 0 has no derivative: the exact step takes the engine's 0, the double step the side its
    # rounding lands on (-0.01 · 0.21 + 0.03 · 0.07 is 4.3e-19 in doubles), so no tolerance can hold there.
    assume(not kinks(derivation.network, pass_values(derivation)))
    exact, double = (compile_network(derivation, backend=backend) for backend in ("mpmath", "math"))
    with mpmath.workdps(PRECISION):
        values = [to_mpf(p.value) for p in derivation.network.parameters]
        for _ in range(5):
            _error, _outputs, after = exact.step(*values)
            _error, _outputs, after_double = double.step(*(float(v) for v in values))
            for parameter, value, got in zip(derivation.network.parameters, after, after_double):
                assert abs(got - float(value)) <= 1e-12 * max(1.0, abs(float(value))), parameter.name
            values = after
    values = pass_values(derivation)
    for update in derivation.updates:
        one_step = train(derivation, 1, "simultaneous", "mpmath").parameters[update.parameter.name]
        assert abs(one_step - values[update.symbol]) <= mpmath.mpf(10) ** -40 * max(1, abs(values[update.symbol]))


ON_THE_KINK = {"layers": [{"activation": "relu", "weights": [["-0.01", "0.03"]]}, {"activation": "identity", "weights": [["0.5"]]}],
               "loss": "half_squared_error", "update_biases": False, "learning_rate": "0.5",
               "inputs": ["0.21", "0.07"], "targets": ["0.2"]}
"""A draw networks() can make: the relu's net input is exactly 0, 4.3e-19 in doubles (w1's double step differed)."""


def test_a_relu_on_its_kink_in_exact_numbers_is_reported_and_left_to_the_exact_path():
    derivation = derive(build_network(spec_from_dict(ON_THE_KINK)))
    assert len(kinks(derivation.network, pass_values(derivation))) == 1


def _spec(activation, loss, **extra):
    outputs = 3 if activation == "softmax" else 2
    targets = ["0.2", "0.3", "0.5"] if activation == "softmax" else ["0.2", "0.7"]
    spec = {"inputs": ["0.3", "-0.4"], "targets": targets[:outputs], "loss": loss,
            "layers": [{"activation": "tanh", "weights": [["0.1", "0.2"], ["-0.3", "0.4"]], "bias": "0.1"},
                       {"activation": activation, "weights": [["0.5", "-0.6"], ["0.7", "0.2"], ["-0.1", "0.3"]][:outputs],
                        "bias": ["0.1", "-0.2", "0.05"][:outputs]}]}
    spec.update(extra)
    return spec


@pytest.mark.parametrize(("activation", "loss"), [(a, "half_squared_error") for a in ELEMENTWISE]
                         + [("sigmoid", "binary_cross_entropy"), ("softmax", "cross_entropy"),
                            ("identity", "mean_squared_error"), ("identity", "squared_error")])
def test_every_activation_and_loss_matches_the_sympy_diff_oracle(activation, loss):
    require_oracle_gradients(derive(build_network(spec_from_dict(_spec(activation, loss)))))


def test_derivative_forms_in_outputs():
    forms = {}
    for activation in ("tanh", "softplus", "softmax"):
        derivation = derive(build_network(spec_from_dict(_spec(activation, "half_squared_error"))))
        forms[activation] = [text_formula(d.form) for d in derivation.local_derivatives
                             if d.symbol.name.startswith("dout_o")]
    assert "1 - out_o1^2" in forms["tanh"]
    assert "out_o1 * (1 - out_o1)" in forms["softmax"] and "-out_o1 * out_o2" in forms["softmax"]
    assert len([f for f in forms["softmax"]]) == 9  # the full 3 x 3 Jacobian


def test_batch_gradient_is_the_sum_or_mean_of_the_samples():
    samples = [{"inputs": ["0.3", "-0.4"], "targets": ["0.2", "0.7"]},
               {"inputs": ["0.1", "0.5"], "targets": ["0.6", "0.1"]}]
    single = [derive(build_network(spec_from_dict(_spec("sigmoid", "half_squared_error", **s)))) for s in samples]
    base = {k: v for k, v in _spec("sigmoid", "half_squared_error").items() if k not in ("inputs", "targets")}
    for reduction, scale in (("sum", 1), ("mean", mpmath.mpf(1) / 2)):
        batch = derive(build_network(spec_from_dict({**base, "samples": samples, "reduction": reduction})))
        batch_values = pass_values(batch)
        single_values = [pass_values(d) for d in single]
        for parameter in batch.network.parameters:
            expected = scale * sum(v[d.gradient(parameter.name).symbol] for v, d in zip(single_values, single))
            assert abs(batch_values[batch.gradient(parameter.name).symbol] - expected) < mpmath.mpf(10) ** -40


def test_relu_at_its_kink_is_reported_not_silently_chosen():
    spec = _spec("relu", "half_squared_error")
    spec["layers"][1]["weights"][0] = ["0", "0"]
    spec["layers"][1]["bias"] = ["0", "0.1"]
    derivation = derive(build_network(spec_from_dict(spec)))
    values = pass_values(derivation)
    (kink,) = kinks(derivation.network, values)
    assert kink.neuron.label == "o1" and "left derivative" in kink.note
    assert values[derivation.delta("o1").activation.symbol] == 0
    checks = {c.parameter: c for c in check_gradients(derivation)}
    assert checks["w5"].status == "kink" and checks["w1"].status == "kink"


def test_a_wrong_local_derivative_is_caught(monkeypatch):
    from symbackprop.derivation import backprop

    original = backprop.activation_derivative

    def wrong(neuron, source=None, layer=()):
        local = original(neuron, source, layer)
        return local if neuron.label != "h1" else replace(local, form=local.form * 2)

    monkeypatch.setattr(backprop, "activation_derivative", wrong)
    derivation = derive(build_network(spec_from_dict(_spec("tanh", "half_squared_error"))))
    checks = check_gradients(derivation)
    assert {c.parameter for c in checks if not c.passed} == {"w1", "w2", "b1"}
    with pytest.raises(CheckFailure):
        require(checks)
