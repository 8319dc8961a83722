"""The matrix form as a worked solution (`solve --matrix`): its numbers, its notation in every format, the CLI."""

from __future__ import annotations

import json
import subprocess

import numpy
import pytest
from sympy import ImmutableMatrix, Symbol
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatrixSymbol, OneMatrix, Transpose

import symbackprop as sbp
from symbackprop.cli import main
from symbackprop.derivation import derive
from symbackprop.derivation.matrix import derive_matrix
from symbackprop.network import build_network
from symbackprop.network.activations import ACTIVATIONS, Activation
from symbackprop.numbers.matrix import compile_matrix
from symbackprop.numbers.point import pass_values
from symbackprop.numbers.rounding import fixed
from symbackprop.printers import PRINTERS, printer
from symbackprop.printers.math import latex_formula, text_formula, unicode_formula
from symbackprop.printers.mathml import mathml_formula
from symbackprop.solution import worked_matrix_solution
from symbackprop.spec import load_spec
from tests.matrix_run import matrix_gradients
from tests.test_html_latex import _Checker, _chromium, _console, solve

EXAMPLES = ("mazur", "deep", "classifier")
PLACES = 9


def _steps(record: dict):
    """Every step of the JSON rendering, depth first."""
    for item in record.get("items", record.get("sections", [])):
        if item.get("type") == "step":
            yield item
        elif "items" in item:
            yield from _steps(item)


def _results(name: str) -> dict[str, list[list[str]]]:
    """Each matrix step's result as printed in JSON, by the text of its symbol."""
    record = json.loads(sbp.matrix_solution(name, checks=False).render("json"))
    return {step["symbol"]["text"]: step["result"] for step in _steps(record) if isinstance(step["result"], list)}


def _scalar_names(derivation, matrix_name: str, row: int, column: int) -> str:
    """The scalar engine's name of one entry, worked out here from the network's structure (not from
    `derivation/entries.py`): net_h row 2 sample 1 of a batch is net_h2[1]; dE_total/dW_o row 1 column 2 is
    dE_total/dw_6."""
    network = derivation.network
    tag = "" if len(network.passes) == 1 else f"[{column + 1}]"
    layers = {layer.name: layer for layer in network.layers}
    base, _, plus = matrix_name.partition("^+")
    kind, _, layer = base.rpartition("_")
    if kind in ("net", "out", "delta", "dE_total/dout"):
        return f"{kind}_{layers[layer].neurons[row].label}{tag}"
    if matrix_name == "E_total":
        return "E_total"
    parameter = layers[layer].weights[row][column] if kind in ("W", "dE_total/dW") else layers[layer].biases[row]
    return f"dE_total/d{parameter.symbol.name}" if kind.startswith("dE_total") else parameter.symbol.name + "^+"


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_printed_entry_is_the_scalar_engines_number(name):
    derivation = derive(build_network(load_spec(name)))
    values = {symbol.name: value for symbol, value in pass_values(derivation).items()}
    results = _results(name)
    given = {"i", "target"} | {f"{kind}_{layer.name}" for layer in derivation.network.layers for kind in "Wb"}
    shown = set()
    for matrix_name, rows in results.items():
        if matrix_name in given:
            continue
        for r, row in enumerate(rows):
            for c, printed in enumerate(row):
                scalar = _scalar_names(derivation, matrix_name, r, c)
                assert printed == fixed(values[scalar], PLACES), f"{matrix_name}[{r}, {c}] is {scalar}"
                shown.add(scalar)
    assert {g.symbol.name for g in derivation.gradients} <= shown
    assert {d.symbol.name for d in derivation.deltas} | {u.symbol.name for u in derivation.updates} <= shown


