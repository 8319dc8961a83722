"""The `symbackprop` command: solve, gradients, train, check, grade, exercise, reproduce, tutor, example.

Bad input exits 2 with one line on stderr naming the field and the problem; a failed
check exits 1 showing both numbers. Output files are written whole or not at all.
"""

from __future__ import annotations

import argparse
import functools
import re
import signal
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from symbackprop.errors import CheckFailure, InputError
from symbackprop.output import destination, destinations, emit, write

if TYPE_CHECKING:
    from symbackprop import api  # imported by main(), once Ctrl-C is handled

_SUFFIX_FORMATS = {".tex": "latex", ".md": "markdown", ".json": "json", ".txt": "text", ".html": "html"}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("symbackprop").strip()
        raise InputError(f"{command}: {message}" if command else message)


class _Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that files being written are cleaned up."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code: 0 done, 1 a check failed, 2 bad input, 130 Ctrl-C, 143 SIGTERM.

    Ctrl-C and SIGTERM are handled from the start, the API's import (SymPy: a second or more) among what they
    interrupt."""
    args = None
    previous = _on_sigterm(_terminate)
    try:
        _import_api()
        args = _build_parser().parse_args(argv)
        return args.run(args)
    except InputError as error:
        return _fail(_in_options(error, args), InputError.exit_code)
    except CheckFailure as error:
        return _fail(str(error), CheckFailure.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 128 + signal.SIGINT)
    except _Terminated:
        return _fail("terminated", 128 + signal.SIGTERM)
    finally:
        _on_sigterm(previous)


def _import_api() -> None:
    """Bind `api`, the module every command calls, here rather than at import, where Ctrl-C was a traceback."""
    global api
    from symbackprop import api


def _on_sigterm(handler: Callable | int | None) -> Callable | int | None:
    """Install `handler` for SIGTERM and return the one before; nothing for None (a handler set outside
    Python) or outside the main thread, where Python cannot set handlers (main() run by a worker thread)."""
    if handler is None:
        return None
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:
        return None


def _fail(message: str, code: int) -> int:
    print(f"symbackprop: {message}", file=sys.stderr)
    return code


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symbackprop", description="Symbolic derivation engine for backpropagation.")
    parser.add_argument("--version", action="version", version=f"symbackprop {api.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    solve = commands.add_parser("solve", help="the worked solution of a spec, checked by finite differences")
    _add_spec(solve)
    solve.add_argument("--format", choices=sorted(api.PRINTERS), help="output format (default: from -o, else text)")
    solve.add_argument("-o", "--output", help="write to this file instead of standard output")
    solve.add_argument("--decimals", type=_natural, default=9, help="decimals shown (default 9, as the document)")
    solve.add_argument("--hand-round", type=_natural, metavar="N",
                       help="carry every intermediate rounded to N decimals, as by hand")
    solve.add_argument("--detail", choices=api.DETAILS, default="brief",
                       help="brief: each factor's derivative; full: every differentiation rule applied")
    solve.add_argument("--steps", type=_natural, metavar="K",
                       help="work K steps of the optimizer with numbers at the end (default: 1 for an optimizer "
                            "other than sgd, else 0)")
    solve.add_argument("--optimizer", choices=api.OPTIMIZERS,
                       help="the optimizer whose steps are worked (default: the spec's); see docs/optimizers.md")
    solve.add_argument("--matrix", action="store_true",
                       help="the matrix form: one line per layer (net = W out + b 1^T, delta, dE/dW = delta out^T, ...)"
                            " with explicit matrices of numbers")
    _add_ascii(solve)
    _add_width(solve)
    solve.set_defaults(run=_solve, parser=solve)

    gradients = commands.add_parser("gradients", help="the loss and every gradient, with finite-difference checks")
    _add_spec(gradients)
    _add_format(gradients)
    _add_ascii(gradients)
    _add_width(gradients)
    gradients.set_defaults(run=_gradients, parser=gradients)

    training = commands.add_parser("train", help="steps of gradient descent on the spec's samples")
    _add_spec(training)
    training.add_argument("--steps", type=_count, required=True, help="how many steps")
    training.add_argument("--order", choices=api.ORDERS, default="simultaneous",
                          help="order of update (default: simultaneous, as the document's text describes)")
    training.add_argument("--every", type=_count, help="report the loss every K steps (default: steps/10)")
    training.add_argument("--optimizer", choices=api.OPTIMIZERS,
                          help="the update rule (default: the spec's optimizer, else sgd); see docs/optimizers.md")
    precision = training.add_mutually_exclusive_group()
    precision.add_argument("--fast", action="store_true",
                           help="double precision instead of the exact (50-digit) path (a layer spec: the numpy "
                                "fast path, layer by layer)")
    precision.add_argument("--numpy", action="store_true",
                           help="double precision by the per-layer matrix form with numpy, for large networks "
                                "(a layer spec: its numpy fast path, as --fast; simultaneous order only; "
                                "pip install 'symbackprop[numpy]')")
    _add_format(training)
    training.add_argument("--decimals", type=_natural, default=9,
                          help="decimals shown in the text report (default 9, as solve); JSON keeps every digit")
    training.add_argument("--plot", metavar="FILE", help="draw the loss curve to FILE.svg or FILE.png (matplotlib)")
    _add_ascii(training)
    _add_width(training)
    training.set_defaults(run=_train, parser=training)

    check = commands.add_parser("check", help="is a hand-derived formula or number right? if not, why?")
    _add_spec(check)
    written = check.add_mutually_exclusive_group(required=True)
    written.add_argument("--formula", help="a formula in LaTeX or ASCII, e.g. '\\delta_{o1} out_{h1}'")
    written.add_argument("--value", help="a number, e.g. -0.017144288")
    written.add_argument("--solution", metavar="FILE", help="a whole hand solution, one step per line ('-': stdin)")
    against = check.add_mutually_exclusive_group()
    against.add_argument("--wrt", help="compare with dE_total/dPARAM, e.g. w5")
    against.add_argument("--quantity", help="compare with this quantity, e.g. 'net_{h1}' or "
                                            "'\\frac{\\partial E_{o2}}{\\partial out_{h1}}'")
    check.add_argument("--hand-round", metavar="ROUNDING",
                       help="how the intermediates were rounded by hand: N decimals, Nsf significant figures, or per "
                            "kind, e.g. outputs=3,deltas=4 (kinds: nets, outputs, errors, deltas, gradients, updates; "
                            "rule=truncated or half-even)")
    check.add_argument("--budget", type=_seconds, metavar="SECONDS",
                       help=f"give up, exit 2, after this many seconds (default {api.DEFAULT_BUDGET:g}, "
                            f"{api.SOLUTION_BUDGET:g} with --solution)")
    check.add_argument("--optimizer", choices=api.OPTIMIZERS,
                       help="the optimizer whose steps (mhat_w5<2>, w_5<3>) are checked, as solve --steps worked "
                            "them (default: the spec's); see docs/optimizers.md")
    _add_format(check)
    _add_ascii(check)
    _add_width(check)
    check.set_defaults(run=_check, parser=check)

    grade = commands.add_parser("grade", help="grade a whole hand solution: score, every line's verdict, feedback")
    _add_spec(grade)
    grade.add_argument("solution", help="the solution, one step per line ('-': stdin)")
    grade.add_argument("--budget", type=_seconds, default=api.SOLUTION_BUDGET, metavar="SECONDS",
                       help=f"give up, exit 2, after this many seconds (default {api.SOLUTION_BUDGET:g})")
    grade.add_argument("--optimizer", choices=api.OPTIMIZERS,
                       help="the optimizer whose steps the solution works, as solve --steps worked them (default: the "
                            "spec's); see docs/optimizers.md")
    _add_format(grade)
    _add_ascii(grade)
    _add_width(grade)
    grade.set_defaults(run=_grade, parser=grade)

    exercise = commands.add_parser("exercise", help="a new network (or computation graph, or layer) with fresh "
                                                     "numbers: question sheet and answer key")
    exercise.add_argument("--layers", help="inputs, then each layer's size (default 2,2,2)")
    exercise.add_argument("--activation", help="activation of every layer (default sigmoid)")
    exercise.add_argument("--loss", help="the loss (default half_squared_error)")
    exercise.add_argument("--graph", action="store_true", help="a random computation graph instead of a network")
    exercise.add_argument("--nodes", type=_natural_seed, help="with --graph: how many nodes, the last the loss f (default 6)")
    exercise.add_argument("--ops", help="with --graph: the mix of operations, from +,-,*,/,exp,log,sqrt,tanh,sigma "
                                        "(default +,*,exp,tanh,sigma)")
    exercise.add_argument("--layer", metavar="KIND", help="a small network about one layer instead: "
                                                          f"{', '.join(api.LAYER_EXERCISES)} (docs/layers.md)")
    exercise.add_argument("--seed", type=_natural_seed, required=True, help="same seed, same exercise")
    exercise.add_argument("--format", choices=sorted(api.PRINTERS), help="output format (default: from -o, else text)")
    exercise.add_argument("-o", "--output", help="write the question sheet to this file")
    exercise.add_argument("--answers", metavar="FILE", help="write the answer key (the worked solution) to FILE")
    exercise.add_argument("--spec-out", metavar="FILE", help="write the exercise's spec (JSON) to FILE")
    exercise.add_argument("--prairielearn", metavar="DIR", help="write a PrairieLearn question (info.json, "
                                                                 "question.html, server.py) into the folder DIR "
                                                                 "(made if missing)")
    _add_ascii(exercise)
    _add_width(exercise)
    exercise.set_defaults(run=_exercise, parser=exercise)

    reproduction = commands.add_parser("reproduce", help="every number and formula a published source prints, checked")
    reproduction.add_argument("document", nargs="?", default="mazur", metavar="NAME",
                              help="which source (default: mazur; --list names them)")
    reproduction.add_argument("--list", action="store_true", help="list the sources with their titles")
    reproduction.add_argument("-o", "--output", help="write to this file instead of standard output")
    _add_format(reproduction, "(default: from -o, else text)")
    _add_ascii(reproduction)
    _add_width(reproduction)
    reproduction.set_defaults(run=_reproduce, parser=reproduction)

    tutoring = commands.add_parser("tutor", help="a self-contained HTML page to work through the solution step by "
                                                 "step, each typed number checked (docs/tutor.md)")
    _add_spec(tutoring)
    tutoring.add_argument("-o", "--output", help="write the page to this file instead of standard output")
    tutoring.add_argument("--decimals", type=_natural, default=9, help="decimals the working shows (default 9)")
    tutoring.set_defaults(run=_tutor, parser=tutoring)

    example = commands.add_parser("example", help="print a built-in example spec (no name: list them)")
    example.add_argument("name", nargs="?", help="the example's name")
    _add_ascii(example)
    example.set_defaults(run=_example, parser=example)
    return parser


def _add_spec(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", nargs="?", help="a spec file (.json, .toml) or a built-in example (default: mazur)")


def _add_format(parser: argparse.ArgumentParser, default: str = "(default: text)") -> None:
    """--format, and --json for --format json: every result prints in every format."""
    parser.add_argument("--format", choices=sorted(api.PRINTERS), help=f"output format {default}")
    parser.add_argument("--json", dest="format", action="store_const", const="json", help="short for --format json")


def _add_ascii(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ascii", action="store_true",
                        help="plain ASCII instead of Unicode math, for terminals and logs without UTF-8")


def _add_width(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--width", type=_columns, metavar="N",
                        help="break text lines at N columns (default: the terminal's width, 80 when not a terminal;"
                             " 0: never)")


def _columns(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", text) or not (int(text) == 0 or api.MIN_WIDTH <= int(text) <= api.MAX_WIDTH):
        raise argparse.ArgumentTypeError(f"expected 0 or a whole number of columns from {api.MIN_WIDTH} to "
                                         f"{api.MAX_WIDTH}, got {text!r}")
    return int(text)


def _width(args: argparse.Namespace, path: str | None) -> int | None:
    """The columns text is broken at: --width (0: none), else the terminal's when printing to one, else 80."""
    if args.width is not None:
        return args.width or None
    if path is None and sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return 80


