"""Every rule step agrees with sympy.diff, and the written-out line equals the folded result."""

from __future__ import annotations

import mpmath
from hypothesis import given, settings, strategies as st
from sympy import Add, Integer, Mul, Pow, Rational, Symbol, diff, exp, log, simplify

from symbackprop.derivation.rules import (
    ConstantMultipleRule, PowerRule, RewriteRule, SumRule, differentiate, fold_product, written_out,
)
from symbackprop.printers.math import text_formula

x, y = Symbol("x"), Symbol("y")


def test_every_local_derivative_of_the_document_agrees_with_sympy_diff(mazur):
    assert len(mazur.local_derivatives) > 20
    for local in mazur.local_derivatives:
        raw = local.steps.before if isinstance(local.steps, RewriteRule) else local.steps
        exact = diff(local.expression, local.symbol.wrt)
        assert simplify(raw.result - exact) == 0, local.symbol
        assert simplify(written_out(raw) - exact) == 0, local.symbol


def test_logistic_rewritten_in_its_output_equals_the_derivative(mazur):
    local = mazur.delta("o1").activation
    net, out = local.symbol.wrt, local.symbol.of
    assert isinstance(local.steps, RewriteRule)
    assert text_formula(local.form) == "out_o1 * (1 - out_o1)"
    assert simplify(local.form.subs(out, local.expression) - diff(local.expression, net)) == 0


def test_loss_derivative_keeps_the_documents_shape(mazur):
    local = mazur.gradient("w5").terms[0][0].sensitivity.local
    assert text_formula(local.form) == "-(target_o1 - out_o1)"
    rule = local.steps
    assert isinstance(rule, SumRule)
    assert isinstance(rule.terms[0], ConstantMultipleRule)
    assert isinstance(rule.terms[0].inner, PowerRule)
    assert text_formula(written_out(rule)) == "(1/2) * 2 * (target_o1 - out_o1)^(2 - 1) * (0 - 1) + 0"


def test_fold_product_folds_numbers_only():
    t, o = Symbol("target"), Symbol("out")
    difference = Add(t, Mul(-1, o, evaluate=False), evaluate=False)
    assert text_formula(fold_product([Rational(1, 2), Integer(2), difference, Integer(-1)])) == "-(target - out)"
    assert fold_product([Integer(3), Integer(0), x]) == 0


_leaves = st.sampled_from([x, y, Integer(2), Rational(3, 7), Integer(-1)])


def _combine(children):
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda p: Add(*p)),
        pair.map(lambda p: Mul(*p)),
        st.tuples(children, st.integers(-3, 3)).map(lambda p: Pow(p[0], p[1])),
        children.map(lambda c: exp(c / 3)),
        children.map(lambda c: log(1 + c**2)),
    )


@settings(max_examples=150, deadline=None)
@given(st.recursive(_leaves, _combine, max_leaves=8))
def test_random_expressions_differentiate_like_sympy(expr):
    rule = differentiate(expr, x)
    exact = diff(expr, x)
    for point in ({x: Rational(3, 10), y: Rational(-7, 5)}, {x: Rational(-11, 4), y: Rational(2, 9)}):
        expected = exact.subs(point).evalf(40)
        if not expected.is_finite:
            continue
        for candidate in (rule.result, written_out(rule)):
            got = candidate.subs(point).evalf(40)
            assert abs(got - expected) <= mpmath.mpf(10) ** -30 * max(1, abs(expected)), (expr, candidate)


def test_every_full_derivation_line_is_true(mazur):
    from symbackprop.derivation.rules import applied, rule_steps

    lines = 0
    for local in mazur.local_derivatives:
        for rule in rule_steps(local.steps):
            statement = applied(rule)
            assert simplify(statement.doit() - rule.result.subs(local.symbol.of, local.expression)) == 0 \
                or simplify(statement.doit() - rule.result) == 0, rule
            lines += 1
    assert lines > 3 * len(mazur.local_derivatives)


def test_full_detail_labels_every_rule_and_hand_rounding_says_so(mazur):
    from symbackprop.printers import TextPrinter
    from symbackprop.solution import worked_solution

    full = TextPrinter().doprint(worked_solution(mazur, detail="full"))
    assert "∂/∂out_o1[target_o1 - out_o1] = ∂/∂out_o1[target_o1] + ∂/∂out_o1[-out_o1] = -1    (sum rule)" in full
    assert "(power rule, with the chain rule)" in full and "(the sigmoid identity, in terms of the output)" in full
    by_hand = TextPrinter().doprint(worked_solution(mazur, hand_round=9))
    assert "Every intermediate is rounded to 9 decimals before it is used, as by hand." in by_hand
    assert "∂E_o2/∂out_h1 = ∂E_o2/∂net_o2 · ∂net_o2/∂out_h1 = (-0.038098237) · 0.5 = -0.019049119" in by_hand
