"""Softmax with cross-entropy: the Jacobian sum carried to (out - target)/N, and soft labels."""

from __future__ import annotations

import json
import random

import mpmath
import numpy
import pytest
from sympy import Rational, Symbol

import symbackprop as sbp
from symbackprop.checks.finite_differences import check_gradients, require
from symbackprop.checks.matrix_form import check_matrix_form, require_equal
from tests.oracle import require_oracle_gradients
from symbackprop.cli import main
from symbackprop.derivation import derive
from symbackprop.derivation.target_sum import distribution_constraints
from symbackprop.network import build_network
from symbackprop.numbers.evaluate import PRECISION, evaluate
from symbackprop.numbers.point import pass_values
from symbackprop.printers.math import latex_formula, unicode_formula
from symbackprop.printers.mathml import mathml_formula
from symbackprop.solution.build import SOFT_LABELS
from symbackprop.spec import example_text, spec_from_dict
from tests.matrix_run import matrix_gradients

TIGHT = mpmath.mpf(10) ** -(PRECISION - 5)
ROUNDED = ["0.333333", "0.333333", "0.333333"]
"""Rounded probabilities: they sum to 0.999999."""


def _soft(targets=ROUNDED, **changes) -> dict:
    spec = {"name": "soft", "inputs": ["0.3", "-0.4"], "targets": targets, "loss": "cross_entropy",
            "layers": [{"activation": "tanh", "weights": [["0.1", "0.2"], ["-0.3", "0.4"]], "bias": "0.1"},
                       {"activation": "softmax", "weights": [["0.5", "-0.6"], ["0.7", "0.2"], ["-0.1", "0.3"]],
                        "bias": ["0.1", "-0.2", "0.05"]}]}
    return spec | changes


def _derived(data: dict):
    return derive(build_network(spec_from_dict(data)))


def _output_deltas(derivation):
    return [d for d in derivation.deltas if d.coupled and d.targets]


def _scale(derivation) -> Rational:
    return derivation.network.loss_scale


@pytest.mark.parametrize("data", [json.loads(example_text("classifier")),
                                  json.loads(example_text("classifier")) | {"reduction": "sum"},
                                  _soft(["0", "1", "0"])])
def test_the_jacobian_sum_reduces_to_out_minus_target_over_n(data):
    """Derived, then compared with the textbook form as a formula and at the exact values."""
    derivation = _derived(data)
    values = pass_values(derivation)
    deltas = _output_deltas(derivation)
    assert deltas
    for delta in deltas:
        forms = delta.target_sum
        out, target = delta.neuron.out, delta.targets[delta.neuron.index]
        assert (forms.distribution - _scale(derivation) * (out - target)).expand() == 0
        assert forms.distribution.free_symbols == {out, target}
        with mpmath.workdps(PRECISION):
            simplified = evaluate(forms.distribution, values)
            general = evaluate(forms.general, values)
        assert abs(simplified - values[delta.symbol]) <= TIGHT
        assert abs(general - values[delta.symbol]) <= TIGHT


def test_the_general_form_holds_for_any_targets():
    """At random points (targets that do not sum to 1 among them) the general form is the Jacobian sum."""
    derivation = _derived(_soft())
    generator = random.Random(7)
    for delta in _output_deltas(derivation):
        symbols = delta.form.free_symbols | delta.target_sum.general.free_symbols
        for _ in range(5):
            point = {s: mpmath.mpf(generator.randint(1, 999)) / 1000 for s in symbols}
            with mpmath.workdps(PRECISION):
                assert abs(evaluate(delta.form, point) - evaluate(delta.target_sum.general, point)) <= TIGHT


def test_the_classifier_shows_the_textbook_delta_as_the_result_of_the_jacobian_sum():
    text = sbp.solve("classifier", checks=False).render("text", width=None)
    assert "target_o1⁽¹⁾ + target_o2⁽¹⁾ + target_o3⁽¹⁾ = 1 + 0 + 0 = 1" in text
    line = next(line for line in text.splitlines() if line.startswith("δ_o1⁽¹⁾ = "))
    parts = line.split(" = ")
    assert parts[1].startswith("∂E_share⁽¹⁾/∂out_o1⁽¹⁾ · ∂out_o1⁽¹⁾/∂net_o1⁽¹⁾ + ")
    assert parts[-4:] == ["(1/2) · (out_o1⁽¹⁾ · (target_o1⁽¹⁾ + target_o2⁽¹⁾ + target_o3⁽¹⁾) - target_o1⁽¹⁾)",
                          "(1/2) · (out_o1⁽¹⁾ - target_o1⁽¹⁾)", "(1/2) · (0.300022289 - 1)", "-0.349988856"]
    assert SOFT_LABELS not in text


@pytest.mark.parametrize("fmt", ["latex", "markdown", "html", "json"])
def test_every_format_shows_the_simplified_delta(fmt):
    derivation = _derived(json.loads(example_text("classifier")))
    simplified = _output_deltas(derivation)[0].target_sum.distribution
    latex = latex_formula(simplified)
    expected = {"latex": latex, "markdown": latex, "html": mathml_formula(simplified),
                "json": json.dumps(latex)}[fmt]
    assert expected in sbp.solve("classifier", checks=False).render(fmt)


