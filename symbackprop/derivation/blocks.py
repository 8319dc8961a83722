"""The layer-level backward pass of dropout, an embedding, a residual connection, a normalization and
self-attention (`attention_form`).

    dropout     ∂E/∂x_i = scale · mask_i · ∂E/∂d_i              a dropped entry gets no gradient
    embedding   ∂E/∂C_{k,j} = Σ over the inputs i holding token k of ∂E/∂v_{i,j}
                                                               a token's row sums its uses; unused rows get 0
    residual    ∂E/∂F(x)_i = ∂E/∂r_i                           the block's output gets r's gradient unchanged
                ∂E/∂x_i = ∂E/∂r_i + (∂E/∂x_i through F)         the skip adds r's gradient to the block's

    norm        ∂E/∂n_i = γ ∂E/∂y_i,  ∂E/∂γ = Σ ∂E/∂y · n,  ∂E/∂β = Σ ∂E/∂y, and for each group of m entries
                ∂E/∂x_i = (var + ε)^(-1/2)/m · (m ∂E/∂n_i - Σ_k ∂E/∂n_k - n_i Σ_k ∂E/∂n_k n_k)
                                                               the three-term formula (a batch norm's in training mode)

Each is written from its formula (the residual's second line takes the block's part from the graph: what
the proof checks there is the skip's term), so that checks/layers.py can prove it against the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sympy import Expr, Integer, Pow, Rational, S, Symbol

from symbackprop.derivation.graph import GraphDerivation
from symbackprop.derivation.layer_forms import LayerGradient
from symbackprop.derivation.rules import fold_product, fold_sum
from symbackprop.network.layers import BuiltLayer, LayerNetwork
from symbackprop.network.unevaluated import unevaluated_product
from symbackprop.spec.layers import NORMS

KINDS = ("dropout", "embedding", "residual", *NORMS)


@dataclass(frozen=True)
class BlockForm:
    """A dropout's, an embedding's or a residual's gradients at the layer level."""

    layer: BuiltLayer
    gradients: list[LayerGradient]
    meaning: dict[Symbol, Expr] = field(default_factory=dict)
    """What a normalization's quantities stand for (n_i, μ and the adjoints of μ and var in the graph's terms),
    substituted until none is left; nothing for the others."""


def block_forms(network: LayerNetwork, derivation: GraphDerivation) -> list[BlockForm]:
    """The layer-level form of every dropout, embedding and residual, residual blocks' insides included."""
    adjoints = {a.quantity: a for a in derivation.adjoints}
    forms = []
    for layer in network.every_layer():
        if layer.spec.kind in NORMS:
            forms.append(_norm(layer, adjoints, {node.symbol: node.expression for node in derivation.graph.nodes}))
        elif layer.spec.kind == "attention":
            forms.append(attention_form(layer, adjoints, {node.symbol: node.expression for node in derivation.graph.nodes}))
        elif layer.spec.kind in KINDS:
            forms.append(BlockForm(layer, _BUILDERS[layer.spec.kind](layer, adjoints)))
    return forms


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


