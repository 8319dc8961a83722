"""Rounding for display: half-up, to a number of decimals, as a person rounds by hand; and the rounding
model a written number is judged by.

Values stay exact (or at `PRECISION` digits) inside the engine; these functions only
turn them into the strings people read and compare. A written number is right when the exact value
rounded to the decimals it shows is that number (`how_written`): half-up and half-even agree except
at an exact tie, where either neighbour is accepted (0.345 as 0.34 or 0.35, as software rounding
binary doubles prints it); a number cut off instead (0.08216 for 0.0821670...) is "truncated".
A `HandRounding` rounds intermediates as a person carries them (outputs to 3 decimals, deltas to 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

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


RULES = {"half-up": ROUND_HALF_UP, "half-even": ROUND_HALF_EVEN, "truncated": ROUND_DOWN}
"""How a digit is dropped: half-up (by hand), half-even (a tie to the even neighbour), truncated (cut off)."""


def round_half_up(value: mpmath.mpf | int | float, places: int) -> Decimal:
    """`value` rounded half-up to `places` decimals: 0.0190491185 -> 0.019049119 at 9 places."""
    return round_to(value, places)


def round_to(value: mpmath.mpf | int | float, places: int, rule: str = "half-up") -> Decimal:
    """`value` rounded by `rule` (a key of RULES, or ROUND_HALF_DOWN's name) to `places` decimals."""
    decimal = as_decimal(value)
    with localcontext() as context:
        # Room for every digit the result has: 1e90 to 9 decimals has 100 (quantize refuses to round them).
        context.prec = max(TRUSTED_DIGITS + 10, decimal.adjusted() + places + 2)
        rounded = decimal.quantize(Decimal(1).scaleb(-places), rounding=RULES.get(rule, rule))
    return abs(rounded) if rounded.is_zero() else rounded  # -1e-50 is 0 to any decimals, never "-0"


def significant_places(value: mpmath.mpf | int | float, figures: int) -> int:
    """The decimals that keep `figures` significant figures of `value`: 0.0821670 to 3 figures is 4 decimals."""
    decimal = as_decimal(value)
    return figures - 1 - (decimal.adjusted() if decimal else 0)


@dataclass(frozen=True)
class Rounding:
    """One way to round: to `digits` decimals, or to `digits` significant figures, by `rule`."""

    digits: int
    significant: bool = False
    rule: str = "half-up"

    def places(self, value: mpmath.mpf | int | float) -> int:
        return significant_places(value, self.digits) if self.significant else self.digits

    def apply(self, value: mpmath.mpf) -> mpmath.mpf:
        return mpmath.mpf(str(round_to(value, self.places(value), self.rule)))

    def __str__(self) -> str:
        unit = "significant figure" if self.significant else "decimal"
        text = f"{self.digits} {unit}{'s' if self.digits != 1 else ''}"
        return text + ("" if self.rule == "half-up" else f", {self.rule}")


HAND_KINDS = ("nets", "outputs", "errors", "deltas", "gradients", "updates")
"""The kinds of intermediate a hand rounding may treat differently (net inputs, outputs, the error terms,
deltas and other backward partials, the gradients dE_total/dp, the updated parameters)."""


@dataclass(frozen=True)
class HandRounding:
    """Intermediates rounded as a person carries them: each kind to its own `Rounding`, `rest` for the others
    (None: kept exact)."""

    kinds: tuple[tuple[str, Rounding], ...] = ()
    rest: Rounding | None = None

    def of(self, kind: str) -> Rounding | None:
        return dict(self.kinds).get(kind, self.rest)

    def __str__(self) -> str:
        parts = [f"{kind} to {rounding}" for kind, rounding in self.kinds]
        if self.rest is not None:
            parts.append(f"{'every other intermediate' if parts else 'every intermediate'} to {self.rest}")
        return ", ".join(parts) + ("" if self.rest is not None else ", the rest exact")


def parse_hand_rounding(text: str) -> HandRounding:
    """`3`, `4sf`, `outputs=3,deltas=4`, `all=3sf,rule=truncated`: a `HandRounding`; ValueError naming what is wrong.
    A bare N (or all=N) is every intermediate; Nsf counts significant figures; rule= is half-up (default),
    half-even or truncated, for every rounding given."""
    kinds: dict[str, tuple[int, bool]] = {}
    rule = "half-up"
    for item in text.split(","):
        kind, equals, digits = (part.strip() for part in item.rpartition("="))
        kind = kind if equals else "all"
        if kind == "rule":
            if digits not in RULES:
                raise ValueError(f"rule {digits!r} is none of {', '.join(RULES)}")
            rule = digits
            continue
        if kind not in (*HAND_KINDS, "all"):
            raise ValueError(f"{kind!r} is none of all, {', '.join(HAND_KINDS)}")
        figures = digits.endswith("sf")
        number = digits[:-2] if figures else digits
        if not (number.isascii() and number.isdigit() and int(number) <= 50) or (figures and int(number) == 0):
            raise ValueError(f"{kind}={digits}: expected a whole number of decimals from 0 to 50, or of significant "
                             "figures from 1 to 50 followed by sf")
        kinds[kind] = int(number), figures
    rest = kinds.pop("all", None)
    return HandRounding(tuple((kind, Rounding(*digits, rule)) for kind, digits in kinds.items()),
                        None if rest is None else Rounding(*rest, rule))


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


SCIENTIFIC_BELOW = -6
"""A table's number under 10^-6 in size is written in scientific notation, as Python's g format writes the
tolerances beside it (6.06e-06): written out, it would open with six zeros or more, which a reader counts rather
than reads, fifty of them for a gradient that is zero but for the 50-digit evaluation's noise (-2.88e-51); and at a
table's 15 significant digits the scientific form is then the shorter."""


def tabulated(value: mpmath.mpf, digits: int) -> str:
    """`value` to `digits` significant digits for a table: plain decimals as `significant` writes them, or under
    10^`SCIENTIFIC_BELOW` in size scientific with a signed exponent of two digits at least, as `general` writes
    a double: -2.87696393394324e-51, 1.00000000000000e-07."""
    text = mpmath.nstr(value, digits, min_fixed=SCIENTIFIC_BELOW - 1, max_fixed=PLAIN_EXPONENT, strip_zeros=False)
    mantissa, scientific, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent):+03d}" if scientific else mantissa


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


