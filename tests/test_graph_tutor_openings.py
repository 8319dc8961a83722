"""What clicking a name or an edge of a graph's (or a layer spec's) tutor figure opens: the paths the worked
solution's figure of that name's gradient lights, and the first step of the section that derives it."""

from __future__ import annotations

import pytest

import symbackprop as sbp
from symbackprop.solution.figure import Figure
from symbackprop.solution.model import Section
from symbackprop.solution.tutor import TutorPage
from tests.test_tutor import page_data, read_openings

SHARED = {"values": {"x": 3, "w": 2}, "nodes": {"a": "w x", "b": "w + x", "f": "a b"}, "loss": "f"}
DEAD = {"values": {"x": 1, "y": 2}, "nodes": {"a": "2 y", "f": "x x"}, "loss": "f"}
"""a is used by no one: no gradient; y only by a: its gradient is 0 and no path leads from it."""


def path_figures(sections: tuple[Section, ...]) -> dict:
    """Every gradient's figure of its paths in the worked solution, by the gradient's symbol."""
    found = {}
    for section in sections:
        for item in section.items:
            if isinstance(item, Section):
                found |= path_figures((item,))
            elif isinstance(item, Figure) and item.symbol is not None:
                found[item.symbol] = item
    return found


def first_questions(page: TutorPage) -> dict[str, str]:
    """Each question's id -> the id of the first question of its section."""
    first, ids = {}, {}
    for question in page.questions:
        ids[question.key] = first.setdefault(id(question.section), question.key)
    return ids


@pytest.mark.parametrize("name", ["neuron", SHARED, "conv1d"])
def test_a_name_opens_the_paths_its_gradient_s_figure_lights(name):
    problem = sbp.open_problem(name)
    page = problem.tutor().page
    figures = path_figures(page.solution.sections)
    openings = {(o.part, o.key): o for o in page.openings}
    drawn = 0
    for adjoint in problem.derived.adjoints:
        opened = openings["node", adjoint.quantity.name]
        assert opened.label == adjoint.quantity
        if adjoint.symbol in figures:  # the worked solution draws its paths: the opening lights the same
            figure = figures[adjoint.symbol]
            assert opened.nodes == tuple(n.key for n in figure.nodes if n.highlighted)
            assert opened.edges == tuple((e.source, e.target) for e in figure.edges if e.highlighted)
            assert opened.edges
            drawn += 1
    assert drawn >= len(problem.derived.adjoints) - 1  # all but the loss's


@pytest.mark.parametrize("name", ["neuron", SHARED, "conv1d"])
def test_a_name_opens_the_first_step_of_its_gradient_s_section(name):
    problem = sbp.open_problem(name)
    page = problem.tutor().page
    asks: dict = {}
    for question in page.questions:  # the first to ask each quantity (the layer level asks some again)
        asks.setdefault(question.step.symbol, question)
    first = first_questions(page)
    openings = {(o.part, o.key): o for o in page.openings}
    for adjoint in problem.derived.adjoints:
        gradient = asks[adjoint.symbol]
        assert gradient.section.title == "Gradient for" and gradient.section.symbol == adjoint.quantity
        opened = openings["node", adjoint.quantity.name].question
        assert opened == first[gradient.key]
        assert next(q for q in page.questions if q.key == opened).section is gradient.section


def test_the_neuron_s_openings_as_the_page_reads_them():
    data = page_data(sbp.tutor("neuron").html())
    openings = read_openings(data)
    questions = {q["id"]: q for q in data["questions"]}
    w0 = openings["node w_0"]
    assert w0["label"] == "w₀" and w0["nodes"] == ["f", "dot", "w_0"] and w0["edges"] == ["w_0 dot", "dot f"]
    assert questions[w0["question"]]["section"] == "Gradient for w₀"
    assert questions[w0["question"]]["text"] == "ddot/dw_0"  # the section's first step: the local derivative
    assert openings["node f"] == {"label": "f", "nodes": ["f"], "edges": [], "question": "step-3"}
    assert questions["step-3"]["text"] == "df/df"
    # every node and every edge of the figure opens; an edge shows what its source shows
    assert set(openings) == {f"node {key}" for key in data["figure"]["nodes"]} | \
        {f"edge {key}" for key in data["figure"]["edges"]}
    for key in data["figure"]["edges"]:
        assert data["openings"][f"edge {key}"] == f"node {key.split()[0]}"


def test_a_shared_name_lights_every_use():
    openings = read_openings(page_data(sbp.tutor(SHARED).html()))
    assert set(openings["node w"]["edges"]) == {"w a", "w b", "a f", "b f"}
    assert openings["edge w a"] == openings["edge w b"] == openings["node w"]


def test_a_name_without_a_path_lights_itself_and_one_without_a_gradient_opens_no_step():
    data = page_data(sbp.tutor(DEAD).html())
    openings = read_openings(data)
    assert openings["node a"] == {"label": "a", "nodes": ["a"], "edges": [], "question": None}
    y = openings["node y"]
    assert y["nodes"] == ["y"] and y["edges"] == []
    assert next(q for q in data["questions"] if q["id"] == y["question"])["text"] == "df/dy"  # its gradient, 0


def test_a_graph_too_large_to_draw_has_no_openings():
    nodes = {"n1": "2 x", **{f"n{k}": f"n{k - 1} + x" for k in range(2, 81)}}
    page = sbp.open_problem({"values": {"x": 1}, "nodes": nodes, "loss": "n80"}).tutor().page
    assert page.solution.figure is None and page.openings == ()
