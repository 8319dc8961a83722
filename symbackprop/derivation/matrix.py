"""Stage 3, per layer: the matrix form of backpropagation, derived with SymPy's matrix expressions.

One matrix symbol per layer quantity, one column per sample (S columns):

    net_l = W_l out_{l-1} + b_l 1^T          out_l = f_l(net_l), entry by entry
    delta_L = dE/dout_L (.) f_L'(net_L)       delta_l = (W_{l+1}^T delta_{l+1}) (.) f_l'(net_l)
    dE/dW_l = delta_l out_{l-1}^T             dE/db_l = delta_l 1  (1^T delta_l 1 for a shared bias)

Nothing of this is typed in. The local pieces come from differentiating the same scalar
expressions the scalar engine differentiates (the loss's error, the activation's output in its
out-form from `identities`), applied to every entry (`entrywise`). The linear pieces come from
SymPy's matrix calculus: holding delta_l fixed, E changes with net_l as trace(delta_l^T net_l),
and differentiating that trace by W_l, b_l and out_{l-1} gives delta_l out_{l-1}^T, delta_l 1
and W_l^T delta_l. Softmax couples a layer's outputs; its Jacobian J_kj = c(out_j) [k = j] +
p(out_k) q(out_j), split off the scalar identity, gives delta = c (.) g + q (.) (1 1^T (p (.) g)).
`checks/matrix_form.py` proves every entry equal to the scalar engine's delta and gradient.

An optimizer's update is written per weight matrix and bias the same way (`optimizer_lines`): each line of its
scalar rule (derivation/optimizers.py) lifted entry by entry, so that m, v, mhat and vhat are matrices of the
parameter's shape, m_Wh = beta_1 m_Wh + (1 - beta_1) g_Wh with scalar settings; the proof holds every entry
to the scalar rule's line for that entry's parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sympy import Expr, Rational, Symbol, Trace, simplify
from sympy.matrices.expressions import HadamardProduct, MatrixExpr, MatrixSymbol, OneMatrix

from symbackprop.derivation.entrywise import entrywise
from symbackprop.derivation.optimizers import GRADIENT, OptimizerRule, instance_names, renamed
from symbackprop.derivation.identities import coupled_derivative_in_outputs, derivative_in_output
from symbackprop.derivation.rules import differentiate
from symbackprop.errors import InputError
from symbackprop.network.activations import ACTIVATIONS, Activation
from symbackprop.network.losses import loss_of
from symbackprop.names import Name, PartialName, name_of, parse_name
from symbackprop.network.symbols import LEARNING_RATE, TOTAL_ERROR
from symbackprop.spec import Spec

PROTOTYPE_WIDTH = 3
"""Neurons of the scalar layer a coupled activation's pieces are read from (any width of 2 or more gives the same)."""


@dataclass(frozen=True)
class MatrixDefinition:
    """symbol := expression, one line of the matrix form in evaluation order."""

    symbol: MatrixSymbol
    expression: MatrixExpr
    layer: int


@dataclass(frozen=True)
class MatrixLayer:
    """One fully connected layer as matrices, with what the derivation made of it."""

    index: int
    name: str
    activation: Activation
    weights: MatrixSymbol
    """W_l, one row per neuron, one column per source."""
    bias: MatrixSymbol | None
    """b_l: a column (one bias per neuron), 1 x 1 (one bias shared by the layer), or None."""
    source: MatrixSymbol
    """out_{l-1}, or the inputs i for the first layer."""
    net: MatrixDefinition
    out: MatrixDefinition
    sensitivity: MatrixDefinition
    """dE/dout_l: the loss's derivative for the output layer, W_{l+1}^T delta_{l+1} below it."""
    derivative: MatrixExpr | None
    """f_l'(net_l) entry by entry, in outputs where the activation allows; None for a coupled layer."""
    delta: MatrixDefinition
    weight_gradient: MatrixDefinition
    bias_gradient: MatrixDefinition | None


