"""`check`'s and `grade`'s arguments, for a layered network and a computation graph alike: what to compare,
then the verdict.

A formula or a value; `wrt` (a gradient) or `quantity` (any quantity the checker knows) names what it
should equal, or the formula says it ('quantity = formula'). The checker (`checks.verify.Checker`, or
`checks.graph_check.GraphChecker`) decides, within a time budget that covers deriving it too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sympy import Symbol

from symbackprop.arguments import text
from symbackprop.checks.budget import MAX_BUDGET, within_budget
from symbackprop.checks.verify import Checker
from symbackprop.errors import InputError
from symbackprop.formulas import FormulaError, read_chain, read_formula
from symbackprop.numbers.rounding import HandRounding, parse_hand_rounding
from symbackprop.checks.solution import MAX_CHARACTERS as MAX_SOLUTION_CHARACTERS, SolutionGrade, grade_solution
from symbackprop.results import CheckResult, Grading
from symbackprop.spec.exact import exact_number


def check_answer(checker: Callable[[], Checker], gradient: Callable[[str], Symbol], formula: str | None,
                 value: str | None, wrt: str | None, quantity: str | None, budget: float | None,
                 hand_round: str | None = None) -> CheckResult:
    """The verdict on `formula` or `value`; `checker()` makes (or returns) the checker and `gradient(wrt)` the
    symbol of dE/d`wrt`, both within `budget` seconds (None: no limit), past which it is an `InputError`;
    `hand_round` says how the intermediates were rounded by hand (`numbers.rounding.parse_hand_rounding`)."""
    budget = checked_budget(budget)
    hand = None
    if hand_round is not None:
        try:
            hand = parse_hand_rounding(text("hand_round", hand_round))
        except ValueError as error:
            raise InputError(f"hand_round: {error}") from None
    return within_budget(budget, _answer, checker, gradient, formula, value, wrt, quantity, hand)


SOLUTION_BUDGET = 60.0
"""Seconds a whole solution may take to grade by default."""


def grade_answer(checker: Callable[[], Checker], name: str, solution: str, budget: float | None,
                 asked: Sequence[str] = ()) -> Grading:
    """A hand solution graded line by line by `checker()` (see `Problem.grade`), within `budget` seconds; `asked`:
    the names of the quantities a question asks, each one no line answers scored 0."""
    if len(text("solution", solution)) > MAX_SOLUTION_CHARACTERS:
        raise InputError(f"solution: longer than {MAX_SOLUTION_CHARACTERS:,} characters")
    if isinstance(asked, str) or not isinstance(asked, Sequence):
        raise InputError(f"asked: expected a list of quantity names, got {type(asked).__name__}")
    grade = within_budget(checked_budget(budget), lambda: _graded(checker(), solution, asked))
    return Grading(grade, f"Graded solution: {name}")


def _graded(checking: Checker, solution: str, asked: Sequence[str]) -> SolutionGrade:
    """The solution graded, each asked name read as `quantity` reads its name; one that is not a quantity of the
    network is an `InputError` naming `asked`."""
    quantities = []
    for name in asked:
        try:
            quantities.append(checking.quantity(read_formula(text("asked", name), checking.resolve)))
        except InputError:
            raise InputError(f"asked: {name!r} is not a quantity of the network") from None
    return grade_solution(checking, solution, tuple(quantities))


def readable(grading: Grading) -> Grading:
    """`grading`, unless a line could not be read: then an `InputError` naming it, as every bad input is."""
    unreadable = grading.grade.unreadable
    if unreadable:
        raise InputError(f"solution: line {unreadable[0].number}: {unreadable[0].reason}")
    return grading


def checked_budget(budget: float | None) -> float | None:
    """A time budget in seconds, checked."""
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))
                               or not 0 < budget <= MAX_BUDGET):
        raise InputError(f"budget: expected seconds from 0.001 to {MAX_BUDGET:g} or None, got {budget!r}")
    return budget


def _answer(checker: Callable[[], Checker], gradient: Callable[[str], Symbol], formula: str | None,
            value: str | None, wrt: str | None, quantity: str | None, hand: HandRounding | None) -> CheckResult:
    if formula is not None and value is not None:
        raise InputError("value: give a formula or a value to check, not both")
    if wrt is not None and quantity is not None:
        raise InputError("quantity: name the quantity by wrt or by quantity, not both")
    checking = checker()
    target = None
    if wrt is not None:
        target = gradient(wrt)
    elif quantity is not None:
        try:
            target = checking.quantity(read_formula(text("quantity", quantity), checking.resolve))
        except FormulaError as error:
            error.argument = "quantity"
            raise
    if value is not None:
        if target is None:
            raise InputError("value: say which quantity it is, with quantity or wrt")
        exact_number(text("value", value), "value")
        return CheckResult(checking.check_value(value.strip(), target, hand), value.strip())
    if formula is None:
        raise InputError("formula: give a formula or a value to check")
    sides = read_chain(text("formula", formula), checking.resolve)
    if target is None:
        if len(sides) < 2 or sides[0].numerals:
            raise InputError("formula: write 'quantity = formula', or name the quantity with quantity or wrt")
        target = checking.quantity(sides[0].expression)
        sides = sides[1:]
    elif len(sides) > 1 and sides[0].expression == target:  # the quantity named again: nothing to judge
        sides = sides[1:]
    return CheckResult(checking.check_chain(sides, target, hand), " ".join(formula.split()))
