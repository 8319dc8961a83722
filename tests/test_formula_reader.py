"""The formula reader: every spelling, exact numbers, partials, errors with positions, limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from sympy import E, Add, Expr, Float, Integer, Pow, Rational, S, Symbol, exp, log, sqrt, tanh

from symbackprop.errors import InputError
from symbackprop.formulas import FormulaError, read_equation, read_formula
from symbackprop.names import Partial

x, y = Symbol("x"), Symbol("y")
w5, w6, i1, b1 = Symbol("w_5"), Symbol("w_6"), Symbol("i_1"), Symbol("b_1")
net_h1, out_h1, out_o1 = Symbol("net_h1"), Symbol("out_h1"), Symbol("out_o1")
target_o1, E_total, E_o1 = Symbol("target_o1"), Symbol("E_total"), Symbol("E_o1")
delta_o1, eta, w5_new = Symbol("delta_o1"), Symbol("eta"), Symbol("w_5^+")


def sigmoid(z: Expr) -> Expr:
    return Pow(Add(1, exp(-z)), -1)


@pytest.mark.parametrize(
    "text, expected",
    [
        # LaTeX names
        (r"w_5", w5),
        (r"w_{5}", w5),
        (r"net_{h1}", net_h1),
        (r"out_{o1}", out_o1),
        (r"E_{total}", E_total),
        (r"E_{\text{total}}", E_total),
        (r"\delta_{o1}", delta_o1),
        (r"\delta_o1", delta_o1),
        (r"\eta", eta),
        (r"target_{o1}", target_o1),
        (r"\text{out}_{o1}", out_o1),
        (r"\mathrm{net}_{h1}", net_h1),
        (r"net_{h2,1}", Symbol("net_h2,1")),
        (r"net_{h2, 1}", Symbol("net_h2,1")),
        (r"w_5^+", w5_new),
        (r"w_{5}^{+}", w5_new),
        (r"w_5^{+}", w5_new),
        # ASCII names
        ("w5", w5),
        ("i1", i1),
        ("b1", b1),
        ("out_o1", out_o1),
        ("net_h1", net_h1),
        ("net_h2,1", Symbol("net_h2,1")),
        ("E_total", E_total),
        ("Etotal", E_total),
        ("E_o1", E_o1),
        ("delta_o1", delta_o1),
        ("eta", eta),
        ("target_o1", target_o1),
        ("w5^+", w5_new),
        ("w5+", w5_new),
    ],
)
def test_every_spelling_of_a_name_reads_as_its_canonical_symbol(text, expected):
    assert read_formula(text) == expected


def test_updated_parameter_in_ascii_before_equals_and_closing_bracket():
    assert read_equation("w5+ = w5 - eta*dE_total/dw5") == [
        w5_new, w5 - eta * Partial(E_total, w5),
    ]
    assert read_formula("2(w5+)") == 2 * w5_new
    assert read_formula("w5 + 1") == w5 + 1  # a "+" with an operand after it is addition


@pytest.mark.parametrize(
    "text, expected",
    [
        (r"out_{o1}(1 - out_{o1})", out_o1 * (1 - out_o1)),
        ("out_o1*(1 - out_o1)", out_o1 * (1 - out_o1)),
        (r"\delta_{o1} w_5", delta_o1 * w5),
        ("2x", 2 * x),
        ("2 x y", 2 * x * y),
        (r"x \cdot y", x * y),
        (r"x \times y", x * y),
        ("x * y / 2", x * y / 2),
        ("a/b c", Symbol("a") / Symbol("b") * Symbol("c")),
        ("x^2", x**2),
        ("x**2", x**2),
        ("x^{y+1}", x ** (y + 1)),
        ("2^3^2", Integer(512)),
        ("-x^2", -(x**2)),
        ("x^-2", x**-2),
        ("- - x", x),
        ("x * -y", -x * y),
        (r"\left( x + 1 \right) y", (x + 1) * y),
        ("[x + 1] {y - 1}", (x + 1) * (y - 1)),
        (r"x \, y \; x \! y \quad x", x**3 * y**2),
        ("e^{x}", exp(x)),
        ("e^x", exp(x)),
        ("e^-x", exp(-x)),
        ("exp(x)", exp(x)),
        (r"\exp(x)", exp(x)),
        (r"\ln(x)", log(x)),
        ("ln x", log(x)),
        (r"\ln x^2 y", log(x**2) * y),
        (r"\ln(x)^2", log(x) ** 2),
        ("log(x)", log(x)),
        (r"\log{\left(x \right)}", log(x)),
        (r"\sigma(x)", sigmoid(x)),
        ("sigma(net_h1)", sigmoid(net_h1)),
        (r"\frac{1}{1 + e^{-net_{h1}}}", sigmoid(net_h1)),
        (r"\frac{a}{b}", Symbol("a") / Symbol("b")),
        (r"\frac{1}{2}(target_{o1} - out_{o1})^2", Rational(1, 2) * (target_o1 - out_o1) ** 2),
        (r"\sqrt{x}", sqrt(x)),
        ("sqrt(x)", sqrt(x)),
        (r"\tanh(x)", tanh(x)),
        ("tanh(x)", tanh(x)),
        ("e", E),
    ],
)
def test_operators_functions_and_implicit_multiplication(text, expected):
    assert read_formula(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0.1", Rational(1, 10)),
        ("1e-3", Rational(1, 1000)),
        ("2.5E2", Integer(250)),
        (".25", Rational(1, 4)),
        ("3.", Integer(3)),
        ("42", Integer(42)),
        ("0.1 + 0.2", Rational(3, 10)),
        ("0.35 w5", Rational(7, 20) * w5),
    ],
)
def test_decimals_are_exact_rationals(text, expected):
    value = read_formula(text)
    assert value == expected
    assert not value.atoms(Float)


@pytest.mark.parametrize(
    "text, of, wrt",
    [
        (r"\frac{\partial E_{total}}{\partial w_5}", E_total, w5),
        (r"\frac{\partial E_{total}}{\partial w_{5}}", E_total, w5),
        (r"\frac{\partial E_{o1}}{\partial out_{h1}}", E_o1, out_h1),
        (r"\partial E_{total} / \partial w_5", E_total, w5),
        ("dE_total/dw5", E_total, w5),
        ("dE_total/dw_5", E_total, w5),
        ("dEtotal/dw5", E_total, w5),
        ("dout_o1 / dnet_o1", out_o1, Symbol("net_o1")),
        ("ddelta_o1/dw5", delta_o1, w5),
    ],
)
def test_partial_derivatives_become_partial_symbols(text, of, wrt):
    value = read_formula(text)
    assert isinstance(value, Partial)
    assert (value.of, value.wrt) == (of, wrt)
    assert value == Partial(of, wrt)


def test_partials_inside_larger_formulas():
    chain = (
        r"\frac{\partial E_{total}}{\partial out_{o1}} \cdot \frac{\partial out_{o1}}{\partial w_5}"
    )
    assert read_formula(chain) == Partial(E_total, out_o1) * Partial(out_o1, w5)
    assert read_formula("w5 - eta dEtotal/dw5") == w5 - eta * Partial(E_total, w5)
    assert read_formula("delta_o1/delta_o2") == delta_o1 / Symbol("delta_o2")  # not a derivative


def test_equations_split_at_every_equals_sign():
    assert read_equation("a = b = c") == [Symbol("a"), Symbol("b"), Symbol("c")]
    assert read_equation("x + 1") == [x + 1]
    assert read_equation(r"w_5^+ = w_5 - \eta \frac{\partial E_{total}}{\partial w_5} = 0.35") == [
        w5_new, w5 - eta * Partial(E_total, w5), Rational(7, 20),
    ]


def test_resolve_receives_canonical_names_and_its_symbols_are_used():
    seen = []
    special = Symbol("w_5", positive=True)

    def resolve(name: str) -> Symbol:
        seen.append(name)
        return special if name == "w_5" else Symbol(name)

    value = read_formula(r"w5 + w_{5} + \frac{\partial E_{total}}{\partial w_5} + w5^+", resolve)
    assert seen == ["w_5", "w_5", "E_total", "w_5", "w_5^+"]
    assert value == 2 * special + Partial(E_total, special) + w5_new
    assert value.has(special)


@pytest.mark.parametrize(
    "text, name, position",
    [
        ("w5 + xyz", "xyz", 5),
        (r"2 \delta_{o3}", "delta_o3", 2),
        ("dE_total/dq7", "q_7", 10),
    ],
)
def test_a_name_resolve_rejects_is_an_unknown_name_at_its_position(text, name, position):
    known = {"w_5", "E_total", "delta_o1"}

    def resolve(canonical: str) -> Symbol:
        if canonical not in known:
            raise KeyError(canonical)
        return Symbol(canonical)

    with pytest.raises(FormulaError) as caught:
        read_formula(text, resolve)
    assert caught.value.reason == f"unknown name '{name}'"
    assert caught.value.position == position


@pytest.mark.parametrize(
    "text, reason, position",
    [
        ("", "empty formula", 0),
        ("  \\, ", "empty formula", 0),
        ("x +", "trailing operator '+'", 2),
        ("x * ", "trailing operator '*'", 2),
        ("1+", "trailing operator '+'", 1),
        ("(1+)", "trailing operator '+'", 2),
        ("x ^", "trailing operator '^'", 2),
        ("a =", "unexpected '='", 2),
        ("x + * y", "unexpected '*'", 4),
        ("()", "unexpected ')'", 1),
        (r"\cdot x", r"unexpected '\cdot'", 0),
        ("x $ y", "unexpected character '$'", 2),
        ("x_ y", "unexpected character '_'", 1),
        ("(x + 1", "unclosed '('", 0),
        ("(a + (b)", "unclosed '('", 0),
        ("x + 1)", "unmatched ')'", 5),
        (r"\frac{1}{2", "unclosed '{'", 8),
        ("(x]", "mismatched ']' for '('", 2),
        (r"\foo + 1", r"unknown command \foo", 0),
        (r"1 + \foo{x}", r"unknown command \foo", 4),
        (r"\frac\foo", r"unknown command \foo", 5),
        (r"\fracx", r"unknown command \fracx", 0),
        (r"\%", r"unknown command \%", 0),
        ("1/0", "division by zero", 1),
        ("x/(y - y)", "division by zero", 1),
        (r"\frac{1}{0.5 - 1/2}", "division by zero", 0),
        ("0^{-1}", "division by zero", 1),
        (r"\ln(1 - 1)", "ln(0) is undefined", 0),
        (r"\partial x", "incomplete partial derivative", 0),
        (r"\frac{\partial x}{y}", "incomplete partial derivative", 6),
        (r"x / \partial y", "incomplete partial derivative", 4),
        (r"\partial (x + y) / \partial y", "partial derivative needs a symbol, not x + y", 9),
        (r"\frac{\partial 2}{\partial w_5}", "partial derivative needs a symbol, not 2", 15),
        ("2^{99999}", "number too large", 1),
        ("9^9^9", "number too large", 1),
        (r"e^{10^{999} \ln 2}", "number too large", 1),
        ("1e1001", "number exponent beyond 1000", 0),
        ("9" * 1001, "number with more than 1000 digits", 0),
        ("__import__('os').system('ls')", "unexpected character '_'", 0),
    ],
    ids=lambda value: value[:40] if isinstance(value, str) else None,
)
def test_errors_have_a_reason_and_a_precise_position(text, reason, position):
    with pytest.raises(FormulaError) as caught:
        read_formula(text)
    error = caught.value
    assert (error.reason, error.position, error.text) == (reason, position, text)


def test_the_message_shows_the_line_and_a_caret_under_the_position():
    with pytest.raises(FormulaError) as caught:
        read_formula("x + 1)")
    assert str(caught.value) == "formula: unmatched ')' at position 5\nx + 1)\n     ^"

    with pytest.raises(FormulaError) as caught:
        read_formula("a +\n b $ c")
    assert str(caught.value) == "formula: unexpected character '$' at position 7\n b $ c\n   ^"


def test_a_formula_error_is_an_input_error():
    with pytest.raises(InputError) as caught:
        read_formula("x +")
    assert isinstance(caught.value, FormulaError)
    assert caught.value.exit_code == 2


def test_length_limit_is_ten_thousand_characters():
    longest = ("x" + " + x" * 2499).ljust(10_000)
    assert len(longest) == 10_000
    assert read_formula(longest) == 2500 * x
    with pytest.raises(FormulaError) as caught:
        read_formula(longest + "x")
    assert caught.value.reason == "formula longer than 10000 characters"
    assert caught.value.position == 10_000


def test_nesting_limit_is_two_hundred_groups():
    assert read_formula("(" * 200 + "x" + ")" * 200) == x
    with pytest.raises(FormulaError) as caught:
        read_formula("(" * 201 + "x" + ")" * 201)
    assert caught.value.reason == "formula nested more than 200 levels deep"
    assert caught.value.position == 200


@pytest.mark.parametrize(
    "text, position",
    [
        ("(" * 4999 + "x" + ")" * 4999, 200),
        ("{[(" * 1666 + "x" + ")]}" * 1666, 200),
        ("(" * 5000, 200),
        ("x^" * 4999 + "x", 400),
        ("-(" * 3000 + "x" + ")" * 3000, 401),
    ],
    ids=["parentheses", "mixed brackets", "unclosed", "powers", "negated groups"],
)
def test_deep_nesting_is_a_clean_error_not_a_recursion_error(text, position):
    with pytest.raises(FormulaError) as caught:
        read_formula(text)
    assert caught.value.reason == "formula nested more than 200 levels deep"
    assert caught.value.position == position


def test_functions_nest_at_most_three_deep():
    assert read_formula(r"\sigma(\sigma(\sigma(x)))") == sigmoid(sigmoid(sigmoid(x)))
    assert read_formula(r"\ln \ln \ln x") == log(log(log(x)))
    for text, position in [(r"\sigma(\sigma(\sigma(\tanh(x))))", 21), ("e^{e^{e^{e^x}}}", 9)]:
        with pytest.raises(FormulaError) as caught:
            read_formula(text)
        assert caught.value.reason == "functions nested more than 3 deep"
        assert caught.value.position == position


_PIECES = [
    "x", "w5", "w_{5}", "E_total", r"\delta_{o1}", "0", "1", "2.5", "1e-3", "+", "-", "*", "/", "^",
    "**", "(", ")", "{", "}", "[", "]", "=", " ", "_", ",", ".", "e", "d", r"\frac", r"\partial",
    r"\sigma", r"\ln", r"\sqrt", r"\tanh", "exp", r"\cdot", r"\left(", r"\right)", "\\", r"\foo",
    "dE_total/dw5", "^+", "^{+}", "+)", r"\,", "\n", "\x00", "é",
]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60) | st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_any_text_reads_or_fails_with_a_formula_error(text):
    try:
        value = read_formula(text)
    except FormulaError as error:
        assert 0 <= error.position <= len(text)
        assert str(error).startswith(f"formula: {error.reason} at position {error.position}\n")
    else:
        assert isinstance(value, Expr)
        assert not value.has(S.ComplexInfinity, S.NaN)


# Round trip: random expression trees, printed by a small printer in mixed LaTeX and ASCII,
# read back as the expression SymPy builds from the same tree. A tree is (text, functions
# nested, build) with build lazy, because SymPy is slow on the deep trees the reader refuses.

class _Undefined(Exception):
    """Building the expected expression met 1/0, ln 0 or a value that is not real (sqrt(-1)): the reader
    must refuse it."""


def _defined(value: Expr) -> Expr:
    if value.has(S.ComplexInfinity, S.NaN, S.ImaginaryUnit):
        raise _Undefined
    return value


_NAMES = [
    (["w5", "w_5", "w_{5}"], w5),
    (["net_h1", r"net_{h1}", r"\mathrm{net}_{h1}"], net_h1),
    (["out_o1", r"out_{o1}", r"\text{out}_{o1}"], out_o1),
    (["E_total", "Etotal", r"E_{total}"], E_total),
    (["delta_o1", r"\delta_{o1}"], delta_o1),
    (["eta", r"\eta"], eta),
    (["w5^+", r"w_{5}^{+}"], w5_new),
    (["dE_total/dw5", r"\frac{\partial E_{total}}{\partial w_5}"], Partial(E_total, w5)),
]


@st.composite
def _leaves(draw):
    kind = draw(st.sampled_from(["name", "integer", "decimal"]))
    if kind == "name":
        spellings, symbol = draw(st.sampled_from(_NAMES))
        return draw(st.sampled_from(spellings)), 0, lambda: symbol
    if kind == "integer":
        n = draw(st.integers(0, 12))
        return str(n), 0, lambda: Integer(n)
    n, places = draw(st.integers(0, 999)), draw(st.integers(1, 3))
    digits = str(n).rjust(places + 1, "0")
    return f"{digits[:-places]}.{digits[-places:]}", 0, lambda: Rational(n, 10**places)


def _binary(children):
    operators = {
        "+": (["({}) + ({})"], lambda a, b: a + b),
        "-": (["({}) - ({})"], lambda a, b: a - b),
        "*": (
            [r"({}) \cdot ({})", "({}) * ({})", "({})({})", r"({}) \times ({})"],
            lambda a, b: a * b,
        ),
        "/": ([r"\frac{{{}}}{{{}}}", "({}) / ({})"], lambda a, b: a / b),
    }
    return st.tuples(st.sampled_from(sorted(operators)), children, children).flatmap(
        lambda t: st.sampled_from(operators[t[0]][0]).map(
            lambda form: (
                form.format(t[1][0], t[2][0]),
                max(t[1][1], t[2][1]),
                lambda: _defined(operators[t[0]][1](t[1][2](), t[2][2]())),
            )
        )
    )


def _unary(children):
    functions = {
        "neg": (["-({})"], 0, lambda a: -a),
        "power": (["({})^{{{k}}}", "({})**({k})"], 0, None),
        "exp": ([r"\exp({})", "exp({})", "e^{{{}}}"], 1, exp),
        "ln": ([r"\ln(w_5 + ({}))", "log(w5 + ({}))"], 1, lambda a: log(w5 + a)),
        "sigma": ([r"\sigma({})", "sigma({})"], 1, sigmoid),
        "tanh": ([r"\tanh({})", "tanh({})"], 1, tanh),
        "sqrt": ([r"\sqrt{{{}}}", "sqrt({})"], 1, sqrt),
    }

    def node(name, form, k, child):
        text, depth, build = child
        _, is_function, function = functions[name]
        if name == "power":
            return form.format(text, k=k), depth, lambda: _defined(Pow(build(), k))
        return form.format(text), depth + is_function, lambda: _defined(function(build()))

    return st.sampled_from(sorted(functions)).flatmap(
        lambda name: st.builds(
            node, st.just(name), st.sampled_from(functions[name][0]), st.integers(-3, 3), children
        )
    )


_trees = st.recursive(
    _leaves(), lambda children: st.one_of(_binary(children), _unary(children)), max_leaves=8
)


@settings(max_examples=200, deadline=None)
@given(_trees)
def test_printed_trees_read_back_as_the_same_expression(tree):
    text, functions, build = tree
    if functions > 3:
        with pytest.raises(FormulaError, match="functions nested more than 3 deep"):
            read_formula(text)
        return
    try:
        expected = build()
    except _Undefined:
        with pytest.raises(FormulaError):
            read_formula(text)
        return
    assert read_formula(text) == expected
