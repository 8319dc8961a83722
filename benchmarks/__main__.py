"""Run every benchmark, each in its own process: `python -m benchmarks [--quick] [NAME ...]`."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from benchmarks import BENCHMARKS
from benchmarks.common import ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the quick mode of each (what CI runs)")
    parser.add_argument("names", nargs="*", choices=[[], *BENCHMARKS], metavar="NAME",
                        help=f"some of {', '.join(BENCHMARKS)} (default: all)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    failed = []
    for name in args.names or BENCHMARKS:
        command = [sys.executable, "-m", f"benchmarks.{name}"] + (["--quick"] if args.quick else [])
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            failed.append(name)
        print(flush=True)
    summary = f"benchmarks done in {time.perf_counter() - start:.1f} s"
    print(summary + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
