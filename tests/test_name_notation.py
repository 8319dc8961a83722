"""Every name the printers write, in every notation, reads back as the same name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import example, given, strategies as st
from sympy import Symbol

from symbackprop.formulas import read_formula
from symbackprop.formulas.reader import FormulaError
from symbackprop.names import Name, name_of, symbol
from symbackprop.names import Partial
from symbackprop.network.symbols import sample_total_symbol
from symbackprop.printers.math import latex_formula, text_formula, unicode_formula
from symbackprop.printers.mathml import mathml_formula
from symbackprop.graph_problem import GraphProblem
from symbackprop.problem import Problem, open_problem
from symbackprop.spec import example_names

PRINTERS = {"ascii": text_formula, "unicode": unicode_formula, "latex": latex_formula}
_RESERVED = {"e", "exp", "ln", "log", "tanh", "sigma", "sqrt", "Etotal", "max", "min", "if"}
"""Words the reader takes for a function, Euler's number or an alias: not a name's base."""

_bases = st.from_regex(r"[A-Za-z]{1,6}", fullmatch=True).filter(lambda word: word not in _RESERVED)
_labels = st.from_regex(r"[A-Za-z]{1,3}[0-9]{0,2}|[0-9]{1,3}", fullmatch=True)
names = st.builds(Name, _bases, st.lists(_labels, max_size=3).map(tuple),
                  st.none() | st.integers(1, 999), st.none() | st.integers(0, 999), st.booleans())


def _quantities(example: str) -> set[Symbol]:
    problem = open_problem(example)
    if isinstance(problem, GraphProblem):  # a computation graph: its nodes, leaves and backward pass
        lines = [*problem.graph.forward_definitions(), *problem.derived.definitions()]
    else:
        derived = problem.derived
        lines = [*derived.network.forward_definitions(), *((d.symbol, d.expression) for d in derived.definitions),
                 *((u.symbol, u.expression) for u in derived.updates)]
    return {s for quantity, expression in lines for s in expression.free_symbols | {quantity}}


@pytest.mark.parametrize("notation", PRINTERS)
@pytest.mark.parametrize("example", example_names())
def test_every_symbol_of_the_examples_reads_back_in_every_notation(example, notation):
    quantities = _quantities(example)
    assert any(isinstance(q, Partial) for q in quantities) and any(not isinstance(q, Partial) for q in quantities)
    for quantity in quantities:
        assert read_formula(PRINTERS[notation](quantity)) == quantity, (quantity, PRINTERS[notation](quantity))


@pytest.mark.parametrize("notation", PRINTERS)
@given(name=names)
@example(name=Name("A", ("mu",)))  # LaTeX writes a Greek label as the letter, A_{\mu}, which the reader refused at '_'
@example(name=Name("w", ("eta", "3"), step=2))
def test_every_name_reads_back_in_every_notation(notation, name):
    assert name_of(read_formula(PRINTERS[notation](symbol(name)))) == name


@pytest.mark.parametrize("name, ascii, unicode, latex", [
    (Name("w", ("1", "2")), "w_1,2", "w₁,₂", "w_{1,2}"),
    (Name("net", ("h2", "1")), "net_h2,1", "net_h2,1", r"\mathrm{net}_{\mathrm{h2},1}"),
    (Name("h", ("1",), step=3), "h_1<3>", "h₁⟨3⟩", r"h_{1}^{\langle 3\rangle}"),
    (Name("out", ("o1",), sample=2), "out_o1[2]", "out_o1⁽²⁾", r"\mathrm{out}_{\mathrm{o1}}^{(2)}"),
    (Name("w", ("5",), updated=True), "w_5^+", "w₅⁺", "w_{5}^{+}"),
    (Name("w", ("5",), sample=2, updated=True), "w_5[2]^+", "w₅⁽²⁾⁺", "w_{5}^{(2)+}"),
    (Name("delta", ("o1",)), "delta_o1", "δ_o1", r"\delta_{\mathrm{o1}}"),
    (Name("eta"), "eta", "η", r"\eta"),
])
def test_each_field_in_each_notation(name, ascii, unicode, latex):
    printed = [printer(symbol(name)) for printer in PRINTERS.values()]
    assert printed == [ascii, unicode, latex]


def test_mathml_sets_every_mark_as_a_superscript():
    printed = mathml_formula(symbol(Name("h", ("1",), sample=2, step=3, updated=True)))
    assert printed.startswith("<msubsup><mi>h</mi><mi>1</mi><mrow><mrow><mo>&#10216;</mo><mn>3</mn>")
    assert printed.endswith("<mo>+</mo></mrow></msubsup>")


@pytest.mark.parametrize("text, key", [("E_share[1]", "E_share[1]"), ("E_total[1]", "E_total[1]"),
                                       ("net_h1[1]", "net_h1[1]"), (r"net_{h1}^{(1)}", "net_h1[1]"),
                                       ("out_o1[2]^+", "out_o1[2]^+")])
def test_a_sample_written_in_ascii_or_latex_is_a_name_not_a_product(text, key):
    """Issue #15: E_total[1] was E_total times 1, the batch's total, compared without a word."""
    assert read_formula(text) == Symbol(key)


