"""Layer specs: their expansion to the graph engine, the convolution's layer-level form and its proof."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from itertools import product

import mpmath
import pytest
from hypothesis import given, settings, strategies as st
from sympy import Rational, diff

from symbackprop.checks.layers import check_layer_forms, require_layer_forms
from symbackprop.errors import CheckFailure, InputError
from symbackprop.layer_problem import LayerProblem
from symbackprop.numbers.evaluate import evaluate, to_mpf
from symbackprop.problem import open_problem


def _spec(inputs, layers, targets, loss="half_squared_error") -> dict:
    return {"inputs": inputs, "layers": layers, "targets": targets, "loss": loss}


def _nested(values, shape):
    """Flat values as nested lists of `shape`."""
    if len(shape) == 1:
        return list(values)
    step = len(values) // shape[0]
    return [_nested(values[k * step:(k + 1) * step], shape[1:]) for k in range(shape[0])]


# --- an independent reference: convolution written from its definition, differentiated by sympy.diff --

def _reference_outputs(problem: LayerProblem) -> list:
    """Each convolution's outputs written out from the definition, over an explicitly zero-padded input:
    y[f, o] = sum over c and w of K[f, c, w] xpad[c, o s + w] (+ b[f]); the layers are all convolutions."""
    current = None
    for layer in problem.layered.layers:
        source = layer.source if current is None else current
        channels, sizes = source.shape[0], source.shape[1:]
        p, s = layer.spec.padding, layer.spec.stride
        padded = {}
        for c, *at in product(range(channels), *(range(n + 2 * p) for n in sizes)):
            inside = all(p <= a < n + p for a, n in zip(at, sizes))
            padded[(c, *at)] = source.at((c, *(a - p for a in at))) if inside else 0
        kernel = layer.kernel
        window = kernel.shape[2:]
        outputs = [(n + 2 * p - k) // s + 1 for n, k in zip(sizes, window)]
        entries = []
        for f, *o in product(range(kernel.shape[0]), *(range(n) for n in outputs)):
            total = sum(kernel.at((f, c, *w)) * padded[(c, *(oi * s + wi for oi, wi in zip(o, w)))]
                        for c in range(channels) for w in product(*(range(k) for k in window)))
            entries.append(total + (layer.bias.at((f,)) if layer.bias is not None else 0))
        current = type(source)((kernel.shape[0], *outputs), tuple(entries))
    return list(current.entries)


def _require_reference(problem: LayerProblem) -> None:
    """Every adjoint of a leaf equals sympy.diff of the loss composed from the reference, to 40 digits."""
    outputs = _reference_outputs(problem)
    targets = [symbol for symbol in problem.spec.values if symbol.name.startswith("t")]
    loss = sum(Rational(1, 2) * (t - y) ** 2 for t, y in zip(targets, outputs))
    point = dict(problem.spec.values)
    gradients = problem.gradients()
    for leaf in problem.spec.values:
        expected = to_mpf(diff(loss, leaf).xreplace(point))
        assert abs(gradients[leaf.name] - expected) <= mpmath.mpf(10) ** -40 * max(1, abs(expected)), leaf


@st.composite
def convolutions(draw):
    """One or two convolutions (1-d or 2-d) of random shapes: odd sizes, strides above 1, padding,
    several channels and filters, with or without a bias, the kernel written without axes or with."""
    dims = draw(st.integers(1, 2))
    number = st.decimals(-2, 2, places=1).map(str)
    channels = draw(st.integers(1, 2))
    sizes = [draw(st.integers(1, 5 if dims == 1 else 4)) for _ in range(dims)]
    shape = (channels, *sizes)
    bare = channels == 1 and draw(st.booleans())
    inputs = _nested(draw(st.lists(number, min_size=channels * _prod(sizes), max_size=channels * _prod(sizes))),
                     shape[1:] if bare else shape)
    layers = []
    for _ in range(draw(st.integers(1, 2))):
        padding = draw(st.integers(0, 2))
        window = [draw(st.integers(1, min(3, n + 2 * padding))) for n in shape[1:]]
        stride = draw(st.integers(1, 3))
        filters = 1 if bare else draw(st.integers(1, 2))
        kernel_shape = window if bare else [filters, shape[0], *window]
        kernel = _nested(draw(st.lists(number, min_size=_prod(kernel_shape), max_size=_prod(kernel_shape))),
                         kernel_shape)
        layer = {"kind": f"conv{dims}d", "kernel": kernel, "stride": stride, "padding": padding}
        if draw(st.booleans()):
            layer["bias"] = draw(number) if filters == 1 else [draw(number) for _ in range(filters)]
        layers.append(layer)
        shape = (filters, *((n + 2 * padding - k) // stride + 1 for n, k in zip(shape[1:], window)))
    out = _prod(shape)
    targets = _nested(draw(st.lists(number, min_size=out, max_size=out)), shape[1:] if bare else shape)
    return _spec(inputs, layers, targets)


def _prod(values) -> int:
    result = 1
    for v in values:
        result *= v
    return result


@settings(max_examples=30, deadline=None)
@given(convolutions())
def test_random_convolutions_agree_with_the_definition_the_finite_differences_and_the_layer_form(data):
    problem = open_problem(data)
    assert isinstance(problem, LayerProblem)
    _require_reference(problem)
    problem.finite_difference_checks()
    checks = problem.layer_checks
    assert checks and all(check.equal for check in checks)


def test_the_conv1d_example_against_the_definition_and_its_worked_layer_form():
    problem = open_problem("conv1d")
    _require_reference(problem)
    text = problem.solve().render("text", width=None)
    assert "Layer c1: conv1d at the layer level" in text
    assert "∂E/∂K₂ = x₁ · ∂E/∂y₁ + x₃ · ∂E/∂y₂ + x₅ · ∂E/∂y₃" in text  # one term per output position
    assert "∂E/∂x₂ = ∂E/∂y₂ · K₁ + ∂E/∂y₁ · K₃" in text  # the flipped kernel: K₃ meets the earlier output
    assert "Proved entry by entry in SymPy: 9 of 9 entries" in text


# --- planted mistakes ------------------------------------------------------------------------------

def _planted(monkeypatch, name: str, wrong) -> list:
    convolution = importlib.import_module("symbackprop.derivation.convolution")  # symbackprop.derivation is a function
    problem = open_problem(_spec([1, 2, -1, 0.5, 3], [{"kind": "conv1d", "kernel": [0.5, -1, 0.25], "stride": 2}],
                                 [0.5, 1]))
    monkeypatch.setattr(convolution, name, wrong)
    return check_layer_forms(convolution.convolution_forms(problem.layered, problem.derived), problem.derived)


def test_a_kernel_left_unflipped_is_caught(monkeypatch):
    checks = _planted(monkeypatch, "flipped", lambda array, shape: array)
    assert any(not check.equal for check in checks)
    with pytest.raises(CheckFailure, match=r"c1: dE/dx_\d: layer-level .* graph "):
        require_layer_forms(checks)


def test_a_delta_not_dilated_by_the_stride_is_caught(monkeypatch):
    checks = _planted(monkeypatch, "dilated", lambda array, stride: array)
    assert any(not check.equal for check in checks if "dE/dK" in check.entry)


# --- pooling, dense, activations ---------------------------------------------------------------------

def test_max_pooling_routes_the_gradient_to_the_arg_max_and_average_pooling_shares_it():
    gradients = open_problem(_spec([1, 3, 2, -1], [{"kind": "maxpool1d", "size": 2}], [0, 0])).gradients()
    assert [gradients[f"x_{k}"] for k in range(1, 5)] == [0, 3, 2, 0]  # dE/dp = p - t, to each window's larger entry
    gradients = open_problem(_spec([1, 3, 2, -1], [{"kind": "avgpool1d", "size": 2}], [0, 0])).gradients()
    assert [gradients[f"x_{k}"] for k in range(1, 5)] == [1, 1, Rational(1, 4), Rational(1, 4)]


def test_conv_pool_flatten_dense_sigmoid_passes_every_check():
    problem = open_problem("convnet")
    problem.finite_difference_checks()
    assert all(check.equal for check in problem.layer_checks)
    text = problem.solve().render("text", width=None)
    assert "p₁,₁ = max(a_a2,1,1, a_a2,1,2, a_a2,2,1, a_a2,2,2) = max(0.1, 0.22, 0.13, 0.11) = 0.22" in text


def test_a_large_convolution_shows_tables_of_numbers():
    values = [f"{(k % 7) / 10}" for k in range(64)]
    problem = open_problem(_spec(_nested(values, (8, 8)), [{"kind": "conv2d", "kernel": [[1, 0], [0, -1]]},
                                                          {"kind": "flatten"},
                                                          {"kind": "dense", "weights": [[0.1] * 49]}], [1]))
    record = problem.solve(checks=False).record
    section = next(s for s in record.sections if s.title.startswith("Layer c1"))
    tables = [item for item in section.items if type(item).__name__ == "Table"]
    assert [len(t.rows) for t in tables] == [7, 2, 8] and tables[0].header == ("", *map(str, range(1, 8)))
    assert tables[1].rows[0][0] == "1, 1, 1" and len(tables[1].rows[0]) == 3  # filter 1, channel 1, row 1 of K


# --- the spec --------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    ({"layers": [{"kind": "conv1d", "kernel": [1, 2], "stride": 0}]},
     "layers[0].stride: expected a positive whole number, got 0"),
    ({"layers": [{"kind": "conv1d", "kernel": [1, 2], "padding": -1}]},
     "layers[0].padding: expected a whole number, 0 or more, got -1"),
    ({"layers": [{"kind": "conv1d", "kernel": [1, 2, 3, 4, 5, 6]}]},
     "layers[0].kernel: the window (6) is wider than the padded input (5) on axis 1"),
    ({"layers": [{"kind": "conv1d", "kernel": [[[1, 2]], [[1]]]}]}, "layers[0].kernel[1][0]: expected a list of 2 entries"),
    ({"layers": [{"kind": "conv2d", "kernel": [[1]]}]},
     "layers[0]: conv2d takes an input of 2 or 3 axes (channels first), got shape (5,)"),
    ({"layers": [{"kind": "dense", "weights": [[1, 2]]}]}, "layers[0].weights: expected rows of 5 numbers"),
    ({"layers": [{"kind": "conv1d", "kernel": [1], "bias": [1, 2]}]},
     "layers[0].bias: expected 1 numbers (one per filter), got shape (2,)"),
    ({"layers": [{"kind": "conv1d", "kernel": [1], "dilation": 2}]}, "layers[0].dilation: unknown field for conv1d"),
    ({"layers": [{"kind": "pool"}]}, "layers[0].kind: unknown kind 'pool'"),
    ({"layers": [{"kind": "maxpool1d", "size": 2}], "targets": [1, 2, 3]},
     "targets: expected shape (2,) (the last layer's output), got (3,)"),
    ({"inputs": [1, "x"]}, "inputs[1]: expected a number, got 'x'"),
    ({"loss": "hinge"}, "loss: unknown loss 'hinge'"),
])
def test_bad_layer_specs_name_the_field(change, message):
    data = _spec([1, 2, 3, 4, 5], [{"kind": "conv1d", "kernel": [1, 2]}], [1, 2, 3, 4]) | change
    with pytest.raises(InputError) as error:
        open_problem(data)
    assert str(error.value).startswith(message)


def test_a_bad_layer_spec_on_the_command_line_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_spec([1, 2, 3], [{"kind": "conv1d", "kernel": [1, 2], "stride": 1.5}], [1, 2])))
    result = subprocess.run([sys.executable, "-m", "symbackprop.cli", "solve", str(path)], capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == ["symbackprop: layers[0].stride: expected a positive whole number, got "
                                          "Decimal('1.5')"]


def test_the_guide_s_worked_example_is_current_and_its_examples_run():
    import re
    from pathlib import Path

    from symbackprop.printers import MarkdownPrinter

    guide = (Path(__file__).resolve().parent.parent / "docs" / "layers.md").read_text(encoding="utf-8")
    generated = MarkdownPrinter().doprint(open_problem("conv1d").solve().record)
    assert guide.endswith(generated), "regenerate the end of docs/layers.md with: symbackprop solve conv1d --format markdown"
    for block in re.findall(r"```python\n(.*?)```", guide, re.S):
        exec(compile(block, "docs/layers.md", "exec"), {})  # the guide's own examples, not user text


@pytest.mark.parametrize("example", ["convnet", "rnn", "lstm", "gru", "attention", "batchnorm", "blocks"])
def test_every_example_s_worked_solution_in_the_docs_is_current(example):
    from pathlib import Path

    from symbackprop.printers import MarkdownPrinter

    page = (Path(__file__).resolve().parent.parent / "docs" / "layers" / f"{example}.md").read_text(encoding="utf-8")
    assert page == MarkdownPrinter().doprint(open_problem(example).solve().record), \
        f"regenerate with: symbackprop solve {example} --format markdown -o docs/layers/{example}.md"


def test_ties_and_kinks_are_reported_and_their_checks_neither_pass_nor_fail():
    problem = open_problem(_spec([2, 2, 1, -1], [{"kind": "maxpool1d", "size": 2}, {"kind": "relu"}], [0, 0]))
    status = {check.quantity: check.status for check in problem.finite_difference_checks()}
    assert status["x_1"] == status["x_2"] == "kink" and status["x_3"] == status["x_4"] == "pass"
    assert problem.gradients()["x_1"] == 2 and problem.gradients()["x_2"] == 0  # to the first of the tied
    text = problem.solve().render("text", width=None)
    assert "kink: max is not differentiable where its largest arguments are equal; the engine routes the gradient " \
           "to the first of them in the max's order alone, as max pooling does." in text
    problem = open_problem(_spec([2, -2, 1], [{"kind": "conv1d", "kernel": [1, 1]}, {"kind": "relu"}], [0, 0]))
    assert "kink: relu is not differentiable where its argument is 0; the engine uses the left derivative, 0." in \
        problem.solve().render("text", width=None)
    assert {c.quantity for c in problem.finite_difference_checks() if c.status == "kink"} == {"y_1", "x_1", "x_2",
                                                                                             "K_1", "K_2"}


# --- recurrent: an Elman RNN unrolled over time ----------------------------------------------------

def _reference_rnn_loss(problem: LayerProblem):
    """The loss composed from h<t> = tanh(W x<t> + U h<t-1> + b), y<t> = V h<t> + c, written from the
    definition over the spec's leaves (found by their names' time steps and subscripts)."""
    from sympy import tanh

    from symbackprop.names import name_of

    leaves = {(n.base, n.subscript, n.step): symbol for symbol in problem.spec.values for n in [name_of(symbol)]}
    layer = problem.layered.layers[0]
    W, U, V = (layer.recurrent[key] for key in "WUV")
    hidden, outputs, inputs = U.shape[0], V.shape[0], W.shape[1]
    h = [leaves[("h", (str(j + 1),), 0)] for j in range(hidden)]
    loss = 0
    for t in range(1, layer.source.shape[0] + 1):
        x = [leaves[("x", (str(i + 1),), t)] for i in range(inputs)]
        h = [tanh(sum(W.at((j, i)) * x[i] for i in range(inputs)) + sum(U.at((j, k)) * h[k] for k in range(hidden))
                  + (layer.recurrent["b"].at((j,)) if "b" in layer.recurrent else 0)) for j in range(hidden)]
        for k in range(outputs):
            y = sum(V.at((k, j)) * h[j] for j in range(hidden)) + (layer.recurrent["c"].at((k,)) if "c" in layer.recurrent else 0)
            loss += Rational(1, 2) * (leaves[("t", (str(k + 1),), t)] - y) ** 2
    return loss


@st.composite
def recurrent_specs(draw):
    number = st.decimals(-1, 1, places=1).map(str)
    steps, inputs, hidden, outputs = (draw(st.integers(1, n)) for n in (4, 2, 2, 2))

    def matrix(rows, columns):
        return [[draw(number) for _ in range(columns)] for _ in range(rows)]

    layer = {"kind": "rnn", "W": matrix(hidden, inputs), "U": matrix(hidden, hidden), "V": matrix(outputs, hidden)}
    for key, size in (("b", hidden), ("c", outputs), ("h0", hidden)):
        if draw(st.booleans()):
            layer[key] = [draw(number) for _ in range(size)]
    return _spec(matrix(steps, inputs), [layer], matrix(steps, outputs))


@settings(max_examples=20, deadline=None)
@given(recurrent_specs())
def test_random_rnns_agree_with_the_definition_the_finite_differences_and_bptt(data):
    problem = open_problem(data)
    loss, gradients = _reference_rnn_loss(problem), problem.gradients()
    point = dict(problem.spec.values)
    with mpmath.workdps(60):
        for leaf in problem.spec.values:
            expected = evaluate(diff(loss, leaf), {s: to_mpf(v) for s, v in point.items()})
            assert abs(gradients[leaf.name] - expected) <= mpmath.mpf(10) ** -40 * max(1, abs(expected)), leaf
    problem.finite_difference_checks()
    assert problem.layer_checks and all(check.equal for check in problem.layer_checks)


def test_the_rnn_example_shows_bptt_as_a_sum_over_time():
    text = open_problem("rnn").solve().render("text", width=None)
    assert "h₁⟨2⟩ = tanh(s₁⟨2⟩) = tanh(0.683771358) = 0.593965704" in text
    assert ("∂E/∂h₁⟨2⟩ = V₁,₁ · ∂E/∂y₁⟨2⟩ + U₁,₁ · ∂E/∂s₁⟨3⟩ + U₂,₁ · ∂E/∂s₂⟨3⟩ = 0.6 · 0.618880269 + 0.1 · "
            "(-0.475288291) + 0.3 · 0.239133989 = 0.395539529") in text
    assert "∂E/∂W₁,₂ = ∂E/∂s₁⟨1⟩ · x₂⟨1⟩ + ∂E/∂s₁⟨2⟩ · x₂⟨2⟩ + ∂E/∂s₁⟨3⟩ · x₂⟨3⟩" in text
    assert "Proved entry by entry in SymPy: 33 of 33 entries" in text


def test_bptt_without_the_recurrent_term_is_caught(monkeypatch):
    """Forgetting U transposed times the next step's delta (truncating BPTT to one step, unannounced)."""
    recurrent = importlib.import_module("symbackprop.derivation.recurrent")
    problem = open_problem("rnn")
    right = recurrent.recurrent_form(problem.layered.layers[0], problem.derived)
    wrong = recurrent.RecurrentForm(right.layer, [g if not g.quantity.name.startswith("h_") else
                                                  type(g)(g.quantity, g.expression.as_ordered_terms()[0], g.through)
                                                  for g in right.gradients], right.meaning)
    checks = check_layer_forms([wrong], problem.derived)
    assert {c.entry for c in checks if not c.equal} == {"r1: dE/dh_1<2>", "r1: dE/dh_2<2>", "r1: dE/dh_1<1>",
                                                          "r1: dE/dh_2<1>", "r1: dE/dh_1<0>", "r1: dE/dh_2<0>"}


