"""The reports (gradients, training, a check's verdict, a reproduction) as the same records as a worked solution.

Each is a `WorkedSolution` of sections, notes, steps and tables, which every printer prints, with its
values for JSON in `data`. Numbers arrive rounded by the numbers stage; nothing here formats a formula.
"""

from __future__ import annotations

from sympy import Expr

from symbackprop.checks.document import Row
from symbackprop.checks.finite_differences import GradientCheck
from symbackprop.checks.verify import Explanation, Mistake, Verdict
from symbackprop.derivation import Derivation
from symbackprop.network import Network
from symbackprop.numbers.kinks import Kink
from symbackprop.numbers.rounding import brief, fixed, full, round_half_up, significant
from symbackprop.numbers.training import TrainingResult
from symbackprop.solution.build import check_section, kink_section
from symbackprop.solution.model import Note, Section, Step, Table, WorkedSolution

def gradient_report(derivation: Derivation, loss, checks: list[GradientCheck], at_kink: list[Kink]) -> WorkedSolution:
    """E_total, any relu at its kink, and every gradient with both finite-difference checks beside it."""
    network = derivation.network
    sections = [Section("Total error", (Step(network.total, (), None, significant(loss)),)),
                kink_section(at_kink), check_section(derivation, checks)]
    return WorkedSolution(f"Gradients: {network.spec.name}", tuple(s for s in sections if s is not None), places=None,
                          kind="gradients", data={
        "loss": significant(loss),
        "gradients": {c.parameter: significant(c.symbolic) for c in checks},
        "checks": [{"parameter": c.parameter, "symbolic": significant(c.symbolic), "double_fd": full(c.double),
                    "double_step": c.double_step, "double_error": c.double_error,
                    "double_tolerance": c.double_tolerance, "mpmath_fd": significant(c.high),
                    "agreeing_digits": round(c.agreeing_digits, 1), "status": c.status, "kink": c.kink}
                   for c in checks],
        "kinks": [{"neuron": k.neuron.net.name, "note": k.note} for k in at_kink],
    })


def training_report(result: TrainingResult, every: int, network: Network, decimals: int = 9) -> WorkedSolution:
    """E_total before and after, every `every` steps, the final parameters and outputs: shown to `decimals`
    decimals as `solve` shows numbers; `data` keeps every digit."""
    def shown(value) -> str:
        return fixed(value, decimals)

    sampled = _sampled(result.steps, every)
    total = network.total
    sections = (
        Section("Total error", (Note((total, f" before: {shown(result.history[0][0])}")),
                                Note((total, f" after: {shown(result.error)}")))),
        Section(f"Every {every:,} steps", (Table(("step", "E_total"),
                                                 tuple((f"{step:,}", shown(result.history[step][0])) for step in sampled)),)),
        Section("Parameters", (Table(("parameter", "value"),
                                     tuple((p.symbol, shown(result.parameters[p.name])) for p in network.parameters)),)),
        Section("Outputs", (Table(("output", "value"),
                                  tuple((symbol, shown(value)) for symbol, value in zip(network.outputs, result.outputs))),)),
    )
    return WorkedSolution(f"Training: {result.steps:,} steps, order '{result.order}'", sections, places=None,
                          kind="training", data={
        "steps": result.steps,
        "order": result.order,
        "loss_before": full(result.history[0][0]),
        "loss_after": full(result.error),
        "parameters": {name: full(value) for name, value in result.parameters.items()},
        "outputs": {symbol.name: full(value) for symbol, value in zip(network.outputs, result.outputs)},
        "history": [{"step": step, "loss": full(result.history[step][0])} for step in sampled],
    })


