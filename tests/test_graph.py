"""Computation graphs: the spec, the reverse-mode adjoints, their values and their checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import mpmath
import pytest
from hypothesis import given, settings, strategies as st
from sympy import Symbol, diff, exp, tanh

from symbackprop.checks.graph import check_adjoints, require_adjoints
from symbackprop.derivation.graph import Adjoint, GraphDerivation, derive_graph
from symbackprop.derivation.model import LocalDerivative
from symbackprop.errors import CheckFailure, InputError
from symbackprop.network.graph import build_graph
from symbackprop.numbers.evaluate import evaluate, to_mpf
from symbackprop.numbers.graph import graph_values
from symbackprop.numbers.rounding import round_half_up
from symbackprop.spec.graph import graph_spec_from_dict


def _derived(data: dict) -> GraphDerivation:
    return derive_graph(build_graph(graph_spec_from_dict(data)))


def _adjoints(derived: GraphDerivation) -> dict[str, mpmath.mpf]:
    values = graph_values(derived)
    return {a.quantity.name: values[a.symbol] for a in derived.adjoints}


STAGED = {"values": {"x": -2, "y": 5, "z": -4}, "nodes": {"q": "x + y", "f": "q \\cdot z"}, "loss": "f"}
NEURON = {"values": {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
          "nodes": {"dot": "w0 x0 + w1 x1 + w2", "f": "1/(1 + e^{-dot})"}, "loss": "f"}


def test_the_staged_example_of_course_notes():
    """f = (x + y) z at x = -2, y = 5, z = -4 (CS231n's notes print q = 3, f = -12 and -4, -4, 3)."""
    derived = _derived(STAGED)
    values = graph_values(derived)
    assert [values[Symbol(n)] for n in ("q", "f")] == [3, -12]
    assert _adjoints(derived) == {"f": 1, "q": -4, "x": -4, "y": -4, "z": 3}
    require_adjoints(check_adjoints(derived, graph_values(derived)))


def test_a_single_sigmoid_neuron_as_course_notes_print_it():
    """CS231n's neuron 1/(1 + e^-(w0 x0 + w1 x1 + w2)) prints dx = [0.39, -0.59] and dw = [-0.2, -0.39, 0.2]."""
    adjoints = _adjoints(_derived(NEURON))
    printed = {"x_0": "0.39", "x_1": "-0.59", "w_0": "-0.2", "w_1": "-0.39", "w_2": "0.2"}
    assert {name: round_half_up(adjoints[name], 2) for name in printed} == {n: Decimal(v) for n, v in printed.items()}


def test_a_shared_leaf_sums_over_its_uses():
    derived = _derived({"values": {"x": 3, "w": 2}, "nodes": {"a": "w x", "b": "w + x", "f": "a b"}, "loss": "f"})
    w = derived.adjoint("w")
    assert [str(local.symbol) for _, local in w.terms] == ["da/dw", "db/dw"]
    assert _adjoints(derived)["w"] == 3 * 5 + 6 * 1  # x * b + a * 1


def test_the_loss_using_a_name_directly_and_through_another_node():
    """h = g + a with g = a^2: dh/da = dg/da dh/dg + (the direct partial), never defined by itself."""
    derived = _derived({"values": {"a": 3}, "nodes": {"g": "a^2", "h": "g + a"}, "loss": "h"})
    assert _adjoints(derived)["a"] == 7
    defined = [symbol for symbol, _ in derived.definitions()]
    assert len(defined) == len(set(defined))
    require_adjoints(check_adjoints(derived, graph_values(derived)))
    from symbackprop.printers import printer
    from symbackprop.solution.graph import graph_solution

    text = printer("text").doprint(graph_solution(derived, graph_values(derived))).splitlines()
    assert "∂h/∂a = ∂h/∂g · ∂g/∂a + ∂/∂a[a + g] = 1 · 6 + 1 = 7" in text  # the direct partial reads as such
    assert "∂/∂a[a + g] = 1 + 0 = 1" in text


def test_names_that_do_not_reach_the_loss():
    derived = _derived({"values": {"x": 1, "unused": 4}, "nodes": {"f": "2 x", "g": "f + unused"}, "loss": "f"})
    adjoints = _adjoints(derived)
    assert adjoints["unused"] == 0 and adjoints["x"] == 2 and "g" not in adjoints


def test_a_long_chain_is_placed_without_recursion():
    nodes = {f"v{k}": f"v{k - 1} + 1" for k in range(1, 3000)}
    graph = build_graph(graph_spec_from_dict({"values": {"v0": 0}, "nodes": dict(reversed(nodes.items())),
                                              "loss": "v2999"}))
    assert [n.symbol.name for n in graph.nodes[:2]] == ["v_1", "v_2"] and len(graph.nodes) == 2999


# --- the sympy.diff oracle on random graphs --------------------------------------------------------

_UNARY = {"exp({})": exp, "tanh({})": tanh, "sigma({})": lambda x: 1 / (1 + exp(-x))}


@st.composite
def random_graphs(draw):
    """A DAG of + and * and unary functions over 2 to 4 leaves, with fan-out, and its composed expression."""
    leaves = [f"x{k}" for k in range(draw(st.integers(2, 4)))]
    values = {name: draw(st.decimals(-2, 2, places=2)) for name in leaves}
    composed = {name: Symbol(name.replace("x", "x_")) for name in leaves}
    nodes = {}
    for k in range(draw(st.integers(1, 7))):
        names = list(composed)
        a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        kind = draw(st.sampled_from(["+", "*", *_UNARY]))
        if kind in _UNARY:
            nodes[f"n{k}"], composed[f"n{k}"] = kind.format(a), _UNARY[kind](composed[a])
        else:
            nodes[f"n{k}"] = f"{a} {kind} {b}"
            composed[f"n{k}"] = composed[a] + composed[b] if kind == "+" else composed[a] * composed[b]
    loss = f"n{len(nodes) - 1}"
    return {"values": values, "nodes": nodes, "loss": loss}, composed[loss]


@settings(max_examples=40, deadline=None)
@given(random_graphs())
def test_every_adjoint_equals_the_derivative_of_the_composed_loss(case):
    data, composed = case
    derived = _derived(data)
    adjoints = _adjoints(derived)
    point = {leaf: to_mpf(value) for leaf, value in derived.graph.point().items()}
    with mpmath.workdps(50):
        for leaf in derived.graph.leaves:
            expected = evaluate(diff(composed, leaf), point)
            assert abs(adjoints[leaf.name] - expected) <= mpmath.mpf(10) ** -40 * max(1, abs(expected))
    require_adjoints(check_adjoints(derived, graph_values(derived)))


def test_a_wrong_local_derivative_is_caught_with_both_numbers():
    derived = _derived(STAGED)
    wrong = []
    for adjoint in derived.adjoints:
        terms = tuple((upstream, LocalDerivative(local.symbol, local.expression, local.form + 1)
                       if str(local.symbol) == "dq/dx" else local) for upstream, local in adjoint.terms)
        wrong.append(Adjoint(adjoint.quantity, adjoint.symbol, terms))
    planted = GraphDerivation(derived.graph, tuple(wrong))
    with pytest.raises(CheckFailure, match=r"dE/dx: symbolic -8(\.0)? vs mpmath finite difference -4"):
        require_adjoints(check_adjoints(planted, graph_values(planted)))


# --- bad graph specs: one line naming the field -----------------------------------------------------

@pytest.mark.parametrize("change, message", [
    ({"nodes": {"q": "x + y", "f": "q \\cdot k"}}, r"^nodes\.f: unknown name 'k' at position 8 of"),
    ({"nodes": {"q": "f + y", "f": "q \\cdot z"}}, r"^nodes\.q: the graph has a cycle: q -> f -> q$"),
    ({"nodes": {"x": "y + z", "f": "x \\cdot z"}}, r"^nodes\.x: x is defined twice$"),
    ({"loss": "x"}, r"^loss: 'x' is not one of the nodes \(q, f\)$"),
    ({"loss": None}, r"^loss: missing"),
    ({"nodes": {}}, r"^nodes: expected at least one"),
    ({"nodes": {"q": "x +", "f": "q z"}}, r"^nodes\.q: trailing operator '\+' at position 2 of 'x \+'$"),
    ({"nodes": {"2q": "x", "f": "z"}}, r"^nodes\.2q: '2q' is not a name"),
    ({"values": {"x": "one", "y": 5, "z": -4}}, r"^values\.x: expected a number"),
    ({"trainable": ["w"]}, r"^trainable\[0\]: 'w' is not one of the values \(x, y, z\)$"),
    ({"layers": []}, r"^layers: unknown field"),
    ({"learning_rate": -1}, r"^learning_rate: expected a positive number"),
])
def test_a_bad_graph_spec_is_one_line(change, message):
    with pytest.raises(InputError, match=message) as raised:
        _derived({**STAGED, **change})
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("nodes, message", [
    ({"f": "1/(x - 2)"}, r"^nodes\.f divides by zero at the spec's values$"),
    ({"f": "log(x - 3)"}, r"^nodes\.f is undefined at the spec's values"),
    ({"f": "sqrt(x - 3)"}, r"^nodes\.f is undefined at the spec's values"),
    ({"f": "sqrt(x - 2)"}, r"^nodes\.f: the derivative by x divides by zero at the spec's values$"),
])
def test_a_value_that_does_not_exist_at_the_spec_s_values_is_one_line(nodes, message):
    with pytest.raises(InputError, match=message):
        graph_values(_derived({"values": {"x": 2}, "nodes": nodes, "loss": "f"}))


# --- the worked solution --------------------------------------------------------------------------

def test_the_worked_solution_of_the_staged_example_reads_as_course_notes_write_it():
    from symbackprop.printers import printer
    from symbackprop.solution.graph import graph_solution

    derived = _derived({**STAGED, "name": "staged"})
    values = graph_values(derived)
    lines = printer("text").doprint(graph_solution(derived, values, checks=check_adjoints(derived, values))).splitlines()
    for line in ["q = x + y = (-2) + 5 = 3", "f = q · z = 3 · (-4) = -12", "∂f/∂f = 1", "∂f/∂q = z · 1 = z = -4",
                 "∂f/∂x = ∂f/∂q · ∂q/∂x = (-4) · 1 = -4", "∂f/∂z = q · 1 = q = 3"]:
        assert line in lines
    rows = [line.split() for line in lines if line.endswith(("pass", "FAIL")) and line.startswith("∂f/∂")]
    assert [(row[0], row[-1]) for row in rows] == [(f"∂f/∂{n}", "pass") for n in "fqxyz"]


def test_the_worked_solution_says_why_a_gradient_is_zero_and_which_uses_add_up():
    from symbackprop.printers import printer
    from symbackprop.solution.graph import graph_solution

    derived = _derived({"values": {"x": 3, "w": 2, "unused": 1},
                        "nodes": {"a": "w x", "b": "w + x", "f": "a b", "g": "f + 1"}, "loss": "f"})
    text = printer("text").doprint(graph_solution(derived, graph_values(derived)))
    assert "No node that reaches the loss uses unused: its gradient is 0." in text
    assert "w is used by a, b: one term per use" in text
    assert "g does not reach the loss f" in text
    assert "∂f/∂w = ∂f/∂a · ∂a/∂w + ∂f/∂b · ∂b/∂w = 5 · 3 + 6 · 1 = 21" in text


@pytest.mark.parametrize("fmt", ["latex", "markdown", "html", "json"])
def test_the_worked_solution_prints_in_every_format(fmt):
    from symbackprop.printers import printer
    from symbackprop.solution.graph import graph_solution

    derived = _derived({**STAGED, "name": "staged"})
    printed = printer(fmt).doprint(graph_solution(derived, graph_values(derived)))
    assert "staged" in printed and any(twelve in printed for twelve in ("-12", "&#8722;</mo><mn>12"))


# --- the problem surface ----------------------------------------------------------------------------

def test_the_graph_problem_s_examples_run():
    import doctest

    import symbackprop.graph_problem

    failures, tried = doctest.testmod(symbackprop.graph_problem)
    assert tried and not failures


def test_a_graph_problem_solves_once_and_says_what_it_cannot_do_yet():
    from symbackprop.graph_problem import GraphProblem

    problem = GraphProblem({**STAGED, "name": "staged"})
    assert "∂f/∂x = ∂f/∂q · ∂q/∂x = (-4) · 1 = -4" in problem.solve().render("text")
    assert problem.derived is problem.derived
    with pytest.raises(InputError, match=r"^explain: not available for a computation graph yet"):
        problem.explain("x")
    with pytest.raises(AttributeError):
        problem.no_such_thing


# --- the command line and the guide ------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _command(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symbackprop.cli", *arguments], capture_output=True, text=True,
                          encoding="utf-8", timeout=300)


