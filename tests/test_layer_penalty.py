"""Optimizers and weight penalties named in a layer spec: the biases (and a normalization's gamma and beta) left
out of the penalty unless it says `biases`, against PyTorch's optimizers with weight decay by param groups."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest

import symbackprop as sbp

from symbackprop.api import open_problem
from symbackprop.errors import InputError
from symbackprop.names import name_of
from symbackprop.numbers.graph_training import compile_graph_optimizer, train_graph, train_graph_optimized

CONV_DENSE = {
    "name": "convdense", "inputs": [1, 2, -1, 0.5, 3], "targets": [0.5], "loss": "half_squared_error",
    "learning_rate": "0.1",
    "layers": [{"kind": "conv1d", "kernel": [[[1, 0, -1]], [[0.5, 0.2, 0.1]]], "bias": [0.1, -0.2]},
               {"kind": "flatten"},
               {"kind": "dense", "weights": [[0.1, 0.2, 0.3, 0.1, -0.1, 0.2]], "bias": [0.3]},
               {"kind": "sigmoid"}],
}
L2 = {"kind": "l2", "lambda": "0.1"}
STEPS = 5


def _torch_run(optimizer: str, biases: bool) -> list[list[float]]:
    """The same network in PyTorch 2.13 (float64, its autograd), stepped by its own optimizer with the l2
    penalty as `weight_decay` on the kernel and the weight matrix, and on the biases too when `biases`: every
    parameter, in the expansion's order (K, b_c1, W, b_d3), after each step."""
    import torch  # the test extra's torch==2.13.0, imported where used

    def tensor(values):
        return torch.tensor(values, dtype=torch.float64, requires_grad=True)

    kernel, conv_bias = tensor([[[1, 0, -1]], [[0.5, 0.2, 0.1]]]), tensor([0.1, -0.2])
    weights, dense_bias = tensor([[0.1, 0.2, 0.3, 0.1, -0.1, 0.2]]), tensor([0.3])
    x = torch.tensor([[[1, 2, -1, 0.5, 3]]], dtype=torch.float64)
    groups = [{"params": [kernel, weights], "weight_decay": 0.1},
              {"params": [conv_bias, dense_bias], "weight_decay": 0.1 if biases else 0.0}]
    step = torch.optim.Adam(groups, lr=0.1) if optimizer == "adam" else torch.optim.SGD(groups, lr=0.1)
    every = []
    for _ in range(STEPS):
        step.zero_grad()
        hidden = torch.nn.functional.conv1d(x, kernel, conv_bias).flatten()
        out = torch.sigmoid(weights @ hidden + dense_bias)
        ((0.5 - out) ** 2 / 2).sum().backward()
        step.step()
        every.append([v.item() for p in (kernel, conv_bias, weights, dense_bias) for v in p.detach().flatten()])
    return every