def test_the_documents_numbers_in_their_places():
    results = _results("mazur")
    assert results["net_h"][0] == ["0.3775"]
    assert results["out_o"][0] == ["0.75136507"]
    assert results["dE_total/dW_o"][0][0] == "0.082167041"
    assert results["W_o^+"][0][0] == "0.35891648"


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_printed_matrices_are_what_the_matrix_form_computes_with_numpy(name):
    """Independent of the scalar engine: the matrix form's own numpy function, to half the last printed digit."""
    network = build_network(load_spec(name))
    matrix = derive_matrix(network.spec)
    computed = matrix_gradients(network, compile_matrix(matrix))
    results = _results(name)
    printed = {d.symbol: numpy.array(results[text_formula(d.symbol)], dtype=float)
               for d in (*matrix.gradients, *(u.definition for u in matrix.updates))}
    for gradient, array in zip(matrix.gradients, computed.gradients):
        assert numpy.abs(printed[gradient.symbol] - array).max() <= 0.5 * 10 ** -PLACES + 1e-12, gradient.symbol
    updated = {u.parameter: u.definition.symbol for u in matrix.updates}
    for parameter, array in zip(matrix.parameters, computed.updated):
        if parameter in updated:
            assert numpy.abs(printed[updated[parameter]] - array).max() <= 0.5 * 10 ** -PLACES + 1e-12
    assert abs(float(results["E_total"][0][0]) - computed.loss) <= 0.5 * 10 ** -PLACES + 1e-12


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_format_renders_the_same_bytes_twice(name):
    first, second = (worked_matrix_solution(derive(build_network(load_spec(name)))) for _ in range(2))
    for fmt in PRINTERS:
        assert printer(fmt).doprint(first) == printer(fmt).doprint(second), fmt
    assert printer("text", ascii=True).doprint(first) == printer("text", ascii=True).doprint(second)
    assert printer("text", ascii=True).doprint(first).isascii()
    record = json.loads(printer("json").doprint(first))
    assert record["title"] == f"Worked solution in matrix form: {name}"


def test_the_sections_run_forward_then_from_the_output_back():
    titles = [s.title for s in worked_matrix_solution(derive(build_network(load_spec("deep")))).sections]
    assert titles == ["Given", "Forward pass", "Total error", "Output layer o", "Hidden layer g", "Hidden layer h",
                      "Updates"]


def test_checks_are_reported_at_the_end():
    titles = [s.title for s in sbp.matrix_solution("mazur").solution.sections]
    assert titles[-2:] == ["Matrix form against the scalar derivation", "Gradient checks"]


def test_a_relu_at_its_kink_is_noted():
    spec = {"inputs": ["1", "1"], "targets": ["0.5"], "loss": "half_squared_error",
            "layers": [{"activation": "relu", "weights": [["0.5", "-0.5"]]},
                       {"activation": "identity", "weights": [["1"]]}]}
    titles = [s.title for s in sbp.matrix_solution(spec, checks=False).solution.sections]
    assert titles[2] == "At a kink"


# --- the notation of matrices in every format ------------------------------------------------------

W, X = MatrixSymbol("W_h", 2, 2), MatrixSymbol("out_h", 2, 1)
GRADIENT = MatrixSymbol("dE_total/dW_h", 2, 2)
NUMERALS = {Symbol("a"): "0.5", Symbol("b"): "-0.25"}
EXPLICIT = ImmutableMatrix([[Symbol("a")], [Symbol("b")]])


@pytest.mark.parametrize("expr, unicode, ascii, latex", [
    (W.T * X, "W_hᵀ · out_h", "W_h^T * out_h", r"W_{h}^{T} \cdot \mathrm{out}_{h}"),
    (HadamardProduct(X, OneMatrix(2, 1) - X), "out_h ∘ (𝟙 - out_h)", "out_h .* (1 - out_h)",
     r"\mathrm{out}_{h} \circ \left(\mathbf{1} - \mathrm{out}_{h}\right)"),
    (HadamardPower(X, 2), "out_h∘²", "out_h.^2", r"\mathrm{out}_{h}^{\circ 2}"),
    (W - Symbol("eta") * GRADIENT, "W_h - η · ∂E_total/∂W_h", "W_h - eta * dE_total/dW_h",
     r"W_{h} - \eta \cdot \frac{\partial E_{\mathrm{total}}}{\partial W_{h}}"),
    (X * OneMatrix(1, 3), "out_h · 𝟙ᵀ", "out_h * 1^T", r"\mathrm{out}_{h} \cdot \mathbf{1}^{T}"),
    (MatrixSymbol("delta_o", 2, 1), "δ_o", "delta_o", r"\delta_{o}"),
    (MatrixSymbol("W_o^+", 2, 2), "W_o⁺", "W_o^+", r"W_{o}^{+}"),
])
def test_matrix_notation(expr, unicode, ascii, latex):
    assert unicode_formula(expr) == unicode
    assert text_formula(expr) == ascii
    assert latex_formula(expr) == latex


