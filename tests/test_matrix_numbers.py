"""The matrix form in float64 with numpy, against the exact path and the compiled scalar step."""

from __future__ import annotations

import random
import sys

import numpy
import pytest
from hypothesis import HealthCheck, assume, given, settings

from symbackprop.derivation import derive
from symbackprop.derivation.matrix import derive_matrix
from symbackprop.network import build_network
from symbackprop.numbers.kinks import kinks
from symbackprop.numbers.matrix import compile_matrix, named_values, point_arrays
from symbackprop.numbers.point import pass_values
from symbackprop.numbers.training import compile_network, compile_training, train
from symbackprop.spec import load_spec, spec_from_dict
from tests.matrix_run import matrix_gradients
from tests.test_networks import networks

RELATIVE = 1e-12


def _close(got: float, exact, scale: float) -> bool:
    return abs(got - float(exact)) <= RELATIVE * max(scale, abs(float(exact)))


def _agrees_with_the_exact_path(derivation) -> None:
    values = pass_values(derivation)
    network = derivation.network
    result = matrix_gradients(network)
    scale = max([1.0] + [abs(float(values[g.symbol])) for g in derivation.gradients])
    assert _close(result.loss, values[network.total], 1.0)
    for (j, s), value in numpy.ndenumerate(result.outputs):
        assert _close(value, values[network.passes[s].outputs[j]], 1.0)
    named = result.named(network)
    assert set(named) == {p.name for p in network.parameters}
    for gradient in derivation.gradients:
        assert _close(named[gradient.parameter.name], values[gradient.symbol], scale), gradient.parameter.name
    updated = result.named_updates(network)
    for update in derivation.updates:
        assert _close(updated[update.parameter.name], values[update.symbol], scale), update.parameter.name
    trained = {update.parameter.name for update in derivation.updates}
    assert all(updated[p.name] == float(p.value) for p in network.parameters if p.name not in trained)


@pytest.mark.parametrize("name", ["mazur", "deep", "classifier"])
def test_the_examples_agree_with_the_exact_path(name):
    _agrees_with_the_exact_path(derive(build_network(load_spec(name))))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_random_networks_agree_with_the_exact_path(data):
    derivation = derive(build_network(spec_from_dict(data)))
    # A relu exactly at 0 (tests/test_networks.py's ON_THE_KINK; or 0.01 · -0.46 + 0.01 · 0.46, 0 in plain doubles
    # but 3.7e-19 in a BLAS dot) has no derivative: the matrix path takes the side its rounding lands on.
    assume(not kinks(derivation.network, pass_values(derivation)))
    _agrees_with_the_exact_path(derivation)


def _dense(widths: list[int], activations: list[str], samples: int, seed: int = 3) -> dict:
    rng = random.Random(seed)

    def number() -> str:
        return f"{rng.uniform(-0.8, 0.8):.3f}"

    layers = [{"activation": activation, "weights": [[number() for _ in range(fan_in)] for _ in range(size)],
               "bias": [number() for _ in range(size)]}
              for fan_in, size, activation in zip(widths, widths[1:], activations)]
    samples = [{"inputs": [number() for _ in range(widths[0])], "targets": [number() for _ in range(widths[-1])]}
               for _ in range(samples)]
    return {"samples": samples,
            "reduction": "mean", "layers": layers, "loss": "half_squared_error", "learning_rate": "0.3",
            "update_biases": True}


def test_a_larger_network_agrees_with_the_compiled_scalar_step_over_two_steps():
    derivation = derive(build_network(spec_from_dict(_dense([7, 9, 8, 6], ["tanh", "softplus", "sigmoid"], 3))))
    network = derivation.network
    step = compile_network(derivation, backend="math").step
    values = tuple(float(p.value) for p in network.parameters)
    program = compile_matrix(derive_matrix(network.spec))
    parameters = None
    for _ in range(2):
        error, _outputs, following = step(*values)
        result = matrix_gradients(network, program, parameters)
        assert _close(result.loss, error, 1.0)
        eta = float(network.spec.learning_rate)
        expected = {p.name: (old - new) / eta for p, old, new in zip(network.parameters, values, following)}
        named = result.named(network)
        scale = max(abs(g) for g in expected.values())
        assert all(abs(named[name] - g) <= RELATIVE * scale for name, g in expected.items())
        values, parameters = following, result.updated