def _natural(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,3}", text) or not 0 <= int(text) <= api.MAX_DECIMALS:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {api.MAX_DECIMALS}, got {text!r}")
    return int(text)


def _count(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text) or not 1 <= int(text) <= api.MAX_STEPS:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {api.MAX_STEPS}, got {text!r}")
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
    """Every destination is checked and every text made first; then the sheet is printed (without -o)
    and every file written, or none."""
    question = [(str(Path(args.prairielearn, name)), f"--prairielearn/{name}") for name in api.PRAIRIELEARN_FILES] \
        if args.prairielearn else []
    places = destinations([(path, option) for path, option in ((args.output, "--output"), (args.answers, "--answers"),
                                                                (args.spec_out, "--spec-out")) if path] + question,
                          make_folders={option for _, option in question})
    exercise = _drawn_exercise(args)
    sheet = exercise.sheet().render(_format(args, args.output), ascii=args.ascii,
                                     width=_width(args, args.output))
    contents = {"--output": lambda: sheet, "--spec-out": exercise.spec_text,
                "--answers": lambda: exercise.answers().render(_format(args, args.answers), ascii=args.ascii,
                                                                    width=_width(args, args.answers))}
    question = functools.cache(exercise.prairielearn)  # its three files from one worked solution
    contents |= {f"--prairielearn/{name}": lambda name=name: question()[name] for name in api.PRAIRIELEARN_FILES}
    files = [(contents[place.option](), place) for place in places]
    if not args.output:
        emit(sheet, None)
    write(files)
    return 0


