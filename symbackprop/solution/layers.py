"""A layer spec's worked solution: the graph's, with each convolution, RNN, dropout, embedding and residual
at the layer level.

For each convolution a section states ∂E/∂K as the correlation of the input with δ, ∂E/∂b as the sum
of δ and ∂E/∂x as the full correlation of δ with the flipped kernel; for each RNN, backpropagation
through time (∂E/∂h<t> from the output and from the next step, δ<t>, then the parameters' gradients as
sums over time). Then every entry with its numbers (past `STEPS_SHOWN` entries, tables of numbers), and
the proof that each entry equals the scalar graph's chain rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from sympy import Symbol

from symbackprop.checks.layers import LayerForm
from symbackprop.checks.matrix_form import EntryCheck
from symbackprop.derivation.convolution import ConvolutionForm
from symbackprop.names import Name, Partial, name_of, symbol
from symbackprop.network.layers import BuiltLayer, Grid, chunk_ends
from symbackprop.solution.model import Note, Section, Step, Table, WorkedSolution

STEPS_SHOWN = 40
"""A layer with more gradient entries than this shows them as tables of numbers."""


def with_layer_forms(solution: WorkedSolution, forms: Sequence[LayerForm], checks: list[EntryCheck]) -> WorkedSolution:
    """The graph's worked solution with a section per layer-level form after the backward pass; `checks`
    are `checks.layers.check_layer_forms`'s, in the forms' order."""
    sections = list(solution.sections)
    at = next((k + 1 for k, s in enumerate(sections) if s.title == "Backward pass"), len(sections))
    layer_sections, start = [], 0
    for form in forms:
        count = len(form.gradients)
        layer_sections.append(layer_section(form, solution.numerals, checks[start:start + count]))
        start += count
    return replace(solution, sections=tuple(sections[:at] + layer_sections + sections[at:]))


def layer_section(form: LayerForm, numerals: Mapping[Symbol, str], checks: list[EntryCheck]) -> Section:
    """One layer at the layer level: the statement, every entry (or tables), and its proof."""
    spec = form.layer.spec
    loss = next((c.scalar.of for c in checks if isinstance(c.scalar, Partial)), symbol(Name("E")))

    def gradient(entries: Sequence[Symbol]) -> Partial:
        """∂E/∂K for the entries K_1, K_2, ...: the quantity by its base name."""
        return Partial(loss, symbol(Name(name_of(entries[0]).base)))

    items: list[Step | Note | Table] = [_statement(form, gradient), *_truncation(form.layer, gradient)]
    shown = [(check, gradient.expression) for check, gradient in zip(checks, form.gradients)
             if isinstance(check.scalar, Partial)]  # the others do not reach the loss: no gradient
    if isinstance(form, ConvolutionForm) and len(shown) > STEPS_SHOWN:
        adjoint = {check.scalar.wrt: check.scalar for check, _ in shown}
        for title, grid, of in (((symbol(Name("delta")), " = ", gradient(form.layer.output.entries)), form.delta, {}),
                                ((gradient(form.layer.kernel.entries),), form.layer.kernel, adjoint),
                                ((gradient(form.layer.source.entries),), form.layer.source, adjoint)):
            items += [Note((*title, ", by index:")), _table(grid, numerals, of)]
    else:  # the first STEPS_SHOWN entries worked, the others' numbers in a table
        items += [Step(check.scalar, (expression,), expression, numerals[check.scalar])
                  for check, expression in shown[:STEPS_SHOWN]]
        if len(shown) > STEPS_SHOWN:
            items += [Note(f"The other {len(shown) - STEPS_SHOWN} entries, each from the same formula:"),
                      Table(("gradient", "value"), tuple((check.scalar, numerals[check.scalar])
                                                         for check, _ in shown[STEPS_SHOWN:]))]
    equal = sum(check.equal for check in checks)
    items.append(Note(f"Proved entry by entry in SymPy: {equal} of {len(checks)} entries equal the scalar graph's "
                      f"chain rule through {spec.name} (the sum, over the layer's nodes that use the entry, of the "
                      f"node's gradient times the local derivative)."))
    return Section(f"Layer {spec.name}: {spec.kind} at the layer level", tuple(items))


def _statement(form: LayerForm, gradient) -> Note:
    """What the layer-level form says, in words and formulas."""
    layer = form.layer
    kind = layer.spec.kind
    if isinstance(form, ConvolutionForm):
        return _convolution_statement(layer, gradient, symbol(Name("delta")))
    if kind == "dropout":
        return Note(("Dropout with the given mask and scale: ", gradient(layer.source.entries),
                     f" is {layer.spec.scale} times the mask times ", gradient(layer.output.entries),
                     ", entry by entry: a dropped entry (mask 0) gets no gradient."))
    if kind == "embedding":
        return Note(("An embedding looks up one row of the table per input token: ", gradient(layer.kernel.entries),
                     " in the row of token v is the sum of ", gradient(layer.output.entries),
                     " over the inputs holding v (one term per use); the rows of tokens not in the input get 0."))
    if kind in ("layernorm", "batchnorm"):
        line = {key: gradient(layer.timeline[key].entries) for key in ("n", "x")}
        over = "each row over its features" if kind == "layernorm" else "each feature over the batch (training mode)"
        return Note((f"Normalizing {over}: ", line["n"], " is gamma times ", gradient(layer.output.entries),
                     "; ", gradient(layer.kernel.entries), " sums ", gradient(layer.output.entries), " times n and ",
                     gradient(layer.bias.entries), " sums ", gradient(layer.output.entries), " over the entries of "
                     "each feature; for a group of m entries, ", line["x"], " is the three-term formula (var + epsilon)"
                     "^(-1/2)/m times (m ", line["n"], " minus the group's sum of ", line["n"], " minus n times the "
                     "group's sum of ", line["n"], " times n): the gradient through the mean and the variance "
                     "folded in."))
    if kind == "residual":
        return Note(("A residual connection r = x + F(x): the block's output gets ", gradient(layer.output.entries),
                     " unchanged, and ", gradient(layer.source.entries), " is ", gradient(layer.output.entries),
                     " through the skip plus the gradient through the block F."))
    if kind == "lstm":
        line = {key: gradient(grid.entries) for key, grid in layer.timeline.items()}
        return Note((
            "Backpropagation through time, going back from the last step: ", line["h"], " at each step is V transposed "
            "times ", gradient(layer.output.entries), " plus, for each gate, its U transposed times the gradient at "
            "the next step's pre-activation z; ", line["c"], " is ", line["h"], " times o times tanh's derivative at c, "
            "plus the next step's ", line["c"], " times its forget gate f. Then ", line["o"], " = ", line["h"],
            " times tanh(c), ", line["i"], " = ", line["c"], " times g, ", line["g"], " = ", line["c"], " times i, ",
            line["f"], " = ", line["c"], " times the previous step's c, and each gate's pre-activation gets the gate's "
            "gradient times its derivative written in its output (q(1 - q) for a sigmoid gate q, 1 - g squared for "
            "the candidate). W, U, V and the biases are shared across time: each of their gradients is a sum over "
            "the steps."))
    if kind == "attention":
        line = layer.timeline
        first = {key: gradient(list(line[key].values()) if isinstance(line[key], dict) else line[key].entries)
                 for key in ("q", "k", "v", "s", "a")}
        mask = " (causal: each row over the positions up to its own)" if layer.spec.causal else ""
        mask += f", in each of the {layer.spec.heads} heads (its share of the columns)" if layer.spec.heads > 1 else ""
        heads = gradient(line["o"].entries)
        return Note((
            "Self-attention backwards: ", *_projection_statement(layer, heads, gradient), first["v"],
            " is A transposed times ", heads, "; ", first["a"], " is ", heads, " times V transposed; through the row softmax", mask,
            ", ", first["s"], " = a times (", first["a"], " minus the row's sum of a times ", first["a"],
            "), the softmax's Jacobian times a vector without the Jacobian; ", first["q"], " is ", first["s"],
            " times K and ", first["k"], " is ", first["s"], " transposed times Q, each over sqrt(d); the weights' "
            "gradients are X transposed times the projections' gradients, and the input's gradient the sum of each "
            "projection's gradient times its weights transposed."))
    if kind == "gru":
        line = {key: gradient(grid.entries) for key, grid in layer.timeline.items()}
        return Note((
            "Backpropagation through time, going back from the last step: ", line["h"], " at each step is V transposed "
            "times ", gradient(layer.output.entries), " plus, from the next step, U_r and U_u transposed times the "
            "gradients at z_r and z_u, U_n transposed times the gradient at z_n times r, and the next ", line["h"],
            " times its update gate u. Then ", line["n"], " = ", line["h"], " times (1 - u), ", line["u"], " = ",
            line["h"], " times (the previous h - n), ", line["r"], " is U_n transposed times the gradient at z_n, "
            "times the previous h, and each gate's pre-activation gets the gate's gradient times its derivative "
            "written in its output. W, U, V and the biases are shared across time: each of their gradients is a sum "
            "over the steps."))
    parts = layer.recurrent
    hidden = gradient(layer.timeline["h"].entries)
    return Note((
        "Backpropagation through time: going back from the last step, ", hidden, " at each step is V transposed times ", gradient(layer.output.entries), " at that step plus U transposed times the ",
        "gradient at the next step's pre-activation s; that gradient at s is ", hidden,
        " times tanh's derivative written in the output, 1 - h squared. W, U, V",
        ", b" if "b" in parts else "", ", c" if "c" in parts else "",
        " are shared across time, so each gradient is a sum over the steps, one term per step: ",
        gradient(parts["W"].entries), " sums the gradient at s times the input x, ", gradient(parts["U"].entries),
        " the same times the previous state, ", gradient(parts["V"].entries),
        " the output's gradient times the state."))


def _projection_statement(layer: BuiltLayer, heads: Partial, gradient) -> tuple:
    """An attention's output projection, in words, before its heads' (nothing without one)."""
    if "WO" not in layer.recurrent:
        return ()
    entry = name_of(layer.recurrent["WO"].entries[0])  # W_O,1,1: the matrix is W_O
    matrix = Partial(heads.of, symbol(Name(entry.base, entry.subscript[:-2])))
    output = gradient(layer.output.entries)
    return ("the output projection y = o W_O (the heads' outputs o side by side, then W_O) first: ", matrix,
            " is o transposed times ", output, " and ", heads, " is ", output, " times W_O transposed; then ")


def _truncation(layer: BuiltLayer, gradient) -> list[Note]:
    """What truncated BPTT changes, and what its gradient is the exact gradient of, for a recurrent layer with
    `truncate`."""
    k, steps = layer.spec.truncate, layer.source.shape[0]
    if k is None:
        return []
    ends = chunk_ends(layer.spec, steps)
    every = "every step" if k == 1 else f"every {k} steps"
    if not ends:
        return [Note(f"Truncated BPTT {every} over {steps} step{'s' if steps > 1 else ''}: no chunk ends inside the "
                     "sequence, so this is the full BPTT.")]
    copies: list = []
    for key in ("hd", "cd"):
        if key in layer.timeline:
            copy, state = (symbol(Name(base)) for base in (key, key[0]))
            copies += [" and " if copies else "", copy, " = detach(", state, ")"]
    return [Note((f"Truncated BPTT {every}: the state after step{'s' if len(ends) > 1 else ''} "
                  f"{', '.join(map(str, ends))} enters the next step as ", *copies, ", the same value with derivative "
                  "0, so no gradient crosses the end of a chunk: ", gradient([copies[1]]), " takes the next step's "
                  "terms and ", gradient([copies[3]]), " keeps only its own step's. Every gradient here, and its "
                  "finite-difference check, is the exact gradient of E with the detached states held fixed; the full "
                  "gradient adds the terms that flow back across the chunk boundaries."))]


def _convolution_statement(layer: BuiltLayer, gradient, delta: Symbol) -> Note:
    spec = layer.spec
    dilation = f", dilated by the stride {spec.stride} ({_zeros(spec.stride - 1)} between entries)" if spec.stride > 1 else ""
    padding = f" (padded by {_zeros(spec.padding)})" if spec.padding else ""
    pads = ", ".join(sorted({_zeros(k - 1 - spec.padding) for k in layer.kernel.shape[2:]}))
    bias = ("", gradient(layer.bias.entries), " is the sum of ", delta, "; ") if layer.bias else ("",)
    return Note((
        "With ", delta, " = ", gradient(layer.output.entries), f", the gradient at each output of {spec.name}{dilation}: ",
        gradient(layer.kernel.entries), f" is the correlation of the input{padding} with ", delta,
        ", one term per output position for each kernel entry (the kernel is shared); ", *bias,
        gradient(layer.source.entries), " is the full correlation of ", delta, f" (padded by {pads} on each side; "
        "cropped where negative) with the kernel flipped on every axis: the input entry m gets the kernel entry "
        "k - 1 - q times the entry m + q of the padded ", delta, "."))


def _table(grid: Grid, numerals: Mapping[Symbol, str], adjoint: Mapping[Symbol, Symbol]) -> Table:
    """A grid's numbers (the adjoint's of each entry when `adjoint` is given), one row per index before the
    last axis, labelled by those indices."""
    width = grid.shape[-1]
    rows = []
    for start in range(0, len(grid.entries), width):
        label = ", ".join(str(i + 1) for i in grid.indices()[start][:-1])
        rows.append((label, *(numerals.get(adjoint.get(entry, entry), "0") for entry in grid.entries[start:start + width])))
    return Table(("", *(str(j + 1) for j in range(width))), tuple(rows))


def _zeros(count: int) -> str:
    return "1 zero" if count == 1 else f"{count} zeros"
