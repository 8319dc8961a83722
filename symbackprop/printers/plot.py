"""The loss curve of a training run, drawn with matplotlib (the optional `plot` extra)."""

from __future__ import annotations

from pathlib import Path

from symbackprop.errors import InputError
from symbackprop.numbers.training import TrainingResult

FORMATS = (".svg", ".png")


def loss_curve(result: TrainingResult, path: str) -> None:
    """E_total after each step, on a log scale, written to an .svg or .png file (deterministic bytes for SVG)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"--plot: expected a file name ending in .svg or .png, got {path!r}")
    try:
        import matplotlib
    except ImportError:
        raise InputError("--plot: needs matplotlib: pip install 'symbackprop[plot]'") from None
    matplotlib.use("Agg")
    from matplotlib import pyplot

    with matplotlib.rc_context({"svg.hashsalt": "symbackprop", "path.simplify": True}):
        figure, axes = pyplot.subplots(figsize=(7, 4))
        axes.plot(list(result.history), [float(error) for error in result.errors], color="#1f5f99")
        axes.set_yscale("log")
        axes.set_xlabel("step")
        axes.set_ylabel("E_total")
        axes.set_title(f"Gradient descent, order '{result.order}'")
        axes.grid(True, which="both", alpha=0.3)
        figure.tight_layout()
        try:
            figure.savefig(path, metadata={"Date": None} if suffix == ".svg" else None)
        except OSError as error:
            raise InputError(f"--plot: cannot write {path!r}: {error.strerror or error}") from None
        finally:
            pyplot.close(figure)
