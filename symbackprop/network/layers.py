"""A layer spec expanded to a computation graph: one scalar node per entry of every layer's output.

Each layer is a builder: it names its parameters and outputs with typed names (K_{1,2}, y_{3},
W_{2,1}) and writes every output entry as a small local SymPy expression of the entries it reads,
built directly (never printed and parsed back):

    convolution   y_{f,i} = sum over channels c and window j of K_{f,c,j} x_{c, s i + j - p} + b_f
                  (entries of the zero padding are left out of the sum)
    max pooling   p_i = max(the window's entries) (SymPy's Max; its derivative routes to the arg-max)
    avg pooling   p_i = 1/n (sum of the window's n entries)
    flatten       the same names, in one row-major axis (no nodes)
    dense         z_i = sum over j of W_{i,j} a_j + b_i
    norm          mu_g = 1/n Σ x, var_g = 1/n Σ (x - mu_g)², n_i = (x_i - mu_g)(var_g + ε)^(-1/2), y_i = γ n_i + β
                  per group g: a row (layer norm) or a feature over the batch (batch norm)
    residual      r_i = x_i + F(x)_i, F the block's layers
    dropout       d_i = scale · mask_i · x_i, the mask's 0 or 1 as a number
    embedding     v_{i,j} = C_{token i, j}, the input a token's number from 1 (e would read as Euler's number)
    lstm          z_i,j<t> = W_i x<t> + U_i h<t-1> + b_i (and f, o, g), i_j<t> = σ(z_i,j<t>), g = tanh(z_g),
                  c_j<t> = f c<t-1> + i g, h_j<t> = o tanh(c_j<t>), y_k<t> = V h<t> + b_y
    rnn           s_j<t> = sum_i W_{j,i} x_i<t> + sum_k U_{j,k} h_k<t-1> + b_j, h_j<t> = tanh(s_j<t>),
                  y_k<t> = sum_j V_{k,j} h_j<t> + c_k, for t = 1..T (the typed names' time step)
    truncated     with `truncate` k, an rnn's, lstm's or gru's state after steps k, 2k, ... (before the last) is read
                  by the next step through hd_j<t> = detach(h_j<t>) (an LSTM's cell through cd_j<t> = detach(c_j<t>)):
                  the same value, derivative 0 (network/detach.py)
    activation    a_i = f(its input), f from `network.activations`
    loss          E = sum over outputs of the spec's loss (`network.losses`)

A name's subscripts are the entry's indices from 1; a layer's name comes first when two layers
would otherwise share a base (two kernels: K_{c1,1,1,2} and K_{c3,1,1,2}).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import product

from sympy import Expr, Integer, Max, Pow, Rational, S, Symbol, exp, tanh

from symbackprop.errors import InputError
from symbackprop.names import Name, symbol
from symbackprop.network.activations import ACTIVATIONS
from symbackprop.network.detach import detach
from symbackprop.network.losses import LOSSES
from symbackprop.network.unevaluated import unevaluated_product, unevaluated_sum
from symbackprop.spec.graph import GraphSpec
from symbackprop.spec.layers import CONVOLUTIONS, GATES, NORMS, POOLS, LayerDef, LayersSpec

_BASES = {"conv1d": ("y", "K", "b"), "conv2d": ("y", "K", "b"), "dense": ("z", "W", "b"),
          **{kind: ("p",) for kind in POOLS}, **{kind: ("a",) for kind in ("relu", "sigmoid", "tanh")}, "flatten": (),
          "rnn": ("y", "s", "h", "hd", "W", "U", "V", "b", "c"),
          "lstm": ("y", "z", *GATES, "c", "h", "hd", "cd", "W", "U", "V", "b"),
          "gru": ("y", "z", "r", "u", "n", "h", "hd", "W", "U", "V", "b"), "attention": ("q", "k", "v", "s", "a", "o", "W"),
          **{kind: ("mu", "var", "n", "y", "gamma", "beta") for kind in NORMS}, "residual": ("r",), "dropout": ("d",),
          "embedding": ("v", "C")}
INPUT, TARGET, LOSS = "x", "t", "E"
RECURRENT = ("rnn", "lstm", "gru")
"""Layers over time steps: their inputs and targets are named by step, x_2<3>."""


@dataclass(frozen=True)
class Grid:
    """Named entries laid out in `shape`, row-major; a layer reads and writes them by index."""

    shape: tuple[int, ...]
    entries: tuple[Expr, ...]

    def indices(self) -> list[tuple[int, ...]]:
        return list(product(*(range(n) for n in self.shape)))

    def at(self, index: tuple[int, ...]) -> Expr:
        flat = 0
        for i, n in zip(index, self.shape):
            flat = flat * n + i
        return self.entries[flat]

    def reshaped(self, shape: tuple[int, ...]) -> Grid:
        return Grid(shape, self.entries)


@dataclass(frozen=True)
class BuiltLayer:
    """One layer of the expanded graph: what it reads and writes, and its parameters."""

    spec: LayerDef
    source: Grid
    """What the layer reads; channels first for a convolution or a pool."""
    output: Grid
    """What it writes, in the spec's shape (what the next layer reads)."""
    kernel: Grid | None = None
    """(filters, channels, *window) for a convolution; a dense layer's weights; an embedding's table."""
    bias: Grid | None = None
    recurrent: dict[str, Grid] | None = None
    """An RNN's shared parameters by their spec key (W, U, V, b, c)."""
    timeline: dict[str, Grid | dict] | None = None
    """A recurrent layer's quantities by step, one row per step: h and (an LSTM's) c from the given step 0 to
    T; the RNN's s, the gates (i, f, o, g; r, u, n) and their pre-activations (zi, ...) from step 1; with
    truncation, hd (and cd), one row per step of `chunk_ends`. A
    normalization's n, mu, var and its groups; an attention's q, k, v, its scores s and weights a by
    (head, row, column), only the columns a causal row sees, and o, the heads' outputs side by side (the layer's
    output, or what its output projection reads)."""
    block: tuple[BuiltLayer, ...] | None = None
    """A residual's F, built on the residual's input."""


