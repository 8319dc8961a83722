"""Formulas in the document's notation, as LaTeX, plain ASCII text and Unicode text, built on SymPy's printers.

These printers (and the MathML one in `printers/mathml.py`) keep the order in which the
derivation built each expression (so -(target - out) stays -(target - out)), write partial
derivatives as fractions, and can print chosen symbols as numerals: that is the "numbers
substituted" line of a worked solution. The numerals are strings made by the numbers
stage; nothing here computes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sympy import Derivative, Expr, Mul, Number, Pow, S, Symbol
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from symbackprop.formulas.unicode import superscript
from symbackprop.names import Name, name_of
from symbackprop.names import Partial
from symbackprop.network.activations import relu_argument
from symbackprop.printers.names import (ascii_name, ascii_partial, latex_name, latex_partial, unicode_name,
                                         unicode_partial)
from symbackprop.printers.matrices import AsciiMatrices, LatexMatrices, UnicodeMatrices


class DocumentNotation:
    """What the LaTeX, text and MathML printers share: numerals for symbols, and products as written.

    The hooks `_numeral`, `_negative` and `_product` build strings here; the MathML printer
    overrides them to build elements.
    """

    mul_separator = " * "

    def _print_Symbol(self, expr: Symbol) -> str:
        numerals: Mapping[Symbol, str] = self._settings["numerals"] or {}
        if expr in numerals:
            numeral = numerals[expr]
            printed = self._numeral(numeral)
            return self._group(printed) if numeral.startswith("-") else printed
        if isinstance(expr, Partial):
            return self._partial(expr)
        try:
            name = name_of(expr)
        except ValueError:  # not a quantity: a figure's neuron label (h1) prints as SymPy prints it
            return super()._print_Symbol(expr)
        return self._name(name)

    def _print_Partial(self, expr: Partial) -> str:
        return self._print_Symbol(expr)

    def _print_DirectPartial(self, expr: Partial):
        """A graph's loss differentiated through its own expression only: written d/dv[expression]."""
        if expr in (self._settings["numerals"] or {}):
            return self._print_Symbol(expr)
        return self._print(Derivative(expr.expression, expr.wrt))

    def _print_Mul(self, expr: Expr) -> str:
        if not isinstance(expr, Mul):  # SymPy's LaTeX printer sends 1/x here too
            return super()._print_Mul(expr)
        factors = list(expr.args)
        negative = isinstance(factors[0], Number) and factors[0] < 0 and len(factors) > 1
        if negative:
            factors = factors[1:] if factors[0] == -1 else [-factors[0], *factors[1:]]
        numerator = [f for f in factors if not (isinstance(f, Pow) and f.exp == -1)]
        denominator = [f.base for f in factors if isinstance(f, Pow) and f.exp == -1]
        printed = self._fraction(numerator, denominator) if denominator and numerator else self._product(factors)
        return self._negative(printed) if negative else printed

    def _print_Piecewise(self, expr: Expr) -> str:
        """relu's pieces as max(0, x); other pieces as cases, e.g. {1 if x > 0, 0 otherwise}, in every format."""
        argument = relu_argument(expr)
        if argument is not None:
            return self._apply("max", self._arguments([S.Zero, argument]))
        return self._cases([(self._print(piece), None if condition is S.true else self._print(condition))
                            for piece, condition in expr.args])

    def _arguments(self, arguments: list[Expr]) -> str:
        """A function's arguments; a numeral alone needs no parentheses of its own: tanh(-0.33), max(0, -0.2)."""
        return ", ".join(self._argument(argument) for argument in arguments)

    def _argument(self, argument: Expr):
        numerals: Mapping[Symbol, str] = self._settings["numerals"] or {}
        return self._numeral(numerals[argument]) if argument in numerals else self._print(argument)

    def _numeral(self, numeral: str) -> str:
        return numeral

    def _negative(self, printed: str) -> str:
        return "-" + printed

    def _product(self, factors: list[Expr]) -> str:
        """Factors in the order given, parenthesised where precedence needs it."""
        return self.mul_separator.join(self._factor(factor) for factor in factors)

    def _factor(self, factor: Expr):
        """One factor; a factor that prints with a leading minus is always grouped: x · (-1), not x · -1."""
        if _leading_minus(factor) or (isinstance(factor, Number) and self._fraction_needs_group(factor)):
            return self._group(self._print(factor))
        return self.parenthesize(factor, PRECEDENCE["Mul"], strict=True)