def _norm(layer: BuiltLayer, adjoints: dict, expressions: dict[Symbol, Expr]) -> BlockForm:
    timeline = layer.timeline
    gamma, outputs = layer.kernel, frozenset(layer.output.entries)
    n_rows, y_rows = timeline["n"], layer.output.reshaped(timeline["n"].shape)
    features = n_rows.shape[1]
    gradients = [LayerGradient(n, fold_product([gamma.at((f,)), _grad(adjoints, y)]), frozenset({y}))
                 for (r, f), n, y in zip(n_rows.indices(), n_rows.entries, y_rows.entries)]
    gradients += [LayerGradient(gamma.at((f,)), fold_sum([fold_product([_grad(adjoints, y_rows.at((r, f))), n_rows.at((r, f))])
                                                          for r in range(n_rows.shape[0])]), outputs) for f in range(features)]
    gradients += [LayerGradient(layer.bias.at((f,)), fold_sum([_grad(adjoints, y_rows.at((r, f))) for r in range(n_rows.shape[0])]),
                                outputs) for f in range(features)]
    meaning: dict[Symbol, Expr] = {}
    for g, (mean, variance) in enumerate(zip(timeline["mu"].entries, timeline["var"].entries)):
        members = [timeline["groups"].at((g, k)) for k in range(timeline["groups"].shape[1])]
        xs = [timeline["x"].at((g, k)) for k in range(len(members))]
        m = len(members)
        dn = [_grad(adjoints, n) for n in members]
        scale = expressions[members[0]].args[1]  # (var + ε)^(-1/2), as the graph writes it
        weighted = fold_sum([fold_product([d, n]) for d, n in zip(dn, members)])

        def three_terms(dn_i: Expr, n_i: Symbol) -> Expr:
            return fold_sum([fold_product([Integer(m), dn_i]), fold_product([S.NegativeOne, fold_sum(dn)]),
                             fold_product([S.NegativeOne, n_i, weighted])])
        through = frozenset({mean, variance, *members})
        gradients += [LayerGradient(x, fold_product([Rational(1, m), scale, three_terms(dn_i, n_i)]), through)
                      for x, dn_i, n_i in zip(xs, dn, members)]
        meaning.update({n: expressions[n] for n in members})
        meaning[mean] = expressions[mean]
        for quantity in (mean, variance):
            if quantity in adjoints:
                adjoint = adjoints[quantity]
                meaning[adjoint.symbol] = fold_sum([fold_product([upstream, local.form]) for upstream, local in adjoint.terms])
    return BlockForm(layer, gradients, meaning)


_BUILDERS = {"dropout": _dropout, "embedding": _embedding, "residual": _residual}


