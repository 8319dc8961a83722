"""The matrix form's expressions in the document's notation, for the LaTeX, text and MathML formula printers.

`MatrixNotation` holds what every format shares: names (W_h, δ_o, ∂E_total/∂W_o, W_h⁺), where
parentheses go, the order of a sum (the terms with a minus sign last: target − out_o, not
−out_o + target), and explicit matrices whose entries are symbols printed as their numerals.
Each format's mixin below supplies the marks: ᵀ for a transpose, ∘ for the Hadamard product and
its powers (X∘²), 𝟙 for a matrix of ones (𝟙ᵀ when it is one row, as in b 𝟙ᵀ), and brackets
around an explicit matrix. A function applied entry by entry prints as the function of the
matrix: exp(−net_h), or the relu's pieces with net_h where the scalar has net_h1.
"""

from __future__ import annotations

import re

from sympy import Expr, Function, Mul, Symbol
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul, MatrixExpr, MatrixSymbol, OneMatrix

from symbackprop.formulas.unicode import superscript
from symbackprop.names import Name, PartialName, parse_name, symbol
from symbackprop.names import Partial

_COMPOUND = (MatAdd, MatMul, HadamardProduct)
"""Matrix expressions that need parentheses as a factor of a product or the base of a power or transpose."""
_LATEX_FUNCTIONS = frozenset({"exp", "log", "tanh", "sinh", "cosh", "sin", "cos", "max"})


def _negative(term: MatrixExpr) -> bool:
    return isinstance(term, MatMul) and term.as_coeff_matrices()[0].could_extract_minus_sign()


class MatrixNotation:
    """`_print_<Type>` for matrix expressions, built on each format's hooks (`_transposed`, `_hadamard`,
    `_hadamard_power`, `_ones`, `_matrix`, `_sum`, `_apply`) and the scalar notation's (`_name`,
    `_partial`, `_product`, `_group`, `_negative`, `_numeral`)."""

    def _print_MatrixSymbol(self, expr: MatrixSymbol):
        """W_h, delta_o (δ_o), W_h^+ (W_h⁺); dE_total/dW_o as the partial derivative ∂E_total/∂W_o."""
        name = parse_name(expr.name)
        if isinstance(name, PartialName):
            return self._partial(Partial(symbol(name.of), symbol(name.wrt)))
        return self._name(name)

    def _print_Symbol(self, expr: Symbol, **settings):
        bound = getattr(self, "_bound", {})
        if expr in bound:
            return self._operand(bound[expr])
        return super()._print_Symbol(expr, **settings)

    def _operand(self, expr: Expr):
        """`expr`, in parentheses if it is a sum or product of matrices."""
        return self._group(self._print(expr)) if isinstance(expr, _COMPOUND) else self._print(expr)

    def _factor(self, factor: Expr):
        return self._operand(factor) if isinstance(factor, MatrixExpr) else super()._factor(factor)

    def _print_MatMul(self, expr: MatMul):
        negative, printed = self._signed(expr)
        return self._negative(printed) if negative else printed

    def _signed(self, expr: MatrixExpr) -> tuple[bool, object]:
        """Whether a term of a sum has a minus sign, and the term printed without it."""
        if not isinstance(expr, MatMul):
            return False, self._print(expr)
        coefficient, matrices = expr.as_coeff_matrices()
        negative = coefficient.could_extract_minus_sign() and not coefficient.is_Add  # (1 - β₁) · g, not -(-1 + β₁) · g
        factors = [f for f in Mul.make_args(-coefficient if negative else coefficient) if f != 1] + matrices
        if len(factors) == 1:  # -(X ∘ Y) needs no parentheses: the sign binds more loosely than any product
            return negative, self._group(self._print(factors[0])) if isinstance(factors[0], MatAdd) else \
                self._print(factors[0])
        return negative, self._product(factors)

    def _sum(self, terms: list[tuple[bool, object]]):
        """'a - b + c' from (False, 'a'), (True, 'b'), (False, 'c'); MathML builds a row instead."""
        return _joined(terms)

    def _print_MatAdd(self, expr: MatAdd):
        return self._sum([self._signed(term) for term in sorted(expr.args, key=_negative)])

    def _print_HadamardProduct(self, expr: HadamardProduct):
        return self._hadamard([self._operand(f) for f in _hadamard_factors(expr)])

    def _print_HadamardPower(self, expr: Expr):
        return self._hadamard_power(self._operand(expr.base), expr.exp)

    def _print_Transpose(self, expr: Expr):
        return self._transposed(self._operand(expr.arg))

    def _print_OneMatrix(self, expr: OneMatrix):
        rows, columns = expr.shape
        return self._transposed(self._ones()) if rows == 1 and columns != 1 else self._ones()

    def _print_Identity(self, expr: Expr):
        """The 1 x 1 identity, which SymPy makes of a 1 x 1 matrix of ones, is that matrix of ones."""
        return self._ones() if expr.shape == (1, 1) else self._name(Name("I"))

    def _print_MatrixBase(self, expr: Expr):
        """An explicit matrix; an entry in the numerals prints as that numeral, without parentheses.
        A 1 x 1 matrix (E_total, a bias shared by a layer) prints as its entry, as it is written by hand."""
        numerals = self._settings["numerals"] or {}
        rows = [[self._numeral(numerals[e]) if e in numerals else self._print(e) for e in row] for row in expr.tolist()]
        return rows[0][0] if expr.shape == (1, 1) else self._matrix(rows)

    def _print_ElementwiseApplyFunction(self, expr: Expr):
        """f(X) for a named function (exp, tanh, log); otherwise the function's expression with X for its variable."""
        variable, = expr.function.variables
        body = expr.function.expr
        if isinstance(body, Function) and body.args == (variable,):
            return self._apply(body.func.__name__, self._print(expr.expr))
        outer = getattr(self, "_bound", {})
        self._bound = {**outer, variable: expr.expr}
        try:
            return self._print(body)
        finally:
            self._bound = outer


