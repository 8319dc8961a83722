"""Text output broken at the terminal's width: at `=`, `+`/`-` and `·`, never inside a number or a name.

The printer breaks a step only where it has a space, so joining a step's lines with single spaces
gives the step back; a line longer than the width is a single piece that cannot be broken.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings, strategies as st

import symbackprop as sbp
from symbackprop.formulas import read_equation
from symbackprop.printers.text import TextPrinter
from symbackprop.printers.wrapping import wrap_formula, wrap_prose
from symbackprop.solution import Section, Table, WorkedSolution
from tests.test_cli import ok, run

UNBREAKABLE = re.compile(r" *(?:[=+·*∘-] )?\S+")
"""A line allowed past the width: one piece without a space, maybe after its operator."""


def assert_fits(text: str, width: int) -> None:
    for line in text.splitlines():
        assert len(line) <= width or UNBREAKABLE.fullmatch(line), f"{len(line)} columns: {line}"


def steps(text: str) -> list[str]:
    """The lines of `text` joined back into steps: a line that starts with a space continues the one before
    (the brief worked solution has no indented steps of its own)."""
    joined: list[str] = []
    for line in text.splitlines():
        if line.startswith(" ") and joined:
            joined[-1] += " " + line.lstrip(" ")
        else:
            joined.append(line)
    return joined


# --- the printer ---------------------------------------------------------------------------------------


def test_a_chain_breaks_before_its_equals_signs_lined_up_under_the_first():
    line = ("∂E_total/∂w₅ = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w₅ "
            "= 0.74136507 · 0.186815602 · 0.593269992 = 0.082167041")
    assert wrap_formula(line, 80) == (
        "∂E_total/∂w₅ = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w₅\n"
        "             = 0.74136507 · 0.186815602 · 0.593269992 = 0.082167041")
    assert wrap_formula(line, None) == line and wrap_formula(line, 200) == line


def test_a_long_piece_breaks_at_its_loosest_operator_and_inside_brackets_after_the_bracket():
    line = "E_total = (1/2) · (-target_o1 · log(out_o1) - target_o2 · log(out_o2) - target_o3 · log(out_o3))"
    assert wrap_formula(line, 60) == (
        "E_total = (1/2) · (-target_o1 · log(out_o1)\n"
        "                   - target_o2 · log(out_o2)\n"
        "                   - target_o3 · log(out_o3))")
    assert wrap_formula("net = w · a + w · b + w · c + w · d", 21) == "net = w · a + w · b\n      + w · c + w · d"


def test_a_piece_longer_than_the_width_stays_whole_and_no_line_ends_in_an_operator():
    number = "0." + "3" * 100
    assert wrap_formula(f"x = {number}", 40) == f"x\n  = {number}"
    assert wrap_formula(f"x = 1 · {number}", 40) == f"x = 1\n    · {number}"
    assert wrap_formula("y = " + "w" * 50 + " + 1", 30) == "y\n  = " + "w" * 50 + "\n    + 1"


def test_a_piece_to_be_broken_starts_a_new_line_when_its_first_part_does_not_fit():
    """Found by the property test below: a number after + or = that does not fit beside what is there
    goes to a line of its own, where it fits or at least stands alone."""
    assert wrap_formula("0.00000 + 4.000000000 · out_o1 · out_o1", 20) == \
        "0.00000\n      + 4.000000000\n      · out_o1\n      · out_o1"
    assert wrap_formula("0.0 = 00000.000000000 + out_o1", 20) == "0.0\n    = 00000.000000000\n      + out_o1"


def test_a_step_label_moves_to_a_line_of_its_own_when_it_does_not_fit():
    line = "    ∂/∂out_o1[out_o1] = 1 = 1 = 1    (d x/d x = 1, a label long enough not to fit)"
    assert wrap_formula(line, 60) == (
        "    ∂/∂out_o1[out_o1] = 1 = 1 = 1\n"
        "          (d x/d x = 1, a label long enough not to fit)")


_tokens = st.one_of(st.from_regex(r"-?[0-9]{1,12}\.[0-9]{1,9}", fullmatch=True),
                    st.sampled_from(["out_o1", "∂E_total/∂w₅", "w₅⁺", "δ_o1", "exp(-net_h1)", "[[0.2, 0.3]]"]))
_operators = st.sampled_from(["=", "+", "-", "·", "*", "∘"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_operators, _tokens), min_size=1, max_size=30), _tokens,
       st.integers(min_value=20, max_value=100), st.integers(min_value=0, max_value=2))
def test_any_formula_line_fits_and_joins_back(pairs, first, width, depth):
    body = " ".join([first] + [f"{op} {token}" for op, token in pairs])
    line = "(" * depth + body + ")" * depth
    wrapped = wrap_formula(line, width)
    assert_fits(wrapped, width)
    assert " ".join(part.lstrip(" ") for part in wrapped.split("\n")) == line
    assert all(not part.rstrip().endswith(tuple("=+-·*∘")) for part in wrapped.split("\n"))


def test_prose_breaks_at_its_last_space_that_fits_and_hangs():
    text = "One column per sample; a weight matrix has a row per neuron of its layer and a column per input to it."
    wrapped = wrap_prose(text, 40)
    assert wrapped.splitlines() == ["One column per sample; a weight matrix", "  has a row per neuron of its layer and",
                                    "  a column per input to it."]
    assert wrap_prose(text, None) == text


def test_a_table_wider_than_the_width_is_printed_in_blocks_led_by_its_first_column():
    table = Table(("gradient", "a", "b", "c"), (("w1", "1" * 30, "2" * 30, "3" * 30), ("w2", "4", "5", "6")))
    wide = TextPrinter(width=None)._print(table)
    assert len(wide.splitlines()) == 4 and max(map(len, wide.splitlines())) > 80
    blocks = TextPrinter(width=80)._print(table).split("\n\n")
    assert [block.splitlines()[0].split() for block in blocks] == [["gradient", "a", "b"], ["gradient", "c"]]
    assert all(len(line) <= 80 for block in blocks for line in block.splitlines())
    assert blocks[1].splitlines()[2].split() == ["w1", "3" * 30]


def test_notes_and_titles_pass_through_the_printer_wrapped():
    solution = WorkedSolution("T", (Section("S", ()),), {})
    assert TextPrinter(width=20).doprint(solution) == TextPrinter(width=None).doprint(solution)


# --- whole worked solutions ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def solutions():
    return {name: solution for name, solution in [
        ("mazur", sbp.solve("mazur", checks=False)), ("deep", sbp.solve("deep", checks=False)),
        ("classifier", sbp.solve("classifier", checks=False)),
        ("mazur matrix", sbp.matrix_solution("mazur", checks=False)),
        ("classifier matrix", sbp.matrix_solution("classifier", checks=False))]}


@pytest.mark.parametrize("name", ["mazur", "deep", "classifier", "mazur matrix", "classifier matrix"])
@pytest.mark.parametrize("ascii", [False, True])
@pytest.mark.parametrize("width", [80, 60, 40])
def test_each_step_fits_and_its_lines_join_back_into_it(solutions, name, ascii, width):
    solution = solutions[name]
    whole = solution.render("text", ascii=ascii, width=None)
    wrapped = solution.render("text", ascii=ascii, width=width)
    if width >= 60:  # narrower, a title or a name with its first piece can be wider
        assert_fits(wrapped, width)
    assert steps(wrapped) == whole.splitlines()


def test_render_breaks_at_80_columns_unless_told_otherwise(solutions):
    solution = solutions["mazur"]
    assert solution.render("text") == solution.render("text", width=80) != solution.render("text", width=None)
    assert max(map(len, solution.render("text", width=None).splitlines())) > 150


def test_a_wrapped_step_pasted_into_check_reads_back(solutions):
    wrapped = [step for step in _logical(solutions["mazur"].render("text", width=40)) if step.count("=") == 1
               and "\n" in step]
    assert len(wrapped) >= 8
    for pasted in wrapped:
        assert read_equation(pasted) == read_equation(" ".join(pasted.split()))
        verdict = sbp.check("mazur", formula=pasted)
        assert verdict, pasted
        assert " ".join(pasted.split()) in verdict.render("text", width=None).splitlines()[6]  # echoed on one line


def _logical(text: str) -> list[str]:
    """Each step with its continuation lines, as a person copies it from the terminal."""
    pieces: list[str] = []
    for line in text.splitlines():
        if line.startswith(" ") and pieces:
            pieces[-1] += "\n" + line
        else:
            pieces.append(line)
    return pieces


# --- the command ---------------------------------------------------------------------------------------

COMMANDS = {
    "solve": ["solve"], "solve deep": ["solve", "deep"], "solve classifier": ["solve", "classifier"],
    "solve classifier --matrix": ["solve", "classifier", "--matrix"],
    "solve --detail full": ["solve", "--detail", "full"],
    "solve classifier --detail full": ["solve", "classifier", "--detail", "full"],
    "gradients": ["gradients"],
}


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[tuple[str, bool], str]:
    """Each command's standard output (not a terminal: 80 columns), and with --width 0 (lines left whole)."""
    folder = tmp_path_factory.mktemp("wrapping")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        futures = {(name, whole): pool.submit(run, *args, *(["--width", "0"] if whole else []), cwd=folder)
                   for name, args in COMMANDS.items() for whole in (False, True)}
        return {key: ok(future.result()) for key, future in futures.items()}


