"""Layer exercises (`exercise --layer KIND`, issue #14): a small network about one layer kind with fresh exact
decimals, a question sheet and its answer key; and hand solutions of layer specs graded line by line."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from itertools import islice

import pytest

import symbackprop as sbp
from symbackprop.cli import main
from symbackprop.errors import InputError
from symbackprop.layer_problem import LayerProblem
from symbackprop.solution.model import Section, Step
from symbackprop.spec.layer_exercise import LAYER_EXERCISES, layer_exercise_specs


def _numbers(data) -> list[str]:
    """Every number a spec's data holds (not its kinds, names or flags)."""
    if isinstance(data, dict):
        return [n for key, value in data.items() if key not in ("kind", "name", "loss", "causal", "epsilon")
                for n in _numbers(value)]
    if isinstance(data, list):
        return [n for item in data for n in _numbers(item)]
    return [str(data)] if not isinstance(data, bool) else []


def _questions(exercise: sbp.Exercise) -> list[Step]:
    find = next(section for section in exercise.sheet().record.sections if section.title == "Find")
    return [item for item in find.items if isinstance(item, Step)]


def _answered(exercise: sbp.Exercise) -> set:
    """Every quantity the answer key works out (a step's left-hand side, in any section)."""
    found, sections = set(), list(exercise.answers().record.sections)
    while sections:
        section = sections.pop()
        for item in section.items:
            if isinstance(item, Section):
                sections.append(item)
            elif isinstance(item, Step):
                found.add(item.symbol)
    return found


@pytest.mark.parametrize("kind", LAYER_EXERCISES)
def test_same_seed_same_exercise_with_short_decimals_and_the_sheet_asks_the_layer_level_gradients(kind):
    exercise = sbp.layer_exercise(5, kind)
    assert exercise.data == sbp.layer_exercise(5, kind).data and exercise.data != sbp.layer_exercise(6, kind).data
    assert exercise.data["layers"][0]["kind"] in {kind, "conv1d", "dense"} and kind in exercise.data["name"]
    assert all(Decimal(n) == Decimal(n).quantize(Decimal("0.1")) and abs(Decimal(n)) <= 2
               for n in _numbers(exercise.data))
    assert not exercise.problem.kinks
    asked = {step.symbol for step in _questions(exercise)}
    assert all(step.result == "?" for step in _questions(exercise))
    layer_level = {gradient.quantity for form in exercise.problem.layer_forms for gradient in form.gradients}
    assert layer_level and {str(q.wrt) for q in asked if hasattr(q, "wrt")} >= {str(q) for q in layer_level
                                                                             if q in exercise.problem.values}
    assert exercise.problem.graph.loss in asked


@pytest.mark.parametrize("kind", ["conv1d", "rnn", "batchnorm"])
def test_the_answer_key_works_out_every_question_and_checks_it(kind):
    exercise = sbp.layer_exercise(2, kind)
    assert {step.symbol for step in _questions(exercise)} <= _answered(exercise)
    assert all(check.passed for check in exercise.problem.adjoint_checks)
    assert all(check.equal for check in exercise.problem.layer_checks)


def test_a_draw_whose_max_pooling_ties_is_drawn_again():
    first = next(layer_exercise_specs("maxpool", 220))
    assert LayerProblem(first).kinks  # two equal entries in a window: max has no derivative there
    exercise = sbp.layer_exercise(220, "maxpool")
    assert exercise.data != first and not exercise.problem.kinks
    assert exercise.data in list(islice(layer_exercise_specs("maxpool", 220), 10))


def test_an_unknown_kind_is_one_line():
    with pytest.raises(InputError, match=r"^layer: unknown layer kind 'pool' \(known: conv1d, conv2d, maxpool, "):
        sbp.layer_exercise(1, "pool")


def _command(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symbackprop.cli", *arguments], capture_output=True, text=True,
                          encoding="utf-8", timeout=600)


