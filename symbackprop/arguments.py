"""Checks of the API's arguments: a wrong type or value is an `InputError` naming the argument.

The public functions validate here, before any work, so a caller never sees a bare
TypeError, KeyError or ValueError from deep inside the engine.
"""

from __future__ import annotations

import math
from collections.abc import Collection

from symbackprop.errors import InputError
from symbackprop.spec.load import optimizer_spec
from symbackprop.spec.model import OptimizerSpec
from symbackprop.spec.vocabulary import OPTIMIZERS

MAX_DECIMALS = 50
"""The most decimals shown or carried by hand: the engine's own precision."""
MAX_STEPS = 10_000_000
"""The most training steps in one call (the CLI's bound too)."""
MIN_WIDTH, MAX_WIDTH = 20, 10_000
"""The columns text may be broken at (the CLI's --width too; 0 there, None here: never)."""
CURVE_POINTS = 1000
"""About how many steps a training run records for a loss curve."""
MAX_WORKED_STEPS = 100
"""The most optimizer steps a worked solution works out line by line."""


def whole(argument: str, value: object, low: int, high: int | None = None) -> int:
    """`value` as a whole number from `low` to `high` (no bool, no float)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{argument}: expected a whole number, got {_shown(value)}")
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise InputError(f"{argument}: expected a whole number {bound}, got {value}")
    return value


def choice(argument: str, value: object, choices: Collection[str]) -> str:
    """`value`, one of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise InputError(f"{argument}: expected one of {', '.join(choices)}, got {_shown(value)}")
    return value


def text(argument: str, value: object) -> str:
    """`value` as a string."""
    if not isinstance(value, str):
        raise InputError(f"{argument}: expected a string, got {_shown(value)}")
    return value


def flag(argument: str, value: object) -> bool:
    """`value` as True or False."""
    if not isinstance(value, bool):
        raise InputError(f"{argument}: expected True or False, got {_shown(value)}")
    return value


def training_steps(steps: object, every: object, curve: object, progress: object) -> tuple[int, int, int]:
    """`train`'s shared arguments checked: the steps, the report's interval (default: a tenth of the steps),
    and the interval to record at (finer with `curve`, for about `CURVE_POINTS` points of a loss curve)."""
    steps = whole("steps", steps, 1, MAX_STEPS)
    every = max(steps // 10, 1) if every is None else whole("every", every, 1)
    recorded = math.gcd(every, max(steps // CURVE_POINTS, 1)) if flag("curve", curve) else every
    if progress is not None and not callable(progress):
        raise InputError(f"progress: expected a function of the steps done, got {type(progress).__name__}")
    return steps, every, recorded


def training_backend(backend: object, fast: object, backends: Collection[str]) -> str:
    """`backend` if given (one of `backends`), else "math" with `fast`, else "mpmath"."""
    if backend is None:
        return "math" if flag("fast", fast) else "mpmath"
    backend = choice("backend", backend, backends)
    if flag("fast", fast) and backend != "math":
        raise InputError(f"fast: fast=True means backend 'math', not {backend!r}; give one of them")
    return backend


def optimizer_choice(own: OptimizerSpec, kind: object) -> OptimizerSpec:
    """The spec's optimizer `own`, or the one `kind` names: with `own`'s settings if it is `own`'s kind, else
    with the defaults."""
    if kind is None or kind == own.kind:
        return own
    return optimizer_spec(choice("optimizer", kind, tuple(OPTIMIZERS)), "optimizer")


def _shown(value: object) -> str:
    """A short description of a wrong value: its repr for small ones, else its type."""
    shown = repr(value)
    return shown if len(shown) <= 40 else type(value).__name__
