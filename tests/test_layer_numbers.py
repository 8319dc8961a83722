"""A layer spec's numbers, read quickly and exactly (issue #14's first call): `spec.layers.tensor` keeps each number
as read, checked at once when it is a plain float or int, and makes the exact `Rational`s only when asked; the
numpy fast path reads the same numbers as doubles. Every number, good or bad, must read as it did when each was
turned into a `Rational` at once: the same value, or the same one-line refusal naming the same position; and each
double must be float() of that exact value."""

from __future__ import annotations

import json
import numbers
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import Rational

import symbackprop as sbp
from benchmarks.bench_layers import attention_spec, convnet_spec, rnn_spec
from symbackprop.errors import InputError
from symbackprop.layer_problem import LayerProblem
from symbackprop.numbers.fast_blocks import read
from symbackprop.spec.exact import DECIMAL_SYNTAX, MAX_DIGITS
from symbackprop.spec.layers import is_layers_spec, tensor

EXAMPLES = Path(sbp.__file__).parent / "examples"


# --- the reading before numbers were kept as read (commit 8e08424), as the oracle -----------------------------

def _old_exact_number(value: object, field: str) -> Rational:
    too_large = f"{field}: expected at most {MAX_DIGITS} digits and a magnitude between 1e-{MAX_DIGITS} and 1e{MAX_DIGITS}"
    if isinstance(value, bool):
        raise InputError(f"{field}: expected a number, got {str(value).lower()}")
    if value is None:
        raise InputError(f"{field}: expected a number, got null")
    if isinstance(value, numbers.Integral):
        value = Decimal(int(value))
    if isinstance(value, str):
        if not DECIMAL_SYNTAX.match(value.strip()):
            raise InputError(f"{field}: expected a number, got {value!r} (ASCII decimals such as 0.15 or 1.5e-3)")
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise InputError(too_large) from None
    if isinstance(value, float):
        value = Decimal(float.__repr__(float(value)))
    if not isinstance(value, Decimal):
        raise InputError(f"{field}: expected a number, got {type(value).__name__}")
    if not value.is_finite():
        raise InputError(f"{field}: expected a finite number, got {value}")
    if len(value.as_tuple().digits) > MAX_DIGITS or abs(value.adjusted()) > MAX_DIGITS:
        raise InputError(too_large)
    fraction = Fraction(value)
    return Rational(fraction.numerator, fraction.denominator)


def _old_tensor(data, field: str) -> tuple[tuple[int, ...], tuple[Rational, ...]]:
    shape: list[int] = []
    probe = data
    while isinstance(probe, list):
        if not probe:
            raise InputError(f"{field}: expected a non-empty list of numbers")
        shape.append(len(probe))
        probe = probe[0]
    if not shape:
        raise InputError(f"{field}: expected a list of numbers, got {type(data).__name__}")
    entries: list[Rational] = []

    def walk(data, shape, field):
        if not shape:
            if isinstance(data, list):
                raise InputError(f"{field}: expected a number, got a list (the lists are nested unevenly)")
            entries.append(_old_exact_number(data, field))
            return
        if not isinstance(data, list) or len(data) != shape[0]:
            got = f"{len(data)} entries" if isinstance(data, list) else type(data).__name__
            raise InputError(f"{field}: expected a list of {shape[0]} entries (as the first at this depth), got {got}")
        for k, item in enumerate(data):
            walk(item, shape[1:], f"{field}[{k}]")

    walk(data, tuple(shape), field)
    return tuple(shape), tuple(entries)


def _outcome(read, data) -> tuple:
    try:
        return ("read", *read(data))
    except InputError as error:
        return ("refused", str(error))


def _new(data) -> tuple:
    t = tensor(data, "layers[0].weights")
    return t.shape, t.entries


def _old(data) -> tuple:
    return _old_tensor(data, "layers[0].weights")


# --- numbers of every kind ---------------------------------------------------------------------------------

def _near(x: float) -> list[float]:
    return [np.nextafter(x, 0.0).item(), x, np.nextafter(x, np.inf).item()]