_EXERCISE_OPTIONS = {"--graph": ("nodes", "ops"), "--layer": (), None: ("layers", "activation", "loss")}
"""The options of each kind of exercise: a graph's, a layer spec's, a network's (neither flag)."""


def _drawn_exercise(args: argparse.Namespace) -> api.Exercise:
    """A network's exercise, with --graph a graph's, with --layer KIND a layer spec's; each kind's options given
    only to their kind."""
    if args.graph and args.layer is not None:
        raise InputError("--layer: only without --graph")
    kind = "--graph" if args.graph else "--layer" if args.layer is not None else None
    for owner, names in _EXERCISE_OPTIONS.items():
        wrong = next((name for name in names if getattr(args, name) is not None), None) if owner != kind else None
        if wrong is not None:
            raise InputError(f"--{wrong}: only with {owner}" if owner else f"--{wrong}: only without {kind}")
    options = {name: getattr(args, name) for name in _EXERCISE_OPTIONS[kind] if getattr(args, name) is not None}
    if kind == "--layer":
        return api.layer_exercise(args.seed, args.layer)
    return api.graph_exercise(args.seed, **options) if args.graph else api.exercise(args.seed, **options)


def _solve(args: argparse.Namespace) -> int:
    if args.matrix:
        _require_matrix_options(args)
        solution = api.matrix_solution(args.spec, decimals=args.decimals, steps=args.steps, optimizer=args.optimizer)
    else:
        solution = api.solve(args.spec, decimals=args.decimals, hand_round=args.hand_round, detail=args.detail,
                             steps=args.steps, optimizer=args.optimizer)
    emit(solution.render(_format(args, args.output), ascii=args.ascii, width=_width(args, args.output)),
         args.output)
    return 0


