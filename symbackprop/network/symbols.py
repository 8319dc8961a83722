"""Symbols in the document's notation: i_1, w_5, net_{h1}, out_{o1}, E_{total}, \\delta_{o1}, \\eta.

Every named quantity of a network is a SymPy `Symbol`; a partial derivative of the
backward pass is a `Partial`, a symbol that remembers what it differentiates.
"""

from __future__ import annotations

from sympy import Symbol


def sample_tag(sample: int | None) -> str:
    """'' for a single sample; '[2]' for the second sample of a batch (printed as a superscript (2))."""
    return "" if sample is None else f"[{sample}]"


def input_symbol(index: int, sample: int | None = None) -> Symbol:
    return Symbol(f"i_{index}{sample_tag(sample)}")


def weight_symbol(number: int) -> Symbol:
    return Symbol(f"w_{number}")


def bias_symbol(number: int) -> Symbol:
    return Symbol(f"b_{number}")


def net_symbol(neuron: str, sample: int | None = None) -> Symbol:
    return Symbol(f"net_{neuron}{sample_tag(sample)}")


def out_symbol(neuron: str, sample: int | None = None) -> Symbol:
    return Symbol(f"out_{neuron}{sample_tag(sample)}")


def target_symbol(neuron: str, sample: int | None = None) -> Symbol:
    return Symbol(f"target_{neuron}{sample_tag(sample)}")


def error_symbol(neuron: str, sample: int | None = None) -> Symbol:
    return Symbol(f"E_{neuron}{sample_tag(sample)}")


def delta_symbol(neuron: str, sample: int | None = None) -> Symbol:
    return Symbol(f"delta_{neuron}{sample_tag(sample)}")


def sample_total_symbol(sample: int) -> Symbol:
    """E_total[s]: the loss of one sample of a batch."""
    return Symbol(f"E_total{sample_tag(sample)}")


def sample_share_symbol(sample: int) -> Symbol:
    """E_share[s]: sample s's share of a mean over the batch, (1/N) E_total[s], the only part of E_total
    that depends on that sample's outputs."""
    return Symbol(f"E_share{sample_tag(sample)}")


def updated_symbol(parameter: Symbol) -> Symbol:
    """w_5 -> w_5^+, the parameter after one update."""
    return Symbol(f"{parameter.name}^+")


TOTAL_ERROR = Symbol("E_total")
LEARNING_RATE = Symbol("eta")


class Partial(Symbol):
    """The partial derivative d(of)/d(wrt) as a named intermediate of the backward pass.

    It is a symbol, so formulas can hold it and evaluation can look its value up,
    but it keeps `of` and `wrt` so printers can write \\frac{\\partial of}{\\partial wrt}.
    """

    of: Symbol
    wrt: Symbol

    def __new__(cls, of: Symbol, wrt: Symbol) -> "Partial":
        obj = Symbol.__xnew__(cls, f"d{of.name}/d{wrt.name}")  # uncached: one per connection, never looked up again
        obj.of, obj.wrt = of, wrt
        return obj
