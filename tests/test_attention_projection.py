"""An attention layer's output projection W_O (the heads' outputs side by side, then W_O): derived, its
layer-level form proved against the graph, and every gradient equal to PyTorch's MultiheadAttention's."""

from __future__ import annotations

import random

import pytest

from symbackprop.checks.layers import check_layer_forms
from symbackprop.errors import InputError
from symbackprop.problem import open_problem


def _spec(positions: int, features: int, heads: int, causal: bool, seed: int, outputs: int | None = None) -> dict:
    """Random one-decimal numbers: X (positions × features), W_Q, W_K, W_V (features × features), W_O
    (features × outputs, features by default: PyTorch's shapes)."""
    rng = random.Random(seed)

    def matrix(rows, columns):
        return [[rng.randint(-9, 9) / 10 for _ in range(columns)] for _ in range(rows)]

    outputs = outputs or features
    layer = {"kind": "attention", "WQ": matrix(features, features), "WK": matrix(features, features),
             "WV": matrix(features, features), "WO": matrix(features, outputs), "heads": heads, "causal": causal}
    return {"inputs": matrix(positions, features), "layers": [layer], "targets": matrix(positions, outputs),
            "loss": "half_squared_error"}


def _torch_gradients(spec: dict) -> tuple[float, dict[str, float]]:
    """The loss and every gradient by our names, from torch.nn.MultiheadAttention (no biases, float64): its
    in_proj_weight stacks W_Qᵀ, W_Kᵀ, W_Vᵀ (it computes x Wᵀ) and out_proj.weight is W_Oᵀ."""
    import torch  # the test extra's torch==2.13.0, imported where used

    layer = spec["layers"][0]
    positions, features = len(spec["inputs"]), len(spec["inputs"][0])
    attention = torch.nn.MultiheadAttention(features, layer["heads"], bias=False, batch_first=True).double()
    with torch.no_grad():
        attention.in_proj_weight.copy_(torch.tensor([list(column) for key in ("WQ", "WK", "WV")
                                                     for column in zip(*layer[key])], dtype=torch.float64))
        attention.out_proj.weight.copy_(torch.tensor([list(column) for column in zip(*layer["WO"])], dtype=torch.float64))
    x = torch.tensor([spec["inputs"]], dtype=torch.float64, requires_grad=True)
    mask = torch.triu(torch.ones(positions, positions, dtype=torch.bool), diagonal=1) if layer["causal"] else None
    y, _ = attention(x, x, x, need_weights=False, attn_mask=mask)
    loss = ((torch.tensor([spec["targets"]], dtype=torch.float64) - y) ** 2 / 2).sum()
    loss.backward()
    gradients = {f"x_{t + 1},{i + 1}": x.grad[0, t, i].item() for t in range(positions) for i in range(features)}
    for block, key in enumerate("QKV"):  # row j of the block is column j of W_key
        rows = attention.in_proj_weight.grad[block * features:(block + 1) * features]
        gradients.update({f"W_{key},{i + 1},{j + 1}": rows[j, i].item() for i in range(features) for j in range(features)})
    out = attention.out_proj.weight.grad
    gradients.update({f"W_O,{j + 1},{m + 1}": out[m, j].item() for j in range(out.shape[1]) for m in range(out.shape[0])})
    return loss.item(), gradients


@pytest.mark.parametrize("positions, features, heads, causal", [(3, 4, 2, False), (3, 4, 2, True), (4, 6, 3, False),
                                                                (2, 2, 1, True)])
def test_the_output_projection_s_gradients_are_pytorchs(positions, features, heads, causal):
    spec = _spec(positions, features, heads, causal, seed=positions * 10 + heads)
    problem = open_problem(spec)
    loss, theirs = _torch_gradients(spec)
    ours = problem.gradients()
    assert abs(problem.values[problem.graph.loss] - loss) <= 1e-12 * max(1, abs(loss))
    assert set(theirs) == {leaf.name for leaf in problem.spec.values if not leaf.name.startswith("t_")}
    for name, value in theirs.items():
        assert abs(ours[name] - value) <= 1e-12 * max(1, abs(value)), (name, ours[name], value)


def test_the_projection_is_derived_proved_and_checked_and_its_worked_form_shown():
    problem = open_problem(_spec(3, 2, 2, False, seed=1, outputs=3))
    problem.finite_difference_checks()
    assert problem.layer_checks and all(check.equal for check in problem.layer_checks)
    assert {c.entry.split(",")[0] for c in problem.layer_checks} >= {"t1: dE/dW_O", "t1: dE/do_1"}
    text = problem.solve().render("text", width=None)
    assert "y₁,₁ = o₁,₁ · W_O,1,1 + o₁,₂ · W_O,2,1" in text
    assert "∂E/∂W_O,1,1 = o₁,₁ · ∂E/∂y₁,₁ + o₂,₁ · ∂E/∂y₂,₁ + o₃,₁ · ∂E/∂y₃,₁" in text
    assert "∂E/∂o₁,₁ = ∂E/∂y₁,₁ · W_O,1,1 + ∂E/∂y₁,₂ · W_O,1,2 + ∂E/∂y₁,₃ · W_O,1,3" in text
    assert ("the output projection y = o W_O (the heads' outputs o side by side, then W_O) first: ∂E/∂W_O is o "
            "transposed times ∂E/∂y and ∂E/∂o is ∂E/∂y times W_O transposed") in text


def test_a_projection_left_untransposed_is_caught():
    """∂E/∂o with W_O's row and column swapped (∂E/∂Y W_O rather than ∂E/∂Y W_Oᵀ) fails the proof."""
    problem = open_problem(_spec(2, 2, 2, False, seed=3))
    form = problem.layer_forms[0]
    WO = problem.layered.layers[0].recurrent["WO"]
    swap = {WO.at((j, m)): WO.at((m, j)) for j in range(2) for m in range(2)}
    wrong = [type(g)(g.quantity, g.expression.xreplace(swap), g.through) if g.quantity.name.startswith("o_") else g
             for g in form.gradients]
    checks = check_layer_forms([type(form)(form.layer, wrong, form.meaning)], problem.derived)
    assert {c.entry.split("_")[0] for c in checks if not c.equal} == {"t1: dE/do"}


def test_a_bad_projection_names_the_field():
    spec = _spec(2, 2, 2, False, seed=4)
    spec["layers"][0]["WO"] = [[1, 0], [0, 1], [1, 1]]
    with pytest.raises(InputError, match=r"^layers\[0\]\.WO: expected rows of numbers, one row per column of WV "
                                         r"\(2\), got shape \(3, 2\)$"):
        open_problem(spec)


def test_without_a_projection_the_heads_outputs_are_the_layer_s_output():
    spec = _spec(2, 2, 2, False, seed=5)
    del spec["layers"][0]["WO"]
    layer = open_problem(spec).layered.layers[0]
    assert layer.output is layer.timeline["o"] and "WO" not in layer.recurrent
