"""The matrix form in double precision with numpy: E_total, every gradient and one update per call.

The function is printed from the matrix derivation's own expressions (ours, never user text)
by SymPy's `NumPyPrinter`, taught the few matrix nodes it lacks (a Hadamard power, a function
applied entry by entry), one line per definition of `MatrixDerivation.definitions`, and compiled
once. The tests check it against the exact path (mpmath at 50 digits) and the compiled scalar step.
numpy is optional: `pip install 'symbackprop[numpy]'`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable

from sympy import Symbol, exp, log
from sympy.matrices.expressions import HadamardPower, MatAdd, MatMul, MatrixSymbol, OneMatrix
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.printing.numpy import NumPyPrinter

from symbackprop.derivation.entries import given_entries, parameter_entries
from symbackprop.derivation.matrix import MatrixDerivation
from symbackprop.network import Network


@dataclass(frozen=True)
class MatrixProgram:
    """The matrix form compiled to one numpy function."""

    derivation: MatrixDerivation
    source: str
    function: Callable
    """(parameters..., inputs, targets, eta) -> (E_total, outputs, gradients, updated parameters): the
    outputs one column per sample, the rest in `derivation.parameters` order (an untrained parameter
    comes back unchanged)."""


def named_values(derivation: MatrixDerivation, arrays: Sequence[Any], network: Network) -> dict[str, float]:
    """One array per matrix parameter (`derivation.parameters` order) as values by the scalar engine's
    parameter names, in `network.parameters` order."""
    by_symbol = dict(zip(derivation.parameters, arrays))
    values = {}
    for symbol, entries in parameter_entries(network, derivation).items():
        rows, columns = entries.shape
        values.update((entries[j, k], float(by_symbol[symbol][j, k])) for j in range(rows) for k in range(columns))
    return {p.name: values[p.symbol] for p in network.parameters}


def compile_matrix(derivation: MatrixDerivation) -> MatrixProgram:
    """Print every definition of the matrix form as one numpy assignment and compile the function."""
    numpy = _numpy()
    names: dict[MatrixSymbol, str] = {}
    printer = _ArrayPrinter(names)
    arguments = [printer.name(p) for p in (*derivation.parameters, derivation.inputs, derivation.targets)]
    lines = [f"    {printer.name(d.symbol)} = {printer.doprint(d.expression)}\n" for d in derivation.definitions]
    updated = {u.parameter: u.definition.symbol for u in derivation.updates}
    gradients = "".join(f"{printer.name(g.symbol)}, " for g in derivation.gradients)
    new_values = "".join(f"{printer.name(updated.get(p, p))}, " for p in derivation.parameters)
    source = (f"def gradients({', '.join(arguments)}, {printer.doprint(derivation.learning_rate)}):\n"
              + "".join(lines)
              + f"    return {printer.name(derivation.total.symbol)}, {printer.name(derivation.layers[-1].out.symbol)}, "
              f"({gradients}), ({new_values})\n")
    namespace: dict[str, object] = {"numpy": numpy}
    exec(compile(source, f"<symbackprop matrix form {derivation.spec.name}>", "exec"), namespace)  # noqa: S102
    generated = namespace["gradients"]

    def quiet(*arguments):
        """Without numpy's warnings: a result that overflowed is refused by its caller, in one line."""
        with numpy.errstate(all="ignore"):
            return generated(*arguments)
    return MatrixProgram(derivation, source, quiet)


def point_arrays(derivation: MatrixDerivation, network: Network,
                 point: Mapping[Symbol, Any] | None = None) -> tuple[list, Any, Any, float]:
    """The compiled function's arguments at `point` (by default `network.point()`, where the scalar path
    reads the spec's numbers too, the learning rate among them): the parameters in `derivation.parameters`
    order, the inputs and the targets (one column per sample) as float64 arrays, and the learning rate."""
    numpy = _numpy()
    point = network.point() if point is None else point
    entries = given_entries(network, derivation)

    def array(symbol: MatrixSymbol):
        matrix = entries[symbol]
        return numpy.array([[float(point[matrix[j, k]]) for k in range(matrix.cols)] for j in range(matrix.rows)])

    return ([array(p) for p in derivation.parameters], array(derivation.inputs), array(derivation.targets),
            float(point[derivation.learning_rate]))


def _numpy():
    try:
        import numpy
    except ImportError:
        raise ImportError("the matrix form is evaluated with numpy, which is not installed: "
                          "pip install 'symbackprop[numpy]'") from None
    return numpy