@dataclass(frozen=True)
class MatrixUpdate:
    """Gradient descent on one weight matrix or bias: parameter^+ = parameter - eta dE/dparameter."""

    parameter: MatrixSymbol
    definition: MatrixDefinition


@dataclass(frozen=True)
class MatrixDerivation:
    """The matrix form for one spec's structure: layers, loss, gradients and one update."""

    spec: Spec
    inputs: MatrixSymbol
    targets: MatrixSymbol
    learning_rate: Symbol
    layers: tuple[MatrixLayer, ...]
    total: MatrixDefinition
    """E_total as a 1 x 1 matrix: the sum (or mean) of the errors over outputs and samples."""
    updates: tuple[MatrixUpdate, ...]
    """One per trained weight matrix and bias, in `parameters` order."""

    @property
    def parameters(self) -> tuple[MatrixSymbol, ...]:
        """Every weight matrix, layer by layer, then every bias: the order of `Network.parameters`."""
        return tuple(layer.weights for layer in self.layers) + tuple(
            layer.bias for layer in self.layers if layer.bias is not None)

    @property
    def gradients(self) -> tuple[MatrixDefinition, ...]:
        """dE/dW_l for every layer, then dE/db_l for every layer with a bias, in `parameters` order."""
        return tuple(layer.weight_gradient for layer in self.layers) + tuple(
            layer.bias_gradient for layer in self.layers if layer.bias_gradient is not None)

    @property
    def definitions(self) -> tuple[MatrixDefinition, ...]:
        """Forward, loss, backward (output layer first) and updates, in evaluation order."""
        forward = [d for layer in self.layers for d in (layer.net, layer.out)]
        backward = [d for layer in reversed(self.layers)
                    for d in (layer.sensitivity, layer.delta, layer.weight_gradient, layer.bias_gradient)
                    if d is not None]
        return (*forward, self.total, *backward, *(u.definition for u in self.updates))


def derive_matrix(spec: Spec) -> MatrixDerivation:
    """The matrix form of backpropagation for the spec's layers, loss and samples."""
    samples = len(spec.samples)
    widths = [len(spec.samples[0].inputs)] + [layer.size for layer in spec.layers]
    inputs = _matrix(Name("i"), widths[0], samples)
    targets = _matrix(Name("target"), widths[-1], samples)
    forward = _forward(spec, inputs, samples)
    last = len(spec.layers) - 1
    total, sensitivity = _loss(spec, targets, forward[last][3].symbol)
    layers: list[MatrixLayer] = []
    for index in reversed(range(len(spec.layers))):
        weights, bias, net, out = forward[index]
        source = inputs if index == 0 else forward[index - 1][3].symbol
        derivative, delta_expression = _delta(spec, index, sensitivity, net.symbol, out.symbol)
        delta = MatrixDefinition(_layer_matrix("delta", spec.layers[index].name, *net.symbol.shape),
                                 delta_expression, index)
        # Holding delta fixed, E varies with net as trace(delta^T net): its derivatives are the gradients.
        linear = Trace(delta.symbol.T * net.expression)
        name = spec.layers[index].name
        weight_gradient = _definition(_gradient(weights), linear.diff(weights), index)
        bias_gradient = None if bias is None else _definition(_gradient(bias), linear.diff(bias), index)
        layers.append(MatrixLayer(index, name, ACTIVATIONS[spec.layers[index].activation], weights, bias, source,
                                  net, out, sensitivity, derivative, delta, weight_gradient, bias_gradient))
        if index > 0:
            sensitivity = _definition(_gradient(source), linear.diff(source), index - 1)
    layers.reverse()
    derivation = MatrixDerivation(spec, inputs, targets, LEARNING_RATE, tuple(layers), total, ())
    fixed = set() if spec.update_biases else {layer.bias for layer in layers}
    updates = tuple(_update(parameter, gradient) for parameter, gradient
                    in zip(derivation.parameters, derivation.gradients) if parameter not in fixed)
    return replace(derivation, updates=updates)