EDGES = [value for edge in (1e-100, 1e100, 1e101, 9.999999999999999e100) for x in (edge, -edge) for value in _near(x)]
"""The floats on both sides of the magnitudes the quick check compares with."""

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
    st.floats(min_value=-1.0, max_value=1.0).map(lambda x: round(x, 3)),  # the common case, -0.0 included
    st.sampled_from(EDGES + [-0.0, 0.0, 5e-324]),
    st.integers(min_value=-10 ** 102, max_value=10 ** 102),
    st.sampled_from([10 ** 100, 10 ** 100 - 1, -10 ** 100, 1 - 10 ** 100, 2 ** 53 + 1, 0]),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.from_regex(r"[+-]?[0-9]{1,3}(\.[0-9]{0,120})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.sampled_from(["0.1", " 0.25 ", "-.5", "+3.", "1e99999999999", "1" * 101, "0." + "1" * 99, "0." + "1" * 100,
                     "nan", "-Infinity", "0.1_5", "１", "0x10", ""]),
    st.text(max_size=6),
    st.booleans(), st.none(), st.just([]), st.just({}), st.just(complex(1, 2)), st.just(b"1"),
    st.floats(allow_nan=False).map(np.float64), st.integers(-2 ** 63, 2 ** 63 - 1).map(np.int64),
)

ROWS = st.lists(st.one_of(NUMBERS, st.floats(-1, 1)), min_size=1, max_size=4)
NESTED = st.recursive(NUMBERS, lambda inner: st.lists(inner, min_size=0, max_size=3), max_leaves=10)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ROWS, st.lists(ROWS, min_size=1, max_size=3)))
def test_every_number_reads_as_before_or_is_refused_with_the_same_line(data):
    assert _outcome(_new, data) == _outcome(_old, data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NESTED)
def test_ragged_and_misshapen_lists_are_refused_as_before(data):
    assert _outcome(_new, data) == _outcome(_old, data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NUMBERS, min_size=1, max_size=4))
def test_each_double_is_the_nearest_to_the_exact_number(row):
    """The fast path's doubles (numbers as read, by float()) against the exact reading's Rationals: bit for bit, a
    zero written -0.0 included (the exact 0 is +0.0)."""
    try:
        exact = tensor(row, "inputs")
    except InputError:
        return
    doubles = read(exact)
    assert doubles.tobytes() == np.array([float(r) for r in exact.entries]).tobytes()
    assert doubles.tobytes() == np.array([r.p / r.q for r in exact.entries]).tobytes()


def test_a_row_of_plain_numbers_is_kept_as_read_until_the_exact_path_asks():
    weights = tensor([[0.1, -2, 3e-5], ["0.1", Decimal("0.25"), 7]], "weights")
    assert weights.numbers == (0.1, -2, 3e-5, Decimal("0.1"), Decimal("0.25"), 7)
    assert "entries" not in vars(weights)
    assert weights.entries == (Rational(1, 10), -2, Rational(3, 100000), Rational(1, 10), Rational(1, 4), 7)


# --- the fast path's start: the same values the named parameters hold ----------------------------------------

def _specs() -> list[dict]:
    found = [json.loads(path.read_text(), parse_float=Decimal) for path in sorted(EXAMPLES.glob("*.json"))]
    found = [data for data in found if is_layers_spec(data)]
    small = [convnet_spec(side=6), rnn_spec(steps=3, inputs=2, hidden=3, outputs=2), attention_spec(tokens=4, features=4)]
    small[0]["layers"][4]["weights"][0][:3] = [-0.0, "0.1", 10 ** 20]  # a -0.0, a decimal string, an int
    return found + small


@pytest.mark.parametrize("data", _specs(), ids=lambda data: data.get("name", "?"))
def test_the_fast_start_is_every_named_parameter_as_a_double(data):
    """FastNetwork reads its parameters from the spec's tensors by its layers' keys; they must be the named leaves
    the exact path trains, layer by layer and key by key in the same order, each the double of its exact value."""
    problem = LayerProblem(data)
    start, named = problem.fast_network.start, problem.parameters
    assert [(layer, list(arrays)) for layer, arrays in start.items()] \
        == [(layer, list(grids)) for layer, grids in named.grids.items()]
    for layer, grids in named.grids.items():
        for key, grid in grids.items():
            want = np.array([float(named.graph.values[leaf]) for leaf in grid.entries]).reshape(grid.shape)
            assert start[layer][key].tobytes() == want.tobytes() and start[layer][key].shape == grid.shape, (layer, key)