def _leading_minus(expr: Expr) -> bool:
    """Whether `expr` prints starting with a minus: a negative number, or a product led by one."""
    leading = expr.args[0] if isinstance(expr, Mul) and expr.args else expr
    return isinstance(leading, Number) and leading < 0


class DocumentLatexPrinter(LatexMatrices, DocumentNotation, LatexPrinter):
    r"""LaTeX as the document writes it: net_{h1}, \frac{\partial E_{total}}{\partial w_{5}}, w_{5}^{+}."""

    printmethod = "_symbackprop_latex"
    mul_separator = r" \cdot "
    _default_settings = {**LatexPrinter._default_settings, "numerals": None, "root_notation": False,
                         "fold_frac_powers": True}
    """A fractional power as x^{1/3}, the way text writes it, not as a root."""

    def __init__(self, settings: dict | None = None):
        super().__init__({"order": "none", **(settings or {})})

    def _group(self, text: str) -> str:
        return rf"\left({text}\right)"

    def _fraction_needs_group(self, number: Number) -> bool:
        return False

    def _fraction(self, numerator: list[Expr], denominator: list[Expr]) -> str:
        below = self._print(denominator[0]) if len(denominator) == 1 else self._product(denominator)
        return rf"\frac{{{self._product(numerator)}}}{{{below}}}"

    def _name(self, name: Name) -> str:
        return latex_name(name)

    def _partial(self, symbol: Partial) -> str:
        return latex_partial(self._print(symbol.of), self._print(symbol.wrt))

    def _print_Derivative(self, expr: Expr) -> str:
        (wrt, _count), = expr.variable_count
        return rf"\frac{{\partial}}{{\partial {self._print(wrt)}}}\left[{self._print(expr.expr)}\right]"

    def _print_Abs(self, expr: Expr, exp: str | None = None) -> str:
        r"""|p| as \lvert p \rvert: bars that open and close, spaced as delimiters."""
        printed = rf"\lvert {self._print(expr.args[0])} \rvert"
        return printed if exp is None else rf"\left({printed}\right)^{{{exp}}}"

    def _cases(self, pieces: list[tuple[str, str | None]]) -> str:
        rows = r" \\ ".join(rf"{value} & \text{{if }} {condition}" if condition is not None
                              else rf"{value} & \text{{otherwise}}" for value, condition in pieces)
        return rf"\begin{{cases}} {rows} \end{{cases}}"


class DocumentTextPrinter(AsciiMatrices, DocumentNotation, StrPrinter):
    """Plain text: net_h1, dE_total/dw_5, w_5^+, -(target_o1 - out_o1)*out_o1*(1 - out_o1)."""

    printmethod = "_symbackprop_text"
    _default_settings = {**StrPrinter._default_settings, "numerals": None, "order": "none"}

    def _group(self, text: str) -> str:
        return f"({text})"

    def _fraction_needs_group(self, number: Number) -> bool:
        return not number.is_Integer

    def _fraction(self, numerator: list[Expr], denominator: list[Expr]) -> str:
        below = self._product(denominator)
        return f"{self._product(numerator)}/{self._group(below) if len(denominator) > 1 else below}"

    def _name(self, name: Name) -> str:
        return ascii_name(name)

    def _partial(self, symbol: Partial) -> str:
        return ascii_partial(self._print(symbol.of), self._print(symbol.wrt))

    def _print_Pow(self, expr: Expr, rational: bool = False) -> str:
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Derivative(self, expr: Expr) -> str:
        (wrt, _count), = expr.variable_count
        return f"d/d{self._print(wrt)}[{self._print(expr.expr)}]"

    def _print_Function(self, expr: Expr) -> str:
        return self._apply(expr.func.__name__, self._arguments(list(expr.args)))

    def _print_Abs(self, expr: Expr) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Equality(self, expr: Expr) -> str:
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    def _print_Max(self, expr: Expr) -> str:
        """max(1, |p|), min(a, b), as written by hand (SymPy writes Max, Min)."""
        return f"{type(expr).__name__.lower()}({', '.join(self._print(a) for a in expr.args)})"

    _print_Min = _print_Max

    def _cases(self, pieces: list[tuple[str, str | None]]) -> str:
        """{1 if net_h1 > 0, 0 otherwise}: the cases of the LaTeX and MathML printers on one line."""
        return "{" + ", ".join(f"{value} if {condition}" if condition is not None else f"{value} otherwise"
                               for value, condition in pieces) + "}"


