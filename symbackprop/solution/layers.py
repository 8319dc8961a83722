"""A layer spec's worked solution: the graph's, with each convolution's backward pass at the layer level.

For each convolution a section states ∂E/∂K as the correlation of the input with δ, ∂E/∂b as the sum
of δ and ∂E/∂x as the full correlation of δ with the flipped kernel; then every entry of them with its
numbers (or, past `STEPS_SHOWN` entries, tables of numbers), and the proof that each entry equals the
scalar graph's chain rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from sympy import Symbol

from symbackprop.checks.matrix_form import EntryCheck
from symbackprop.derivation.convolution import ConvolutionForm
from symbackprop.names import Name, Partial, name_of, symbol
from symbackprop.network.layers import Grid
from symbackprop.solution.model import Note, Section, Step, Table, WorkedSolution

STEPS_SHOWN = 40
"""A convolution with more gradient entries than this shows them as tables of numbers."""


def with_layer_forms(solution: WorkedSolution, forms: list[ConvolutionForm], checks: list[EntryCheck]) -> WorkedSolution:
    """The graph's worked solution with a section per convolution after the backward pass."""
    sections = list(solution.sections)
    at = next((k + 1 for k, s in enumerate(sections) if s.title == "Backward pass"), len(sections))
    layer_sections = [convolution_section(form, solution.numerals,
                                          [c for c in checks if c.entry.startswith(f"{form.layer.spec.name}: ")])
                      for form in forms]
    return replace(solution, sections=tuple(sections[:at] + layer_sections + sections[at:]))


def convolution_section(form: ConvolutionForm, numerals: Mapping[Symbol, str], checks: list[EntryCheck]) -> Section:
    """One convolution at the layer level: the statement, every entry (or tables), and its proof."""
    spec, layer = form.layer.spec, form.layer
    loss, delta = next(c.scalar.of for c in checks if isinstance(c.scalar, Partial)), symbol(Name("delta"))

    def gradient(grid: Grid) -> Partial:
        return Partial(loss, symbol(Name(name_of(grid.entries[0]).base)))

    dilation = f", dilated by the stride {spec.stride} ({_zeros(spec.stride - 1)} between entries)" if spec.stride > 1 else ""
    padding = f" (padded by {_zeros(spec.padding)})" if spec.padding else ""
    pads = ", ".join(sorted({_zeros(k - 1 - spec.padding) for k in layer.kernel.shape[2:]}))
    bias = ("", gradient(layer.bias), " is the sum of ", delta, "; ") if layer.bias else ("",)
    items: list[Step | Note | Table] = [Note((
        "With ", delta, " = ", gradient(layer.output), f", the gradient at each output of {spec.name}{dilation}: ",
        gradient(layer.kernel), f" is the correlation of the input{padding} with ", delta,
        ", one term per output position for each kernel entry (the kernel is shared); ", *bias,
        gradient(layer.source), " is the full correlation of ", delta, f" (padded by {pads} on each side; cropped where negative) with "
        "the kernel flipped on every axis: the input entry m gets the kernel entry k - 1 - q times the entry m + q "
        "of the padded ", delta, "."))]
    reached = [check for check in checks if isinstance(check.scalar, Partial)]  # the others have no gradient
    if len(reached) <= STEPS_SHOWN:
        items += [Step(c.scalar, (c.matrix_value,), c.matrix_value, numerals[c.scalar]) for c in reached]
    else:
        items += [_table("δ = ∂E/∂y", form.delta, numerals, {}),
                  _table("∂E/∂K", form.layer.kernel, numerals, _gradient_symbols(checks)),
                  _table("∂E/∂x", form.layer.source, numerals, _gradient_symbols(checks))]
    equal = sum(check.equal for check in checks)
    items.append(Note(f"Proved entry by entry in SymPy: {equal} of {len(checks)} entries equal the scalar graph's "
                      f"chain rule through {spec.name} (the sum over the outputs that use the entry of δ times "
                      f"the local derivative)."))
    return Section(f"Layer {spec.name}: {spec.kind} at the layer level", tuple(items))


def _gradient_symbols(checks: list[EntryCheck]) -> dict[Symbol, Symbol]:
    """Each quantity's adjoint symbol, by the quantity."""
    return {check.scalar.wrt: check.scalar for check in checks if isinstance(check.scalar, Partial)}


def _table(title: str, grid: Grid, numerals: Mapping[Symbol, str], adjoint: Mapping[Symbol, Symbol]) -> Table:
    """A grid's numbers (the adjoint's of each entry when `adjoint` is given), one row per index before the
    last axis."""
    width = grid.shape[-1]
    rows = []
    for start in range(0, len(grid.entries), width):
        leading = grid.indices()[start][:-1]
        label = title + ("[" + ", ".join(str(i + 1) for i in leading) + "]" if leading else "")
        rows.append((label, *(numerals.get(adjoint.get(entry, entry), "0") for entry in grid.entries[start:start + width])))
    return Table(("", *(str(j + 1) for j in range(width))), tuple(rows))


def _zeros(count: int) -> str:
    return "1 zero" if count == 1 else f"{count} zeros"