def _hadamard_factors(expr: HadamardProduct) -> list[MatrixExpr]:
    """The factors of nested Hadamard products in order: the product is associative, so one row of ∘."""
    return [f for arg in expr.args for f in (_hadamard_factors(arg) if isinstance(arg, HadamardProduct) else [arg])]


class LatexMatrices(MatrixNotation):
    r"""W_{h}^{T}, \circ, \mathbf{1}, and explicit matrices as arrays in brackets (no column limit, unlike bmatrix)."""

    def _transposed(self, printed: str) -> str:
        return f"{printed}^{{T}}"

    def _hadamard(self, factors: list[str]) -> str:
        return r" \circ ".join(factors)

    def _hadamard_power(self, base: str, exponent: Expr) -> str:
        return rf"{_superscriptable(base)}^{{\circ {self._print(exponent)}}}"

    def _ones(self) -> str:
        return r"\mathbf{1}"

    def _matrix(self, rows: list[list[str]]) -> str:
        body = r" \\ ".join(" & ".join(row) for row in rows)
        return rf"\left[\begin{{array}}{{{'r' * len(rows[0])}}} {body} \end{{array}}\right]"

    def _apply(self, name: str, argument: str) -> str:
        function = rf"\{name}" if name in _LATEX_FUNCTIONS else rf"\operatorname{{{name}}}"
        return rf"{function}\left({argument}\right)"


def _superscriptable(base: str) -> str:
    """A LaTeX base that takes a superscript: in braces when it has one of its own (g_{Wh}^{<1>}), which a
    second would make a double superscript; a bracketed base as it is."""
    return f"{{{base}}}" if "^" in base and not base.endswith((r"\right)", r"\right]")) else base


class AsciiMatrices(MatrixNotation):
    """W_h^T, .* and .^ for the Hadamard product and power, 1 for ones, [[a, b], [c, d]]."""

    def _transposed(self, printed: str) -> str:
        return f"{printed}^T"

    def _hadamard(self, factors: list[str]) -> str:
        return " .* ".join(factors)

    def _hadamard_power(self, base: str, exponent: Expr) -> str:
        power = self._print(exponent)
        return f"{base}.^{power}" if _WHOLE.fullmatch(power) else f"{base}.^({power})"

    def _ones(self) -> str:
        return "1"

    def _matrix(self, rows: list[list[str]]) -> str:
        return "[" + ", ".join("[" + ", ".join(row) + "]" for row in rows) + "]"

    def _apply(self, name: str, argument: str) -> str:
        return f"{name}({argument})"


class UnicodeMatrices(AsciiMatrices):
    """W_hᵀ, ∘ and X∘², 𝟙 for ones; explicit matrices as in ASCII."""

    def _transposed(self, printed: str) -> str:
        return f"{printed}ᵀ"

    def _hadamard(self, factors: list[str]) -> str:
        return " ∘ ".join(factors)

    def _hadamard_power(self, base: str, exponent: Expr) -> str:
        power = self._print(exponent)
        return f"{base}∘{superscript(power)}" if _SIGNED.fullmatch(power) else f"{base}∘^({power})"

    def _ones(self) -> str:
        return "𝟙"


class MathMLMatrices(MatrixNotation):
    """<msup> with T, <mo>∘</mo>, <mn>𝟙</mn>, and an <mtable> in brackets."""

    def _transposed(self, printed):
        return self._element("msup", printed, self._element("mi", "T"))

    def _hadamard(self, factors: list):
        return self._joined_row(factors, "\u2218")

    def _hadamard_power(self, base, exponent: Expr):
        return self._element("msup", base, self._row(self._element("mo", "\u2218"), self._print(exponent)))

    def _ones(self):
        return self._element("mn", "\U0001D7D9")

    def _matrix(self, rows: list[list]):
        table = self._element("mtable", *(self._element("mtr", *(self._element("mtd", c) for c in row)) for row in rows))
        return self._row(self._element("mo", "["), table, self._element("mo", "]"))

    def _sum(self, terms: list[tuple[bool, object]]):
        row = self._row()
        for k, (negative, printed) in enumerate(terms):
            if k or negative:
                row.appendChild(self._element("mo", "-" if negative else "+"))
            row.appendChild(printed)
        return row

    def _apply(self, name: str, argument):
        return self._row(self._element("mi", name), self._element("mo", "("), argument, self._element("mo", ")"))

    def _joined_row(self, items: list, operator: str):
        row = self._row()
        for k, item in enumerate(items):
            if k:
                row.appendChild(self._element("mo", operator))
            row.appendChild(item)
        return row


_WHOLE = re.compile(r"[0-9]+")
_SIGNED = re.compile(r"-?[0-9]+")


def _joined(terms: list[tuple[bool, str]]) -> str:
    """'a - b + c' from (False, 'a'), (True, 'b'), (False, 'c')."""
    text = ""
    for k, (negative, printed) in enumerate(terms):
        text += (" - " if negative else " + ") if k else ("-" if negative else "")
        text += printed
    return text