class _ArrayPrinter(NumPyPrinter):
    """NumPyPrinter with generated names for matrix symbols (v0, v1, ...), `@` for products, and the
    Hadamard power and entry-by-entry functions it does not print itself."""

    def __init__(self, names: dict[MatrixSymbol, str]):
        super().__init__({"fully_qualified_modules": True})
        self.names = names

    def name(self, symbol: MatrixSymbol) -> str:
        return self.names.setdefault(symbol, f"v{len(self.names)}")

    def _print_MatrixSymbol(self, expr: MatrixSymbol) -> str:
        return self.name(expr)

    def _print_MatMul(self, expr) -> str:
        coefficient, matrices = expr.as_coeff_matrices()
        product = " @ ".join(f"({self._print(m)})" for m in matrices)
        return product if coefficient == 1 else f"({self._print(coefficient)}) * ({product})"

    def _print_HadamardPower(self, expr) -> str:
        return f"({self._print(expr.base)}) ** ({self._print(expr.exp)})"

    def _print_ElementwiseApplyFunction(self, expr) -> str:
        softplus = _softplus_argument(expr)
        if softplus is not None:  # ln(1 + e^x), which overflows at x = 710, in numpy's stable form
            return f"numpy.logaddexp(0, {self._print(softplus)})"
        variable, = expr.function.variables
        return f"(lambda {self._print(variable)}: {self._print(expr.function.expr)})({self._print(expr.expr)})"

    def _print_HadamardProduct(self, expr) -> str:
        logits = _softmax_argument(expr)
        if logits is None:
            unbounded = [a for a in expr.args if _unbounded(a)]
            if len(expr.args) == 2 and len(unbounded) == 1:
                # c (.) ln(x) or c (.) x^-1: 0 where c is 0 (a target of 0), not 0 * (-inf) or 0 / 0.
                factor, = unbounded
                coefficient, = [a for a in expr.args if a is not factor]
                return (f"(lambda c, u: numpy.where(c == 0, 0.0, numpy.multiply(c, u)))"
                        f"({self._print(coefficient)}, {self._print(factor)})")
            return super()._print_HadamardProduct(expr)
        # e^x / (1 1^T e^x), each column shifted by its largest entry first: e^1000 would overflow.
        return (f"(lambda x: (lambda e: e / e.sum(axis=0, keepdims=True))(numpy.exp(x - x.max(axis=0, keepdims=True))))"
                f"({self._print(logits)})")


def _exp_argument(expr):
    """X when `expr` is exp applied to every entry of X, else None."""
    if isinstance(expr, ElementwiseApplyFunction):
        variable, = expr.function.variables
        if expr.function.expr == exp(variable):
            return expr.expr
    return None


def _unbounded(expr) -> bool:
    """ln(X) or X^(.-1) entry by entry: infinite where an entry of X is 0."""
    if isinstance(expr, HadamardPower):
        return expr.exp == -1
    if isinstance(expr, ElementwiseApplyFunction):
        variable, = expr.function.variables
        return expr.function.expr == log(variable)
    return False


def _softplus_argument(expr):
    """X when `expr` is ln(1 + e^X) entry by entry (the softplus layer), else None."""
    variable, = expr.function.variables
    if expr.function.expr != log(variable) or not isinstance(expr.expr, MatAdd) or len(expr.expr.args) != 2:
        return None
    ones = [a for a in expr.expr.args if isinstance(a, OneMatrix)]
    exponentials = [_exp_argument(a) for a in expr.expr.args if not isinstance(a, OneMatrix)]
    return exponentials[0] if len(ones) == 1 and exponentials[0] is not None else None


def _softmax_argument(expr):
    """X when `expr` is e^X (.) (1 1^T e^X)^(.-1) (the softmax layer), else None."""
    if len(expr.args) != 2:
        return None
    powers = [a for a in expr.args if isinstance(a, HadamardPower) and a.exp == -1]
    others = [a for a in expr.args if not (isinstance(a, HadamardPower) and a.exp == -1)]
    if len(powers) != 1 or len(others) != 1 or _exp_argument(others[0]) is None:
        return None
    total = powers[0].base
    if not (isinstance(total, MatMul) and len(total.args) == 2 and isinstance(total.args[0], OneMatrix)
            and total.args[1] == others[0]):
        return None
    return _exp_argument(others[0])
