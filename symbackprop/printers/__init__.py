"""Stage 6: printers over the worked-solution records, one per output format."""

from symbackprop.printers.base import SolutionPrinter
from symbackprop.printers.html import HtmlPrinter
from symbackprop.printers.json import JsonPrinter
from symbackprop.printers.latex import LatexPrinter
from symbackprop.printers.markdown import MarkdownPrinter
from symbackprop.printers.text import TextPrinter

PRINTERS: dict[str, type[SolutionPrinter]] = {
    "text": TextPrinter,
    "latex": LatexPrinter,
    "markdown": MarkdownPrinter,
    "json": JsonPrinter,
    "html": HtmlPrinter,
}


def printer(fmt: str, *, ascii: bool = False, width: int | None = None) -> SolutionPrinter:
    """The printer for `fmt` (a key of PRINTERS); `ascii` makes the text format plain ASCII instead
    of Unicode math, and `width` breaks its lines to that many columns (None: lines left whole).
    The other formats are markup, which `ascii` and `width` do not change."""
    return TextPrinter(ascii=ascii, width=width) if fmt == "text" else PRINTERS[fmt]()


__all__ = ["HtmlPrinter", "JsonPrinter", "LatexPrinter", "MarkdownPrinter", "PRINTERS", "SolutionPrinter", "TextPrinter",
           "printer"]
