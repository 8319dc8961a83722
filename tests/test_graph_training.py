"""Training a computation graph: the compiled loops (mpmath and double) against the exact path, step by step."""

from __future__ import annotations

import json
import subprocess
import sys

import mpmath
import pytest
from hypothesis import assume, given, settings

import symbackprop as sbp
from symbackprop.errors import InputError
from symbackprop.graph_problem import GraphProblem
from symbackprop.numbers.graph import graph_values
from symbackprop.numbers.stable import NotFinite
from symbackprop.numbers.graph_training import (
    _exact_numbers, compile_graph_training, exact_start, exact_step, train_graph,
)
from tests.test_graph import random_graphs

UNIT = {"name": "unit", "values": {"w": "0.5", "x": 2, "b": -1, "t": 1}, "trainable": ["w", "b"],
        "learning_rate": "0.5", "nodes": {"z": "w x + b", "y": "sigma(z)", "L": "(y - t)^2 / 2"}, "loss": "L"}
MIXED = {"values": {"a": "0.3", "b": "-0.7", "c": "1.2", "w": "0.9"}, "learning_rate": "0.1",
         "nodes": {"u": "relu(w a - b)", "v": "max(u, c) + |a - w|", "s": "tanh(u \\cdot v)",
                   "p": {"softmax": ["s", "v", "c"]}, "L": "-log(p_1) + min(w, b)^2"}, "loss": "L"}


BOUNDED = 10
"""Random graphs are compared while every value (node, local derivative, gradient) stays within this: a
step then moves each leaf by at most 0.5 (learning rate 0.05), and no exp of an exp can reach numbers
whose exponent alone would fill the memory (e^(e^1000)), as a diverging run does."""


def _exact_run(problem: GraphProblem, steps: int, bounded: bool = False) -> list[tuple[mpmath.mpf, dict]]:
    """The loss and the trainable values before each step and after the last, on the uncompiled exact path;
    `bounded`: only while every value stays within BOUNDED (for hypothesis's random graphs)."""
    leaves, run = exact_start(problem.derived), []
    for _ in range(steps + 1):
        if bounded:
            assume(all(abs(value) < BOUNDED for value in graph_values(problem.derived, leaves).values()))
        loss, after = exact_step(problem.derived, leaves)
        run.append((loss, leaves))
        leaves = after
    return run


def _relative(a, b) -> mpmath.mpf:
    return abs(mpmath.mpf(a) - b) / max(abs(b), mpmath.mpf(1))


def _compare_step_by_step(problem: GraphProblem, steps: int, backend: str, tolerance, bounded: bool = False) -> None:
    compiled = compile_graph_training(problem.derived, backend)
    exact = _exact_run(problem, steps, bounded)
    trainable = problem.spec.trainable
    values = tuple((mpmath.mpf if backend == "mpmath" else float)(exact[0][1][n]) for n in trainable)
    for loss, leaves in exact:
        (record,), after = compiled.run(1, 1, *values)
        assert record[1] == () and _relative(record[0], loss) <= tolerance
        assert all(_relative(v, leaves[n]) <= tolerance for v, n in zip(values, trainable))
        values = after


@pytest.mark.parametrize("data", [UNIT, MIXED], ids=["unit", "mixed"])
def test_the_compiled_mpmath_loop_follows_the_exact_path_step_by_step(data):
    _compare_step_by_step(GraphProblem(data), 8, "mpmath", mpmath.mpf(10) ** -40)


@pytest.mark.parametrize("data", [UNIT, MIXED], ids=["unit", "mixed"])
def test_the_compiled_double_loop_follows_the_exact_path_step_by_step(data):
    _compare_step_by_step(GraphProblem(data), 8, "math", 1e-12)


@settings(max_examples=25, deadline=None)
@given(random_graphs())
def test_random_graphs_train_as_the_exact_path_does(case):
    data, _composed = case
    problem = GraphProblem({**data, "learning_rate": "0.05"})
    _compare_step_by_step(problem, 3, "mpmath", mpmath.mpf(10) ** -40, bounded=True)
    _compare_step_by_step(problem, 3, "math", 1e-9, bounded=True)


def test_training_records_every_k_steps_and_the_last_and_leaves_untrained_values_alone():
    problem = GraphProblem(UNIT)
    result = problem.train(10, every=3)
    assert list(result.history) == [0, 3, 6, 9, 10] and set(result.parameters) == {"w", "b"}
    exact = _exact_run(problem, 10)
    assert all(_relative(result.history[k][0], exact[k][0]) <= mpmath.mpf(10) ** -40 for k in result.history)
    assert _relative(result.parameters["w"], exact[10][1][problem.spec.trainable[0]]) <= mpmath.mpf(10) ** -40
    assert result.error < result.history[0][0]
    assert problem.train(4) and len(problem._compiled) == 1  # the loop is compiled once per backend
    problem.train(4, fast=True)
    assert set(problem._compiled) == {"mpmath", "math"}