def test_parameters_come_in_the_order_of_the_matrix_form():
    network = build_network(load_spec("deep"))
    matrix = derive_matrix(network.spec)
    parameters, inputs, targets, eta = point_arrays(matrix, network)
    assert [p.shape for p in parameters] == [symbol.shape for symbol in matrix.parameters]
    assert inputs.shape == matrix.inputs.shape and targets.shape == matrix.targets.shape and eta == 0.5


def test_the_generated_source_is_deterministic():
    assert compile_matrix(derive_matrix(load_spec("classifier"))).source == \
        compile_matrix(derive_matrix(load_spec("classifier"))).source


def test_without_numpy_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ImportError, match=r"symbackprop\[numpy\]"):
        compile_matrix(derive_matrix(load_spec("mazur")))


@pytest.mark.parametrize("name", ["mazur", "deep", "classifier"])
def test_numpy_training_follows_the_math_backend_step_by_step(name):
    """50 steps, each from the math backend's parameters, so a diverging run cannot amplify rounding."""
    derivation = derive(build_network(load_spec(name)))
    network = derivation.network
    step = compile_network(derivation, backend="math").step
    program = compile_matrix(derive_matrix(network.spec))
    values = tuple(float(p.value) for p in network.parameters)
    for _ in range(50):
        error, outputs, after = step(*values)
        point = {**network.point(), **{p.symbol: v for p, v in zip(network.parameters, values)}}
        parameters, inputs, targets, eta = point_arrays(program.derivation, network, point)
        got_error, got_outputs, _gradients, updated = program.function(*parameters, inputs, targets, eta)
        assert _close(float(got_error[0, 0]), error, 1.0)
        assert all(_close(got, expected, 1.0) for got, expected in zip(got_outputs.T.flat, outputs, strict=True))
        got = named_values(program.derivation, updated, network)
        for parameter, value in zip(network.parameters, after):
            assert _close(got[parameter.name], value, 1.0), parameter.name
        values = after


def test_numpy_training_records_what_the_other_backends_record():
    derivation = derive(build_network(load_spec("classifier")))
    numpy_run = train(derivation, 23, backend="numpy", every=5, compiled=_matrix_loop(derivation))
    math_run = train(derivation, 23, backend="math", every=5)
    assert list(numpy_run.history) == list(math_run.history) == [0, 5, 10, 15, 20, 23]
    assert list(numpy_run.parameters) == list(math_run.parameters)
    assert all(type(v) is float for v in numpy_run.parameters.values())
    first, outputs = numpy_run.history[0]
    assert _close(first, math_run.history[0][0], 1.0)
    assert len(outputs) == len(derivation.network.outputs)
    assert all(_close(got, expected, 1.0) for got, expected in zip(outputs, math_run.history[0][1], strict=True))


def test_numpy_training_reports_progress_and_keeps_untrained_biases():
    derivation = derive(build_network(load_spec("mazur")))
    seen = []
    result = train(derivation, 400, backend="numpy", progress=seen.append, every=100,
                   compiled=_matrix_loop(derivation))
    assert seen[-1] == 400 and seen == sorted(seen)
    assert result.parameters["b1"] == 0.35 and result.parameters["w1"] != 0.15


def _matrix_loop(derivation):
    return compile_training(derivation, backend="numpy", matrix=derive_matrix(derivation.network.spec))


def test_numpy_training_refuses_the_output_first_order():
    with pytest.raises(ValueError, match="simultaneous"):
        train(derive(build_network(load_spec("mazur"))), 1, "output-first", backend="numpy")


def test_numpy_training_compiles_the_matrix_form_it_is_given():
    """The numbers stage never derives the matrix form itself: the caller's is the one compiled."""
    derivation = derive(build_network(load_spec("mazur")))
    with pytest.raises(ValueError, match="MatrixDerivation"):
        compile_training(derivation, backend="numpy")
    matrix = derive_matrix(derivation.network.spec)
    assert compile_training(derivation, backend="numpy", matrix=matrix).derivation is matrix


def test_the_learning_rate_comes_from_the_network_point_like_every_other_number():
    network = build_network(load_spec("mazur"))
    matrix = derive_matrix(network.spec)
    point = {**network.point(), network.learning_rate: 0.25}
    assert point_arrays(matrix, network, point)[3] == 0.25
    assert point_arrays(matrix, network)[3] == 0.5