@pytest.mark.parametrize("biases", [False, True], ids=["weights-only", "biases-too"])
def test_a_layer_spec_s_adam_with_l2_takes_pytorchs_steps(biases):
    """Both compiled paths (mpmath and doubles) of the spec's own Adam and l2 penalty reach PyTorch's weights after
    each of five steps; by default the biases take no decay (PyTorch's param groups), with biases = true they do."""
    problem = open_problem({**CONV_DENSE, "optimizer": "adam", "regularization": {**L2, "biases": biases}})
    names = [s.name for s in problem.spec.trainable]
    expected = _torch_run("adam", biases)
    for backend in ("mpmath", "math"):
        program = compile_graph_optimizer(problem.derived, problem.optimizer(), backend)
        for step in range(1, STEPS + 1):
            ours = train_graph_optimized(program, step).parameters
            assert [float(ours[n]) for n in names] == pytest.approx(expected[step - 1], rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("biases", [False, True], ids=["weights-only", "biases-too"])
def test_a_layer_spec_s_gradient_descent_with_l2_takes_pytorchs_sgd_steps(biases):
    """The fused gradient descent loop (sgd, the spec names no optimizer) decays what PyTorch's SGD decays."""
    problem = open_problem({**CONV_DENSE, "regularization": {**L2, "biases": biases}})
    names = [s.name for s in problem.spec.trainable]
    expected = _torch_run("sgd", biases)
    for step in range(1, STEPS + 1):
        ours = train_graph(problem.derived, step, "math").parameters
        assert [ours[n] for n in names] == pytest.approx(expected[step - 1], rel=1e-12, abs=1e-14)


def test_the_penalty_leaves_out_every_parameter_of_one_axis_unless_it_says_biases():
    """Kernels, weight matrices (an RNN's W, U, V among them) and an embedding's table are penalized; biases
    (a convolution's, a dense layer's, an RNN's b and c) and a normalization's gamma and beta are not."""
    data = {"inputs": [1, 2], "targets": [[0.1], [0.2]], "loss": "half_squared_error", "learning_rate": "0.1",
            "regularization": L2,
            "layers": [{"kind": "embedding", "table": [[0.1, 0.2], [0.3, -0.1]]},
                       {"kind": "rnn", "W": [[0.5, -0.2]], "U": [[0.3]], "V": [[0.7]], "b": 0.1, "c": -0.1},
                       {"kind": "layernorm", "gamma": 1.5, "beta": 0.25}]}
    spec = open_problem(data).spec

    def bases(names) -> set[str]:
        return {name_of(n).base for n in names}

    assert bases(spec.unpenalized) == {"b", "c", "gamma", "beta"}
    assert bases(n for n in spec.trainable if spec.penalizes(n)) == {"C", "W", "U", "V"}
    assert open_problem({**data, "regularization": {**L2, "biases": True}}).spec.unpenalized == frozenset()
    convolution = open_problem({**CONV_DENSE, "regularization": L2}).spec
    assert {n.name for n in convolution.unpenalized} == {"b_c1,1", "b_c1,2", "b_d3,1"}
    assert not open_problem(CONV_DENSE).spec.penalizes(convolution.trainable[0])


def test_solve_shows_the_decayed_update_for_the_weights_alone_and_checks_their_penalty():
    text = open_problem({**CONV_DENSE, "regularization": L2}).solve(detail="full").render("text", width=None)
    assert "K₁,₁,₁⁺ = (1 - η · λ) · K₁,₁,₁ - η · ∂E/∂K₁,₁,₁ = (1 - 0.1 · 0.1) · 1 - 0.1 · " in text
    assert "W₁,₁⁺ = (1 - η · λ) · W₁,₁ - η · ∂E/∂W₁,₁ = " in text
    assert "b_c1,1⁺ = b_c1,1 - η · ∂E/∂b_c1,1 = " in text
    checks = text[text.index("Penalty checks"):]
    assert "W₁,₆" in checks and "b_c1,1" not in checks and "FAIL" not in checks
    both = open_problem({**CONV_DENSE, "regularization": {**L2, "biases": True}}).solve().render("text", width=None)
    assert "b_c1,1" in both[both.index("Penalty checks"):]


def test_solve_works_the_spec_s_optimizer_steps_with_the_penalty_on_the_weights():
    text = open_problem({**CONV_DENSE, "optimizer": {"kind": "adam", "beta1": 0.8}, "regularization": L2}).solve(
        checks=False).render("text", width=None)
    assert "Optimizer: adam, 1 step" in text and "β₁ = 0.8" in text
    assert "for each of the weights (not the biases, a normalization's γ and β), its derivative λ · θ" in text
    assert "m_K111⟨1⟩ = β₁ · m_K111⟨0⟩ + (1 - β₁) · (g_K111⟨1⟩ + λ · K₁,₁,₁⟨0⟩)" in text
    assert "m_bc11⟨1⟩ = β₁ · m_bc11⟨0⟩ + (1 - β₁) · g_bc11⟨1⟩ = " in text


def _command(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symbackprop.cli", *arguments], capture_output=True, text=True,
                          encoding="utf-8", timeout=300)


def test_train_runs_the_spec_s_optimizer_and_penalty_exactly_and_fast(tmp_path):
    spec = tmp_path / "convdense.json"
    spec.write_text(json.dumps({**CONV_DENSE, "optimizer": "adam", "regularization": L2}), encoding="utf-8")
    exact = json.loads(_command("train", str(spec), "--steps", "20", "--json").stdout)
    fast = json.loads(_command("train", str(spec), "--steps", "20", "--fast", "--json").stdout)
    plain = open_problem({**CONV_DENSE, "optimizer": "adam"}).train(20)
    assert exact["optimizer"] == fast["optimizer"] == "adam"
    assert abs(float(exact["loss_after"]) - float(fast["loss_after"])) < 1e-14
    assert abs(mpmath.mpf(exact["loss_after"]) - plain.error) > 1e-6  # the penalty changed the run


@pytest.mark.parametrize("field, value, message", [
    ("regularization", {"kind": "l3", "lambda": 0.1}, "regularization.kind: unknown penalty 'l3'"),
    ("regularization", {"kind": "l2", "lambda": -1}, "regularization.lambda: expected a positive number, got -1"),
    ("regularization", {"kind": "l2"}, "regularization.lambda: missing field"),
    ("regularization", {"kind": "l2", "lambda": 0.1, "biases": "yes"},
     "regularization.biases: expected true or false, got 'yes'"),
    ("regularization", {"kind": "l2", "lambda": 0.1, "weights": False}, "regularization: unknown field 'weights'"),
    ("regularization", "l2", "regularization: expected an object such as"),
    ("optimizer", "adagrad", "optimizer.kind: unknown optimizer 'adagrad'"),
    ("optimizer", {"kind": "adam", "beta1": 1}, "optimizer.beta1: expected a number from 0 up to (not including) 1"),
    ("optimizer", {"kind": "sgd", "momentum": 0.9}, "optimizer: unknown field 'momentum'"),
])
def test_bad_optimizer_and_regularization_fields_are_one_line_naming_the_field(tmp_path, field, value, message):
    with pytest.raises(InputError) as error:
        open_problem({**CONV_DENSE, field: value})
    assert str(error.value).startswith(message)
    spec = tmp_path / "bad.json"
    spec.write_text(json.dumps({**CONV_DENSE, field: value}), encoding="utf-8")
    result = _command("solve", str(spec))
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(f"symbackprop: {message}")


def test_a_penalty_that_covers_no_parameter_is_one_line():
    data = {"inputs": [[1, 2], [3, 5]], "targets": [[0, 1], [1, 0]], "loss": "half_squared_error",
            "learning_rate": "0.1", "layers": [{"kind": "batchnorm", "gamma": [1, 2]}], "regularization": L2}
    with pytest.raises(InputError, match=r"^regularization: no parameter of the layers takes the penalty"):
        open_problem(data)
    assert len(open_problem({**data, "regularization": {**L2, "biases": True}}).penalty_checks) == 4


def test_a_graph_s_l2_update_reads_one_minus_eta_lambda_with_lambda_among_its_values():
    data = {"values": {"x": -2, "y": 5}, "nodes": {"f": "x * y"}, "loss": "f", "learning_rate": "0.5",
            "regularization": {"kind": "l2", "lambda": "0.01"}}
    text = open_problem(data).solve().render("text", width=None)
    assert "x⁺ = (1 - η · λ) · x - η · ∂f/∂x = (1 - 0.5 · 0.01) · (-2) - 0.5 · 5 = -4.49" in text
    assert "\nλ     0.01\n" in text[text.index("Values"):text.index("Forward pass")]


@pytest.mark.parametrize("example", ["convnet", "lstm", "gru", "blocks", "attention"])
def test_the_parameters_alone_leave_out_what_the_expansion_leaves_out(example):
    """The fast path's parameters (no layer expanded) and the expansion agree on which names the penalty skips."""
    data = json.loads((Path(sbp.__file__).parent / "examples" / f"{example}.json").read_text())
    problem = open_problem({**data, "learning_rate": "0.1", "regularization": L2})
    assert problem.parameters.graph.unpenalized == problem.spec.unpenalized
    assert set(problem.spec.trainable) - problem.spec.unpenalized  # something is penalized
    assert bool(problem.spec.unpenalized) == (example != "attention")  # attention has no bias
