"""The `symbackprop` command: solve, gradients, train, check, exercise, reproduce, example.

Bad input exits 2 with one line on stderr naming the field and the problem; a failed
check exits 1 showing both numbers. Output files are written whole or not at all.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import re
import sys
import tempfile
from pathlib import Path

from symbackprop.api import check, matrix_solution, solve
from symbackprop.checks.budget import DEFAULT_BUDGET
from symbackprop.checks.document import load_document, reproduce
from symbackprop.checks.finite_differences import check_gradients, require
from symbackprop.derivation import derive
from symbackprop.errors import CheckFailure, InputError
from symbackprop.network import build_network
from symbackprop.printers import PRINTERS, printer
from symbackprop.numbers.kinks import kinks
from symbackprop.numbers.point import pass_values
from symbackprop.numbers.training import ORDERS, train
from symbackprop.printers.plot import loss_curve
from symbackprop.printers.report import gradients_json, gradients_text, training_json, training_text
from symbackprop.printers.reproduction import reproduction_json, reproduction_table
from symbackprop.solution import question_sheet, worked_solution
from symbackprop.solution.build import DETAILS
from symbackprop.spec import example_names, example_text, load_spec, spec_from_dict
from symbackprop.spec.exercise import exercise_spec, parse_layers

_SUFFIX_FORMATS = {".tex": "latex", ".md": "markdown", ".json": "json", ".txt": "text", ".html": "html"}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("symbackprop").strip()
        raise InputError(f"{command}: {message}" if command else message)


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        return args.run(args)
    except InputError as error:
        print(f"symbackprop: {error}", file=sys.stderr)
        return InputError.exit_code
    except CheckFailure as error:
        print(f"symbackprop: {error}", file=sys.stderr)
        return CheckFailure.exit_code


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symbackprop", description="Symbolic derivation engine for backpropagation.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    solve = commands.add_parser("solve", help="the worked solution of a spec, checked by finite differences")
    _add_spec(solve)
    solve.add_argument("--format", choices=sorted(PRINTERS), help="output format (default: from -o, else text)")
    solve.add_argument("-o", "--output", help="write to this file instead of standard output")
    solve.add_argument("--decimals", type=_natural, default=9, help="decimals shown (default 9, as the document)")
    solve.add_argument("--hand-round", type=_natural, metavar="N",
                       help="carry every intermediate rounded to N decimals, as by hand")
    solve.add_argument("--detail", choices=DETAILS, default="brief",
                       help="brief: each factor's derivative; full: every differentiation rule applied")
    solve.add_argument("--matrix", action="store_true",
                       help="the matrix form: one line per layer (net = W out + b 1^T, delta, dE/dW = delta out^T, ...)"
                            " with explicit matrices of numbers")
    _add_ascii(solve)
    solve.set_defaults(run=_solve)

    gradients = commands.add_parser("gradients", help="the loss and every gradient, with finite-difference checks")
    _add_spec(gradients)
    gradients.add_argument("--json", action="store_true", help="print JSON")
    _add_ascii(gradients)
    gradients.set_defaults(run=_gradients)

    training = commands.add_parser("train", help="steps of gradient descent on the spec's samples")
    _add_spec(training)
    training.add_argument("--steps", type=_count, required=True, help="how many steps")
    training.add_argument("--order", choices=ORDERS, default="simultaneous",
                          help="order of update (default: simultaneous, as the document's text describes)")
    training.add_argument("--every", type=_count, help="report the loss every K steps (default: steps/10)")
    precision = training.add_mutually_exclusive_group()
    precision.add_argument("--fast", action="store_true",
                           help="double precision instead of the exact (50-digit) path")
    precision.add_argument("--numpy", action="store_true",
                           help="double precision by the per-layer matrix form with numpy, for large networks "
                                "(simultaneous order only; pip install 'symbackprop[numpy]')")
    training.add_argument("--json", action="store_true", help="print JSON")
    training.add_argument("--plot", metavar="FILE", help="draw the loss curve to FILE.svg or FILE.png (matplotlib)")
    _add_ascii(training)
    training.set_defaults(run=_train)

    check = commands.add_parser("check", help="is a hand-derived formula or number right? if not, why?")
    _add_spec(check)
    written = check.add_mutually_exclusive_group(required=True)
    written.add_argument("--formula", help="a formula in LaTeX or ASCII, e.g. '\\delta_{o1} out_{h1}'")
    written.add_argument("--value", help="a number, e.g. -0.017144288")
    against = check.add_mutually_exclusive_group()
    against.add_argument("--wrt", help="compare with dE_total/dPARAM, e.g. w5")
    against.add_argument("--quantity", help="compare with this quantity, e.g. 'net_{h1}' or "
                                            "'\\frac{\\partial E_{o2}}{\\partial out_{h1}}'")
    check.add_argument("--budget", type=_seconds, default=DEFAULT_BUDGET, metavar="SECONDS",
                       help=f"give up, exit 2, after this many seconds (default {DEFAULT_BUDGET:g})")
    check.add_argument("--json", action="store_true", help="print JSON")
    _add_ascii(check)
    check.set_defaults(run=_check)

    exercise = commands.add_parser("exercise", help="a new network with fresh numbers: question sheet and answer key")
    exercise.add_argument("--layers", default="2,2,2", help="inputs, then each layer's size (default 2,2,2)")
    exercise.add_argument("--activation", default="sigmoid", help="activation of every layer (default sigmoid)")
    exercise.add_argument("--loss", default="half_squared_error", help="the loss (default half_squared_error)")
    exercise.add_argument("--seed", type=_natural_seed, required=True, help="same seed, same exercise")
    exercise.add_argument("--format", choices=sorted(PRINTERS), help="output format (default: from -o, else text)")
    exercise.add_argument("-o", "--output", help="write the question sheet to this file")
    exercise.add_argument("--answers", metavar="FILE", help="write the answer key (the worked solution) to FILE")
    exercise.add_argument("--spec-out", metavar="FILE", help="write the exercise's spec (JSON) to FILE")
    _add_ascii(exercise)
    exercise.set_defaults(run=_exercise)

    reproduction = commands.add_parser("reproduce", help="every number and formula of the document, checked")
    reproduction.add_argument("--document", default="mazur", help="which document (default: mazur)")
    reproduction.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                              help="a table (text, markdown) or a JSON list (default: text)")
    reproduction.add_argument("--json", dest="format", action="store_const", const="json",
                              help="short for --format json")
    reproduction.add_argument("-o", "--output", help="write to this file instead of standard output")
    _add_ascii(reproduction)
    reproduction.set_defaults(run=_reproduce)

    example = commands.add_parser("example", help="print a built-in example spec (no name: list them)")
    example.add_argument("name", nargs="?", help="the example's name")
    example.set_defaults(run=_example)
    return parser


def _add_spec(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", nargs="?", help="a spec file (.json, .toml) or a built-in example (default: mazur)")


def _add_ascii(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ascii", action="store_true",
                        help="plain ASCII instead of Unicode math, for terminals and logs without UTF-8")


def _natural(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,3}", text) or not 0 <= int(text) <= 50:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 50, got {text!r}")
    return int(text)


def _count(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text) or not 1 <= int(text) <= 10_000_000:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 10000000, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    if not re.fullmatch(r"[0-9]{1,4}(\.[0-9]{1,3})?", text) or not 0 < float(text) <= 3600:
        raise argparse.ArgumentTypeError(f"expected seconds from 0.001 to 3600, got {text!r}")
    return float(text)


def _natural_seed(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(text)


def _format(args: argparse.Namespace, path: str | None) -> str:
    """--format if given, else the format the file name's suffix implies, else text."""
    if args.format:
        return args.format
    return _SUFFIX_FORMATS.get(Path(path).suffix.lower(), "text") if path else "text"


