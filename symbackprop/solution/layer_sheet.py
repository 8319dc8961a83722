"""A layer exercise's question sheet: the layers, the given numbers and each entry's formula, then what to find,
in the order of the worked solution: each layer's outputs and the loss, then, layer by layer at the layer
level, δ (the gradient at the layer's outputs) and every gradient the layer-level form gives (∂E/∂K, the
BPTT sums over time, ...), then any other parameter's gradient."""

from __future__ import annotations

from collections.abc import Sequence

from sympy import Expr

from symbackprop.checks.layers import LayerForm
from symbackprop.derivation.graph import GraphDerivation
from symbackprop.names import Name, symbol
from symbackprop.network.layers import BuiltLayer, LayerNetwork
from symbackprop.numbers.graph import graph_point
from symbackprop.numbers.rounding import display_numerals
from symbackprop.solution.model import Note, Section, Step, Table, WorkedSolution


def layer_question_sheet(layered: LayerNetwork, derivation: GraphDerivation, forms: Sequence[LayerForm],
                         title: str) -> WorkedSolution:
    """The sheet of a layer spec's exercise (`forms`: its layer-level forms, in the order of the layers)."""
    graph = derivation.graph
    given = display_numerals({leaf: value for leaf, value in graph_point(graph).items() if leaf in graph.leaves}, 12)
    gradient = {adjoint.quantity: adjoint.symbol for adjoint in derivation.adjoints}
    nodes = {node.symbol for node in graph.nodes}
    layers = layered.every_layer()
    asked: set[Expr] = set()

    def questions(quantities: Sequence[Expr]) -> list[Step]:
        """Each quantity not asked yet, as `quantity = ?`."""
        fresh = [quantity for quantity in dict.fromkeys(quantities) if quantity not in asked]
        asked.update(fresh)
        return [Step(quantity, (), None, "?") for quantity in fresh]

    find: list[Note | Step] = [Note("The forward pass: each layer's outputs, then the loss."),
                               *questions([*(entry for layer in layers for entry in layer.output.entries if entry in nodes),
                                           graph.loss])]
    for form in forms:
        spec = form.layer.spec
        find += [Note((f"Layer {spec.name} ({spec.kind}) at the layer level: ", *HINTS.get(spec.kind, _HINT), ".")),
                 *questions([gradient[entry] for entry in form.layer.output.entries if entry in gradient]
                            + [gradient[g.quantity] for g in form.gradients if g.quantity in gradient])]
    others = questions([gradient[leaf] for leaf in graph.spec.trainable if leaf in gradient])
    find += [Note("The other parameters' gradients."), *others] if others else []
    return WorkedSolution(title, (
        Section("The network", (
            Note(f"Layers, in order: {'; '.join(_described(layer) for layer in layers)}. The loss {graph.loss.name} "
                 f"is {layered.spec.loss.replace('_', ' ')}."),
            Table(("name", "value"), tuple(given.items())),
            *(Step(node.symbol, (node.expression,)) for node in graph.nodes),
        )),
        Section("Find", tuple(find)),
    ), {}, 12, kind="exercise")


_DELTA = symbol(Name("delta"))
_HINT = (_DELTA, ", the gradient at its outputs, then the gradients at its inputs and parameters")
HINTS: dict[str, tuple[str | Expr, ...]] = {
    **{kind: (_DELTA, ", the gradient at its outputs; the kernel's gradient (the correlation of the input with ", _DELTA,
              "), the input's (the full correlation of ", _DELTA, " with the flipped kernel) and a bias's (the sum of ",
              _DELTA, ")")
       for kind in ("conv1d", "conv2d")},
    **{kind: ("backpropagation through time: the gradient at the outputs, then at each step's state going back from "
              "the last; each shared parameter's gradient is a sum over the steps",)
       for kind in ("rnn", "lstm", "gru")},
    "attention": ("the gradient at the outputs, at the values V and the weights A, through the row softmax at the "
                  "scores S (its Jacobian times a vector), at Q and K (over sqrt(d)), then the weights and the inputs",),
    **{kind: ("the gradient at the outputs, at the normalized entries n, at gamma and beta, then at the inputs through "
              "the mean and the variance (the three-term formula)",)
       for kind in ("batchnorm", "layernorm")},
}
"""What each kind's layer-level questions ask, in the sheet's words."""


def _described(layer: BuiltLayer) -> str:
    """c1, conv1d with stride 2, (1, 5) to (2,); t1, causal attention, (2, 2) to (2, 2)."""
    spec = layer.spec
    settings = [f"stride {spec.stride}" if spec.stride > 1 else "", f"padding {spec.padding}" if spec.padding else ""]
    settings = [setting for setting in settings if setting] if spec.kind in ("conv1d", "conv2d") else []
    kind = ("causal " if spec.causal else "") + spec.kind + (f" with {' and '.join(settings)}" if settings else "")
    return f"{spec.name}, {kind}, {_shape(layer.source.shape)} to {_shape(layer.output.shape)}"


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
