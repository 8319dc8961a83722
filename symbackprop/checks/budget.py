"""Time budgets for checks of what people type: a formula such as (w_1 + ... + w_8)^50 expands
without end, and a grader on a shared server must get an answer within seconds.

`deadline(seconds)` interrupts the block with `OutOfTime` when its time is up (SIGALRM: SymPy and
mpmath are Python code, so the interruption lands between two bytecodes). Deadlines nest: an inner
one never outlasts the outer, and `OutOfTime.token` says which one expired, so a caller can give up
one part of the work (the symbolic comparison) and still answer from another (the numbers). Outside
the main thread, or without SIGALRM, blocks run unbounded.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from symbackprop.errors import InputError

T = TypeVar("T")

DEFAULT_BUDGET = 10.0
"""Seconds a check may take by default (`check --budget`)."""
MAX_BUDGET = 3600.0
"""The most seconds a check may be given."""


class OutOfTime(Exception):
    """The deadline identified by `token` has passed."""

    def __init__(self, token: object) -> None:
        super().__init__("out of time")
        self.token = token


_active: list[tuple[float, object]] = []
"""(monotonic time, token) of every open deadline, innermost last; the innermost is the earliest."""


def _expired(signum, frame) -> None:
    if _active:
        raise OutOfTime(_active[-1][1])


def _arm() -> None:
    """Set the alarm for the innermost deadline (at once if it has passed)."""
    if _active:
        signal.setitimer(signal.ITIMER_REAL, max(_active[-1][0] - time.monotonic(), 1e-6))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextmanager
def deadline(seconds: float | None) -> Iterator[object]:
    """Run the block for at most `seconds` (None: no limit of its own); yields the token that an
    `OutOfTime` raised for this deadline carries."""
    token = object()
    usable = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    if seconds is None or not usable:
        yield token
        return
    until, owner = time.monotonic() + seconds, token
    if _active and _active[-1][0] <= until:  # the outer deadline comes first: it is the one that expires
        until, owner = _active[-1]
    outermost = not _active
    previous = signal.signal(signal.SIGALRM, _expired) if outermost else None
    _active.append((until, owner))
    _arm()
    try:
        yield token
    finally:
        _active.pop()
        if outermost:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        else:
            _arm()


def remaining() -> float | None:
    """Seconds left before the innermost deadline, or None when none is set."""
    return max(_active[-1][0] - time.monotonic(), 0.0) if _active else None


def within_budget(seconds: float | None, function: Callable[..., T], *arguments: object) -> T:
    """`function(*arguments)`, or `InputError` (exit 2) when it cannot finish within `seconds`."""
    with deadline(seconds) as token:
        try:
            return function(*arguments)
        except OutOfTime as error:
            if error.token is not token:
                raise
    raise InputError(f"budget: cannot decide within the budget of {seconds:g} s; "
                     "a larger budget may, or a smaller formula")


def attempt(share: float, function: Callable[..., T], *arguments: object) -> T | None:
    """`function(*arguments)` within `share` of the time left (no limit when there is no deadline),
    or None when that runs out: for work the answer can do without."""
    left = remaining()
    with deadline(None if left is None else left * share) as token:
        try:
            return function(*arguments)
        except OutOfTime as error:
            if error.token is not token:
                raise
    return None
