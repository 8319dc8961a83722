"""A batch's worked solution: each sample's part of E_total has its own name, written once per gradient."""

from __future__ import annotations

import json

import mpmath
import pytest
from sympy import Symbol

import symbackprop as sbp
from symbackprop.cli import main
from symbackprop.derivation import derive
from symbackprop.network import build_network
from symbackprop.numbers.point import pass_values
from symbackprop.printers.math import latex_formula, text_formula, unicode_formula
from symbackprop.printers.mathml import mathml_formula
from symbackprop.solution.build import SAMPLE_PARTS
from symbackprop.spec import example_text, load_spec, spec_from_dict

SHARE = Symbol("E_share[1]")


def _classifier(**changes) -> dict:
    return json.loads(example_text("classifier")) | changes


def _sections(text: str) -> list[str]:
    """The text solution cut at each gradient's heading."""
    return text.split("\nGradient for ")[1:]


def test_the_batch_never_calls_one_samples_part_e_total():
    text = sbp.solve("classifier", checks=False).render("text", width=None)
    assert "E_total = (1/2) · (-target" not in text
    assert "E_share⁽¹⁾ = (1/2) · E_total⁽¹⁾ = (1/2) · 1.203898511 = 0.601949255" in text
    assert "E_total = (1/2) · (E_total⁽¹⁾ + E_total⁽²⁾) = E_share⁽¹⁾ + E_share⁽²⁾ = " in text
    assert SAMPLE_PARTS in text
    assert "∂E_share⁽¹⁾/∂out_o1⁽¹⁾ = (1/2) · ((-target_o1⁽¹⁾) · 1/out_o1⁽¹⁾ + 0 + 0)" in text


def test_each_samples_part_is_written_once_per_gradient():
    text = sbp.solve("classifier", checks=False).render("text", width=None)
    line = "E_share⁽¹⁾ = (1/2) · (-target_o1⁽¹⁾ · log(out_o1⁽¹⁾) - target_o2⁽¹⁾ · log(out_o2⁽¹⁾)"
    counts = [section.count(line) for section in _sections(text)]
    assert max(counts) == 1 and counts[0] == 1


def test_the_share_is_a_quantity_of_the_network_with_its_value():
    derivation = derive(build_network(load_spec("classifier")))
    values = pass_values(derivation)
    shares = [one.part for one in derivation.network.passes]
    assert shares == [SHARE, Symbol("E_share[2]")]
    assert abs(sum(values[s] for s in shares) - values[Symbol("E_total")]) < mpmath.mpf(10) ** -45
    assert abs(values[SHARE] - values[Symbol("E_total[1]")] / 2) < mpmath.mpf(10) ** -45


def test_a_sum_over_the_batch_starts_from_each_samples_own_loss():
    derivation = derive(build_network(spec_from_dict(_classifier(reduction="sum"))))
    assert [one.part for one in derivation.network.passes] == [Symbol("E_total[1]"), Symbol("E_total[2]")]
    text = sbp.solve(_classifier(reduction="sum"), checks=False).render("text", width=None)
    assert "E_total⁽¹⁾ = -target_o1⁽¹⁾ · log(out_o1⁽¹⁾)" in text and "E_share" not in text


def test_the_single_sample_keeps_the_documents_e_total():
    derivation = derive(build_network(load_spec("mazur")))
    assert derivation.network.passes[0].part == Symbol("E_total")
    assert derivation.network.passes[0].share is None


@pytest.mark.parametrize(("print_formula", "expected"), [
    (unicode_formula, "E_share⁽¹⁾"), (text_formula, "E_share[1]"), (latex_formula, r"E_{\mathrm{share}}^{(1)}"),
    (mathml_formula, "share"),
])
def test_the_share_prints_in_every_notation(print_formula, expected):
    assert expected in print_formula(SHARE)


@pytest.mark.parametrize("fmt", ["latex", "markdown", "html", "json"])
def test_every_format_names_the_share(fmt):
    rendered = sbp.solve("classifier", checks=False).render(fmt)
    assert {"latex": r"E_{\mathrm{share}}^{(1)}", "markdown": r"E_{\mathrm{share}}^{(1)}", "html": "share",
            "json": "E_share"}[fmt] in rendered


def test_check_reads_the_share_back(capsys):
    assert main(["check", "classifier", "--quantity", "E_share⁽¹⁾", "--value", "0.601949255"]) == 0
    assert main(["check", "classifier", "--quantity", "∂E_share⁽²⁾/∂out_o2⁽²⁾",
                 "--formula", "-(1/2) target_o2⁽²⁾/out_o2⁽²⁾"]) == 0
    assert main(["check", "classifier", "--quantity", "∂E_total/∂out_o1⁽¹⁾", "--value", "-1.666542848"]) == 0
    assert "right" in capsys.readouterr().out