def verdict_report(verdict: Verdict, written: str) -> WorkedSolution:
    """Right or wrong, the network's value beside the written one, and the likeliest mistakes, each computed.

    `written` is the number or formula as the person typed it, shown as typed.
    """
    head = (written,) if "=" in written else (verdict.quantity, f" = {written}")
    expected = significant(verdict.expected)
    if verdict.correct:
        if verdict.by_hand:
            how = (f", when every intermediate is rounded to {verdict.places} decimals as by hand "
                   f"(the exact value is {expected})")
        else:
            how = "" if verdict.places is not None else \
                " (symbolically)" if verdict.symbolic else " (numerically, at the spec's point and at random points)"
        items: list[Note] = [Note((*head, f": right{how}"))]
    else:
        items = [Note((*head, ": wrong"))]
        if verdict.places is not None:
            items.append(Note(f"the network gives {expected} ({round_half_up(verdict.expected, verdict.places)} "
                              f"at your {verdict.places} decimals)"))
        else:
            if verdict.difference is not None:  # None: too large to simplify within the budget
                items.append(Note(("yours - right = ", verdict.difference)))
            items.append(Note(f"at the spec's point: yours {significant(verdict.given)}, right {expected}"))
    sections = [Section("Verdict", tuple(items))]
    if verdict.explanations:
        sections.append(Section("Likeliest mistakes, computed", tuple(
            Note((f"{k}. ", *describe(e.mistake), f": {_outcome(e, verdict)}"))
            for k, e in enumerate(verdict.explanations, 1))))
    return WorkedSolution("Check", tuple(sections), places=None, kind="check", data={
        "quantity": verdict.quantity,
        "written": written,
        "correct": verdict.correct,
        "expected": expected,
        "given": significant(verdict.given),
        "by_hand": verdict.by_hand,
        "symbolic": verdict.symbolic,
        "difference": verdict.difference,
        "explanations": [{"kind": e.mistake.kind, "description": Note(describe(e.mistake)),
                          "value": significant(e.value), "exact": e.exact,
                          "relative_distance": brief(e.distance, 3)} for e in verdict.explanations],
    })


def describe(mistake: Mistake) -> tuple[str | Expr, ...]:
    """A mistake in words and formulas, in turn (a `Note`'s parts)."""
    used, instead, within = mistake.used, mistake.instead_of, mistake.within
    if mistake.kind == "wrong-weight":
        source, target = mistake.path
        return used, f" where the path from {source} to {target} goes through ", instead, " (in ", within, ")"
    if mistake.kind == "swapped":
        return used, " where ", instead, " belongs (in ", within, ")"
    if mistake.kind == "sign":
        return "the sign of ", within, " lost: out - target and target - out swapped"
    if mistake.kind == "dropped-factor":
        return "the factor ", used, " dropped from ", within
    if mistake.kind == "missing-term":
        return "the term ", used, " missing from the sum for ", within
    if mistake.kind == "updated-weight":
        return "the updated ", used, " used where the original ", instead, " belongs (in ", within, ")"
    if mistake.kind == "distribution":
        return within, " = ", used, " used, which holds only for targets that sum to 1, and these do not"
    if mistake.kind == "rounding":
        return (f"every intermediate rounded to {mistake.decimals} decimals",)
    raise ValueError(mistake.kind)


def reproduction_report(rows: list[Row], source: dict[str, str]) -> WorkedSolution:
    """Where the numbers come from; quantity, printed value, engine value, engine value at the printed
    digits, status; notes below."""
    header = ("#", "quantity", "after rounds", "document", "engine", "engine, printed digits", "status")
    cells, notes = [], []
    for number, row in enumerate(rows, 1):
        status = row.status
        if row.note:
            notes.append(Note(f"[{number}] {row.note}"))
            status += f" [{number}]"
        cells.append((str(number), row.quantity, "" if row.steps is None else f"{row.steps:,}", row.document,
                      _computed(row), row.rounded or "", status))
    matched = sum(row.status == "match" for row in rows)
    summary = Note(f"{matched} of {len(rows)} printed items match; {len(rows) - matched} are errata.")
    origin = Note(f"By {source['author']}, {source['date']}: {source['url']}")
    section = Section("Printed items against the engine", (origin, summary, Table(header, tuple(cells)), *notes))
    return WorkedSolution(source["title"], (section,), places=None, kind="reproduction", data={"source": source, "rows": [{
        "section": row.section,
        "kind": "formula" if isinstance(row.computed, Expr) else "number",
        "quantity": row.quantity,
        "steps": row.steps,
        "document": row.document,
        "computed": _computed(row),
        "rounded": row.rounded,
        "status": row.status,
        "note": row.note,
        "alternatives": {order: significant(value) for order, value in row.alternatives.items()},
    } for row in rows]})


def _computed(row: Row) -> str | Expr:
    """The engine's formula as it is, or its number to `DIGITS` significant digits."""
    return row.computed if isinstance(row.computed, Expr) else significant(row.computed)


def _outcome(explanation: Explanation, verdict: Verdict) -> str:
    if explanation.exact:
        return "reproduces yours exactly" if verdict.places is None else \
            f"gives {significant(explanation.value)}, which is yours at your digits"
    if explanation.distance == 0:
        return "the same value at the spec's point, but not the same formula"
    return (f"gives {significant(explanation.value)} "
            f"({brief(explanation.distance, 2)} relative to yours)")


def _sampled(steps: int, every: int) -> list[int]:
    """0, every, 2 every, ..., and the last step."""
    return sorted(set(range(0, steps + 1, max(every, 1))) | {steps})
