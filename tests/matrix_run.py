"""One run of the matrix form's numpy function, for the tests: E_total, the outputs, every gradient and
the parameters after one step, with the gradients and updates by the scalar engine's parameter names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from symbackprop.derivation.matrix import MatrixDerivation, derive_matrix
from symbackprop.network import Network
from symbackprop.numbers.matrix import MatrixProgram, compile_matrix, named_values, point_arrays


@dataclass(frozen=True)
class MatrixGradients:
    """E_total, dE/dW_l and dE/db_l, and the parameters after one step, as float64 arrays."""

    derivation: MatrixDerivation = field(repr=False)
    loss: float
    outputs: Any
    """The output layer's outs, one column per sample."""
    gradients: tuple[Any, ...]
    """One array per matrix parameter, in `derivation.parameters` order (weights, then biases)."""
    updated: tuple[Any, ...]

    def named(self, network: Network) -> dict[str, float]:
        """Every gradient by the scalar engine's parameter name (w1, b1), for comparison with it."""
        return named_values(self.derivation, self.gradients, network)

    def named_updates(self, network: Network) -> dict[str, float]:
        """Every parameter after the step by name (untrained ones unchanged)."""
        return named_values(self.derivation, self.updated, network)


def matrix_gradients(network: Network, program: MatrixProgram | None = None,
                     parameters: Sequence[Any] | None = None) -> MatrixGradients:
    """E_total and every gradient by the matrix form (`program`, or the network's, compiled here), at the
    spec's numbers or at `parameters` (float arrays in `MatrixDerivation.parameters` order)."""
    program = program or compile_matrix(derive_matrix(network.spec))
    spec_parameters, inputs, targets, eta = point_arrays(program.derivation, network)
    loss, outputs, gradients, updated = program.function(
        *(parameters if parameters is not None else spec_parameters), inputs, targets, eta)
    return MatrixGradients(program.derivation, float(loss[0, 0]), outputs, tuple(gradients), tuple(updated))
