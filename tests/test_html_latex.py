"""Figures, the LaTeX document through pdflatex, and the HTML page through a parser and headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sympy import Symbol

from symbackprop.checks.finite_differences import check_gradients
from symbackprop.cli import main
from symbackprop.derivation import derive
from symbackprop.network import build_network
from symbackprop.printers import HtmlPrinter, LatexPrinter, MarkdownPrinter, TextPrinter
from symbackprop.printers.breaking import broken
from symbackprop.printers.mathml import mathml_formula
from symbackprop.solution import Section, worked_solution
from symbackprop.solution.figure import Figure, path_figure
from symbackprop.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("mazur", "deep", "classifier")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def solve(name: str, folder: Path, suffix: str, *options: str) -> Path:
    path = folder / f"{name}{suffix}"
    assert main(["solve", name, *options, "-o", str(path)]) == 0
    return path


def path_of(derivation, parameter: str) -> Figure:
    return path_figure(derivation.network, derivation.gradient(parameter))


def lit_edges(figure: Figure) -> set[str]:
    return {f"{e.source}-{e.target}" for e in figure.path}


# --- the figure as data ----------------------------------------------------------------------------


def test_full_figure_labels_every_weight_and_bias(mazur):
    figure = worked_solution(mazur).figure
    weights = {e.parameter.name: e.value for e in figure.edges if e.at is not None}
    assert weights == {"w_1": "0.15", "w_2": "0.2", "w_3": "0.25", "w_4": "0.3",
                       "w_5": "0.4", "w_6": "0.45", "w_7": "0.5", "w_8": "0.55"}
    assert {n.key: n.value for n in figure.nodes if n.kind == "bias"} == {"b_1": "0.35", "b_2": "0.6"}
    assert [n.key for n in figure.nodes if n.kind != "bias"] == ["i_1", "i_2", "h1", "h2", "o1", "o2"]
    assert not figure.path


def test_path_of_an_output_weight_is_its_own_edge(mazur):
    figure = path_of(mazur, "w5")
    assert lit_edges(figure) == {"h1-o1"}
    assert {n.key for n in figure.nodes if n.highlighted} == {"h1", "o1"}


def test_path_of_a_hidden_weight_runs_through_every_edge_after_its_neuron(mazur):
    figure = path_of(mazur, "w1")
    assert lit_edges(figure) == {"i_1-h1", "h1-o1", "h1-o2"}
    assert {n.key for n in figure.nodes if n.highlighted} == {"i_1", "h1", "o1", "o2"}


def test_path_of_a_shared_bias_takes_both_its_edges(mazur):
    assert lit_edges(path_of(mazur, "b1")) == {"b_1-h1", "b_1-h2", "h1-o1", "h1-o2", "h2-o1", "h2-o2"}


def test_softmax_couples_the_layer_but_lights_no_other_weight():
    classifier = derive(build_network(load_spec("classifier")))
    figure = path_of(classifier, "w5")
    assert lit_edges(figure) == {"h1-o1"}
    assert {n.key for n in figure.nodes if n.highlighted} == {"h1", "o1", "o2", "o3"}


def test_deep_path_reaches_the_output_through_both_layers():
    deep = derive(build_network(load_spec("deep")))
    assert lit_edges(path_of(deep, "w1")) == {"i_1-h1", "h1-g1", "h1-g2", "g1-o1", "g2-o1"}


def test_every_gradient_section_has_its_path_figure(mazur):
    solution = worked_solution(mazur)
    for section in solution.sections:
        for gradient in (s for s in section.items if isinstance(s, Section) and s.title == "Gradient for"):
            first = gradient.items[0]
            assert isinstance(first, Figure) and first.symbol == mazur.gradient(gradient.symbol.name).symbol


def test_text_and_markdown_print_the_path_as_one_line(mazur):
    solution = worked_solution(mazur)
    text = TextPrinter().doprint(solution)
    assert "Paths of ∂E_total/∂w₁: i₁ -> h1 (w₁), h1 -> o1 (w₅), h1 -> o2 (w₇)." in text
    text = TextPrinter(ascii=True).doprint(solution)
    assert "Paths of dE_total/dw_1: i_1 -> h1 (w_1), h1 -> o1 (w_5), h1 -> o2 (w_7)." in text
    markdown = MarkdownPrinter().doprint(solution)
    assert r"Paths of $\frac{\partial E_{\mathrm{total}}}{\partial w_{5}}$: $h_{1}$ -> $o_{1}$ ($w_{5}$)." in markdown


# --- MathML in the document's notation -------------------------------------------------------------


@pytest.mark.parametrize("name, markup", [
    ("net_h1", "<msub><mi>net</mi><mi>h1</mi></msub>"),
    ("w_5^+", "<msubsup><mi>w</mi><mi>5</mi><mo>+</mo></msubsup>"),
    ("out_o1[2]", '<msubsup><mi>out</mi><mi>o1</mi><mrow><mo stretchy="false">(</mo><mn>2</mn>'
                  '<mo stretchy="false">)</mo></mrow></msubsup>'),
])
def test_mathml_names(name, markup):
    assert mathml_formula(Symbol(name)) == markup


def test_mathml_partial_is_a_fraction_of_partials(mazur):
    assert mathml_formula(mazur.gradient("w5").symbol) == (
        "<mfrac><mrow><mo>&#8706;</mo><msub><mi>E</mi><mi>total</mi></msub></mrow>"
        "<mrow><mo>&#8706;</mo><msub><mi>w</mi><mi>5</mi></msub></mrow></mfrac>")


def test_mathml_sets_the_checks_step_as_written_by_hand():
    """epsilon^(1/3) with a slash in the exponent (browsers draw no bevelled fraction), max as a function name."""
    from sympy import Abs, Max, Mul, Pow, Rational

    epsilon = Symbol("epsilon")
    markup = mathml_formula(Mul(Pow(epsilon, Rational(1, 3)), Max(1, Abs(Symbol("p"))), evaluate=False))
    assert "<msup><mi>&#949;</mi><mrow><mn>1</mn><mo>/</mo><mn>3</mn></mrow></msup>" in markup
    assert "<mi>max</mi>" in markup and "mroot" not in markup and "bevelled" not in markup


def test_mathml_numbers_substituted(mazur):
    update = next(u for u in mazur.updates if u.parameter.name == "w7")
    numerals = worked_solution(mazur).numerals
    markup = mathml_formula(update.expression, numerals)
    assert "<mn>0.5</mn>" in markup and "<mn>0.02260254</mn>" in markup
    assert "<mo stretchy=\"false\">(</mo><mrow><mo>&#8722;</mo><mn>0.02260254</mn></mrow>" in markup
    assert mathml_formula(Symbol("w_7"), numerals) == "<mn>0.5</mn>"


# --- LaTeX through pdflatex ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def latex_documents(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("latex")
    made = {name: solve(name, folder, ".tex") for name in EXAMPLES}
    made |= {f"{name}-matrix": solve(name, folder, "-matrix.tex", "--matrix") for name in EXAMPLES}
    made["exercise"], made["exercise-key"] = folder / "exercise.tex", folder / "exercise-key.tex"
    assert main(["exercise", "--seed", "7", "-o", str(made["exercise"]), "--answers", str(made["exercise-key"])]) == 0
    made["mazur-adam-matrix"] = solve("mazur", folder, "-adam-matrix.tex", "--matrix", "--steps", "2", "--optimizer", "adam")
    for seed in ("1", "3"):  # a sheet of 30 one-line steps; seed 3's checks table has numbers of 70 digits
        sheet, key = folder / f"attention-{seed}.tex", folder / f"attention-{seed}-key.tex"
        assert main(["exercise", "--layer", "attention", "--seed", seed, "-o", str(sheet), "--answers", str(key)]) == 0
        made[f"attention-{seed}"], made[f"attention-{seed}-key"] = sheet, key
    return made


def _pdflatex(source: Path) -> str:
    """Compile `source` beside it; the log."""
    result = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", source.name],
                            cwd=source.parent, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert source.with_suffix(".pdf").stat().st_size > 10_000
    return source.with_suffix(".log").read_text(encoding="latin-1")


def test_latex_sets_bars_quotes_and_the_checks_formulas_as_math(mazur):
    """|x| in text between math bars (the default font sets | as a dash), 'x' in opening and closing
    quotes, the step and tolerance of the checks as formulas, and names of several letters upright, as
    MathML sets them in the HTML page (the old LaTeX had italic out, net, target)."""
    tex = LatexPrinter().doprint(worked_solution(mazur, checks=check_gradients(mazur)))
    assert r"$\lvert$difference$\rvert$" in tex and r"\max\left(1, \lvert p \rvert\right)" in tex
    assert "|" not in tex.replace(r"\begin{tabular}[b]{@{}l@{}}", "")
    assert "Order of update `simultaneous': " in tex and "'simultaneous'" not in tex
    assert r"h = \epsilon^{1/3}" in tex and r"100 \cdot \epsilon^{2/3}" in tex
    assert r"\mathrm{out}_{\mathrm{h1}} &= \frac{1}{1 + e^{-\mathrm{net}_{\mathrm{h1}}}}" in tex
    assert "eps^" not in tex and r"\textasciicircum" not in tex


def test_latex_sets_one_line_steps_as_one_block(mazur):
    """The updates are one align*, their equals signs in a column, not a page of lone displays."""
    tex = LatexPrinter().doprint(worked_solution(mazur))
    updates = tex[tex.index(r"\section*{Updates}"):tex.index(r"\section*{Error after one update}")]
    assert updates.count(r"\begin{align*}") == 1
    assert re.findall(r"w_\{(\d)\}\^\{\+\} &= ", updates) == list("12345678")


def test_html_sets_one_line_steps_as_one_grid(mazur):
    """The updates in HTML, too, are one grid with the equals signs in a column."""
    html = HtmlPrinter().doprint(worked_solution(mazur))
    updates = html[html.index("<h2>Updates</h2>"):html.index("<h2>Error after one update</h2>")]
    assert updates.count('<div class="step">') == 1 and updates.count('<math class="lhs"') == 8


def test_a_long_latex_line_breaks_before_an_operator():
    """Broken outside every group, each line within the width, the pieces joined back to the formula."""
    matrix = r"\left[\begin{array}{rr} 0.300022289 & 0.300704159 \\ 0.318574631 & 0.363626383 \end{array}\right]"
    formula = rf"\left(-{matrix}\right) \circ \left({matrix} + {matrix}\right) + {matrix} \circ {matrix}"
    lines = broken(formula, 400)
    assert lines == [rf"\left(-{matrix}\right)", rf"\circ \left({matrix} + {matrix}\right)",
                     rf"+ {matrix} \circ {matrix}"]
    assert broken("x + y", 400) == ["x + y"]


def test_a_long_bracket_breaks_before_its_own_operator():
    """A piece too wide with no top-level operator left (Adam's update of a matrix) is broken inside its widest
    bracket, each line's brackets paired: the cut closed by \\right. and reopened by \\left."""
    matrix = r"\left[\begin{array}{rr} 0.300022289 & 0.300704159 \\ 0.318574631 & 0.363626383 \end{array}\right]"
    inverse = rf"\left({matrix} + {matrix}\right)^{{\circ -1}}"
    lines = broken(rf"\cdot \left({inverse} \circ {matrix}\right)", 400)
    assert lines == [rf"\cdot \left({inverse} \right.", rf"\left. \circ {matrix}\right)"]
    assert broken(rf"\cdot \left({matrix} {matrix}\right)", 200) == [rf"\cdot \left({matrix} {matrix}\right)"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_latex_document_compiles_with_its_figures(latex_documents, name):
    source = latex_documents[name]
    tex = source.read_text(encoding="utf-8")
    assert r"\usepackage{tikz}" in tex
    assert tex.index(r"\begin{tikzpicture}") < tex.index(r"\section*")
    derivation = derive(build_network(load_spec(name)))
    assert tex.count(r"\begin{tikzpicture}") == 1 + len(derivation.gradients)
    _pdflatex(source)


@pytest.mark.parametrize("name", [*EXAMPLES, *(f"{name}-matrix" for name in EXAMPLES), "exercise", "exercise-key",
                                  "mazur-adam-matrix", "attention-1", "attention-1-key", "attention-3", "attention-3-key"])
def test_latex_document_has_no_overfull_line(latex_documents, name):
    """Set as a textbook is set: nothing sticks out into the margin or below the page (pdflatex logs each)."""
    log = _pdflatex(latex_documents[name])
    assert re.findall(r"Overfull \\[hv]box.*", log) == []


def test_the_overfull_check_sees_an_overfull_line(tmp_path):
    """The check above is not vacuous: a line wider than the page is logged as pdflatex logs it."""
    source = tmp_path / "wide.tex"
    source.write_text("\\documentclass{article}\\begin{document}\\[" + "x + " * 200 + "x \\]\\end{document}\n",
                      encoding="utf-8")
    assert re.findall(r"Overfull \\hbox.*", _pdflatex(source))


# --- HTML: self-contained, well formed, and clean in a browser -------------------------------------


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    return solve("mazur", tmp_path_factory.mktemp("html"), ".html")


class _Checker(HTMLParser):
    """Every element closed in order (void elements aside); every attribute and tag collected."""

    VOID = {"meta", "link", "br", "hr", "img", "input", "line", "circle", "rect", "path", "mspace"}

    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes += [(name, value or "") for name, value in attrs]
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes += [(name, value or "") for name, value in attrs]

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.open[-1] if self.open else 'nothing'}>")
        else:
            self.open.pop()


def test_html_page_is_self_contained_and_well_formed(page):
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<math" in html and "<svg" in html
    assert "<script" not in html.lower()
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.errors == [] and checker.open == []
    assert not checker.tags & {"script", "link", "img", "iframe", "object", "embed", "image", "use"}
    external = [(name, value) for name, value in checker.attributes
                if name != "xmlns" and re.match(r"\s*(https?:)?//", value)]
    assert external == []
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert "url(" not in style and "@import" not in style


def test_html_has_the_figures_and_the_numbers(page, mazur):
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 1 + len(mazur.gradients)
    assert html.index("<svg") < html.index("<section>")
    assert "0.593269992" in html and "0.082167041" in html


def _browser() -> str:
    found = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    assert found, "headless Chromium is needed: apt-get install chromium (.ci/run installs it)"
    return found


def _chromium(page: Path, folder: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([_browser(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           f"--user-data-dir={folder / 'profile'}", "--enable-logging=stderr", "--v=0",
                           *arguments, page.as_uri()],
                          capture_output=True, text=True, timeout=180)


def _console(stderr: str) -> list[str]:
    """What the page said on the console, and any uncaught error."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


WIDTHS = (800, 1200)
HTML_PAGES = {name: ("solve", name) for name in EXAMPLES} | {
    f"{name}-matrix": ("solve", name, "--matrix") for name in EXAMPLES} | {
    "mazur-full": ("solve", "mazur", "--detail", "full"),
    "exercise": ("exercise", "--seed", "7"),
    "exercise-key": ("exercise", "--seed", "7", "--answers"),
    "staged": ("solve", "staged"),
    "neuron": ("solve", "neuron"),
    "graph-exercise-key": ("exercise", "--graph", "--nodes", "12", "--seed", "7", "--answers"),
}
"""Every HTML page the built-in examples make: the worked solutions, the matrix forms, a full derivation,
an exercise sheet and its answer key; the computation graphs' worked solutions and a graph exercise's key."""


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pages")
    made = {}
    for name, (command, *arguments) in HTML_PAGES.items():
        made[name] = folder / f"{name}.html"
        output = ["--answers", str(made[name]), "-o", str(folder / "sheet.html")] if "--answers" in arguments \
            else ["-o", str(made[name])]
        assert main([command, *(a for a in arguments if a != "--answers"), *output]) == 0
    return made


_MEASURE = """
<script>
const printed = PRINTED;
addEventListener('load', () => {
  const cut = [];
  const name = e => e.tagName.toLowerCase() + ' "' + e.textContent.replace(/\\s+/g, ' ').trim().slice(0, 50) + '"';
  const scrolls = e => getComputedStyle(e).overflowX !== 'visible';
  for (const item of document.querySelectorAll('math, .why, table, svg')) {
    if (item.parentElement.closest('math')) continue;
    let box = item.parentElement;
    while (box !== document.body && !scrolls(box)) box = box.parentElement;
    const at = item.getBoundingClientRect(), around = box.getBoundingClientRect();
    if (box.scrollLeft !== 0) cut.push(name(item) + ': its box starts scrolled by ' + box.scrollLeft + 'px');
    if (at.left < around.left - 0.5) cut.push(name(item) + ': ' + (around.left - at.left) + 'px cut off at the left');
    if (box === document.body && at.right > document.body.clientWidth + 0.5)
      cut.push(name(item) + ': ' + (at.right - document.body.clientWidth) + 'px beyond the page at the right');
  }
  for (const why of document.querySelectorAll('.why')) {
    const step = why.parentElement, right = step.getBoundingClientRect().right;
    const formulas = Math.max(...[...step.querySelectorAll('math')].map(m => m.getBoundingClientRect().right));
    if (formulas <= right + 0.5 && why.getBoundingClientRect().right > right + 0.5)
      cut.push(name(why) + ': the rule label is cut off at the right, though its formulas fit');
  }
  const main = document.querySelector('main'), inner = main.getBoundingClientRect();
  const right = inner.right - parseFloat(getComputedStyle(main).paddingRight);
  for (const table of document.querySelectorAll('table')) {
    if (scrolls(table.parentElement)) {
      if (printed) cut.push('table ' + name(table.rows[0]) + ': in a scroll box, which paper clips');
      continue;
    }
    const over = table.getBoundingClientRect().right - right;
    if (over > 0.5) cut.push('table ' + name(table.rows[0]) + ': ' + over + 'px wider than the page');
  }
  if (document.documentElement.scrollWidth > document.documentElement.clientWidth)
    cut.push('the page scrolls sideways');
  const out = document.createElement('pre');
  out.id = 'measured';
  out.textContent = JSON.stringify(cut);
  document.body.append(out);
});
</script>
"""
"""Writes into the page what is cut off: each formula, rule label, table or figure whose left edge lies left
of its scroll box (or of the page), any scroll box not at its left edge, any table outside a scroll box that
is wider than the page's text (on paper, any table in a scroll box), any rule label cut off at the right
of a step whose formulas fit, and sideways scrolling of the whole page."""


def _cut_off(page: Path, folder: Path, width: int, *, print_media: bool = False) -> list[str]:
    """What `_MEASURE` finds in `page` at `width` CSS pixels; with `print_media`, the page's print style is
    applied on screen (width then being a sheet's printable width)."""
    html = page.read_text(encoding="utf-8")
    if print_media:
        assert "@media print {" in html
        html = html.replace("@media print {", "@media all {")
    measured = folder / f"measured-{page.stem}-{width}.html"
    script = _MEASURE.replace("PRINTED", "true" if print_media else "false")
    measured.write_text(html.replace("</body>", script + "</body>"), encoding="utf-8")
    dom = _chromium(measured, folder, "--dump-dom", f"--window-size={width},1000", "--virtual-time-budget=5000")
    assert dom.returncode == 0, dom.stderr[-3000:]
    assert _console(dom.stderr) == []
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom.stdout, re.S)
    assert found, dom.stdout[-2000:]
    return json.loads(unescape(found.group(1)))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", HTML_PAGES)
def test_every_equation_is_whole_in_chromium(pages, name, width, tmp_path):
    """A screenshot renders, and no formula, rule label, table or figure is cut off at the left or reaches past
    the page: a line too long for the page scrolls from its left edge."""
    screenshot = tmp_path / f"{name}-{width}.png"
    shot = _chromium(pages[name], tmp_path, f"--screenshot={screenshot}", f"--window-size={width},2000")
    assert shot.returncode == 0, shot.stderr[-3000:]
    assert _console(shot.stderr) == []
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 50_000
    assert _cut_off(pages[name], tmp_path, width) == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_printed_page_keeps_the_checks_table_within_the_sheet(pages, name, tmp_path):
    """The print style fits the checks table on an A4 or Letter sheet (about 700 CSS pixels inside the margins)."""
    assert _cut_off(pages[name], tmp_path, 700, print_media=True) == []


def test_the_measurement_sees_a_centred_overflowing_line(tmp_path):
    """The check above is not vacuous: a wide formula centred in a narrow scroll box is caught."""
    page = tmp_path / "centred.html"
    page.write_text('<!DOCTYPE html><title>x</title><body><main><div style="display: grid; justify-content: center; '
                    'overflow-x: auto; width: 200px"><math><mi>' + "x" * 200 + "</mi></math></div>"
                    "<table><tr><td>" + "9" * 300 + "</td></tr></table></main></body>", encoding="utf-8")
    found = _cut_off(page, tmp_path, 800)
    assert any("cut off at the left" in line for line in found)
    assert any("wider than the page" in line for line in found)


_FORMULAS = """
<script>
addEventListener('load', () => {
  const formulas = [...document.querySelectorAll('.symbackprop math')];
  const flat = [...document.querySelectorAll('.symbackprop mfrac')].filter(f => {
    const [above, below] = [...f.children].map(c => c.getBoundingClientRect());
    return !(above.bottom <= below.top + 1);
  });
  const out = document.createElement('pre');
  out.id = 'measured';
  out.textContent = JSON.stringify({
    formulas: formulas.length,
    empty: formulas.filter(m => { const r = m.getBoundingClientRect(); return !(r.width > 0 && r.height > 0); }).length,
    fractions: document.querySelectorAll('.symbackprop mfrac').length,
    flat: flat.length,
    raw: ['$$', '\\frac', '<math'].filter(mark => document.body.innerText.includes(mark)),
  });
  document.body.append(out);
});
</script>
"""
"""Writes into the page how its formulas came out: how many, how many have no size, how many fractions are
not set one part above the other (MathML not laid out), and any TeX or markup shown as text."""


def test_tutorial_notebook_shows_its_formulas_in_chromium(tutorial, tmp_path):
    """The executed tutorial, converted by nbconvert, shows rendered MathML with no network (so no MathJax)."""
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(tutorial)
    page = tmp_path / "tutorial.html"
    page.write_text(html.replace("</body>", _FORMULAS + "</body>"), encoding="utf-8")
    dom = _chromium(page, tmp_path, "--dump-dom", "--window-size=1000,1000", "--virtual-time-budget=5000")
    assert dom.returncode == 0, dom.stderr[-3000:]
    found = json.loads(unescape(re.search(r'<pre id="measured">(.*?)</pre>', dom.stdout, re.S).group(1)))
    assert found["formulas"] > 100 and found["fractions"] > 50
    assert found["empty"] == 0 and found["flat"] == 0 and found["raw"] == []


def test_html_page_renders_in_headless_chromium(page, tmp_path):
    dom = _chromium(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-3000:]
    assert _console(dom.stderr) == []
    assert "<math" in dom.stdout and "<mfrac>" in dom.stdout and "<svg" in dom.stdout


# --- the generated page stays in sync --------------------------------------------------------------


def test_worked_solution_page_is_current(mazur):
    expected = HtmlPrinter().doprint(worked_solution(mazur, checks=check_gradients(mazur)))
    actual = (ROOT / "docs" / "worked-solution.html").read_text(encoding="utf-8")
    assert actual == expected, "regenerate with: symbackprop solve -o docs/worked-solution.html"


def test_html_and_latex_are_deterministic(mazur, tmp_path):
    assert HtmlPrinter().doprint(worked_solution(mazur)) == HtmlPrinter().doprint(worked_solution(mazur))
    (tmp_path / "again").mkdir()
    assert solve("deep", tmp_path, ".tex").read_bytes() == solve("deep", tmp_path / "again", ".tex").read_bytes()


def test_the_console_check_sees_a_console_error(tmp_path):
    """The check above is not vacuous: a page that logs an error is caught."""
    noisy = tmp_path / "noisy.html"
    noisy.write_text("<!DOCTYPE html><title>x</title><script>console.error('boom')</script>", encoding="utf-8")
    result = _chromium(noisy, tmp_path, "--dump-dom")
    assert any("boom" in line for line in _console(result.stderr))
