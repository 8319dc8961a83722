"""Benchmark 4: the cost of checking every gradient of the document's network by finite differences.

Contenders, interleaved:

- `check_gradients(derivation)`: the whole check as `solve` and `gradients` run it (double
  differences through the compiled loss, and mpmath differences at `FD_DIGITS` digits);
- its parts: the symbolic values at 50 digits (`pass_values`), generating the compiled loss
  (`compile_loss(..., backend="math")`), and the mpmath high-precision differences alone for
  every parameter, at the library's `FD_DIGITS` and at 30 digits (h = 1e-10, the precision issue
  #6 names);
- `derive` of the same network, for scale.

SymPy's expression cache is emptied before every timed run, so that no run reuses expressions
built by the previous one.

    python -m benchmarks.bench_checking [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    arguments, cold_sympy, heading, interleaved, median, ratio, seconds, table,
)

TARGET_30_DIGITS = 0.2
"""Seconds: issue #6's target for the mpmath check of every parameter at 30 digits."""


def main(argv: list[str] | None = None) -> None:
    args = arguments(__doc__.splitlines()[0], argv=argv)
    heading("benchmark 4: finite-difference checking cost, the document's network", args.quick)
    repeats = 5 if args.quick else 21

    from symbackprop.checks import finite_differences
    from symbackprop.checks.finite_differences import check_gradients
    from symbackprop.derivation import derive
    from symbackprop.network import build_network
    from symbackprop.numbers.point import pass_values
    from symbackprop.numbers.training import compile_loss
    from symbackprop.spec import load_spec

    spec = load_spec("mazur")
    derivation = derive(build_network(spec))
    parameters = derivation.network.parameters
    library_digits = finite_differences.FD_DIGITS

    def high_precision(digits: int | None = None, exponent: int | None = None):
        saved = finite_differences.FD_DIGITS, finite_differences.FD_EXPONENT
        if digits is not None:
            finite_differences.FD_DIGITS, finite_differences.FD_EXPONENT = digits, exponent
        try:
            return [finite_differences._high_precision_difference(derivation, p.symbol) for p in parameters]
        finally:
            finite_differences.FD_DIGITS, finite_differences.FD_EXPONENT = saved

    names = {
        "check": "check_gradients (whole check)",
        "mpmath": f"mpmath differences alone, {library_digits} digits",
        "mpmath30": "mpmath differences alone, 30 digits",
        "values": "pass_values (symbolic values, 50 digits)",
        "compile": 'compile_loss(backend="math") (the double check\'s loss)',
        "derive": "build_network + derive (for scale)",
    }
    contenders = {
        names["check"]: lambda: check_gradients(derivation),
        names["mpmath"]: high_precision,
        names["mpmath30"]: lambda: high_precision(30, 10),
        names["values"]: lambda: pass_values(derivation),
        names["compile"]: lambda: compile_loss(derivation, backend="math"),
        names["derive"]: lambda: derive(build_network(spec)),
    }
    times, results = interleaved(contenders, repeats, before=cold_sympy)
    checks = results[names["check"]]
    if any(c.status != "pass" for c in checks):
        raise SystemExit("a gradient check did not pass")
    symbolic = [c.symbolic for c in checks]
    worst = max(float(abs(h - s) / abs(s)) for h, s in zip(results[names["mpmath30"]], symbolic))
    medians = {name: median(t) for name, t in times.items()}
    print(f"{len(parameters)} parameters, {len(checks)} checks passed; median of {repeats} interleaved runs "
          "(SymPy's cache emptied before each); "
          f"30-digit differences agree with the symbolic gradients to {worst:.1e} (relative)", flush=True)
    table(["contender", "time", "per parameter"],
          [[name, seconds(medians[name]), seconds(medians[name] / len(parameters))] for name in contenders])
    ratio("check_gradients / derive", medians[names["check"]], medians[names["derive"]])
    ratio(f"mpmath part ({library_digits} digits) / check_gradients", medians[names["mpmath"]],
          medians[names["check"]])
    ratio("mpmath part at 30 digits / 0.2 s", medians[names["mpmath30"]], TARGET_30_DIGITS,
          "issue #6 target: under 1x")


if __name__ == "__main__":
    main()
