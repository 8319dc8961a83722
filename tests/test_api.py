"""The Python API: results render in every format and display themselves in a notebook."""

from __future__ import annotations

import doctest
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import symbackprop as sbp
import symbackprop.api

ROOT = Path(__file__).resolve().parents[1]


def test_docstring_examples():
    failures, tried = doctest.testmod(symbackprop.api)
    assert tried > 0 and failures == 0


def test_results_display_themselves():
    solution = sbp.solve("mazur", checks=False)
    assert solution._repr_markdown_().startswith("# Worked solution: mazur")
    assert "<math" in solution._repr_html_()
    assert "$$" in sbp.derivation("deep")._repr_markdown_()
    assert "| quantity |" in sbp.reproduce()._repr_markdown_()
    verdict = sbp.check(formula="net_{h1} = w_1 i_1 + w_3 i_2 + b_1")
    assert not verdict and "w₃ where the path from i2 to h1 goes through w₂" in verdict._repr_markdown_()


def test_specs_as_dicts_and_one_gradient():
    spec = {"inputs": [1, 0.5], "targets": [0.25], "loss": "squared_error",
            "layers": [{"activation": "identity", "weights": [[0.5, 0.25]]}]}
    assert sbp.gradients(spec)["w1"] == 0.75  # d/dw1 (0.25 - out)^2 = 2 (0.625 - 0.25) i_1, exactly
    one = sbp.explain(spec, "w2")
    assert "∂E_total/∂w₂ = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w₂" in one.render("text")
    assert "dE_total/dw_2 = dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw_2" in one.render("text", ascii=True)


def test_the_tutorial_notebook_runs_top_to_bottom():
    notebook = nbformat.read(ROOT / "docs" / "tutorial.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("text/markdown" in o.get("data", {}) for o in outputs) >= 4


def test_the_api_guides_examples_run():
    import re

    guide = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", guide, re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), namespace)  # our own documentation, not user input
