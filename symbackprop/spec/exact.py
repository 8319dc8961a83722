"""Numbers from a spec, read exactly: the decimal text "0.1" becomes 1/10, never a float.

`number` validates a number and keeps it as read (a float or an int as it is, anything else as the Decimal it
spells), so that a large spec is checked quickly and its exact `Rational`s (`rational`) are made only when the
exact path asks; `exact_number` does both.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from sympy import Integer, Rational

from symbackprop.errors import InputError


MAX_DIGITS = 100
"""Numbers with more digits, or a larger decimal exponent, are refused: they are typing mistakes,
and turning 1e99999999 into an exact rational would take minutes."""

DECIMAL_SYNTAX = re.compile(r"[+-]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|inf|infinity|nan)\Z",
                            re.ASCII | re.IGNORECASE)
"""The numbers a string may spell: ASCII decimals, optionally in scientific notation (1.5e-3); NaN and
Infinity pass here to be refused as not finite. Python's Decimal would also take 0.1_5 and full-width
or Arabic-Indic digits."""

_TOO_LARGE = f"{{field}}: expected at most {MAX_DIGITS} digits and a magnitude between 1e-{MAX_DIGITS} and 1e{MAX_DIGITS}"

_SMALLEST, _BEYOND = float(f"1e-{MAX_DIGITS}"), float(f"1e{MAX_DIGITS + 1}")
"""A nonzero float is accepted at once when _SMALLEST <= |x| < _BEYOND: exactly when its shortest decimal (the one
`exact_number` reads, at most 17 digits) has an exponent within ±MAX_DIGITS, since rounding to the nearest double
keeps order and these are the doubles nearest 10^-100 and 10^101. NaN fails both comparisons."""
_WHOLE = 10 ** MAX_DIGITS
"""An int is accepted at once when |n| < 10^100: at most MAX_DIGITS digits."""

Read = float | int | Decimal
"""A validated number as read: a float or an int as given, anything else as the Decimal it spells."""


def number(value: object, field: str) -> Read:
    """`value` (a JSON/TOML number, read as Decimal or int, a float, or a decimal string) validated as
    `exact_number` validates it, and kept as read."""
    return value if plain_numbers((value,)) else _decimal(value, field)


def plain_numbers(values: Sequence[object]) -> bool:
    """Whether every value is a float or an int that `number` keeps as it is, checked with a few comparisons each:
    the common case of a large spec, whose numbers then need no other check."""
    for value in values:
        kind = type(value)
        if kind is float:
            if not (_SMALLEST <= abs(value) < _BEYOND or value == 0):
                return False
        elif kind is not int or not -_WHOLE < value < _WHOLE:
            return False
    return True


def rational(value: Read) -> Rational:
    """A validated number's exact value (a float's is its shortest decimal, as `repr` writes it: 0.1 is 1/10)."""
    if type(value) is int:
        return Integer(value)
    if type(value) is float:
        value = Decimal(float.__repr__(value))
    fraction = Fraction(value)
    return Rational(fraction.numerator, fraction.denominator)


def exact_number(value: object, field: str) -> Rational:
    """A JSON/TOML number (already read as Decimal or int) or a decimal string, as a Rational."""
    return rational(number(value, field))


def _decimal(value: object, field: str) -> Decimal:
    """A number `number` does not accept at once, as a Decimal, or the one line saying why it is refused."""
    if isinstance(value, bool):
        raise InputError(f"{field}: expected a number, got {str(value).lower()}")
    if value is None:
        raise InputError(f"{field}: expected a number, got null")
    if isinstance(value, numbers.Integral):  # int, numpy's int64
        value = Decimal(int(value))
    if isinstance(value, str):
        if not DECIMAL_SYNTAX.match(value.strip()):
            raise InputError(f"{field}: expected a number, got {value!r} (ASCII decimals such as 0.15 or 1.5e-3)")
        try:
            value = Decimal(value.strip())
        except InvalidOperation:  # an exponent beyond what Decimal holds
            raise InputError(_TOO_LARGE.format(field=field)) from None
    if isinstance(value, float):  # also numpy's float64, whose repr is np.float64(...): the shortest decimal
        value = Decimal(float.__repr__(float(value)))
    if not isinstance(value, Decimal):
        raise InputError(f"{field}: expected a number, got {type(value).__name__}")
    if not value.is_finite():
        raise InputError(f"{field}: expected a finite number, got {value}")
    if len(value.as_tuple().digits) > MAX_DIGITS or abs(value.adjusted()) > MAX_DIGITS:
        raise InputError(_TOO_LARGE.format(field=field))
    return value
