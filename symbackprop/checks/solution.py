"""Grade a whole hand solution, line by line, carrying the student's own values forward.

A solution is text with one step per line (`name = formula = numbers = value`, in any notation the
formula reader knows; a line `solve` broke at its width is joined again). Blank lines, headings and
prose are skipped. Which quantity a line is about comes from its left-hand side; every formula in the
chain is checked against it (`Checker.check_formula`), and its value (the plain number it ends with)
against the network's value at its printed precision (`Checker.check_value`). A value that is not the
network's is compared next with what the line's own quantity gives from the student's earlier values:
a line right given an earlier wrong number gets the credit and says so. A wrong line is diagnosed:
a line copied from another, a slip in the last digits, or the likeliest computed mistake that
reproduces it exactly; never a mistake that does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import mpmath
from sympy import Expr, Symbol

from symbackprop.checks.verify import Checker, Explanation, Verdict
from symbackprop.errors import InputError
from symbackprop.formulas import FormulaError, read_equation
from symbackprop.numbers.evaluate import PRECISION, evaluate, evaluate_definitions, printed_mpf
from symbackprop.numbers.rounding import decimals_of, rounds_to

STATUSES = ("right", "carried", "wrong", "skipped", "unreadable")
"""right; right given the student's earlier (wrong) values; wrong; not a step; a step that cannot be read."""
MISTAKES = ("copied-line", "rounding-slip", "wrong-weight", "swapped", "sign", "dropped-factor", "missing-term",
            "updated-weight", "stale-gradient", "distribution", "rounding")
"""Every mistake id a graded line may name: stable, for graders and their answer notes."""
MAX_CHARACTERS = 1_000_000
"""The longest solution graded: a grader on a shared server bounds what it is sent."""
SLIP_UNITS = 2
"""A value within this many units of its last written decimal of what it should be is a slip in its digits."""
_NUMBER = re.compile(r"\(?\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*\)?")
"""A line's written value, as the formula reader reads a number (0.5, .5, 5.), maybe signed or in parentheses."""
_UNDERLINE = re.compile(r"[=\-~.\s]+")
_WORDS = re.compile(r"[A-Za-z]{3,}[,:;]? +[A-Za-z]{3,}")
"""Two words in a row before the first `=`, or after the place a line stops reading as a formula: a sentence
(`in double precision with h = ...`, `With δ = ∂E/∂y, the gradient at each output ...`), not a quantity."""
_LABEL = re.compile(r"\s+\(([a-z][^()]*)\)$")
"""What justifies a line of `solve --detail full`, after it: '    (power rule, with the chain rule)'."""
_CONTINUING = set("=+-·*/×∘−")
"""The first characters of a line that continues a step `solve` broke at its width."""
_MINUS = str.maketrans({"−": "-", "–": "-"})


@dataclass(frozen=True)
class Part:
    """One formula of a line's chain and its verdict."""

    formula: Expr
    verdict: Verdict


@dataclass(frozen=True)
class Finding:
    """What went wrong in a line: a mistake id and what it is about."""

    kind: str
    """One of MISTAKES."""
    explanation: Explanation | None = None
    """For a computed mistake (wrong-weight, swapped, ...): the mistake and what it gives."""
    source: Symbol | None = None
    """For copied-line: the quantity whose line was copied."""
    line: int | None = None
    """For copied-line: the line it was copied from."""
    value: mpmath.mpf | None = None
    """For rounding-slip: what the digits should round from."""


@dataclass(frozen=True)
class LineGrade:
    """One line of the solution, graded."""

    number: int
    """Its first line in the text, from 1."""
    text: str
    status: str
    """One of STATUSES."""
    quantity: Symbol | None = None
    written: str | None = None
    """The value the line ends with, as written (None: a line of formulas only)."""
    expected: mpmath.mpf | None = None
    """The network's value of the quantity."""
    carried: mpmath.mpf | None = None
    """The quantity's value from the student's earlier values, when some of them are wrong."""
    given: tuple[tuple[Symbol, str], ...] = ()
    """The student's earlier wrong values the line was graded with: ((out_h1, '0.60'), ...)."""
    parts: tuple[Part, ...] = ()
    value_right: bool | None = None
    finding: Finding | None = None
    reason: str | None = None
    """For a skipped or unreadable line: why."""

    @property
    def score(self) -> float | None:
        """The share of its formulas and its value that are right (None for a line that is not graded)."""
        if self.status in ("skipped", "unreadable"):
            return None
        marks = [p.verdict.correct for p in self.parts] + ([] if self.value_right is None else [self.value_right])
        return sum(marks) / len(marks) if marks else None