def test_rounded_probabilities_are_accepted_with_the_general_derivative():
    text = sbp.solve(_soft(), checks=False).render("text", width=None)
    assert "target_o1 + target_o2 + target_o3 = 0.333333 + 0.333333 + 0.333333 = 0.999999" in text
    assert SOFT_LABELS in text
    delta = next(line for line in text.splitlines() if line.startswith("δ_o1 = "))
    assert delta.split(" = ")[-3] == "out_o1 · (target_o1 + target_o2 + target_o3) - target_o1"
    assert "(out_o1 - target_o1)" not in text


@pytest.mark.parametrize("targets", [ROUNDED, ["0.7", "0.7", "0"], ["0", "0", "0"], ["1", "1", "1"]])
def test_soft_labels_agree_with_finite_differences_and_the_oracle(targets):
    derivation = _derived(_soft(targets))
    require(check_gradients(derivation))
    require_oracle_gradients(derivation)


def test_soft_labels_in_a_batch_agree_with_the_matrix_form():
    data = _soft(None) | {"reduction": "mean", "samples": [
        {"inputs": ["0.3", "-0.4"], "targets": ROUNDED}, {"inputs": ["0.1", "0.5"], "targets": ["0.2", "0.2", "0.2"]}]}
    del data["inputs"], data["targets"]
    derivation = _derived(data)
    require_equal(check_matrix_form(derivation))
    values = pass_values(derivation)
    named = matrix_gradients(derivation.network).named(derivation.network)
    for gradient in derivation.gradients:
        assert numpy.isclose(named[gradient.parameter.name], float(values[gradient.symbol]), rtol=1e-12, atol=1e-15)
    text = sbp.matrix_solution(data, checks=True).render("text", width=None)
    assert "pass" in text and "FAIL" not in text


def test_no_target_sum_form_where_the_sum_does_not_reduce():
    """Softmax under squared error: the Jacobian sum keeps the other outputs, so nothing is claimed."""
    derivation = _derived(_soft(["0.2", "0.3", "0.5"], loss="half_squared_error"))
    assert all(delta.target_sum is None for delta in derivation.deltas)
    text = sbp.solve(_soft(["0.2", "0.3", "0.5"], loss="half_squared_error"), checks=False).render("text", width=None)
    assert "target_o1 + target_o2 + target_o3 =" not in text


def test_a_hidden_softmax_layer_has_no_target_sum_form():
    data = _soft(["0.5", "0.5"])
    data["layers"] = [{"activation": "softmax", "weights": [["0.1", "0.2"], ["-0.3", "0.4"]]},
                      {"activation": "softmax", "weights": [["0.5", "-0.6"], ["0.7", "0.2"]]}]
    derivation = _derived(data)
    hidden = [d for d in derivation.deltas if d.neuron.layer == 0]
    assert hidden and all(d.coupled and d.target_sum is None for d in hidden)
    assert all(d.target_sum is not None for d in derivation.deltas if d.neuron.layer == 1)
    assert unicode_formula(derivation.deltas[-1].target_sum.distribution) == "out_o2 - target_o2"


def test_check_reads_the_textbook_delta_as_right_only_for_a_distribution(tmp_path, capsys):
    assert main(["check", "classifier", "--quantity", "δ_o1⁽¹⁾", "--formula", "(out_o1⁽¹⁾ - target_o1⁽¹⁾)/2"]) == 0
    assert "right (symbolically)" in capsys.readouterr().out
    soft = tmp_path / "soft.json"
    soft.write_text(json.dumps(_soft()), encoding="utf-8")
    assert main(["check", str(soft), "--quantity", "δ_o1", "--formula", "out_o1 - target_o1"]) == 1
    assert main(["check", str(soft), "--quantity", "δ_o1",
                 "--formula", "out_o1 (target_o1 + target_o2 + target_o3) - target_o1"]) == 0


def test_only_cross_entropy_targets_that_sum_to_1_are_held_to_their_sum():
    """Mazur's targets 0.01 and 0.99 sum to 1 by chance: a squared error keeps them free."""
    assert distribution_constraints(build_network(spec_from_dict(json.loads(example_text("mazur"))))) == {}
    assert distribution_constraints(build_network(spec_from_dict(_soft()))) == {}
    classifier = build_network(spec_from_dict(json.loads(example_text("classifier"))))
    assert {str(t): str(rest) for t, rest in distribution_constraints(classifier).items()} == {
        "target_o3[1]": "-target_o1[1] - target_o2[1] + 1", "target_o3[2]": "-target_o1[2] - target_o2[2] + 1"}


def test_check_names_the_textbook_delta_used_with_soft_labels(tmp_path, capsys):
    """The likeliest mistake with soft labels: (out - target)/N, which needs targets that sum to 1."""
    soft = tmp_path / "soft.json"
    soft.write_text(json.dumps(_soft()), encoding="utf-8")
    expected = "δ_o1 = out_o1 - target_o1 used, which holds only for targets that sum to 1, and these do not"
    assert main(["check", str(soft), "--quantity", "δ_o1", "--formula", "out_o1 - target_o1"]) == 1
    assert f"1. {expected}: reproduces yours exactly" in " ".join(capsys.readouterr().out.split())
    derivation = _derived(_soft())
    values = pass_values(derivation)
    with mpmath.workdps(PRECISION):  # dE_total/dw5 = delta_o1 out_h1, with the textbook delta_o1
        wrong_w5 = evaluate(derivation.delta("o1").target_sum.distribution, values) * values[Symbol("out_h1")]
    assert main(["check", str(soft), "--wrt", "w5", "--value", mpmath.nstr(wrong_w5, 12)]) == 1
    assert expected in " ".join(capsys.readouterr().out.split())
