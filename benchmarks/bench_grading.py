"""Benchmark 7: how often the grader finds a planted mistake and names it (issue #15).

For random networks (`exercise_spec` with a seeded draw of sizes, activation and loss), the worked
solution `solve` prints is taken as a student's, one mistake of one kind is planted in one line
(the line's formula, numbers and value all made with the mistake, as a student who made it writes
them), and the solution is graded. A plant is *found* when the first wrong line is the planted
line, *named* when that line's mistake id is the planted kind too, and *clean* when no other line
is wrong. Kinds: wrong-weight (a weight of another path), swapped (an index swapped: out_h2 for
out_h1), sign (out - target and target - out swapped), dropped-factor, updated-weight (the updated
weight used before its time, formula as it should be), rounding-slip (the value's last digit off
by one), copied-line (another line's right-hand side copied).

    python -m benchmarks.bench_grading [--quick] [--networks N]
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mpmath  # noqa: E402
from sympy import Expr, Mul, Symbol  # noqa: E402

from symbackprop.checks.solution import split_solution  # noqa: E402
from symbackprop.checks.verify import _siblings  # noqa: E402
from symbackprop.network.symbols import updated_symbol  # noqa: E402
from symbackprop.numbers.evaluate import PRECISION, evaluate  # noqa: E402
from symbackprop.numbers.rounding import decimals_of, fixed, round_half_up  # noqa: E402
from symbackprop.printers import printer  # noqa: E402
from symbackprop.problem import Problem  # noqa: E402
from symbackprop.solution import Section, Step, WorkedSolution  # noqa: E402
from symbackprop.spec.exercise import exercise_spec  # noqa: E402

KINDS = ("wrong-weight", "swapped", "sign", "dropped-factor", "updated-weight", "rounding-slip", "copied-line")
PLACES = 9
"""The decimals `solve` shows, and a planted value is written with."""
WIDTH = 80
"""The planted solution is printed as `solve` prints to a file: broken at 80 columns."""


@dataclass(frozen=True)
class Planted:
    """A solution's text with one mistake planted, and the line it is on."""

    text: str
    line: int
    kind: str


def random_problem(seed: int) -> Problem:
    """A random exercise network: 1 to 3 inputs, one or two hidden layers, 1 to 3 outputs."""
    draw = random.Random(seed)
    sizes = [draw.randint(1, 3)] + [draw.randint(1, 3) for _ in range(draw.randint(1, 2))] + [draw.randint(1, 3)]
    activation = draw.choice(("sigmoid", "sigmoid", "tanh"))
    loss = draw.choice(("half_squared_error", "squared_error"))
    return Problem(exercise_spec(sizes, activation, loss, seed))


def plant(problem: Problem, kind: str, seed: int) -> Planted | None:
    """`problem`'s worked solution with one mistake of `kind` planted in a line drawn by `seed`; None when
    the network has no line where that mistake changes the value."""
    record = problem.solve(checks=False).record
    values = {symbol: mpmath.mpf(numeral) for symbol, numeral in record.numerals.items()}
    steps = [step for step in _steps(record.sections) if isinstance(step.result, str) and step.forms]
    options = [(step, new) for k, step in enumerate(steps) for new in _mistaken(problem, kind, step, steps[:k], values)]
    if not options:
        return None
    step, new = random.Random(seed).choice(options)
    planted = replace(record, sections=_replaced(record.sections, step, new))
    original, changed = (split_solution(_text(r)) for r in (record, planted))
    line = next(a[0] for a, b in zip(original, changed) if a != b)
    return Planted(_text(planted), line, kind)


