"""The tutor page of a computation graph and of a layer spec: the same values as `solve --format json` (the
updates too, when the spec has a learning rate), wrong answers as `check` on the graph diagnoses them, each
step's part of the graph figure, and the cap on a page's steps."""

from __future__ import annotations

import json
from decimal import Decimal

import mpmath
import pytest

import symbackprop as sbp
from symbackprop.cli import main
from symbackprop.errors import InputError
from symbackprop.numbers.graph_training import exact_start, exact_step
from symbackprop.numbers.rounding import fixed, rounds_to
from symbackprop.solution.graph_tutor import MAX_TUTOR_STEPS
from tests.test_tutor import by_text, mistakes, page_data, solved_steps


@pytest.fixture(scope="module")
def html() -> str:
    return sbp.tutor("neuron").html()  # the single sigmoid neuron: a graph with a learning rate


@pytest.fixture(scope="module")
def data(html) -> dict:
    return page_data(html)


@pytest.mark.parametrize("name", ["neuron", "staged", "conv1d"])
def test_values_are_solve_json_s_in_the_document_s_order(name, capsys):
    assert main(["solve", name, "--format", "json"]) == 0
    solved = list(solved_steps(json.loads(capsys.readouterr().out)))
    asked = page_data(sbp.tutor(name).html())["questions"]
    assert [(q["text"], q["result"]) for q in asked] == solved  # every numbered step, the layer level's too
    for q in asked:
        assert rounds_to(mpmath.mpf(q["exact"]), q["result"]), q["id"]


def test_forward_then_gradients_backwards_then_updates(data):
    sections = [q["section"] for q in data["questions"]]
    assert sections[:2] == ["Forward pass", "Forward pass"] and sections[-3:] == ["Updates"] * 3
    assert [q["text"] for q in data["questions"][2:4]] == ["df/df", "df/ddot"]
    problem = sbp.open_problem("neuron")
    _, after = exact_step(problem.derived, exact_start(problem.derived))  # the training loop's own step
    for name in ("w_0", "w_1", "w_2"):
        question = by_text(data, f"{name}^+")
        assert mpmath.almosteq(mpmath.mpf(question["exact"]), after[problem.checker.resolve(name)], 1e-19)


@pytest.mark.parametrize("quantity", ["dot", "df/ddot", "df/dw_0", "w_0^+"])
def test_wrong_answers_are_check_s_diagnoses_on_the_graph(data, quantity):
    question = by_text(data, quantity)
    shown = [m for m in mistakes(data, question)
             if fixed(mpmath.mpf(m["value"]), 9) != fixed(mpmath.mpf(question["exact"]), 9)]
    assert shown
    for mistake in shown:
        typed = f"{Decimal(fixed(mpmath.mpf(mistake['value']), 9)):.9f}"
        verdict = json.loads(sbp.check("neuron", value=typed, quantity=quantity).render("json"))
        assert not verdict["correct"]
        assert {"description": mistake["description"], "exact": True} in [
            {"description": e["description"]["text"], "exact": e["exact"]} for e in verdict["explanations"]]


def test_an_update_s_mistakes_include_the_learning_rate_and_the_sign(data):
    descriptions = {m["description"] for m in mistakes(data, by_text(data, "w_0^+"))}
    assert {"the factor eta dropped from w_0^+", "the factor -1 dropped from w_0^+",
            "the term w_0 missing from the sum for w_0^+"} <= descriptions


def test_values_by_hand_are_right_by_check_on_the_graph(data):
    hand = by_text(data, "df/dx_0")["by_hand"]
    assert hand["2"] == "0.40"
    for typed in hand.values():
        verdict = json.loads(sbp.check("neuron", value=typed, quantity="df/dx_0").render("json"))
        # right by check: rounded by hand, or the exact value truncated, which check names first
        assert verdict["correct"] and (verdict["by_hand"] or verdict["rounding"] == "truncated")


def test_each_step_lights_its_part_of_the_graph(html, data):
    assert by_text(data, "f")["nodes"] == ["f", "dot"] and by_text(data, "f")["edges"] == ["dot f"]
    local = by_text(data, "ddot/dw_1")
    assert local["edges"] == ["w_1 dot"] and set(local["nodes"]) == {"w_1", "dot"}
    for text in ("df/dw_1", "w_1^+"):  # the gradient and the update: the path from w_1 to the loss
        assert by_text(data, text)["edges"] == ["w_1 dot", "dot f"]
        assert set(by_text(data, text)["nodes"]) == {"w_1", "dot", "f"}
    assert by_text(data, "df/df")["nodes"] == ["f"] and by_text(data, "df/df")["edges"] == []
    for question in data["questions"]:
        for key in question["edges"]:
            assert f'data-edge="{key}"' in html
        for key in question["nodes"]:
            assert f'data-node="{key}"' in html


def test_every_step_of_a_layer_spec_lights_keys_of_its_figure():
    html = sbp.tutor("conv1d").html()
    for question in page_data(html)["questions"]:
        assert question["nodes"], question["text"]
        for key in question["nodes"]:
            assert f'data-node="{key}"' in html
        for key in question["edges"]:
            assert f'data-edge="{key}"' in html


def test_a_shared_name_lights_every_use(tmp_path):
    spec = {"values": {"x": 3, "w": 2}, "nodes": {"a": "w x", "b": "w + x", "f": "a b"}, "loss": "f"}
    question = by_text(page_data(sbp.tutor(spec).html()), "df/dw")
    assert set(question["edges"]) == {"w a", "w b", "a f", "b f"}


def test_a_graph_past_the_cap_is_refused_in_one_line(tmp_path, capsys):
    """A chain of 150 nodes asks 3 steps a node (its value, its local derivative, its gradient): past the cap."""
    nodes = {"n1": "2 x", **{f"n{k}": f"n{k - 1} + x" for k in range(2, 151)}}
    spec = tmp_path / "chain.json"
    spec.write_text(json.dumps({"values": {"x": 1}, "nodes": nodes, "loss": "n150"}))
    assert main(["tutor", str(spec), "-o", str(tmp_path / "page.html")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"symbackprop: spec: the tutor page asks at most {MAX_TUTOR_STEPS} steps; this graph's")
    assert error.count("\n") == 1 and not (tmp_path / "page.html").exists()


def test_a_graph_of_more_nodes_and_gradients_than_the_cap_is_refused_before_it_is_solved():
    nodes = {"n1": "2 x", **{f"n{k}": f"n{k - 1} + x" for k in range(2, 301)}}
    problem = sbp.open_problem({"values": {"x": 1}, "nodes": nodes, "loss": "n300"})
    with pytest.raises(InputError, match=f"at most {MAX_TUTOR_STEPS} steps; this graph's worked solution has "
                                         f"at least 601 "):
        problem.tutor()
    assert "values" not in vars(problem)  # nothing evaluated, nothing solved


def test_tutor_command_writes_a_layer_spec_s_page(tmp_path):
    path = tmp_path / "page.html"
    assert main(["tutor", "conv1d", "-o", str(path)]) == 0
    page = page_data(path.read_text(encoding="utf-8"))
    assert page["name"] == "conv1d"
    assert any(q["section"] == "Layer c1: conv1d at the layer level" for q in page["questions"])
