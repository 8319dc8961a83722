"""symbackprop: derive every gradient of a feed-forward network or a computation graph by the chain rule, show
it, and check it.

The pipeline, one sub-package per stage: spec -> network -> derivation -> numbers -> checks ->
solution -> printers; `symbackprop.api` (re-exported here, with its `Problem`) is the Python surface,
`cli` the command.
"""

from symbackprop.api import (
    GraphProblem, Problem, __version__, check, check_solution, derivation, exercise, explain, finite_difference_checks,
    grade, gradients, graph_exercise, layer_exercise, matrix_solution, network, open_problem, optimizer_rules, optimizer_steps, reproduce,
    solve, sources, spec, train, tutor,
)
from symbackprop.errors import CheckFailure, InputError

__all__ = ["CheckFailure", "GraphProblem", "InputError", "Problem", "__version__", "check", "check_solution", "derivation",
           "exercise", "explain", "finite_difference_checks", "grade", "gradients", "graph_exercise", "layer_exercise",
           "matrix_solution", "network", "open_problem", "optimizer_rules", "optimizer_steps", "reproduce",
           "solve", "sources", "spec", "train", "tutor"]
