"""`check` and `grade` on layer specs take an entry's name as people type it (issue #14): W_11, W_1_1, W_{1,1},
W[1,1] for W_1,1; an unknown or ambiguous name is one short line."""

from __future__ import annotations

import subprocess
import sys

import mpmath
import pytest

import symbackprop as sbp
from symbackprop.errors import InputError
from symbackprop.formulas import read_formula
from symbackprop.names import Name, readings

def _digits(value: mpmath.mpf) -> str:
    """The engine's value to 12 significant digits, as a student might copy it."""
    return mpmath.nstr(value, 12, min_fixed=-30, max_fixed=30)


@pytest.mark.parametrize("written", ["W_1,1", "W_11", "W11", "W_1_1", "W_{1,1}", "W_{11}", "W_{1_1}", "W[1,1]",
                                     "W[1, 1]", "W₁,₁"])
def test_every_usual_way_of_writing_an_entry_names_it(written):
    problem = sbp.open_problem("rnn")
    exact = problem.gradients()["W_1,1"]
    assert problem.check(value=_digits(exact), wrt=written)
    assert not problem.check(value=_digits(exact + 0.01), wrt=written)


@pytest.mark.parametrize("written, key", [("W_1_2", "W_1,2"), ("W[1,2]", "W_1,2"), ("W_f[1,2]", "W_f,1,2"),
                                          ("W[2,1]<3>", "W_2,1<3>"), ("dE/dW_1_2", "dE/dW_1,2"),
                                          ("dE/dW[1,2]", "dE/dW_1,2"), ("h_1_2<3>", "h_1,2<3>")])
def test_the_reader_takes_underscores_and_brackets_as_index_separators(written, key):
    assert str(read_formula(written)) == key


def test_a_single_index_in_brackets_stays_a_sample_and_a_bracket_after_a_space_a_group():
    assert str(read_formula("out_o1[2]")) == "out_o1[2]"
    with pytest.raises(InputError):
        read_formula("x [1,2]")


@pytest.mark.parametrize("name, meant", [
    (Name("W", ("11",)), ["W_1,1"]),
    (Name("W", ("Q12",)), ["W_Q,1,2", "W_Q,12", "W_Q1,2"]),
    (Name("x", ("105",)), ["x_1,0,5", "x_10,5"]),
    (Name("W", ("1", "1")), []),
])
def test_readings_cut_run_together_indices(name, meant):
    assert [other.key for other in readings(name)] == meant


def test_a_bracket_is_an_index_only_where_nothing_has_samples():
    assert readings(Name("x", sample=2)) == []
    assert [other.key for other in readings(Name("x", sample=2), bracket_is_index=True)] == ["x_2"]
    conv = sbp.open_problem("conv1d")
    assert conv.check(value=_digits(conv.gradients()["x_2"]), wrt="x[2]")


def test_the_layer_names_of_recurrent_and_attention_layers_read_run_together():
    lstm, attention = sbp.open_problem("lstm"), sbp.open_problem("attention")
    assert lstm.check(value=_digits(lstm.gradients()["W_f,1,1"]), wrt="W_f11")
    assert attention.check(value=_digits(attention.gradients()["W_Q,1,2"]), wrt="W_Q[1,2]")


def test_an_unknown_name_is_one_short_line_with_the_closest_names():
    with pytest.raises(InputError) as raised:
        sbp.check("rnn", value="0.1", wrt="W_3,1")
    message = str(raised.value)
    assert message == "wrt: the graph has no gradient for 'W_3,1' (closest: W_2,1, W_1,1, W_2,2; 40 gradients in all)"
    with pytest.raises(InputError, match=r"^wrt: the graph has no gradient for 'Wq' \(closest: W_1,1, W_1,2, W_2,1; "):
        sbp.check("rnn", value="0.1", wrt="Wq")


def test_an_ambiguous_name_says_what_it_may_be():
    eleven = [str(k) for k in range(1, 12)]
    spec = {"inputs": eleven, "layers": [{"kind": "dense", "weights": [eleven] * 11}], "targets": eleven,
            "loss": "half_squared_error"}
    with pytest.raises(InputError, match=r"unknown name 'W_111' \(it may be W_1,11 or W_11,1: write the indices apart"):
        sbp.check(spec, value="1", quantity="W_111")


def test_the_command_takes_a_typed_name_and_refuses_an_unknown_one_in_one_line():
    def run(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "symbackprop.cli", "check", "rnn", *arguments],
                              capture_output=True, text=True, encoding="utf-8", timeout=300)

    right = run("--value", "0.16", "--wrt", "W_1_1")
    assert right.returncode == 0 and "∂E/∂W₁,₁ = 0.16: right" in right.stdout
    unknown = run("--value", "0.16", "--wrt", "W_9_9")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and len(unknown.stderr) < 120


def test_an_unknown_quantity_in_a_large_graph_names_the_closest_not_a_list():
    with pytest.raises(InputError) as raised:
        sbp.check("rnn", value="0.1", quantity="W_3,1")
    first = str(raised.value).splitlines()[0]
    assert first.startswith("quantity: unknown name 'W_3,1' (did you mean W_2,1, W_1,1, W_2,2? the graph has ")
    assert "U_1,1" not in first and len(first) < 120
