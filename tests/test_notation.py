"""How formulas read, the same in every format: the power rule's exponent, and relu.

The power rule's written-out line keeps its exponent's arithmetic n - 1 grouped (never as
superscripts ²⁻¹, which read "squared, to the minus one"), and the next form shows it done;
relu is max(0, net), and its derivative the cases {1 if net > 0, 0 otherwise}, never Python's
`x if c else y`.
"""

from __future__ import annotations

import re

import pytest

import symbackprop as sbp

FORMATS = ("text", "ascii", "latex", "markdown", "html", "json")


def _render(solution, fmt: str) -> str:
    """Text with its lines left whole: tests/test_wrapping.py breaks them."""
    if fmt in ("text", "ascii"):
        return solution.render("text", ascii=fmt == "ascii", width=None)
    return solution.render(fmt)


@pytest.fixture(scope="module")
def mazur():
    solution = sbp.solve("mazur", checks=False)
    return {fmt: _render(solution, fmt) for fmt in FORMATS}


@pytest.fixture(scope="module")
def classifier():
    solutions = [sbp.solve("classifier", checks=False, detail="full"), sbp.matrix_solution("classifier", checks=False)]
    return {fmt: "\n".join(_render(solution, fmt) for solution in solutions) for fmt in FORMATS}


POWER_RULE = {
    # the written-out derivative, exponent n - 1 grouped; then the same folded, the exponent done
    "text": ["(1/2) · 2 · (target_o1 - out_o1)^(2 - 1) · (0 - 1) + 0 = -(target_o1 - out_o1)",
             "-(1 + exp(-net_o1))^(-1 - 1) · (0 + exp(-net_o1) · (-1)) = (1 + exp(-net_o1))⁻² · exp(-net_o1)"
             " = out_o1 · (1 - out_o1)"],
    "ascii": ["(1/2) * 2 * (target_o1 - out_o1)^(2 - 1) * (0 - 1) + 0 = -(target_o1 - out_o1)",
              "-(1 + exp(-net_o1))^(-1 - 1) * (0 + exp(-net_o1) * (-1)) = (1 + exp(-net_o1))^(-2) * exp(-net_o1)"
              " = out_o1 * (1 - out_o1)"],
    "latex": [r"\left(\mathrm{target}_{\mathrm{o1}} - \mathrm{out}_{\mathrm{o1}}\right)^{2 - 1}",
              r"-\left(1 + e^{-\mathrm{net}_{\mathrm{o1}}}\right)^{-1 - 1} \cdot \left(0 + e^{-\mathrm{net}_{\mathrm{o1}}} \cdot \left(-1\right)\right) \\"
              "\n" r"  &= \frac{1}{\left(1 + e^{-\mathrm{net}_{\mathrm{o1}}}\right)^{2}} \cdot e^{-\mathrm{net}_{\mathrm{o1}}} \\"
              "\n" r"  &= \mathrm{out}_{\mathrm{o1}} \cdot \left(1 - \mathrm{out}_{\mathrm{o1}}\right) \\"],
    "markdown": [r"\left(\mathrm{target}_{\mathrm{o1}} - \mathrm{out}_{\mathrm{o1}}\right)^{2 - 1}",
                 r"\left(0 + e^{-\mathrm{net}_{\mathrm{o1}}} \cdot \left(-1\right)\right) = \frac{1}{\left(1 + e^{-\mathrm{net}_{\mathrm{o1}}}\right)^{2}}"
                 r" \cdot e^{-\mathrm{net}_{\mathrm{o1}}} = \mathrm{out}_{\mathrm{o1}}"],
    "html": ["<mrow><mn>2</mn><mo>&#8722;</mo><mn>1</mn></mrow></msup>",
             "<mrow><mn>&#8722;1</mn><mo>&#8722;</mo><mn>1</mn></mrow></msup>"],
    "json": ["(1/2) * 2 * (target_o1 - out_o1)^(2 - 1) * (0 - 1) + 0",
             '"-(1 + exp(-net_o1))^(-1 - 1) * (0 + exp(-net_o1) * (-1))"',
             '"(1 + exp(-net_o1))^(-2) * exp(-net_o1)"'],
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_power_rule_shows_its_exponent_grouped_then_done(mazur, fmt):
    for expected in POWER_RULE[fmt]:
        assert expected in mazur[fmt], expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_exponent_arithmetic_in_superscripts_and_no_bare_negative_factor(mazur, fmt):
    printed = mazur[fmt]
    assert not re.search("[⁰¹²³⁴-⁹][⁺⁻]", printed)  # ²⁻¹ or ⁻¹⁻¹
    assert not re.search(r"\\cdot -|[·*] -[0-9]", printed)  # x · -1 for x · (-1)


RELU = {
    "text": ["out_h2⁽¹⁾ = max(0, net_h2⁽¹⁾) = max(0, -0.2) = 0",
             "∂out_h1⁽¹⁾/∂net_h1⁽¹⁾ = {1 if net_h1⁽¹⁾ > 0, 0 otherwise} = {1 if 0.2 > 0, 0 otherwise} = 1",
             "out_h = max(0, net_h) = max(0, [[0.2, 0.3], [-0.2, 0.5]])",
             "δ_h = ∂E_total/∂out_h ∘ {1 if net_h > 0, 0 otherwise}"],
    "ascii": ["out_h2[1] = max(0, net_h2[1]) = max(0, -0.2) = 0",
              "dout_h1[1]/dnet_h1[1] = {1 if net_h1[1] > 0, 0 otherwise} = {1 if 0.2 > 0, 0 otherwise} = 1",
              "out_h = max(0, net_h) = max(0, [[0.2, 0.3], [-0.2, 0.5]])"],
    "latex": [r"\mathrm{out}_{\mathrm{h2}}^{(1)} &= \max\left(0, \mathrm{net}_{\mathrm{h2}}^{(1)}\right) \\" "\n" r"  &= \max\left(0, -0.2\right) \\",
              r"\begin{cases} 1 & \text{if } \mathrm{net}_{\mathrm{h1}}^{(1)} > 0 \\ 0 & \text{otherwise} \end{cases}",
              r"\max\left(0, \mathrm{net}_{h}\right)"],
    "markdown": [r"\mathrm{out}_{\mathrm{h2}}^{(1)} = \max\left(0, \mathrm{net}_{\mathrm{h2}}^{(1)}\right) = \max\left(0, -0.2\right) = 0",
                 r"\begin{cases} 1 & \text{if } \mathrm{net}_{\mathrm{h1}}^{(1)} > 0 \\ 0 & \text{otherwise} \end{cases}"],
    "html": ["<mi>max</mi><mo stretchy=\"false\">(</mo><mrow><mn>0</mn><mo>,</mo><msubsup><mi>net</mi><mi>h2</mi>",
             "<mtext>if&#160;</mtext>", "<mtext>otherwise</mtext>"],
    "json": ['"text": "max(0, net_h2[1])"', '"text": "{1 if net_h1[1] > 0, 0 otherwise}"',
             r'"latex": "\\max\\left(0, \\mathrm{net}_{\\mathrm{h2}}^{(1)}\\right)"'],
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_relu_is_max_and_its_derivative_cases_in_every_format(classifier, fmt):
    printed = classifier[fmt]
    for expected in RELU[fmt]:
        assert expected in printed, expected
    assert not re.search(r" if .* else |\\text\{for\}|for&#160;", printed)
