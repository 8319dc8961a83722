"""Stage 2: a `Spec` becomes a `Network` of symbols and local expressions, numbered as the document does."""

from __future__ import annotations

from sympy import Add, Mul, Rational, Symbol

from symbackprop.memory import cycle_collector_paused
from symbackprop.network import symbols
from symbackprop.network.activations import ACTIVATIONS
from symbackprop.network.losses import loss_of
from symbackprop.network.model import Layer, Network, Neuron, OutputError, Parameter, Pass
from symbackprop.network.unevaluated import unevaluated_product, unevaluated_sum
from symbackprop.spec import LayerSpec, Spec


def build_network(spec: Spec) -> Network:
    """Parameters w1..wN layer by layer, neuron by neuron, input by input; one pass per sample."""
    with cycle_collector_paused():
        return _network(spec)


def _network(spec: Spec) -> Network:
    parameters = _parameters(spec)
    batch = len(spec.samples) > 1
    scale = Rational(1, len(spec.samples)) if spec.reduction == "mean" else Rational(1)
    passes = tuple(_pass(spec, parameters, k + 1 if batch else None, scale) for k in range(len(spec.samples)))
    if batch:
        total_expression = Add(*(one.total for one in passes), evaluate=False)
        if scale != 1:
            total_expression = Mul(scale, total_expression, evaluate=False)
    else:
        total_expression = passes[0].total_expression
    return Network(spec, _flat(parameters), passes, symbols.TOTAL_ERROR, total_expression, scale,
                   symbols.LEARNING_RATE)


def neuron_label(layer_name: str, index: int) -> str:
    """h + 1 -> h1, as in the document; h2 + 1 -> h2,1 so that labels stay unambiguous."""
    separator = "," if layer_name[-1].isdigit() else ""
    return f"{layer_name}{separator}{index + 1}"


def _parameters(spec: Spec) -> list[tuple[tuple[tuple[Parameter, ...], ...], tuple[Parameter, ...]]]:
    """Per layer: the weight rows and the biases."""
    layers = []
    weight_count = bias_count = 0
    for layer_index, layer_spec in enumerate(spec.layers):
        rows = []
        for j, row in enumerate(layer_spec.weights):
            rows.append(tuple(
                Parameter(f"w{weight_count + k + 1}", symbols.weight_symbol(weight_count + k + 1), value,
                          is_bias=False, layer=layer_index, neurons=(j,))
                for k, value in enumerate(row)
            ))
            weight_count += len(row)
        biases = _biases(layer_spec, layer_index, bias_count)
        bias_count += len(biases)
        layers.append((tuple(rows), biases))
    return layers


def _flat(parameters) -> tuple[Parameter, ...]:
    weights = tuple(p for rows, _ in parameters for row in rows for p in row)
    return weights + tuple(b for _, biases in parameters for b in biases)


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


def _pass(spec: Spec, parameters, sample: int | None, scale: Rational) -> Pass:
    """The network applied to one sample, with that sample's symbols; `scale` is 1/N for a mean over N samples."""
    sources: tuple[Symbol, ...] = tuple(symbols.input_symbol(k + 1, sample)
                                        for k in range(len(spec.samples[0].inputs)))
    inputs = sources
    layers = []
    for layer_index, (layer_spec, (rows, biases)) in enumerate(zip(spec.layers, parameters)):
        layer = _layer(layer_spec, layer_index, sources, rows, biases, sample)
        layers.append(layer)
        sources = tuple(neuron.out for neuron in layer.neurons)
    loss = loss_of(spec)
    outputs = layers[-1].neurons
    errors = []
    for neuron in outputs:
        target = symbols.target_symbol(neuron.label, sample)
        errors.append(OutputError(symbols.error_symbol(neuron.label, sample),
                                  loss.error(target, neuron.out, len(outputs)), neuron, target))
    total = symbols.TOTAL_ERROR if sample is None else symbols.sample_total_symbol(sample)
    share = None
    if sample is not None and scale != 1:
        share = (symbols.sample_share_symbol(sample), unevaluated_product((scale, total)))
    return Pass(sample, inputs, tuple(e.target for e in errors), tuple(layers), tuple(errors), total,
                Add(*(e.symbol for e in errors), evaluate=False),
                Add(*(e.expression for e in errors), evaluate=False), share)


def _layer(layer_spec: LayerSpec, layer_index: int, sources: tuple[Symbol, ...],
           weights: tuple[tuple[Parameter, ...], ...], biases: tuple[Parameter, ...], sample: int | None) -> Layer:
    activation = ACTIVATIONS[layer_spec.activation]
    labels = [neuron_label(layer_spec.name, j) for j in range(len(weights))]
    nets = [symbols.net_symbol(label, sample) for label in labels]
    neurons = []
    for j, row in enumerate(weights):
        # Unevaluated, so it prints in the document's order: w_1 i_1 + w_2 i_2 + b_1.
        terms = [unevaluated_product((w.symbol, source)) for w, source in zip(row, sources)]
        terms += [b.symbol for b in biases if j in b.neurons]
        net_expression = terms[0] if len(terms) == 1 else unevaluated_sum(terms)
        neurons.append(Neuron(labels[j], layer_index, j, nets[j], symbols.out_symbol(labels[j], sample),
                              net_expression, activation.output(nets, j), activation))
    return Layer(layer_spec.name, tuple(neurons), weights, biases)
