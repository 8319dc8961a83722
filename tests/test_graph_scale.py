"""Graph checks at scale: each adjoint's check recomputes only what lies downstream of it, and a large
graph has its loss, every trainable value and a stated sample of nodes checked, saying so."""

from __future__ import annotations

import json
import random

import mpmath
import pytest
from hypothesis import assume, given, settings, strategies as st
from sympy import Add, Integer, Mul, Rational, Symbol, exp, srepr, tanh

from symbackprop.checks import graph as graph_checks
from symbackprop.checks.finite_differences import FD_DIGITS, FD_EXPONENT
from symbackprop.derivation import rules
from symbackprop.derivation.graph import Adjoint, GraphDerivation
from symbackprop.derivation.model import LocalDerivative
from symbackprop.errors import CheckFailure, InputError
from symbackprop.graph_problem import GraphProblem
from symbackprop.numbers.graph import graph_forward, graph_point, graph_values
from symbackprop.spec.limits import MAX_GRAPH_NODES

OPERATIONS = ("({} + {}) / 2", "{} * {}", "tanh({})", "exp({} * 0.01)", "{} - {}")


def random_spec(nodes: int, seed: int = 5) -> dict:
    """Nodes using names among the last six, so that names fan out and in; three leaves, two trainable."""
    generator = random.Random(seed)
    names, formulas = ["a", "b", "c"], {}
    for k in range(nodes):
        window = names[-6:]
        formulas[f"n{k}"] = generator.choice(OPERATIONS).format(generator.choice(window), generator.choice(window))
        names.append(f"n{k}")
    return {"values": {"a": "0.5", "b": "-0.25", "c": "0.75"}, "trainable": ["b", "c"], "nodes": formulas,
            "loss": names[-1]}


def _whole_pass_estimate(problem: GraphProblem, name: str) -> mpmath.mpf:
    """The difference quotient with every node but `name` recomputed: what the check did before cones."""
    graph = problem.graph
    with mpmath.workdps(FD_DIGITS):
        h = mpmath.mpf(10) ** -FD_EXPONENT
        at_point = graph_forward(graph, graph_point(graph))
        symbol = next(a.quantity for a in problem.derived.adjoints if a.quantity.name == name)
        others = [node for node in graph.nodes if node.symbol != symbol]
        sides = [graph_forward(graph, {**at_point, symbol: at_point[symbol] + sign * h}, others)[graph.loss]
                 for sign in (1, -1)]
        return (sides[0] - sides[1]) / (2 * h)


def test_recomputing_the_downstream_cone_gives_the_whole_pass_estimate_exactly():
    problem = GraphProblem(random_spec(40))
    checks = problem.adjoint_checks
    assert len(checks) == len(problem.derived.adjoints) and all(c.passed for c in checks)
    for check in checks:
        assert check.estimate == _whole_pass_estimate(problem, check.quantity), check.quantity


def test_a_large_graph_checks_the_loss_the_trainable_values_and_a_stated_sample(monkeypatch):
    monkeypatch.setattr(graph_checks, "FULL_CHECK_LIMIT", 30)
    problem = GraphProblem(random_spec(60))
    checked = [c.quantity for c in problem.finite_difference_checks()]
    others = [a.quantity.name for a in problem.derived.adjoints if a.quantity.name not in ("b", "c", "n_59")]
    assert checked[0] == "n_59" and {"b", "c"} <= set(checked) and "a" not in checked
    assert checked[1:-2] == [others[len(others) * k // graph_checks.SAMPLED_NODES]
                             for k in range(graph_checks.SAMPLED_NODES)]
    assert checked == [c.quantity for c in GraphProblem(random_spec(60)).adjoint_checks]  # deterministic
    report = json.loads(problem.gradient_report().render("json"))
    assert len(report["checks"]) == len(checked)
    assert len(report["gradients"]) == len(problem.derived.adjoints) - 1  # every gradient, checked or not
    note = f"{len(checked):,} of the {len(problem.derived.adjoints):,} gradients are checked"
    assert note in problem.solve().render("text", width=None)


def test_a_wrong_gradient_of_a_trainable_value_is_caught_in_a_large_graph(monkeypatch):
    monkeypatch.setattr(graph_checks, "FULL_CHECK_LIMIT", 30)
    derived = GraphProblem(random_spec(60)).derived
    planted = GraphDerivation(derived.graph, tuple(
        Adjoint(a.quantity, a.symbol, tuple((up, LocalDerivative(local.symbol, local.expression, local.form * 2))
                                            for up, local in a.terms)) if a.quantity.name == "b" else a
        for a in derived.adjoints))
    with pytest.raises(CheckFailure, match=r"dE/db: symbolic"):
        graph_checks.require_adjoints(graph_checks.check_adjoints(planted, graph_values(planted)))


def test_a_value_too_large_to_evaluate_is_bad_input_in_one_line():
    """A chain of squares reaches 2^(2^69), whose tanh overflowed mpmath's exponent arithmetic (a traceback)."""
    nodes = {"q0": "x * x", **{f"q{k}": f"q{k - 1} * q{k - 1}" for k in range(1, 70)}, "f": "tanh(q69)"}
    problem = GraphProblem({"values": {"x": "2"}, "nodes": nodes, "loss": "f"})
    too_large = r"^nodes\.f cannot be evaluated at the spec's values: a number in it is too large$"
    with pytest.raises(InputError, match=too_large):
        problem.gradients()


def test_a_graph_of_more_than_the_stated_nodes_is_refused_before_a_formula_is_read():
    nodes = {f"n{k}": "x +" for k in range(MAX_GRAPH_NODES + 1)}  # every formula unreadable: never read
    refused = r"^nodes: the graph has 100,001 nodes, more than the 100,000 the engine takes$"
    with pytest.raises(InputError, match=refused):
        GraphProblem({"values": {"x": "1"}, "nodes": nodes, "loss": "n0"})


_arguments = st.recursive(st.sampled_from([Symbol("x"), Symbol("y"), Integer(2), Rational(1, 2), Integer(-1)]),
                          lambda inner: st.one_of(st.builds(Add, inner, inner), st.builds(Mul, inner, inner),
                                                  st.builds(tanh, inner), st.builds(exp, inner)), max_leaves=6)


@settings(max_examples=200, deadline=None)
@given(argument=_arguments)
def test_tanh_derivative_with_the_node_put_in_is_what_substitution_gives(argument):
    """The derivation's 1 - tanh(x)^2 built unevaluated around the node is, node for node, SymPy's own
    substitution into tanh'(u) (which evaluates tanh(x) and every sum and product again)."""
    node = tanh(argument)
    assume(node.func == tanh and node.free_symbols)
    point, derivative = rules._outer_derivative(tanh)
    assert _tree(rules._outer_at(node)) == _tree(derivative.xreplace({tanh(point): node, point: node.args[0]}))


def _tree(expression):
    return srepr(expression) if not expression.args else (type(expression).__name__, *map(_tree, expression.args))