def test_a_one_step_rnn_and_a_bad_rnn_spec():
    problem = open_problem(_spec([[1, 2]], [{"kind": "rnn", "W": [[1, 0]], "U": [[0.5]], "V": [[2]]}], [[1]]))
    assert all(check.equal for check in problem.layer_checks) and problem.gradients()["U_1,1"] == 0  # h<0> = 0
    with pytest.raises(InputError, match=r"^layers\[0\]\.U: expected shape \(1, 1\) \(hidden, hidden\), got \(1, 2\)$"):
        open_problem(_spec([[1, 2]], [{"kind": "rnn", "W": [[1, 0]], "U": [[0.5, 1]], "V": [[2]]}], [[1]]))
    with pytest.raises(InputError, match=r"^layers\[0\]: rnn takes a sequence \(steps, inputs\), got shape \(2,\)$"):
        open_problem(_spec([1, 2], [{"kind": "rnn", "W": [[1]], "U": [[0.5]], "V": [[2]]}], [[1]]))


# --- embedding, dropout, residual ------------------------------------------------------------------

def test_embedding_dropout_and_residual_agree_with_their_definitions():
    """The blocks example written out: e = rows of C for tokens 2, 1; d = 2 · mask · e; r = d + tanh(W d);
    z = V r + c; every leaf's gradient against sympy.diff of that loss."""
    from sympy import Matrix, tanh

    problem = open_problem("blocks")
    leaf = {s.name: s for s in problem.spec.values}
    C = Matrix(2, 2, lambda v, j: leaf[f"C_{v + 1},{j + 1}"])
    e = [C[1, 0], C[1, 1], C[0, 0], C[0, 1]]
    d = [2 * m * v for m, v in zip([1, 0, 1, 1], e)]
    W = Matrix(4, 4, lambda i, j: leaf[f"W_d41,{i + 1},{j + 1}"])
    r = [d[i] + tanh(sum(W[i, j] * d[j] for j in range(4))) for i in range(4)]
    z = sum(leaf[f"W_d5,1,{j + 1}"] * r[j] for j in range(4)) + leaf["b_d5,1"]
    loss = Rational(1, 2) * (leaf["t_1"] - z) ** 2
    point = {s: to_mpf(v) for s, v in problem.spec.values.items()}
    gradients = problem.gradients()
    with mpmath.workdps(60):
        for name, symbol in leaf.items():
            expected = evaluate(diff(loss, symbol), point)
            assert abs(gradients[name] - expected) <= mpmath.mpf(10) ** -40 * max(1, abs(expected)), name
    problem.finite_difference_checks()
    kinds = [form.layer.spec.kind for form in problem.layer_forms]
    assert kinds == ["embedding", "dropout", "residual"] and all(c.equal for c in problem.layer_checks)
    text = problem.solve().render("text", width=None)
    assert "∂E/∂v₁,₂ = 2 · 0 · ∂E/∂d₂ = 2 · 0 · (-0.019605254) = 0" in text  # a dropped entry
    assert "∂E/∂a₁ = ∂E/∂r₁ = 0.021770107" in text  # the block's output gets r's gradient


