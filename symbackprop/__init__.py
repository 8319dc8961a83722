"""symbackprop: derive every gradient of a feed-forward network by the chain rule, show it, and check it.

The pipeline, one sub-package per stage: spec -> network -> derivation -> numbers -> checks ->
solution -> printers; `symbackprop.api` (re-exported here, with its `Problem`) is the Python surface,
`cli` the command.
"""

from symbackprop.api import (
    Problem, __version__, check, derivation, exercise, explain, finite_difference_checks, gradients, matrix_solution,
    network, reproduce, solve, spec, train,
)
from symbackprop.errors import CheckFailure, InputError

__all__ = ["CheckFailure", "InputError", "Problem", "__version__", "check", "derivation", "exercise", "explain",
           "finite_difference_checks", "gradients", "matrix_solution", "network", "reproduce", "solve", "spec",
           "train"]