@dataclass(frozen=True)
class LayerNetwork:
    """The layer spec, its expansion to a graph spec (solved by the graph engine), and each layer's grids."""

    spec: LayersSpec
    graph: GraphSpec
    inputs: Grid
    layers: tuple[BuiltLayer, ...]

    def every_layer(self) -> list[BuiltLayer]:
        """Every layer in the order it computes: a residual's block before the residual."""
        return _in_order(self.layers)


def _in_order(layers: Sequence[BuiltLayer]) -> list[BuiltLayer]:
    """`layers` in the order they compute, each residual's block before the residual."""
    return [inner for layer in layers for inner in [*_in_order(layer.block or ()), layer]]


@dataclass
class _Expansion:
    """What the builders add to: the leaves' values, the trainable leaves, the nodes; and how they name."""

    shared: Counter
    values: dict[Symbol, Rational] = field(default_factory=dict)
    trainable: list[Symbol] = field(default_factory=list)
    nodes: list[tuple[Symbol, Expr]] = field(default_factory=list)

    def name(self, layer: LayerDef, base: str) -> Name:
        """The layer's quantity `base`, with the layer's name first when another layer uses that base too."""
        return Name(base, (layer.name,)) if self.shared[base] > 1 else Name(base)

    def build(self, layers: tuple[LayerDef, ...], current: Grid) -> tuple[list[BuiltLayer], Grid]:
        """Each layer on the output of the one before."""
        built = []
        for layer in layers:
            built.append(_BUILDERS[layer.kind](layer, current, self))
            current = built[-1].output
        return built, current


def _bases(layer: LayerDef) -> tuple[str, ...]:
    """The bases a layer names its quantities with: its kind's, and y for an attention's output projection."""
    return _BASES[layer.kind] + (("y",) if layer.kind == "attention" and "WO" in layer.recurrent else ())


def _every(layers: tuple[LayerDef, ...]) -> list[LayerDef]:
    """The layers and, inside each residual block, its layers."""
    return [inner for layer in layers for inner in [layer, *_every(layer.block or ())]]


def build_layers(spec: LayersSpec) -> LayerNetwork:
    """Expand every layer into scalar nodes and name every leaf; the result is an ordinary `GraphSpec`."""
    ctx = _expansion(spec)
    values, trainable, nodes = ctx.values, ctx.trainable, ctx.nodes
    first = spec.layers[0].kind
    if first == "embedding":  # the inputs are token numbers, not quantities
        inputs = Grid(spec.inputs.shape, tuple(int(token) for token in spec.inputs.entries))
    else:
        inputs = _leaves(Name(INPUT), spec.inputs.shape, spec.inputs.entries, values, timed=first in RECURRENT)
    built, current = ctx.build(spec.layers, inputs)
    targets = _leaves(Name(TARGET), spec.targets.shape, spec.targets.entries, values, timed=spec.layers[-1].kind in RECURRENT)
    loss = LOSSES[spec.loss]
    errors = [loss.error(targets.at(i), current.at(i), len(current.entries)) for i in current.indices()]
    nodes.append((symbol(Name(LOSS)), _sum(errors)))
    penalty = spec.regularization
    graph = GraphSpec(spec.name, values, tuple(trainable), tuple(nodes), symbol(Name(LOSS)), spec.learning_rate,
                      optimizer=spec.optimizer, regularization=penalty,
                      unpenalized=frozenset() if penalty is None or penalty.biases else _one_axis(built))
    _require_penalized(graph)
    return LayerNetwork(spec, graph, inputs, tuple(built))


def _require_penalized(graph: GraphSpec) -> None:
    """A weight penalty must cover some trainable name; otherwise one line naming the field."""
    if graph.regularization is not None and not any(map(graph.penalizes, graph.trainable)):
        raise InputError("regularization: no parameter of the layers takes the penalty (it covers kernels, weight "
                         "matrices and embedding tables; biases and a normalization's gamma and beta with biases = true)")


