"""Truncated BPTT (`truncate = k` on rnn, lstm and gru layers): the state after steps k, 2k, ... enters the
next step through detach (value kept, derivative 0), checked against PyTorch's `.detach()` every k steps."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest
from hypothesis import given, settings, strategies as st

from symbackprop.checks.layers import check_layer_forms
from symbackprop.errors import CheckFailure, InputError
from symbackprop.problem import open_problem

_EXAMPLES = Path(__file__).resolve().parent.parent / "symbackprop" / "examples"
GATES = {"lstm": "ifog", "gru": "run"}


def _example(kind: str, **layer) -> dict:
    spec = json.loads((_EXAMPLES / f"{kind}.json").read_text(encoding="utf-8"))
    spec["layers"][0].update(layer)
    return spec


def _close(ours, theirs, digits: int = 12) -> bool:
    return abs(ours - theirs) <= mpmath.mpf(10) ** -digits * max(1, abs(ours))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_a_truncation_of_at_least_the_sequence_s_length_is_the_full_bptt(kind):
    full = open_problem(_example(kind))
    steps = full.layer_spec.inputs.shape[0]
    for k in (steps, steps + 2):
        truncated = open_problem(_example(kind, truncate=k))
        assert not any("detach" in str(node.expression) for node in truncated.graph.nodes)
        assert truncated.gradients() == full.gradients()
        assert all(check.equal for check in truncated.layer_checks)
        text = truncated.solve().render("text", width=None)
        assert "no chunk ends inside the sequence, so this is the full BPTT" in text


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_truncating_every_step_leaves_each_state_its_own_step_s_gradient_alone(kind):
    problem = open_problem(_example(kind, truncate=1))
    full = open_problem(_example(kind))
    gradients, layer = problem.gradients(), problem.layered.layers[0]
    steps, outputs = layer.output.shape
    V = layer.recurrent["V"]
    for t in range(steps):  # dE/dh<t> = V^T dE/dy<t>: nothing comes back from step t + 1
        for j in range(V.shape[1]):
            own = sum(problem.values[V.at((k, j))] * gradients[layer.output.at((t, k)).name] for k in range(outputs))
            assert _close(gradients[layer.timeline["h"].at((t + 1, j)).name], own)
    problem.finite_difference_checks()
    assert problem.layer_checks and all(check.equal for check in problem.layer_checks)
    weight = "W_1,1" if kind == "rnn" else f"W_{GATES[kind][0]},1,1"
    assert not _close(gradients[weight], full.gradients()[weight], 6)  # truncation is not a no-op


def test_the_worked_solution_says_what_the_truncated_gradient_is_the_gradient_of():
    text = open_problem(_example("rnn", truncate=2)).solve().render("text", width=None)
    assert "hd₁⟨2⟩ = detach(h₁⟨2⟩) = detach(0.593965704) = 0.593965704" in text
    assert "∂hd₁⟨2⟩/∂h₁⟨2⟩ = 0 · 1 = 0" in text
    assert "∂E/∂hd₁⟨2⟩ = U₁,₁ · ∂E/∂s₁⟨3⟩ + U₂,₁ · ∂E/∂s₂⟨3⟩" in text
    assert "∂E/∂U₁,₁ = ∂E/∂s₁⟨1⟩ · h₁⟨0⟩ + ∂E/∂s₁⟨2⟩ · h₁⟨1⟩ + ∂E/∂s₁⟨3⟩ · hd₁⟨2⟩" in text
    assert ("Every gradient here, and its finite-difference check, is the exact gradient of E with the detached "
            "states held fixed; the full gradient adds the terms that flow back across the chunk boundaries.") in text
    assert "Proved entry by entry in SymPy: 35 of 35 entries" in text


def test_finite_differences_hold_the_detached_states_fixed(monkeypatch):
    """Moving W through the detached copies as well measures the full gradient, not the truncated one."""
    from symbackprop.checks import graph

    problem = open_problem(_example("lstm", truncate=1))
    problem.finite_difference_checks()
    monkeypatch.setattr(graph, "is_detached", lambda expression: False)
    with pytest.raises(CheckFailure, match="adjoint check failed"):
        open_problem(_example("lstm", truncate=1)).finite_difference_checks()


def test_a_form_that_lets_the_gradient_cross_the_chunk_s_end_is_caught():
    problem = open_problem(_example("rnn", truncate=2))
    form = problem.layer_forms[0]
    by_name = {g.quantity.name: g for g in form.gradients}
    wrong = [type(g)(g.quantity, g.expression + by_name["hd" + g.quantity.name[1:]].expression, g.through)
             if g.quantity.name in ("h_1<2>", "h_2<2>") else g for g in form.gradients]  # full BPTT's term kept
    checks = check_layer_forms([type(form)(form.layer, wrong, form.meaning)], problem.derived)
    assert [c.entry for c in checks if not c.equal] == ["r1: dE/dh_1<2>", "r1: dE/dh_2<2>"]


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "2"])
def test_a_bad_truncation_names_the_field(value):
    with pytest.raises(InputError, match=rf"^layers\[0\]\.truncate: expected a positive whole number, got {value!r}$"):
        open_problem(_example("gru", truncate=value))


def test_a_bad_truncation_on_the_command_line_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "rnn.json"
    path.write_text(json.dumps(_example("rnn", truncate=0)), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "symbackprop.cli", "solve", str(path)], capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == ["symbackprop: layers[0].truncate: expected a positive whole number, got 0"]


# --- against PyTorch: .detach() every k steps, float64 -----------------------------------------------

def _random_spec(kind: str, seed: int, k: int, steps: int = 4, inputs: int = 2, hidden: int = 2, outputs: int = 2) -> dict:
    """A random recurrent layer of exact one-decimal numbers, with every bias and initial state given."""
    rng = random.Random(seed)

    def matrix(rows, columns):
        return [[rng.randint(-9, 9) / 10 for _ in range(columns)] for _ in range(rows)]

    def vector(size):
        return [rng.randint(-9, 9) / 10 for _ in range(size)]

    if kind == "rnn":
        layer = {"W": matrix(hidden, inputs), "U": matrix(hidden, hidden), "b": vector(hidden), "c": vector(outputs)}
    else:
        layer = {"W": {q: matrix(hidden, inputs) for q in GATES[kind]}, "U": {q: matrix(hidden, hidden) for q in GATES[kind]},
                 "b": {**{q: vector(hidden) for q in GATES[kind]}, "y": vector(outputs)}}
    layer.update(kind=kind, V=matrix(outputs, hidden), h0=vector(hidden), truncate=k)
    if kind == "lstm":
        layer["c0"] = vector(hidden)
    return {"inputs": matrix(steps, inputs), "layers": [layer], "targets": matrix(steps, outputs),
            "loss": "half_squared_error", "learning_rate": 0.25}


def _torch_model(spec: dict):
    """The layer as PyTorch's RNNCell or LSTMCell (a GRU in Cho et al.'s form, written in torch operations:
    PyTorch's GRUCell puts the reset gate after U_n), in float64; the parameters by our names, and the loss
    computed with .detach() on the state every k steps."""
    import torch  # the test extra's torch==2.13.0, imported where used

    layer = spec["layers"][0]
    kind, k = layer["kind"], layer["truncate"]

    def tensor(value, grad=True):
        return torch.tensor(value, dtype=torch.float64, requires_grad=grad)

    named = {"x": tensor(spec["inputs"]), "h0": tensor(layer["h0"]), "V": tensor(layer["V"])}
    if kind == "rnn":
        cell = torch.nn.RNNCell(len(spec["inputs"][0]), len(layer["h0"])).double()
        with torch.no_grad():
            cell.weight_ih.copy_(tensor(layer["W"], False)), cell.weight_hh.copy_(tensor(layer["U"], False))
            cell.bias_ih.copy_(tensor(layer["b"], False)), cell.bias_hh.zero_()
        named.update(W=cell.weight_ih, U=cell.weight_hh, b=cell.bias_ih, c=tensor(layer["c"]))
    elif kind == "lstm":
        cell = torch.nn.LSTMCell(len(spec["inputs"][0]), len(layer["h0"])).double()
        order = "ifgo"  # PyTorch stacks the gates i, f, g, o
        with torch.no_grad():
            cell.weight_ih.copy_(tensor([row for q in order for row in layer["W"][q]], False))
            cell.weight_hh.copy_(tensor([row for q in order for row in layer["U"][q]], False))
            cell.bias_ih.copy_(tensor([v for q in order for v in layer["b"][q]], False)), cell.bias_hh.zero_()
        named.update(weight_ih=cell.weight_ih, weight_hh=cell.weight_hh, bias_ih=cell.bias_ih, c0=tensor(layer["c0"]),
                     by=tensor(layer["b"]["y"]))
    else:
        named.update({f"{key}{q}": tensor(layer[key][q]) for key in "WUb" for q in "run"}, by=tensor(layer["b"]["y"]))
    targets = torch.tensor(spec["targets"], dtype=torch.float64)

    def loss():
        h, c, total = named["h0"], named.get("c0"), 0
        for t in range(len(spec["inputs"])):
            if t and t % k == 0:  # the usual truncated BPTT loop: detach the state every k steps
                h, c = h.detach(), (c.detach() if c is not None else None)
            x = named["x"][t]
            if kind == "rnn":
                h = cell(x, h)
            elif kind == "lstm":
                h, c = cell(x, (h, c))
            else:
                r, u = (torch.sigmoid(named[f"W{q}"] @ x + named[f"U{q}"] @ h + named[f"b{q}"]) for q in "ru")
                n = torch.tanh(named["Wn"] @ x + named["Un"] @ (r * h) + named["bn"])
                h = (1 - u) * n + u * h
            y = named["V"] @ h + named["c" if kind == "rnn" else "by"]
            total = total + ((targets[t] - y) ** 2 / 2).sum()
        return total

    return named, loss


def _by_name(named: dict, kind: str, spec: dict, of=lambda tensor: tensor.grad) -> dict[str, float]:
    """PyTorch's gradients (or, with `of`, another tensor of each parameter) by our names: W_1,2; W_f,1,2;
    b_y,1; x_2<3>; h_1<0>."""
    out: dict[str, float] = {}

    def put(prefix, grad, step=None):
        for index, value in enumerate(grad.flatten().tolist()):
            at = divmod(index, grad.shape[1]) if grad.dim() == 2 else (index,)
            out[f"{prefix}{','.join(str(i + 1) for i in at)}" + (f"<{step}>" if step is not None else "")] = value

    for t, row in enumerate(of(named["x"])):
        put("x_", row, t + 1)
    put("h_", of(named["h0"]), 0)
    put("V_", of(named["V"]))
    if kind == "rnn":
        for key in "WUbc":
            put(f"{key}_", of(named[key]))
        return out
    if kind == "lstm":
        put("c_", of(named["c0"]), 0)
        hidden = len(spec["layers"][0]["h0"])
        for block, q in enumerate("ifgo"):
            rows = slice(block * hidden, (block + 1) * hidden)
            put(f"W_{q},", of(named["weight_ih"])[rows])
            put(f"U_{q},", of(named["weight_hh"])[rows])
            put(f"b_{q},", of(named["bias_ih"])[rows])
    else:
        for key in "WUb":
            for q in "run":
                put(f"{key}_{q},", of(named[f"{key}{q}"]))
    put("b_y,", of(named["by"]))
    return out


@pytest.mark.parametrize("kind, k", [("rnn", 1), ("rnn", 2), ("rnn", 3), ("lstm", 1), ("lstm", 2), ("gru", 2)])
def test_truncated_gradients_are_pytorchs_with_detach_every_k_steps(kind, k):
    spec = _random_spec(kind, seed=14 + k, k=k)
    problem = open_problem(spec)
    ours = problem.gradients()
    named, loss = _torch_model(spec)
    value = loss()
    value.backward()
    theirs = _by_name(named, kind, spec)
    assert _close(problem.values[problem.graph.loss], value.item())
    assert set(theirs) == {leaf.name for leaf in problem.spec.values if not leaf.name.startswith("t_")}
    for name, v in theirs.items():
        assert _close(ours[name], v), (name, ours[name], v)


@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(["rnn", "lstm", "gru"]), seed=st.integers(0, 10**6), k=st.integers(1, 5),
       steps=st.integers(1, 5), inputs=st.integers(1, 2), hidden=st.integers(1, 2), outputs=st.integers(1, 2))
def test_random_shapes_and_truncations_agree_with_pytorch_and_their_proof(kind, seed, k, steps, inputs, hidden, outputs):
    """T = 1, k beyond T, one unit, odd sizes: PyTorch's gradients, and every layer-level entry proved."""
    spec = _random_spec(kind, seed, k, steps, inputs, hidden, outputs)
    problem = open_problem(spec)
    named, loss = _torch_model(spec)
    loss().backward()
    ours = problem.gradients()
    for name, value in _by_name(named, kind, spec).items():
        assert _close(ours[name], value), (name, ours[name], value)
    assert problem.layer_checks and all(check.equal for check in problem.layer_checks)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_training_with_truncation_takes_pytorchs_sgd_steps(kind):
    """`train` on the exact path, three steps, beside torch.optim.SGD on the same truncated loss."""
    import torch

    spec = _random_spec(kind, seed=5, k=2, steps=3)
    trained = open_problem(spec).train(3).parameters
    named, loss = _torch_model(spec)
    optimizer = torch.optim.SGD([p for key, p in named.items() if key not in ("x", "h0", "c0")], lr=0.25)
    for _ in range(3):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    theirs = _by_name(named, kind, spec, of=lambda tensor: tensor.detach())
    assert trained and set(trained) <= set(theirs)
    for name, value in trained.items():
        assert _close(value, theirs[name]), (name, value, theirs[name])