def _mistaken(problem: Problem, kind: str, step: Step, before: list[Step], values: dict) -> list[Step]:
    """Every way to write `step` with the mistake `kind` made, each with a value that differs from the right one."""
    network = problem.network
    form, substituted = step.forms[-1], step.substituted
    new: list[Step] = []
    if kind == "rounding-slip":
        right = mpmath.mpf(step.result)
        places = decimals_of(step.result)
        if places >= 3 and substituted is not None:
            unit = mpmath.mpf(10) ** -places
            with mpmath.workdps(PRECISION):
                worked = evaluate(substituted, values)  # what the line's own printed numbers give
                exact = problem.values[step.symbol]
            slip = max((right + unit, right - unit), key=lambda v: min(abs(v - worked), abs(v - exact)))
            written = format(round_half_up(slip, places), "f")
            # a slip: not a rounding of either, nor what rounding every intermediate by hand gives
            if min(abs(slip - worked), abs(slip - exact)) > unit and \
                    not problem.checker.check_value(written, step.symbol).correct:
                new.append(replace(step, result=written))
        return new
    if kind == "copied-line":
        return [replace(step, forms=other.forms, substituted=other.substituted, result=other.result)
                for other in before if other.symbol != step.symbol and other.result != step.result
                and other.forms != step.forms]
    if substituted is None or isinstance(substituted, Symbol) and kind != "updated-weight":
        return new  # a line without numbers substituted (the value is a given number's)
    if kind in ("wrong-weight", "updated-weight"):
        weights = [p for p in network.parameters if not p.is_bias]
        shown = {s.symbol for s in before}
        for weight in [w for w in weights if w.symbol in form.free_symbols]:
            if kind == "updated-weight":
                later = updated_symbol(weight.symbol)
                if later in shown:
                    new.append(_remade(step, form, substituted.xreplace({weight.symbol: later}), values,
                                       keep_form=True))
                continue
            for other in weights:
                if other.layer == weight.layer and other.symbol not in form.free_symbols:
                    change = {weight.symbol: other.symbol}
                    new.append(_remade(step, form.xreplace(change), substituted.xreplace(change), values))
    elif kind == "swapped":
        siblings = _siblings(network)
        for symbol in [s for s in form.free_symbols if s in siblings]:
            for other in siblings[symbol]:
                if other not in form.free_symbols:
                    change = {symbol: other}
                    new.append(_remade(step, form.xreplace(change), substituted.xreplace(change), values))
    elif kind == "sign":
        partial = getattr(step.symbol, "wrt", None)
        if partial in network.outputs and getattr(step.symbol, "of", None) not in (d.symbol for d in problem.derived.definitions):
            new.append(_remade(step, -form, -substituted, values))
    elif kind == "dropped-factor" and isinstance(form, Mul) and form == substituted:
        for factor in form.args:
            if factor.free_symbols:
                kept = Mul(*[f for f in form.args if f is not factor])
                new.append(_remade(step, kept, kept, values))
    copies = {(other.forms, other.substituted, other.result) for other in before}
    return [s for s in new if s is not None and mpmath.mpf(s.result) != mpmath.mpf(step.result)
            and (s.forms, s.substituted, s.result) not in copies]  # a mistake that copies a line is copied-line


def _remade(step: Step, form: Expr, substituted: Expr, values: dict, keep_form: bool = False) -> Step | None:
    """The step with its formula and numbers replaced, and the value they give at the printed numbers."""
    if not substituted.free_symbols <= set(values):
        return None
    with mpmath.workdps(PRECISION):
        value = evaluate(substituted, values)
    if not mpmath.isfinite(value):
        return None
    return replace(step, forms=step.forms if keep_form else (form,), substituted=substituted,
                   result=fixed(value, PLACES))


def _steps(items) -> list[Step]:
    found = []
    for item in items:
        if isinstance(item, Section):
            found += _steps(item.items)
        elif isinstance(item, Step):
            found.append(item)
    return found


def _replaced(items, old: Step, new: Step):
    return tuple(replace(item, items=_replaced(item.items, old, new)) if isinstance(item, Section)
                 else new if item is old else item for item in items)


def _text(record: WorkedSolution) -> str:
    return printer("text", width=WIDTH).doprint(record)


@dataclass
class Tally:
    planted: int = 0
    found: int = 0
    named: int = 0
    clean: int = 0


def measure(networks: int, first_seed: int = 0) -> dict[str, Tally]:
    """Plant each kind once in each of `networks` random networks and grade every planted solution."""
    tallies = {kind: Tally() for kind in KINDS}
    for seed in range(first_seed, first_seed + networks):
        problem = random_problem(seed)
        for kind in KINDS:
            planted = plant(problem, kind, seed)
            if planted is None:
                continue
            grade = problem.grade(planted.text, budget=None).grade
            wrong = [line for line in grade.lines if line.status == "wrong"]
            tally = tallies[kind]
            tally.planted += 1
            if wrong and wrong[0].number == planted.line:
                tally.found += 1
                tally.named += wrong[0].finding is not None and wrong[0].finding.kind == kind
                tally.clean += len(wrong) == 1
    return tallies


def main(argv: list[str] | None = None) -> None:
    from benchmarks.common import arguments, heading

    args = arguments(__doc__.splitlines()[0], lambda parser: parser.add_argument(
        "--networks", type=int, default=None, help="random networks (default 10; 2 with --quick)"), argv)
    heading("benchmark 7: planted mistakes found and named by the grader", args.quick)
    networks = args.networks or (2 if args.quick else 10)
    for kind, tally in measure(networks).items():
        print(f"rate: {kind}: planted {tally.planted}, found {_share(tally.found, tally.planted)}, "
              f"named {_share(tally.named, tally.planted)}, only wrong line {_share(tally.clean, tally.planted)}")


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} = {100 * part / whole:.0f}%" if whole else "0/0"


if __name__ == "__main__":
    main()
