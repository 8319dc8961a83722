"""A graded solution as a report: the score, every line's verdict, expected value and diagnosis.

Its values for JSON keep the key names PrairieLearn's `grade(data)` fills (`score`, `partial_scores`
with each answer's `score`, `weight` and `feedback`, `feedback`, `format_errors`), one answer per
graded line (`line9`), so that a question's server.py copies them over. Numbers arrive rounded by
the numbers stage; nothing here formats a formula.
"""

from __future__ import annotations

from sympy import Expr

from symbackprop.checks.solution import Finding, LineGrade, SolutionGrade
from symbackprop.numbers.rounding import decimals_of, fixed, significant
from symbackprop.solution.model import Note, Section, Table, WorkedSolution
from symbackprop.solution.reports import describe

SCORE_DECIMALS = 4


def grading_report(grade: SolutionGrade, title: str) -> WorkedSolution:
    """The score and the first wrong line, a table of every graded line, the diagnoses, what was skipped."""
    graded = grade.graded
    first = grade.first_wrong
    summary = [Note(f"Score: {fixed(grade.score, SCORE_DECIMALS)}, from {len(graded)} graded lines "
                    f"({sum(line.status != 'wrong' for line in graded)} right or right given earlier values).")]
    if first is not None:
        summary.append(Note((f"First wrong line: {first.number}, ", first.quantity, ": ", *feedback(first).parts)))
    if grade.missing:
        named: list[str | Expr] = [f"{len(grade.missing)} quantities the question asks have no line, each scored 0: "]
        for k, quantity in enumerate(grade.missing):
            named += [", " if k else "", quantity]
        summary.append(Note((*named, ".")))
    if grade.unreadable:
        summary.append(Note(f"{len(grade.unreadable)} lines could not be read; they are listed below and not graded."))
    rows = tuple((str(line.number), line.quantity, _verdict(line), line.written or "", _expected(line),
                  line.finding.kind if line.finding else "") for line in graded)
    sections = [Section("Score", tuple(summary)),
                Section("Lines", (Table(("line", "quantity", "verdict", "yours", "expected", "mistake"), rows),))]
    notes = [Note((f"Line {line.number}, ", line.quantity, ": ", *feedback(line).parts)) for line in graded
             if line.status != "right"]
    if notes:
        sections.append(Section("Diagnoses", tuple(notes)))
    skipped = [Note(f"Line {line.number}: {line.reason}: {line.text}") for line in grade.lines
               if line.status in ("skipped", "unreadable")]
    if skipped:
        sections.append(Section("Not graded", tuple(skipped)))
    return WorkedSolution(title, tuple(sections), places=None, kind="grading", data={
        "score": round(grade.score, SCORE_DECIMALS),
        "first_wrong": None if first is None else first.number,
        "partial_scores": {_name(line): {"score": round(line.score, SCORE_DECIMALS), "weight": 1,
                                         "feedback": feedback(line)} for line in graded},
        "feedback": {_name(line): feedback(line) for line in graded},
        "format_errors": {_name(line): f"line {line.number}: {line.reason}" for line in grade.unreadable},
        "missing": list(grade.missing),
        "lines": [{"line": line.number, "text": line.text, "quantity": line.quantity, "status": line.status,
                   "written": line.written, "expected": None if line.expected is None else significant(line.expected),
                   "carried": None if line.carried is None else significant(line.carried),
                   "given": [{"quantity": symbol, "value": value} for symbol, value in line.given],
                   "mistake": line.finding.kind if line.finding else None, "score": line.score}
                  for line in grade.lines],
    })


def feedback(line: LineGrade) -> Note:
    """One sentence on a graded line: right, right given earlier values (which), or wrong and why."""
    if line.status == "right":
        return Note("right")
    if line.status == "carried":
        given: list[str | Expr] = ["right, given your "]
        for k, (symbol, value) in enumerate(line.given):
            given += [", " if k else "", symbol, f" = {value}"]
        return Note((*given, f" (from the right values: {_expected(line)})"))
    parts: list[str | Expr] = ["wrong"]
    if line.written is not None and line.value_right is False:
        parts.append(f": {line.written} where the network gives {_expected(line)}")
        if line.carried is not None and line.given:
            parts.append(f", and your earlier values give {_at_places(line.carried, line.written)}")
    for part in line.parts:
        if not part.verdict.correct:
            parts += ["; the formula ", part.formula, " is not ", line.quantity]
    parts += ["; ", *_diagnosis(line.finding)]
    return Note(tuple(parts))


def _diagnosis(finding: Finding | None) -> tuple[str | Expr, ...]:
    if finding is None:
        return ("no likely mistake reproduces it at its printed precision",)
    if finding.kind == "copied-line":
        return (f"copied-line: the same as line {finding.line}, which is about ", finding.source)
    if finding.kind == "rounding-slip":
        return (f"rounding-slip: a slip in the last digits (the value is {significant(finding.value)})",)
    return (f"{finding.kind}: ", *describe(finding.explanation.mistake))


def _verdict(line: LineGrade) -> str:
    return "right, given earlier values" if line.status == "carried" else line.status


def _expected(line: LineGrade) -> str:
    """The network's value at the written value's decimals, or in full for a line of formulas only."""
    return significant(line.expected) if line.written is None else _at_places(line.expected, line.written)


def _at_places(value, written: str) -> str:
    return fixed(value, decimals_of(written))


def _name(line: LineGrade) -> str:
    """The answer's name in `partial_scores`, `feedback` and `format_errors`: line9."""
    return f"line{line.number}"