@pytest.mark.parametrize("name", COMMANDS)
def test_every_line_a_command_prints_fits_in_80_columns(printed, name):
    assert_fits(printed[name, False], 80)
    assert max(map(len, printed[name, True].splitlines())) > 80


@pytest.mark.parametrize("name", COMMANDS)
def test_the_command_breaks_lines_and_keeps_every_word(printed, name):
    """Up to the table of gradient checks, which is cut into blocks of columns instead."""
    wrapped, whole = (printed[name, whole].split("Gradient checks\n")[0] for whole in (False, True))
    assert wrapped.split() == whole.split()
    table = [line.split() for line in printed[name, True].split("Gradient checks\n")[-1].splitlines()[5:]]
    assert table and all(all(cell in printed[name, False] for cell in row) for row in table)


def test_on_a_terminal_lines_break_at_its_width(tmp_path):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
    environment = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    process = subprocess.Popen([sys.executable, "-m", "symbackprop.cli", "solve"], stdout=slave, stderr=subprocess.PIPE,
                               cwd=tmp_path, env={**environment, "PYTHONIOENCODING": "utf-8"})
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # the terminal closed: the command has finished
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.wait(timeout=300) == 0, process.stderr.read()
    text = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    assert_fits(text, 60)
    assert max(map(len, text.splitlines())) > 55
    assert "∂E_total/∂w₅ = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1\n               · ∂net_o1/∂w₅" in text


@pytest.mark.parametrize("width", ["5", "x"])
def test_a_bad_width_is_one_line_and_exit_2(tmp_path, width):
    result = run("solve", "--width", width, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "--width" in result.stderr and "Traceback" not in result.stderr
