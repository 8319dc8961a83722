"""The benchmarks' quick mode runs and prints its ratio lines (issue #6), so that the scripts never rot.

No timing is asserted: the numbers depend on the machine; only that each script runs to the end and
prints the lines docs/performance.md is built from.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import BENCHMARKS  # noqa: E402

RATIO = re.compile(r"ratio: .+ [=>] (\d[\d.e+-]*x|n/a)(  \(.*\))?$")
"""`ratio: <label> = 2.41x  (note)`, `> 100x` for a lower bound, `n/a` when a contender is missing."""
EXPECTED = {
    "bench_solve": ["ratio: symbackprop solve / import sympy = "],
    "bench_training": ['ratio: train(backend="math") / hand loop = ', "ratio: compiled run / hand loop = ",
                       "ratio: object-per-neuron / hand loop = ", 'ratio: torch / train(backend="math") = ',
                       "ratio: Problem.train again / hand loop = ",
                       "ratio: sbp.train in a fresh process / hand loop (CPU time) = ",
                       "all contenders end at the same E_total"],
    "bench_scaling": ["ratio: naive sympy.diff / backprop derivation (2-2-2, 12 parameters) = ",
                      "ratio: compiled gradient / torch per gradient",
                      "ratio: matrix form / torch per gradient",
                      "slope: log-log derivation time against connections = ",
                      "memory: peak RSS of the largest derivation"],
    "bench_checking": ["ratio: check_gradients / derive = ", "ratio: mpmath part at 30 digits / 0.2 s = "],
    "bench_graphs": ["slope: log-log graph derivation time against nodes = ",
                     "per node: graph derivation at ", "memory: peak RSS at ", "agreement: leaves' gradients",
                     "ratio: graph derivation / micrograd-style forward+backward (300 nodes) = ",
                     "ratio: graph derivation / torch forward+backward (300 nodes) = ",
                     "ratio: naive sympy.diff / graph derivation (25 nodes) = "],
    "bench_graph_training": ["ratio: exact uncompiled step / compiled mpmath step = ",
                             "ratio: compiled mpmath step / compiled double step = ",
                             "memory: peak RSS after deriving and compiling "],
    "bench_grading": [f"rate: {kind}: planted " for kind in ("wrong-weight", "swapped", "sign", "dropped-factor",
                                                             "updated-weight", "rounding-slip", "copied-line")],
    "bench_layers": [f"ratio: {model}: {kind}, symbackprop / torch = " for model in ("convnet", "rnn", "attention")
                     for kind in ("first call", "steady step", "Adam step")] + [f"agreement: {model}: " for model in ("convnet", "rnn", "attention")],
}


def test_every_benchmark_is_checked():
    assert set(EXPECTED) == set(BENCHMARKS)
    assert all((ROOT / "benchmarks" / f"{name}.py").is_file() for name in BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_quick_mode_prints_its_ratios(name):
    done = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for expected in EXPECTED[name]:
        assert any(line.startswith(expected) for line in lines), f"no line starting {expected!r}:\n{done.stdout}"
    ratios = [line for line in lines if line.startswith("ratio: ")]
    assert all(RATIO.match(line) for line in ratios), "\n".join(ratios)
