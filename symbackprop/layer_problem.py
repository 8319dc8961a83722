"""A layer spec (convolution, pooling, dense, recurrent, attention, normalization, ...) solved by the graph
engine it expands to, with each layer's backward pass at the layer level proved against it.

    >>> problem = LayerProblem({"inputs": [1, 2, 3], "layers": [{"kind": "conv1d", "kernel": [1, -1]}],
    ...                         "targets": [0, 0], "loss": "half_squared_error"})
    >>> {name: int(value) for name, value in problem.gradients().items() if name.startswith("K")}
    {'K_1': -3, 'K_2': -5}
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from symbackprop.checks.layers import check_layer_forms, require_layer_forms
from symbackprop.checks.matrix_form import EntryCheck
from symbackprop.derivation.blocks import BlockForm, block_forms
from symbackprop.derivation.convolution import ConvolutionForm, convolution_forms
from symbackprop.derivation.recurrent import RecurrentForm, recurrent_forms
from symbackprop.graph_problem import GraphProblem
from symbackprop.network.graph import Graph, build_graph
from symbackprop.network.layers import LayerNetwork, build_layers
from symbackprop.results import Solution
from symbackprop.solution.layers import with_layer_forms
from symbackprop.spec.layers import LayersSpec, layers_spec_from_dict


class LayerProblem(GraphProblem):
    """A layer spec's expansion to scalar nodes, answering the graph commands over it."""

    def __init__(self, source: LayersSpec | Mapping[str, Any]) -> None:
        self.layer_spec = source if isinstance(source, LayersSpec) else layers_spec_from_dict(source)
        super().__init__(self.layered.graph)

    def __repr__(self) -> str:
        return f"LayerProblem({self.layer_spec.name!r})"

    @cached_property
    def graph(self) -> Graph:
        """The expansion's nodes in topological order (a loss that no parameter reaches is allowed here)."""
        return build_graph(self.spec, trainable_required=False)

    @cached_property
    def layered(self) -> LayerNetwork:
        """Every layer's entries as named scalar nodes, and the graph spec they make."""
        return build_layers(self.layer_spec)

    @cached_property
    def layer_forms(self) -> list[ConvolutionForm | RecurrentForm | BlockForm]:
        """Each convolution's, recurrent layer's, attention's, normalization's, dropout's, embedding's and
        residual's gradients at the layer level (correlations with δ; sums over time; the softmax's
        Jacobian-vector product; the three-term formula; ...), in the order of the layers, a residual after its
        block's."""
        forms = {id(form.layer): form for form in [*convolution_forms(self.layered, self.derived),
                                                   *recurrent_forms(self.layered, self.derived),
                                                   *block_forms(self.layered, self.derived)]}
        return [forms[id(layer)] for layer in self.layered.every_layer() if id(layer) in forms]

    @cached_property
    def layer_checks(self) -> list[EntryCheck]:
        """Every entry of the layer-level forms beside the graph's chain rule, equal or not."""
        return check_layer_forms(self.layer_forms, self.derived)

    def solve(self, *, decimals: int = 9, hand_round: int | None = None, detail: str = "brief",
              checks: bool = True, steps: int | None = None, optimizer: str | None = None) -> Solution:
        """The graph's worked solution with each layer at the layer level; with `checks`, every gradient is
        checked by finite differences and every layer-level entry proved first; `steps`, `optimizer`: as
        `GraphProblem.solve`."""
        solution = super().solve(decimals=decimals, hand_round=hand_round, detail=detail, checks=checks,
                                 steps=steps, optimizer=optimizer)
        if checks:
            require_layer_forms(self.layer_checks)
        return Solution(with_layer_forms(solution.record, self.layer_forms, self.layer_checks))

