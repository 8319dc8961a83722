"""Numbers at the edges (issue #17): saturated activations, huge weights and learning rates.

The exact path must stay exact (enough digits for e^-1000 next to 1), the double-precision paths
must use stable forms, and what doubles truly cannot hold is said in one line with exit code 1.
"""

from __future__ import annotations

import json

import mpmath
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbackprop.api import derivation, gradients, train
from symbackprop.cli import main
from symbackprop.numbers.point import pass_values, working_precision
from symbackprop.spec import example_text


def _mazur() -> dict:
    return json.loads(example_text("mazur"))


def _output_layer(activation: str, biases: list[str], loss: str = "half_squared_error",
                  targets: list[str] | None = None) -> dict:
    data = _mazur()
    data["layers"][1].update(activation=activation, weights=[["0", "0"], ["0", "0"]], bias=biases)
    data["loss"] = loss
    if targets is not None:
        data["targets"] = targets
    return data


SOFTMAX = _output_layer("softmax", ["1000", "0"], "cross_entropy", ["1", "0"])
SOFTPLUS = _output_layer("softplus", ["1000", "-1000"])
SIGMOID = _output_layer("sigmoid", ["1000", "-1000"])
BINARY = _output_layer("sigmoid", ["1000", "-1000"], "binary_cross_entropy", ["1", "0"])


def _cli(tmp_path, capsys, data: dict, *command: str) -> tuple[int, str, str]:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data))
    code = main([*command, str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_exact_loss_of_a_saturated_softmax_is_not_rounded_to_zero():
    derived = derivation(SOFTMAX).derivation
    total = pass_values(derived)[derived.network.total]
    with mpmath.workdps(600):
        true = mpmath.log1p(mpmath.exp(-1000))
        assert abs(total - true) / true < mpmath.mpf(10) ** -40
    assert working_precision(derived.network) > 434


def test_a_right_and_saturated_binary_cross_entropy_has_exact_gradients():
    found = gradients(BINARY)
    with mpmath.workdps(600):
        # dE/db_2 = sum of (out - target) over the outputs: (sigma(1000) - 1) + sigma(-1000) = 0 exactly,
        # and each term is -e^-1000 + e^-1000: a cancellation the exact path must resolve, not divide by zero.
        assert abs(found["b2"]) < mpmath.mpf(10) ** -400


@pytest.mark.parametrize("data", [SOFTMAX, SOFTPLUS, SIGMOID, BINARY], ids=["softmax", "softplus", "sigmoid", "bce"])
def test_saturated_networks_have_their_gradients_checked(tmp_path, capsys, data):
    code, out, err = _cli(tmp_path, capsys, data, "gradients", "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    assert all(check["status"] == "pass" for check in report["checks"])


@pytest.mark.parametrize("backend", ["math", "numpy"])
@pytest.mark.parametrize("data", [SOFTPLUS, SIGMOID], ids=["softplus", "sigmoid"])
def test_double_precision_training_of_saturated_networks_matches_the_exact_path(data, backend):
    _same_training(data, backend)


@pytest.mark.parametrize("backend", ["math", "numpy"])
@pytest.mark.parametrize("data", [SOFTMAX, BINARY], ids=["softmax", "bce"])
def test_compiled_double_precision_takes_no_log_of_zero_and_divides_no_zero_by_zero(data, backend):
    _same_training(data, backend)


def _same_training(data: dict, backend: str) -> None:
    fast = train(data, 3, backend=backend)
    exact = train(data, 3, backend="mpmath")
    assert fast.error == pytest.approx(float(exact.error), rel=1e-12, abs=1e-300)
    for name, value in exact.parameters.items():
        assert fast.parameters[name] == pytest.approx(float(value), rel=1e-12)


@pytest.mark.parametrize("data", [SOFTMAX, SOFTPLUS, BINARY], ids=["softmax", "softplus", "bce"])
@pytest.mark.parametrize("backend", ["--fast", "--numpy"])
def test_double_precision_never_prints_nan(tmp_path, capsys, data, backend):
    code, out, err = _cli(tmp_path, capsys, data, "train", "--steps", "2", backend)
    assert (code, err) == (0, "") and "nan" not in out and "inf" not in out


def test_what_doubles_cannot_hold_is_said_in_one_line(tmp_path, capsys):
    """A target of 1 on an output that rounds to 0 in doubles: E_total is 1000 exactly, ln(0) in doubles."""
    data = _output_layer("softmax", ["0", "1000"], "cross_entropy", ["1", "0"])
    code, out, err = _cli(tmp_path, capsys, data, "train", "--steps", "2", "--numpy")
    assert code == 1 and out == "" and err.count("\n") == 1 and "not a finite number in double precision" in err


def test_a_huge_learning_rate_trains_or_says_it_overflows(tmp_path, capsys):
    data = _mazur()
    data["learning_rate"] = "1e90"
    code, out, err = _cli(tmp_path, capsys, data, "train", "--steps", "3", "--fast")
    assert (code, err) == (0, "") or (code == 1 and err.count("\n") == 1)


def test_weights_near_1e100_pass_their_own_high_precision_check(tmp_path, capsys):
    data = _mazur()
    for layer in data["layers"]:
        layer["activation"] = "identity"
    data["layers"][0]["weights"] = [["1e100", "2e99"], ["3e99", "1e100"]]
    code, out, err = _cli(tmp_path, capsys, data, "gradients", "--json")
    assert code == 0 and err == ""
    assert all(float(check["agreeing_digits"]) >= 20 for check in json.loads(out)["checks"])


_MAGNITUDES = st.one_of(st.integers(-3000, 3000), st.integers(-40, 40)).map(str)


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(activation=st.sampled_from(["sigmoid", "softplus", "softmax", "tanh", "identity"]),
       first=_MAGNITUDES, second=_MAGNITUDES, weight=st.sampled_from(["1", "-1", "1e3", "-1e3", "0.5"]))
def test_random_extreme_magnitudes_never_crash_or_print_nan(tmp_path, capsys, activation, first, second, weight):
    data = _output_layer(activation, [first, second])
    data["layers"][1]["weights"] = [[weight, "0"], ["0", weight]]
    if activation == "softmax":
        data.update(loss="cross_entropy", targets=["1", "0"])
    for command in (["gradients"], ["train", "--steps", "2", "--fast"]):
        code, out, err = _cli(tmp_path, capsys, data, *command)
        assert code in (0, 1) and "nan" not in out
        if code == 1:
            assert err.count("\n") == 1 and "Traceback" not in err


def test_the_numpy_softmax_is_shifted_before_it_is_exponentiated():
    data = _output_layer("softmax", ["1000", "999"])
    fast = train(data, 2, backend="numpy")
    exact = train(data, 2, backend="mpmath")
    assert fast.outputs == pytest.approx([float(v) for v in exact.outputs], rel=1e-12)


def test_large_weights_pass_the_double_check_by_its_estimated_truncation_error(tmp_path, capsys):
    """Weights of 1e3 make E_total curve fast: the double difference's truncation error (3e-8) exceeded
    the fixed tolerance (1.3e-8) and a right gradient was reported as failed."""
    data = _output_layer("softmax", ["0", "0"], "cross_entropy", ["1", "0"])
    data["layers"][1]["weights"] = [["1e3", "0"], ["0", "1e3"]]
    code, out, err = _cli(tmp_path, capsys, data, "gradients", "--json")
    assert code == 0 and err == ""
    assert all(check["status"] == "pass" for check in json.loads(out)["checks"])
