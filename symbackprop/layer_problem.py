"""A layer spec (convolution, pooling, dense, recurrent, attention, normalization, ...) solved by the graph
engine it expands to, with each layer's backward pass at the layer level proved against it.

    >>> problem = LayerProblem({"inputs": [1, 2, 3], "layers": [{"kind": "conv1d", "kernel": [1, -1]}],
    ...                         "targets": [0, 0], "loss": "half_squared_error"})
    >>> {name: int(value) for name, value in problem.gradients().items() if name.startswith("K")}
    {'K_1': -3, 'K_2': -5}
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from symbackprop.arguments import choice, flag, optimizer_choice, training_steps
from symbackprop.checks.layers import check_layer_forms, require_layer_forms
from symbackprop.checks.matrix_form import EntryCheck
from symbackprop.derivation.blocks import BlockForm, block_forms
from symbackprop.derivation.convolution import ConvolutionForm, convolution_forms
from symbackprop.derivation.recurrent import RecurrentForm, recurrent_forms
from symbackprop.errors import InputError
from symbackprop.graph_problem import GraphProblem
from symbackprop.network.graph import Graph, build_graph
from symbackprop.network.layers import LayerNetwork, LayerParameters, build_layers, layer_parameters
from symbackprop.numbers.training import ORDERS, CompiledNetwork
from symbackprop.results import Solution, Training
from symbackprop.solution.layers import with_layer_forms
from symbackprop.spec.graph import GraphSpec
from symbackprop.spec.layers import LayersSpec, layers_spec_from_dict

if TYPE_CHECKING:
    from symbackprop.numbers.fast_layers import FastNetwork


class LayerProblem(GraphProblem):
    """A layer spec's expansion to scalar nodes, answering the graph commands over it."""

    def __init__(self, source: LayersSpec | Mapping[str, Any]) -> None:
        # GraphProblem's spec is made lazily here (`spec`): the fast path trains without expanding a layer
        self.layer_spec = source if isinstance(source, LayersSpec) else layers_spec_from_dict(source)
        self._compiled: dict[str, CompiledNetwork] = {}
        if self.layer_spec.regularization is not None:
            self.parameters  # a penalty that covers no parameter is bad input now, not at the first command

    def __repr__(self) -> str:
        return f"LayerProblem({self.layer_spec.name!r})"

    @cached_property
    def spec(self) -> GraphSpec:
        """The expansion's graph spec, one scalar node per entry of every layer (built on first use)."""
        return self.layered.graph

    @cached_property
    def parameters(self) -> LayerParameters:
        """Every layer's parameters as the expansion names them, with no layer expanded."""
        return layer_parameters(self.layer_spec)

    @cached_property
    def fast_network(self) -> FastNetwork:
        """The layers at the layer level in numpy (`numbers.fast_layers`), for `train` with `fast` or backend numpy."""
        from symbackprop.numbers.fast_layers import FastNetwork  # numpy is optional: imported on first use
        return FastNetwork(self.layer_spec, lambda: self.parameters)

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

    def train(self, steps: int = 1, *, order: str = "simultaneous", fast: bool = False, every: int | None = None,
              backend: str | None = None, curve: bool = False,
              progress: Callable[[int], None] | None = None, optimizer: str | None = None) -> Training:
        """As `GraphProblem.train`; with `fast` (unless backend 'math' is given) or backend 'numpy', by the numpy
        fast path at the layer level in double precision (`numbers.fast_layers`), which builds no scalar node,
        for every optimizer and weight penalty (`numbers.fast_optimizers`)."""
        numpy = importlib.util.find_spec("numpy") is not None
        if backend != "numpy" and not (flag("fast", fast) and backend is None and numpy):
            return super().train(steps, order=order, fast=fast, every=every, backend=backend, curve=curve,
                                 progress=progress, optimizer=optimizer)
        if not numpy:
            raise InputError("backend: needs numpy: pip install 'symbackprop[numpy]'")
        steps, every, recorded = training_steps(steps, every, curve, progress)
        chosen = optimizer_choice(self.layer_spec.optimizer, optimizer)
        if choice("order", order, ORDERS) != "simultaneous":
            raise InputError(f"order: a layer spec updates every parameter at once (simultaneous), not {order}")
        from symbackprop.numbers.fast_layers import train_fast
        result = train_fast(self.fast_network, steps, recorded, progress, chosen)
        return Training.of(result, lambda: Graph(self.parameters.graph, ()), every, chosen.kind)

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

