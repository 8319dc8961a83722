"""Training a computation graph: the compiled loops (mpmath and double) against the exact path, step by step."""

from __future__ import annotations

import json
import subprocess
import sys

import mpmath
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sympy import Rational

import symbackprop as sbp
from symbackprop.errors import InputError
from symbackprop.graph_problem import GraphProblem
from symbackprop.numbers.graph import graph_values
from symbackprop.numbers.stable import NotFinite
from symbackprop.derivation.optimizers import at_step
from symbackprop.numbers.graph_training import (
    _exact_numbers, compile_graph_optimizer, compile_graph_training, exact_gradient, exact_start, exact_step,
    graph_trainee, train_graph, train_graph_optimized,
)
from symbackprop.numbers.optimizers import worked_steps
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


OPTIMIZER_KINDS = ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"]


def _compare_optimizer(problem: GraphProblem, kind: str, steps: int, tolerances: dict, bounded: bool = False) -> None:
    """After every step, both compiled paths of `kind` agree with its exact worked steps, each line evaluated
    uncompiled from the rule's records with the gradients of the uncompiled graph (`exact_gradient`)."""
    optimizer = problem.optimizer(kind)
    trainee = graph_trainee(problem.derived)
    exact = worked_steps(trainee, optimizer, steps, exact_gradient(problem.derived))
    if bounded:
        start = exact_start(problem.derived)
        for step in range(steps + 1):
            leaves = {**start, **{n: exact.values[at_step(n, step)] for n in trainee.symbols}}
            assume(all(abs(value) < BOUNDED for value in graph_values(problem.derived, leaves).values()))
    for backend, tolerance in tolerances.items():
        program = compile_graph_optimizer(problem.derived, optimizer, backend)
        for step in range(steps + 1):
            run = train_graph_optimized(program, step)
            assert all(_relative(run.parameters[n.name], exact.values[at_step(n, step)]) <= tolerance
                       for n in trainee.symbols), (backend, step)
            loss = exact.steps[step].error if step < steps else exact.error
            assert _relative(run.error, loss) <= tolerance, (backend, step)


@pytest.mark.parametrize("kind", OPTIMIZER_KINDS)
@pytest.mark.parametrize("data", [UNIT, MIXED], ids=["unit", "mixed"])
def test_every_optimizer_trains_a_graph_as_its_exact_steps_do(data, kind):
    _compare_optimizer(GraphProblem(data), kind, 5, {"mpmath": mpmath.mpf(10) ** -40, "math": 1e-12})


@settings(max_examples=20, deadline=None)
@given(random_graphs(), st.sampled_from(["momentum", "rmsprop", "adam"]))
def test_random_graphs_train_by_an_optimizer_as_the_exact_steps_do(case, kind):
    data, _composed = case
    problem = GraphProblem({**data, "learning_rate": "0.05"})
    assume(all(abs(value) < BOUNDED for value in problem.values.values()))
    _compare_optimizer(problem, kind, 3, {"mpmath": mpmath.mpf(10) ** -40, "math": 1e-9}, bounded=True)


def test_sgd_by_its_rule_is_the_fused_graph_loop():
    problem = GraphProblem(MIXED)
    by_rule = train_graph_optimized(compile_graph_optimizer(problem.derived, problem.optimizer("sgd")), 6)
    fused = train_graph(problem.derived, 6)
    assert all(_relative(by_rule.parameters[n], fused.parameters[n]) <= mpmath.mpf(10) ** -45 for n in fused.parameters)


def test_a_graph_takes_pytorchs_adam_steps():
    """PyTorch 2.13's Adam (float64, its autograd) on the unit graph reaches the same w and b after each step."""
    import torch  # the test extra's torch==2.13.0, imported where used

    w, b = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.5, -1.0))
    adam = torch.optim.Adam([w, b], lr=0.5)
    program = compile_graph_optimizer(GraphProblem(UNIT).derived, GraphProblem(UNIT).optimizer("adam"), "math")
    for step in range(1, 6):
        adam.zero_grad()
        ((torch.sigmoid(w * 2 + b) - 1) ** 2 / 2).backward()
        adam.step()
        ours = train_graph_optimized(program, step).parameters
        assert ours["w"] == pytest.approx(w.item(), rel=1e-12) and ours["b"] == pytest.approx(b.item(), rel=1e-12)


def test_a_layer_spec_trains_by_an_optimizer_and_solve_works_its_steps():
    data = {"inputs": [1, 2, 3], "layers": [{"kind": "conv1d", "kernel": [1, -1]}], "targets": [0, 0],
            "loss": "half_squared_error", "learning_rate": "0.1"}
    problem = sbp.open_problem(data)
    _compare_optimizer(problem, "adam", 3, {"mpmath": mpmath.mpf(10) ** -40, "math": 1e-12})
    assert problem.train(3, optimizer="rmsprop", fast=True).optimizer == "rmsprop"
    text = problem.solve(steps=2, optimizer="momentum", checks=False).render("text", width=None)
    assert "Optimizer: momentum, 2 steps" in text and "g_K1⟨2⟩ = ∂E/∂K₁ = " in text
    assert text.index("at the layer level") < text.index("Optimizer: momentum")