def test_a_token_used_twice_sums_its_uses():
    problem = open_problem(_spec([1, 1, 2], [{"kind": "embedding", "table": [[0.5], [2]]}], [[0], [0], [0]]))
    forms = {g.quantity.name: g.expression for g in problem.layer_forms[0].gradients}
    assert forms["C_1,1"].args and len(forms["C_1,1"].args) == 2 and str(forms["C_2,1"]) == "dE/dv_3,1"
    assert problem.gradients()["C_1,1"] == 1 and problem.gradients()["C_2,1"] == 2


@pytest.mark.parametrize("kind, planted, wrong", [
    ("dropout", lambda g: type(g)(g.quantity, g.expression.args[-1], g.through), "dE/dv_1,1"),  # scale forgotten
    ("residual", lambda g: type(g)(g.quantity, g.expression.args[-1], g.through)
     if g.quantity.name.startswith("d") else g, "dE/dd_1"),  # the skip's term forgotten
])
def test_planted_mistakes_in_dropout_and_residual_are_caught(kind, planted, wrong):
    from symbackprop.derivation.blocks import BlockForm

    problem = open_problem("blocks")
    form = next(f for f in problem.layer_forms if f.layer.spec.kind == kind)
    checks = check_layer_forms([BlockForm(form.layer, [planted(g) for g in form.gradients])], problem.derived)
    assert any(c.entry.endswith(wrong) and not c.equal for c in checks)


