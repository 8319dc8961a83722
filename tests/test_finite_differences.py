"""Every gradient against finite differences, and proof that the check fails when a gradient is wrong."""

from __future__ import annotations

from dataclasses import replace

import mpmath
import pytest
from sympy import Integer

from symbackprop.checks.finite_differences import REQUIRED_DIGITS, check_gradients, require
from symbackprop.derivation import Definition
from symbackprop.errors import CheckFailure


@pytest.fixture(scope="module")
def checks(mazur):
    return check_gradients(mazur)


def test_every_parameter_is_checked(mazur, checks):
    assert [c.parameter for c in checks] == [p.name for p in mazur.network.parameters]


def test_double_differences_agree_within_the_stated_tolerance(checks):
    for check in checks:
        assert check.double_error <= check.double_tolerance, check
        assert 0 < check.double_step < 1e-4


def test_high_precision_differences_agree_to_twenty_digits(checks):
    for check in checks:
        assert check.agreeing_digits >= REQUIRED_DIGITS, check
    require(checks)


def test_a_wrong_value_fails_loudly_with_both_numbers(checks):
    wrong = replace(checks[4], symbolic=checks[4].symbolic * (1 + mpmath.mpf(10) ** -12))
    with pytest.raises(CheckFailure) as failure:
        require([checks[0], wrong])
    message = str(failure.value)
    assert "w5" in message and "w1:" not in message
    assert mpmath.nstr(wrong.symbolic, 25) in message and mpmath.nstr(wrong.high, 25) in message


def test_a_wrong_derivation_is_caught(mazur):
    symbol = mazur.gradient("w5").symbol
    broken = tuple(Definition(d.symbol, d.expression * Integer(2), d.layer) if d.symbol == symbol else d
                   for d in mazur.definitions)
    checks = check_gradients(replace(mazur, definitions=broken))
    failed = [c.parameter for c in checks if not c.passed]
    assert failed == ["w5"]
    with pytest.raises(CheckFailure):
        require(checks)
