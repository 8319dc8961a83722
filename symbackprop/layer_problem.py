"""A layer spec (convolution, pooling, dense, ...) solved by the graph engine it expands to.

    >>> problem = LayerProblem({"inputs": [1, 2, 3], "layers": [{"kind": "conv1d", "kernel": [1, -1]}],
    ...                         "targets": [0, 0], "loss": "half_squared_error"})
    >>> {name: int(value) for name, value in problem.gradients().items() if name.startswith("K")}
    {'K_1': -3, 'K_2': -5}
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from symbackprop.graph_problem import GraphProblem
from symbackprop.network.layers import LayerNetwork, build_layers
from symbackprop.spec.layers import LayersSpec, layers_spec_from_dict


class LayerProblem(GraphProblem):
    """A layer spec's expansion to scalar nodes, answering the graph commands over it."""

    def __init__(self, source: LayersSpec | Mapping[str, Any]) -> None:
        self.layer_spec = source if isinstance(source, LayersSpec) else layers_spec_from_dict(source)
        super().__init__(self.layered.graph)

    def __repr__(self) -> str:
        return f"LayerProblem({self.layer_spec.name!r})"

    @cached_property
    def layered(self) -> LayerNetwork:
        """Every layer's entries as named scalar nodes, and the graph spec they make."""
        return build_layers(self.layer_spec)