ROUNDED, TIE, TRUNCATED = "rounded", "a tie, rounded either way", "truncated"
"""How a written number comes from the exact value (`how_written`)."""


def how_written(value: mpmath.mpf, printed: str) -> str | None:
    """ROUNDED when `value` rounded half-up (or half-even) to the decimals `printed` shows is the printed
    number, TIE when `value` is exactly halfway and `printed` is the other neighbour, TRUNCATED when
    `printed` is `value` cut off at its decimals, None when it is none of these."""
    places, written = decimals_of(printed), Decimal(printed)
    if round_to(value, places) == written:
        return ROUNDED
    if round_to(value, places, ROUND_HALF_DOWN) == written:
        return TIE
    if round_to(value, places, "truncated") == written:
        return TRUNCATED
    return None


def rounds_to(value: mpmath.mpf, printed: str) -> bool:
    """Whether `value`, rounded to the decimals `printed` shows, is the printed number (an exact tie either way)."""
    return how_written(value, printed) in (ROUNDED, TIE)


def to_significant(value: mpmath.mpf, digits: int) -> str:
    """`value` rounded half-up to `digits` significant digits in plain decimals, trailing zeros dropped:
    1.9234e-10 -> '0.000000000192' at 3; for quantities of every size side by side (an optimizer's g and g^2)."""
    if not value:
        return "0"
    places = max(digits - 1 - int(mpmath.floor(mpmath.log10(abs(value)))), 0)
    return fixed(value, places)
