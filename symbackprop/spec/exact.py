"""Numbers from a spec, read exactly: the decimal text "0.1" becomes 1/10, never a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from sympy import Rational

from symbackprop.errors import InputError


def exact_number(value: object, field: str) -> Rational:
    """A JSON/TOML number (already read as Decimal or int) or a decimal string, as a Rational."""
    if isinstance(value, bool):
        raise InputError(f"{field}: expected a number, got {str(value).lower()}")
    if isinstance(value, int):
        return Rational(value)
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
    fraction = Fraction(value)
    return Rational(fraction.numerator, fraction.denominator)
