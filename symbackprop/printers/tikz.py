"""A network figure as a TikZ picture, for the LaTeX printer: edges, then their labels, then the nodes on top.

A bias node shows its symbol, and its value below it.

A figure with a highlighted path is drawn small, with only the path's edges labelled. A computation
graph's edge has its value above and its gradient below, and bends in each column it passes; a figure
wider or taller than the page is scaled down to fit it.
"""

from __future__ import annotations

from symbackprop.printers.drawing import FILLS, GRADIENT_INK, INK, STROKES, edge_gradient, edge_label, edge_state
from symbackprop.printers.math import latex_formula
from symbackprop.solution.figure import BIAS, Figure

_SIZES = {False: ("4.2cm", "1.9cm", "8mm", r"\footnotesize"), True: ("2.2cm", "1cm", "6mm", r"\scriptsize")}
"""Full figure or small one: column and row spacing, node size, font."""
_WIDTHS = {"plain": "0.5pt", "path": "1.4pt", "muted": "0.5pt"}


def tikz_picture(figure: Figure) -> str:
    """The figure as a tikzpicture environment, with a style per kind of node and per state of edge."""
    across, down, size, font = _SIZES[bool(figure.path)]
    styles = [f"{state} edge/.style={{line width={_WIDTHS[state]}, draw={_colour(colour)}}}"
              for state, colour in STROKES.items()]
    styles += [f"{kind} node/.style={{{'rectangle' if kind == BIAS else 'circle'}, draw={_colour(INK)}, "
               f"fill={_colour(fill)}, minimum size={size}, inner sep=1pt}}" for kind, fill in FILLS.items()]
    styles += [f"path node/.style={{draw={_colour(STROKES['path'])}, line width=1.2pt}}",
               f"gradient label/.style={{text={_colour(GRADIENT_INK)}}}",
               "edge label/.style={fill=white, inner sep=1pt}"]
    scale = _fitting(figure, across, down)
    lines = [rf"\begin{{tikzpicture}}[x={across}, y=-{down}, font={font},{scale}",
             *(f"  {s}," for s in styles[:-1]), f"  {styles[-1]}]"]
    for edge in figure.edges:
        route = " -- ".join(f"({x:g},{y:g})" for x, y in figure.route(edge))
        lines.append(rf"\draw[{edge_state(edge, figure)} edge] {route};")
    for edge in figure.edges:
        label = edge_label(edge, figure, latex_formula, str)
        gradient = edge_gradient(edge, figure, str)
        at = None if edge.at is None else f"({edge.at[0]:g},{edge.at[1]:g})"
        if edge.parameter is not None and label is not None:
            lines.append(rf"\node[edge label] at {at} {{${label}$}};")
        if edge.parameter is None and label is not None:  # a graph's edge: the value above, the gradient below
            lines.append(rf"\node[edge label, above=1pt] at {at} {{${label}$}};")
        if gradient is not None:
            lines.append(rf"\node[edge label, gradient label, below=1pt] at {at} {{${gradient}$}};")
    for node in figure.nodes:
        style = f"{node.kind} node" + (", path node" if node.highlighted else "")
        if node.value is not None:
            style += f", label={{below:${node.value}$}}"
        lines.append(rf"\node[{style}] at ({node.x:g},{node.y:g}) {{${latex_formula(node.label)}$}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


_PAGE = (16.0, 22.0)
"""The width and height, in cm, a picture may take on the page (A4, 2 cm margins, a caption below)."""


def _fitting(figure: Figure, across: str, down: str) -> str:
    """' scale=0.8, transform shape' when the figure (its columns and rows, a column's width more for
    its nodes and labels) would not fit the page; nothing when it fits."""
    width = (figure.width + 1) * float(across.removesuffix("cm"))
    height = (figure.height + 1) * float(down.removesuffix("cm"))
    scale = min(1.0, _PAGE[0] / width, _PAGE[1] / height)
    return "" if scale == 1.0 else f" scale={scale:.3f}, transform shape,"


def _colour(hex_rgb: str) -> str:
    """An RGB hex colour in xcolor's syntax, usable in any TikZ option."""
    red, green, blue = (int(hex_rgb[k:k + 2], 16) for k in (0, 2, 4))
    return f"{{rgb,255:red,{red};green,{green};blue,{blue}}}"
