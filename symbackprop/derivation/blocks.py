"""The layer-level backward pass of dropout, an embedding and a residual connection.

    dropout     ∂E/∂x_i = scale · mask_i · ∂E/∂d_i              a dropped entry gets no gradient
    embedding   ∂E/∂C_{k,j} = Σ over the inputs i holding token k of ∂E/∂v_{i,j}
                                                               a token's row sums its uses; unused rows get 0
    residual    ∂E/∂F(x)_i = ∂E/∂r_i                           the block's output gets r's gradient unchanged
                ∂E/∂x_i = ∂E/∂r_i + (∂E/∂x_i through F)         the skip adds r's gradient to the block's

Each is written from its formula (the residual's second line takes the block's part from the graph: what
the proof checks there is the skip's term), so that checks/layers.py can prove it against the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sympy import Expr, S, Symbol

from symbackprop.derivation.graph import GraphDerivation
from symbackprop.derivation.layer_forms import LayerGradient
from symbackprop.derivation.rules import fold_product, fold_sum
from symbackprop.network.layers import BuiltLayer, LayerNetwork
from symbackprop.network.unevaluated import unevaluated_product

KINDS = ("dropout", "embedding", "residual")


@dataclass(frozen=True)
class BlockForm:
    """A dropout's, an embedding's or a residual's gradients at the layer level."""

    layer: BuiltLayer
    gradients: list[LayerGradient]
    meaning: dict[Symbol, Expr] = field(default_factory=dict)
    """Nothing to substitute: both sides speak of the same adjoints and entries."""


def block_forms(network: LayerNetwork, derivation: GraphDerivation) -> list[BlockForm]:
    """The layer-level form of every dropout, embedding and residual, residual blocks' insides included."""
    adjoints = {a.quantity: a for a in derivation.adjoints}
    return [BlockForm(layer, _BUILDERS[layer.spec.kind](layer, adjoints)) for layer in network.every_layer()
            if layer.spec.kind in KINDS]


def _grad(adjoints: dict, quantity: Symbol) -> Expr:
    return adjoints[quantity].symbol if quantity in adjoints else S.Zero


def _dropout(layer: BuiltLayer, adjoints: dict) -> list[LayerGradient]:
    scale = [] if layer.spec.scale == 1 else [layer.spec.scale]
    return [LayerGradient(x, unevaluated_product([*scale, mask, _grad(adjoints, d)]), frozenset({d}))
            for x, d, mask in zip(layer.source.entries, layer.output.entries, layer.spec.mask.entries)]


def _embedding(layer: BuiltLayer, adjoints: dict) -> list[LayerGradient]:
    table, outputs = layer.kernel, frozenset(layer.output.entries)
    width = table.shape[1]
    return [LayerGradient(table.at((v, j)), fold_sum([_grad(adjoints, layer.output.entries[i * width + j])
                                                      for i, token in enumerate(layer.source.entries) if token == v + 1]),
                          outputs) for v in range(table.shape[0]) for j in range(width)]


def _residual(layer: BuiltLayer, adjoints: dict) -> list[LayerGradient]:
    inner = layer.block[-1].output.entries
    block_nodes = frozenset(e for built in layer.block for e in built.output.entries)
    gradients = [LayerGradient(f, _grad(adjoints, r), frozenset({r})) for f, r in zip(inner, layer.output.entries)
                 if f not in layer.source.entries]
    for x, r in zip(layer.source.entries, layer.output.entries):
        through_block = [fold_product([upstream, local.form]) for upstream, local in
                         (adjoints[x].terms if x in adjoints else ()) if local.symbol.of in block_nodes]
        gradients.append(LayerGradient(x, fold_sum([_grad(adjoints, r), *through_block]), block_nodes | {r}))
    return gradients


_BUILDERS = {"dropout": _dropout, "embedding": _embedding, "residual": _residual}
