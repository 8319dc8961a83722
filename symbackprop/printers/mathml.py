"""Formulas in the document's notation as presentation MathML, built on SymPy's MathML printer.

The same notation as the LaTeX printer (`DocumentNotation` in printers/math.py): net_{h1} is
<msub><mi>net</mi><mi>h1</mi></msub>, a partial derivative an <mfrac> of two ∂-expressions,
w_5^+ an <msubsup>, the second sample's out_o1[2] a superscript (2), and chosen symbols print
as numerals for the numbers-substituted line.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.dom.minidom import Element

from sympy import Add, Expr, Symbol
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import PRECEDENCE

from symbackprop.names import Partial
from symbackprop.names import Name
from symbackprop.printers.math import DocumentNotation
from symbackprop.printers.matrices import MathMLMatrices
from symbackprop.printers.names import mathml_name

MINUS = "\u2212"
PARTIAL = "\u2202"


class DocumentMathMLPrinter(MathMLMatrices, DocumentNotation, MathMLPresentationPrinter):
    """Presentation MathML as the document writes it; `doprint` gives the elements inside <math>."""

    printmethod = "_symbackprop_mathml"
    mul_separator = "\u00b7"
    _default_settings = {**MathMLPresentationPrinter._default_settings, "numerals": None, "order": "none",
                         "root_notation": False, "fold_frac_powers": True}
    """A fractional power as x^{1/3}, as the LaTeX printer writes it."""

    def doprint(self, expr: Expr) -> str:
        return self.markup(_typeset(self._print(expr)))

    @staticmethod
    def markup(element: Element) -> str:
        """An element as text, every character outside ASCII as a character reference."""
        return element.toxml().encode("ascii", "xmlcharrefreplace").decode()

    def _element(self, tag: str, *children: Element | str) -> Element:
        """<tag> holding `children`; a string child becomes the element's text."""
        element = self.dom.createElement(tag)
        for child in children:
            element.appendChild(self.dom.createTextNode(child) if isinstance(child, str) else child)
        return element

    def _row(self, *children: Element) -> Element:
        return self._element("mrow", *children)

    def _numeral(self, numeral: str) -> Element:
        if numeral.startswith("-"):
            return self._negative(self._element("mn", numeral[1:]))
        return self._element("mn", numeral)

    def _negative(self, printed: Element) -> Element:
        return self._row(self._element("mo", MINUS), printed)

    def _group(self, printed: Element) -> Element:
        return self._row(self._element("mo", "("), printed, self._element("mo", ")"))

    def _fraction_needs_group(self, number) -> bool:
        return False

    def _product(self, factors: list[Expr]) -> Element:
        row = self._row()
        for k, factor in enumerate(factors):
            if k:
                row.appendChild(self._element("mo", self.mul_separator))
            row.appendChild(self._factor(factor))
        return row

    def _fraction(self, numerator: list[Expr], denominator: list[Expr]) -> Element:
        below = self._print(denominator[0]) if len(denominator) == 1 else self._product(denominator)
        return self._element("mfrac", self._product(numerator), below)

    def _name(self, name: Name) -> Element:
        return mathml_name(name, self._element)

    def _partial(self, symbol: Partial) -> Element:
        return self._element("mfrac", self._row(self._element("mo", PARTIAL), self._print(symbol.of)),
                             self._row(self._element("mo", PARTIAL), self._print(symbol.wrt)))

    def _print_Derivative(self, expr: Expr) -> Element:
        """d/dx [f], as one step of a full derivation writes it."""
        (wrt, _count), = expr.variable_count
        operator = self._element("mfrac", self._element("mo", PARTIAL),
                                 self._row(self._element("mo", PARTIAL), self._print(wrt)))
        return self._row(operator, self._element("mo", "["), self._print(expr.expr), self._element("mo", "]"))

    def _print_Pow(self, expr: Expr) -> Element:
        """A power whose exponent is arithmetic, the power rule's n - 1, as written: (1 + e^{-net})^{-1 - 1},
        where SymPy would do the arithmetic and write 1/(1 + e^{-net})^2, as the LaTeX and text printers do not."""
        if isinstance(expr.exp, Add):
            return self._element("msup", self.parenthesize(expr.base, PRECEDENCE["Pow"]), self._print(expr.exp))
        return super()._print_Pow(expr)

    def _print_Exp1(self, expr: Expr) -> Element:
        return self._element("mi", "e")

    def _print_Function(self, expr: Expr) -> Element:
        return self._apply(expr.func.__name__, self._arguments(list(expr.args)))

    def _arguments(self, arguments: list[Expr]) -> Element:
        printed = [self._argument(argument) for argument in arguments]
        return printed[0] if len(printed) == 1 else self._joined_row(printed, ",")

    def _print_Max(self, expr: Expr) -> Element:
        """max(1, |p|), min(a, b) as functions, as written by hand (SymPy sets them as operators, spaced apart)."""
        return self._apply(type(expr).__name__.lower(), self._arguments(list(expr.args)))

    _print_Min = _print_Max

    def _cases(self, pieces: list[tuple[Element, Element | None]]) -> Element:
        """Cases in a brace: the value, then 'if' and its condition, or 'otherwise'."""
        table = self._element("mtable")
        for value, condition in pieces:
            when = self._element("mtext", "otherwise") if condition is None else \
                self._row(self._element("mtext", "if\u00a0"), condition)
            table.appendChild(self._element("mtr", self._element("mtd", value), self._element("mtd", when)))
        return self._row(self._element("mo", "{"), table)


def _typeset(element: Element) -> Element:
    """What browsers need beyond SymPy's elements: minus signs where it writes hyphens, a fraction
    in an exponent written with a slash, and parentheses that stretch only around a fraction or a
    matrix (a stretched one is set loosely)."""
    for number in _elements(element, "mn"):
        number.firstChild.data = number.firstChild.data.replace("-", MINUS)
    for fraction in _elements(element, "mfrac"):
        if fraction.getAttribute("bevelled") == "true":  # 1/3 in an exponent; browsers draw no bevelled fraction
            document = fraction.ownerDocument
            numerator, denominator = list(fraction.childNodes)
            slash = document.createElement("mo")
            slash.appendChild(document.createTextNode("/"))
            row = document.createElement("mrow")
            for child in (numerator, slash, denominator):
                row.appendChild(child)
            fraction.parentNode.replaceChild(row, fraction)
    for operator in _elements(element, "mo"):
        text = operator.firstChild.data
        if text == "-":
            operator.firstChild.data = MINUS
        elif text in ("(", ")") and not any(operator.parentNode.getElementsByTagName(tall) for tall in ("mfrac", "mtable")):
            operator.setAttribute("stretchy", "false")
    return element


def _elements(element: Element, tag: str) -> list[Element]:
    """The element itself, if it is a <tag>, and every <tag> inside it."""
    return ([element] if element.tagName == tag else []) + list(element.getElementsByTagName(tag))


def mathml_formula(expr: Expr, numerals: Mapping[Symbol, str] | None = None) -> str:
    """`expr` as MathML elements (without the <math> around them), the symbols in `numerals` as numbers."""
    return DocumentMathMLPrinter({"numerals": numerals}).doprint(expr)


def mathml_numeral(numeral: str) -> str:
    """A numeral printed by the numbers stage, as the MathML printer writes numerals."""
    printer = DocumentMathMLPrinter()
    return printer.markup(printer._numeral(numeral))