def test_solve_and_gradients_take_a_graph_spec_file(tmp_path):
    spec = tmp_path / "staged.toml"
    spec.write_text('name = "staged"\nloss = "f"\n[values]\nx = -2\ny = 5\nz = -4\n'
                    '[nodes]\nq = "x + y"\nf = "q \\\\cdot z"\n', encoding="utf-8")
    solved = _command("solve", str(spec), "--width", "0")
    assert solved.returncode == 0 and "∂f/∂x = ∂f/∂q · ∂q/∂x = (-4) · 1 = -4" in solved.stdout.splitlines()
    report = json.loads(_command("gradients", str(spec), "--json").stdout)
    assert report["kind"] == "gradients" and report["gradients"] == {
        "q": "-4.0000000000000000000", "x": "-4.0000000000000000000", "y": "-4.0000000000000000000",
        "z": "3.0000000000000000000"}
    assert all(check["status"] == "pass" for check in report["checks"])


@pytest.mark.parametrize("arguments, line", [
    (("solve", "staged", "--matrix"), "symbackprop: matrix_solution: not available for a computation graph yet"),
    (("solve", "staged", "--hand-round", "3"), "symbackprop: --hand-round: not available for a computation graph yet"),
])
def test_what_graphs_cannot_do_yet_is_one_line(arguments, line):
    result = _command(*arguments)
    assert result.returncode == 2 and result.stdout == "" and result.stderr.startswith(line)
    assert result.stderr.count("\n") == 1


