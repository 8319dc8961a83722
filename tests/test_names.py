"""Typed names: one record, one key format, read back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st
from sympy import Symbol

from symbackprop.derivation import derive
from symbackprop.network import build_network
from symbackprop.names import Name, name_of, parse_key, symbol
from symbackprop.names import Partial
from symbackprop.spec import load_spec

_words = st.from_regex(r"[A-Za-z]{1,6}", fullmatch=True)
_labels = st.from_regex(r"[A-Za-z0-9]{1,4}", fullmatch=True)
names = st.builds(Name, _words, st.lists(_labels, max_size=3).map(tuple),
                  st.none() | st.integers(1, 999), st.none() | st.integers(0, 999), st.booleans())


@given(names)
def test_every_name_reads_back_from_its_key(name):
    assert parse_key(name.key) == name
    assert name_of(symbol(name)) == name


@pytest.mark.parametrize("key, name", [
    ("w_5", Name("w", ("5",))),
    ("E_total", Name("E", ("total",))),
    ("eta", Name("eta")),
    ("out_o1[2]", Name("out", ("o1",), sample=2)),
    ("w_5^+", Name("w", ("5",), updated=True)),
    ("h_1<3>", Name("h", ("1",), step=3)),
    ("w_1,2", Name("w", ("1", "2"))),
    ("out_o1<0>[2]^+", Name("out", ("o1",), sample=2, step=0, updated=True)),
])
def test_keys_in_the_documents_notation(key, name):
    assert name.key == key and parse_key(key) == name


@pytest.mark.parametrize("key", ["", "w_", "w__5", "5w", "w_5[0]", "w_5[x]", "w_5^", "w_5+", "w 5", "w_5<-1>", "w_h-1"])
def test_what_is_not_a_name_is_refused(key):
    with pytest.raises(ValueError):
        parse_key(key)


@pytest.mark.parametrize("fields", [{"base": "w5"}, {"base": "w", "subscript": ("h 1",)},
                                    {"base": "w", "sample": 0}, {"base": "h", "step": -1}])
def test_a_name_that_has_no_key_cannot_be_made(fields):
    with pytest.raises(ValueError):
        Name(**fields)


@pytest.mark.parametrize("example", ["mazur", "deep", "classifier"])
def test_every_quantity_of_the_examples_has_a_typed_name(example):
    derived = derive(build_network(load_spec(example)))
    lines = [*derived.network.forward_definitions(), *((d.symbol, d.expression) for d in derived.definitions),
             *((u.symbol, u.expression) for u in derived.updates)]
    quantities = {s for quantity, expression in lines for s in expression.free_symbols | {quantity}}
    named = [s for s in quantities if isinstance(s, Symbol) and not isinstance(s, Partial)]
    assert named and all(symbol(name_of(s)) == s for s in named)
