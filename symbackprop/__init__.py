"""symbackprop: derive every gradient of a feed-forward network or a computation graph by the chain rule, show
it, and check it.

The pipeline, one sub-package per stage: spec -> network -> derivation -> numbers -> checks ->
solution -> printers; `symbackprop.api` (re-exported here, with its `Problem`) is the Python surface,
`cli` the command.

The public names are loaded on first use (PEP 562), all at once: importing the package alone loads no
SymPy, so the `symbackprop` command handles Ctrl-C before its one heavy import.
"""

import importlib as _importlib
import sys as _sys
import types as _types
import typing as _typing

if _typing.TYPE_CHECKING:
    from symbackprop.api import (
        GraphProblem, Problem, __version__, check, check_solution, derivation, exercise, explain,
        finite_difference_checks, grade, gradients, graph_exercise, layer_exercise, matrix_solution, network,
        open_problem, optimizer_rules, optimizer_steps, reproduce, solve, sources, spec, train, tutor,
    )
    from symbackprop.errors import CheckFailure, InputError

__all__ = ["CheckFailure", "GraphProblem", "InputError", "Problem", "__version__", "check", "check_solution", "derivation",
           "exercise", "explain", "finite_difference_checks", "grade", "gradients", "graph_exercise", "layer_exercise",
           "matrix_solution", "network", "open_problem", "optimizer_rules", "optimizer_steps", "reproduce",
           "solve", "sources", "spec", "train", "tutor"]


def __getattr__(name: str) -> _typing.Any:
    """A name not yet bound: the API is loaded (SymPy, mpmath, ...) and every public name bound, then the name
    looked up again, as it was before this package loaded lazily (`symbackprop.api` among the sub-modules)."""
    if not name.startswith("__") or name in __all__:
        api, errors = _importlib.import_module("symbackprop.api"), _importlib.import_module("symbackprop.errors")
        globals().update({public: getattr(errors if public in ("CheckFailure", "InputError") else api, public)
                          for public in __all__})
        if name in globals():
            return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(_types.ModuleType):
    """The package, whose functions `spec`, `network` and `derivation` keep their names when the sub-packages of
    the same names are imported (the import system sets each new sub-module as an attribute of its parent)."""

    def __setattr__(self, name: str, value: object) -> None:
        if not (name in __all__ and isinstance(value, _types.ModuleType)):
            super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
