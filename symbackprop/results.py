"""What the API returns for people to read: each result renders to a format and displays itself in Jupyter.

Every result follows one contract: `.record` is a `WorkedSolution` built by the solution stage, and
`.render(format)` prints it with the printers: text in Unicode math or, with `ascii=True`, plain ASCII,
LaTeX, Markdown, HTML or JSON (one schema: `schema_version`, `kind`, ..., docs/api.md). The raw engine
records stay available as attributes (`.solution`, `.derivation`, `.rows`, `.verdict`, ...). An unknown
format is an `InputError` naming the formats that exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cached_property

import mpmath

from symbackprop.arguments import MAX_DECIMALS, MAX_WIDTH, MIN_WIDTH, choice, flag, whole
from symbackprop.checks.document import Row
from symbackprop.checks.finite_differences import GradientCheck
from symbackprop.checks.solution import SolutionGrade
from symbackprop.checks.verify import Verdict
from symbackprop.derivation import Derivation
from symbackprop.network import Network
from symbackprop.network.graph import Graph
from symbackprop.numbers.kinks import Kink
from symbackprop.numbers.training import TrainingResult
from symbackprop.printers import PRINTERS, printer
from symbackprop.printers.html import html_fragment
from symbackprop.printers.plot import FORMATS as PLOT_FORMATS, loss_curve
from symbackprop.printers.tutor import tutor_html
from symbackprop.solution import (
    WorkedSolution, derivation_summary, gradient_report, reproduction_report, training_report, verdict_report,
)
from symbackprop.solution.grading import grading_report
from symbackprop.solution.tutor import TutorPage


class _Displayed:
    """One contract for every result: its `record`, built by the solution stage, printed by the printers in
    any of their formats, and shown in a notebook as the HTML printer's fragment (MathML, no MathJax)."""

    formats: tuple[str, ...] = tuple(sorted(PRINTERS))

    @property
    def record(self) -> WorkedSolution:
        raise NotImplementedError

    def render(self, fmt: str = "text", *, ascii: bool = False, width: int | None = 80) -> str:
        """`fmt`: one of `formats`; `ascii`: plain ASCII text instead of Unicode math (for the text format);
        `width`: the text format's lines broken at that many columns (None: never)."""
        return self._printer(fmt, ascii, width).doprint(self.record)

    def _printer(self, fmt: str, ascii: bool, width: int | None):
        """The printer for these arguments, each checked."""
        width = None if width is None else whole("width", width, MIN_WIDTH, MAX_WIDTH)
        return printer(choice("fmt", fmt, self.formats), ascii=flag("ascii", ascii), width=width)

    def __str__(self) -> str:
        return self.render("text")

    def _repr_html_(self) -> str:
        return html_fragment(self.record)


@dataclass(frozen=True, eq=False)
class Solution(_Displayed):
    solution: WorkedSolution

    @property
    def record(self) -> WorkedSolution:
        return self.solution


@dataclass(frozen=True, eq=False)
class Tutor:
    """A tutor page (docs/tutor.md): `.page` its records, `.html()` the self-contained page's text."""

    page: TutorPage

    def html(self) -> str:
        return tutor_html(self.page)


@dataclass(frozen=True, eq=False)
class DerivationView(_Displayed):
    derivation: Derivation

    @cached_property
    def record(self) -> WorkedSolution:
        return derivation_summary(self.derivation)


@dataclass(frozen=True, eq=False)
class Reproduction(_Displayed):
    rows: list[Row]
    source: dict[str, str]
    """Title, author, URL and date of what is reproduced."""

    @cached_property
    def record(self) -> WorkedSolution:
        return reproduction_report(self.rows, self.source)


@dataclass(frozen=True, eq=False)
class CheckResult(_Displayed):
    verdict: Verdict
    written: str

    def __bool__(self) -> bool:
        return self.verdict.correct

    @cached_property
    def record(self) -> WorkedSolution:
        return verdict_report(self.verdict, self.written)


@dataclass(frozen=True, eq=False)
class Grading(_Displayed):
    """A hand solution graded line by line; true when no line is wrong or unreadable."""

    grade: SolutionGrade
    title: str

    def __bool__(self) -> bool:
        return all(line.status not in ("wrong", "unreadable") for line in self.grade.lines)

    @property
    def score(self) -> float:
        """The mean of the graded lines' scores, in [0, 1]."""
        return self.grade.score

    @cached_property
    def record(self) -> WorkedSolution:
        return grading_report(self.grade, self.title)


@dataclass(frozen=True, eq=False)
class GradientReport(_Displayed):
    """E_total and every gradient with both finite-difference checks beside it, and any relu at its kink."""

    derivation: Derivation
    loss: mpmath.mpf
    checks: list[GradientCheck]
    kinks: list[Kink]

    @cached_property
    def record(self) -> WorkedSolution:
        return gradient_report(self.derivation, self.loss, self.checks, self.kinks)


@dataclass(frozen=True, eq=False)
class Training(TrainingResult, _Displayed):
    """A `TrainingResult` that reports itself: the loss every `every` steps, the final parameters and outputs."""

    trained: Callable[[], Network | Graph] = field(repr=False)
    """What was trained (`network`), made when first asked."""
    every: int
    """The report's interval; `history` may hold more steps (for a loss curve), never fewer."""
    optimizer: str = "sgd"
    """The optimizer's kind."""

    @classmethod
    def of(cls, result: TrainingResult, network: Network | Graph | Callable[[], Graph], every: int,
           optimizer: str = "sgd") -> Training:
        """`result` reporting itself; `network` may be a function making the graph when a report first needs it (a
        layer spec's fast path trains its parameters unnamed: naming thousands costs more than the step)."""
        trained = network if callable(network) else lambda: network
        return cls(**{f.name: getattr(result, f.name) for f in fields(TrainingResult)}, trained=trained, every=every,
                   optimizer=optimizer)

    @cached_property
    def network(self) -> Network | Graph:
        """What was trained: a layered network, or a computation graph."""
        return self.trained()

    @property
    def record(self) -> WorkedSolution:
        """The report with numbers to 9 decimals, as `solve` shows them."""
        return self.report()

    def report(self, decimals: int = 9) -> WorkedSolution:
        """The report with numbers to `decimals` decimals; its JSON keeps every digit."""
        return training_report(self, self.every, self.network, whole("decimals", decimals, 0, MAX_DECIMALS),
                               self.optimizer)

    def render(self, fmt: str = "text", *, ascii: bool = False, width: int | None = 80, decimals: int = 9) -> str:
        """As every result renders, with the text's numbers to `decimals` decimals."""
        return self._printer(fmt, ascii, width).doprint(self.report(decimals))

    def curve(self, fmt: str = "svg") -> bytes:
        """The loss curve over every recorded step, as an SVG or PNG file's bytes (needs matplotlib)."""
        return loss_curve(self, choice("fmt", fmt, PLOT_FORMATS))
