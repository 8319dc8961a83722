"""check on an optimizer's steps: every line `solve --steps 3 --optimizer X` prints reads back as right on a layered
network, a computation graph and a layer spec, `--optimizer` names the optimizer, and planted mistakes (a wrong
number at step 2, a forgotten bias correction at step 3, the step-1 gradient reused at step 2) are caught and named."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

import symbackprop as sbp
from symbackprop.cli import main

NEURON = json.loads(sbp.api.example_text("neuron"))
CONV1D = {**json.loads(sbp.api.example_text("conv1d")), "learning_rate": "0.1"}
SPECS = {"network": "mazur", "graph": NEURON, "layers": CONV1D}
GRADIENT = {"network": ("g_w5", "∂E_total/∂w₅"), "graph": ("g_w0", "∂f/∂w₀"), "layers": ("g_K1", "∂E/∂K₁")}
"""Each kind's first trained parameter's gradient name, and the formula `solve` writes for it."""
PROBLEMS: dict[str, object] = {}


def _problem(kind: str):
    """One problem per kind for the module (its checkers, one per optimizer, are kept by the problem)."""
    if kind not in PROBLEMS:
        PROBLEMS[kind] = sbp.open_problem(SPECS[kind])
    return PROBLEMS[kind]


def _step_lines(kind: str, optimizer: str, steps: int = 3) -> list[str]:
    """The lines of the steps `solve --steps 3 --optimizer X` prints, each on one line."""
    text = _problem(kind).solve(steps=steps, optimizer=optimizer, checks=False).render("text", width=10_000)
    return [line for line in text[text.index("Step 1"):].splitlines() if " = " in line]


def _line(kind: str, optimizer: str, start: str) -> str:
    return next(line for line in _step_lines(kind, optimizer) if line.startswith(start))


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("kind", list(SPECS))
def test_every_line_solve_prints_for_three_steps_reads_back_as_right(kind, optimizer):
    """Each spec's own optimizer is sgd: momentum's and adam's lines are read only through `optimizer`. Gradient
    lines are pasted whole, their formula part (g_w5<3> = ∂E_total/∂w₅) read at the parameters after step 2."""
    lines = _step_lines(kind, optimizer)
    assert any("⟨3⟩ = " in line for line in lines) and any(line.startswith(GRADIENT[kind][0] + "⟨3⟩ = ∂")
                                                             for line in lines)
    for line in lines:
        verdict = _problem(kind).check(formula=line, optimizer=optimizer).verdict
        assert verdict.correct, line


@pytest.mark.parametrize("kind", list(SPECS))
def test_a_gradients_formula_is_read_at_its_steps_parameters(kind):
    """g<2> = ∂f/∂w is right and means the gradient after step 1: the gradient at the spec's values (step 1's) is
    not g<2>'s value."""
    name, formula = GRADIENT[kind]
    problem = _problem(kind)
    assert problem.check(formula=f"{name}⟨2⟩ = {formula}", optimizer="momentum").verdict.correct
    first = _line(kind, "momentum", f"{name}⟨1⟩ = ").rsplit(" = ", 1)[1]
    stale = problem.check(formula=f"{name}⟨2⟩ = {formula} = {first}", optimizer="momentum").verdict
    assert not stale.correct and stale.parts[0].correct and not stale.parts[1].correct


@pytest.mark.parametrize("kind", list(SPECS))
def test_the_step_one_gradient_reused_at_step_two_is_named(kind):
    """As a number (g<2> written with step 1's value) and in a formula (m<2> reading g<1>): 'stale-gradient'."""
    name, formula = GRADIENT[kind]
    problem = _problem(kind)
    first = _line(kind, "adam", f"{name}⟨1⟩ = ").rsplit(" = ", 1)[1]
    number = problem.check(formula=f"{name}⟨2⟩ = {formula} = {first}", optimizer="adam")
    mistake = number.verdict.parts[1].explanations[0]
    assert not number.verdict.correct and mistake.exact and mistake.mistake.kind == "stale-gradient"
    assert (mistake.mistake.used.name, mistake.mistake.instead_of.name) == (f"{name}<1>", f"{name}<2>")
    assert f"the step before's gradient {name}⟨1⟩ used where {name}⟨2⟩ belongs" in number.render("text", width=500)
    moment = name.replace("g_", "m_")
    used = problem.check(formula=f"{moment}⟨2⟩ = β₁ · {moment}⟨1⟩ + (1 - β₁) · {name}⟨1⟩", optimizer="adam").verdict
    assert not used.correct and used.explanations[0].exact and used.explanations[0].mistake.kind == "stale-gradient"