@pytest.mark.parametrize("layers, message", [
    ([{"kind": "dense", "weights": [[1, 1]]}, {"kind": "embedding", "table": [[1]]}],
     "layers[1].kind: an embedding must be the first layer"),
    ([{"kind": "embedding", "table": [[1], [2]]}], "inputs[1]: expected a token's number from 1 to 2 (the table's rows), got 3"),
    ([{"kind": "dropout", "mask": [1, 2]}], "layers[0].mask: expected 0 or 1 in every entry"),
    ([{"kind": "dropout", "mask": [1, 0], "scale": 0}], "layers[0].scale: expected a positive number, got 0"),
    ([{"kind": "residual", "layers": [{"kind": "dense", "weights": [[1, 1]]}]}],
     "layers[0].layers: the block's output has shape (1,); y = x + F(x) needs the input's shape (2,)"),
    ([{"kind": "residual", "layers": [{"kind": "tanh", "name": "q"}]}, {"kind": "relu", "name": "q"}],
     "layers[1].name: layer name 'q' is used twice (also at layers[0].layers[0])"),
])
def test_bad_blocks_name_the_field(layers, message):
    with pytest.raises(InputError) as error:
        open_problem(_spec([1, 3], layers, [1, 1]))
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("example", ["conv1d", "convnet", "rnn", "lstm", "gru", "attention", "batchnorm", "blocks", "large"])
def test_the_latex_of_every_layer_form_is_ascii_so_pdflatex_compiles_it(example):
    """pdflatex stops at a Unicode character in text (a δ in a note or a table's label)."""
    if example == "large":
        values = [f"{(k % 7) / 10}" for k in range(64)]
        example = _spec(_nested(values, (8, 8)), [{"kind": "conv2d", "kernel": [[1, 0], [0, -1]]}, {"kind": "flatten"},
                                                 {"kind": "dense", "weights": [[0.1] * 49]}], [1])
    latex = open_problem(example).solve(checks=False).render("latex")
    assert "at the layer level" in latex and [c for c in latex if ord(c) > 127] == []