def _require_matrix_options(args: argparse.Namespace) -> None:
    """--matrix shows each layer's matrices once: no rule-by-rule detail, and its numbers are carried exactly."""
    if args.hand_round is not None:
        raise InputError("--hand-round: the matrix form carries every number exactly; drop --hand-round or --matrix")
    if args.detail != "brief":
        raise InputError(f"--detail {args.detail}: the matrix form has no rule-by-rule detail; drop --detail or --matrix")


def _gradients(args: argparse.Namespace) -> int:
    report = api.open_problem(args.spec).gradient_report()
    emit(report.render(_format(args, None), ascii=args.ascii, width=_width(args, None)), None)
    return 0


def _train(args: argparse.Namespace) -> int:
    plot = (api.plot_format(args.plot), destination(args.plot, "--plot")) if args.plot else None
    training = api.train(args.spec, args.steps, order=args.order, fast=args.fast,
                         backend="numpy" if args.numpy else None, every=args.every, curve=plot is not None,
                         progress=_progress_bar(args.steps), optimizer=args.optimizer)
    if plot:
        write([(training.curve(plot[0]), plot[1])])
    emit(training.render(_format(args, None), ascii=args.ascii, width=_width(args, None), decimals=args.decimals),
         None)
    return 0


def _progress_bar(steps: int):
    """A progress bar on stderr for long runs on a terminal; nothing otherwise."""
    if steps < 1000 or not sys.stderr.isatty():
        return None
    width = 40

    def show(done: int) -> None:  # train calls it now and then
        filled = width * done // steps
        sys.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done:,}/{steps:,}")
        if done == steps:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return show


