"""Typed names of quantities: the one place that builds a name, reads it back and writes it out.

A quantity is a SymPy `Symbol` whose name is a canonical ASCII key; `Name` is that key as a record:

    w_5          Name("w", ("5",))
    net_h1       Name("net", ("h1",))
    out_o1[2]    Name("out", ("o1",), sample=2)          the second sample of a batch, out_o1⁽²⁾
    w_5^+        Name("w", ("5",), updated=True)         after one update, w₅⁺
    h_1<3>       Name("h", ("1",), step=3)               at time step 3, h₁⟨3⟩
    w_1,2        Name("w", ("1", "2"))                   two-index subscripts, w₁,₂
    dE_total/dW_h   PartialName(Name("E", ("total",)), Name("W", ("h",)))   a partial derivative's name

Other modules never split or join these strings: they build a `Name` and call `symbol()`, or
read one back with `name_of(symbol)`; printers/names.py writes a `Name` in each notation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import islice, product

from sympy import Symbol

_WORD = re.compile(r"[A-Za-z]+")
_LABEL = re.compile(r"[A-Za-z0-9]+")
_KEY = re.compile(
    r"(?P<base>[A-Za-z]+)"
    r"(?:_(?P<subscript>[A-Za-z0-9]+(?:,[A-Za-z0-9]+)*))?"
    r"(?:<(?P<step>[0-9]+)>)?"
    r"(?:\[(?P<sample>[1-9][0-9]*)\])?"
    r"(?P<updated>\^\+)?"
)


@dataclass(frozen=True)
class Name:
    """A quantity's name: a base word, subscripts, and the marks a worked solution sets on it."""

    base: str
    subscript: tuple[str, ...] = ()
    sample: int | None = None
    """The sample of a batch (1, 2, ...), written as a superscript (2); None for a single sample."""
    step: int | None = None
    """A time step of an unrolled recurrence (0, 1, ...); None outside one."""
    updated: bool = False
    """The value after one update, written with a superscript +."""

    def __post_init__(self) -> None:
        if not _WORD.fullmatch(self.base):
            raise ValueError(f"a name's base is letters only, not {self.base!r}")
        if not all(_LABEL.fullmatch(label) for label in self.subscript):
            raise ValueError(f"a subscript is letters and digits only, not {self.subscript!r}")
        if self.sample is not None and self.sample < 1:
            raise ValueError(f"samples count from 1, not {self.sample}")
        if self.step is not None and self.step < 0:
            raise ValueError(f"time steps count from 0, not {self.step}")

    @property
    def key(self) -> str:
        """The canonical ASCII key, the SymPy symbol's name: w_5, out_o1[2], w_5^+, h_1<3>, w_1,2."""
        key = self.base + ("_" + ",".join(self.subscript) if self.subscript else "")
        key += f"<{self.step}>" if self.step is not None else ""
        key += f"[{self.sample}]" if self.sample is not None else ""
        return key + ("^+" if self.updated else "")

    def at_sample(self, sample: int | None) -> Name:
        return replace(self, sample=sample)

    def after_update(self) -> Name:
        return replace(self, updated=True)


def symbol(name: Name) -> Symbol:
    """The SymPy symbol of a name."""
    return Symbol(name.key)


@lru_cache(maxsize=4096)
def parse_key(key: str) -> Name:
    """The `Name` of a canonical key; ValueError for a string that is not one."""
    match = _KEY.fullmatch(key)
    if match is None:
        raise ValueError(f"not a quantity's name: {key!r}")
    return Name(
        match["base"],
        tuple(match["subscript"].split(",")) if match["subscript"] else (),
        int(match["sample"]) if match["sample"] else None,
        int(match["step"]) if match["step"] is not None else None,
        bool(match["updated"]),
    )


def name_of(quantity: Symbol) -> Name:
    """The `Name` of a quantity's symbol."""
    return parse_key(quantity.name)


_RUN = re.compile(r"[A-Za-z]*(?=[0-9]+$)")
"""A label's letters before the digits it ends with (w5, Q12, d4111, 11)."""
MAX_READINGS = 256
"""The most other readings of one typed name that are tried."""
_MAX_RUN = 8
"""The longest run of digits cut into indices (a run of n digits can be cut 2^(n-1) ways)."""


def readings(name: Name, *, bracket_is_index: bool = False) -> list[Name]:
    """The names a typed name may also stand for when it names nothing itself, as people write an entry:
    indices run together cut apart (W_11 -> W_1,1; W_Q12 -> W_Q,1,2; W_d4111 -> W_d41,1,1, W_d4,11,1, ...),
    and with `bracket_is_index` (nothing has samples) a bracket read as one more index (x[2] -> x_2).
    The name itself is not among them."""
    written = name
    if bracket_is_index and name.sample is not None:
        name = replace(name, subscript=(*name.subscript, str(name.sample)), sample=None)
    choices = product(*(_cut_label(label) for label in name.subscript))
    found = (replace(name, subscript=tuple(label for part in labels for label in part)) for labels in choices)
    return [other for other in islice(found, MAX_READINGS) if other != written]


def _cut_label(label: str) -> list[tuple[str, ...]]:
    """A label as itself, then as a head (its letters and maybe some digits) and the digits after it cut
    into indices: Q12 -> (Q12,), (Q, 1, 2), (Q, 12), (Q1, 2)."""
    letters = _RUN.match(label)
    if letters is None or len(label) - letters.end() > _MAX_RUN:
        return [(label,)]
    found = [(label,)]
    for cut in range(letters.end(), len(label)):
        head = (label[:cut],) if cut else ()
        found += [head + parts for parts in _cuts(label[cut:])]
    return list(dict.fromkeys(found))


def _cuts(digits: str) -> list[tuple[str, ...]]:
    """Every way to cut a run of digits into whole numbers, none but 0 starting with 0: 111 -> (1, 1, 1),
    (1, 11), (11, 1), (111,)."""
    if not digits:
        return [()]
    return [(digits[:k], *rest) for k in range(1, len(digits) + 1) if k == 1 or digits[0] != "0"
            for rest in _cuts(digits[k:])]


def partial_key(of: str, wrt: str) -> str:
    """The name of the partial derivative of the quantity named `of` by the one named `wrt`: dE_total/dw_5."""
    return f"d{of}/d{wrt}"


@dataclass(frozen=True)
class PartialName:
    """The name of a partial derivative d(of)/d(wrt), for a quantity that is one (the matrix form's dE_total/dW_h)."""

    of: Name
    wrt: Name

    @property
    def key(self) -> str:
        return partial_key(self.of.key, self.wrt.key)


def parse_name(key: str) -> Name | PartialName:
    """The `Name` or `PartialName` of a key; ValueError for a string that is neither."""
    of, slash, wrt = key.partition("/d")
    if slash and of.startswith("d"):
        return PartialName(parse_key(of[1:]), parse_key(wrt))
    return parse_key(key)


class Partial(Symbol):
    """The partial derivative d(of)/d(wrt) as a named intermediate of the backward pass.

    It is a symbol, so formulas can hold it and evaluation can look its value up,
    but it keeps `of` and `wrt` so printers can write \\frac{\\partial of}{\\partial wrt}.
    """

    of: Symbol
    wrt: Symbol

    def __new__(cls, of: Symbol, wrt: Symbol) -> "Partial":
        obj = Symbol.__xnew__(cls, partial_key(of.name, wrt.name))  # uncached: one per connection, never looked up again
        obj.of, obj.wrt = of, wrt
        return obj
