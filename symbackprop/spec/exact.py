"""Numbers from a spec, read exactly: the decimal text "0.1" becomes 1/10, never a float."""

from __future__ import annotations

import numbers
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from sympy import Rational

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


def exact_number(value: object, field: str) -> Rational:
    """A JSON/TOML number (already read as Decimal or int) or a decimal string, as a Rational."""
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
    fraction = Fraction(value)
    return Rational(fraction.numerator, fraction.denominator)
