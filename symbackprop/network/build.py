"""Stage 2: a `Spec` becomes a `Network` of symbols and local expressions, numbered as the document does."""

from __future__ import annotations

from sympy import Add, Mul, Symbol

from symbackprop.network import symbols
from symbackprop.network.activations import ACTIVATIONS
from symbackprop.network.losses import LOSSES
from symbackprop.network.model import Layer, Network, Neuron, OutputError, Parameter
from symbackprop.spec import LayerSpec, Spec


def build_network(spec: Spec) -> Network:
    """Symbols and local expressions for every neuron; w1..wN layer by layer, neuron by neuron, input by input."""
    sources: tuple[Symbol, ...] = tuple(symbols.input_symbol(k) for k in range(1, len(spec.inputs) + 1))
    inputs = sources
    layers: list[Layer] = []
    weight_count = bias_count = 0
    for layer_index, layer_spec in enumerate(spec.layers):
        weights = []
        for j, row in enumerate(layer_spec.weights):
            weights.append(tuple(
                Parameter(f"w{weight_count + k + 1}", symbols.weight_symbol(weight_count + k + 1), value,
                          is_bias=False, layer=layer_index, neurons=(j,))
                for k, value in enumerate(row)
            ))
            weight_count += len(row)
        biases = _biases(layer_spec, layer_index, bias_count)
        bias_count += len(biases)
        layer = _layer(layer_spec, layer_index, sources, tuple(weights), biases)
        layers.append(layer)
        sources = tuple(neuron.out for neuron in layer.neurons)
    loss = LOSSES[spec.loss]
    errors = []
    for neuron in layers[-1].neurons:
        target = symbols.target_symbol(neuron.label)
        errors.append(OutputError(symbols.error_symbol(neuron.label), loss.error(target, neuron.out), neuron, target))
    parameters = tuple(p for layer in layers for row in layer.weights for p in row)
    parameters += tuple(b for layer in layers for b in layer.biases)
    return Network(
        spec=spec,
        inputs=inputs,
        targets=tuple(e.target for e in errors),
        layers=tuple(layers),
        parameters=parameters,
        errors=tuple(errors),
        total=symbols.TOTAL_ERROR,
        total_expression=Add(*(e.symbol for e in errors), evaluate=False),
        loss_expression=Add(*(e.expression for e in errors), evaluate=False),
        learning_rate=symbols.LEARNING_RATE,
    )


def neuron_label(layer_name: str, index: int) -> str:
    """h + 1 -> h1, as in the document; h2 + 1 -> h2,1 so that labels stay unambiguous."""
    separator = "," if layer_name[-1].isdigit() else ""
    return f"{layer_name}{separator}{index + 1}"


def _biases(layer_spec: LayerSpec, layer_index: int, count: int) -> tuple[Parameter, ...]:
    if layer_spec.bias is None:
        return ()
    if isinstance(layer_spec.bias, tuple):
        return tuple(
            Parameter(f"b{count + j + 1}", symbols.bias_symbol(count + j + 1), value,
                      is_bias=True, layer=layer_index, neurons=(j,))
            for j, value in enumerate(layer_spec.bias)
        )
    shared = tuple(range(layer_spec.size))
    return (Parameter(f"b{count + 1}", symbols.bias_symbol(count + 1), layer_spec.bias,
                      is_bias=True, layer=layer_index, neurons=shared),)


def _layer(layer_spec: LayerSpec, layer_index: int, sources: tuple[Symbol, ...],
           weights: tuple[tuple[Parameter, ...], ...], biases: tuple[Parameter, ...]) -> Layer:
    activation = ACTIVATIONS[layer_spec.activation]
    neurons = []
    for j, row in enumerate(weights):
        label = neuron_label(layer_spec.name, j)
        # Unevaluated, so it prints in the document's order: w_1 i_1 + w_2 i_2 + b_1.
        terms = [Mul(w.symbol, source, evaluate=False) for w, source in zip(row, sources)]
        terms += [b.symbol for b in biases if j in b.neurons]
        net = symbols.net_symbol(label)
        neurons.append(Neuron(label, layer_index, j, net, symbols.out_symbol(label),
                              Add(*terms, evaluate=False), activation.expression(net), activation))
    return Layer(layer_spec.name, tuple(neurons), sources, weights, biases)
