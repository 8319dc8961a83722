"""The loss curve of a training run, drawn with matplotlib (the optional `plot` extra)."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

from symbackprop.errors import InputError
from symbackprop.numbers.training import TrainingResult

FORMATS = ("svg", "png")


def plot_format(path: str) -> str:
    """The format a loss curve's file name asks for (svg or png), checked before any training is done."""
    suffix = Path(path).suffix.lower().removeprefix(".")
    if suffix not in FORMATS:
        raise InputError(f"plot: expected a file name ending in .svg or .png, got {path!r}")
    if importlib.util.find_spec("matplotlib") is None:
        raise InputError("plot: needs matplotlib: pip install 'symbackprop[plot]'")
    return suffix


def loss_curve(result: TrainingResult, fmt: str) -> bytes:
    """E_total after each step, on a log scale, as the bytes of an SVG or PNG file (deterministic for SVG)."""
    if fmt not in FORMATS:
        raise InputError(f"plot: expected svg or png, got {fmt!r}")
    try:
        import matplotlib
    except ImportError:
        raise InputError("plot: needs matplotlib: pip install 'symbackprop[plot]'") from None
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
        drawn = io.BytesIO()
        try:
            figure.savefig(drawn, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
        finally:
            pyplot.close(figure)
    return drawn.getvalue()
