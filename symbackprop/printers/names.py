"""A quantity's `Name` written in each notation: ASCII text, Unicode text, LaTeX and MathML.

The one place that writes a name; the formula reader reads every form back (formulas/reader.py).

    field            ASCII      Unicode    LaTeX                          MathML
    subscripts       w_1,2      w₁,₂       w_{1,2}                        <msub> w, 1,2
                     out_o1     out_o1     \\mathrm{out}_{\\mathrm{o1}}
    time step 3      h_1<3>     h₁⟨3⟩      h_{1}^{\\langle 3\\rangle}       superscript ⟨3⟩
    sample 2         out_o1[2]  out_o1⁽²⁾  ...^{(2)}                      superscript (2)
    after update     w_5^+      w₅⁺        w_{5}^{+}                      superscript +
    Greek base       delta_o1   δ_o1       \\delta_{\\mathrm{o1}}          δ
    partial          dE/dw_5    ∂E/∂w₅     \\frac{\\partial E}{\\partial w_{5}}  <mfrac> of ∂E and ∂w (printers/mathml.py)

Marks set together keep that order: step, sample, update (h_{1}^{\\langle 3\\rangle(2)+}).
In LaTeX a word of several letters is upright, one letter italic, as MathML sets an identifier,
so the LaTeX and the HTML read alike. In Unicode only subscripts of digits are set in subscript
characters (see `UnicodeTextPrinter`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from xml.dom.minidom import Element

from symbackprop.formulas.unicode import GREEK, subscript, superscript
from symbackprop.names import Name, partial_key

_DIGITS = re.compile(r"[0-9]+")


def ascii_name(name: Name) -> str:
    """The canonical key: w_5, out_o1[2], w_5^+, h_1<3>, w_1,2."""
    return name.key


def unicode_name(name: Name) -> str:
    """w₅, δ_o1, w₁,₂, h₁⟨3⟩, out_o1⁽²⁾, w₅⁺."""
    labels = name.subscript
    printed = GREEK.get(name.base, name.base)
    if labels and all(_DIGITS.fullmatch(label) for label in labels):
        printed += ",".join(map(subscript, labels))
    elif labels:
        printed += "_" + ",".join(labels)
    printed += f"⟨{name.step}⟩" if name.step is not None else ""
    printed += superscript(f"({name.sample})") if name.sample is not None else ""
    return printed + ("⁺" if name.updated else "")


def latex_name(name: Name) -> str:
    r"""\mathrm{net}_{\mathrm{h1}}, w_{5}^{+}, w_{1,2}, \mathrm{out}_{\mathrm{o1}}^{(2)}, h_{1}^{\langle 3\rangle}."""
    printed = _latex_word(name.base)
    if name.subscript:
        printed += "_{" + ",".join(map(_latex_word, name.subscript)) + "}"
    marks = "".join(_marks(name, step=lambda step: rf"\langle {step}\rangle", sample=lambda sample: f"({sample})",
                           updated="+"))
    return printed + (f"^{{{marks}}}" if marks else "")


def ascii_partial(of: str, wrt: str) -> str:
    """dE_total/dw_5, from the printed names of what is differentiated and by what: the key's spelling."""
    return partial_key(of, wrt)


def unicode_partial(of: str, wrt: str) -> str:
    """∂E_total/∂w₅."""
    return f"∂{of}/∂{wrt}"


def latex_partial(of: str, wrt: str) -> str:
    r"""\frac{\partial E_{total}}{\partial w_{5}}."""
    return rf"\frac{{\partial {of}}}{{\partial {wrt}}}"


def mathml_name(name: Name, element: Callable[..., Element]) -> Element:
    """<mi>, <msub>, <msup> or <msubsup>; `element(tag, *children)` builds an element, a string child as its text."""
    printed = element("mi", GREEK.get(name.base, name.base))
    below = element("mi", ",".join(name.subscript)) if name.subscript else None
    marks = _marks(name, step=lambda step: element("mrow", element("mo", "⟨"), element("mn", str(step)), element("mo", "⟩")),
                   sample=lambda sample: element("mrow", element("mo", "("), element("mn", str(sample)), element("mo", ")")),
                   updated=element("mo", "+"))
    above = None if not marks else marks[0] if len(marks) == 1 else element("mrow", *marks)
    if below is None:
        return printed if above is None else element("msup", printed, above)
    return element("msub", printed, below) if above is None else element("msubsup", printed, below, above)


def _marks(name: Name, step: Callable, sample: Callable, updated) -> list:
    """The superscript marks a name carries, in order: its time step, its sample, the update mark."""
    return ([step(name.step)] if name.step is not None else []) + \
        ([sample(name.sample)] if name.sample is not None else []) + ([updated] if name.updated else [])


def _latex_word(word: str) -> str:
    r"""A Greek letter's name as the letter (delta -> \delta), a word of several letters upright, else as it is."""
    if word in GREEK:
        return "\\" + word
    return rf"\mathrm{{{word}}}" if len(word) > 1 and not word.isdigit() else word
