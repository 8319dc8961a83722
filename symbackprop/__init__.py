"""symbackprop: derive every gradient of a feed-forward network by the chain rule, show it, and check it.

The pipeline, one sub-package per stage: spec -> network -> derivation -> numbers -> checks ->
solution -> printers; `symbackprop.api` (re-exported here) is the Python surface, `cli` the command.
"""

from symbackprop.api import (
    check, derivation, explain, finite_difference_checks, gradients, matrix_solution, network, reproduce, solve, spec,
    train,
)

__version__ = "0.1.0"
__all__ = ["check", "derivation", "explain", "finite_difference_checks", "gradients", "matrix_solution", "network",
           "reproduce", "solve", "spec", "train"]
