"""Formulas typed by a student, LaTeX or ASCII, read safely into SymPy in the document's notation."""

from symbackprop.formulas.reader import FormulaError, Numeral, Side, read_chain, read_equation, read_formula

__all__ = ["FormulaError", "Numeral", "Side", "read_chain", "read_equation", "read_formula"]
