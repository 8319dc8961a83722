"""An optimizer's steps worked with numbers: its rule, its settings, then each step line by line.

Every line is an instance of the optimizer's SymPy rule (derivation/optimizers.py) for one parameter
at one step, shown as formula, numbers substituted and result; the values are the numbers stage's
exact ones (`numbers.optimizers.worked_steps`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import mpmath
from sympy import Derivative, Rational, Symbol

from symbackprop.checks.finite_differences import FD_DIGITS, FD_EXPONENT, REQUIRED_DIGITS
from symbackprop.checks.penalty import PenaltyCheck
from symbackprop.derivation.optimizers import GRADIENT, THETA, at_step, gradient_at, optimizer_rule, penalty
from symbackprop.names import name_of, symbol
from symbackprop.numbers.evaluate import PRECISION, to_mpf
from symbackprop.numbers.optimizers import Trainee, WorkedStep, WorkedSteps
from symbackprop.numbers.rounding import fixed, tabulated, to_significant
from symbackprop.solution.build import absolute_note, agreement, l1_kink_note
from symbackprop.solution.model import Note, Section, Step, Table, WorkedSolution
from symbackprop.spec.load import optimizer_spec
from symbackprop.spec.model import RegularizationSpec
from symbackprop.spec.vocabulary import OPTIMIZERS, PENALTIES

StepItems = Callable[[WorkedStep], list]
"""A worked step's lines after its E_total: the scalar parameters' by default, a matrix form's per weight matrix."""
EXACT_PLACES = 50
"""A setting is shown in full: it is an exact decimal from the spec (epsilon = 0.00000001). The values are
shown to as many significant digits as the solution's decimals: g and g^2 differ in size."""


def optimizer_rules() -> WorkedSolution:
    """Every optimizer's rule with its default settings, and sgd's update with each penalty: the records
    themselves, for the documentation."""
    sections = []
    for kind in OPTIMIZERS:
        rule = optimizer_rule(optimizer_spec(kind, "optimizer"))
        items: list = [Step(q, (e,)) for q, e in rule.lines]
        with mpmath.workdps(PRECISION):
            items += [Step(s, (), None, fixed(to_mpf(v), EXACT_PLACES)) for s, v in rule.settings]
        sections.append(Section(kind, tuple(items)))
    for kind in PENALTIES:
        found = penalty(RegularizationSpec(kind, Rational(1)))
        rule = optimizer_rule(optimizer_spec("sgd", "optimizer"), found)
        sections.append(Section(f"sgd with the {kind} penalty", (
            Step(Derivative(found.term, THETA), (found.derivative,)), *(Step(q, (e,)) for q, e in rule.lines))))
    return WorkedSolution("Optimizer rules", tuple(sections), places=None)


def steps_solution(trainee: Trainee, title: str, worked: WorkedSteps, kind: str, places: int,
                   notes: tuple[Note, ...] = ()) -> WorkedSolution:
    """The optimizer's steps worked, alone (`notes`: what the model adds after the settings, as a layered
    network's fixed biases)."""
    section, numerals = optimizer_section(trainee, worked, kind, places, notes)
    return WorkedSolution(f"{kind}: {title}", (section,), numerals, places)


def penalty_check_section(trainee: Trainee, checks: list[PenaltyCheck]) -> Section:
    """The penalty's checks: each objective gradient beside the central difference of the loss + R."""
    found, loss = trainee.penalty, name_of(trainee.total).key
    note = Note(("The penalty R, ", found.term, " for each penalized parameter θ, joins the loss: the gradient the "
                 f"updates read, d{loss}/dθ + ", found.derivative, f", against a central difference of {loss} + R "
                 f"in mpmath at {FD_DIGITS} digits with h = 1e-{FD_EXPONENT}, required to agree to "
                 f"{REQUIRED_DIGITS} significant digits."))
    symbols = dict(zip(trainee.names, trainee.symbols))
    rows = tuple((symbols[c.parameter], tabulated(c.symbolic, 15), tabulated(c.high, 15),
                  agreement(c.agreeing_digits, c.absolute_difference), c.status) for c in checks)
    table = Table(("parameter", f"d{loss}/dθ + dR/dθ", f"mpmath FD of {loss} + R", "digits agreeing", "status"), rows)
    return Section("Penalty checks", (note, *absolute_note(checks), table))