def test_a_bad_graph_spec_file_is_one_line(tmp_path):
    spec = tmp_path / "cycle.json"
    spec.write_text(json.dumps({"values": {"x": 1}, "nodes": {"a": "b + x", "b": "a"}, "loss": "a"}), encoding="utf-8")
    result = _command("solve", str(spec))
    assert result.returncode == 2 and result.stderr == "symbackprop: nodes.a: the graph has a cycle: a -> b -> a\n"


def test_a_layered_problem_refuses_a_graph_and_points_to_open_problem():
    import symbackprop as sbp

    with pytest.raises(InputError, match=r"^spec: 'staged' is a computation graph .*open_problem"):
        sbp.Problem("staged")


def test_the_guide_s_worked_example_is_current_and_its_examples_run():
    import symbackprop as sbp
    from symbackprop.printers import MarkdownPrinter

    guide = (ROOT / "docs" / "graphs.md").read_text(encoding="utf-8")
    generated = MarkdownPrinter().doprint(sbp.open_problem("staged").solve().record)
    assert guide.endswith(generated), "regenerate the end of docs/graphs.md with: symbackprop solve staged --format markdown"
    for block in re.findall(r"```python\n(.*?)```", guide, re.S):
        exec(compile(block, "docs/graphs.md", "exec"), {})  # the guide's own examples, not user text
