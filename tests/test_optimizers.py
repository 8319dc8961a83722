"""Optimizers and weight penalties: the rules, the exact and compiled paths step by step, PyTorch's updates."""

from __future__ import annotations

import mpmath
import pytest
from sympy import Rational, Symbol, diff

import symbackprop as sbp
from symbackprop.checks.matrix_form import check_matrix_optimizer
from symbackprop.derivation.matrix import optimizer_lines
from symbackprop.derivation.optimizers import (
    GRADIENT, THETA, at_step, instance, optimizer_rule, penalty, sgd_update, state_at,
)
from symbackprop.errors import CheckFailure, InputError
from symbackprop.network.symbols import LEARNING_RATE, PENALTY_STRENGTH
from symbackprop.numbers.evaluate import evaluate
from symbackprop.numbers.optimizers import (
    compile_optimizer, network_trainee, train_optimized, worked_output_first, worked_steps,
)
from symbackprop.numbers.training import compile_gradient, train
from symbackprop.printers.math import text_formula
from symbackprop.problem import Problem
from symbackprop.spec.load import optimizer_spec, spec_from_dict
from symbackprop.spec.vocabulary import OPTIMIZERS

MAZUR = {"name": "mazur", "inputs": [0.05, 0.1], "targets": [0.01, 0.99], "loss": "half_squared_error",
         "learning_rate": 0.5,
         "layers": [{"activation": "sigmoid", "weights": [[0.15, 0.2], [0.25, 0.3]], "bias": 0.35},
                    {"activation": "sigmoid", "weights": [[0.4, 0.45], [0.5, 0.55]], "bias": 0.6}]}
STEPS = 5


def _problem(kind: str = "sgd", regularization: dict | None = None, **extra) -> Problem:
    data = {**MAZUR, "optimizer": kind, **extra}
    if regularization is not None:
        data["regularization"] = regularization
    return Problem(data)


def _worked(problem: Problem, optimizer, steps: int):
    """The exact worked steps, uncompiled but for the gradient (the compiled mpmath one)."""
    return worked_steps(network_trainee(problem.derived), optimizer, steps,
                        compile_gradient(problem.derived, "mpmath", outputs=True))


CASES = [(kind, None) for kind in OPTIMIZERS] + [
    ("sgd", {"kind": "l2", "lambda": 0.01}), ("adam", {"kind": "l2", "lambda": 0.01}),
    ("momentum", {"kind": "l1", "lambda": 0.01}), ("rmsprop", {"kind": "l2", "lambda": 0.1, "biases": True}),
]


@pytest.mark.parametrize(("kind", "regularization"), CASES)
def test_double_path_follows_the_exact_path_step_by_step(kind, regularization):
    """After every step, each parameter of the compiled double path agrees with the exact worked steps (evaluated
    line by line in mpmath), and the compiled mpmath path agrees to 40 digits."""
    extra = {"update_biases": True} if regularization and regularization.get("biases") else {}
    problem = _problem(kind, regularization, **extra)
    optimizer = problem.spec.optimizer
    exact = _worked(problem, optimizer, STEPS)
    programs = {b: compile_optimizer(problem.derived, optimizer, b) for b in ("math", "mpmath")}
    for step in range(1, STEPS + 1):
        for backend, tolerance in (("math", 1e-13), ("mpmath", mpmath.mpf(10) ** -40)):
            run = train_optimized(programs[backend], step)
            for parameter in problem.network.parameters:
                expected = exact.values[at_step(parameter.symbol, step)]
                assert abs(run.parameters[parameter.name] - expected) <= tolerance * max(1, abs(expected)), \
                    (backend, step, parameter.name)
        assert mpmath.almosteq(exact.steps[step - 1].error, train_optimized(programs["mpmath"], step - 1).error, 1e-40)
    assert mpmath.almosteq(exact.error, train_optimized(programs["mpmath"], STEPS).error, 1e-40)


@pytest.mark.parametrize("order", ["simultaneous", "output-first"])
@pytest.mark.parametrize("regularization", [None, {"kind": "l2", "lambda": 0.01}, {"kind": "l1", "lambda": 0.02}])
def test_sgd_by_its_rule_is_the_fused_gradient_descent_loop(regularization, order):
    problem = _problem("sgd", regularization, update_biases=True)
    fused = train(problem.derived, STEPS, order)
    by_rule = train_optimized(compile_optimizer(problem.derived, problem.spec.optimizer, order=order), STEPS)
    assert by_rule.order == order
    for name, value in fused.parameters.items():
        assert mpmath.almosteq(value, by_rule.parameters[name], 1e-45)


