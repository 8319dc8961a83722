"""The computational-graph figure: laid out without crossings where the graph allows, deterministic, each
edge's value above it and its gradient below (in the records, in SVG and in TikZ through pdflatex), and a
derivative's paths highlighted, every use of a shared name among them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html import unescape

import mpmath
import pytest
from hypothesis import given, settings, strategies as st

from symbackprop.cli import main
from symbackprop.graph_problem import GraphProblem
from symbackprop.network.graph import build_graph
from symbackprop.numbers.graph import use_gradients
from symbackprop.printers import LatexPrinter, TextPrinter
from symbackprop.printers.drawing import GRADIENT_INK, INK, STROKES
from symbackprop.printers.svg import svg_picture
from symbackprop.solution.figure import Figure
from symbackprop.solution.graph_figure import FIGURE_LIMIT, graph_figure, graph_layout, paths_to_loss
from symbackprop.spec.graph import graph_spec_from_dict
from tests.test_html_latex import _pdflatex

STAGED = {"name": "staged", "values": {"x": -2, "y": 5, "z": -4}, "nodes": {"q": "x + y", "f": "q * z"}, "loss": "f"}
SHARED = {"name": "shared", "values": {"w": "0.5", "x": 3, "c": 2},
          "nodes": {"a": "w * x", "b": "w + a", "f": "a * b", "g": "w * c"}, "loss": "f"}
"""w is used three times: by a and b, which reach the loss, and by g, which does not."""
LONG = {"name": "long", "values": {"x": "0.5", "y": 2},
        "nodes": {"p": "x * y", "q": "tanh(p)", "r": "q + x", "f": "r * x"}, "loss": "f"}
"""x is used at three depths: two of its edges span several columns."""


def full(spec: dict) -> Figure:
    return GraphProblem(spec).solve(checks=False).record.figure


def edges(figure: Figure) -> dict[str, tuple[str | None, str | None]]:
    return {f"{e.source}-{e.target}": (e.value, e.gradient) for e in figure.edges}


def crossings(figure: Figure) -> int:
    """Pairs of edge segments that cross in the drawing, from the coordinates alone; segments sharing an
    end do not cross. Every segment runs from one column to the next."""
    segments: dict[float, list[tuple[float, float]]] = {}
    for edge in figure.edges:
        route = figure.route(edge)
        for (x0, y0), (x1, y1) in zip(route, route[1:]):
            assert x1 == x0 + 1, (edge, route)
            segments.setdefault(x0, []).append((y0, y1))
    return sum((a0 - b0) * (a1 - b1) < 0 for pairs in segments.values()
               for k, (a0, a1) in enumerate(pairs) for b0, b1 in pairs[k + 1:])


def figure_of(spec: dict) -> Figure:
    graph = build_graph(graph_spec_from_dict(spec))
    return graph_figure(graph, graph_layout(graph), "test")


# --- the records -------------------------------------------------------------------------------------


def test_each_edge_carries_the_value_above_and_its_uses_gradient_below():
    figure = full(STAGED)
    assert edges(figure) == {"x-q": ("-2", "-4"), "y-q": ("5", "-4"), "q-f": ("3", "-4"), "z-f": ("-4", "3")}
    assert {n.key: (n.kind, n.value) for n in figure.nodes} == {
        "x": ("leaf", None), "y": ("leaf", None), "z": ("leaf", None), "q": ("node", None), "f": ("node", "-12")}
    assert all(e.at is not None and e.parameter is None for e in figure.edges) and not figure.path


def test_a_shared_name_has_one_edge_per_use_and_the_shares_sum_to_its_gradient():
    problem = GraphProblem(SHARED)
    figure = problem.solve(checks=False).record.figure
    assert [k for k in edges(figure) if k.startswith("w-")] == ["w-a", "w-b", "w-g"]
    assert edges(figure)["w-g"] == ("0.5", None)  # g does not reach the loss: no gradient flows back
    shares = use_gradients(problem.derived, problem.values)
    for name, gradient in problem.gradients().items():
        uses = [value for (source, _), value in shares.items() if source.name == name]
        if uses:
            assert mpmath.almosteq(sum(uses), gradient, 1e-45), name


def test_a_path_figure_highlights_every_use_of_a_shared_name_on_the_way_to_the_loss():
    graph = GraphProblem(SHARED).graph
    lit = {f"{a.name}-{b.name}" for a, b in paths_to_loss(graph, graph.spec.trainable[0])}
    assert lit == {"w-a", "w-b", "a-b", "a-f", "b-f"}
    section = next(s for s in GraphProblem(SHARED).solve(checks=False).record.sections[2].items
                   if getattr(s, "symbol", None) is not None and s.symbol.name == "w")
    figure = section.items[0]
    assert isinstance(figure, Figure) and figure.symbol.wrt.name == "w"
    assert {f"{e.source}-{e.target}" for e in figure.path} == lit
    assert {n.key for n in figure.nodes if n.highlighted} == {"w", "a", "b", "f"}
    assert all(e.value is None and e.gradient is None for e in figure.edges if not e.highlighted)


def test_every_gradient_section_but_the_losss_opens_with_its_paths():
    record = GraphProblem(LONG).solve(checks=False).record
    sections = [s for s in record.sections[2].items if getattr(s, "symbol", None) is not None]
    assert [isinstance(s.items[0], Figure) for s in sections] == [False] + [True] * (len(sections) - 1)


def test_long_edges_bend_in_every_column_they_pass():
    figure = figure_of(LONG)
    columns = {n.key: n.x for n in figure.nodes}
    assert columns == {"x": 0, "y": 0, "p": 1, "q": 2, "r": 3, "f": 4}
    for edge in figure.edges:
        assert [x for x, _ in figure.route(edge)] == list(range(int(columns[edge.source]), int(columns[edge.target]) + 1))
    assert crossings(figure) == 0


def test_a_leaf_sits_just_before_its_first_user():
    figure = figure_of({"values": {"x": 1, "y": 2, "b": 3}, "nodes": {"p": "x * y", "q": "exp(p)", "f": "q + b"},
                        "loss": "f"})
    assert {n.key: n.x for n in figure.nodes}["b"] == 2


def test_too_large_a_graph_is_not_drawn_and_the_solution_says_so():
    size = FIGURE_LIMIT
    spec = {"values": {"x": "0.5"}, "nodes": {"v1": "tanh(x)", **{f"v{k}": f"tanh(v{k - 1})" for k in range(2, size + 1)}},
            "loss": f"v{size}"}
    record = GraphProblem(spec).solve(checks=False).record
    assert record.figure is None
    assert f"{size + 1} names: too many to draw" in TextPrinter().doprint(record)
    assert not any(isinstance(item, Figure) for section in record.sections[2].items
                   for item in getattr(section, "items", ()))


# --- no crossings where the graph allows, the same layout every time ---------------------------------


@st.composite
def layered_planar(draw) -> dict:
    """Layers joined by a staircase of edges (never crossing in the generator's order), the last layer one
    node; the nodes written in a shuffled order, so the layout must find a crossing-free order itself."""
    sizes = [*draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)), 1]
    layers = [[f"{chr(97 + k)}{j}" for j in range(n)] for k, n in enumerate([draw(st.integers(1, 4)), *sizes])]
    nodes = {}
    for upper, lower in zip(layers, layers[1:]):
        i = j = 0
        uses = [(0, 0)]
        while i < len(upper) - 1 or j < len(lower) - 1:
            moves = [move for move, ok in (((1, 0), i < len(upper) - 1), ((0, 1), j < len(lower) - 1),
                                           ((1, 1), i < len(upper) - 1 and j < len(lower) - 1)) if ok]
            di, dj = draw(st.sampled_from(moves))
            i, j = i + di, j + dj
            uses.append((i, j))
        for j, name in enumerate(lower):
            nodes[name] = " + ".join(upper[i] for i, k in uses if k == j)
    order = draw(st.permutations(list(nodes)))
    return {"values": {name: 1 for name in layers[0]}, "nodes": {name: nodes[name] for name in order},
            "loss": layers[-1][0]}


@st.composite
def trees(draw) -> dict:
    """A random tree of sums and products whose subtrees differ in depth: its short branches span columns."""
    leaves, nodes = [], {}

    def grow(depth: int) -> str:
        if depth == 0 or draw(st.integers(0, 3)) == 0:
            leaves.append(f"x{len(leaves)}")
            return leaves[-1]
        parts = [grow(depth - 1) for _ in range(draw(st.integers(1, 3)))]
        name = f"n{len(nodes)}"
        nodes[name] = " * ".join(parts) if len(parts) > 1 else f"tanh({parts[0]})"
        return name

    top = [grow(draw(st.integers(1, 4))) for _ in range(2)]
    nodes["f"] = " + ".join(top)
    return {"values": {name: 1 for name in leaves}, "nodes": nodes, "loss": "f"}


@settings(max_examples=60, deadline=None, derandomize=True)
@given(spec=layered_planar())
def test_layered_graphs_drawn_without_crossings_are_drawn_without_crossings(spec):
    assert crossings(figure_of(spec)) == 0


@settings(max_examples=60, deadline=None, derandomize=True)
@given(spec=trees())
def test_trees_are_drawn_without_crossings(spec):
    assert crossings(figure_of(spec)) == 0


@pytest.mark.parametrize("spec", [STAGED, SHARED, LONG], ids=["staged", "shared", "long"])
def test_the_hand_made_graphs_are_drawn_without_crossings(spec):
    assert crossings(full(spec)) == 0


def test_the_crossing_count_sees_a_crossing():
    """The check above is not vacuous: K(3,3) between two columns cannot be drawn without crossings."""
    spec = {"values": {"a": 1, "b": 1, "c": 1},
            "nodes": {"p": "a + b + c", "q": "a * b * c", "r": "a - b - c", "f": "p + q + r"}, "loss": "f"}
    assert crossings(figure_of(spec)) == 9


@settings(max_examples=20, deadline=None, derandomize=True)
@given(spec=layered_planar())
def test_the_layout_is_deterministic(spec):
    assert figure_of(spec) == figure_of(dict(spec))
    assert GraphProblem(STAGED).solve(checks=False).record.figure == full(STAGED)


# --- drawn: SVG and TikZ -----------------------------------------------------------------------------

_TEXT = re.compile(r'<text x="([-0-9.]+)" y="([-0-9.]+)" dy="0.35em" fill="#(\w+)">([^<]*)</text>')


def test_svg_draws_each_value_above_its_edge_and_each_gradient_below():
    figure = full(SHARED)
    svg = svg_picture(figure, "shared")
    texts = [(float(x), float(y), ink, unescape(words).replace("\u2212", "-")) for x, y, ink, words in _TEXT.findall(svg)]
    lines = re.findall(r'<line x1="([-0-9.]+)" y1="([-0-9.]+)" x2="([-0-9.]+)" y2="([-0-9.]+)"', svg)
    assert len(lines) + svg.count("<polyline") == len(figure.edges) and len(lines) >= 5
    for edge, line in zip([e for e in figure.edges if not e.via], lines):
        x0, y0, x1, y1 = map(float, line)
        label_x = next(x for x, _, ink, words in texts if ink == INK and words == edge.value
                       and min(x0, x1) < x < max(x0, x1))
        on_line = y0 + (label_x - x0) / (x1 - x0) * (y1 - y0)
        above = [y for x, y, ink, words in texts if (x, ink, words) == (label_x, INK, edge.value)]
        below = [y for x, y, ink, words in texts if (x, ink, words) == (label_x, GRADIENT_INK, edge.gradient)]
        assert above and min(above) < on_line, edge
        assert (edge.gradient is None) == (not below), edge
        assert all(y > on_line for y in below), edge


def test_svg_highlights_the_path_edges_and_only_those():
    problem = GraphProblem(SHARED)
    sections = problem.solve(checks=False).record.sections[2].items
    figure = next(s.items[0] for s in sections if getattr(s, "symbol", None) is not None and s.symbol.name == "w")
    svg = svg_picture(figure, "paths")
    strokes = re.findall(r'<(?:line|polyline) [^>]*stroke="#(\w+)"', svg)
    assert [s == STROKES["path"] for s in strokes] == [e.highlighted for e in figure.edges]
    assert sum(map(bool, strokes)) == len(figure.edges) and sum(s == STROKES["path"] for s in strokes) == 5


def test_svg_draws_a_long_edge_through_its_bends():
    svg = svg_picture(full(LONG), "long")
    assert svg.count("<polyline") == sum(1 for e in full(LONG).edges if e.via) == 2


def test_tikz_draws_values_above_and_gradients_below():
    tex = LatexPrinter().doprint(GraphProblem(STAGED).solve(checks=False).record)
    assert r"\node[edge label, above=1pt] at" in tex and r"\node[edge label, gradient label, below=1pt] at" in tex
    assert re.search(r"above=1pt\] at \(([-0-9.]+),([-0-9.]+)\) \{\$-2\$\};\n"
                     r"\\node\[edge label, gradient label, below=1pt\] at \(\1,\2\) \{\$-4\$\}", tex)


WIDE = {"name": "wide", "values": {"x": "0.5", "y": "0.25"},
        "nodes": {"v1": "x * y", **{f"v{k}": f"tanh(v{k - 1})" for k in range(2, 12)}}, "loss": "v11"}
"""Twelve columns: wider than the page unless scaled down."""


@pytest.mark.parametrize("spec", [STAGED, SHARED, LONG, WIDE], ids=["staged", "shared", "long", "wide"])
def test_latex_with_graph_figures_compiles_with_no_overfull_line(spec, tmp_path):
    source = tmp_path / "graph.tex"
    source.write_text(LatexPrinter().doprint(GraphProblem(spec).solve().record), encoding="utf-8")
    assert source.read_text(encoding="utf-8").count(r"\begin{tikzpicture}") >= 2
    log = _pdflatex(source)
    assert re.findall(r"Overfull \\hbox.*", log) == []


def test_html_and_markdown_of_a_graph_have_the_figures(tmp_path):
    page, notes = tmp_path / "staged.html", tmp_path / "staged.md"
    assert main(["solve", "staged", "-o", str(page)]) == 0 and main(["solve", "staged", "-o", str(notes)]) == 0
    html, markdown = page.read_text(encoding="utf-8"), notes.read_text(encoding="utf-8")
    assert html.count("<svg") == 1 + 4 and html.index("<svg") < html.index("<section>")
    assert "Paths of $\\frac{\\partial f}{\\partial x}$: $x$ -> $q$ (value -2, gradient -4)" in markdown


def test_the_figure_and_a_graph_exercise_are_the_same_in_every_process(tmp_path):
    """Nothing hangs on the order of a set of names: two processes with different hash seeds draw alike."""
    spec = tmp_path / "shared.json"
    spec.write_text(json.dumps(SHARED), encoding="utf-8")

    def run(hash_seed: str, *args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "symbackprop.cli", *args], capture_output=True, text=True,
                                timeout=600, env={**os.environ, "PYTHONHASHSEED": hash_seed})
        assert result.returncode == 0, result.stderr
        return result.stdout

    for args in (("solve", str(spec), "--format", "json"), ("exercise", "--graph", "--seed", "5", "--nodes", "12",
                                                            "--format", "json")):
        first, second = (json.loads(run(seed, *args)) for seed in ("1", "2"))
        assert first == second
