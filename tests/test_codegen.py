"""The generated training code: printed faithfully, tidied without changing a value, recorded as asked."""

import mpmath
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import Add, Integer, Mul, Piecewise, Pow, Rational, StrictGreaterThan, Symbol, exp, symbols, tanh

from symbackprop.derivation import derive
from symbackprop.network import build_network
from symbackprop.numbers.codegen import SourceWriter
from symbackprop.numbers.evaluate import PRECISION, evaluate
from symbackprop.numbers.point import pass_values
from symbackprop.numbers.training import compile_gradient, compile_loss, compile_network, train
from symbackprop.spec import load_spec

X, Y, Z = Symbol("x"), Symbol("y"), Symbol("z")
VALUES = {X: mpmath.mpf("0.3"), Y: mpmath.mpf("-1.7"), Z: mpmath.mpf("2.25")}

leaves = st.sampled_from([X, Y, Z, Integer(1), Integer(2), Integer(-3), Rational(1, 3), Rational(-5, 7)])


def _trees(children):
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda a: Add(*a, evaluate=False)),
        st.lists(children, min_size=2, max_size=3).map(lambda a: Mul(*a, evaluate=False)),
        st.tuples(children, st.sampled_from([-1, 2, 3])).map(lambda p: Pow(p[0], p[1], evaluate=False)),
        children.map(lambda a: Mul(-1, a, evaluate=False)),
        children.map(lambda a: tanh(a, evaluate=False)),
        children.map(lambda a: exp(tanh(a, evaluate=False), evaluate=False)),
        st.tuples(children, children, st.sampled_from([X, Y, Z])).map(
            lambda p: Piecewise((p[0], StrictGreaterThan(p[2], 0)), (p[1], True))),  # as relu writes it
    )


expressions = st.recursive(leaves, _trees, max_leaves=8)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_printed_code_computes_what_the_expression_says(expr):
    """Any misplaced parenthesis, sign or division changes the 50-digit value."""
    with mpmath.workdps(PRECISION):
        try:
            expected = evaluate(expr, VALUES)
        except ZeroDivisionError:
            return
        writer = SourceWriter([(Symbol("r"), expr)], [])
        body = writer.body([Symbol("r")], 4)
        names = [writer.name(s) for s in (X, Y, Z)]
        source = f"def f({', '.join(names)}):\n{body}    return {writer.name(Symbol('r'))}\n"
        namespace = {"exp": mpmath.exp, "tanh": mpmath.tanh,
                     **{name: evaluate(number, {}) for number, name in writer.numbers.items()}}
        exec(compile(source, "<test>", "exec"), namespace)  # noqa: S102 (our own expressions)
        got = namespace["f"](*(VALUES[s] for s in (X, Y, Z)))
        assert abs(got - expected) <= mpmath.mpf(10) ** -40 * max(1, abs(expected)), source


def test_a_numeric_reciprocal_in_a_product_stays_exact():
    """1/((-3) x) as the factors (-3)^-1 and x^-1 was printed 1/(-3)/x: Python's int / int, a double."""
    x = Symbol("x")
    expr = Mul(Pow(Integer(-3), -1, evaluate=False), Pow(x, -1, evaluate=False), evaluate=False)
    writer = SourceWriter([(Symbol("r"), expr)], [x])
    source = f"def f({writer.name(x)}):\n{writer.body([Symbol('r')], 4)}    return {writer.name(Symbol('r'))}\n"
    with mpmath.workdps(PRECISION):
        namespace = {name: evaluate(number, {}) for number, name in writer.numbers.items()}
        exec(compile(source, "<test>", "exec"), namespace)  # noqa: S102 (our own expression)
        assert namespace["f"](mpmath.mpf("0.3")) == evaluate(expr, {x: mpmath.mpf("0.3")}), source


def test_numbers_stay_exact_on_the_exact_path():
    """The classifier's batch mean (1/2) and the rationals of its losses are constants at 50 digits, not doubles."""
    derivation = derive(build_network(load_spec("classifier")))
    values = pass_values(derivation)
    with mpmath.workdps(PRECISION):
        loss = compile_loss(derivation, "mpmath")(*(values[p.symbol] for p in derivation.network.parameters))
    total = values[derivation.network.total]
    assert abs(loss - total) <= mpmath.mpf(10) ** -45 * abs(total)


@pytest.mark.parametrize("order", ["simultaneous", "output-first"])
def test_recording_every_k_steps_records_the_same_values(mazur, order):
    every_step = train(mazur, 7, order, "mpmath")
    sampled = train(mazur, 7, order, "mpmath", every=3)
    assert list(every_step.history) == list(range(8))
    assert list(sampled.history) == [0, 3, 6, 7]
    for step, record in sampled.history.items():
        assert record == every_step.history[step]
    assert sampled.parameters == every_step.parameters


