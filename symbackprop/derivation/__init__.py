"""Stage 3: every derivative of the loss as chain-rule data (factors, paths, deltas, updates)."""

from symbackprop.derivation.backprop import activation_derivative, derive
from symbackprop.derivation.graph import local_derivative
from symbackprop.derivation.model import (
    Definition, Delta, Derivation, Gradient, LocalDerivative, PathTerm, Sensitivity, Update,
)

__all__ = ["Definition", "Delta", "Derivation", "Gradient", "LocalDerivative", "PathTerm", "Sensitivity",
           "Update", "activation_derivative", "derive", "local_derivative"]