@dataclass(frozen=True)
class SolutionGrade:
    lines: tuple[LineGrade, ...]
    asked: tuple[Symbol, ...] = ()
    """The quantities a question asks (an exercise's sheet); none for a solution graded on its own."""

    @property
    def graded(self) -> list[LineGrade]:
        return [line for line in self.lines if line.score is not None]

    @property
    def unreadable(self) -> list[LineGrade]:
        return [line for line in self.lines if line.status == "unreadable"]

    @property
    def missing(self) -> list[Symbol]:
        """The asked quantities no graded line is about."""
        answered = {line.quantity for line in self.graded}
        return [quantity for quantity in self.asked if quantity not in answered]

    @property
    def score(self) -> float:
        """The mean of the graded lines' scores, each asked quantity no line answers counted as a line scored 0
        (a question's answer of one right line is not full marks); 0 when there is nothing to count."""
        graded = self.graded
        count = len(graded) + len(self.missing)
        return sum(line.score for line in graded) / count if count else 0.0

    @property
    def first_wrong(self) -> LineGrade | None:
        return next((line for line in self.lines if line.status == "wrong"), None)


def split_solution(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of every non-blank line, with the indented lines that continue it (as
    `solve` breaks a long line: a continuation starts with `=` or another operator, or has no `=`) joined
    to it by single spaces."""
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        continues = raw[:1].isspace() and (raw.lstrip()[:1] in _CONTINUING or "=" not in raw)
        if lines and continues and not _UNDERLINE.fullmatch(lines[-1][1]):
            lines[-1] = (lines[-1][0], f"{lines[-1][1]} {raw.strip()}")
        else:
            lines.append((number, raw.strip()))
    return lines


def grade_solution(checker: Checker, text: str, asked: tuple[Symbol, ...] = ()) -> SolutionGrade:
    """Every line of `text` graded in order, each with the student's values before it carried forward; `asked`:
    the quantities a question asks, each one no line answers scored 0."""
    return replace(_Grader(checker).grade(text), asked=asked)


class _Grader:
    def __init__(self, checker: Checker) -> None:
        self.checker = checker
        self.yours: dict[Symbol, tuple[str, int]] = {}
        """Each quantity's latest value written so far, and its line."""
        self.wrong: set[Symbol] = set()
        """The quantities whose latest written value is not the network's."""
        self.right_hand: dict[str, tuple[Symbol, int]] = {}
        """Each right-hand side written so far: its quantity and line."""

    def grade(self, text: str) -> SolutionGrade:
        return SolutionGrade(tuple(self.line(number, line) for number, line in split_solution(text)))

    def line(self, number: int, text: str) -> LineGrade:
        if "=" not in text or _UNDERLINE.fullmatch(text):
            return LineGrade(number, text, "skipped", reason="no '=': not a step")
        label = _LABEL.search(text)
        unknown: list[str] = []
        body = text
        try:
            try:
                sides = read_equation(text.translate(_MINUS), lambda name: self._resolve(name, unknown))
            except FormulaError:
                if label is None:
                    raise
                body, unknown = text[:label.start()], []
                sides = read_equation(body.translate(_MINUS), lambda name: self._resolve(name, unknown))
        except FormulaError as error:
            if _WORDS.search(text.split("=", 1)[0]) or not label and _WORDS.search(error.text[error.position:]):
                return LineGrade(number, text, "skipped", reason="prose: not a step")
            if label:
                return LineGrade(number, text, "skipped", reason=f"a step of the {label.group(1)}: not a quantity")
            return LineGrade(number, text, "unreadable", reason=f"{error.reason} at position {error.position}")
        quantity = sides[0]
        if not isinstance(quantity, Symbol):
            return LineGrade(number, text, "unreadable", reason="a step starts with the quantity it is about: 'name = ...'")
        if quantity.name in unknown:
            return LineGrade(number, text, "skipped", reason=f"the network has no quantity {quantity.name} to check")
        if unknown:
            return LineGrade(number, text, "unreadable", reason=f"unknown name '{unknown[0]}'")
        return self.step(number, body, quantity, sides[1:])

    def _resolve(self, name: str, unknown: list[str]) -> Symbol:
        try:
            return self.checker.resolve(name)
        except KeyError:
            unknown.append(name)
            return Symbol(name)

    def step(self, number: int, text: str, quantity: Symbol, sides: list[Expr]) -> LineGrade:
        checker = self.checker
        formulas = [side for side in sides if side.free_symbols]
        last = text.translate(_MINUS).rsplit("=", 1)[1].strip()
        value = _NUMBER.fullmatch(last)
        written = value.group(1) if value and len(sides) > 0 and not sides[-1].free_symbols else None
        numbers = [side for side in sides[:-1] if not side.free_symbols] if written else []
        try:
            parts = tuple(Part(f, checker.check_formula(f, quantity, symbolic=False)) for f in formulas)
        except InputError as error:
            return LineGrade(number, text, "unreadable", reason=str(error).removeprefix("--formula: "))
        expected = checker.points[0][quantity]
        right_hand = " ".join(text.split("=", 1)[1].split())
        copied = self.right_hand.get(right_hand)
        self.right_hand.setdefault(right_hand, (quantity, number))
        if written is None:
            if not parts:
                return LineGrade(number, text, "skipped", quantity, reason="no formula and no value to check "
                                                                          "(a step ends with its value: '= 0.3775')")
            return self._graded(number, text, quantity, parts, expected, copied=copied)
        given = self._given(quantity)
        verdict = checker.check_value(written, quantity)
        carried = self._carried(quantity) if self.yours and not verdict.correct else None
        value_right = verdict.correct or (carried is not None and rounds_to(carried, written))
        self.yours[quantity] = (written, number)
        if verdict.correct:
            self.wrong.discard(quantity)
            given = ()
        else:
            self.wrong.add(quantity)
        finding = None
        if not value_right:
            finding = self._finding(written, expected, carried, numbers, verdict, copied)
        return self._graded(number, text, quantity, parts, expected, written, carried, given, value_right, finding,
                            copied)

    def _graded(self, number, text, quantity, parts, expected, written=None, carried=None, given=(),
                value_right=None, finding=None, copied=None) -> LineGrade:
        wrong_formula = next((p for p in parts if not p.verdict.correct), None)
        if wrong_formula is not None and (finding is None or finding.explanation is None
                                          or finding.kind == "rounding"):
            found = _exact(wrong_formula.verdict)
            if copied is not None and copied[0] != quantity:
                finding = Finding("copied-line", source=copied[0], line=copied[1])
            elif found is not None:
                finding = Finding(found.mistake.kind, found)
        right = value_right is not False and wrong_formula is None
        status = ("carried" if given and value_right and not rounds_to(expected, written) else "right") if right \
            else "wrong"
        return LineGrade(number, text, status, quantity, written, expected, carried, given, parts, value_right,
                         None if right else finding)

    def _finding(self, written: str, expected, carried, numbers: list[Expr], verdict: Verdict,
                 copied: tuple[Symbol, int] | None) -> Finding | None:
        """The mistake behind a wrong value: a copied line, a slip in its last digits, or a computed
        mistake that reproduces it exactly; None when nothing does."""
        if copied is not None:
            return Finding("copied-line", source=copied[0], line=copied[1])
        given = printed_mpf(written)
        unit = mpmath.mpf(10) ** -decimals_of(written)
        with mpmath.workdps(PRECISION):
            candidates = [expected] + ([] if carried is None else [carried]) + [evaluate(n, {}) for n in numbers]
        for candidate in candidates:
            if 0 < abs(candidate - given) <= SLIP_UNITS * unit:
                return Finding("rounding-slip", value=candidate)
        found = _exact(verdict)
        return None if found is None else Finding(found.mistake.kind, found)

    def _given(self, quantity: Symbol) -> tuple[tuple[Symbol, str], ...]:
        """The student's wrong values that `quantity` is worked out from: the nearest written ones."""
        found, seen, stack = [], set(), sorted(self.checker.defined.get(quantity, quantity).free_symbols, key=str)
        while stack:
            symbol = stack.pop()
            if symbol in seen:
                continue
            seen.add(symbol)
            if symbol in self.yours:
                if symbol in self.wrong:
                    found.append((symbol, self.yours[symbol][0]))
            elif symbol in self.checker.defined:
                stack.extend(sorted(self.checker.defined[symbol].free_symbols, key=str))
        return tuple(sorted(found, key=lambda pair: pair[0].name))

    def _carried(self, quantity: Symbol) -> mpmath.mpf | None:
        """`quantity` worked out from the student's written values wherever they wrote one; None when they
        leave no real number (an output written as 1.2 under a logarithm of 1 - out)."""
        checker = self.checker
        with mpmath.workdps(PRECISION):
            yours = {symbol: printed_mpf(text) for symbol, (text, _line) in self.yours.items() if symbol != quantity}
            definitions = [(s, e) for s, e in checker.definitions if s not in yours]
            try:
                value = evaluate_definitions(definitions, {**checker.start[0], **yours})[quantity]
            except (ArithmeticError, ValueError):
                return None
        return value if isinstance(value, mpmath.mpf) and mpmath.isfinite(value) else None


def _exact(verdict: Verdict) -> Explanation | None:
    """The first computed mistake that reproduces what was written, if one does."""
    return next((e for e in verdict.explanations if e.exact), None)
