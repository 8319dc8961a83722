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

__all__ = ["HtmlPrinter", "JsonPrinter", "LatexPrinter", "MarkdownPrinter", "PRINTERS", "SolutionPrinter", "TextPrinter"]
