"""The Unicode notation of formulas for a terminal: sub- and superscript characters, Greek letters.

One table for both directions, so the text printer writes only what the formula reader
reads back: w_5 is w₅, x^2 is x², eta is η, out_o1[2] (a batch's second sample) is out_o1⁽²⁾.
Unicode has subscript forms for only some letters (none for b, c, d, f, g, q, w, y, z).
"""

from __future__ import annotations

SUBSCRIPTS = dict(zip("0123456789aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
"""Digits and the letters that have a subscript form: w₅, and outₒ₁ as a reader may type it."""
SUPERSCRIPTS = dict(zip("0123456789+-()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾"))
"""Digits and signs for exponents (x², x⁻¹), parentheses for a sample of a batch (out⁽²⁾)."""
GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
         "lambda": "λ", "mu": "μ"}
"""Greek names as letters: the ones the reader knows as names (sigma is the logistic function there)."""
_PLAIN = {form: ascii for table in (SUBSCRIPTS, SUPERSCRIPTS) for ascii, form in table.items()}


def subscript(text: str) -> str:
    """'15' -> '₁₅'; every character must have a subscript form."""
    return "".join(SUBSCRIPTS[char] for char in text)


def superscript(text: str) -> str:
    """'2-1' -> '²⁻¹', '(2)' -> '⁽²⁾'; every character must have a superscript form."""
    return "".join(SUPERSCRIPTS[char] for char in text)


def plain(text: str) -> str:
    """Sub- and superscript characters back to ASCII, one for one: 'ₕ₁' -> 'h1', '⁻¹' -> '-1'."""
    return "".join(_PLAIN.get(char, char) for char in text)