@dataclass(frozen=True)
class LayerParameters:
    """A layer spec's trainable leaves named as `build_layers` names them, with no node built (the numeric fast
    path trains these): `graph` holds them alone (no nodes, no inputs) with the loss's name and the learning
    rate, `grids` each layer's by its key (kernel, bias, weights, W, WQ, gamma, table, ...)."""

    graph: GraphSpec
    grids: dict[str, dict[str, Grid]]
    """Layer name -> key -> the leaves in the parameter's shape."""


def layer_parameters(spec: LayersSpec) -> LayerParameters:
    """Every layer's parameters as named leaves, in the expansion's order, without expanding a layer."""
    ctx = _expansion(spec)
    grids = {layer.name: _PARAMETERS[layer.kind](layer, ctx) for layer in _every(spec.layers) if layer.kind in _PARAMETERS}
    penalty = spec.regularization
    one_axis = frozenset(entry for grid in (g for by_key in grids.values() for g in by_key.values())
                         if len(grid.shape) == 1 for entry in grid.entries)
    graph = GraphSpec(spec.name, ctx.values, tuple(ctx.trainable), (), symbol(Name(LOSS)), spec.learning_rate,
                      optimizer=spec.optimizer, regularization=penalty,
                      unpenalized=frozenset() if penalty is None or penalty.biases else one_axis)
    _require_penalized(graph)
    return LayerParameters(graph, grids)


def _expansion(spec: LayersSpec) -> _Expansion:
    """An empty expansion that names each layer's quantities as the whole spec requires."""
    return _Expansion(Counter(base for layer in _every(spec.layers) for base in _bases(layer)))


def _one_axis(layers: list[BuiltLayer]) -> frozenset[Symbol]:
    """The entries of every parameter of one axis: the biases (a convolution's or a dense layer's b, an RNN's
    b and c, a gated cell's b_i, ..., b_y) and a normalization's gamma and beta, which a weight penalty leaves out
    unless it says `biases`, as PyTorch users leave them out of weight decay."""
    return frozenset(entry for layer in _in_order(layers)
                     for grid in (layer.kernel, layer.bias, *(layer.recurrent or {}).values())
                     if grid is not None and len(grid.shape) == 1 for entry in grid.entries)


def _entry(name: Name, index: tuple[int, ...], timed: bool = False) -> Symbol:
    """The entry at a 0-based `index` of the tensor `name`: its subscripts count from 1; when `timed`, the
    first index is the time step (x_2<3>: input 2 at step 3)."""
    step, index = (index[0] + 1, index[1:]) if timed else (None, index)
    return symbol(Name(name.base, (*name.subscript, *(str(i + 1) for i in index)), step=step))


def _leaves(name: Name, shape: tuple[int, ...], numbers: tuple[Rational, ...], values: dict,
            timed: bool = False) -> Grid:
    grid = Grid(shape, tuple(_entry(name, index, timed) for index in product(*(range(n) for n in shape))))
    values.update(zip(grid.entries, numbers))
    return grid


def _nodes(name: Name, shape: tuple[int, ...], expressions: list[Expr], nodes: list, first: int = 0) -> Grid:
    """Output entries in the spec's `shape`, named by their indices (the first offset by `first`), added as
    nodes; `expressions` are in row-major order (the same whether or not a channel axis of one is written)."""
    grid = Grid(shape, tuple(_entry(name, (index[0] + first, *index[1:])) for index in product(*(range(n) for n in shape))))
    nodes.extend(zip(grid.entries, expressions))
    return grid


def _channels_first(source: Grid, dims: int) -> Grid:
    """The input with a channel axis (of one channel when the spec gives none)."""
    return source.reshaped((1, *source.shape)) if len(source.shape) == dims else source


def _convolution_parameters(layer: LayerDef, ctx: _Expansion) -> dict[str, Grid]:
    """The kernel (filters, channels, *window) and the bias, when given, as trainable leaves."""
    _output, base_kernel, base_bias = _BASES[layer.kind]
    kernel_name = ctx.name(layer, base_kernel)
    kernel_shape = layer.kernel.shape
    names = kernel_shape[2:] if layer.channelless else kernel_shape
    kernel = Grid(kernel_shape, tuple(_entry(kernel_name, index) for index in product(*(range(n) for n in names))))
    ctx.values.update(zip(kernel.entries, layer.kernel.entries))
    ctx.trainable.extend(kernel.entries)
    if layer.bias is None:
        return {"kernel": kernel}
    bias_name = ctx.name(layer, base_bias)
    entries = (symbol(bias_name),) if layer.channelless else tuple(_entry(bias_name, (f,)) for f in range(len(layer.bias)))
    ctx.values.update(zip(entries, layer.bias))
    ctx.trainable.extend(entries)
    return {"kernel": kernel, "bias": Grid((len(entries),), entries)}