def attention_form(layer: BuiltLayer, adjoints: dict, expressions: dict[Symbol, Expr]) -> BlockForm:
    """Scaled dot-product attention backwards, as textbooks write it:

        ∂E/∂v_u,j = Σ_t a_t,u ∂E/∂o_t,j (Aᵀ ∂E/∂O)        ∂E/∂a_t,u = Σ_j ∂E/∂o_t,j v_u,j (∂E/∂O Vᵀ)
        ∂E/∂s_t,u = a_t,u (∂E/∂a_t,u - Σ_u' a_t,u' ∂E/∂a_t,u')     the softmax's Jacobian times a vector, by row
        ∂E/∂q_t,j = Σ_u ∂E/∂s_t,u k_u,j / sqrt(d)          ∂E/∂k_u,j = Σ_t ∂E/∂s_t,u q_t,j / sqrt(d)
        ∂E/∂W_Q = Xᵀ ∂E/∂Q (and K, V)                       ∂E/∂X = ∂E/∂Q W_Qᵀ + ∂E/∂K W_Kᵀ + ∂E/∂V W_Vᵀ

    and first, with an output projection Y = O W_O (O the heads' outputs side by side):

        ∂E/∂W_O = Oᵀ ∂E/∂Y                                  ∂E/∂O = ∂E/∂Y W_Oᵀ"""
    line, grids, x = layer.timeline, layer.recurrent, layer.source
    q, k, v, o = line["q"], line["k"], line["v"], line["o"]
    scores, weights = line["s"], line["a"]
    positions, features = x.shape
    heads, keys, width = layer.spec.heads, q.shape[1], v.shape[1]
    size, per_head = keys // heads, width // heads
    root = Pow(Integer(size), Rational(-1, 2), evaluate=False) if size != 1 else S.One
    seen = {(h, t): [u for (g, row, u) in weights if (g, row) == (h, t)] for h in range(heads) for t in range(positions)}
    d = {name: (lambda index, grid=grid: _grad(adjoints, grid.at(index))) for name, grid in (("q", q), ("k", k), ("v", v), ("o", o))}

    def total(terms: list[Expr]) -> Expr:
        return fold_sum([term for term in terms if term != 0])

    gradients = _projection(layer, adjoints) if "WO" in grids else []
    gradients += [LayerGradient(v.at((u, j)), total([fold_product([weights[(j // per_head, t, u)], d["o"]((t, j))])
                                                     for t in range(positions) if (j // per_head, t, u) in weights]),
                                frozenset(o.entries)) for u in range(positions) for j in range(width)]
    gradients += [LayerGradient(weights[(h, t, u)], total([fold_product([d["o"]((t, j)), v.at((u, j))])
                                                          for j in range(h * per_head, (h + 1) * per_head)]),
                                frozenset(o.entries[t * width:(t + 1) * width])) for (h, t, u) in weights]
    for (h, t, u) in weights:
        da = [_grad(adjoints, weights[(h, t, w)]) for w in seen[(h, t)]]
        mean = total([fold_product([weights[(h, t, w)], g]) for w, g in zip(seen[(h, t)], da)])
        gradients.append(LayerGradient(scores[(h, t, u)], fold_product([weights[(h, t, u)], fold_sum(
            [_grad(adjoints, weights[(h, t, u)]), fold_product([S.NegativeOne, mean])])]),
            frozenset(weights[(h, t, w)] for w in seen[(h, t)])))
    every_score = frozenset(scores.values())
    gradients += [LayerGradient(q.at((t, j)), fold_product([root, total([fold_product([_grad(adjoints, scores[(j // size, t, u)]),
                                                                                        k.at((u, j))])
                                                                          for u in seen[(j // size, t)]])]), every_score)
                  for t in range(positions) for j in range(keys)]
    gradients += [LayerGradient(k.at((u, j)), fold_product([root, total([fold_product([_grad(adjoints, scores[(j // size, t, u)]),
                                                                                        q.at((t, j))])
                                                                          for t in range(positions) if (j // size, t, u) in scores])]),
                                every_score) for u in range(positions) for j in range(keys)]
    projections = (("q", q, "WQ"), ("k", k, "WK"), ("v", v, "WV"))
    for name, grid, key in projections:
        nodes = frozenset(grid.entries)
        gradients += [LayerGradient(grids[key].at((i, j)), total([fold_product([x.at((t, i)), d[name]((t, j))])
                                                                  for t in range(positions)]), nodes)
                      for i in range(features) for j in range(grid.shape[1])]
    every = frozenset(e for _, grid, _ in projections for e in grid.entries)
    gradients += [LayerGradient(x.at((t, i)), total([fold_product([d[name]((t, j)), grids[key].at((i, j))])
                                                     for name, grid, key in projections for j in range(grid.shape[1])]), every)
                  for t in range(positions) for i in range(features)]
    meaning = {weight: expressions[weight] for weight in weights.values()}
    return BlockForm(layer, gradients, meaning)


def _projection(layer: BuiltLayer, adjoints: dict) -> list[LayerGradient]:
    """An attention's output projection Y = O W_O backwards: ∂E/∂W_O = Oᵀ ∂E/∂Y and ∂E/∂O = ∂E/∂Y W_Oᵀ."""
    o, y, WO = layer.timeline["o"], layer.output, layer.recurrent["WO"]
    (positions, width), out = o.shape, WO.shape[1]
    gradients = [LayerGradient(WO.at((j, m)), fold_sum([fold_product([o.at((t, j)), _grad(adjoints, y.at((t, m)))])
                                                        for t in range(positions)]), frozenset(y.entries))
                 for j in range(width) for m in range(out)]
    return gradients + [LayerGradient(o.at((t, j)), fold_sum([fold_product([_grad(adjoints, y.at((t, m))), WO.at((j, m))])
                                                              for m in range(out)]), frozenset(y.entries[t * out:(t + 1) * out]))
                        for t in range(positions) for j in range(width)]