def test_sheet_key_and_spec_on_the_command_line(tmp_path):
    sheet, key, spec = tmp_path / "sheet.md", tmp_path / "key.html", tmp_path / "spec.json"
    result = _command("exercise", "--layer", "rnn", "--seed", "4", "-o", str(sheet), "--answers", str(key),
                      "--spec-out", str(spec))
    assert result.returncode == 0 and result.stdout == "", result.stderr
    assert sheet.read_text().startswith("# Exercise 4") and "backpropagation through time" in sheet.read_text()
    assert "rnn at the layer level" in key.read_text() and key.read_text().startswith("<!DOCTYPE html>")
    assert json.loads(spec.read_text()) == sbp.layer_exercise(4, "rnn").data
    gradient = sbp.open_problem(str(spec)).gradients()["W_2,1"]
    answer = _command("check", str(spec), "--value", f"{float(gradient):.9f}", "--wrt", "W_21")
    assert answer.returncode == 0, answer.stderr
    again = _command("exercise", "--layer", "rnn", "--seed", "4", "--format", "json")
    assert json.loads(again.stdout)["kind"] == "exercise" and again.stdout == _command(
        "exercise", "--layer", "rnn", "--seed", "4", "--format", "json").stdout


@pytest.mark.parametrize("argv, message", [
    (["--layer", "pool"], "--layer: unknown layer kind 'pool'"),
    (["--layer", "rnn", "--graph"], "--layer: only without --graph"),
    (["--layer", "rnn", "--loss", "squared_error"], "--loss: only without --layer"),
    (["--layer", "rnn", "--nodes", "3"], "--nodes: only with --graph"),
])
def test_bad_layer_exercise_options_exit_2_in_one_line(argv, message, capsys, tmp_path):
    written = tmp_path / "sheet.txt"
    assert main(["exercise", "--seed", "1", "-o", str(written), *argv]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"symbackprop: {message}") and error.count("\n") == 1 and not written.exists()


CONV1D_SOLUTION = """\
y_1 = K_2 x_1 + K_3 x_2 + b = -1 * 1 + 0.25 * 2 + 0.1 = -0.4
y_2 = K_1 x_2 + K_2 x_3 + K_3 x_4 + b = 2.225
dE/dy_2 = -(t_2 - y_2) = 2.475
dE/dy_3 = -(t_3 - y_3) = -3.65
dE/dK_1 = dE/dy_2 x_2 + dE/dy_3 x_4 = 2.475 * 2 + (-3.65) * 0.5 = 3.125
dE/dK_2 = dE/dy_2 x_3 + dE/dy_3 x_5 = 2.475 * (-1) + (-3.65) * 3 = -13.425
"""
"""A hand solution of the built-in conv1d example: right lines, then a shared kernel entry with a term missing
(K_2 is used by y_1 too)."""


def test_a_hand_solution_of_a_layer_spec_is_graded_line_by_line():
    grading = sbp.grade("conv1d", CONV1D_SOLUTION)
    lines = grading.grade.lines
    assert [line.status for line in lines] == ["right"] * 5 + ["wrong"]
    assert grading.grade.first_wrong.number == 6 and 0 < grading.score < 1
    assert lines[-1].finding.kind == "missing-term"


def test_check_solution_names_entries_as_people_type_them(tmp_path):
    problem = sbp.open_problem("rnn")
    value = f"{float(problem.gradients()['W_1,1']):.9f}"
    right = problem.check_solution(f"dE/dW_1_1 = {value}\ndE/dW[1,2] = {float(problem.gradients()['W_1,2']):.9f}")
    assert right.score == 1
    wrong = problem.check_solution(f"dE/dW_11 = {value}\ndE/dW_12 = 0.5")
    assert [line.status for line in wrong.grade.lines] == ["right", "wrong"]
    solution = tmp_path / "mine.txt"
    solution.write_text(f"dE/dW_11 = {value}\ndE/dW_12 = 0.5\n", encoding="utf-8")
    graded = _command("check", "rnn", "--solution", str(solution))
    assert graded.returncode == 1 and "∂E/∂W₁,₂" in graded.stdout


@pytest.mark.parametrize("seed", range(4))
def test_the_sheet_says_what_changes_the_formulas_a_stride_and_a_causal_mask(seed):
    conv, attention = sbp.layer_exercise(seed, "conv1d"), sbp.layer_exercise(seed, "attention")
    stride = conv.data["layers"][0]["stride"]
    assert ("conv1d with stride 2" in conv.sheet().render("text", width=None)) == (stride == 2)
    causal = attention.data["layers"][0]["causal"]
    assert ("causal attention" in attention.sheet().render("text", width=None)) == causal
