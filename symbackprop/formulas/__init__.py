"""Formulas typed by a student, LaTeX or ASCII, read safely into SymPy in the document's notation."""

from symbackprop.formulas.reader import FormulaError, read_equation, read_formula

__all__ = ["FormulaError", "read_equation", "read_formula"]
