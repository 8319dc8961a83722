"""check on computation graphs: formulas and numbers for any quantity, and the chain rule's mistakes found."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import symbackprop as sbp
from symbackprop.errors import InputError
from symbackprop.formulas.reader import FormulaError
from symbackprop.graph_problem import GraphProblem

SHARED = {"name": "shared", "values": {"x": 3, "w": 2}, "nodes": {"a": "w x", "b": "w + x", "f": "a b"}, "loss": "f"}
CHAIN = {"name": "chain", "values": {"x": "0.5", "z": -4}, "nodes": {"q": "3 x^2", "f": "tanh(q) z"}, "loss": "f"}


@pytest.mark.parametrize("arguments", [
    {"formula": "z", "wrt": "x"},
    {"formula": "\\frac{\\partial f}{\\partial q} \\cdot \\frac{\\partial q}{\\partial x}", "wrt": "x"},
    {"formula": "q \\cdot 1", "wrt": "z"},
    {"formula": "∂f/∂x = z"},
    {"value": "-4", "wrt": "y"},
    {"value": "1", "quantity": "dq/dx"},
    {"formula": "x + y", "quantity": "q"},
])
def test_right_answers_about_the_staged_graph(arguments):
    result = sbp.check("staged", **arguments)
    assert result and result.verdict.correct


def test_a_right_formula_is_confirmed_symbolically():
    result = GraphProblem(CHAIN).check(formula="(1 - tanh(q)^2) z \\cdot 6 x", wrt="x")
    assert result.verdict.correct and result.verdict.symbolic


def test_a_missing_term_for_a_name_used_twice_is_found():
    """w is used by a and by b: forgetting the path through b is the shared-parameter mistake."""
    result = GraphProblem(SHARED).check(formula="x (w + x)", wrt="w")
    assert not result
    first = result.verdict.explanations[0]
    assert (first.mistake.kind, first.exact, str(first.mistake.within)) == ("missing-term", True, "df/dw")
    text = result.render("text", width=None)
    assert "1. the term ∂f/∂b · ∂b/∂w missing from the sum for ∂f/∂w: reproduces yours exactly" in text


def test_a_dropped_local_factor_is_found_for_a_formula_and_for_a_number():
    problem = GraphProblem(CHAIN)
    formula = problem.check(formula="(1 - tanh(q)^2) z", wrt="x")
    assert not formula and formula.verdict.explanations[0].exact
    assert "1. the factor ∂q/∂x dropped from ∂f/∂x: reproduces yours exactly" in formula.render("text", width=None)
    number = problem.check(value="-2.386", wrt="x")
    assert not number and number.verdict.explanations[0].exact
    assert "the factor ∂q/∂x dropped from ∂f/∂x: gives -2.38634323" in number.render("text", width=None)


def test_random_points_stay_where_the_graph_is_defined():
    """log(x) at x = 0.01: points that move x below 0 are left out, the others decide."""
    problem = GraphProblem({"values": {"x": "0.01"}, "nodes": {"f": "log(x) \\cdot x"}, "loss": "f"})
    assert problem.check(formula="log(x) + 1", wrt="x")
    assert not problem.check(formula="log(x)", wrt="x")
    assert len(problem.checker.points) >= 2 and all(point[problem.checker.resolve("x")] > 0
                                                     for point in problem.checker.points)


def test_a_formula_may_use_kinked_functions_and_softmax_members():
    problem = GraphProblem({"values": {"a": 1, "b": 2}, "nodes": {"p": {"softmax": ["a", "b"]}, "L": "-log(p_1)"},
                            "loss": "L"})
    assert problem.check(formula="p_1 - 1", wrt="a") and problem.check(formula="p_2", wrt="b")
    kinked = GraphProblem({"values": {"a": 1, "b": -1}, "nodes": {"f": "max(a, b) \\cdot |b|"}, "loss": "f"})
    assert kinked.check(formula="|b|", wrt="a") and kinked.check(formula="-max(a, b)", wrt="b")


@pytest.mark.parametrize("arguments, message", [
    ({"formula": "z", "wrt": "k"}, r"^wrt: the graph has no gradient for 'k' \(it has f, q, x, y, z\)$"),
    ({"formula": "k", "wrt": "x"}, r"^formula: unknown name 'k' \(the graph has x, y, z, q, f\) at position 0"),
    ({"value": "-4"}, r"^value: say which quantity it is"),
    ({"value": "four", "wrt": "x"}, r"^value: "),
    ({"formula": "z", "wrt": "x", "quantity": "q"}, r"^quantity: name the quantity by wrt or by quantity"),
])
def test_bad_check_arguments_are_one_line(arguments, message):
    with pytest.raises(InputError, match=message) as raised:
        sbp.check("staged", **arguments)
    # A formula the reader cannot read also shows the formula and a caret under the position (docs/commands.md).
    assert len(str(raised.value).splitlines()) == (3 if isinstance(raised.value, FormulaError) else 1)


def _command(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symbackprop.cli", *arguments], capture_output=True, text=True,
                          encoding="utf-8", timeout=300)


def test_check_on_the_command_line_takes_a_graph_spec(tmp_path):
    spec = tmp_path / "shared.json"
    spec.write_text(json.dumps(SHARED), encoding="utf-8")
    right = _command("check", str(spec), "--wrt", "w", "--formula", "x b + a")
    assert right.returncode == 0 and "∂f/∂w = x b + a: right (symbolically)" in right.stdout
    wrong = _command("check", str(spec), "--wrt", "w", "--value", "15", "--json")
    report = json.loads(wrong.stdout)
    assert wrong.returncode == 1 and report["kind"] == "check" and report["correct"] is False
    assert report["explanations"][0]["kind"] == "missing-term" and report["explanations"][0]["exact"]
    bad = _command("check", "staged", "--wrt", "k", "--formula", "z")
    assert bad.returncode == 2 and bad.stderr == ("symbackprop: --wrt: the graph has no gradient for 'k' "
                                                  "(it has f, q, x, y, z)\n")


NEURON = json.loads(sbp.api.example_text("neuron"))


@pytest.mark.parametrize("optimizer", [*sbp.api.OPTIMIZERS, "adamw with l2"])
def test_every_line_of_an_optimizers_steps_reads_back_as_right(optimizer):
    """Each line `solve --steps 2` prints for a graph (f<0>, g_w0<1>, m_w0<1>, mhat_w0<2>, w_0<2>, f<2>), pasted
    into `check` as printed, is right; a gradient line of step 2 (g_w0<2> = df/dw_0) reads df/dw_0 at the
    parameters after step 1."""
    spec = {**NEURON, "optimizer": optimizer.split()[0]}
    if optimizer.endswith("l2"):
        spec["regularization"] = {"kind": "l2", "lambda": 0.01}
    problem = GraphProblem(spec)
    text = problem.optimizer_steps(2).render("text", width=10000)
    lines = [line for line in text[text.index("Step 1"):].splitlines() if " = " in line]
    assert lines[0].startswith("f⟨0⟩ = ") and lines[-1].startswith("f⟨2⟩ = ") and any(l.startswith("w₂⟨2⟩") for l in lines)
    for line in lines:
        verdict = problem.check(formula=line).verdict
        assert verdict.correct, line


def test_a_wrong_line_of_an_optimizers_step_is_diagnosed():
    """mhat_w0<2> written without its bias correction: wrong, and the factor 1/(1 - β₁²) named as dropped."""
    result = GraphProblem({**NEURON, "optimizer": "adam"}).check(formula="mhat_w0⟨2⟩ = m_w0⟨2⟩")
    assert not result.verdict.correct
    assert "1. the factor 1/(1 - β₁²) dropped from mhat_w0⟨2⟩: reproduces yours exactly" in result.render("text")


def test_a_step_name_without_a_learning_rate_is_an_unknown_name():
    """Without a learning rate a graph takes no step: w_0<1> is unknown, as any name the graph lacks."""
    spec = {key: value for key, value in NEURON.items() if key != "learning_rate"}
    with pytest.raises(FormulaError, match=r"quantity: unknown name 'w_0<1>' \(did you mean w_1\? the graph has w_0,"):
        GraphProblem(spec).check(value="2", quantity="w_0<1>")
