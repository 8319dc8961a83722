"""The reports (gradients, training, a check's verdict, a reproduction) as the same records as a worked solution.

Each is a `WorkedSolution` of sections, notes, steps and tables, which every printer prints, with its
values for JSON in `data`. Numbers arrive rounded by the numbers stage; nothing here formats a formula.
"""

from __future__ import annotations

from sympy import Expr

from symbackprop.checks.document import Row
from symbackprop.checks.finite_differences import GradientCheck
from symbackprop.checks.verify import CARRIED, Explanation, Mistake, Verdict
from symbackprop.derivation import Derivation
from symbackprop.network import Network
from symbackprop.network.graph import Graph
from symbackprop.numbers.kinks import Kink
from symbackprop.numbers.rounding import TIE, TRUNCATED, brief, fixed, full, round_half_up, significant
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


def training_report(result: TrainingResult, every: int, network: Network | Graph, decimals: int = 9,
                    optimizer: str = "sgd") -> WorkedSolution:
    """The loss (a network's E_total) before and after, every `every` steps, the final parameters (a graph's
    trainable names) and outputs (a graph has none but its loss): shown to `decimals` decimals as `solve`
    shows numbers; `data` keeps every digit. `optimizer`: the optimizer's kind."""
    def shown(value) -> str:
        return fixed(value, decimals)

    sampled = _sampled(result.steps, every)
    if isinstance(network, Graph):
        total, trained, outputs = network.loss, [(s, s.name) for s in network.spec.trainable], ()
    else:
        total, trained, outputs = network.total, [(p.symbol, p.name) for p in network.parameters], network.outputs
    sections = (
        Section("Total error" if outputs else "Loss", (Note((total, f" before: {shown(result.history[0][0])}")),
                                                       Note((total, f" after: {shown(result.error)}")))),
        Section(f"Every {every:,} steps", (Table(("step", total.name),
                                                 tuple((f"{step:,}", shown(result.history[step][0])) for step in sampled)),)),
        Section("Parameters", (Table(("parameter", "value"),
                                     tuple((symbol, shown(result.parameters[name])) for symbol, name in trained)),)),
        Section("Outputs", (Table(("output", "value"),
                                  tuple((symbol, shown(value)) for symbol, value in zip(outputs, result.outputs))),)),
    )
    title = f"Training: {result.steps:,} steps, order '{result.order}'"
    if optimizer != "sgd":
        title = f"Training: {result.steps:,} steps of {optimizer}"
    return WorkedSolution(title, sections if outputs else sections[:3], places=None, kind="training", data={
        "steps": result.steps,
        "order": result.order,
        "optimizer": optimizer,
        "loss_before": full(result.history[0][0]),
        "loss_after": full(result.error),
        "parameters": {name: full(value) for name, value in result.parameters.items()},
        "outputs": {symbol.name: full(value) for symbol, value in zip(outputs, result.outputs)},
        "history": [{"step": step, "loss": full(result.history[step][0])} for step in sampled],
    })


def verdict_report(verdict: Verdict, written: str) -> WorkedSolution:
    """Right or wrong, the network's value beside the written one, and the mistakes that give what was
    written (or the closest, said to be only that), each computed. A chain shows every part's verdict.

    `written` is the number or formula as the person typed it, shown as typed.
    """
    head = (written,) if "=" in written else (verdict.quantity, f" = {written}")
    judged = _judged(verdict) if not verdict.parts else "right" if verdict.correct else "wrong"
    items = [Note((*head, f": {judged.partition(':')[0]}"))]
    for number, part in enumerate(verdict.parts, 1):
        items.append(Note((f"part {number}, ", part.written, f": {_judged(part)}")))
    items += [Note(line) for line in _detail(verdict)]
    sections = [Section("Verdict", tuple(items))]
    if verdict.explanations:
        title = "Likeliest mistakes, computed" if verdict.reproduced else "No likely mistake reproduces your number"
        lead = () if verdict.reproduced else (Note("closest:"),)
        sections.append(Section(title, (*lead, *(
            Note((f"{k}. ", *describe(e.mistake), f": {_outcome(e, verdict)}"))
            for k, e in enumerate(verdict.explanations, 1)))))
    elif not verdict.correct:
        sections.append(Section("No likely mistake reproduces your number", (
            Note("none of the mistakes searched gives a different value here"),)))
    return WorkedSolution("Check", tuple(sections), places=None, kind="check", data={
        "quantity": verdict.quantity,
        "written": written,
        "correct": verdict.correct,
        "expected": significant(verdict.expected),
        "given": significant(verdict.given),
        "by_hand": verdict.by_hand,
        "rounding": verdict.rounding,
        "order": verdict.order,
        "symbolic": verdict.symbolic,
        "difference": verdict.difference,
        "reproduced": verdict.reproduced,
        "parts": [{"written": part.written, "correct": part.correct, "how": _judged(part)} for part in verdict.parts],
        "explanations": [{"kind": e.mistake.kind, "description": Note(describe(e.mistake)),
                          "value": significant(e.value), "exact": e.exact,
                          "relative_distance": brief(e.distance, 3)} for e in verdict.explanations],
    })


