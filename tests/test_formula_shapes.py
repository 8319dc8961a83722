"""Formulas read by their shape (formulas/shapes.py) read exactly as the grammar reads them alone:
the same expression, term for term, or the same error at the same position."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from sympy import Expr, Symbol, srepr

from symbackprop.formulas import FormulaError, read_formula
from symbackprop.formulas import reader, shapes

_WORDS = ["x", "y", "z", "w5", "w05", "n12", "n3", "a", "b", "E", "Etotal", "exp2", "e2", "ln1", "sigmax", "tanhx",
          "dx", "delta", "eta", "x10", "zz9"]
"""Names, and words near the grammar's keywords (exp2, e2 and tanhx are names; dx might start a partial)."""
_OTHERS = ["2", "0.5", ".5", "2.", "1e3", "2E-2", "0", " + ", "+", "-", " - ", "*", " * ", "**", "^", "/", " ",
           "(", ")", "exp(", "tanh(", "sigma(", "ln(", "log(", "sqrt(", "e", "e^", "^+", "+)"]
_pieces = st.lists(st.one_of(st.sampled_from(_WORDS).map(lambda word: ("name", word)),
                             st.sampled_from(_OTHERS).map(lambda text: ("text", text))), min_size=1, max_size=12)


def _tree(expression: Expr) -> tuple | str:
    """The expression node by node, its arguments in their order (srepr writes sums in its own order)."""
    if not expression.args:
        return srepr(expression)
    return (type(expression).__name__, *map(_tree, expression.args))


def _grammar_alone(text: str) -> tuple | str:
    """What the grammar alone makes of `text`: the expression node by node, or the error."""
    try:
        reader._check_brackets(text)
        return _tree(reader._Builder(text, Symbol).build(reader._parse(text, "formula")))
    except FormulaError as error:
        return str(error)


def _read(text: str) -> tuple | str:
    try:
        return _tree(read_formula(text))
    except FormulaError as error:
        return str(error)


@settings(max_examples=400, deadline=None)
@given(pieces=_pieces, renaming=st.permutations(_WORDS))
def test_a_formula_reads_as_the_grammar_reads_it_whether_its_shape_was_read_before_or_not(pieces, renaming):
    rename = dict(zip(_WORDS, renaming))
    first = "".join(text for _, text in pieces)
    second = "".join(rename[text] if kind == "name" else text for kind, text in pieces)
    reader._template.cache_clear()
    assert _read(first) == _grammar_alone(first)
    assert _read(second) == _grammar_alone(second)  # the shape of `first`, read before, with other names


@pytest.mark.parametrize("first, second", [("n5 + n3", "n3 + n5"), ("tanh(a - b)", "tanh(b - a)"),
                                           ("x * y / x", "y * x / y"), ("w5 + w05", "w5 + w5"),
                                           ("exp(n8 * 0.01)", "exp(x * 0.01)"), ("a - b", "b - a")])
def test_names_in_another_order_are_ordered_and_combined_as_sympy_does(first, second):
    reader._template.cache_clear()
    for text in (first, second, first):
        assert _read(text) == _grammar_alone(text)


def test_a_shape_is_read_by_the_grammar_once():
    reader._template.cache_clear()
    for k in range(10, 60):  # n_k sorts before n_(k+1) for each k here: one order, one shape
        read_formula(f"tanh(n{k}) * n{k + 1}")
    assert reader._template.cache_info().misses == 1


@pytest.mark.parametrize("text", ["w_5 + x", r"x \cdot y", "dx + y", "x−y", "x, y"])
def test_a_formula_that_is_not_plain_has_no_shape(text):
    assert shapes.split(text, reader._KEYWORDS) is None


def test_the_words_the_grammar_does_not_read_as_names_are_the_keywords():
    """Every word of the grammar's file read alone: a name unless it is a keyword (a function added to
    the grammar but not to the reader's functions would make this fail)."""
    words = set(re.findall(r"[A-Za-z]+", (Path(reader.__file__).with_name("grammar.lark")).read_text()))
    not_names = {word for word in words if [token.type for token in reader._parser().lex(word)] != ["NAME"]}
    assert not_names - {w for w in not_names if w.startswith("d")} == reader._KEYWORDS & words


def test_stand_ins_sort_as_their_ranks():
    names = [shapes.stand_in(rank) for rank in (0, 1, 25, 26, 27, 700, shapes.MAX_NAMES - 1)]
    assert names == sorted(names) and len(set(names)) == len(names)
    assert not any(name.startswith("d") or name in reader._KEYWORDS for name in names)