def _matrix(name: Name | PartialName, rows: int, columns: int) -> MatrixSymbol:
    """The matrix symbol of a typed name."""
    return MatrixSymbol(name.key, rows, columns)


def _layer_matrix(base: str, layer: str, rows: int, columns: int) -> MatrixSymbol:
    """W_h, b_h, net_h, out_h: a layer's matrix, subscripted by the layer's name."""
    return _matrix(Name(base, (layer,)), rows, columns)


def _gradient(matrix: MatrixSymbol) -> PartialName:
    """dE_total/dW_h: the name of E_total's derivative by a matrix."""
    return PartialName(name_of(TOTAL_ERROR), parse_name(matrix.name))


def _definition(name: Name | PartialName, expression: MatrixExpr, layer: int) -> MatrixDefinition:
    return MatrixDefinition(_matrix(name, *expression.shape), expression, layer)


def _forward(spec: Spec, inputs: MatrixSymbol, samples: int):
    """Per layer: W, b, net = W source + b 1^T and out = f(net), the activation applied entry by entry."""
    layers = []
    source = inputs
    for index, layer in enumerate(spec.layers):
        size, fan_in = layer.size, layer.fan_in
        weights = _layer_matrix("W", layer.name, size, fan_in)
        net_expression = weights * source
        bias = None
        if isinstance(layer.bias, tuple):
            bias = _layer_matrix("b", layer.name, size, 1)
            net_expression += bias * OneMatrix(1, samples)
        elif layer.bias is not None:
            bias = _layer_matrix("b", layer.name, 1, 1)
            net_expression += OneMatrix(size, 1) * bias * OneMatrix(1, samples)
        net = MatrixDefinition(_layer_matrix("net", layer.name, size, samples), net_expression, index)
        nets = _prototype("net", ACTIVATIONS[layer.activation])
        out_expression = entrywise(ACTIVATIONS[layer.activation].output(nets, 0), {nets[0]: net.symbol},
                                   (size, samples), nets)
        out = MatrixDefinition(_layer_matrix("out", layer.name, size, samples), out_expression, index)
        layers.append((weights, bias, net, out))
        source = out.symbol
    return layers


def _prototype(name: str, activation: Activation) -> tuple[Symbol, ...]:
    """The scalar symbols of one neuron (and, for a coupled activation, of its layer's other neurons)."""
    if not activation.coupled:
        return (Symbol(name),)
    return tuple(Symbol(f"{name}{k}") for k in range(PROTOTYPE_WIDTH))


def _loss(spec: Spec, targets: MatrixSymbol, out: MatrixSymbol) -> tuple[MatrixDefinition, MatrixDefinition]:
    """E_total = scale 1^T error(target, out) 1, and dE/dout_L from the error's derivative by out."""
    if spec.loss == "huber":
        raise InputError("loss: the matrix form (--matrix, --numpy) does not write huber's pieces entry by entry; "
                         "use the scalar form")
    target, output = Symbol("target"), Symbol("out")
    outputs, samples = out.shape
    error = loss_of(spec).error(target, output, outputs)
    scale = Rational(1, samples) if spec.reduction == "mean" else Rational(1)
    matrices = {target: targets, output: out}
    errors = entrywise(error, matrices, out.shape)
    total = _definition(name_of(TOTAL_ERROR), scale * OneMatrix(1, outputs) * errors * OneMatrix(samples, 1), len(spec.layers) - 1)
    derivative = entrywise(differentiate(error, output).result, matrices, out.shape)
    return total, _definition(_gradient(out), scale * derivative, len(spec.layers) - 1)