def _judged(verdict: Verdict) -> str:
    """How a verdict was reached, in a few words: right (symbolically), right, truncated, wrong, ..."""
    if not verdict.correct:
        if verdict.interval is not None:
            low, high = verdict.interval
            return f"wrong: its numbers give {brief(low, 12)} to {brief(high, 12)}"
        return "wrong"
    if verdict.order is not None:
        return f"right for the order of update '{verdict.order}'"
    if verdict.by_hand:
        return f"right, with {verdict.rounding} as by hand"
    if verdict.interval is not None:
        low, high = verdict.interval
        how = " (its numbers truncated)" if verdict.rounding == TRUNCATED else ""
        return f"right at its printed precision{how}: its numbers give {brief(low, 12)} to {brief(high, 12)}"
    if verdict.rounding in (TIE, TRUNCATED, CARRIED):
        return f"right, {verdict.rounding}"
    if verdict.places is not None:
        return "right"
    return "right (symbolically)" if verdict.symbolic else "right (numerically, at the spec's point and at random points)"


def _detail(verdict: Verdict) -> list[str | tuple]:
    """The lines under the verdict: the exact value beside a number right only in some way, or what the
    network gives instead of a wrong answer."""
    expected = significant(verdict.expected)
    if verdict.correct:
        if verdict.parts:
            return []
        lines = [_judged(verdict).partition(": ")[2]] if verdict.interval is not None else []
        if verdict.by_hand or verdict.order is not None or verdict.rounding in (TRUNCATED, CARRIED):
            lines.append(f"the exact value is {expected}")
        return lines
    if verdict.places is not None:
        return [f"the network gives {expected} ({round_half_up(verdict.expected, verdict.places)} "
                f"at your {verdict.places} decimals)"]
    if verdict.interval is not None:
        return [f"the network gives {expected}; {_judged(verdict).partition(': ')[2]}"]
    lines: list[str | tuple] = []
    if verdict.difference is not None:  # None: too large to simplify within the budget
        lines.append(("yours - right = ", verdict.difference))
    lines.append(f"at the spec's point: yours {significant(verdict.given)}, right {expected}")
    return lines


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
    if mistake.kind == "stale-gradient":
        return "the step before's gradient ", used, " used where ", instead, " belongs"
    if mistake.kind == "distribution":
        return within, " = ", used, " used, which holds only for targets that sum to 1, and these do not"
    if mistake.kind == "rounding":
        return (f"rounded by hand: {mistake.rounding}",)
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
    wrong = len(rows) - matched
    summary = Note(f"{matched} of {len(rows)} printed items match; "
                   f"{'1 is an erratum' if wrong == 1 else f'{wrong} are errata'}.")
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
        return "reproduces yours exactly" if verdict.places is None and verdict.interval is None else \
            f"gives {significant(explanation.value)}, which is yours at your digits"
    if explanation.distance == 0:
        return "the same value at the spec's point, but not the same formula"
    return (f"gives {significant(explanation.value)} "
            f"({brief(explanation.distance, 2)} relative to yours)")


def _sampled(steps: int, every: int) -> list[int]:
    """0, every, 2 every, ..., and the last step."""
    return sorted(set(range(0, steps + 1, max(every, 1))) | {steps})
