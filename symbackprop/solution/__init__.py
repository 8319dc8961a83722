"""A worked solution as records (sections, steps, notes, tables), assembled from the derivation and its numbers."""

from symbackprop.solution.build import (
    check_section, derivation_summary, gradient_solution, question_sheet, worked_solution,
)
from symbackprop.solution.matrix import worked_matrix_solution
from symbackprop.solution.model import Note, Section, Step, Table, WorkedSolution
from symbackprop.solution.reports import gradient_report, reproduction_report, training_report, verdict_report

__all__ = ["Note", "Section", "Step", "Table", "WorkedSolution", "check_section", "derivation_summary",
           "gradient_report", "gradient_solution", "question_sheet", "reproduction_report", "training_report",
           "verdict_report", "worked_matrix_solution", "worked_solution"]