def _check(args: argparse.Namespace) -> int:
    if args.solution is not None:
        if args.wrt is not None or args.quantity is not None:
            raise InputError("--solution: each line names its own quantity; drop --wrt and --quantity")
        budget = api.SOLUTION_BUDGET if args.budget is None else args.budget
        result = api.check_solution(args.spec, _read_solution(args.solution, "--solution"), budget=budget,
                                    optimizer=args.optimizer)
    else:
        result = api.check(args.spec, formula=args.formula, value=args.value, wrt=args.wrt, quantity=args.quantity,
                           budget=api.DEFAULT_BUDGET if args.budget is None else args.budget,
                           hand_round=args.hand_round, optimizer=args.optimizer)
    emit(result.render(_format(args, None), ascii=args.ascii, width=_width(args, None)), None)
    return 0 if result else 1


def _grade(args: argparse.Namespace) -> int:
    """The grade is the answer: exit 0 whatever the score (unreadable lines are its `format_errors`)."""
    grading = api.grade(args.spec, _read_solution(args.solution, "solution"), budget=args.budget,
                        optimizer=args.optimizer)
    emit(grading.render(_format(args, None), ascii=args.ascii, width=_width(args, None)), None)
    return 0


def _read_solution(path: str, option: str) -> str:
    """A solution's text from a file, or from standard input for '-'; one line naming the file when it cannot be read."""
    try:
        if path == "-":
            return sys.stdin.read(api.MAX_SOLUTION_CHARACTERS + 1)
        with open(path, encoding="utf-8") as file:
            return file.read(api.MAX_SOLUTION_CHARACTERS + 1)
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
        raise InputError(f"{option}: cannot read {path!r}: {reason}") from None


def _reproduce(args: argparse.Namespace) -> int:
    if args.list:
        emit("".join(f"{name}  {title}\n" for name, title in api.sources().items()), args.output)
        return 0
    emit(api.reproduce(args.document).render(_format(args, args.output), ascii=args.ascii,
                                             width=_width(args, args.output)), args.output)
    return 0


def _tutor(args: argparse.Namespace) -> int:
    emit(api.tutor(args.spec, decimals=args.decimals).html(), args.output)
    return 0


def _example(args: argparse.Namespace) -> int:
    emit("\n".join(api.example_names()) + "\n" if args.name is None else api.example_text(args.name), None)
    return 0


def _in_options(error: InputError, args: argparse.Namespace | None) -> str:
    """The API names its arguments (`wrt: ...`); the command names its options (`--wrt: ...`), those typed on
    the command line: a spec's field of the same name (a layer spec's `optimizer`) keeps its own name."""
    message = str(error)
    argument, colon, rest = message.partition(":")
    if args is None or not colon:
        return message
    options = {action.dest: action.option_strings[-1] for action in args.parser._actions
               if action.option_strings and getattr(args, action.dest, action.default) != action.default}
    options |= {"backend": "--numpy", "curve": "--plot"}
    return f"{options[argument]}:{rest}" if argument in options else message


if __name__ == "__main__":
    sys.exit(main())
