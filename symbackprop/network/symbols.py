"""Symbols in the document's notation: i_1, w_5, net_{h1}, out_{o1}, E_{total}, \\delta_{o1}, \\eta.

Every named quantity of a network is a SymPy `Symbol`; a partial derivative of the
backward pass is a `Partial` (symbackprop/names.py), a symbol that remembers what it differentiates.
"""

from __future__ import annotations

from sympy import Symbol

from symbackprop.names import Name, name_of, symbol


def _subscript(neuron: str) -> tuple[str, ...]:
    """A neuron's label as subscripts: h1 -> (h1,); h2,1 (neuron 1 of a layer named h2) -> (h2, 1)."""
    return tuple(neuron.split(","))


def input_symbol(index: int, sample: int | None = None) -> Symbol:
    return symbol(Name("i", (str(index),), sample))


def weight_symbol(number: int) -> Symbol:
    return symbol(Name("w", (str(number),)))


def bias_symbol(number: int) -> Symbol:
    return symbol(Name("b", (str(number),)))


def net_symbol(neuron: str, sample: int | None = None) -> Symbol:
    return symbol(Name("net", _subscript(neuron), sample))


def out_symbol(neuron: str, sample: int | None = None) -> Symbol:
    return symbol(Name("out", _subscript(neuron), sample))


def target_symbol(neuron: str, sample: int | None = None) -> Symbol:
    return symbol(Name("target", _subscript(neuron), sample))


def error_symbol(neuron: str, sample: int | None = None) -> Symbol:
    return symbol(Name("E", _subscript(neuron), sample))


def delta_symbol(neuron: str, sample: int | None = None) -> Symbol:
    return symbol(Name("delta", _subscript(neuron), sample))


def sample_total_symbol(sample: int) -> Symbol:
    """E_total[s]: the loss of one sample of a batch."""
    return symbol(Name("E", ("total",), sample))


def sample_share_symbol(sample: int) -> Symbol:
    """E_share[s]: sample s's share of a mean over the batch, (1/N) E_total[s], the only part of E_total
    that depends on that sample's outputs."""
    return symbol(Name("E", ("share",), sample))


def updated_symbol(parameter: Symbol) -> Symbol:
    """w_5 -> w_5^+, the parameter after one update."""
    return symbol(name_of(parameter).after_update())


TOTAL_ERROR = symbol(Name("E", ("total",)))
LEARNING_RATE = symbol(Name("eta"))
PENALTY_STRENGTH = symbol(Name("lambda"))
"""lambda, the weight penalty's strength (regularization)."""