def with_optimizer_steps(solution: WorkedSolution, trainee: Trainee, worked: WorkedSteps, kind: str,
                         notes: tuple[Note, ...] = (), step_items: StepItems | None = None) -> WorkedSolution:
    """`solution` with a last section working `kind`'s first steps, and the numerals its lines need."""
    section, numerals = optimizer_section(trainee, worked, kind, solution.places or 9, notes, step_items)
    if kind != "sgd" and any(s.title == "Updates" for s in solution.sections):
        note = Note(f"The Updates section above is plain gradient descent's one update; these are {kind}'s.")
        section = replace(section, items=(note, *section.items))
    return replace(solution, sections=solution.sections + (section,), numerals={**solution.numerals, **numerals})


def optimizer_section(trainee: Trainee, worked: WorkedSteps, kind: str, places: int, notes: tuple[Note, ...] = (),
                      step_items: StepItems | None = None) -> tuple[Section, dict[Symbol, str]]:
    """The rule, the settings and each step worked, and every numeral the steps show. `step_items`: a step's
    lines after its E_total (default: each trained parameter's gradient and lines of the rule, one by one)."""
    total = name_of(trainee.total)
    digits = max(places, 1)
    numerals = {s: to_significant(v, digits) for s, v in worked.values.items()}
    with mpmath.workdps(PRECISION):
        numerals.update((s, fixed(to_mpf(v), EXACT_PLACES)) for s, v in worked.constants.items())
    errors = [(symbol(replace(total, step=k)), s.error) for k, s in enumerate(worked.steps)]
    errors.append((symbol(replace(total, step=len(worked.steps))), worked.error))
    numerals.update((s, to_significant(v, digits)) for s, v in errors)
    state = ", ".join(str(s) for s in worked.rule.state)
    items: list = [Note((f"The rule of {kind}, for every trained parameter ", THETA, " with its gradient ", GRADIENT,
                         f" = d{total.key}/d", THETA, " at the parameters before the step"
                         + (f"; the state ({state}) starts at 0" if state else "")
                         + ("; t counts the steps from 1" if "t" in {str(s) for _, e in worked.rule.lines
                                                                     for s in e.free_symbols} else "") + ":"))]
    items += [Step(q, (e,)) for q, e in worked.rule.lines]
    found = trainee.penalty
    if worked.penalized is not None:
        items.append(Note((f"With the {found.kind} penalty ", found.term, " added to the loss for each of the "
                           f"{trainee.penalty_covers}, its derivative ", found.derivative, " (by SymPy) joins the "
                           "gradient:")))
        items += [Step(q, (e,)) for q, e in worked.penalized.lines]
    items += [Step(s, (), None, numerals[s]) for s in worked.constants]
    items += notes
    trained = [k for k, t in enumerate(trainee.trained) if t]
    step_items = step_items or partial(_scalar_step, trainee, len(worked.rule.lines), numerals)
    for (error, _value), step in zip(errors, worked.steps):
        steps: list = [Step(error, (), None, numerals[error])]
        if found is not None and found.kind == "l1":
            steps += [l1_kink_note(at_step(trainee.symbols[k], step.step - 1), trainee.names[k]) for k in trained
                      if trainee.penalized[k] and worked.values[at_step(trainee.symbols[k], step.step - 1)] == 0]
        items.append(Section(f"Step {step.step}", (*steps, *step_items(step))))
    items.append(Step(errors[-1][0], (), None, numerals[errors[-1][0]]))
    count = len(worked.steps)
    return Section(f"Optimizer: {kind}, {count} step{'s' if count != 1 else ''}", tuple(items)), numerals


def _scalar_step(trainee: Trainee, size: int, numerals: dict[Symbol, str], step: WorkedStep) -> list[Step]:
    """Each trained parameter's gradient and its `size` lines of the rule at `step`, parameter by parameter."""
    items: list[Step] = []
    for n, k in enumerate(k for k, t in enumerate(trainee.trained) if t):
        g = gradient_at(trainee.symbols[k], step.step)
        items.append(Step(g, (trainee.gradients[k],), None, numerals[g]))
        items += [Step(q, (e,), e, numerals[q]) for q, e in step.lines[n * size:(n + 1) * size]]
    return items