def _exercise(args: argparse.Namespace) -> int:
    data = exercise_spec(parse_layers(args.layers), args.activation, args.loss, args.seed)
    derivation = derive(build_network(spec_from_dict(data)))
    sheet = printer(_format(args, args.output), ascii=args.ascii).doprint(
        question_sheet(derivation, f"Exercise {args.seed}"))
    outputs = [(sheet, args.output)]
    if args.answers:
        key = worked_solution(derivation, checks=check_gradients(derivation))
        outputs.append((printer(_format(args, args.answers), ascii=args.ascii).doprint(key), args.answers))
    if args.spec_out:
        outputs.append((json.dumps(data, indent=2) + "\n", args.spec_out))
    for text, path in outputs:
        _emit(text, path)
    return 0


def _solve(args: argparse.Namespace) -> int:
    if args.matrix:
        _require_matrix_options(args)
        solution = matrix_solution(args.spec, decimals=args.decimals)
    else:
        solution = solve(args.spec, decimals=args.decimals, hand_round=args.hand_round, detail=args.detail)
    _emit(solution.render(_format(args, args.output), ascii=args.ascii), args.output)
    return 0


def _require_matrix_options(args: argparse.Namespace) -> None:
    """--matrix shows each layer's matrices once: no rule-by-rule detail, and its numbers are carried exactly."""
    if args.hand_round is not None:
        raise InputError("--hand-round: the matrix form carries every number exactly; drop --hand-round or --matrix")
    if args.detail != "brief":
        raise InputError(f"--detail {args.detail}: the matrix form has no rule-by-rule detail; drop --detail or --matrix")