class UnicodeTextPrinter(UnicodeMatrices, DocumentTextPrinter):
    """Unicode math for a terminal: ∂E_total/∂w₅ = δ_o1 · out_h1, w₅⁺, (1 - out_o1)², out_o1⁽²⁾, η.

    Only subscripts of digits are set in subscript characters (w₅, b₁₀); a subscript with a
    letter keeps its underscore (out_o1, E_total): in terminal fonts subscript letters are
    tiny, sit at uneven heights, are often missing, and ₒ (o1, the output neurons) is hard to
    tell from ₀; and several letters (g, b, c, ...) have no subscript form at all. Numerals
    keep the ASCII minus, so numbers copy into a calculator. The formula reader reads all of
    it back.
    """

    mul_separator = " · "

    def _name(self, name: Name) -> str:
        return unicode_name(name)

    def _partial(self, symbol: Partial) -> str:
        return unicode_partial(self._print(symbol.of), self._print(symbol.wrt))

    def parenthesize(self, item: Expr, level: int, strict: bool = False) -> str:
        """∂E/∂w is written as a quotient, so it binds as a product does: (∂E_total/∂w₅)², 1/(∂E_total/∂w₅)."""
        if isinstance(item, Partial) and level > PRECEDENCE["Mul"]:
            return self._group(self._print(item))
        return super().parenthesize(item, level, strict)

    def _print_Pow(self, expr: Expr, rational: bool = False) -> str:
        """x², (1 + exp(-net))⁻²; (target - out)^(2 - 1), sqrt(x), 1/x and x^(3/2) as in plain text.

        Only a signed whole number is raised: an exponent with arithmetic in it stays on the line
        in parentheses, as superscripts ²⁻¹ would read as "squared, to the minus one". A base
        that already ends in a superscript (w₅⁺, out⁽²⁾) is parenthesised: (w₅⁺)².
        """
        exponent = self._print(expr.exp).replace(" ", "")
        if expr.exp in (S.Half, -S.Half, S.NegativeOne) or not _RAISABLE.fullmatch(exponent):
            return super()._print_Pow(expr, rational)
        base = self.parenthesize(expr.base, PRECEDENCE["Pow"], strict=False)
        if base[-1] in _SUPERSCRIPT_ENDS:
            base = self._group(base)
        return base + superscript(exponent)

    def _print_Derivative(self, expr: Expr) -> str:
        (wrt, _count), = expr.variable_count
        return f"∂/∂{self._print(wrt)}[{self._print(expr.expr)}]"


_RAISABLE = re.compile(r"-?[0-9]+")
"""Exponents printed as superscripts: whole numbers, maybe negative (2, -2)."""
_SUPERSCRIPT_ENDS = frozenset(superscript("0123456789+-()"))


def latex_formula(expr: Expr, numerals: Mapping[Symbol, str] | None = None) -> str:
    """`expr` in LaTeX, with the symbols in `numerals` printed as those numbers."""
    return DocumentLatexPrinter({"numerals": numerals}).doprint(expr)


def text_formula(expr: Expr, numerals: Mapping[Symbol, str] | None = None) -> str:
    """`expr` as plain ASCII text, with the symbols in `numerals` printed as those numbers."""
    return DocumentTextPrinter({"numerals": numerals}).doprint(expr)


def unicode_formula(expr: Expr, numerals: Mapping[Symbol, str] | None = None) -> str:
    """`expr` in Unicode math for a terminal, with the symbols in `numerals` printed as those numbers."""
    return UnicodeTextPrinter({"numerals": numerals}).doprint(expr)