# --- LSTM ----------------------------------------------------------------------------------------

def _require_definition(problem: LayerProblem, reference_loss) -> None:
    """Every leaf's gradient against a central difference of `reference_loss` (the loss computed from the layer's
    definition, not from the graph) at 60 digits with h = 1e-20, to 25 digits; then the finite-difference checks
    pass and every layer-level entry is proved."""
    gradients = problem.gradients()
    with mpmath.workdps(60):
        point = {s: to_mpf(v) for s, v in problem.spec.values.items()}
        h = mpmath.mpf(10) ** -20
        for leaf in problem.spec.values:
            sides = [reference_loss(problem, {**point, leaf: point[leaf] + sign * h}) for sign in (1, -1)]
            expected = (sides[0] - sides[1]) / (2 * h)
            assert abs(gradients[leaf.name] - expected) <= mpmath.mpf(10) ** -25 * max(1, abs(expected)), leaf
    problem.finite_difference_checks()
    assert problem.layer_checks and all(check.equal for check in problem.layer_checks)


def _reference_lstm_loss(problem: LayerProblem, point: dict) -> mpmath.mpf:
    """The loss computed from the LSTM's definition in mpmath at `point` (the leaves' values by symbol):
    z_q = W_q x + U_q h + b_q, i, f, o = σ, g = tanh, c = f c + i g, h = o tanh(c), y = V h + b_y."""
    from symbackprop.names import name_of

    value = {(n.base, n.subscript, n.step): point[symbol] for symbol in problem.spec.values for n in [name_of(symbol)]}
    layer = problem.layered.layers[0]
    parts = layer.recurrent
    hidden, outputs, inputs = parts["Ui"].shape[0], parts["V"].shape[0], parts["Wi"].shape[1]

    def entry(key, index):
        return point[parts[key].at(index)]

    h = [value[("h", (str(j + 1),), 0)] for j in range(hidden)]
    c = [value[("c", (str(j + 1),), 0)] for j in range(hidden)]
    loss = mpmath.mpf(0)
    for t in range(1, layer.source.shape[0] + 1):
        x = [value[("x", (str(i + 1),), t)] for i in range(inputs)]

        def z(q, j):
            return (sum(entry("W" + q, (j, i)) * x[i] for i in range(inputs))
                    + sum(entry("U" + q, (j, k)) * h[k] for k in range(hidden))
                    + (entry("b" + q, (j,)) if "b" + q in parts else 0))

        i_, f_, o_ = ([1 / (1 + mpmath.exp(-z(q, j))) for j in range(hidden)] for q in "ifo")
        g_ = [mpmath.tanh(z("g", j)) for j in range(hidden)]
        c = [f_[j] * c[j] + i_[j] * g_[j] for j in range(hidden)]
        h = [o_[j] * mpmath.tanh(c[j]) for j in range(hidden)]
        for k in range(outputs):
            y = sum(entry("V", (k, j)) * h[j] for j in range(hidden)) + (entry("by", (k,)) if "by" in parts else 0)
            loss += (value[("t", (str(k + 1),), t)] - y) ** 2 / 2
    return loss


