"""The Python API: results render in every format and display themselves in a notebook."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import symbackprop as sbp
import symbackprop.api

ROOT = Path(__file__).resolve().parents[1]


def test_docstring_examples():
    failures, tried = doctest.testmod(symbackprop.api)
    assert tried > 0 and failures == 0


def _scoped_fragment(html: str) -> str:
    """The fragment's markup, after checking it is one <div class="symbackprop"> whose style (if any) has
    no selector outside that div: nothing a notebook shows may restyle the notebook."""
    assert html.startswith('<div class="symbackprop">') and html.rstrip().endswith("</div>")
    assert "<html" not in html and "<body" not in html and "<!DOCTYPE" not in html
    for style in re.findall(r"<style>(.*?)</style>", html, re.S):
        selectors = re.findall(r"([^{}]+)\{", re.sub(r"@media[^{]*\{", "", style))
        assert selectors and all(part.strip().startswith(".symbackprop") for sel in selectors for part in sel.split(","))
    return html


def test_every_result_displays_as_one_scoped_html_fragment():
    """One display contract: `_repr_html_` with MathML (no $$ for MathJax), no other rich display."""
    solution = sbp.solve("mazur", checks=False)
    shown = {
        "solve": solution,
        "explain": sbp.explain("mazur", "w5"),
        "derivation": sbp.derivation("deep"),
        "reproduce": sbp.reproduce(),
        "check": sbp.check(formula="net_{h1} = w_1 i_1 + w_3 i_2 + b_1"),
    }
    for name, result in shown.items():
        methods = {m for m in dir(result) if m.startswith("_repr_") and m.endswith("_") and m != "_repr_html_"}
        assert methods == set(), name
        html = _scoped_fragment(result._repr_html_())
        assert "$$" not in html, name
    assert "<math" in shown["solve"]._repr_html_() and "<svg" in shown["solve"]._repr_html_()
    assert "<mfrac>" in shown["derivation"]._repr_html_()
    assert "| quantity |" in shown["reproduce"].render("markdown")
    verdict = shown["check"]
    assert not verdict and "w₃ where the path from i2 to h1 goes through w₂" in verdict.render("text")
    assert "where the path from i2 to h1 goes through <math>" in verdict._repr_html_()


def test_the_scope_check_sees_a_global_selector():
    """The check above is not vacuous: a page's body style is refused."""
    with pytest.raises(AssertionError):
        _scoped_fragment('<div class="symbackprop"><style>.symbackprop p { }\nbody { margin: 0 }</style></div>')


def test_specs_as_dicts_and_one_gradient():
    spec = {"inputs": [1, 0.5], "targets": [0.25], "loss": "squared_error",
            "layers": [{"activation": "identity", "weights": [[0.5, 0.25]]}]}
    assert sbp.gradients(spec)["w1"] == 0.75  # d/dw1 (0.25 - out)^2 = 2 (0.625 - 0.25) i_1, exactly
    one = sbp.explain(spec, "w2")
    assert "∂E_total/∂w₂ = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w₂" in one.render("text")
    assert "dE_total/dw_2 = dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw_2" in one.render("text", ascii=True)


def test_the_tutorial_notebook_runs_top_to_bottom(tutorial):
    outputs = [o for cell in tutorial.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert len(shown) >= 5
    for html in shown:
        if "symbackprop" in html:
            _scoped_fragment(html)
    assert not [o for o in outputs if {"text/markdown", "text/latex"} & set(o.get("data", {}))]


def test_the_api_guides_examples_run():
    import re

    guide = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", guide, re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), namespace)  # our own documentation, not user input