@pytest.mark.parametrize("kind", list(SPECS))
def test_step_one_gradients_number_among_the_numbers_of_step_two_is_caught(kind):
    """m<2>'s numbers written with g<1>'s value for g<2>'s and its value worked from them: the part of numbers is
    wrong and the stale gradient named. 0.9 and 1 - 0.9 are β₁ exactly: taken as any number that rounds to them,
    0.1 ± 0.05 made room for g<1> as well."""
    name, _ = GRADIENT[kind]
    right = _line(kind, "adam", name.replace("g_", "m_") + "⟨2⟩ = ")
    first = _line(kind, "adam", f"{name}⟨1⟩ = ").rsplit(" = ", 1)[1]
    second = _line(kind, "adam", f"{name}⟨2⟩ = ").rsplit(" = ", 1)[1]
    quantity, formula, numbers, _ = right.split(" = ")
    before, found, after = numbers.rpartition(second)
    assert found and first != second
    planted = before + first + after
    verdict = _problem(kind).check(formula=f"{quantity} = {formula} = {planted}", optimizer="adam").verdict
    assert not verdict.correct and verdict.parts[0].correct and not verdict.parts[1].correct
    assert verdict.parts[1].explanations[0].exact and verdict.parts[1].explanations[0].mistake.kind == "stale-gradient"


@pytest.mark.parametrize("kind", list(SPECS))
def test_a_wrong_number_at_step_two_is_caught_in_its_part(kind):
    """The first parameter's line of step 2 with its value off by 1%, then with that value in its numbers: the
    wrong part is the one judged wrong, and the verdict gives the right value."""
    parameter = next(line.split(" = ")[0] for line in _step_lines(kind, "momentum")
                     if line.split(" = ")[0].endswith("⟨2⟩") and "_" not in line.split(" = ")[0])
    head, value = _line(kind, "momentum", parameter + " = ").rsplit(" = ", 1)
    wrong = f"{Decimal(value) * Decimal('1.01'):f}"
    verdict = _problem(kind).check(formula=f"{head} = {wrong}", optimizer="momentum").verdict
    assert not verdict.correct and [part.correct for part in verdict.parts] == [True, True, False]
    assert verdict.parts[-1].written == wrong and verdict.parts[-1].expected == verdict.parts[0].expected
    quantity, formula, numbers = head.split(" = ")
    before, found, after = numbers.partition(_line(kind, "momentum", parameter.replace("⟨2⟩", "⟨1⟩") + " = ")
                                             .rsplit(" = ", 1)[1])
    assert found
    planted = f"{quantity} = {formula} = {before}{Decimal(found) * Decimal('1.01'):f}{after} = {value}"
    verdict = _problem(kind).check(formula=planted, optimizer="momentum").verdict
    assert not verdict.correct and [part.correct for part in verdict.parts] == [True, False, True]


@pytest.mark.parametrize("kind", list(SPECS))
def test_a_forgotten_bias_correction_at_step_three_is_named(kind):
    """mhat<3> = m<3>, as a formula and as m<3>'s number: the factor 1/(1 - β₁³) dropped."""
    name, _ = GRADIENT[kind]
    moment, corrected = name.replace("g_", "m_"), name.replace("g_", "mhat_")
    problem = _problem(kind)
    formula = problem.check(formula=f"{corrected}⟨3⟩ = {moment}⟨3⟩", optimizer="adam")
    assert not formula.verdict.correct
    assert f"the factor 1/(1 - β₁³) dropped from {corrected}⟨3⟩: reproduces yours exactly" in \
        formula.render("text", width=500)
    number = _line(kind, "adam", f"{moment}⟨3⟩ = ").rsplit(" = ", 1)[1]
    value = problem.check(value=number, quantity=f"{corrected}<3>", optimizer="adam").verdict
    assert not value.correct and value.explanations[0].exact and value.explanations[0].mistake.kind == "dropped-factor"


def test_a_whole_pasted_solution_is_graded_and_its_planted_line_named(tmp_path, capsys):
    """`check --solution FILE --optimizer adam` on the steps solve prints: right. With step 2's gradient written as
    step 1's number, that line is the first wrong one and the mistake stale-gradient; with step 1's line copied
    whole (the same formula and number), copied-line, naming the line copied."""
    lines = _step_lines("graph", "adam", steps=2)
    path = tmp_path / "steps.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["check", "neuron", "--solution", str(path), "--optimizer", "adam"]) == 0
    capsys.readouterr()
    step_one = next(line for line in lines if line.startswith("g_w1⟨1⟩"))
    for planted, mistake in ((f"g_w1⟨2⟩ = {step_one.rsplit(' = ', 1)[1]}", "stale-gradient"),
                             (step_one.replace("⟨1⟩", "⟨2⟩", 1), "copied-line")):
        path.write_text("\n".join(planted if line.startswith("g_w1⟨2⟩") else line for line in lines) + "\n",
                        encoding="utf-8")
        assert main(["check", "neuron", "--solution", str(path), "--optimizer", "adam", "--json"]) == 1
        wrong = [line for line in json.loads(capsys.readouterr().out)["lines"] if line["status"] == "wrong"]
        assert wrong[0]["quantity"]["text"] == "g_w1<2>" and wrong[0]["mistake"] == mistake