@st.composite
def lstm_specs(draw):
    number = st.decimals(-1, 1, places=1).map(str)
    steps, inputs, hidden = (draw(st.integers(1, n)) for n in (3, 2, 2))

    def matrix(rows, columns):
        return [[draw(number) for _ in range(columns)] for _ in range(rows)]

    layer = {"kind": "lstm", "W": {q: matrix(hidden, inputs) for q in "ifog"},
             "U": {q: matrix(hidden, hidden) for q in "ifog"}, "V": matrix(1, hidden),
             "b": {q: [draw(number) for _ in range(hidden)] for q in draw(st.sets(st.sampled_from("ifog")))}}
    for key in ("h0", "c0"):
        if draw(st.booleans()):
            layer[key] = [draw(number) for _ in range(hidden)]
    return _spec(matrix(steps, inputs), [layer], matrix(steps, 1))


@settings(max_examples=10, deadline=None)
@given(lstm_specs())
def test_random_lstms_agree_with_the_definition_the_finite_differences_and_bptt(data):
    """Every leaf's gradient against a central difference of the loss computed from the definition (not from
    the graph), at 60 digits with h = 1e-20: they agree to about 35 digits; 25 are required."""
    _require_definition(open_problem(data), _reference_lstm_loss)


def test_the_lstm_example_and_a_forgotten_cell_path_caught():
    problem = open_problem("lstm")
    text = problem.solve().render("text", width=None)
    assert "∂E/∂c₁⟨1⟩ = ∂E/∂h₁⟨1⟩ · o₁⟨1⟩ · (1 - tanh(c₁⟨1⟩)²) + ∂E/∂c₁⟨2⟩ · f₁⟨2⟩" in text
    assert "∂E/∂z_i,1⟨2⟩ = ∂E/∂i₁⟨2⟩ · i₁⟨2⟩ · (1 - i₁⟨2⟩)" in text
    assert "Proved entry by entry in SymPy: 35 of 35 entries" in text
    form = problem.layer_forms[0]
    wrong = [type(g)(g.quantity, g.expression.as_ordered_terms()[0], g.through) if g.quantity.name == "c_1<1>" else g
             for g in form.gradients]  # the cell's path to the next step forgotten
    checks = check_layer_forms([type(form)(form.layer, wrong, form.meaning)], problem.derived)
    assert [c.entry for c in checks if not c.equal] == ["l1: dE/dc_1<1>"]


def test_layer_names_are_letters_then_digits_so_that_every_name_reads_back():
    with pytest.raises(InputError, match=r"^layers\[0\]\.name: expected letters then digits, at most 8 \(conv1\), got 's4d1'$"):
        open_problem(_spec([1, 2], [{"kind": "relu", "name": "s4d1"}], [1, 2]))
    names = [layer.spec.name for layer in open_problem("blocks").layered.every_layer()]
    assert names == ["e1", "f2", "o3", "d41", "a42", "s4", "d5"]


# --- batch and layer normalization -----------------------------------------------------------------

def _reference_norm_loss(problem: LayerProblem, point: dict) -> mpmath.mpf:
    """The loss of one normalization layer computed from its definition in mpmath at `point`: each group's
    mean and biased variance, (x - mean)/sqrt(var + ε), then γ and β per feature."""
    layer = problem.layered.layers[0]
    grid = layer.source.reshaped(layer.timeline["n"].shape)
    rows, features = grid.shape
    columns = layer.spec.kind == "batchnorm"
    groups = ([[(r, f) for r in range(rows)] for f in range(features)] if columns
              else [[(r, f) for f in range(features)] for r in range(rows)])
    out = {}
    for members in groups:
        x = [point[grid.at(index)] for index in members]
        mean = sum(x) / len(x)
        var = sum((v - mean) ** 2 for v in x) / len(x)
        for (r, f), v in zip(members, x):
            out[(r, f)] = (point[layer.kernel.at((f,))] * (v - mean) / mpmath.sqrt(var + to_mpf(layer.spec.scale))
                           + point[layer.bias.at((f,))])
    targets = [s for s in problem.spec.values if s.name.startswith("t")]
    return sum((point[t] - out[index]) ** 2 for t, index in zip(targets, product(range(rows), range(features)))) / 2


