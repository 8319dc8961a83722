"""The matrix form of backpropagation as a worked solution, one line per layer quantity.

The given matrices (each beside the scalar symbols of its entries), the forward pass layer by
layer, the total error, each layer's backward pass from the output back (dE_total/dout, delta,
the gradients), and the updates. Each step is `symbol = the derivation's expression = the same
with explicit matrices of numbers = the result`. The numbers are the scalar engine's values at
full precision (`pass_values`), placed by `derivation/entries.py` (entry (j, s) of net_h is
net_hj of sample s; entry (j, k) of dE_total/dW_h is dE_total/dw_n), and rounded only to print.
An optimizer's steps are worked per weight matrix too (`matrix_optimizer_items`), with the scalar worked
steps' exact values placed entry by entry.
"""

from __future__ import annotations

from collections.abc import Callable

from sympy.matrices.expressions import MatrixSymbol

from symbackprop.checks.finite_differences import GradientCheck
from symbackprop.checks.matrix_form import EntryCheck
from symbackprop.derivation import Derivation
from symbackprop.derivation.entries import optimizer_entries, scalar_entries
from symbackprop.derivation.matrix import MatrixDefinition, MatrixDerivation, MatrixLayer, derive_matrix, optimizer_lines
from symbackprop.derivation.optimizers import OptimizerRule
from symbackprop.numbers.optimizers import WorkedStep
from symbackprop.numbers.kinks import kinks
from symbackprop.numbers.point import pass_values
from symbackprop.numbers.rounding import display_numerals
from symbackprop.solution.build import check_section, fixed_biases_note, kink_section
from symbackprop.solution.figure import network_figure
from symbackprop.solution.model import Note, Section, Step, WorkedSolution

NOTATION = ("One column per sample; a weight matrix has a row per neuron of its layer and a column per input to it. "
            "Beside the matrix product, the product entry by entry (Hadamard) is written with a small circle "
            "(.* in plain text), and a power of every entry with the circle raised (.^); the bold 1 is a matrix of "
            "ones, transposed a row of ones; a function of a matrix applies to every entry; a 1 x 1 matrix is written as "
            "its entry. Each given matrix is shown with the scalar quantities that are its entries.")


def worked_matrix_solution(derivation: Derivation, places: int = 9, checks: list[GradientCheck] | None = None,
                    proof: list[EntryCheck] | None = None, matrix: MatrixDerivation | None = None) -> WorkedSolution:
    """The matrix form of the derivation's network worked with its numbers, every number to `places` decimals.

    `checks` (finite differences of every gradient) and `proof` (every entry of the matrix form against
    the scalar derivation, `checks/matrix_form.py`), when given, are reported at the end.
    """
    network = derivation.network
    matrix = matrix or derive_matrix(network.spec)
    values = pass_values(derivation)
    numerals = display_numerals(values, places)
    entries = scalar_entries(derivation, matrix)

    def step(definition: MatrixDefinition) -> Step:
        expression = definition.expression
        return Step(definition.symbol, (expression,), expression.xreplace(entries), entries[definition.symbol])

    def given(symbol: MatrixSymbol) -> Step:
        return Step(symbol, (entries[symbol],), None, entries[symbol])

    parameters = [symbol for layer in matrix.layers for symbol in (layer.weights, layer.bias) if symbol is not None]
    sections = [
        Section("Given", (Note(NOTATION), *(given(s) for s in (matrix.inputs, matrix.targets, *parameters)),
                          Step(matrix.learning_rate, (), None, numerals[matrix.learning_rate]))),
        Section("Forward pass", tuple(step(d) for layer in matrix.layers for d in (layer.net, layer.out))),
        Section("Total error", (step(matrix.total),)),
        *(_backward(layer, layer is matrix.layers[-1], step) for layer in reversed(matrix.layers)),
        Section("Updates", (*fixed_biases_note(matrix.spec), *(step(u.definition) for u in matrix.updates))),
    ]
    at_kink = kink_section(kinks(network, values))
    if at_kink is not None:
        sections.insert(2, at_kink)
    if proof is not None:
        sections.append(Section("Matrix form against the scalar derivation", (Note(
            f"Each of the {len(proof)} entries of the lines above, written out from the matrices, equals the "
            "scalar derivation's quantity for that entry, symbolically."),)))
    if checks is not None:
        sections.append(check_section(derivation, checks))
    return WorkedSolution(f"Worked solution in matrix form: {network.spec.name}", tuple(sections), numerals, places,
                          network_figure(network, numerals))


def _backward(layer: MatrixLayer, output: bool, step) -> Section:
    """dE_total/dout, delta and the gradients of one layer."""
    definitions = (layer.sensitivity, layer.delta, layer.weight_gradient, layer.bias_gradient)
    title = f"Output layer {layer.name}" if output else f"Hidden layer {layer.name}"
    return Section(title, tuple(step(d) for d in definitions if d is not None))



def matrix_optimizer_items(derivation: Derivation, matrix: MatrixDerivation,
                           rule: OptimizerRule) -> Callable[[WorkedStep], list[Step]]:
    """A worked step's lines per weight matrix and bias (`optimizer_lines`): g_Wh<k> = dE_total/dW_h, then each
    line of the rule with its matrices, the same with explicit matrices of numbers, and the result; each entry's
    number is the scalar worked step's (entry (j, k) of m_Wh<k> is m_w<k> of W_h's entry (j, k))."""
    network = derivation.network

    def items(step: WorkedStep) -> list[Step]:
        entries = optimizer_entries(network, matrix, rule, step.step)
        return [Step(d.symbol, (d.expression,), None, entries[d.symbol]) if isinstance(d.expression, MatrixSymbol)
                else Step(d.symbol, (d.expression,), d.expression.xreplace(entries), entries[d.symbol])
                for d in optimizer_lines(matrix, rule, step.step)]
    return items


def matrix_optimizer_notes(proof: list[EntryCheck] | None) -> tuple[Note, ...]:
    """What the optimizer's steps in matrix form write, and the proof of their entries when it was run."""
    notes = [Note("Per weight matrix and bias: each line of the rule entry by entry, m, v, mhat and vhat matrices "
                  "of the parameter's shape (the small circle the product entry by entry, a power of every entry "
                  "with the circle raised, the bold 1 a matrix of ones), each setting a number.")]
    if proof is not None:
        notes.append(Note(f"Each of the {len(proof)} entries of these lines, written out from the matrices at any "
                          "step t, equals the scalar rule's line for that entry's parameter, symbolically."))
    return tuple(notes)