def test_optimizer_takes_the_specs_settings_for_its_kind_else_the_defaults():
    """As solve and train: adam on a spec whose optimizer is adam with beta1 0.8 reads β₁ = 0.8; momentum there
    reads μ = 0.9, PyTorch's default; the spec's own (no --optimizer) is adam's."""
    problem = sbp.open_problem({**NEURON, "optimizer": {"kind": "adam", "beta1": 0.8}})
    assert problem.check(value="0.8", quantity="beta_1", optimizer="adam").verdict.correct
    assert problem.check(value="0.8", quantity="beta_1").verdict.correct
    assert problem.check(value="0.9", quantity="mu", optimizer="momentum").verdict.correct
    line = next(line for line in problem.optimizer_steps(2).render("text", width=10_000).splitlines()
                if line.startswith("m_w0⟨2⟩"))
    assert problem.check(formula=line, optimizer="adam").verdict.correct


def test_an_unknown_optimizer_is_one_line_naming_the_option_and_the_names(capsys):
    assert main(["check", "mazur", "--optimizer", "adagrad", "--value", "1", "--wrt", "w5"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--optimizer" in error
    assert all(name in error for name in sbp.api.OPTIMIZERS)
    with pytest.raises(sbp.InputError, match=r"^optimizer: expected one of sgd, momentum, nesterov, rmsprop, adam, "
                                             r"adamw, got 'adagrad'$"):
        sbp.check("mazur", value="1", wrt="w5", optimizer="adagrad")


def test_a_named_optimizer_on_a_graph_without_a_learning_rate_is_one_line():
    spec = {key: value for key, value in NEURON.items() if key != "learning_rate"}
    with pytest.raises(sbp.InputError, match="^learning_rate: training a graph needs the spec's learning_rate"):
        sbp.check(spec, value="2", quantity="w_0<1>", optimizer="adam")


def test_the_command_line_reads_a_step_three_line_of_another_optimizer(capsys):
    """mazur's optimizer is sgd: `check --optimizer adam` reads adam's step 3, and its JSON names the mistake."""
    assert main(["check", "mazur", "--optimizer", "adam", "--formula", "mhat_w5⟨3⟩ = m_w5⟨3⟩", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["correct"] is False and report["explanations"][0]["kind"] == "dropped-factor"
    assert main(["check", "mazur", "--optimizer", "adam", "--formula", _line("network", "adam", "w₅⟨3⟩ = ")]) == 0


def test_grade_reads_the_steps_of_the_optimizer_it_is_given(tmp_path, capsys):
    """`grade --optimizer adam` scores adam's worked steps on the neuron graph (whose optimizer is sgd) 1, and the
    same lines without it 0: adam's state (m, vhat) is no quantity of sgd's, and sgd's w₁⟨1⟩ is another number."""
    lines = [line for line in _step_lines("graph", "adam", steps=2) if line.startswith(("m_w1", "vhat_w1", "w₁⟨"))]
    assert len(lines) == 6
    path = tmp_path / "steps.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["grade", "neuron", str(path), "--optimizer", "adam", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["score"] == 1
    assert main(["grade", "neuron", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["score"] == 0


def test_the_model_after_a_step_has_step_marked_names_a_diagnosis_prints_and_a_hand_types():
    """net_h1<1> is net_h1 at the parameters after step 1: checkable by name, its formula over w_1<1>, and the
    name a diagnosis of step 2's gradient prints (it printed the private `_net_h1 after step 1`)."""
    problem = _problem("network")
    assert problem.check(formula="net_h1<1> = w_1<1> i_1 + w_2<1> i_2 + b_1", optimizer="momentum").verdict.correct
    assert problem.check(formula="out_o1<2> = 1/(1 + exp(-net_o1<2>))", optimizer="momentum").verdict.correct
    assert not problem.check(value="0.3775", quantity="net_h1<2>", optimizer="momentum").verdict.correct
    report = problem.check(formula="g_w5⟨2⟩ = δ_o1 · out_h1 = 0.05", optimizer="momentum").render("text", width=10_000)
    assert "net_h1⟨1⟩" in report and "after step" not in report


def test_a_step_marked_copy_never_takes_a_name_the_graph_or_the_step_has():
    """A graph whose node is m_w0 beside momentum's m_w0<1>: the node's copy after step 1 stays private, so
    m_w0<1> is momentum's state, and every line solve prints for two steps reads back as right."""
    spec = {**NEURON, "nodes": {"m_w0": "w0 x0 + w1 x1 + w2", "f": "1/(1 + e^{-m_w0})"}}
    problem = sbp.open_problem(spec)
    lines = [line for line in problem.solve(steps=2, optimizer="momentum", checks=False).render("text", width=10_000)
             .splitlines() if "⟨" in line and " = " in line]
    assert any(line.startswith("m_w0⟨1⟩") for line in lines)
    assert all(problem.check(formula=line, optimizer="momentum").verdict.correct for line in lines)