def test_steps_between_records_do_not_compute_the_loss(mazur):
    source = compile_network(mazur, backend="math").source
    recording, plain = source.split("for _ in range(_every - 1):")
    assert "**2" in recording  # the half squared error, for the record
    assert "**2" not in plain


def test_the_simultaneous_step_updates_each_parameter_in_place_as_a_hand_loop_does(mazur):
    """Each new value is written straight into its parameter's variable once nothing reads the old one,
    so no step ends by renaming all eight weights; output-first still reassigns as it derives."""
    source = compile_network(mazur, backend="math").source
    plain = source.split("for _ in range(_every - 1):")[1]
    updates = [line.split(" = ") for line in plain.splitlines() if " - v23*" in line]
    assert len(updates) == 8 and all(value.startswith(target.strip() + " - ") for target, value in updates)
    assert not [line for line in plain.splitlines() if line.strip().endswith(",")]


def test_two_parameters_with_one_new_value_are_both_renamed_not_updated_in_place():
    """The repeated expression is computed once, under one name: writing it into either parameter's
    variable would leave the other one reading a name that was never assigned."""
    p, q, a, b = symbols("p q a b")
    writer = SourceWriter([(a, 2 * p * q), (b, 2 * p * q)], [p, q])
    body, replaced = writer.updating_body([a, b], 4, {a: p, b: q})
    assert replaced == set()
    assert body == f"    {writer.name(a)} = 2*{writer.name(p)}*{writer.name(q)}\n"
    assert writer.name(b) == writer.name(a)


def test_the_double_path_writes_float_literals(mazur):
    """int-float arithmetic is slower in CPython: 1 - out is written 1.0 - out for doubles."""
    assert "(1.0 - " in compile_network(mazur, backend="math").source
    assert "(1 - " in compile_network(mazur, backend="mpmath").source


def test_one_step_reports_the_loss_before_and_the_values_after(mazur, mazur_values):
    compiled = compile_network(mazur, backend="mpmath")
    with mpmath.workdps(PRECISION):
        start = [mpmath.mpf(p.value.p) / p.value.q for p in mazur.network.parameters]
        error, outputs, after = compiled.step(*start)
    assert abs(error - mazur_values["E_total"]) < mpmath.mpf(10) ** -45
    assert abs(outputs[0] - mazur_values["out_o1"]) < mpmath.mpf(10) ** -45
    assert abs(after[4] - mazur_values["w_5^+"]) < mpmath.mpf(10) ** -45


def test_every_must_be_positive(mazur):
    with pytest.raises(ValueError):
        train(mazur, 3, every=0)


@pytest.mark.parametrize("name", ["mazur", "deep", "classifier"])
def test_compiled_gradient_is_the_derivations_gradient(name):
    """Every gradient and E_total at 50 digits, in the network's parameter order; doubles to rounding."""
    derivation = derive(build_network(load_spec(name)))
    parameters = derivation.network.parameters
    values = pass_values(derivation)
    with mpmath.workdps(PRECISION):
        error, gradients = compile_gradient(derivation, "mpmath")(*(values[p.symbol] for p in parameters))
    assert abs(error - values[derivation.network.total]) <= mpmath.mpf(10) ** -45
    expected = [values[derivation.gradient(p.name).symbol] for p in parameters]
    assert len(gradients) == len(expected)
    for got, exact in zip(gradients, expected):
        assert abs(got - exact) <= mpmath.mpf(10) ** -45 * max(1, abs(exact))
    _error, doubles = compile_gradient(derivation, "math")(*(float(values[p.symbol]) for p in parameters))
    for got, exact in zip(doubles, expected):
        assert abs(got - float(exact)) <= 1e-13 * max(1.0, abs(float(exact)))


def test_a_factor_of_one_is_left_out():
    writer = SourceWriter([(Symbol("r"), Mul(X, Integer(1), Y, evaluate=False))], [], float_literals=True)
    line = writer.body([Symbol("r")], 4)
    assert line.split(" = ")[1] == f"{writer.name(X)}*{writer.name(Y)}\n"


def test_returned_values_no_line_reads_are_written_in_place():
    r, s = Symbol("r"), Symbol("s")
    writer = SourceWriter([(r, X * Y), (s, r + Z)], [])
    lines = writer.body([r, s], 4, results_in_place=True)
    assert lines == f"    {writer.name(r)} = {writer.name(X)}*{writer.name(Y)}\n"  # r: returned, and read by s
    assert writer.expression(s) == f"{writer.name(r)} + {writer.name(Z)}"
