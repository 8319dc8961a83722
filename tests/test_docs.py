"""The generated documents stay in sync with the engine, and the README's quick start stays two commands."""

from __future__ import annotations

import re
from pathlib import Path

from symbackprop.checks.finite_differences import check_gradients
from symbackprop.checks.matrix_form import check_matrix_form
from symbackprop.printers import MarkdownPrinter, TextPrinter
from symbackprop.solution import worked_matrix_solution, worked_solution

ROOT = Path(__file__).resolve().parents[1]


def test_worked_solution_document_is_current(mazur):
    expected = MarkdownPrinter().doprint(worked_solution(mazur, checks=check_gradients(mazur)))
    actual = (ROOT / "docs" / "worked-solution.md").read_text(encoding="utf-8")
    assert actual == expected, "regenerate with: symbackprop solve -o docs/worked-solution.md"


def test_matrix_form_document_is_current(mazur):
    expected = MarkdownPrinter().doprint(worked_matrix_solution(mazur, checks=check_gradients(mazur),
                                                                proof=check_matrix_form(mazur)))
    actual = (ROOT / "docs" / "matrix-form.md").read_text(encoding="utf-8")
    assert actual == expected, "regenerate with: symbackprop solve --matrix -o docs/matrix-form.md"


def test_readme_quick_start_is_exactly_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start\n\n```bash\n(.*?)```", readme, re.S)
    assert block is not None
    commands = block.group(1).strip().splitlines()
    assert commands == ["pip install . && symbackprop solve", "pip install '.[test]' && pytest"]


def test_readme_unicode_sample_is_what_solve_prints(mazur):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"In a terminal the formulas are Unicode math.*?\n```\n(.*?)```", readme, re.S)
    assert block is not None
    printed = TextPrinter(width=80).doprint(worked_solution(mazur))
    assert block.group(1) in printed, "README's sample should be what solve prints at 80 columns"
