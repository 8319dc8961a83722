"""What the figure renderers (TikZ, SVG) share: colours, how each edge is drawn, and what its label says."""

from __future__ import annotations

from collections.abc import Callable

from sympy import Symbol

from symbackprop.solution.figure import Edge, Figure, Node

FILLS = {"input": "EEEEEE", "neuron": "DBE9F6", "bias": "FFF1C2", "leaf": "EEEEEE", "node": "DBE9F6"}
"""Node fill by kind, as RGB hex."""
INK = "333333"
GRADIENT_INK = "B3261E"
"""A graph edge's gradient, below it, in the colour course notes give gradients."""
STROKES = {"plain": "8A8A8A", "path": "D9480F", "muted": "D0D0D0"}
"""Edge colour by state: an edge of the full figure, one on the highlighted path, one off it."""


def edge_state(edge: Edge, figure: Figure) -> str:
    """'path' on the highlighted path, 'muted' off it, 'plain' in a figure without one."""
    return "path" if edge.highlighted else "muted" if figure.path else "plain"


def edge_label(edge: Edge, figure: Figure, symbol: Callable[[Symbol], str],
               numeral: Callable[[str], str]) -> str | None:
    """'w_5 = 0.4' in the full figure, 'w_5' on a path; None for a bias edge or an edge off the path.
    A graph's edge has no symbol: its label is the value above it, or None.

    `symbol` and `numeral` print the parts in the renderer's markup.
    """
    if edge.at is None or edge_state(edge, figure) == "muted":
        return None
    if edge.parameter is None:
        return None if edge.value is None else numeral(edge.value)
    return _equation(symbol(edge.parameter), edge.value, numeral)


def edge_gradient(edge: Edge, figure: Figure, numeral: Callable[[str], str]) -> str | None:
    """A graph edge's gradient, drawn below it; None when it has none or is off the highlighted path."""
    if edge.gradient is None or edge_state(edge, figure) == "muted":
        return None
    return numeral(edge.gradient)


def node_label(node: Node, symbol: Callable[[Symbol], str], numeral: Callable[[str], str]) -> str:
    """'b_1 = 0.35' for a bias node of the full figure, else the node's symbol."""
    return _equation(symbol(node.label), node.value, numeral)


def _equation(symbol: str, value: str | None, numeral: Callable[[str], str]) -> str:
    return symbol if value is None else f"{symbol} = {numeral(value)}"