def test_solve_works_a_graph_s_optimizer_steps_and_the_spec_may_name_its_optimizer():
    problem = GraphProblem({**UNIT, "optimizer": {"kind": "adam", "beta1": 0.8}})
    assert problem.optimizer().settings[0] == ("beta1", Rational(4, 5)) and problem.train(2).optimizer == "adam"
    text = problem.solve(steps=2, checks=False).render("text", width=None)
    # the spec has a learning rate, so the solution shows gradient descent's update first, and says so
    assert "Optimizer: adam, 2 steps" in text and "The Updates section above is plain gradient descent's" in text
    assert "mhat_w⟨1⟩ = m_w⟨1⟩/(1 - β₁¹) = (-0.05)/(1 - 0.8¹) = -0.25" in text
    assert "w⟨1⟩ = w⟨0⟩ - η · mhat_w⟨1⟩/(sqrt(vhat_w⟨1⟩) + ε) = 0.5 - 0.5 · (-0.25)/(sqrt(0.0625) + 0.00000001) = " \
           "0.99999998" in text
    assert "Optimizer:" not in GraphProblem(UNIT).solve(checks=False).render("text")
    assert "Step 3" in sbp.optimizer_steps(UNIT, 3, optimizer="nesterov").render("text")
    with pytest.raises(InputError, match=r"^optimizer.kind: unknown optimizer 'adagrad'"):
        GraphProblem({**UNIT, "optimizer": "adagrad"})


def test_graph_optimizers_on_the_command_line(tmp_path):
    spec = tmp_path / "unit.json"
    spec.write_text(json.dumps(UNIT), encoding="utf-8")
    exact = json.loads(_command("train", str(spec), "--steps", "20", "--optimizer", "adam", "--json").stdout)
    fast = json.loads(_command("train", str(spec), "--steps", "20", "--optimizer", "adam", "--fast", "--json").stdout)
    assert exact["optimizer"] == fast["optimizer"] == "adam"
    assert abs(float(exact["loss_after"]) - float(fast["loss_after"])) < 1e-14
    solved = _command("solve", str(spec), "--steps", "1", "--optimizer", "rmsprop", "--width", "0")
    assert solved.returncode == 0 and "Optimizer: rmsprop, 1 step" in solved.stdout


PENALTIES = [{"kind": "l2", "lambda": "0.1"}, {"kind": "l1", "lambda": "0.05"}]


@pytest.mark.parametrize("regularization", PENALTIES, ids=["l2", "l1"])
@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam"])
def test_a_penalized_graph_trains_by_an_optimizer_as_its_exact_steps_do(kind, regularization):
    problem = GraphProblem({**MIXED, "regularization": regularization})
    assert graph_trainee(problem.derived).penalized == (True,) * 4
    _compare_optimizer(problem, kind, 4, {"mpmath": mpmath.mpf(10) ** -40, "math": 1e-12})


@pytest.mark.parametrize("regularization", PENALTIES, ids=["l2", "l1"])
def test_a_penalized_graph_s_gradient_descent_loop_is_sgd_by_its_rule(regularization):
    """The fused loop's update, (1 - eta lambda) v - eta dL/dv for l2, is the rule's v - eta (dL/dv + lambda v)."""
    problem = GraphProblem({**MIXED, "regularization": regularization})
    by_rule = train_graph_optimized(compile_graph_optimizer(problem.derived, problem.optimizer("sgd")), 6)
    fused, plain = train_graph(problem.derived, 6), GraphProblem(MIXED).train(6)
    assert all(_relative(by_rule.parameters[n], fused.parameters[n]) <= mpmath.mpf(10) ** -45 for n in fused.parameters)
    assert all(_relative(plain.parameters[n], fused.parameters[n]) > mpmath.mpf(10) ** -4 for n in fused.parameters)


def test_a_graph_with_an_l2_penalty_takes_pytorchs_adam_steps_with_weight_decay():
    import torch  # the test extra's torch==2.13.0, imported where used

    w, b = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.5, -1.0))
    adam = torch.optim.Adam([w, b], lr=0.5, weight_decay=0.1)
    problem = GraphProblem({**UNIT, "regularization": {"kind": "l2", "lambda": 0.1}})
    program = compile_graph_optimizer(problem.derived, problem.optimizer("adam"), "math")
    for step in range(1, 6):
        adam.zero_grad()
        ((torch.sigmoid(w * 2 + b) - 1) ** 2 / 2).backward()
        adam.step()
        ours = train_graph_optimized(program, step).parameters
        assert ours["w"] == pytest.approx(w.item(), rel=1e-12) and ours["b"] == pytest.approx(b.item(), rel=1e-12)


def test_solve_checks_a_graph_s_penalty_and_a_wrong_derivative_fails(monkeypatch):
    import dataclasses

    from symbackprop.checks import penalty as checked
    from symbackprop.errors import CheckFailure

    data = {**UNIT, "regularization": {"kind": "l1", "lambda": 0.1}}
    text = GraphProblem(data).solve(steps=1).render("text", width=None)
    assert "Penalty checks" in text and "FAIL" not in text and "dL/dθ + dR/dθ" in text
    assert "for each of the trainable names, its derivative λ · sign(θ)" in text
    right = checked.penalty
    monkeypatch.setattr(checked, "penalty", lambda spec: dataclasses.replace(
        right(spec), derivative=2 * right(spec).derivative))
    wrong = GraphProblem(data)
    assert {c.status for c in wrong.penalty_checks} == {"FAIL"}
    with pytest.raises(CheckFailure, match="^penalty check failed"):
        wrong.solve()
    with pytest.raises(InputError, match=r"^regularization.biases: a graph has no biases"):
        GraphProblem({**UNIT, "regularization": {"kind": "l2", "lambda": 0.1, "biases": True}})
