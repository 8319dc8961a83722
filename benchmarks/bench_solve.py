"""Benchmark 1: `symbackprop solve` of the built-in example, whole process, against `import sympy`.

Each contender is a fresh process, so interpreter start-up and imports are included, as a user
sees them; every process starts in the repository, so the code measured is this source tree.
Also measured, to show where the time goes: a bare interpreter (`python -c pass`) and importing
the command's module (`import symbackprop.cli`) without running it.

    python -m benchmarks.bench_solve [--quick]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, arguments, heading, interleaved, median, ratio, seconds, table  # noqa: E402

SOLVE = [sys.executable, "-c", "import sys; from symbackprop.cli import main; sys.exit(main())", "solve"]
"""What the `symbackprop` console script runs, started from the source tree being measured (the
benchmarks run with the repository as the working directory, so this is the code under test even
when another copy of the package is installed)."""


def run(command: list[str]) -> None:
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> None:
    args = arguments(__doc__.splitlines()[0], argv=argv)
    heading("benchmark 1: symbackprop solve, whole process", args.quick)
    repeats = 3 if args.quick else 15
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import sympy"': [sys.executable, "-c", "import sympy"],
        'python -c "import symbackprop.cli"': [sys.executable, "-c", "import symbackprop.cli"],
        "symbackprop solve": SOLVE,
    }
    print(f"symbackprop solve runs: python -c {SOLVE[2]!r} solve, in {ROOT}", flush=True)
    times, _ = interleaved({name: (lambda c=c: run(c)) for name, c in commands.items()}, repeats)
    medians = {name: median(t) for name, t in times.items()}
    table(["command", f"median of {repeats}", "min", "max"],
          [[name, seconds(medians[name]), seconds(min(t)), seconds(max(t))] for name, t in times.items()])
    ratio("symbackprop solve / import sympy", medians["symbackprop solve"], medians['python -c "import sympy"'],
          "issue #6 target: at most 2.0x")
    ratio("import symbackprop.cli / import sympy", medians['python -c "import symbackprop.cli"'],
          medians['python -c "import sympy"'])
    work = medians["symbackprop solve"] - medians['python -c "import symbackprop.cli"']
    print(f"solve beyond importing its modules: {seconds(work)}", flush=True)


if __name__ == "__main__":
    main()
