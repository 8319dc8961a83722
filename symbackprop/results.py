"""What the API returns for people to read: each result renders to a format and displays itself in Jupyter.

`.render(format)` gives text in Unicode math or, with `ascii=True`, plain ASCII, or markup; the raw
engine records stay available as attributes (`.solution`, `.derivation`, `.rows`, `.verdict`, ...).
An unknown format is an `InputError` naming the formats that exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import mpmath

from symbackprop.arguments import MAX_DECIMALS, MAX_WIDTH, MIN_WIDTH, choice, flag, whole
from symbackprop.checks.document import Row
from symbackprop.checks.finite_differences import GradientCheck
from symbackprop.checks.verify import Verdict
from symbackprop.derivation import Derivation
from symbackprop.network import Network
from symbackprop.numbers.kinks import Kink
from symbackprop.numbers.training import TrainingResult
from symbackprop.printers import PRINTERS, printer
from symbackprop.printers.html import html_fragment, text_fragment
from symbackprop.printers.plot import FORMATS as PLOT_FORMATS, loss_curve
from symbackprop.printers.report import gradients_json, gradients_text, training_json, training_text
from symbackprop.printers.reproduction import reproduction_json, reproduction_table
from symbackprop.printers.verdict import verdict_json, verdict_text
from symbackprop.solution import WorkedSolution, derivation_summary

REPORT_FORMATS = ("text", "json")
"""What a report (gradients, training, a check's verdict) renders to; markdown shows the text."""


class _Displayed:
    """Renders to any of `formats`; shows itself as rendered math in a notebook."""

    formats: tuple[str, ...] = tuple(sorted(PRINTERS))

    def render(self, fmt: str = "text", *, ascii: bool = False, width: int | None = 80) -> str:
        """`fmt`: one of `formats`; `ascii`: plain ASCII text instead of Unicode math (for the text format);
        `width`: a worked solution's or report's text lines broken at that many columns (None: never)."""
        width = None if width is None else whole("width", width, MIN_WIDTH, MAX_WIDTH)
        return self._render(choice("fmt", fmt, self.formats), flag("ascii", ascii), width)

    def _render(self, fmt: str, ascii: bool, width: int | None) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.render("text")

    def _repr_html_(self) -> str:
        """Every result displays one way in Jupyter: a fragment of HTML with a style scoped to it,
        here the Unicode text; results with formulas show them as MathML (no MathJax, no network)."""
        return text_fragment(self.render("text"))


class _Report(_Displayed):
    """A report with no markup of its own: text or JSON, shown in a notebook as preformatted text."""

    formats = REPORT_FORMATS


class _Worked(_Displayed):
    """A worked solution or a derivation: records the printers lay out, text broken at `width` columns."""

    def _render(self, fmt: str, ascii: bool, width: int | None) -> str:
        return printer(fmt, ascii=ascii, width=width).doprint(self.record())

    def record(self) -> WorkedSolution:
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return html_fragment(self.record())


@dataclass(frozen=True, eq=False)
class Solution(_Worked):
    solution: WorkedSolution

    def record(self) -> WorkedSolution:
        return self.solution


@dataclass(frozen=True, eq=False)
class DerivationView(_Worked):
    derivation: Derivation

    def record(self) -> WorkedSolution:
        return derivation_summary(self.derivation)


@dataclass(frozen=True, eq=False)
class Reproduction(_Displayed):
    rows: list[Row]
    title: str
    formats = ("text", "markdown", "json")

    def _render(self, fmt: str, ascii: bool, width: int | None) -> str:
        """text or markdown (a table), or json; not broken at `width` yet."""
        if fmt == "json":
            return reproduction_json(self.rows)
        return reproduction_table(self.rows, self.title, fmt, ascii=ascii)


@dataclass(frozen=True, eq=False)
class CheckResult(_Report):
    verdict: Verdict
    written: str

    def __bool__(self) -> bool:
        return self.verdict.correct

    def _render(self, fmt: str, ascii: bool, width: int | None) -> str:
        """The verdict's text is not broken at `width` yet."""
        if fmt == "json":
            return verdict_json(self.verdict, self.written)
        return verdict_text(self.verdict, self.written, ascii=ascii)


@dataclass(frozen=True, eq=False)
class GradientReport(_Report):
    """E_total and every gradient with both finite-difference checks beside it, and any relu at its kink."""

    derivation: Derivation
    loss: mpmath.mpf
    checks: list[GradientCheck]
    kinks: list[Kink]

    def _render(self, fmt: str, ascii: bool, width: int | None) -> str:
        if fmt == "json":
            return gradients_json(self.loss, self.checks, self.kinks)
        return gradients_text(self.derivation, self.loss, self.checks, self.kinks, ascii=ascii, width=width)


@dataclass(frozen=True, eq=False)
class Training(TrainingResult, _Report):
    """A `TrainingResult` that reports itself: the loss every `every` steps, the final parameters and outputs."""

    network: Network = field(repr=False)
    every: int
    """The report's interval; `history` may hold more steps (for a loss curve), never fewer."""

    @classmethod
    def of(cls, result: TrainingResult, network: Network, every: int) -> Training:
        return cls(**{f.name: getattr(result, f.name) for f in fields(TrainingResult)}, network=network, every=every)

    def render(self, fmt: str = "text", *, ascii: bool = False, decimals: int = 9) -> str:
        """text: names as `solve` writes them, numbers to `decimals` decimals; json: every digit."""
        fmt, ascii = choice("fmt", fmt, self.formats), flag("ascii", ascii)
        decimals = whole("decimals", decimals, 0, MAX_DECIMALS)
        if fmt == "json":
            return training_json(self, self.every, [symbol.name for symbol in self.network.outputs])
        return training_text(self, self.every, self.network, decimals=decimals, ascii=ascii)

    def curve(self, fmt: str = "svg") -> bytes:
        """The loss curve over every recorded step, as an SVG or PNG file's bytes (needs matplotlib)."""
        return loss_curve(self, choice("fmt", fmt, PLOT_FORMATS))
