"""Numbers from a spec, read exactly: the decimal text "0.1" becomes 1/10, never a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from sympy import Rational

from symbackprop.errors import InputError


MAX_DIGITS = 100
"""Numbers with more digits, or a larger decimal exponent, are refused: they are typing mistakes,
and turning 1e99999999 into an exact rational would take minutes."""


def exact_number(value: object, field: str) -> Rational:
    """A JSON/TOML number (already read as Decimal or int) or a decimal string, as a Rational."""
    if isinstance(value, bool):
        raise InputError(f"{field}: expected a number, got {str(value).lower()}")
    if value is None:
        raise InputError(f"{field}: expected a number, got null")
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise InputError(f"{field}: expected a number, got {value!r}") from None
    if isinstance(value, float):
        value = Decimal(repr(value))
    if not isinstance(value, Decimal):
        raise InputError(f"{field}: expected a number, got {type(value).__name__}")
    if not value.is_finite():
        raise InputError(f"{field}: expected a finite number, got {value}")
    if len(value.as_tuple().digits) > MAX_DIGITS or abs(value.adjusted()) > MAX_DIGITS:
        raise InputError(f"{field}: expected at most {MAX_DIGITS} digits and a magnitude between "
                         f"1e-{MAX_DIGITS} and 1e{MAX_DIGITS}")
    fraction = Fraction(value)
    return Rational(fraction.numerator, fraction.denominator)
