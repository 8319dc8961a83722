"""Every optimizer and weight penalty on the numpy fast path of layer specs (numbers/fast_optimizers.py): three
steps of each, with and without an l1 or l2 penalty (the biases covered or not), held to the graph engine's exact
worked steps after every step, on several layer kinds and on random settings; Adam, AdamW and momentum held to
PyTorch's own optimizers; and the fast path still builds no scalar node."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symbackprop as sbp
from benchmarks.bench_layers import convnet_spec
from symbackprop.derivation.optimizers import at_step
from symbackprop.errors import InputError
from symbackprop.layer_problem import LayerProblem
from symbackprop.numbers.fast_layers import FastLoop
from symbackprop.numbers.graph_training import exact_gradient, graph_trainee
from symbackprop.numbers.optimizers import worked_steps
from symbackprop.spec.vocabulary import OPTIMIZERS
from tests.test_fast_layers import TOLERANCE, assert_close, example
from tests.test_layer_penalty import CONV_DENSE

EXAMPLES = ("conv1d", "rnn", "attention", "batchnorm", "blocks")
"""Small specs of several layer kinds: a convolution with a bias, an RNN with b and c, attention (no bias), a batch
normalization (γ and β alone: only a penalty with biases = true covers it), and embedding-dropout-residual-dense
(a 0 among the weights and in β: l1's sign at its kink)."""
PENALTIES = {"none": None, "l2": {"kind": "l2", "lambda": "0.05"}, "l1": {"kind": "l1", "lambda": "0.02"},
             "l2-biases": {"kind": "l2", "lambda": "0.05", "biases": True},
             "l1-biases": {"kind": "l1", "lambda": "0.02", "biases": True}}
STEPS = 3


@lru_cache(maxsize=None)
def _problem(name: str, penalty: str) -> LayerProblem:
    data = example(name, "0.01")
    if PENALTIES[penalty] is not None:
        data["regularization"] = PENALTIES[penalty]
    return LayerProblem(data)


def compare(problem: LayerProblem, kind: str | None = None) -> None:
    """After each of `STEPS` steps of the optimizer (`kind`, else the spec's), the fast loop's loss before the step
    and every parameter after it equal the exact worked steps' (every line of the rule evaluated at 50 digits,
    uncompiled, from the graph engine's uncompiled gradients), and so does the loss after the last step."""
    optimizer = problem.optimizer(kind)
    trainee = graph_trainee(problem.derived)
    exact = worked_steps(trainee, optimizer, STEPS, exact_gradient(problem.derived))
    network = problem.fast_network
    loop = FastLoop(network, optimizer)
    values = loop.start()
    for step in range(1, STEPS + 1):
        [(loss, _)], values = loop.run(1, 1, *values)
        assert loss == pytest.approx(float(exact.steps[step - 1].error), rel=TOLERANCE), (kind, step)
        assert_close(network.named(loop.parameters(values[0])),
                     {s.name: exact.values[at_step(s, step)] for s in trainee.symbols}, (kind, step))
    assert network.error(loop.parameters(values[0])) == pytest.approx(float(exact.error), rel=TOLERANCE)


def _cases() -> list:
    return [pytest.param(name, penalty, kind, id=f"{name}-{penalty}-{kind}") for name in EXAMPLES
            for penalty in PENALTIES for kind in OPTIMIZERS
            if name != "batchnorm" or penalty in ("none", "l2-biases", "l1-biases")]


@pytest.mark.parametrize(("name", "penalty", "kind"), _cases())
def test_every_optimizer_and_penalty_steps_as_the_exact_path(name, penalty, kind):
    compare(_problem(name, penalty), kind)


def test_the_penalty_covers_the_arrays_the_exact_path_penalizes():
    """Biases (and γ, β) take the penalty only with biases = true; the test above would not see a penalty put
    on the wrong array if no array differed, so the cover is named here too."""
    loop = FastLoop(_problem("rnn", "l2").fast_network)
    assert dict(zip(loop.keys(), loop.update.penalized)) == {
        ("r1", "W"): True, ("r1", "U"): True, ("r1", "V"): True, ("r1", "b"): False, ("r1", "c"): False}
    assert all(FastLoop(_problem("rnn", "l2-biases").fast_network).update.penalized)
    assert not any(FastLoop(_problem("rnn", "none").fast_network).update.penalized)


def test_l1_s_sign_is_zero_at_zero_entry_by_entry():
    """blocks' dense weights hold zeros: l1's derivative λ sign(w) is 0 there and ±λ elsewhere, in one array."""
    loop = FastLoop(_problem("blocks", "l1").fast_network)
    keys = loop.keys()
    arrays, state, _ = loop.start()
    k = keys.index(("d41", "weights"))
    zero = np.zeros_like(arrays[k])
    after, _ = loop.update.step(arrays, [zero if j == k else np.zeros_like(a) for j, a in enumerate(arrays)], state, 1)
    weights = arrays[k]
    assert (weights == 0).any() and (weights != 0).any()
    assert after[k] == pytest.approx(weights - 0.01 * 0.02 * np.sign(weights), rel=1e-15, abs=0)
    assert np.array_equal(after[k][weights == 0], weights[weights == 0])


decimals = st.integers(1, 99).map(lambda k: f"0.{k:02d}")


@st.composite
def optimizers(draw) -> dict:
    kind = draw(st.sampled_from(sorted(OPTIMIZERS)))
    spec = {"kind": kind}
    for setting in OPTIMIZERS[kind]:
        spec[setting] = draw(st.sampled_from(["1e-8", "1e-3", "0.1"])) if setting == "epsilon" else draw(decimals)
    return spec


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["conv1d", "rnn", "blocks"]), optimizers(),
       st.none() | st.fixed_dictionaries({"kind": st.sampled_from(["l1", "l2"]), "lambda": decimals,
                                          "biases": st.booleans()}),
       st.sampled_from(["0.01", "0.1", "0.3"]))
