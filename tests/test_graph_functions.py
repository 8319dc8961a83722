"""Graph formulas with kinks (relu, |u|, max, min), softmax over a named group, and losses that train nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import mpmath
import pytest
from hypothesis import given, settings, strategies as st
from sympy import Abs, Max, Min, Piecewise, Symbol, diff, exp, log

from symbackprop.derivation.rules import differentiate
from symbackprop.errors import InputError
from symbackprop.formulas import read_formula
from symbackprop.formulas.reader import FormulaError
from symbackprop.graph_problem import GraphProblem
from symbackprop.network.graph import build_graph
from symbackprop.numbers.evaluate import evaluate
from symbackprop.spec.graph import graph_spec_from_dict

x, y = Symbol("x"), Symbol("y")


def _problem(values: dict, nodes: dict, loss: str, **rest) -> GraphProblem:
    return GraphProblem({"values": values, "nodes": nodes, "loss": loss, **rest})


# --- reading ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("relu(x)", Piecewise((x, x > 0), (0, True))),
    ("max(x, y)", Max(x, y)),
    ("\\max(x, y)", Max(x, y)),
    ("min(x,y)", Min(x, y)),
    ("|x - y|", Abs(x - y)),
    ("abs(x)", Abs(x)),
    ("\\left| x \\right| + \\lvert y \\rvert", Abs(x) + Abs(y)),
    ("2 \\cdot |x|^2", 2 * Abs(x) ** 2),
])
def test_the_reader_reads_functions_with_kinks(text, expected):
    assert read_formula(text) == expected


def test_the_absolute_value_of_an_exponential_stays_as_written():
    """SymPy would make |e^x| into e^{re(x)} for its complex symbols, which no later stage knows."""
    assert read_formula("|exp(x)|") == Abs(exp(x), evaluate=False)


@pytest.mark.parametrize("text, message", [
    ("max(x)", "max takes 2 arguments, got 1 at position 0"),
    ("relu(x, y)", "relu takes one argument, got 2 at position 0"),
    ("x |y|", "unexpected '|' at position 2"),
    ("|x", "unexpected end of formula"),
])
def test_a_misused_function_is_one_error_with_its_position(text, message):
    with pytest.raises(FormulaError) as raised:
        read_formula(text)
    assert f"{raised.value.reason} at position {raised.value.position}".startswith(message.split(" at position")[0])
    assert message in str(raised.value).splitlines()[0]


@pytest.mark.parametrize("text", ["relu(x - y)", "max(x, 2 y)", "min(x^2, y)", "|x y - 1|", "max(x, y) \\cdot |x|"])
@pytest.mark.parametrize("point", [(0.3, -1.2), (-0.7, 0.4), (1.5, 0.2)])
def test_a_kinked_function_s_derivative_is_its_cases_and_agrees_with_sympy_away_from_the_kink(text, point):
    expression = read_formula(text)
    at = {x: mpmath.mpf(point[0]), y: mpmath.mpf(point[1])}
    for wrt in (x, y):
        rule = differentiate(expression, wrt)
        assert rule.result.has(Piecewise)
        real = {x: Symbol("x", real=True), y: Symbol("y", real=True)}  # so that SymPy differentiates |u| as sign(u)
        oracle = diff(expression.xreplace(real).rewrite(Piecewise), real[wrt]).xreplace({v: k for k, v in real.items()})
        assert abs(evaluate(rule.result, at) - evaluate(oracle.rewrite(Piecewise), at)) < mpmath.mpf(10) ** -40


# --- kinks ----------------------------------------------------------------------------------------

KINKY = {"values": {"a": 1, "b": 1, "x": -2, "z": 0, "u": 3},
         "nodes": {"m": "max(a, b)", "n": "min(a, x)", "r": "relu(z)", "s": "|u - 3|", "q": "|x| + m n + r + s"},
         "loss": "q", "name": "kinky"}


def test_every_kind_of_kink_is_reported_and_its_gradients_are_not_failed():
    problem = GraphProblem(KINKY)
    kinks = {kink.node.name: type(kink.function).__name__ for kink in problem.kinks}
    assert kinks == {"m": "Max", "r": "Piecewise", "s": "Abs"}  # n = min(1, -2) and |x| = |-2| are not at one
    status = {check.quantity: check.status for check in problem.finite_difference_checks()}
    assert status == {"q": "pass", "s": "pass", "r": "pass", "n": "pass", "m": "pass", "a": "kink", "b": "kink",
                      "x": "pass", "z": "kink", "u": "kink"}
    gradients = problem.gradients()
    # at the tie the max routes the gradient to its first argument alone, as max pooling does
    assert (gradients["a"], gradients["b"], gradients["z"], gradients["u"]) == (-2, 0, 0, 0)


def test_the_kinks_are_said_in_the_worked_solution_and_the_gradients_report():
    problem = GraphProblem(KINKY)
    text = problem.solve().render("text", width=None)
    assert "max(a, b) in m: max is not differentiable where its largest arguments are equal; the engine routes " \
           "the gradient to the first of them in the max's order alone, as max pooling does." in text
    assert "max(0, z) in r: relu is not differentiable where its argument is 0; the engine uses the left " \
           "derivative, 0." in text
    assert "∂m/∂a = {1 if a >= b, 0 otherwise} · 1 = {1 if a >= b, 0 otherwise} = {1 if 1 >= 1, 0 otherwise} = 1" in text
    report = json.loads(problem.gradient_report().render("json"))
    assert [k["neuron"] for k in report["kinks"]] == ["m", "r", "s"]
    assert {c["parameter"]: c["kink"] is not None for c in report["checks"]}["z"]


def test_away_from_their_kinks_the_functions_pass_the_finite_difference_check():
    problem = _problem({"a": "0.5", "b": -1, "c": 2}, {"m": "max(a, b)", "n": "min(b, c)", "r": "relu(a - c)",
                                                        "f": "m \\cdot n + |b c| + r + relu(c)"}, "f")
    assert problem.kinks == []
    assert all(check.status == "pass" for check in problem.finite_difference_checks())
    # m = a, n = b; d|bc|/db = sign(bc) c, d|bc|/dc = sign(bc) b with bc = -2; relu(a - c) is off, relu(c) on
    assert {name: float(v) for name, v in problem.gradients().items() if name in "abc"} == {
        "a": -1.0, "b": 0.5 - 2, "c": 1 + 1}


_KINKED = ["relu({})", "|{}|", "max({}, {})", "min({}, {})"]


@st.composite
def kinked_graphs(draw):
    """Random DAGs of +, * and the kinked functions over 2 or 3 leaves with values that tie often."""
    leaves = [f"x{k}" for k in range(draw(st.integers(2, 3)))]
    values = {name: str(draw(st.integers(-2, 2))) for name in leaves}
    names, nodes = list(leaves), {}
    for k in range(draw(st.integers(1, 6))):
        a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        kind = draw(st.sampled_from(["{} + {}", "{} \\cdot {}", *_KINKED]))
        nodes[f"n{k}"] = kind.format(a, b)
        names.append(f"n{k}")
    return {"values": values, "nodes": nodes, "loss": names[-1]}


@settings(max_examples=30, deadline=None)
@given(kinked_graphs())
def test_random_graphs_with_kinks_pass_or_report_every_check(data):
    problem = GraphProblem(data)
    checks = problem.finite_difference_checks()  # raises CheckFailure on a FAIL
    assert problem.kinks or all(c.status == "pass" for c in checks)
    kinked = {name for kink in problem.kinks for name in kink.depends}
    assert {c.quantity for c in checks if c.status == "kink"} <= {s.name for s in kinked}


# --- softmax over a named group ------------------------------------------------------------------

SOFT = {"values": {"a": 1, "b": 2, "c": "0.5"},
        "nodes": {"z": "2 a", "p": {"softmax": ["z", "b", "c"]}, "L": "-log(p2)"}, "loss": "L", "name": "soft"}


def test_a_softmax_group_makes_one_node_per_member_with_derived_local_derivatives():
    problem = GraphProblem(SOFT)
    assert [node.symbol.name for node in problem.graph.nodes] == ["z", "p_1", "p_2", "p_3", "L"]
    locals_ = {str(local.symbol): local for adjoint in problem.derived.adjoints for _, local in adjoint.terms}
    p1, p2, p3 = (Symbol(f"p_{k}") for k in (1, 2, 3))
    assert locals_["dp_2/db"].form == p2 * (1 - p2) and locals_["dp_2/dc"].form == -p2 * p3
    assert locals_["dp_2/dz"].form == -p1 * p2 and locals_["dp_2/db"].identity == "softmax"
    text = problem.solve().render("text", width=None)
    assert "= -exp(b) · (exp(z) + exp(b) + exp(c))⁻² · exp(c) = -p₂ · p₃ = -0.449816218 · 0.100367565 " \
           "= -0.045146958" in text


def test_a_softmax_group_s_gradients_equal_the_derivative_of_the_composed_loss():
    a, b, c = Symbol("a"), Symbol("b"), Symbol("c")
    composed = -log(exp(b) / (exp(2 * a) + exp(b) + exp(c)))
    point = {a: mpmath.mpf(1), b: mpmath.mpf(2), c: mpmath.mpf("0.5")}
    gradients = GraphProblem(SOFT).gradients()
    with mpmath.workdps(50):
        for leaf in (a, b, c):
            assert abs(gradients[leaf.name] - evaluate(diff(composed, leaf), point)) < mpmath.mpf(10) ** -40


@pytest.mark.parametrize("change, message", [
    ({"p": {"softmax": ["z"]}}, r"^nodes\.p\.softmax: expected a list of at least two names$"),
    ({"p": {"softmax": ["z", "k"]}}, r"^nodes\.p\.softmax\[1\]: unknown name 'k'$"),
    ({"p": {"softmax": ["z", "z"]}}, r"^nodes\.p\.softmax\[1\]: 'z' is in the group twice$"),
    ({"p": {"softmin": ["z", "b"]}}, r"^nodes\.p: expected a formula as a string, or a softmax over a group"),
    ({"p_2": "a + b"}, r"^nodes\.p(_2)?: p_2 is defined twice$"),
])
def test_a_bad_softmax_group_is_one_line(change, message):
    data = {**SOFT, "nodes": {**SOFT["nodes"], **change}}
    with pytest.raises(InputError, match=message) as raised:
        GraphProblem(data).graph
    assert "\n" not in str(raised.value)


# --- losses and trainable names -------------------------------------------------------------------

def test_a_loss_that_depends_on_no_trainable_name_is_one_line_naming_loss():
    with pytest.raises(InputError, match=r"^loss: f depends on no trainable name \(trainable: z\), so no gradient"):
        build_graph(graph_spec_from_dict({"values": {"x": 1, "z": 2}, "nodes": {"f": "3 x"}, "loss": "f",
                                          "trainable": ["z"]}))


def test_a_trainable_node_is_one_line():
    with pytest.raises(InputError, match=r"^trainable\[0\]: 'q' is a node, computed from other names; only values"):
        graph_spec_from_dict({"values": {"x": 1}, "nodes": {"q": "2 x", "f": "q"}, "loss": "f", "trainable": ["q"]})


def test_a_trainable_name_the_loss_does_not_use_has_gradient_zero_and_the_solution_says_why():
    problem = _problem({"x": 1, "z": 2}, {"f": "3 x"}, "f", trainable=["x", "z"])
    assert problem.gradients()["z"] == 0
    assert "No node that reaches the loss uses z: its gradient is 0." in problem.solve().render("text", width=None)


def test_a_softmax_group_in_a_toml_file_on_the_command_line(tmp_path):
    spec = tmp_path / "soft.toml"
    spec.write_text('loss = "L"\n[values]\na = 1\nb = 2\n[nodes]\np = {softmax = ["a", "b"]}\nL = "-log(p_1)"\n',
                    encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "symbackprop.cli", "gradients", str(spec), "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    gradients = json.loads(result.stdout)["gradients"]
    p1 = 1 / (1 + mpmath.e)
    assert abs(float(gradients["a"]) - (p1 - 1)) < 1e-15 and abs(float(gradients["b"]) - (1 - p1)) < 1e-15