def _convolution(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    source = _channels_first(source, CONVOLUTIONS[layer.kind])
    parameters = _convolution_parameters(layer, ctx)
    kernel, bias = parameters["kernel"], parameters.get("bias")
    kernel_shape = kernel.shape
    out_shape = (kernel_shape[0], *_out_sizes(layer))
    expressions = []
    for f, *position in product(*(range(n) for n in out_shape)):
        terms = [unevaluated_product([kernel.at((f, c, *window)), source.at((c, *at))])
                 for c in range(source.shape[0]) for window in product(*(range(n) for n in kernel_shape[2:]))
                 if (at := _read_at(position, window, layer.stride, layer.padding, source.shape[1:])) is not None]
        expressions.append(_sum(terms + ([bias.at((f,))] if bias else [])))
    output = _nodes(ctx.name(layer, _BASES[layer.kind][0]), layer.output_shape, expressions, ctx.nodes)
    return BuiltLayer(layer, source, output, kernel, bias)


def _out_sizes(layer: LayerDef) -> tuple[int, ...]:
    """A convolution's or a pool's spatial output sizes (the spec's output shape without its channel axis)."""
    dims = CONVOLUTIONS.get(layer.kind) or POOLS[layer.kind][1]
    return layer.output_shape[-dims:]


def _read_at(position, window, stride: int, padding: int, sizes) -> tuple[int, ...] | None:
    """The input entry under `window` at output `position`, or None where it falls on the zero padding."""
    at = tuple(o * stride + w - padding for o, w in zip(position, window))
    return at if all(0 <= a < n for a, n in zip(at, sizes)) else None


def _pool(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    how, dims = POOLS[layer.kind]
    source = _channels_first(source, dims)
    out_shape = (source.shape[0], *_out_sizes(layer))
    expressions = []
    for c, *position in product(*(range(n) for n in out_shape)):
        window = [source.at((c, *(o * layer.stride + w for o, w in zip(position, offset))))
                  for offset in product(range(layer.size), repeat=dims)]
        expressions.append(Max(*window) if how == "max" else
                           unevaluated_product([Rational(1, len(window)), _sum(window)]))
    output = _nodes(ctx.name(layer, _BASES[layer.kind][0]), layer.output_shape, expressions, ctx.nodes)
    return BuiltLayer(layer, source, output)


def _flatten(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    return BuiltLayer(layer, source, source.reshaped(layer.output_shape))


def _dense_parameters(layer: LayerDef, ctx: _Expansion) -> dict[str, Grid]:
    """The weights (one row per output) and the bias, when given, as trainable leaves."""
    _output, base_weights, base_bias = _BASES["dense"]
    grids = {"weights": _leaves(ctx.name(layer, base_weights), layer.weights.shape, layer.weights.entries, ctx.values)}
    if layer.bias is not None:
        grids["bias"] = _leaves(ctx.name(layer, base_bias), (len(layer.bias),), layer.bias, ctx.values)
    ctx.trainable.extend(entry for grid in grids.values() for entry in grid.entries)
    return grids


def _dense(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    parameters = _dense_parameters(layer, ctx)
    weights, bias = parameters["weights"], parameters.get("bias")
    rows, columns = layer.weights.shape
    expressions = [_sum([unevaluated_product([weights.at((i, j)), source.at((j,))]) for j in range(columns)]
                        + ([bias.at((i,))] if bias else [])) for i in range(rows)]
    output = _nodes(ctx.name(layer, _BASES["dense"][0]), (rows,), expressions, ctx.nodes)
    return BuiltLayer(layer, source, output, weights, bias)


def _activation(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    function = ACTIVATIONS[layer.kind].output
    output = _nodes(ctx.name(layer, _BASES[layer.kind][0]), source.shape, [function([e], 0) for e in source.entries], ctx.nodes)
    return BuiltLayer(layer, source, output)


def _recurrent(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    """Per step t = 1..T: s<t> = W x<t> + U h<t-1> + b, h<t> = tanh(s<t>), y<t> = V h<t> + c, with
    h<0> given (zeros by default) and W, U, V, b, c shared across time."""
    parts = layer.recurrent
    hidden, steps = parts["U"].shape[0], source.shape[0]
    grids = _recurrent_parameters(layer, ctx)
    initial = parts.get("h0")
    start = Grid((1, hidden), tuple(_entry(ctx.name(layer, "h"), (-1, j), timed=True) for j in range(hidden)))
    ctx.values.update(zip(start.entries, initial.entries if initial else (S.Zero,) * hidden))
    states, pres, outputs, detached = [start.entries], [], [], {"h": []}
    read = start.entries
    for t in range(steps):
        pre = [_sum(_affine(grids["W"], source.entries[t * source.shape[1]:(t + 1) * source.shape[1]], j)
                    + _affine(grids["U"], read, j) + ([grids["b"].at((j,))] if "b" in grids else []))
               for j in range(hidden)]
        s_grid = _nodes_at(ctx.name(layer, "s"), t, pre, ctx.nodes)
        pres.append(s_grid)
        h_grid = _nodes_at(ctx.name(layer, "h"), t, [tanh(entry) for entry in s_grid], ctx.nodes)
        states.append(h_grid)
        outputs += _nodes_at(ctx.name(layer, "y"), t, [_sum(_affine(grids["V"], h_grid, k) + ([grids["c"].at((k,))] if "c" in grids else []))
                                              for k in range(parts["V"].shape[0])], ctx.nodes)
        read = _read_next(layer, ctx, "h", t, h_grid, steps, detached)
    return BuiltLayer(layer, source, Grid(layer.output_shape, tuple(outputs)), recurrent=grids,
                      timeline={"h": _rows(states), "s": _rows(pres), **_detached_rows(detached)})


def chunk_ends(layer: LayerDef, steps: int) -> range:
    """The steps after which truncated BPTT detaches a recurrent layer's state: k, 2k, ... before the last of
    `steps` (none without `truncate`, or with k >= steps)."""
    return range(layer.truncate, steps, layer.truncate) if layer.truncate else range(0)


def _read_next(layer: LayerDef, ctx: _Expansion, base: str, t: int, state: tuple[Symbol, ...], steps: int,
               detached: dict[str, list]) -> tuple[Symbol, ...]:
    """The state `base` (h, c) after step t + 1 as the next step reads it: at the end of a chunk of truncated
    BPTT, the nodes detach(state) named base + d (hd_1<2>), kept in `detached`; elsewhere the state itself."""
    if t + 1 not in chunk_ends(layer, steps):
        return state
    nodes = _nodes_at(ctx.name(layer, base + "d"), t, [detach(entry) for entry in state], ctx.nodes)
    detached[base].append(nodes)
    return nodes


def _detached_rows(detached: dict[str, list]) -> dict[str, Grid]:
    """The detached states' rows by their base (hd, cd), for a layer that has any."""
    return {base + "d": _rows(rows) for base, rows in detached.items() if rows}


def _recurrent_parameters(layer: LayerDef, ctx: _Expansion) -> dict[str, Grid]:
    """An RNN's W, U, V and its biases b, c when given, as trainable leaves (h0 is a value, not trained)."""
    grids = {key: _leaves(ctx.name(layer, key), tensor.shape, tensor.entries, ctx.values)
             for key, tensor in layer.recurrent.items() if key != "h0"}
    ctx.trainable.extend(entry for grid in grids.values() for entry in grid.entries)
    return grids


def _rows(rows: list[tuple[Expr, ...]]) -> Grid:
    """One row per step."""
    return Grid((len(rows), len(rows[0])), tuple(e for row in rows for e in row))


def _lstm(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    """Per step t = 1..T and gate q of i, f, o, g: z_q<t> = W_q x<t> + U_q h<t-1> + b_q; i, f, o = σ(z), g =
    tanh(z_g); c<t> = f c<t-1> + i g; h<t> = o tanh(c<t>); y<t> = V h<t> + b_y. W, U, V, b shared across time."""
    parts = layer.recurrent
    hidden, steps, width = parts["Ui"].shape[0], source.shape[0], source.shape[1]
    grids, gated = _gated_parameters(layer, ctx)
    h, c, outputs = _initial(layer, ctx, "h", hidden), _initial(layer, ctx, "c", hidden), []
    timeline: dict[str, list] = {"h": [h], "c": [c], **{key: [] for gate in GATES for key in (gate, "z" + gate)}}
    detached: dict[str, list] = {"h": [], "c": []}
    squash = {"i": ACTIVATIONS["sigmoid"], "f": ACTIVATIONS["sigmoid"], "o": ACTIVATIONS["sigmoid"],
              "g": ACTIVATIONS["tanh"]}
    for t in range(steps):
        x = source.entries[t * width:(t + 1) * width]
        gates = {}
        for gate in GATES:
            pre = [_sum(_affine(grids["W" + gate], x, j) + _affine(grids["U" + gate], h, j)
                        + ([grids["b" + gate].at((j,))] if "b" + gate in grids else [])) for j in range(hidden)]
            z = _nodes_at(gated("z", gate), t, pre, ctx.nodes)
            gates[gate] = _nodes_at(ctx.name(layer, gate), t, [squash[gate].output([e], 0) for e in z], ctx.nodes)
            timeline["z" + gate].append(z)
            timeline[gate].append(gates[gate])
        c = _nodes_at(ctx.name(layer, "c"), t, [unevaluated_sum([unevaluated_product([gates["f"][j], c[j]]),
                                                                   unevaluated_product([gates["i"][j], gates["g"][j]])])
                                                 for j in range(hidden)], ctx.nodes)
        h = _nodes_at(ctx.name(layer, "h"), t, [unevaluated_product([gates["o"][j], tanh(c[j])]) for j in range(hidden)],
                      ctx.nodes)
        timeline["h"].append(h)
        timeline["c"].append(c)
        outputs += _nodes_at(ctx.name(layer, "y"), t, [_sum(_affine(grids["V"], h, k) + ([grids["by"].at((k,))] if "by" in grids else []))
                                                       for k in range(parts["V"].shape[0])], ctx.nodes)
        h, c = (_read_next(layer, ctx, base, t, state, steps, detached) for base, state in (("h", h), ("c", c)))
    return BuiltLayer(layer, source, Grid(layer.output_shape, tuple(outputs)), recurrent=grids,
                      timeline={**{key: _rows(rows) for key, rows in timeline.items()}, **_detached_rows(detached)})


def _gated_parameters(layer: LayerDef, ctx: _Expansion):
    """A gated cell's W, U, V and biases as trainable leaves (W_f,1,2: gate f's row 1, column 2; b_y,1), and how
    it names a quantity of one gate (z_f)."""
    def gated(base: str, gate: str) -> Name:
        name = ctx.name(layer, base)
        return Name(name.base, (*name.subscript, gate))

    grids = {key: _leaves(gated(key[0], key[1:]) if len(key) > 1 else ctx.name(layer, key), tensor.shape,
                          tensor.entries, ctx.values) for key, tensor in layer.recurrent.items() if key not in ("h0", "c0")}
    ctx.trainable.extend(entry for grid in grids.values() for entry in grid.entries)
    return grids, gated


def _initial(layer: LayerDef, ctx: _Expansion, base: str, hidden: int) -> tuple[Symbol, ...]:
    """The state `base` at step 0 (h_1<0>), given by the spec (h0, c0) or zeros, as leaves."""
    start = tuple(_entry(ctx.name(layer, base), (-1, j), timed=True) for j in range(hidden))
    given = layer.recurrent.get(base + "0")
    ctx.values.update(zip(start, given.entries if given else (S.Zero,) * hidden))
    return start


def _gru(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    """Per step t = 1..T: z_r<t> = W_r x<t> + U_r h<t-1> + b_r, r = σ(z_r); z_u likewise, u = σ(z_u);
    z_n<t> = W_n x<t> + U_n (r ⊙ h<t-1>) + b_n, n = tanh(z_n); h<t> = (1 - u) n + u h<t-1>; y<t> = V h<t> + b_y."""
    parts = layer.recurrent
    hidden, steps, width = parts["Ur"].shape[0], source.shape[0], source.shape[1]
    grids, gated = _gated_parameters(layer, ctx)
    h, outputs = _initial(layer, ctx, "h", hidden), []
    timeline: dict[str, list] = {"h": [h], **{key: [] for gate in "run" for key in (gate, "z" + gate)}}
    detached: dict[str, list] = {"h": []}
    sigmoid, squash = ACTIVATIONS["sigmoid"].output, ACTIVATIONS["tanh"].output
    for t in range(steps):
        x = source.entries[t * width:(t + 1) * width]
        gates = {}
        for gate in "run":
            def recurrent(j: int, gate: str = gate) -> list[Expr]:
                if gate == "n":  # U_n (r ⊙ h<t-1>): a term U_n,j,k r_k h_k for each k
                    return [unevaluated_product([grids["Un"].at((j, k)), gates["r"][k], h[k]]) for k in range(hidden)]
                return _affine(grids["U" + gate], h, j)

            pre = [_sum(_affine(grids["W" + gate], x, j) + recurrent(j)
                        + ([grids["b" + gate].at((j,))] if "b" + gate in grids else [])) for j in range(hidden)]
            z = _nodes_at(gated("z", gate), t, pre, ctx.nodes)
            gates[gate] = _nodes_at(ctx.name(layer, gate), t, [(squash if gate == "n" else sigmoid)([e], 0) for e in z],
                                    ctx.nodes)
            timeline["z" + gate].append(z)
            timeline[gate].append(gates[gate])
        h = _nodes_at(ctx.name(layer, "h"), t, [unevaluated_sum([
            unevaluated_product([unevaluated_sum([S.One, unevaluated_product([S.NegativeOne, gates["u"][j]])]), gates["n"][j]]),
            unevaluated_product([gates["u"][j], h[j]])]) for j in range(hidden)], ctx.nodes)
        timeline["h"].append(h)
        outputs += _nodes_at(ctx.name(layer, "y"), t, [_sum(_affine(grids["V"], h, k) + ([grids["by"].at((k,))] if "by" in grids else []))
                                                       for k in range(parts["V"].shape[0])], ctx.nodes)
        h = _read_next(layer, ctx, "h", t, h, steps, detached)
    return BuiltLayer(layer, source, Grid(layer.output_shape, tuple(outputs)), recurrent=grids,
                      timeline={**{key: _rows(rows) for key, rows in timeline.items()}, **_detached_rows(detached)})


def _attention(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    """q = X W_Q, k = X W_K, v = X W_V entry by entry; per head h (its share of the columns, d of the keys'),
    s_h,t,u = (q_t · k_u over h's columns)/sqrt(d); a_h,t,u = exp(s_h,t,u) over the sum of exp(s_h,t,u') for the
    positions u' the row sees (all, or up to t when causal); o_t,j = Σ_u a_h,t,u v_u,j, h the head of column j;
    with an output projection, y_t,m = Σ_j o_t,j W_O,j,m (the heads side by side, then W_O)."""
    parts = layer.recurrent
    positions, features = source.shape
    grids = _attention_parameters(layer, ctx)
    projected = {}
    for base, key in (("q", "WQ"), ("k", "WK"), ("v", "WV")):
        width = parts[key].shape[1]
        projected[base] = _nodes(ctx.name(layer, base), (positions, width), [
            _sum([unevaluated_product([source.at((t, i)), grids[key].at((i, j))]) for i in range(features)])
            for t in range(positions) for j in range(width)], ctx.nodes)
    heads, keys, width = layer.heads, parts["WQ"].shape[1], parts["WV"].shape[1]
    size = keys // heads
    scale = Pow(Integer(size), Rational(-1, 2), evaluate=False) if size != 1 else None
    seen = [range(t + 1) if layer.causal else range(positions) for t in range(positions)]

    def named(base: str, index: tuple[int, int, int]) -> Symbol:
        """s_t,u for one head; s_h,t,u (head h) for several."""
        return _entry(ctx.name(layer, base), index if heads > 1 else index[1:])

    scores, weights = {}, {}
    for h in range(heads):
        columns = range(h * size, (h + 1) * size)
        for t in range(positions):
            for u in seen[t]:
                dot = _sum([unevaluated_product([projected["q"].at((t, j)), projected["k"].at((u, j))]) for j in columns])
                scores[(h, t, u)] = named("s", (h, t, u))
                ctx.nodes.append((scores[(h, t, u)], dot if scale is None else unevaluated_product([dot, scale])))
        for t in range(positions):
            total = Pow(unevaluated_sum([exp(scores[(h, t, u)]) for u in seen[t]]) if len(seen[t]) > 1
                        else exp(scores[(h, t, 0)]), -1, evaluate=False)
            for u in seen[t]:
                weights[(h, t, u)] = named("a", (h, t, u))
                ctx.nodes.append((weights[(h, t, u)], unevaluated_product([exp(scores[(h, t, u)]), total])))
    per_head = width // heads
    output = _nodes(ctx.name(layer, "o"), (positions, width), [
        _sum([unevaluated_product([weights[(j // per_head, t, u)], projected["v"].at((u, j))]) for u in seen[t]])
        for t in range(positions) for j in range(width)], ctx.nodes)
    timeline = {**projected, "s": scores, "a": weights, "o": output}
    if "WO" in grids:
        out = parts["WO"].shape[1]
        output = _nodes(ctx.name(layer, "y"), (positions, out), [
            _sum([unevaluated_product([timeline["o"].at((t, j)), grids["WO"].at((j, m))]) for j in range(width)])
            for t in range(positions) for m in range(out)], ctx.nodes)
    return BuiltLayer(layer, source, output, recurrent=grids, timeline=timeline)


def _attention_parameters(layer: LayerDef, ctx: _Expansion) -> dict[str, Grid]:
    """W_Q, W_K, W_V and the output projection W_O if any (W_Q,1,2: row 1, column 2) as trainable leaves."""
    base = ctx.name(layer, "W")
    grids = {key: _leaves(Name(base.base, (*base.subscript, key[1])), tensor.shape, tensor.entries, ctx.values)
             for key, tensor in layer.recurrent.items()}
    ctx.trainable.extend(e for grid in grids.values() for e in grid.entries)
    return grids


def _affine(weights: Grid, vector: tuple[Expr, ...], row: int) -> list[Expr]:
    """The products of a weight matrix's row with a vector, one term each."""
    return [unevaluated_product([weights.at((row, k)), vector[k]]) for k in range(len(vector))]


def _nodes_at(name: Name, t: int, expressions: list[Expr], nodes: list) -> tuple[Symbol, ...]:
    """The entries of one time step t (0-based: named step t + 1), added as nodes."""
    entries = tuple(_entry(name, (t, j), timed=True) for j in range(len(expressions)))
    nodes.extend(zip(entries, expressions))
    return entries


def _norm(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    """Per group (a row for a layer norm, a feature's column over the batch for a batch norm) of n entries:
    μ = 1/n Σ x, var = 1/n Σ (x - μ)², n_i = (x_i - μ)(var + ε)^(-1/2), y_i = γ n_i + β (γ, β per feature)."""
    shape = source.shape if len(source.shape) == 2 else (1, *source.shape)
    rows, features = shape
    grid = source.reshaped(shape)
    parameters = _norm_parameters(layer, ctx)
    gamma, beta = parameters["gamma"], parameters["beta"]
    over_rows = NORMS[layer.kind] == 0  # a batch norm's groups are columns
    groups = ([[(r, f) for r in range(rows)] for f in range(features)] if over_rows
              else [[(r, f) for f in range(features)] for r in range(rows)])
    normalized: dict[tuple[int, int], tuple[Expr, Expr]] = {}
    means, variances = [], []
    for g, members in enumerate(groups):
        x = [grid.at(index) for index in members]
        count = Rational(1, len(x))
        mean = _nodes(ctx.name(layer, "mu"), (1,), [unevaluated_product([count, _sum(x)])], ctx.nodes, first=g)
        deviations = [unevaluated_sum([e, unevaluated_product([S.NegativeOne, mean.entries[0]])]) for e in x]
        variance = _nodes(ctx.name(layer, "var"), (1,), [unevaluated_product([count, _sum(
            [Pow(d, 2, evaluate=False) for d in deviations])])], ctx.nodes, first=g)
        scale = Pow(unevaluated_sum([variance.entries[0], layer.scale]) if layer.scale else variance.entries[0],
                    Rational(-1, 2), evaluate=False)
        for index, d in zip(members, deviations):
            normalized[index] = d, scale
        means += mean.entries
        variances += variance.entries
    n_grid = _nodes(ctx.name(layer, "n"), source.shape, [unevaluated_product(list(normalized[index]))
                                                          for index in product(range(rows), range(features))], ctx.nodes)
    n_rows = n_grid.reshaped(shape)
    output = _nodes(ctx.name(layer, "y"), source.shape, [unevaluated_sum([unevaluated_product([gamma.at((f,)), n_rows.at((r, f))]),
                                                                         beta.at((f,))])
                                                         for r, f in product(range(rows), range(features))], ctx.nodes)
    by_group = (len(groups), len(groups[0]))
    return BuiltLayer(layer, source, output, kernel=gamma, bias=beta, timeline={
        "n": n_rows, "mu": Grid((len(means), 1), tuple(means)), "var": Grid((len(variances), 1), tuple(variances)),
        "groups": Grid(by_group, tuple(n_rows.at(i) for members in groups for i in members)),
        "x": Grid(by_group, tuple(grid.at(i) for members in groups for i in members))})


def _norm_parameters(layer: LayerDef, ctx: _Expansion) -> dict[str, Grid]:
    """γ and β, one per feature, as trainable leaves."""
    features = len(layer.bias)
    grids = {"gamma": _leaves(ctx.name(layer, "gamma"), (features,), layer.weights.entries, ctx.values),
             "beta": _leaves(ctx.name(layer, "beta"), (features,), layer.bias, ctx.values)}
    ctx.trainable.extend([*grids["gamma"].entries, *grids["beta"].entries])
    return grids


def _residual(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    """r = x + F(x), entry by entry, F the block's layers on the same input."""
    block, inner = ctx.build(layer.block, source)
    expressions = [unevaluated_sum([x, f]) for x, f in zip(source.entries, inner.entries)]
    return BuiltLayer(layer, source, _nodes(ctx.name(layer, "r"), layer.output_shape, expressions, ctx.nodes),
                      block=tuple(block))


def _dropout(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    """d = scale · mask · x, entry by entry, the mask's 0 or 1 written as a number."""
    scale = [] if layer.scale == 1 else [layer.scale]
    expressions = [unevaluated_product([*scale, mask, x]) for mask, x in zip(layer.mask.entries, source.entries)]
    return BuiltLayer(layer, source, _nodes(ctx.name(layer, "d"), layer.output_shape, expressions, ctx.nodes))


def _embedding(layer: LayerDef, source: Grid, ctx: _Expansion) -> BuiltLayer:
    """v_{i,j} = C_{token i, j}: each input's row of the table (the tokens count from 1)."""
    table = _embedding_parameters(layer, ctx)["table"]
    width = layer.table.shape[1]
    expressions = [table.at((token - 1, j)) for token in source.entries for j in range(width)]
    return BuiltLayer(layer, source, _nodes(ctx.name(layer, "v"), layer.output_shape, expressions, ctx.nodes),
                      kernel=table)


def _embedding_parameters(layer: LayerDef, ctx: _Expansion) -> dict[str, Grid]:
    """The table, one row per token, as trainable leaves."""
    table = _leaves(ctx.name(layer, "C"), layer.table.shape, layer.table.entries, ctx.values)
    ctx.trainable.extend(table.entries)
    return {"table": table}


def _sum(terms: list[Expr]) -> Expr:
    if not terms:
        return S.Zero
    return terms[0] if len(terms) == 1 else unevaluated_sum(terms)


_PARAMETERS = {**{kind: _convolution_parameters for kind in CONVOLUTIONS}, "dense": _dense_parameters,
               "rnn": _recurrent_parameters, "lstm": lambda layer, ctx: _gated_parameters(layer, ctx)[0],
               "gru": lambda layer, ctx: _gated_parameters(layer, ctx)[0], "attention": _attention_parameters,
               **{kind: _norm_parameters for kind in NORMS}, "embedding": _embedding_parameters}
"""Each kind with parameters: its trainable leaves by key, as its builder names them."""
_BUILDERS = {**{kind: _convolution for kind in CONVOLUTIONS}, **{kind: _pool for kind in POOLS},
             "flatten": _flatten, "dense": _dense, **{kind: _activation for kind in ("relu", "sigmoid", "tanh")},
             "rnn": _recurrent, "lstm": _lstm, "gru": _gru, "attention": _attention, **{kind: _norm for kind in NORMS}, "residual": _residual, "dropout": _dropout, "embedding": _embedding}
