"""Rounding for display: half-up, to a number of decimals, as a person rounds by hand.

Values stay exact (or at `PRECISION` digits) inside the engine; these functions only
turn them into the strings people read and compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, localcontext

import mpmath
from sympy import Symbol

from symbackprop.numbers.precision import TRUSTED_DIGITS

DIGITS = 20
"""Significant digits of a number that a report or JSON gives in full: the one such constant."""


def as_decimal(value: mpmath.mpf | int | float) -> Decimal:
    """A high-precision value as a Decimal with the digits it can be trusted to."""
    if isinstance(value, mpmath.mpf):
        return Decimal(mpmath.nstr(value, TRUSTED_DIGITS, min_fixed=-mpmath.inf, max_fixed=mpmath.inf))
    return Decimal(value)


def round_half_up(value: mpmath.mpf | int | float, places: int) -> Decimal:
    """`value` rounded half-up to `places` decimals: 0.0190491185 -> 0.019049119 at 9 places."""
    decimal = as_decimal(value)
    with localcontext() as context:
        # Room for every digit the result has: 1e90 to 9 decimals has 100 (quantize refuses to round them).
        context.prec = max(TRUSTED_DIGITS + 10, decimal.adjusted() + places + 2)
        return decimal.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fixed(value: mpmath.mpf | int | float, places: int) -> str:
    """`value` rounded to `places` decimals, trailing zeros dropped: 0.751365070 -> '0.75136507'."""
    text = format(round_half_up(value, places), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def display_numerals(values: Mapping[Symbol, mpmath.mpf], places: int) -> dict[Symbol, str]:
    """Every value as the numeral a worked solution shows, `fixed` to `places` decimals."""
    return {symbol: fixed(value, places) for symbol, value in values.items()}


PLAIN_EXPONENT = 1000
"""Beyond 10^1000 (or below 10^-1000) `significant` writes 1.5e+4000: the value of a formula such as
e^(10^300 w_5) has more digits than any memory holds."""


def significant(value: mpmath.mpf, digits: int = DIGITS) -> str:
    """`value` with `digits` significant digits in plain decimal notation, for JSON."""
    return mpmath.nstr(value, digits, min_fixed=-PLAIN_EXPONENT, max_fixed=PLAIN_EXPONENT, strip_zeros=False)


def full(value: mpmath.mpf | float) -> str:
    """Every digit worth keeping: `DIGITS` significant digits from the exact path, all of a double's
    (its shortest repr) from a double-precision one."""
    return repr(value) if isinstance(value, float) else significant(value)


def general(value: float, digits: int) -> str:
    """A double to `digits` significant digits as Python's g format writes it: 6.06e-06, 0.0821670405642308."""
    return format(value, f".{digits}g")


def brief(value: mpmath.mpf, digits: int) -> str:
    """`value` to `digits` significant digits, trailing zeros dropped: a relative distance, 0.00036."""
    return mpmath.nstr(value, digits)


def decimals_of(printed: str) -> int:
    """How many decimals a printed number shows: '0.0000351085' -> 10, '0.40' -> 2, and in scientific
    notation '8.2167041e-2' -> 9, '1E-1' -> 1, '5e3' -> 0."""
    return max(-Decimal(printed).as_tuple().exponent, 0)


def rounds_to(value: mpmath.mpf, printed: str) -> bool:
    """Whether `value`, rounded half-up to the decimals `printed` shows, is the printed number."""
    return round_half_up(value, decimals_of(printed)) == Decimal(printed)


def to_significant(value: mpmath.mpf, digits: int) -> str:
    """`value` rounded half-up to `digits` significant digits in plain decimals, trailing zeros dropped:
    1.9234e-10 -> '0.000000000192' at 3; for quantities of every size side by side (an optimizer's g and g^2)."""
    if not value:
        return "0"
    places = max(digits - 1 - int(mpmath.floor(mpmath.log10(abs(value)))), 0)
    return fixed(value, places)
