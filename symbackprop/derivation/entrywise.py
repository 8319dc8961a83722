"""A scalar expression applied entry by entry to matrices, as a SymPy matrix expression.

The matrix form of backpropagation takes its local pieces from the scalar expressions the
rest of the engine differentiates (the activation's out(1 - out), the loss's -(target - out))
and lifts them to whole layers: a symbol becomes its matrix, a sum a matrix sum, a product a
Hadamard product, a power a Hadamard power, a function (exp, tanh, a piecewise relu) the
function applied to every entry, and a constant c the matrix of c's. Softmax's sum over the
layer, sum_k e^(net_k), is recognised as one term repeated for every neuron of the layer and
becomes a column sum broadcast to every row: 1 1^T e^(net).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sympy import Add, Expr, Function, Lambda, Mul, Piecewise, Pow, Symbol
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd, MatrixExpr, OneMatrix
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

ENTRY = Symbol("u")
"""The variable of every function applied entry by entry: (u -> e^u) applied to net."""


class EntrywiseFunction(ElementwiseApplyFunction):
    """A function applied to every entry of a matrix, whatever its shape.

    SymPy's own constructor first tries the function on a 1 x 1 matrix as a whole, which a
    piecewise function (relu) refuses; the entries are what it is applied to here.
    """

    def __new__(cls, function: Lambda, expr: MatrixExpr):
        return MatrixExpr.__new__(cls, function, expr)


def entrywise(expr: Expr, matrices: Mapping[Symbol, MatrixExpr], shape: tuple[int, int],
              layer: Sequence[Symbol] = ()) -> MatrixExpr:
    """`expr` with each symbol of `matrices` standing for every entry of its matrix, all of `shape`.

    `layer` lists the symbols of one layer's neurons (the first is the one `matrices` maps): a sum
    with one identical term per neuron of the layer becomes the column sum over the layer.
    """
    if expr in matrices:
        return matrices[expr]
    if not any(expr.has(s) for s in [*matrices, *layer]):
        return OneMatrix(*shape) if expr == 1 else expr * OneMatrix(*shape)
    if isinstance(expr, Add):
        repeated = _layer_sum(expr, layer)
        if repeated is not None:
            return OneMatrix(shape[0], shape[0]) * entrywise(repeated, matrices, shape, layer)
        return MatAdd(*(entrywise(term, matrices, shape, layer) for term in expr.args))
    if isinstance(expr, Mul):
        constant, varying = expr.as_independent(*matrices, *layer, as_Add=False)
        factors = [entrywise(f, matrices, shape, layer) for f in Mul.make_args(varying)]
        product = factors[0] if len(factors) == 1 else HadamardProduct(*factors)
        return product if constant == 1 else constant * product
    if isinstance(expr, Pow) and not any(expr.exp.has(s) for s in matrices):
        return HadamardPower(entrywise(expr.base, matrices, shape, layer), expr.exp)
    if isinstance(expr, Function) and len(expr.args) == 1:
        return EntrywiseFunction(Lambda(ENTRY, expr.func(ENTRY)),
                                        entrywise(expr.args[0], matrices, shape, layer))
    symbols = [s for s in matrices if expr.has(s)]
    if isinstance(expr, Piecewise) and len(symbols) == 1:
        return EntrywiseFunction(Lambda(ENTRY, expr.xreplace({symbols[0]: ENTRY})), matrices[symbols[0]])
    raise NotImplementedError(f"cannot apply {expr} entry by entry")


def _layer_sum(expr: Add, layer: Sequence[Symbol]) -> Expr | None:
    """The one term t(x_0) when `expr` is t(x_0) + t(x_1) + ... over every symbol of `layer`; else None."""
    if len(layer) < 2 or len(expr.args) != len(layer):
        return None
    own = layer[0]
    seen: set[Symbol] = set()
    shapes: set[Expr] = set()
    for term in expr.args:
        held = [s for s in layer if term.has(s)]
        if len(held) != 1:
            return None
        seen.add(held[0])
        shapes.add(term.xreplace({held[0]: own}))
    return shapes.pop() if len(seen) == len(layer) and len(shapes) == 1 else None
