"""How many digits the exact path carries, and how many of them are trusted when shown."""

PRECISION = 50
"""Significant decimal digits of every high-precision evaluation."""

TRUSTED_DIGITS = PRECISION - 5
"""Digits kept when a value becomes a decimal: the last few carry binary rounding noise, so that
an exact tie such as 0.0000000005 (stored as 0.000000000499999...) still rounds as the tie it is."""
