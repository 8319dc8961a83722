"""The network's expressions in forms that cannot overflow in double precision.

The exact path evaluates the derivation's expressions as they are: mpmath's exponent is unbounded.
Doubles are not: e^1000 overflows, and the softmax e^1000 / (e^1000 + e^0) becomes inf / inf. Before
double-precision code is generated, each expression is rewritten into the equal form numerical
libraries use (the same value, in exact arithmetic):

- softmax: e^(a - m) / sum_k e^(x_k - m) with m = max_k x_k (the shifted softmax);
- softplus: ln(1 + e^x) = max(x, 0) + log1p(e^(-|x|));
- a product c ln(x) or c / x with c = 0 (a target of 0 in a cross-entropy): 0, not 0 * (-inf) or 0 / 0.

What is still not finite after that (ln(out) for a target of 1 at an out that rounds to 0) is caught
by the caller (`require_finite`, `finite_doubles`), which says so in one line. The numpy path
(`numbers.matrix`) prints the same forms for its matrices.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import mpmath
from sympy import Abs, Add, Eq, Expr, Max, Min, Mul, Piecewise, Pow, S, Symbol, exp, log
from sympy.codegen.cfunctions import log1p

from symbackprop.errors import CheckFailure


class NotFinite(CheckFailure):
    """Double precision cannot represent a value the exact path can: say so instead of printing nan."""


def stable_definitions(definitions: Iterable[tuple[Symbol, Expr]]) -> list[tuple[Symbol, Expr]]:
    """Every definition with its expression in the stable forms above."""
    return [(symbol, stable(expression)) for symbol, expression in definitions]


def stable(expr: Expr) -> Expr:
    """`expr` with every softmax, softplus and c ln(x) rewritten (bottom-up)."""
    if not expr.args or isinstance(expr, Symbol):
        return expr
    args = [stable(a) for a in expr.args]
    if isinstance(expr, Mul):
        return _softmax(args) or _times_log(args) or Mul(*args, evaluate=False)
    if isinstance(expr, log):
        return _softplus(args[0]) or log(args[0], evaluate=False)
    # |u|, max and min unevaluated too: SymPy would turn |e^u| into e^{re(u)}.
    return expr.func(*args, evaluate=False) if isinstance(expr, (Add, Pow, Abs, Max, Min)) else expr.func(*args)


def _softmax(factors: list[Expr]) -> Expr | None:
    """e^a (e^x1 + ... + e^xn)^-1 -> e^(a - m) (e^(x1 - m) + ... + e^(xn - m))^-1, m = max(x1, ..., xn)."""
    if len(factors) != 2:
        return None
    numerator, denominator = factors
    if not (isinstance(numerator, exp) and isinstance(denominator, Pow) and denominator.exp == -1
            and isinstance(denominator.base, Add) and all(isinstance(t, exp) for t in denominator.base.args)):
        return None
    exponents = [t.args[0] for t in denominator.base.args]
    shift = Max(*exponents)
    shifted = Add(*(exp(x - shift, evaluate=False) for x in exponents), evaluate=False)
    return Mul(exp(numerator.args[0] - shift, evaluate=False), Pow(shifted, -1, evaluate=False), evaluate=False)


def _softplus(argument: Expr) -> Expr | None:
    """ln(1 + e^x) -> max(x, 0) + log1p(e^(-|x|))."""
    if not (isinstance(argument, Add) and len(argument.args) == 2 and S.One in argument.args):
        return None
    other = next(a for a in argument.args if a is not S.One)
    if not isinstance(other, exp):
        return None
    x = other.args[0]
    return Add(Max(x, 0), log1p(exp(-Abs(x), evaluate=False)), evaluate=False)


def _times_log(factors: list[Expr]) -> Expr | None:
    """c ln(x) or c / x -> 0 where c = 0, else as it was: a target of 0 takes no log of 0 and does not
    divide by an out of 0 (0 * (-inf) and 0 / 0 would be nan)."""
    unbounded = [f for f in factors if isinstance(f, log) or (isinstance(f, Pow) and f.exp == -1)]
    rest = [f for f in factors if f not in unbounded]
    if not unbounded or not rest or all(f.is_number for f in rest):
        return None
    coefficient = Mul(*rest, evaluate=False) if len(rest) > 1 else rest[0]
    return Piecewise((S.Zero, Eq(coefficient, 0)), (Mul(*factors, evaluate=False), True))


def safe_exp(x: float) -> float:
    """math.exp, but inf where it overflows (1 / (1 + e^1000) is then 0, as it should be)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def safe_log(x: float) -> float:
    """math.log, but -inf at 0 and nan below (caught afterwards by `require_finite`)."""
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


def double_sign(x: float) -> float:
    """sign(x) as a double: 1.0, -1.0, or 0.0 at 0 (an l1 penalty's derivative at its kink)."""
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


DOUBLE_FUNCTIONS = {"exp": safe_exp, "log": safe_log, "tanh": math.tanh, "log1p": math.log1p, "sign": double_sign}
MPMATH_FUNCTIONS = {"exp": mpmath.exp, "log": mpmath.log, "tanh": mpmath.tanh, "log1p": mpmath.log1p,
                    "sign": mpmath.sign}


def require_finite(values: Iterable[float], what: str) -> None:
    """Raise `NotFinite` (exit 1, one line) when a double-precision result is nan or infinite."""
    if not all(math.isfinite(v) for v in values):
        raise NotFinite(_not_finite(what))


@contextmanager
def finite_doubles(what: str) -> Iterator[None]:
    """Double-precision code that divides by zero or overflows (Python floats raise) says so in one line."""
    try:
        yield
    except (ArithmeticError, ValueError):
        raise NotFinite(_not_finite(what)) from None


def _not_finite(what: str) -> str:
    return (f"{what} is not a finite number in double precision at this point (it overflows or divides by "
            "zero); the exact path (without --fast or --numpy) evaluates it")