def test_the_fused_loop_gives_the_same_numbers_with_and_without_records_and_progress():
    problem = GraphProblem(MIXED)
    calls: list[int] = []
    every_step = train_graph(problem.derived, 12, "mpmath", every=1)
    sparse = train_graph(problem.derived, 12, "mpmath", progress=calls.append, every=5)
    assert sparse.parameters == every_step.parameters and calls[-1] == 12
    assert all(sparse.history[k] == every_step.history[k] for k in sparse.history)


def test_a_graph_s_training_report_in_text_and_json():
    training = sbp.train(UNIT, 20)
    text = training.render("text")
    assert "L before: 0.125" in text and "Outputs" not in text and "parameter  value" in text
    report = json.loads(training.render("json"))
    assert report["kind"] == "training" and report["schema_version"] == 1 and report["outputs"] == {}
    assert set(report["parameters"]) == {"w", "b"} and mpmath.mpf(report["history"][0]["loss"]) == mpmath.mpf("0.125")


def test_a_run_that_diverges_on_the_exact_path_stops_with_one_line():
    problem = GraphProblem({"values": {"x": 2}, "nodes": {"f": "-exp(exp(x))"}, "loss": "f", "learning_rate": 1})
    with pytest.raises(NotFinite, match=r"^training diverges: e\^x with \|x\| > 1,000,000 in the exact loop"):
        problem.train(5)
    # tanh(g) - g with g = x^4 and a learning rate of 1 gets there after about 60 steps, in minutes: mpmath
    # raises MemoryError or OverflowError shifting by such a value's exponent
    for raised in (MemoryError, OverflowError("too many digits in integer")):
        with pytest.raises(NotFinite, match=r"^training diverges: a value too large to compute \(\w+\) in the exact"):
            with _exact_numbers():
                raise raised


@pytest.mark.parametrize("arguments, message", [
    ({"order": "output-first"}, r"^order: a computation graph updates every trainable name at once"),
    ({"backend": "numpy"}, r"^backend: numpy runs a layered network's matrix form"),
    ({"backend": "mpmath", "fast": True}, r"^fast: fast=True means backend 'math'"),
    ({"every": 0}, r"^every: expected a whole number of at least 1"),
])
def test_bad_training_arguments_are_one_line(arguments, message):
    with pytest.raises(InputError, match=message):
        GraphProblem(UNIT).train(3, **arguments)


def test_a_graph_without_a_learning_rate_cannot_train():
    with pytest.raises(InputError, match=r"^learning_rate: training a graph needs the spec's learning_rate"):
        sbp.train("staged", 3)


def _command(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symbackprop.cli", *arguments], capture_output=True, text=True,
                          encoding="utf-8", timeout=300)


def test_train_on_the_command_line_takes_a_graph_spec(tmp_path):
    spec = tmp_path / "unit.json"
    spec.write_text(json.dumps(UNIT), encoding="utf-8")
    exact = json.loads(_command("train", str(spec), "--steps", "50", "--json").stdout)
    fast = json.loads(_command("train", str(spec), "--steps", "50", "--fast", "--json").stdout)
    assert exact["kind"] == fast["kind"] == "training" and exact["steps"] == 50
    assert abs(float(exact["loss_after"]) - float(fast["loss_after"])) < 1e-14
    assert float(exact["loss_after"]) < float(exact["loss_before"])
    neuron = _command("train", "neuron", "--steps", "5")
    assert neuron.returncode == 0 and "f before: 0.731058579" in neuron.stdout


@pytest.mark.parametrize("arguments, line", [
    (("train", "staged", "--steps", "2"), "symbackprop: learning_rate: training a graph needs the spec's learning_rate"),
    (("train", "neuron", "--steps", "2", "--numpy"), "symbackprop: --numpy: numpy runs a layered network's matrix form"),
    (("train", "neuron", "--steps", "2", "--order", "output-first"),
     "symbackprop: --order: a computation graph updates every trainable name at once"),
])
def test_what_a_graph_cannot_train_with_is_one_line(arguments, line):
    result = _command(*arguments)
    assert result.returncode == 2 and result.stdout == "" and result.stderr.startswith(line)
    assert result.stderr.count("\n") == 1