@st.composite
def norm_specs(draw):
    number = st.decimals(-2, 2, places=1).map(str)
    kind = draw(st.sampled_from(["layernorm", "batchnorm"]))
    rows, features = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    bare = kind == "layernorm" and rows == 1 and draw(st.booleans())

    def block(count):
        return [draw(number) for _ in range(count)]

    inputs = block(features) if bare else [block(features) for _ in range(rows)]
    layer = {"kind": kind, "gamma": block(features), "beta": block(features),
             "epsilon": draw(st.sampled_from(["0.00001", "0.1", "1"]))}
    return _spec(inputs, [layer], block(features) if bare else [block(features) for _ in range(rows)])


@settings(max_examples=15, deadline=None)
@given(norm_specs())
def test_random_norms_agree_with_the_definition_and_the_three_term_formula(data):
    """Batch norm in training mode (a batch of one included) and layer norm: every leaf's gradient against a
    central difference of the loss computed from the definition, and the three-term formula proved."""
    _require_definition(open_problem(data), _reference_norm_loss)


def test_the_batchnorm_example_and_a_forgotten_third_term_caught():
    problem = open_problem("batchnorm")
    text = problem.solve().render("text", width=None)
    assert "μ₁ = (1/3) · (x₁,₁ + x₂,₁ + x₃,₁) = (1/3) · (1 + 0.5 + 2) = 1.166666667" in text
    assert "Proved entry by entry in SymPy: 16 of 16 entries" in text
    form = problem.layer_forms[0]
    wrong = [type(g)(g.quantity, g.expression.func(*g.expression.args[:-1], g.expression.args[-1].func(
        *g.expression.args[-1].args[:2])), g.through) if g.quantity.name.startswith("x") else g for g in form.gradients]
    checks = check_layer_forms([type(form)(form.layer, wrong, form.meaning)], problem.derived)
    assert {c.entry for c in checks if not c.equal} == {f"n1: dE/dx_{r},{f}" for r in (1, 2, 3) for f in (1, 2)}
    with pytest.raises(InputError, match=r"^layers\[0\]: batchnorm takes an input of shape \(batch, features\), got \(2,\)$"):
        open_problem(_spec([1, 2], [{"kind": "batchnorm"}], [1, 2]))


# --- GRU -----------------------------------------------------------------------------------------

def _reference_gru_loss(problem: LayerProblem, point: dict) -> mpmath.mpf:
    """The loss computed from the GRU's definition in mpmath at `point`: r, u = σ(W x + U h + b),
    n = tanh(W_n x + U_n (r ⊙ h) + b_n), h = (1 - u) n + u h, y = V h + b_y."""
    from symbackprop.names import name_of

    value = {(n.base, n.subscript, n.step): point[symbol] for symbol in problem.spec.values for n in [name_of(symbol)]}
    layer = problem.layered.layers[0]
    parts = layer.recurrent
    hidden, outputs, inputs = parts["Ur"].shape[0], parts["V"].shape[0], parts["Wr"].shape[1]

    def entry(key, index):
        return point[parts[key].at(index)]

    def bias(key, j):
        return entry(key, (j,)) if key in parts else 0

    h = [value[("h", (str(j + 1),), 0)] for j in range(hidden)]
    loss = mpmath.mpf(0)
    for t in range(1, layer.source.shape[0] + 1):
        x = [value[("x", (str(i + 1),), t)] for i in range(inputs)]
        r, u = ([1 / (1 + mpmath.exp(-(sum(entry("W" + q, (j, i)) * x[i] for i in range(inputs))
                                         + sum(entry("U" + q, (j, k)) * h[k] for k in range(hidden)) + bias("b" + q, j))))
                 for j in range(hidden)] for q in "ru")
        n = [mpmath.tanh(sum(entry("Wn", (j, i)) * x[i] for i in range(inputs))
                         + sum(entry("Un", (j, k)) * r[k] * h[k] for k in range(hidden)) + bias("bn", j)) for j in range(hidden)]
        h = [(1 - u[j]) * n[j] + u[j] * h[j] for j in range(hidden)]
        for k in range(outputs):
            y = sum(entry("V", (k, j)) * h[j] for j in range(hidden)) + bias("by", k)
            loss += (value[("t", (str(k + 1),), t)] - y) ** 2 / 2
    return loss


@st.composite
def gru_specs(draw):
    number = st.decimals(-1, 1, places=1).map(str)
    steps, inputs, hidden = (draw(st.integers(1, n)) for n in (3, 2, 2))

    def matrix(rows, columns):
        return [[draw(number) for _ in range(columns)] for _ in range(rows)]

    layer = {"kind": "gru", "W": {q: matrix(hidden, inputs) for q in "run"}, "U": {q: matrix(hidden, hidden) for q in "run"},
             "V": matrix(1, hidden), "b": {q: [draw(number) for _ in range(hidden)] for q in draw(st.sets(st.sampled_from("runy")))
                                           if q != "y"}}
    if draw(st.booleans()):
        layer["h0"] = [draw(number) for _ in range(hidden)]
    return _spec(matrix(steps, inputs), [layer], matrix(steps, 1))


