"""The `check` command's answer, as text or JSON, from a `checks.verify.Verdict`."""

from __future__ import annotations

import json

import mpmath

from symbackprop.checks.verify import Explanation, Mistake, Verdict
from symbackprop.numbers.rounding import round_half_up, significant
from symbackprop.printers.math import latex_formula, text_formula
from symbackprop.printers.text import TextPrinter

DIGITS = 20


def describe(mistake: Mistake, formula=text_formula) -> str:
    """A mistake in words, with its symbols printed by `formula` (text or LaTeX)."""
    used, instead, within = (None if s is None else formula(s) for s in
                             (mistake.used, mistake.instead_of, mistake.within))
    if mistake.kind == "wrong-weight":
        source, target = mistake.path
        return f"{used} where the path from {source} to {target} goes through {instead} (in {within})"
    if mistake.kind == "swapped":
        return f"{used} where {instead} belongs (in {within})"
    if mistake.kind == "sign":
        return f"the sign of {within} lost: out - target and target - out swapped"
    if mistake.kind == "dropped-factor":
        return f"the factor {used} dropped from {within}"
    if mistake.kind == "missing-term":
        return f"the term {used} missing from the sum for {within}"
    if mistake.kind == "updated-weight":
        return f"the updated {used} used where the original {instead} belongs (in {within})"
    if mistake.kind == "distribution":
        return f"{within} = {used} used, which holds only for targets that sum to 1, and these do not"
    if mistake.kind == "rounding":
        return f"every intermediate rounded to {mistake.decimals} decimals"
    raise ValueError(mistake.kind)


def verdict_text(verdict: Verdict, written: str, *, ascii: bool = False) -> str:
    """Right or wrong, the network's value beside the written one, and the likeliest mistakes.

    `written` is the number or formula as the person typed it; formulas are Unicode math, or
    plain ASCII with `ascii`.
    """
    formula = TextPrinter(ascii=ascii).formula
    head = written if "=" in written else f"{formula(verdict.quantity)} = {written}"
    expected = significant(verdict.expected, DIGITS)
    if verdict.correct:
        if verdict.by_hand:
            return (f"{head}: right, when every intermediate is rounded to {verdict.places} decimals as by hand "
                    f"(the exact value is {expected})\n")
        how = "" if verdict.places is not None else \
            " (symbolically)" if verdict.symbolic else " (numerically, at the spec's point and at random points)"
        return f"{head}: right{how}\n"
    lines = [f"{head}: wrong"]
    if verdict.places is not None:
        lines.append(f"  the network gives {expected} ({round_half_up(verdict.expected, verdict.places)} "
                     f"at your {verdict.places} decimals)")
    else:
        if verdict.difference is not None:  # None: too large to simplify within the budget
            lines.append(f"  yours - right = {formula(verdict.difference)}")
        lines.append(f"  at the spec's point: yours {significant(verdict.given, DIGITS)}, right {expected}")
    if verdict.explanations:
        lines.append("  likeliest mistakes, computed:")
        lines += [f"    {k}. {describe(e.mistake, formula)}: {_outcome(e, verdict)}"
                  for k, e in enumerate(verdict.explanations, 1)]
    return "\n".join(lines) + "\n"


def verdict_json(verdict: Verdict, written: str) -> str:
    record = {
        "quantity": latex_formula(verdict.quantity),
        "written": written,
        "correct": verdict.correct,
        "expected": significant(verdict.expected, DIGITS),
        "given": significant(verdict.given, DIGITS),
        "by_hand": verdict.by_hand,
        "symbolic": verdict.symbolic,
        "difference": None if verdict.difference is None else latex_formula(verdict.difference),
        "explanations": [{"kind": e.mistake.kind, "description": describe(e.mistake),
                          "description_latex": describe(e.mistake, latex_formula),
                          "value": significant(e.value, DIGITS), "exact": e.exact,
                          "relative_distance": mpmath.nstr(e.distance, 3)} for e in verdict.explanations],
    }
    return json.dumps(record, indent=2) + "\n"


def _outcome(explanation: Explanation, verdict: Verdict) -> str:
    if explanation.exact:
        return "reproduces yours exactly" if verdict.places is None else \
            f"gives {significant(explanation.value, 12)}, which is yours at your digits"
    if explanation.distance == 0:
        return "the same value at the spec's point, but not the same formula"
    return (f"gives {significant(explanation.value, 12)} "
            f"({mpmath.nstr(explanation.distance, 2)} relative to yours)")