def _gradients(args: argparse.Namespace) -> int:
    derivation = derive(build_network(load_spec(args.spec)))
    values = pass_values(derivation)
    checks = check_gradients(derivation)
    at_kink = kinks(derivation.network, values)
    loss = values[derivation.network.total]
    text = gradients_json(loss, checks, at_kink) if args.json else \
        gradients_text(derivation, loss, checks, at_kink, ascii=args.ascii)
    require(checks)
    _emit(text, None)
    return 0


def _train(args: argparse.Namespace) -> int:
    backend = "numpy" if args.numpy else "math" if args.fast else "mpmath"
    if backend == "numpy":
        _require_numpy(args.order)
    derivation = derive(build_network(load_spec(args.spec)))
    every = args.every or max(args.steps // 10, 1)
    # A plot wants about a thousand points; the report's steps (multiples of `every`) must be among them.
    recorded = math.gcd(every, max(args.steps // 1000, 1)) if args.plot else every
    result = train(derivation, args.steps, args.order, backend, _progress_bar(args.steps), every=recorded)
    names = [symbol.name for symbol in derivation.network.outputs]
    if args.plot:
        loss_curve(result, args.plot)
    _emit(training_json(result, every, names) if args.json else training_text(result, every, names), None)
    return 0


def _require_numpy(order: str) -> None:
    """--numpy's preconditions, checked before any work: the simultaneous order, and numpy installed."""
    if order != "simultaneous":
        raise InputError(f"--numpy: the matrix form updates in the simultaneous order only, not --order {order}")
    if importlib.util.find_spec("numpy") is None:
        raise InputError("--numpy: needs numpy: pip install 'symbackprop[numpy]'")


def _progress_bar(steps: int):
    """A progress bar on stderr for long runs on a terminal; nothing otherwise."""
    if steps < 1000 or not sys.stderr.isatty():
        return None
    width = 40

    def show(done: int) -> None:  # train calls it about PROGRESS_CALLS times
        filled = width * done // steps
        sys.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done:,}/{steps:,}")
        if done == steps:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return show


def _check(args: argparse.Namespace) -> int:
    result = check(args.spec, formula=args.formula, value=args.value, wrt=args.wrt, quantity=args.quantity,
                   budget=args.budget)
    _emit(result.render("json" if args.json else "text", ascii=args.ascii), None)
    return 0 if result else 1


def _reproduce(args: argparse.Namespace) -> int:
    document = load_document(args.document)
    derivation = derive(build_network(load_spec(document["example"])))
    rows = reproduce(derivation, document)
    if args.format == "json":
        text = reproduction_json(rows)
    else:
        text = reproduction_table(rows, document["title"], args.format, ascii=args.ascii)
    _emit(text, args.output)
    return 0


def _example(args: argparse.Namespace) -> int:
    if args.name is None:
        print("\n".join(example_names()))
    else:
        sys.stdout.write(example_text(args.name))
    return 0


def _emit(text: str, output: str | None) -> None:
    """Print, or write the whole file at once through a temporary file beside it."""
    if output is None:
        _require_encodable(text)
        sys.stdout.write(text)
        return
    target = Path(output)
    temporary = None
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent or ".", delete=False,
                                         prefix=f".{target.name}.", suffix=".tmp") as handle:
            temporary = handle.name
            handle.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # a temporary file is private; the output should not be
        os.replace(temporary, target)
    except OSError as error:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise InputError(f"--output: cannot write {output!r}: {error.strerror or error}") from None


def _require_encodable(text: str) -> None:
    """Refuse, before anything is written, text that standard output cannot encode (PYTHONIOENCODING=ascii)."""
    try:
        text.encode(sys.stdout.encoding or "utf-8", sys.stdout.errors or "strict")
    except UnicodeEncodeError as error:
        line = text.count("\n", 0, error.start) + 1
        raise InputError(f"standard output ({error.encoding}) cannot show {text[error.start]!r} on line {line}; "
                         "use --ascii for plain ASCII, or a UTF-8 terminal") from None


if __name__ == "__main__":
    sys.exit(main())