@settings(max_examples=10, deadline=None)
@given(gru_specs())
def test_random_grus_agree_with_the_definition_the_finite_differences_and_bptt(data):
    _require_definition(open_problem(data), _reference_gru_loss)


def test_the_gru_example_and_a_forgotten_path_through_the_next_state_caught():
    problem = open_problem("gru")
    text = problem.solve().render("text", width=None)
    assert "∂E/∂u₁⟨2⟩ = ∂E/∂h₁⟨2⟩ · (h₁⟨1⟩ - n₁⟨2⟩)" in text
    assert "Proved entry by entry in SymPy: 26 of 26 entries" in text
    form = problem.layer_forms[0]
    wrong = [type(g)(g.quantity, g.expression - g.expression.as_ordered_terms()[-1], g.through)
             if g.quantity.name == "h_1<1>" else g for g in form.gradients]
    checks = check_layer_forms([type(form)(form.layer, wrong, form.meaning)], problem.derived)
    assert [c.entry for c in checks if not c.equal] == ["g1: dE/dh_1<1>"]


# --- self-attention ------------------------------------------------------------------------------

def _reference_attention_loss(problem: LayerProblem, point: dict) -> mpmath.mpf:
    """The loss computed from scaled dot-product attention's definition in mpmath at `point`."""
    layer = problem.layered.layers[0]
    x, grids = layer.source, layer.recurrent
    positions, features = x.shape

    def project(key):
        grid = grids[key]
        return [[sum(point[x.at((t, i))] * point[grid.at((i, j))] for i in range(features)) for j in range(grid.shape[1])]
                for t in range(positions)]

    q, k, v = project("WQ"), project("WK"), project("WV")
    heads = layer.spec.heads
    size, per_head = len(q[0]) // heads, len(v[0]) // heads
    loss = mpmath.mpf(0)
    targets = iter(s for s in problem.spec.values if s.name.startswith("t"))
    for t in range(positions):
        seen = range(t + 1) if layer.spec.causal else range(positions)
        weights = []
        for h in range(heads):
            columns = range(h * size, (h + 1) * size)
            scores = [sum(q[t][j] * k[u][j] for j in columns) / mpmath.sqrt(size) for u in seen]
            weights.append([mpmath.exp(s) / sum(mpmath.exp(r) for r in scores) for s in scores])
        for j in range(len(v[0])):
            out = sum(w * v[u][j] for w, u in zip(weights[j // per_head], seen))
            loss += (point[next(targets)] - out) ** 2 / 2
    return loss


@st.composite
def attention_specs(draw):
    number = st.decimals(-1, 1, places=1).map(str)
    positions, features, heads = (draw(st.integers(1, n)) for n in (3, 2, 2))
    keys, values = heads * draw(st.integers(1, 3 - heads)), heads * draw(st.integers(1, 3 - heads))

    def matrix(rows, columns):
        return [[draw(number) for _ in range(columns)] for _ in range(rows)]

    layer = {"kind": "attention", "WQ": matrix(features, keys), "WK": matrix(features, keys),
             "WV": matrix(features, values), "causal": draw(st.booleans()), "heads": heads}
    return _spec(matrix(positions, features), [layer], matrix(positions, values))


@settings(max_examples=15, deadline=None)
@given(attention_specs())
def test_random_attention_agrees_with_the_definition_and_its_layer_form(data):
    """One or two heads, causal or not."""
    _require_definition(open_problem(data), _reference_attention_loss)


def test_the_attention_example_and_a_missing_root_caught():
    problem = open_problem("attention")
    text = problem.solve().render("text", width=None)
    assert "s₁,₁ = (q₁,₁ · k₁,₁ + q₁,₂ · k₁,₂) · 1/sqrt(2)" in text
    assert "∂E/∂s₁,₁ = a₁,₁ · (∂E/∂a₁,₁ - (a₁,₁ · ∂E/∂a₁,₁ + a₁,₂ · ∂E/∂a₁,₂ + a₁,₃ · ∂E/∂a₁,₃))" in text
    assert "Proved entry by entry in SymPy: 54 of 54 entries" in text
    form = problem.layer_forms[0]
    wrong = [type(g)(g.quantity, g.expression.args[-1], g.through) if g.quantity.name[0] in "qk" else g
             for g in form.gradients]  # 1/sqrt(d) left out of dE/dq and dE/dk
    checks = check_layer_forms([type(form)(form.layer, wrong, form.meaning)], problem.derived)
    assert {c.entry.split("_")[0] for c in checks if not c.equal} == {"t1: dE/dq", "t1: dE/dk"}
    with pytest.raises(InputError, match=r"^layers\[0\]\.heads: 2 heads do not divide WV's 1 columns$"):
        open_problem(_spec([[1, 2]], [{"kind": "attention", "WQ": [[1, 0], [0, 1]], "WK": [[1, 0], [0, 1]],
                                       "WV": [[1], [1]], "heads": 2}], [[1]]))
    with pytest.raises(InputError, match=r"^layers\[0\]\.WK: expected the shape of WQ \(2, 2\), got \(2, 1\)$"):
        open_problem(_spec([[1, 2]], [{"kind": "attention", "WQ": [[1, 0], [0, 1]], "WK": [[1], [0]],
                                       "WV": [[1], [1]]}], [[1]]))