def test_a_bracket_after_a_space_is_a_group():
    assert read_formula("out_o1 [2]") == 2 * Symbol("out_o1")


@pytest.mark.parametrize("text", ["w_5[0]", "w_5^{(0)}"])
def test_a_mark_no_name_can_carry_is_refused(text):
    with pytest.raises(FormulaError, match="not a name"):
        read_formula(text)


_PACKAGE = Path(__file__).resolve().parent.parent / "symbackprop"
_OWNERS = {_PACKAGE / "names.py", _PACKAGE / "printers" / "names.py"}
_SPLITTERS = {"partition", "rpartition", "split", "rsplit", "removesuffix", "removeprefix"}


def _shape(node: ast.JoinedStr) -> tuple:
    """An f-string's parts: its constants as they are, each formatted value as None."""
    return tuple(part.value if isinstance(part, ast.Constant) else None for part in node.values)


_BUILT = {("[", None, "]"), ("<", None, ">"), (None, "_", None), ("d", None, "/d", None), ("∂", None, "/∂", None)}
"""f-strings that write a sample [2], a time step <3>, base_subscript, or a partial d.../d... ."""


def _builds_or_splits_names(tree: ast.AST) -> list[str]:
    """Where a module writes a name's marks into a string, or splits a name at one."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and (_shape(node) in _BUILT or any(
                isinstance(part, ast.Constant) and "^+" in part.value for part in node.values)):
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _SPLITTERS \
                and any(isinstance(a, ast.Constant) and a.value in ("^+", "[", "]", "<", "/", "_", "d") for a in node.args):
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Constant) and node.value in ("^+", "⁺"):
            found.append(repr(node.value))
    return found


def test_only_the_name_modules_build_or_split_names():
    offenders = {str(path.relative_to(_PACKAGE)): found for path in sorted(_PACKAGE.rglob("*.py"))
                 if path not in _OWNERS and (found := _builds_or_splits_names(ast.parse(path.read_text())))}
    assert offenders == {}


@pytest.mark.parametrize("planted", ['f"{base}_{label}"', 'f"[{sample}]"', 'f"<{step}>"', 'key.partition("^+")',
                                     'name + "^+"', 'f"{name}^+"', 'f"d{of}/d{wrt}"', 'key.partition("/")',
                                     'key.partition("[")', 'key.split("_")'])
def test_the_name_check_finds_what_it_looks_for(planted):
    assert _builds_or_splits_names(ast.parse(planted))


@pytest.mark.parametrize("written", ["E_total[1]", "E_total⁽¹⁾", r"E_{total}^{(1)}"])
def test_check_compares_a_samples_loss_with_that_sample_not_the_batch(written):
    """Issue #15: --quantity 'E_total[1]' was compared with the batch's E_total."""
    problem = Problem("classifier")
    first_sample = f"{float(problem.values[sample_total_symbol(1)]):.10f}"
    assert problem.check(value=first_sample, quantity=written)
    assert not problem.check(value=first_sample, quantity="E_total")
