"""Graph exercises: random computation graphs from a seed, valid at their values, with a sheet and a key."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

import symbackprop as sbp
from symbackprop.cli import main
from symbackprop.errors import InputError
from symbackprop.graph_problem import GraphProblem
from symbackprop.printers import printer
from symbackprop.solution.figure import Figure
from symbackprop.spec.graph_exercise import OPERATIONS, graph_exercise_spec, parse_operations

ALL = list(OPERATIONS)
_CALLS = {"exp": "exp(", "log": "log(", "sqrt": "sqrt(", "tanh": "tanh(", "sigma": "sigma("}


def operations_in(formula: str) -> set[str]:
    """The operations a generated formula applies (they write 'a + b' or 'f(a)')."""
    return {op for op, call in _CALLS.items() if formula.startswith(call)} or {formula.split(" ")[1]}


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10**9), nodes=st.integers(1, 12),
       mix=st.lists(st.sampled_from(ALL), min_size=1, max_size=len(ALL), unique=True)
       .filter(lambda ops: any(op in ("+", "-", "*", "tanh", "sigma") for op in ops)))
def test_every_generated_graph_is_valid_and_its_gradients_check(seed, nodes, mix):
    """Valid at its values (no log of a non-positive number, no division by zero, no overflow), every name
    reaching the loss, only the mix's operations, and every adjoint agreeing with its finite difference."""
    data = graph_exercise_spec(nodes, mix, seed)
    assert data == graph_exercise_spec(nodes, mix, seed)
    assert len(data["nodes"]) == nodes and list(data["nodes"])[-1] == data["loss"] == "f"
    assert set().union(*(operations_in(f) for f in data["nodes"].values())) <= set(mix)
    for value in data["values"].values():
        assert Decimal(value) == Decimal(value).quantize(Decimal("0.1")) and 0 < abs(Decimal(value)) <= 2
    problem = GraphProblem(data)
    reached = {adjoint.quantity.name for adjoint in problem.derived.adjoints if adjoint.terms}
    names = [*problem.graph.leaves, *(node.symbol for node in problem.graph.nodes)]
    assert reached == {name.name for name in names} - {"f"}
    assert all(abs(problem.values[name]) <= 100 for name in names)
    inputs = {node.symbol: node.inputs for node in problem.graph.nodes}
    for (symbol, _), formula in zip(problem.spec.nodes, data["nodes"].values()):  # no flat tanh or σ, behind
        for function, largest in (("tanh(", 3), ("sigma(", 5)):                  # which every gradient shows 0
            if formula.startswith(function):
                assert abs(problem.values[inputs[symbol][0]]) <= largest, formula
    problem.finite_difference_checks()


def test_same_seed_same_graph_and_seeds_differ():
    mix = parse_operations("+,*,exp,tanh,sigma")
    graphs = {json.dumps(graph_exercise_spec(6, mix, seed)) for seed in range(30)}
    assert len(graphs) == 30


def test_some_graphs_use_a_name_twice():
    """Fan-out: a shared name's gradient is a sum over its uses, which exercises should practise."""
    shared = 0
    for seed in range(20):
        graph = GraphProblem(graph_exercise_spec(8, parse_operations("+,*,tanh"), seed)).graph
        shared += any(len(users) > 1 for users in graph.consumers.values())
    assert shared >= 5


def test_operations_are_read_with_their_aliases_and_unknown_ones_refused():
    assert parse_operations(" + ,·,σ,ln, sigmoid") == ["+", "*", "sigma", "log"]
    with pytest.raises(InputError, match=r"^ops: unknown operation 'relu' \(known: \+, -, \*, /, exp"):
        parse_operations("+,relu")


def test_a_mix_that_cannot_make_a_valid_graph_is_refused_in_one_line():
    with pytest.raises(InputError, match="^ops: no valid graph of 6 nodes from log in 50 draws"):
        graph_exercise_spec(6, ["log"], 1)


@pytest.mark.parametrize("argv, message", [
    (["--nodes", "0"], "--nodes: expected a whole number from 1 to 30, got 0"),
    (["--nodes", "31"], "--nodes: expected a whole number from 1 to 30, got 31"),
    (["--ops", "+,max"], "--ops: unknown operation 'max'"),
    (["--layers", "2,2"], "--layers: only without --graph"),
])
def test_bad_graph_exercise_options_exit_2_in_one_line(argv, message, capsys):
    assert main(["exercise", "--graph", "--seed", "1", *argv]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"symbackprop: {message}") and error.count("\n") == 1


def test_graph_options_without_graph_are_refused(capsys):
    assert main(["exercise", "--seed", "1", "--ops", "+"]) == 2
    assert capsys.readouterr().err == "symbackprop: --ops: only with --graph\n"


def test_sheet_key_and_spec(tmp_path, capsys):
    sheet, key, spec = tmp_path / "sheet.md", tmp_path / "key.html", tmp_path / "graph.json"
    assert main(["exercise", "--graph", "--seed", "4", "--nodes", "7", "--ops", "+,*,log,sigma",
                 "-o", str(sheet), "--answers", str(key), "--spec-out", str(spec)]) == 0
    questions = sheet.read_text(encoding="utf-8")
    assert questions.startswith("# Exercise 4") and "$$ f = ?" in questions
    assert r"\frac{\partial f}{\partial x_{1}} = ?" in questions
    assert "<svg" in key.read_text(encoding="utf-8") and "FAIL" not in key.read_text(encoding="utf-8")
    data = json.loads(spec.read_text(encoding="utf-8"))
    assert data == sbp.graph_exercise(4, nodes=7, ops="+,*,log,sigma").data
    assert main(["solve", str(spec), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["figure"]["type"] == "figure"


def test_the_sheet_draws_the_graph_with_the_given_values_only():
    exercise = sbp.graph_exercise(9, nodes=6)
    record = exercise.sheet().record
    assert record.kind == "exercise"
    figure = next(item for item in record.sections[0].items if isinstance(item, Figure))
    leaves = {leaf.name for leaf in exercise.problem.graph.leaves}
    assert all((e.value is not None) == (e.source in leaves) and e.gradient is None for e in figure.edges)
    assert printer("latex").doprint(record).count(r"\begin{tikzpicture}") == 1
    assert "Gradient checks" in exercise.answers().render("text")


def test_bad_graph_exercise_arguments_in_the_api():
    with pytest.raises(InputError, match="^nodes: expected a whole number"):
        sbp.graph_exercise(1, nodes="6")
    with pytest.raises(InputError, match="^ops: expected a string"):
        sbp.graph_exercise(1, ops=["+"])
