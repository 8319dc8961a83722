"""A network figure as inline SVG, for the HTML printer: edges, then their labels, then the nodes on top.

A figure with a highlighted path is drawn small, with only the path's edges labelled. A computation
graph's edge has its value above and its gradient below; one that spans columns is drawn through its bends.
Text takes the page's font. SVG text cannot be measured without a script, so the white
box behind an edge's label is sized from its character count.
"""

from __future__ import annotations

from html import escape

from sympy import Symbol
from sympy.printing.conventions import split_super_sub

from symbackprop.printers.drawing import FILLS, GRADIENT_INK, INK, STROKES, edge_gradient, edge_label, edge_state
from symbackprop.solution.figure import BIAS, Figure, Node

_SIZES = {False: (210, 95, 20, 15), True: (120, 52, 13, 11)}
"""Full figure or small one: column and row spacing, node radius and font size, in pixels."""
_WIDTHS = {"plain": 1, "path": 3, "muted": 1}
_EM_PER_CHARACTER = 0.5


def svg_picture(figure: Figure, title: str, *, keyed: bool = False) -> str:
    """The figure as an <svg> element; `title` (plain text) names it for screen readers. `keyed`: each edge and
    node carries its key (data-edge="source target", data-node="key", and a weight's label box
    data-label="source target") for a page's script to highlight and to make clickable; the figure is then a
    group of parts rather than one image."""
    across, down, radius, font = _SIZES[bool(figure.path)]
    margin = 2 * radius

    def place(x: float, y: float) -> tuple[float, float]:
        return margin + x * across, margin + y * down

    values_below = font if any(node.value is not None for node in figure.nodes) else 0
    width, height = figure.width * across + 2 * margin, figure.height * down + 2 * margin + values_below
    lines = [f'<svg class="network" width="{width:g}" height="{height:g}" viewBox="0 0 {width:g} {height:g}" '
             f'role="{"group" if keyed else "img"}" aria-label="{escape(title)}" font-size="{font}" text-anchor="middle">']
    for edge in figure.edges:
        state = edge_state(edge, figure)
        key = f' data-edge="{escape(edge.source)} {escape(edge.target)}"' if keyed else ""
        paint = f'stroke="#{STROKES[state]}" stroke-width="{_WIDTHS[state]}"{key}'
        (x0, y0), *bends, (x1, y1) = (place(*point) for point in figure.route(edge))
        if bends:
            points = " ".join(f"{x:g},{y:g}" for x, y in [(x0, y0), *bends, (x1, y1)])
            lines.append(f'<polyline points="{points}" fill="none" {paint}/>')
        else:
            lines.append(f'<line x1="{x0:g}" y1="{y0:g}" x2="{x1:g}" y2="{y1:g}" {paint}/>')
    for edge in figure.edges:
        label = edge_label(edge, figure, lambda symbol: _symbol(symbol, font), _numeral)
        gradient = edge_gradient(edge, figure, _numeral)
        if label is None and gradient is None:
            continue
        x, y = place(*edge.at)
        if edge.parameter is None:  # a graph's edge: the value above it, the gradient below
            for markup, plain, shift, ink in ((label, edge.value, -0.7, INK), (gradient, edge.gradient, 0.7, GRADIENT_INK)):
                if markup is not None:
                    lines += _boxed(x, y + shift * font, markup, plain, font, ink)
        else:
            key = f' data-label="{escape(edge.source)} {escape(edge.target)}"' if keyed else ""
            lines += _boxed(x, y, label, edge_label(edge, figure, _plain, str), font, INK, key)
    for node in figure.nodes:
        lines += _node(node, *place(node.x, node.y), radius, font, keyed)
    lines.append("</svg>")
    return "\n".join(lines)


def _boxed(x: float, y: float, markup: str, plain: str, font: int, ink: str, key: str = "") -> list[str]:
    """A label centred at (x, y) on a white box as wide as its `plain` text, over the edges; `key`: the box's
    attributes that name what it labels."""
    half = _width(plain, font) / 2
    return [f'<rect x="{x - half:g}" y="{y - 0.65 * font:g}" width="{2 * half:g}" height="{1.3 * font:g}" rx="3" '
            f'fill="white"{key}/>', _text(x, y, markup, ink)]


def _node(node: Node, x: float, y: float, radius: int, font: int, keyed: bool) -> list[str]:
    """A circle, or a box for a bias node, with the symbol inside and any value below; a circle widens
    for a long name."""
    radius = max(radius, round(_width(_plain(node.label), font) / 2 + 2))
    key = f'data-node="{escape(node.key)}" ' if keyed else ""
    paint = f'{key}fill="#{FILLS[node.kind]}" stroke="#{STROKES["path"] if node.highlighted else INK}" ' \
            f'stroke-width="{2.5 if node.highlighted else 1}"'
    if node.kind == BIAS:
        shape = f'<rect x="{x - radius:g}" y="{y - radius:g}" width="{2 * radius}" height="{2 * radius}" rx="2" {paint}/>'
    else:
        shape = f'<circle cx="{x:g}" cy="{y:g}" r="{radius}" {paint}/>'
    lines = [shape, _text(x, y, _symbol(node.label, font))]
    if node.value is not None:
        lines.append(_text(x, y + radius + 0.8 * font, _numeral(node.value)))
    return lines


def _text(x: float, y: float, markup: str, ink: str = INK) -> str:
    return f'<text x="{x:g}" y="{y:g}" dy="0.35em" fill="#{ink}">{markup}</text>'


def _symbol(symbol: Symbol, font: int) -> str:
    """w_5 as an italic w and a smaller 5 below the line; a name of several letters (dot) upright, as
    the formulas set it.

    The subscript moves the baseline down; a zero-width space moves it back up, so the
    text after the symbol sits on the line again.
    """
    name, _, subs = split_super_sub(symbol.name)
    base = f'<tspan font-style="italic">{escape(name)}</tspan>' if len(name) == 1 else f'<tspan>{escape(name)}</tspan>'
    if not subs:
        return base
    shift = round(0.3 * font)
    return (f'{base}<tspan dy="{shift}" font-size="{round(0.72 * font)}">{escape(",".join(subs))}</tspan>'
            f'<tspan dy="{-shift}">\u200b</tspan>')


def _plain(symbol: Symbol) -> str:
    name, _, subs = split_super_sub(symbol.name)
    return name + ",".join(subs)


def _numeral(numeral: str) -> str:
    return escape(numeral.replace("-", "\u2212"))


def _width(text: str, font: int) -> float:
    """An estimate of the text's width, with some room either side."""
    return (len(text) * _EM_PER_CHARACTER + 0.4) * font