DEEP = {**MAZUR, "update_biases": True, "inputs": [0.05, 0.1, -0.2], "targets": [0.01, 0.99],
        "layers": [{"activation": "tanh", "weights": [[0.15, 0.2, -0.1], [0.25, 0.3, 0.05]], "bias": 0.35},
                   {"activation": "sigmoid", "weights": [[0.4, -0.45], [0.5, 0.55], [0.1, 0.2]], "bias": [0.6, 0.1, 0.2]},
                   {"activation": "sigmoid", "weights": [[0.3, 0.2, -0.5], [0.7, 0.1, 0.25]], "bias": 0.2}]}


@pytest.mark.parametrize(("kind", "regularization"), CASES)
def test_output_first_compiled_paths_follow_the_exact_path_step_by_step(kind, regularization):
    """The output-first order with any optimizer: both compiled paths agree with the uncompiled exact steps
    (each layer's lines of the rule evaluated after its backward pass, through the layers above as updated)
    after every one of five steps, on a network of three layers."""
    data = {**DEEP, "optimizer": kind, **({"regularization": regularization} if regularization else {})}
    problem = Problem(data)
    exact = worked_output_first(problem.derived, problem.spec.optimizer, STEPS)
    programs = {b: compile_optimizer(problem.derived, problem.spec.optimizer, b, "output-first")
                for b in ("math", "mpmath")}
    for step in range(1, STEPS + 1):
        for backend, tolerance in (("math", 1e-13), ("mpmath", mpmath.mpf(10) ** -40)):
            run = train_optimized(programs[backend], step)
            assert run.order == "output-first"
            for parameter in problem.network.parameters:
                expected = exact.values[at_step(parameter.symbol, step)]
                assert abs(run.parameters[parameter.name] - expected) <= tolerance * max(1, abs(expected)), \
                    (backend, step, parameter.name)
        assert mpmath.almosteq(exact.steps[step - 1].error, train_optimized(programs["mpmath"], step - 1).error, 1e-40)
    assert mpmath.almosteq(exact.error, train_optimized(programs["mpmath"], STEPS).error, 1e-40)


def test_output_first_moves_the_output_layer_as_simultaneous_does_and_the_layers_below_otherwise():
    """At the first step the output layer reads the same gradients in both orders, so momentum moves it alike;
    the hidden layer back-propagates through the updated output weights, so it moves otherwise."""
    problem = Problem({**MAZUR, "optimizer": "momentum"})
    first = {order: problem.train(1, order=order).parameters for order in ("simultaneous", "output-first")}
    for name in ("w5", "w6", "w7", "w8"):
        assert mpmath.almosteq(first["simultaneous"][name], first["output-first"][name], 1e-45)
    for name in ("w1", "w2", "w3", "w4"):
        assert not mpmath.almosteq(first["simultaneous"][name], first["output-first"][name], 1e-6)