def test_random_optimizer_settings_step_as_the_exact_path(name, optimizer, regularization, rate):
    data = {**example(name, rate), "optimizer": optimizer}
    if regularization is not None:
        data["regularization"] = regularization
    compare(LayerProblem(data))


def _torch_steps(kind: str, weight_decay: float, biases: bool) -> list[list[float]]:
    """CONV_DENSE in PyTorch 2.13 (float64, its autograd) stepped by its own optimizer: Adam and SGD with momentum
    with the l2 penalty as weight_decay on the kernel and weights (the biases too when `biases`), AdamW with its
    decoupled decay on every parameter; every parameter after each step, in the spec's order."""
    import torch  # the test extra's torch==2.13.0, imported where used

    def tensor(values):
        return torch.tensor(values, dtype=torch.float64, requires_grad=True)

    kernel, conv_bias = tensor([[[1, 0, -1]], [[0.5, 0.2, 0.1]]]), tensor([0.1, -0.2])
    weights, dense_bias = tensor([[0.1, 0.2, 0.3, 0.1, -0.1, 0.2]]), tensor([0.3])
    x = torch.tensor([[[1, 2, -1, 0.5, 3]]], dtype=torch.float64)
    groups = [{"params": [kernel, weights], "weight_decay": weight_decay},
              {"params": [conv_bias, dense_bias], "weight_decay": weight_decay if biases else 0.0}]
    step = {"adam": lambda: torch.optim.Adam(groups, lr=0.1, betas=(0.8, 0.99), eps=1e-8),
            "adamw": lambda: torch.optim.AdamW([kernel, conv_bias, weights, dense_bias], lr=0.1, weight_decay=0.05),
            "momentum": lambda: torch.optim.SGD(groups, lr=0.1, momentum=0.7)}[kind]()
    every = []
    for _ in range(5):
        step.zero_grad()
        out = torch.sigmoid(weights @ torch.nn.functional.conv1d(x, kernel, conv_bias).flatten() + dense_bias)
        ((0.5 - out) ** 2 / 2).sum().backward()
        step.step()
        every.append([v.item() for p in (kernel, conv_bias, weights, dense_bias) for v in p.detach().flatten()])
    return every


@pytest.mark.parametrize(("kind", "optimizer", "regularization"), [
    ("adam", {"kind": "adam", "beta1": "0.8", "beta2": "0.99"}, {"kind": "l2", "lambda": "0.1"}),
    ("adam", {"kind": "adam", "beta1": "0.8", "beta2": "0.99"}, {"kind": "l2", "lambda": "0.1", "biases": True}),
    ("adamw", {"kind": "adamw", "weight_decay": "0.05"}, None),
    ("momentum", {"kind": "momentum", "momentum": "0.7"}, {"kind": "l2", "lambda": "0.1"}),
])
def test_the_fast_path_takes_pytorchs_steps(kind, optimizer, regularization):
    data = {**CONV_DENSE, "optimizer": optimizer}
    if regularization is not None:
        data["regularization"] = regularization
    problem = sbp.open_problem(data)
    names = [entry.name for entry in problem.parameters.graph.trainable]
    expected = _torch_steps(kind, float(regularization["lambda"]) if regularization else 0.0,
                            bool(regularization and regularization.get("biases")))
    for step in range(1, 6):
        ours = problem.train(step, backend="numpy").parameters
        assert [ours[n] for n in names] == pytest.approx(expected[step - 1], rel=1e-12, abs=1e-14), (kind, step)


def test_train_with_any_optimizer_and_penalty_builds_no_scalar_node():
    spec = {**convnet_spec(), "learning_rate": "0.001", "optimizer": "adam",
            "regularization": {"kind": "l2", "lambda": "0.01"}}
    problem = sbp.open_problem(spec)  # 28x28, conv-relu-maxpool-flatten-dense-sigmoid
    training = problem.train(2, fast=True)
    assert {"layered", "spec", "graph", "derived"}.isdisjoint(vars(problem))
    assert training.optimizer == "adam" and training.error < training.history[0][0]


def test_a_non_simultaneous_order_is_still_refused():
    with pytest.raises(InputError, match="^order: a layer spec updates every parameter at once"):
        sbp.open_problem(example("rnn")).train(1, backend="numpy", optimizer="adam", order="output-first")


def test_cli_train_numpy_with_adam(tmp_path):
    spec = tmp_path / "rnn.json"
    spec.write_text(json.dumps({**example("rnn", "0.1"), "regularization": {"kind": "l1", "lambda": "0.01"}}))
    done = subprocess.run([sys.executable, "-m", "symbackprop.cli", "train", str(spec), "--numpy", "--optimizer",
                           "adam", "--steps", "3", "--format", "json"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    exact = sbp.open_problem(json.loads(spec.read_text())).train(3, optimizer="adam")
    assert report["optimizer"] == "adam"
    assert float(report["loss_after"]) == pytest.approx(float(exact.error), rel=TOLERANCE)
