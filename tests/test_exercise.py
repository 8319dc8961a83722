"""Exercises: fresh, sensible networks from a seed, with a question sheet and an answer key."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from symbackprop.errors import InputError
from symbackprop.spec import spec_from_dict
from symbackprop.spec.exercise import exercise_spec, parse_layers


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symbackprop.cli", *args], capture_output=True, text=True,
                          timeout=600)


def test_same_seed_same_exercise_and_seeds_differ():
    first = exercise_spec([2, 2, 2], "sigmoid", "half_squared_error", 7)
    assert first == exercise_spec([2, 2, 2], "sigmoid", "half_squared_error", 7)
    others = {json.dumps(exercise_spec([2, 2, 2], "sigmoid", "half_squared_error", s)) for s in range(20)}
    assert len(others) == 20


@pytest.mark.parametrize("seed", range(10))
def test_numbers_are_short_decimals_a_calculator_can_take(seed):
    data = exercise_spec([3, 4, 2], "tanh", "squared_error", seed)
    spec_from_dict(data)
    numbers = data["inputs"] + data["targets"] + [w for layer in data["layers"] for row in layer["weights"] for w in row]
    assert all(Decimal(n) == Decimal(n).quantize(Decimal("0.01")) and 0 < Decimal(n) < 1 for n in numbers)


def test_softmax_classification_exercise_has_a_distribution_for_targets():
    data = exercise_spec([2, 3, 3], "relu", "cross_entropy", 3)
    assert data["layers"][-1]["activation"] == "softmax" and sorted(data["targets"]) == ["0", "0", "1"]
    spec_from_dict(data)


@pytest.mark.parametrize("text", ["2", "2,x", "2,0,1", ",".join(["2"] * 9)])
def test_bad_layer_lists(text):
    with pytest.raises(InputError, match="^layers: "):
        parse_layers(text)


def test_question_sheet_answer_key_and_spec(tmp_path):
    sheet, key, spec = tmp_path / "sheet.md", tmp_path / "key.md", tmp_path / "spec.json"
    result = run("exercise", "--seed", "11", "--layers", "2,3,1", "--activation", "tanh",
                 "-o", str(sheet), "--answers", str(key), "--spec-out", str(spec))
    assert result.returncode == 0, result.stderr
    questions = sheet.read_text()
    assert questions.startswith("# Exercise 11") and "= ?" in questions and "$$" in questions
    assert "Gradient checks" in key.read_text() and "FAIL" not in key.read_text()
    answer = json.loads(run("gradients", str(spec), "--json").stdout)["gradients"]["w1"]
    assert run("check", str(spec), "--value", answer[:14], "--wrt", "w1").returncode == 0
    again = run("exercise", "--seed", "11", "--layers", "2,3,1", "--activation", "tanh")
    assert again.stdout == run("exercise", "--seed", "11", "--layers", "2,3,1", "--activation", "tanh").stdout


def test_question_sheet_draws_the_network_with_every_weight_labelled():
    """Which weight is w₂? The sheet shows it: a TikZ or SVG figure with every weight's label, in text a list."""
    from symbackprop.derivation import derive
    from symbackprop.network import build_network
    from symbackprop.printers import printer
    from symbackprop.solution.build import question_sheet

    derivation = derive(build_network(spec_from_dict(exercise_spec([2, 3, 2], "sigmoid", "half_squared_error", 5))))
    sheet = question_sheet(derivation, "Exercise 5")
    weights = [w for layer in derivation.network.layers for row in layer.weights for w in row]
    assert len(weights) == 12
    latex = printer("latex").doprint(sheet)
    assert latex.count(r"\begin{tikzpicture}") == 1 and latex.count(r"\node[edge label]") == len(weights)
    assert all(f"${w.symbol.name.replace('_', '_{')}}} = " in latex for w in weights)
    html = printer("html").doprint(sheet)
    assert html.count("<svg") == 1 and html.count('<tspan font-style="italic">w</tspan>') == len(weights)
    text = printer("text", ascii=True).doprint(sheet)
    assert "i_2 -> h1 (w_2 = " in text and "h3 -> o2 (w_12 = " in text