def _torch_network(problem: Problem, kind: str, settings: dict, weight_decay: float):
    """Mazur's network in PyTorch float64 and PyTorch's own optimizer for `kind` (biases kept fixed, as the spec)."""
    import torch  # the test extra's torch==2.13.0, imported where used so the other tests run without it

    values = [float(p.value) for p in problem.network.parameters]
    w_h = torch.tensor([values[0:2], values[2:4]], dtype=torch.float64, requires_grad=True)
    w_o = torch.tensor([values[4:6], values[6:8]], dtype=torch.float64, requires_grad=True)
    b_h, b_o = values[8], values[9]
    x = torch.tensor([0.05, 0.1], dtype=torch.float64)
    target = torch.tensor([0.01, 0.99], dtype=torch.float64)

    def loss():
        out = torch.sigmoid(w_o @ torch.sigmoid(w_h @ x + b_h) + b_o)
        return (0.5 * (target - out) ** 2).sum()

    lr = float(problem.spec.learning_rate)
    made = {
        "sgd": lambda p: torch.optim.SGD(p, lr=lr, weight_decay=weight_decay),
        "momentum": lambda p: torch.optim.SGD(p, lr=lr, momentum=settings.get("momentum", 0.9),
                                              weight_decay=weight_decay),
        "nesterov": lambda p: torch.optim.SGD(p, lr=lr, momentum=settings.get("momentum", 0.9), nesterov=True,
                                              weight_decay=weight_decay),
        "rmsprop": lambda p: torch.optim.RMSprop(p, lr=lr, alpha=settings.get("alpha", 0.99), eps=1e-8,
                                                 weight_decay=weight_decay),
        "adam": lambda p: torch.optim.Adam(p, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=weight_decay),
        "adamw": lambda p: torch.optim.AdamW(p, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
    }[kind]([w_h, w_o])
    return (w_h, w_o), loss, made


@pytest.mark.parametrize(("kind", "regularization"), [(kind, None) for kind in OPTIMIZERS] + [
    ("sgd", {"kind": "l2", "lambda": 0.01}), ("adam", {"kind": "l2", "lambda": 0.01}),
    ("nesterov", {"kind": "l2", "lambda": 0.05})])
def test_every_optimizer_takes_pytorchs_steps(kind, regularization):
    """PyTorch 2.13's own optimizers (float64, its autograd) reach the same weights after each of five steps;
    an l2 penalty is PyTorch's weight_decay (AdamW's decoupled decay is its own setting)."""
    settings = {"momentum": 0.8} if kind in ("momentum", "nesterov") else {"alpha": 0.9} if kind == "rmsprop" else {}
    problem = _problem({"kind": kind, **settings} if settings else kind, regularization)
    import torch

    weights, loss, optimizer = _torch_network(problem, kind, settings,
                                              float(regularization["lambda"]) if regularization else 0.0)
    program = compile_optimizer(problem.derived, problem.spec.optimizer, "math")
    for step in range(1, STEPS + 1):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
        ours = train_optimized(program, step).parameters
        theirs = [float(v) for v in torch.cat([w.detach().flatten() for w in weights])]
        for k, value in enumerate(theirs):
            assert ours[f"w{k + 1}"] == pytest.approx(value, rel=1e-12, abs=1e-15), (kind, step, k + 1)


def test_a_forgotten_bias_correction_is_far_from_adams_first_step():
    """Adam's first step without m-hat's bias correction moves w5 by a tenth as much: the worked steps and the
    compiled path both hold the corrected step, and the rule fails if the correction is dropped."""
    problem = _problem("adam")
    first = _worked(problem, problem.spec.optimizer, 1)
    w5 = problem.network.parameter("w5").symbol
    m, m_hat = state_at(Symbol("m"), w5, 1), state_at(Symbol("mhat"), w5, 1)
    assert mpmath.almosteq(first.values[m_hat], first.values[m] / (1 - mpmath.mpf("0.9")), 1e-45)
    assert not mpmath.almosteq(first.values[m_hat], first.values[m], 1e-3)
    # Adam's first step is eta * sign(g) (up to epsilon): what the correction exists for.
    step = first.values[at_step(w5, 0)] - first.values[at_step(w5, 1)]
    assert mpmath.almosteq(step, mpmath.mpf("0.5"), 1e-6)


def test_an_l2_penalty_shows_as_weight_decay_in_the_update():
    problem = _problem("sgd", {"kind": "l2", "lambda": 0.01})
    update = next(u for u in problem.derived.updates if u.parameter.name == "w5")
    assert text_formula(update.expression) == "(1 - eta * lambda) * w_5 - eta * dE_total/dw_5"
    plain = next(u for u in _problem().derived.updates if u.parameter.name == "w5")
    values = {s: mpmath.mpf(v) for s, v in problem.network.point().items()}
    values[update.expression.args[1].args[-1]] = mpmath.mpf("0.08")
    shrunk = evaluate(update.expression, values) - evaluate(plain.expression, values)
    assert mpmath.almosteq(shrunk, -mpmath.mpf("0.5") * mpmath.mpf("0.01") * mpmath.mpf("0.4"), 1e-40)


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_a_penalty_derivative_is_sympys_and_agrees_with_finite_differences(kind):
    found = penalty(spec_from_dict({**MAZUR, "regularization": {"kind": kind, "lambda": 0.3}}).regularization)
    assert found.derivative == diff(found.term.subs(THETA, Symbol("x", real=True)),
                                    Symbol("x", real=True)).subs(Symbol("x", real=True), THETA)
    with mpmath.workdps(50):
        for theta in ("0.7", "-1.3", "0"):
            at = {PENALTY_STRENGTH: mpmath.mpf("0.3")}
            h = mpmath.mpf(10) ** -20

            def term(x):
                return evaluate(found.term.subs(THETA, x).rewrite("Piecewise"), at) if kind == "l1" else \
                    evaluate(found.term.subs(THETA, x), at)

            x = Rational(theta)
            central = (term(x + Rational(1, 10 ** 20)) - term(x - Rational(1, 10 ** 20))) / (2 * h)
            assert mpmath.almosteq(evaluate(found.derivative, {**at, THETA: mpmath.mpf(theta)}), central, 1e-15)


def test_l1_uses_the_subgradient_zero_at_its_kink():
    problem = _problem("sgd", {"kind": "l1", "lambda": 0.1})
    expression = sgd_update(Symbol("w"), GRADIENT, penalty(problem.spec.regularization))
    values = {LEARNING_RATE: mpmath.mpf("0.5"), PENALTY_STRENGTH: mpmath.mpf("0.1"), GRADIENT: mpmath.mpf(0)}
    assert evaluate(expression, {**values, Symbol("w"): mpmath.mpf(0)}) == 0
    assert mpmath.almosteq(evaluate(expression, {**values, Symbol("w"): mpmath.mpf(1)}), mpmath.mpf("0.95"), 1e-40)


def test_instances_name_each_step():
    rule = optimizer_rule(optimizer_spec("adam", "optimizer"))
    lines = instance(rule, Symbol("w_5"), 2)
    assert [str(q) for q, _ in lines] == ["m_w5<2>", "v_w5<2>", "mhat_w5<2>", "vhat_w5<2>", "w_5<2>"]
    assert text_formula(lines[2][1]) == "m_w5<2>/(1 - beta_1^2)"


@pytest.mark.parametrize(("optimizer", "message"), [
    ("adagrad", "optimizer.kind: unknown optimizer 'adagrad'"),
    ({"kind": "adam", "beta1": 1}, "optimizer.beta1: expected a number from 0 up to (not including) 1, got 1"),
    ({"kind": "adam", "epsilon": 0}, "optimizer.epsilon: expected a positive number, got 0"),
    ({"kind": "momentum", "beta1": 0.9}, "optimizer: unknown field 'beta1'"),
    (3, "optimizer: expected an optimizer's name or an object"),
    ({"beta1": 0.8}, "optimizer.kind: missing field"),
    ({"kind": ["adam"]}, "optimizer.kind: unknown optimizer ['adam']"),
])
def test_a_bad_optimizer_is_one_line_naming_its_field(optimizer, message):
    with pytest.raises(InputError) as error:
        spec_from_dict({**MAZUR, "optimizer": optimizer})
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


@pytest.mark.parametrize(("regularization", "message"), [
    ({"kind": "l3", "lambda": 1}, "regularization.kind: unknown penalty 'l3'"),
    ({"kind": "l2"}, "regularization.lambda: missing field"),
    ({"lambda": 1}, "regularization.kind: missing field"),
    ({"kind": "l2", "lambda": -1}, "regularization.lambda: expected a positive number"),
    ({"kind": "l2", "lambda": 1, "biases": "yes"}, "regularization.biases: expected true or false"),
])
def test_a_bad_regularization_is_one_line_naming_its_field(regularization, message):
    with pytest.raises(InputError) as error:
        spec_from_dict({**MAZUR, "regularization": regularization})
    assert str(error.value).startswith(message)


def test_train_takes_the_optimizer_and_refuses_what_it_cannot_run():
    problem = _problem("adam")
    assert problem.train(3).optimizer == "adam"
    assert problem.train(3, optimizer="sgd").error == Problem(MAZUR).train(3).error
    assert problem.optimizer("momentum").settings == ((("momentum", Rational(9, 10))),)
    for wrong, message in (({"optimizer": "adagrad"}, "optimizer: expected one of"),
                           ({"backend": "numpy"}, "backend: the optimizer 'adam' runs on")):
        with pytest.raises(InputError, match=message):
            problem.train(2, **wrong)


ADAM = {**MAZUR, "learning_rate": 0.01, "optimizer": {"kind": "adam", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}}


def test_check_catches_a_forgotten_bias_correction_and_names_it():
    """A hand-worked Adam step with m-hat left at m (the bias correction forgotten) is wrong, and the likeliest
    mistake computed is the dropped factor 1/(1 - beta_1^1); the corrected value is right."""
    problem = Problem(ADAM)
    wrong = problem.check(quantity="mhat_w5<1>", value="0.00821670406")
    assert not wrong
    assert "1. the factor 1/(1 - β₁¹) dropped from mhat_w5⟨1⟩" in wrong.render("text", width=None)
    assert problem.check(quantity="mhat_w5<1>", value="0.0821670406")
    uncorrected = "w_5<0> - eta*m_w5<1>/(sqrt(v_w5<1>) + epsilon)"
    assert not problem.check(quantity="w_5<1>", formula=uncorrected)
    assert problem.check(quantity="w_5<1>", formula="w_5<0> - eta*mhat_w5<1>/(sqrt(vhat_w5<1>) + epsilon)")


def test_solve_works_the_optimizers_steps_with_numbers():
    text = Problem(ADAM).solve(steps=2, checks=False).render("text", width=None)
    section = text[text.index("Optimizer: adam, 2 steps"):]
    assert "mhat = m⁺/(1 - β₁^t)" in section
    assert "mhat_w5⟨1⟩ = m_w5⟨1⟩/(1 - β₁¹) = 0.00821670406/(1 - 0.9¹) = 0.0821670406" in section
    assert "Step 2" in section and "E_total⟨2⟩ = " in section
    assert "Optimizer:" not in Problem(MAZUR).solve(checks=False).render("text")


def test_solve_reports_an_l1_penalized_weight_at_its_kink():
    data = {**MAZUR, "regularization": {"kind": "l1", "lambda": 0.1}}
    data["layers"] = [data["layers"][0], {**data["layers"][1], "weights": [[0, 0.45], [0.5, 0.55]]}]
    text = Problem(data).solve(checks=False, steps=1).render("text", width=None)
    assert "w₅ = 0 sits on the kink of |w5|: the update uses sign(0) = 0" in text
    assert "w₅⁺ = w₅ - η · (∂E_total/∂w₅ + λ · sign(w₅))" in text


def test_the_guide_s_rules_and_worked_steps_are_current_and_its_examples_run():
    import json
    import re
    from pathlib import Path

    from symbackprop.printers import MarkdownPrinter

    guide = (Path(__file__).resolve().parent.parent / "docs" / "optimizers.md").read_text(encoding="utf-8")
    spec = json.loads(re.search(r"```json\n(.*?)```", guide, re.S).group(1))
    regenerate = "regenerate docs/optimizers.md's generated parts (see the lines before each)"
    assert MarkdownPrinter().doprint(sbp.optimizer_rules().record) in guide, regenerate
    assert guide.endswith(MarkdownPrinter().doprint(sbp.optimizer_steps(spec, 2).record)), regenerate
    for block in re.findall(r"```python\n(.*?)```", guide, re.S):
        exec(compile(block, "docs/optimizers.md", "exec"), {})  # the guide's own examples, not user text


HUBER = {**MAZUR, "targets": [0.01, 3], "loss": "huber", "huber_delta": 0.5,
         "layers": [MAZUR["layers"][0], {**MAZUR["layers"][1], "activation": "identity"}]}


@pytest.mark.parametrize("targets", [[0.01, 3], [0.01, 0.99], [1.605905967, -10]])
def test_huber_gradients_are_pytorchs(targets):
    """Huber's loss (quadratic within delta of the target, linear beyond, on either side) differentiated by the
    engine gives PyTorch's autograd gradients through HuberLoss(delta, reduction="sum")."""
    import torch

    problem = Problem({**HUBER, "targets": targets})
    values = [float(p.value) for p in problem.network.parameters]
    w_h = torch.tensor([values[0:2], values[2:4]], dtype=torch.float64, requires_grad=True)
    w_o = torch.tensor([values[4:6], values[6:8]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(values[8:10], dtype=torch.float64, requires_grad=True)
    out = w_o @ torch.sigmoid(w_h @ torch.tensor([0.05, 0.1], dtype=torch.float64) + b[0]) + b[1]
    loss = torch.nn.HuberLoss(reduction="sum", delta=0.5)(out, torch.tensor(targets, dtype=torch.float64))
    loss.backward()
    theirs = [*w_h.grad.flatten(), *w_o.grad.flatten(), *b.grad]
    ours = problem.gradients()
    assert float(problem.values[problem.network.total]) == pytest.approx(float(loss.detach()), rel=1e-13)
    for parameter, value in zip(problem.network.parameters, theirs):
        assert float(ours[parameter.name]) == pytest.approx(float(value), rel=1e-12, abs=1e-15), parameter.name
    assert all(c.status == "pass" for c in problem.finite_difference_checks())


def test_huber_trains_alike_exactly_and_in_double_and_is_refused_where_it_cannot_run():
    problem = Problem(HUBER)
    exact, fast = problem.train(20), problem.train(20, fast=True)
    assert abs(float(exact.error) - fast.error) < 1e-13
    with pytest.raises(InputError, match="^loss: the matrix form"):
        problem.train(2, backend="numpy")
    with pytest.raises(InputError, match="^huber_delta: only the loss huber has a delta"):
        spec_from_dict({**MAZUR, "huber_delta": 1})
    with pytest.raises(InputError, match="^huber_delta: expected a positive number"):
        spec_from_dict({**HUBER, "huber_delta": 0})


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_the_penalty_check_passes_and_fails_a_wrong_derivative(kind, monkeypatch):
    """solve checks dE_total/dw + dR/dw against finite differences of E_total + R (w5 = 0 at l1's kink too);
    a penalty whose derivative is off by a factor fails, loudly."""
    import dataclasses

    from symbackprop.checks import penalty as checked

    data = {**MAZUR, "regularization": {"kind": kind, "lambda": 0.1}}
    data["layers"] = [data["layers"][0], {**data["layers"][1], "weights": [[0, 0.45], [0.5, 0.55]]}]
    text = Problem(data).solve().render("text", width=None)
    assert "Penalty checks" in text and "FAIL" not in text
    assert [c.status for c in checked.check_penalty(Problem(data).derived)] == ["pass"] * 8
    right = checked.penalty
    monkeypatch.setattr(checked, "penalty", lambda spec: dataclasses.replace(
        right(spec), derivative=2 * right(spec).derivative))
    wrong = checked.check_penalty(Problem(data).derived)
    assert {c.status for c in wrong if c.parameter != "w5"} == {"FAIL"}  # at w5 = 0 both derivatives are 0
    with pytest.raises(CheckFailure, match="^penalty check failed"):
        checked.require_penalty(wrong)


def test_the_commands_take_the_optimizer_and_refuse_in_one_line(capsys, tmp_path):
    import json

    from symbackprop.cli import main

    spec = tmp_path / "adam.json"
    spec.write_text(json.dumps(ADAM), encoding="utf-8")
    assert main(["train", str(spec), "--steps", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["optimizer"] == "adam"
    assert main(["train", "--steps", "3", "--optimizer", "nesterov", "--fast"]) == 0
    assert "Training: 3 steps of nesterov" in capsys.readouterr().out
    assert main(["solve", str(spec), "--steps", "2", "--optimizer", "rmsprop", "--width", "0"]) == 0
    assert "Optimizer: rmsprop, 2 steps" in capsys.readouterr().out
    assert main(["solve", "--matrix", "--steps", "2", "--optimizer", "adam", "--width", "0"]) == 0
    assert "mhat_Wo⟨2⟩ = 1/(1 - β₁²) · m_Wo⟨2⟩ = " in capsys.readouterr().out
    for arguments, line in ((["solve", "--matrix", "--steps", "2", "--hand-round", "3"],
                             "symbackprop: --hand-round: the matrix form carries"),
                            (["train", str(spec), "--steps", "2", "--numpy"], "symbackprop: --numpy: the optimizer"),
                            (["solve", "staged", "--steps", "1"], "symbackprop: learning_rate: training a graph needs")):
        assert main(arguments) == 2
        error = capsys.readouterr().err
        assert error.startswith(line) and error.count("\n") == 1, error
    assert main(["train", "--steps", "2", "--optimizer", "adagrad"]) == 2
    assert "argument --optimizer: invalid choice: 'adagrad'" in capsys.readouterr().err


@pytest.mark.parametrize("kind", OPTIMIZERS)
@pytest.mark.parametrize("data", [MAZUR, {**MAZUR, "update_biases": True}, DEEP], ids=["mazur", "biases", "deep"])
def test_the_matrix_form_of_every_optimizer_is_proved_entry_by_entry(data, kind):
    """Each line of the rule per weight matrix and bias, written out entry by entry at any step t, equals the
    scalar rule's line for that entry's parameter: every entry of every trained matrix, each line and g."""
    problem = Problem(data)
    checks = check_matrix_optimizer(problem.derived, problem.matrix, problem.optimizer(kind))
    trained = len(problem.network.trainable)
    assert len(checks) == trained * (len(optimizer_rule(problem.optimizer(kind)).lines) + 1)
    assert all(check.equal for check in checks)


def test_a_forgotten_bias_correction_in_the_matrix_form_fails_its_proof(monkeypatch):
    """mhat_W = m_W (the correction dropped from the matrix lines only) differs from the scalar rule's mhat."""
    import symbackprop.checks.matrix_form as proof
    from symbackprop.derivation.matrix import MatrixDefinition

    def forgetful(matrix, rule, step):
        lines = optimizer_lines(matrix, rule, step)
        return tuple(MatrixDefinition(d.symbol, lines[k - 3].symbol, d.layer) if d.symbol.name.startswith("mhat")
                     else d for k, d in enumerate(lines))
    monkeypatch.setattr(proof, "optimizer_lines", forgetful)
    problem = Problem(ADAM)
    checks = proof.check_matrix_optimizer(problem.derived, problem.matrix, problem.spec.optimizer)
    wrong = {c.entry.split("[")[0] for c in checks if not c.equal}
    assert wrong == {"mhat_Wh", "mhat_Wo"}
    with pytest.raises(CheckFailure, match="^matrix form differs from the scalar derivation"):
        proof.require_equal(checks)


def test_the_matrix_form_works_an_optimizers_steps_with_the_scalar_steps_numbers():
    problem = Problem(ADAM)
    matrix = problem.matrix_solution(steps=2).render("text", width=None)
    scalar = problem.solve(steps=2, checks=False).render("text", width=None)
    section = matrix[matrix.index("Optimizer: adam, 2 steps"):]
    assert "equals the scalar rule's line for that entry's parameter" in section
    assert "m_Wo⟨1⟩ = β₁ · m_Wo⟨0⟩ + (1 - β₁) · g_Wo⟨1⟩ = 0.9 · [[0, 0], [0, 0]] + (1 - 0.9) · " in section
    for name in ("mhat_w5⟨1⟩", "v_w8⟨2⟩", "w₇⟨2⟩"):
        value = next(line for line in scalar.splitlines() if line.startswith(name)).rsplit(" = ", 1)[1]
        assert value in section, name
    assert "Optimizer:" not in problem.matrix_solution(steps=0, checks=False).render("text")


def test_the_guide_s_matrix_lines_are_the_engine_s():
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parent.parent / "docs" / "optimizers.md").read_text(encoding="utf-8")
    shown = re.search(r"```text\n(g_Wo.*?)```", guide, re.S).group(1).splitlines()
    text = Problem("mazur").matrix_solution(steps=1, optimizer="adam", checks=False).render("text", width=None)
    lines = text.splitlines()
    assert len(shown) == 6 and all(any(line.startswith(own + " = ") for line in lines) for own in shown), shown


def test_an_optimizers_steps_in_matrix_form_and_on_a_graph_compile_in_latex(tmp_path):
    """vhat_Wh<1> raised entry by entry is braced ({vhat^{<1>}}^{∘ 1/2}), not a double superscript."""
    from tests.test_html_latex import _pdflatex

    graph = {"values": {"w": "0.5", "x": 2, "t": 1}, "learning_rate": "0.5", "nodes": {"L": "(w x - t)^2"}, "loss": "L"}
    for name, solution in (("matrix", Problem("mazur").matrix_solution(steps=1, optimizer="adam", checks=False)),
                           ("graph", sbp.solve(graph, steps=2, optimizer="adam", checks=False))):
        source = tmp_path / f"{name}.tex"
        source.write_text(solution.render("latex"), encoding="utf-8")
        _pdflatex(source)