def _delta(spec: Spec, index: int, sensitivity: MatrixDefinition, net: MatrixSymbol,
           out: MatrixSymbol) -> tuple[MatrixExpr | None, MatrixExpr]:
    """f'(net) and delta = dE/dout (.) f'(net); for a coupled layer, None and the Jacobian-vector product."""
    activation = ACTIVATIONS[spec.layers[index].activation]
    if activation.coupled:
        return None, _coupled_delta(activation, sensitivity.symbol, out, f"layers[{index}] ({spec.layers[index].name})")
    x, y = Symbol("net"), Symbol("out")
    form = derivative_in_output(activation, x, y)
    if form is None:
        form = differentiate(activation.output([x], 0), x).result
    derivative = entrywise(form, {x: net, y: out}, net.shape)
    if derivative == OneMatrix(*net.shape):
        return derivative, sensitivity.symbol
    return derivative, HadamardProduct(sensitivity.symbol, derivative)


def _coupled_delta(activation: Activation, sensitivity: MatrixSymbol, out: MatrixSymbol, where: str) -> MatrixExpr:
    """delta_j = sum_k g_k dout_k/dnet_j with dout_k/dnet_j = c(out_j) [k = j] + p(out_k) q(out_j).

    The pieces are read off the scalar derivatives of a prototype layer (out_0, out_1, ...): the
    derivative of out_1 by net_0 splits into p(out_1) q(out_0), and c = dout_0/dnet_0 - p(out_0) q(out_0).
    """
    nets, outs = _prototype("net", activation), _prototype("out", activation)
    own = coupled_derivative_in_outputs(activation.output(nets, 0), nets, outs, nets[0])
    across = coupled_derivative_in_outputs(activation.output(nets, 1), nets, outs, nets[0])
    if own is None or across is None:
        raise InputError(f"{where}: the matrix form cannot write {activation.name}'s derivative in the layer's outputs")
    q, p = across.as_independent(outs[1], as_Add=False)
    c = simplify(own - p.xreplace({outs[1]: outs[0]}) * q)
    if not (p.free_symbols <= {outs[1]} and q.free_symbols <= {outs[0]} and c.free_symbols <= {outs[0]}):
        raise InputError(f"{where}: {activation.name}'s Jacobian is not an outer product plus a diagonal; "
                         "the matrix form supports only such coupled activations")
    shape, rows = out.shape, out.shape[0]

    def lift(expr: Expr) -> MatrixExpr:
        return entrywise(expr, {outs[0]: out}, shape)

    return HadamardProduct(lift(c), sensitivity) + HadamardProduct(
        lift(q), OneMatrix(rows, rows) * HadamardProduct(lift(p.xreplace({outs[1]: outs[0]})), sensitivity))


def _update(parameter: MatrixSymbol, gradient: MatrixDefinition) -> MatrixUpdate:
    return MatrixUpdate(parameter, MatrixDefinition(_matrix(parse_name(parameter.name).after_update(), *parameter.shape),
                                                    parameter - LEARNING_RATE * gradient.symbol, gradient.layer))


def optimizer_lines(matrix: MatrixDerivation, rule: OptimizerRule, step: int | None) -> tuple[MatrixDefinition, ...]:
    """`rule`'s update of every trained weight matrix and bias at `step` (None: any step, t kept a symbol): for
    each, g_Wh<k> = dE_total/dW_h, then each line of the rule lifted entry by entry (`entrywise`), every
    quantity of the rule (the parameter, the gradient, the state, mhat) a matrix of the parameter's shape named
    as `instance` names it (m_Wh<k>), every setting a scalar."""
    gradients = dict(zip(matrix.parameters, matrix.gradients))
    lines: list[MatrixDefinition] = []
    for update in matrix.updates:
        parameter, layer = update.parameter, update.definition.layer
        names = instance_names(rule, Symbol(parameter.name), step)
        matrices = {n: MatrixSymbol(n.name, *parameter.shape) for n in names.values() if isinstance(n, Symbol)}
        lines.append(MatrixDefinition(matrices[names[GRADIENT]], gradients[parameter].symbol, layer))
        # doit: the written order of the scalar line is not kept; SymPy's gathers each product's scalar factors
        lines += [MatrixDefinition(matrices[names[q]], entrywise(renamed(e, names).doit(), matrices, parameter.shape),
                                   layer) for q, e in rule.lines]
    return tuple(lines)
