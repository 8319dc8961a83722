"""check: right formulas pass, wrong ones fail, and each kind of mistake is diagnosed by computation."""

from __future__ import annotations

import builtins

import mpmath
import pytest
import sympy
from sympy.parsing import sympy_parser

from symbackprop.checks.verify import Checker
from symbackprop.cli import main
from symbackprop.formulas import read_formula
from symbackprop.numbers.rounding import round_half_up
from symbackprop.printers.math import text_formula


@pytest.fixture(scope="module")
def checker(mazur):
    return Checker(mazur)


def _read(checker, text):
    return read_formula(text, checker.resolve)


def test_every_parameters_delta_rule_and_chain_are_right(mazur, checker):
    for gradient in mazur.gradients:
        for form in (gradient.delta_rule, mazur.definitions[[d.symbol for d in mazur.definitions].index(gradient.symbol)].expression):
            verdict = checker.check_formula(_read(checker, text_formula(form)), gradient.symbol)
            assert verdict.correct and verdict.symbolic, (gradient.symbol, text_formula(form))


@pytest.mark.parametrize("parameter", ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"])
def test_every_weights_gradient_without_its_activation_derivative_is_wrong(mazur, checker, parameter):
    gradient = mazur.gradient(parameter)
    delta, link = gradient.terms[0]
    wrong = sympy.Mul(delta.sensitivity.symbol, link.form)  # dE/dout * dnet/dw, no dout/dnet
    verdict = checker.check_formula(wrong, gradient.symbol)
    assert not verdict.correct
    best = verdict.explanations[0]
    assert best.exact and best.mistake.kind == "dropped-factor" and best.mistake.used == delta.activation.symbol


def _best(verdict):
    assert not verdict.correct
    return verdict.explanations[0]


def test_wrong_weight_the_documents_hidden_layer_formula(checker):
    best = _best(checker.check_formula(_read(checker, "w_1 * i_1 + w_3 * i_2 + b_1 * 1"), checker.resolve("net_h1")))
    assert best.exact and best.mistake.kind == "wrong-weight"
    assert (best.mistake.used.name, best.mistake.instead_of.name, best.mistake.path) == ("w_3", "w_2", ("i2", "h1"))


def test_wrong_weight_for_a_number(checker, mazur_values):
    with mpmath.workdps(50):
        value = mazur_values["delta_o2"] * mazur_values["w_6"]
    quantity = _read(checker, r"\frac{\partial E_{o2}}{\partial out_{h1}}")
    best = _best(checker.check_value(str(round_half_up(value, 12)), quantity))
    assert best.exact and (best.mistake.used.name, best.mistake.instead_of.name) == ("w_6", "w_7")
    assert best.mistake.path == ("h1", "o2")


def test_the_readers_number_is_explained_by_the_wrong_weight(checker):
    quantity = _read(checker, "dE_o2/dout_h1")
    best = _best(checker.check_value("-0.017144288", quantity))
    assert best.mistake.kind == "wrong-weight" and best.mistake.used.name == "w_6"
    assert not best.exact and best.distance < 1e-5


def test_swapped_index(checker):
    best = _best(checker.check_formula(_read(checker, r"\delta_{o1} out_{h2}"), checker.resolve("dE_total/dw_5")))
    assert best.exact and best.mistake.kind == "swapped"
    assert (best.mistake.used.name, best.mistake.instead_of.name) == ("out_h2", "out_h1")


def test_sign_lost(checker):
    verdict = checker.check_formula(_read(checker, "(target_{o1} - out_{o1}) out_{o1}(1 - out_{o1}) out_{h1}"),
                                    checker.resolve("dE_total/dw_5"))
    kinds = {e.mistake.kind for e in verdict.explanations if e.exact}
    assert "sign" in kinds


def test_missing_path(checker):
    best = _best(checker.check_formula(_read(checker, r"\delta_{o1} w_5 out_{h1}(1 - out_{h1}) i_1"),
                                       checker.resolve("dE_total/dw_1")))
    assert best.exact and best.mistake.kind == "missing-term" and best.mistake.used.name == "dE_o2/dout_h1"


def test_updated_weight_used_too_early(checker, mazur_values):
    with mpmath.workdps(50):
        value = mazur_values["dE_o1/dnet_o1"] * mazur_values["w_5^+"]
    best = _best(checker.check_value(str(round_half_up(value, 12)), checker.resolve("dE_o1/dout_h1")))
    assert best.exact and best.mistake.kind == "updated-weight" and best.mistake.instead_of.name == "w_5"


def test_rounding(checker):
    verdict = checker.check_value("-0.019049119", checker.resolve("dE_o2/dout_h1"))
    assert verdict.correct and verdict.by_hand
    verdict = checker.check_value("0.0364", checker.resolve("dE_total/dout_h1"))
    assert verdict.correct and not verdict.by_hand


def test_cli_exit_codes(capsys):
    assert main(["check", "--formula", r"\delta_{o1} out_{h1}", "--wrt", "w5"]) == 0
    assert main(["check", "--value", "-0.017144288", "--quantity", "dE_o2/dout_h1"]) == 1
    out = capsys.readouterr().out
    assert "w₆ where the path from h1 to o2 goes through w₇" in out
    assert main(["check", "--value", "-0.017144288", "--quantity", "dE_o2/dout_h1", "--ascii"]) == 1
    out = capsys.readouterr().out
    assert out.isascii() and "w_6 where the path from h1 to o2 goes through w_7 (in dnet_o2/dout_h1)" in out
    assert main(["check", "--formula", "out_{h9}", "--wrt", "w5"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("symbackprop: --formula: unknown name 'out_h9' (did you mean out_h2? the network has i_1,")
    assert err[0].endswith(" at position 0") and err[2] == "^"
    assert main(["check", "--value", "abc", "--quantity", "E_total"]) == 2


def test_long_or_deep_input_is_bad_input_not_a_crash(capsys):
    for text, reason in (("w_5 + " * 20000, "longer than 10000 characters"), ("(" * 300 + "w_5" + ")" * 300,
                                                                              "nested more than 200 levels")):
        assert main(["check", "--formula", text, "--wrt", "w5"]) == 2
        assert reason in capsys.readouterr().err


def test_no_user_text_reaches_eval(monkeypatch, capsys):
    marker = "0.123456789"
    seen = []
    for owner, name in ((builtins, "eval"), (builtins, "exec"), (sympy, "sympify"), (sympy_parser, "parse_expr")):
        original = getattr(owner, name)

        def spy(*args, _original=original, **kwargs):
            seen.extend(str(a) for a in args if isinstance(a, str))
            return _original(*args, **kwargs)
        monkeypatch.setattr(owner, name, spy)
    formula = rf"\delta_{{o1}} out_{{h1}} + {marker} w_5"
    assert main(["check", "--formula", formula, "--wrt", "w5"]) == 1
    assert main(["check", "--value", marker, "--quantity", "out_{h1}"]) == 1
    capsys.readouterr()
    assert not any(marker in text or "delta_{o1}" in text for text in seen)


def test_a_long_formulas_error_shows_a_window_around_the_position(capsys):
    text = "w_5 + " * 100 + "out_{h9}" + " + w_5" * 100
    assert main(["check", "--formula", text, "--wrt", "w5"]) == 2
    _, line, caret = capsys.readouterr().err.splitlines()
    assert len(line) <= 80 and line.startswith("...") and line.endswith("...")
    assert line[caret.index("^"):].startswith("out_{h9}")


def test_a_whole_number_on_a_network_with_logarithms_is_judged_without_a_traceback(capsys):
    """Rounding every intermediate to 0 decimals, as '1' asks, puts a softmax output of 0 under a logarithm:
    that rounding cannot be the cause, and the check goes on (it raised decimal.InvalidOperation)."""
    from symbackprop.cli import main

    assert main(["check", "classifier", "--value", "1", "--quantity", "net_h1⁽¹⁾"]) == 1
    out, err = capsys.readouterr()
    assert err == "" and "net_h1⁽¹⁾ = 1: wrong" in out
