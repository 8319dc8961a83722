"""A network figure as a TikZ picture, for the LaTeX printer: edges, then their labels, then the nodes on top.

A bias node shows its symbol, and its value below it.

A figure with a highlighted path is drawn small, with only the path's edges labelled.
"""

from __future__ import annotations

from symbackprop.printers.drawing import FILLS, INK, STROKES, edge_label, edge_state
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
               "edge label/.style={fill=white, inner sep=1pt}"]
    lines = [rf"\begin{{tikzpicture}}[x={across}, y=-{down}, font={font},", *(f"  {s}," for s in styles[:-1]),
             f"  {styles[-1]}]"]
    for edge in figure.edges:
        (x0, y0), (x1, y1) = figure.ends(edge)
        lines.append(rf"\draw[{edge_state(edge, figure)} edge] ({x0:g},{y0:g}) -- ({x1:g},{y1:g});")
    for edge in figure.edges:
        label = edge_label(edge, figure, latex_formula, str)
        if label is not None:
            lines.append(rf"\node[edge label] at ({edge.at[0]:g},{edge.at[1]:g}) {{${label}$}};")
    for node in figure.nodes:
        style = f"{node.kind} node" + (", path node" if node.highlighted else "")
        if node.value is not None:
            style += f", label={{below:${node.value}$}}"
        lines.append(rf"\node[{style}] at ({node.x:g},{node.y:g}) {{${latex_formula(node.label)}$}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _colour(hex_rgb: str) -> str:
    """An RGB hex colour in xcolor's syntax, usable in any TikZ option."""
    red, green, blue = (int(hex_rgb[k:k + 2], 16) for k in (0, 2, 4))
    return f"{{rgb,255:red,{red};green,{green};blue,{blue}}}"
