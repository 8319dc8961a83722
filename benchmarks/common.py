"""Shared helpers for the benchmarks: interleaved timing, medians, ratio lines, test networks.

Every benchmark measures its contenders side by side in one run and prints ratios; none of
them passes or fails on time. Contenders are interleaved (one run of each per round, the
order rotated every round) so that a slow moment of the machine is shared between them
rather than landing on one.
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent


def arguments(description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None,
              argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and smaller sizes: seconds, not minutes (what CI runs)")
    if extra is not None:
        extra(parser)
    return parser.parse_args(argv)


def interleaved(contenders: dict[str, Callable[[], object]], repeats: int, warmup: bool = True,
                before: Callable[[], None] | None = None,
                clock: Callable[[], float] = time.perf_counter) -> tuple[dict[str, list[float]], dict[str, object]]:
    """Wall times in seconds of `repeats` runs of every contender, in rotating round-robin order.

    `before()`, when given, runs before every timed run, untimed (e.g. `cold_sympy`). `clock`:
    `time.process_time` measures CPU time instead, which a busy machine's other processes do not inflate.
    Returns the times per contender and each contender's last return value (for fairness checks).
    """
    names = list(contenders)
    results: dict[str, object] = {}
    if warmup:
        for name in names:
            results[name] = contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            if before is not None:
                before()
            start = clock()
            results[name] = contenders[name]()
            times[name].append(clock() - start)
    return times, results


def cold_sympy() -> None:
    """Empty SymPy's expression cache and symbackprop's own caches (the activation identities, the
    names, the formulas read per shape), so that a repeated run builds its expressions afresh, as the
    first run in a new process does, rather than finding them cached by the previous repeat."""
    from sympy.core.cache import clear_cache

    from symbackprop.derivation import identities, rules
    from symbackprop import names
    from symbackprop.formulas import reader
    clear_cache()
    for cached in (identities._output_form, identities._coupled_form, names.parse_key, rules._outer_derivative,
                   rules._in_value, reader._template, reader._word_key):
        cached.cache_clear()


def peak_rss_mib() -> float:
    """This process's peak resident memory: VmHWM where Linux gives it (its own, even right after exec),
    else ru_maxrss (which on Linux also counts the parent's memory when the parent forked this process)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def median(values: list[float]) -> float:
    return statistics.median(values)


def seconds(value: float | None) -> str:
    """A duration in the unit that reads best."""
    if value is None or math.isnan(value):
        return "n/a"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.1f} us"


def ratio(label: str, numerator: float | None, denominator: float | None, note: str = "") -> str:
    """One ratio line: `ratio: <label> = <x>x`, the line the tests look for."""
    if numerator is None or denominator is None or denominator == 0:
        value = "n/a"
    else:
        value = f"{numerator / denominator:.3g}x"
    line = f"ratio: {label} = {value}"
    print(line + (f"  ({note})" if note else ""), flush=True)
    return line


def heading(title: str, quick: bool) -> None:
    mode = "quick" if quick else "full"
    print(f"== {title} ({mode} mode; Python {platform.python_version()}, {cpu_model()}, "
          f"{_cpu_count()} CPUs) ==", flush=True)


def table(header: list[str], rows: list[list[str]]) -> None:
    """A Markdown table, so that the output can be pasted into docs/performance.md."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
    sys.stdout.flush()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _cpu_count() -> int:
    import os
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def torch_or_none():
    """PyTorch if it is installed (an optional contender), else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def numpy_or_none():
    """numpy if it is installed (for symbackprop's matrix form and the hand-written reference), else None."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def loglog_slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log y against log x."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def dense_spec(sizes: tuple[int, ...], seed: int = 6) -> dict:
    """A fully connected sigmoid network with per-neuron biases, half squared error, one sample.

    `sizes` = (inputs, hidden..., outputs). Numbers are short decimal strings (exact in the spec),
    drawn from a fixed seed so that every run measures the same network. Biases are trained too,
    so that every parameter's gradient is computed.
    """
    rng = random.Random(seed)

    def number(low: float, high: float) -> str:
        return f"{rng.uniform(low, high):.3f}"

    layers = []
    for index, (fan_in, size) in enumerate(zip(sizes, sizes[1:])):
        scale = 1 / math.sqrt(fan_in)
        layers.append({
            "name": "o" if index == len(sizes) - 2 else f"h{index + 1}" if len(sizes) > 3 else "h",
            "activation": "sigmoid",
            "weights": [[number(-scale, scale) for _ in range(fan_in)] for _ in range(size)],
            "bias": [number(-0.5, 0.5) for _ in range(size)],
        })
    return {
        "name": "dense-" + "-".join(map(str, sizes)),
        "inputs": [number(0, 1) for _ in range(sizes[0])],
        "targets": [number(0.05, 0.95) for _ in range(sizes[-1])],
        "layers": layers,
        "loss": "half_squared_error",
        "learning_rate": 0.5,
        "update_biases": True,
    }


def parameter_count(sizes: tuple[int, ...]) -> int:
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def connection_count(sizes: tuple[int, ...]) -> int:
    return sum(a * b for a, b in zip(sizes, sizes[1:]))