def test_explicit_matrices_print_their_numerals():
    assert unicode_formula(EXPLICIT, NUMERALS) == "[[0.5], [-0.25]]"
    assert latex_formula(EXPLICIT, NUMERALS) == r"\left[\begin{array}{r} 0.5 \\ -0.25 \end{array}\right]"
    assert mathml_formula(Transpose(EXPLICIT), NUMERALS) == (
        "<msup><mrow><mo>[</mo><mtable><mtr><mtd><mn>0.5</mn></mtd></mtr><mtr><mtd><mrow><mo>&#8722;</mo>"
        "<mn>0.25</mn></mrow></mtd></mtr></mtable><mo>]</mo></mrow><mi>T</mi></msup>")


def test_a_one_by_one_matrix_prints_as_its_entry():
    """E_total and a shared bias are 1 x 1 matrices; a hand-written solution writes them as numbers."""
    one = ImmutableMatrix([[Symbol("a")]])
    numerals = {Symbol("a"): "0.35"}
    assert unicode_formula(one, numerals) == "0.35" and latex_formula(one, numerals) == "0.35"
    text = sbp.matrix_solution("mazur", checks=False).render("text", width=None).splitlines()
    assert "b_h = b₁ = 0.35" in text
    assert any(line.startswith("E_total = ") and line.endswith(" = 0.298371109") for line in text)


def test_mathml_hadamard_and_ones():
    markup = mathml_formula(HadamardProduct(X, OneMatrix(2, 1) - X))
    assert "<mo>&#8728;</mo>" in markup and "<mn>&#120793;</mn>" in markup
    assert '<mo stretchy="false">(</mo>' in markup
    assert '<mo stretchy="false">' not in mathml_formula(HadamardPower(OneMatrix(2, 1) + EXPLICIT, -1))


# --- LaTeX, HTML, the CLI ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    folder = tmp_path_factory.mktemp("matrix")
    return {(name, suffix): solve(name, folder, suffix, "--matrix") for name in EXAMPLES for suffix in (".tex", ".html")}


@pytest.mark.parametrize("name", EXAMPLES)
def test_latex_compiles(documents, name):
    source = documents[name, ".tex"]
    assert r"\begin{array}" in source.read_text(encoding="utf-8")
    result = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", source.name],
                            cwd=source.parent, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]


def test_html_is_well_formed_and_clean_in_chromium(documents, tmp_path):
    page = documents["classifier", ".html"]
    html = page.read_text(encoding="utf-8")
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.errors == [] and checker.open == [] and "<mtable>" in html
    shot = _chromium(page, tmp_path, f"--screenshot={tmp_path / 'page.png'}", "--window-size=1200,2000")
    assert shot.returncode == 0 and _console(shot.stderr) == []
    dom = _chromium(page, tmp_path, "--dump-dom")
    assert _console(dom.stderr) == [] and "<mtable>" in dom.stdout


@pytest.mark.parametrize("options, named", [
    (["--hand-round", "4"], "--hand-round"),
    (["--detail", "full"], "--detail full"),
])
def test_options_the_matrix_form_does_not_take_exit_2_with_one_line(options, named, tmp_path, capsys):
    output = tmp_path / "out.md"
    assert main(["solve", "--matrix", *options, "-o", str(output)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and named in captured.err
    assert not output.exists()


def test_an_activation_the_matrix_form_cannot_write_exits_2(monkeypatch, tmp_path, capsys):
    coupled = Activation("softmax", lambda nets, j: nets[j] * sum(nets), coupled=True)
    monkeypatch.setitem(ACTIVATIONS, "softmax", coupled)
    output = tmp_path / "out.txt"
    assert main(["solve", "classifier", "--matrix", "-o", str(output)]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.splitlines()) == 1 and "softmax" in captured.err and not output.exists()


def test_the_api_result_displays_itself():
    solution = sbp.matrix_solution("mazur", checks=False)
    assert "<h1>Worked solution in matrix form: mazur</h1>" in solution._repr_html_()
    assert "<mtable>" in solution._repr_html_()
    assert "net_h = W_h · i + 𝟙 · b_h" in str(solution)
    assert "net_h = W_h * i + 1 * b_h" in solution.render("text", ascii=True)
