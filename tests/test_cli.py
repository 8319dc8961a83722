"""The `symbackprop` command, run as a separate process: solve, reproduce, example, and bad input.

Every solve takes seconds, so each distinct command line runs once (module-scoped fixtures)
and several tests read its output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import pytest

TIMEOUT = 300
EXAMPLE_FILE = resources.files("symbackprop") / "examples" / "mazur.json"


def run(*args: str, cwd: Path, encoding: str | None = None) -> subprocess.CompletedProcess:
    """The command in a fresh process; `encoding` is its standard output's (PYTHONIOENCODING)."""
    env = None if encoding is None else {**os.environ, "PYTHONIOENCODING": encoding}
    return subprocess.run(
        [sys.executable, "-m", "symbackprop.cli", *args],
        cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT, env=env,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}; stderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def lines_starting(text: str, start: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(start)]


# --- runs shared by the tests below ----------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def solve_outputs(workdir) -> dict[str, str]:
    """stdout of `solve` (default text), of `solve --format F` for every format, of `solve --ascii`, and of
    both text forms with lines left whole (--width 0)."""
    outputs = {"default": ok(run("solve", cwd=workdir)), "ascii": ok(run("solve", "--ascii", cwd=workdir)),
               "whole": ok(run("solve", "--width", "0", cwd=workdir)),
               "ascii whole": ok(run("solve", "--ascii", "--width", "0", cwd=workdir))}
    for fmt in ("text", "latex", "markdown", "json"):
        outputs[fmt] = ok(run("solve", "--format", fmt, cwd=workdir))
    return outputs


@pytest.fixture(scope="module")
def solve_to_files(tmp_path_factory) -> tuple[Path, dict[str, subprocess.CompletedProcess]]:
    """`solve -o out.tex` and `solve -o out.md` (format from the suffix), in an empty directory."""
    folder = tmp_path_factory.mktemp("out")
    results = {name: run("solve", "-o", name, cwd=folder) for name in ("out.tex", "out.md")}
    return folder, results


@pytest.fixture(scope="module")
def reproduction(workdir) -> list:
    """The rows of `reproduce --json` (a reproduction's JSON, kind "reproduction")."""
    document = json.loads(ok(run("reproduce", "--json", cwd=workdir)))
    assert document["kind"] == "reproduction"
    return document["rows"]


# --- solve -------------------------------------------------------------------------------------------


W5_UNICODE = """\
Paths of ∂E_total/∂w₅: h1 -> o1 (w₅).
∂E_total/∂w₅ = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w₅
E_total = (1/2) · (target_o1 - out_o1)² + (1/2) · (target_o2 - out_o2)²
∂E_total/∂out_o1 = (1/2) · 2 · (target_o1 - out_o1)^(2 - 1) · (0 - 1) + 0
                 = -(target_o1 - out_o1) = -(0.01 - 0.75136507) = 0.74136507
out_o1 = 1/(1 + exp(-net_o1))
∂out_o1/∂net_o1 = -(1 + exp(-net_o1))^(-1 - 1) · (0 + exp(-net_o1) · (-1))
                = (1 + exp(-net_o1))⁻² · exp(-net_o1) = out_o1 · (1 - out_o1)
                = 0.75136507 · (1 - 0.75136507) = 0.186815602
net_o1 = w₅ · out_h1 + w₆ · out_h2 + b₂
∂net_o1/∂w₅ = out_h1 · 1 + 0 + 0 = out_h1 = 0.593269992
∂E_total/∂w₅ = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w₅
             = 0.74136507 · 0.186815602 · 0.593269992 = 0.082167041
In the delta-rule form:
∂E_total/∂w₅ = -(target_o1 - out_o1) · out_o1 · (1 - out_o1) · out_h1
δ_o1 = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 = 0.74136507 · 0.186815602
     = 0.138498562
∂E_total/∂w₅ = δ_o1 · ∂net_o1/∂w₅ = δ_o1 · out_h1 = 0.138498562 · 0.593269992
             = 0.082167041
w₅⁺ = w₅ - η · ∂E_total/∂w₅ = 0.4 - 0.5 · 0.082167041 = 0.35891648
"""
"""The w_5 section as `solve` prints it: Unicode math, lines broken at 80 columns (not a terminal)."""

W5_ASCII = """\
Paths of dE_total/dw_5: h1 -> o1 (w_5).
dE_total/dw_5 = dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw_5
E_total = (1/2) * (target_o1 - out_o1)^2 + (1/2) * (target_o2 - out_o2)^2
dE_total/dout_o1 = (1/2) * 2 * (target_o1 - out_o1)^(2 - 1) * (0 - 1) + 0
                 = -(target_o1 - out_o1) = -(0.01 - 0.75136507) = 0.74136507
out_o1 = 1/(1 + exp(-net_o1))
dout_o1/dnet_o1 = -(1 + exp(-net_o1))^(-1 - 1) * (0 + exp(-net_o1) * (-1))
                = (1 + exp(-net_o1))^(-2) * exp(-net_o1) = out_o1 * (1 - out_o1)
                = 0.75136507 * (1 - 0.75136507) = 0.186815602
net_o1 = w_5 * out_h1 + w_6 * out_h2 + b_2
dnet_o1/dw_5 = out_h1 * 1 + 0 + 0 = out_h1 = 0.593269992
dE_total/dw_5 = dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw_5
              = 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041
In the delta-rule form:
dE_total/dw_5 = -(target_o1 - out_o1) * out_o1 * (1 - out_o1) * out_h1
delta_o1 = dE_total/dout_o1 * dout_o1/dnet_o1 = 0.74136507 * 0.186815602
         = 0.138498562
dE_total/dw_5 = delta_o1 * dnet_o1/dw_5 = delta_o1 * out_h1
              = 0.138498562 * 0.593269992 = 0.082167041
w_5^+ = w_5 - eta * dE_total/dw_5 = 0.4 - 0.5 * 0.082167041 = 0.35891648
"""
"""The same section with --ascii: the plain text `solve` printed before Unicode math."""


def test_solve_prints_the_forward_pass_and_the_w5_gradient(solve_outputs):
    text = solve_outputs["default"]
    out_h1 = lines_starting(text, "out_h1 = ")
    assert out_h1, "no 'out_h1 = ' line"
    assert any("0.593269992" in line for line in out_h1)
    assert W5_UNICODE in text
    assert any("0.75136507" in line for line in lines_starting(text, "out_o1 = "))
    assert any("0.298371109" in line for line in lines_starting(text, "E_total = "))


def test_solve_shows_the_updated_weight(solve_outputs):
    assert any("0.35891648" in line for line in lines_starting(solve_outputs["default"], "w₅⁺ = "))


def test_ascii_is_the_plain_text_line_for_line(solve_outputs):
    plain, unicode = solve_outputs["ascii"], solve_outputs["default"]
    assert W5_ASCII in plain and plain.isascii()
    assert "w_5^+ = 0.35891648\n" in plain and "E_total^+ = 0.291027924\n" in plain
    assert not unicode.isascii()
    assert len(solve_outputs["ascii whole"].splitlines()) == len(solve_outputs["whole"].splitlines())


def test_text_is_the_default_format(solve_outputs):
    assert solve_outputs["default"] == solve_outputs["text"]


def test_latex_format(solve_outputs):
    latex = solve_outputs["latex"]
    assert latex.startswith("\\documentclass")
    assert "\\begin{document}" in latex
    assert latex.rstrip().endswith("\\end{document}")
    assert "0.593269992" in latex and "0.082167041" in latex


def test_markdown_format(solve_outputs):
    markdown = solve_outputs["markdown"]
    assert "$$" in markdown
    assert markdown.count("$$") % 2 == 0
    assert "0.593269992" in markdown and "0.082167041" in markdown


def test_json_format(solve_outputs):
    document = json.loads(solve_outputs["json"])
    assert isinstance(document, dict)
    assert document["title"] == "Worked solution: mazur"
    assert document["decimals"] == 9
    assert "0.593269992" in solve_outputs["json"] and "0.082167041" in solve_outputs["json"]


def test_formats_differ(solve_outputs):
    outputs = [solve_outputs[fmt] for fmt in ("text", "latex", "markdown", "json")]
    assert len(set(outputs)) == 4


def test_output_file_equals_the_latex_stdout(solve_to_files, solve_outputs):
    folder, results = solve_to_files
    result = results["out.tex"]
    assert ok(result) == ""
    assert (folder / "out.tex").read_text(encoding="utf-8") == solve_outputs["latex"]


def test_output_format_follows_the_file_suffix(solve_to_files, solve_outputs):
    folder, results = solve_to_files
    assert ok(results["out.md"]) == ""
    assert (folder / "out.md").read_text(encoding="utf-8") == solve_outputs["markdown"]


def test_output_leaves_no_temporary_files(solve_to_files):
    folder, results = solve_to_files
    for result in results.values():
        ok(result)
    assert sorted(path.name for path in folder.iterdir()) == ["out.md", "out.tex"]


def test_decimals_option(workdir):
    text = ok(run("solve", "--decimals", "3", cwd=workdir))
    out_h1 = lines_starting(text, "out_h1 = ")
    assert out_h1 and out_h1[0].endswith("= 0.593")
    assert "0.593269992" not in text


# --- Unicode math and --ascii, on every command that prints text -------------------------------------

TEXT_COMMANDS = {
    "solve": (["solve"], 0),
    "exercise": (["exercise", "--seed", "3"], 0),
    "gradients": (["gradients"], 0),
    "reproduce": (["reproduce"], 0),
    "check": (["check", "--formula", "delta_o1 * out_h2", "--wrt", "w5"], 1),
    "train": (["train", "--steps", "2"], 0),
}
"""Each command's arguments and its exit code when it runs to the end."""
UNICODE_COMMANDS = ("solve", "exercise", "gradients", "check", "train")
"""Commands run without --ascii too (reproduce, slow, writes through the same path)."""


@pytest.fixture(scope="module")
def ascii_stdout_runs(workdir) -> dict[tuple[str, bool], subprocess.CompletedProcess]:
    """Every text command with standard output in ASCII (PYTHONIOENCODING=ascii), with and without --ascii."""
    cases = [(name, True) for name in TEXT_COMMANDS] + [(name, False) for name in UNICODE_COMMANDS]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        futures = {(name, plain): pool.submit(run, *TEXT_COMMANDS[name][0], *(["--ascii"] if plain else []),
                                              cwd=workdir, encoding="ascii")
                   for name, plain in cases}
        return {case: future.result() for case, future in futures.items()}


@pytest.mark.parametrize("name", TEXT_COMMANDS)
def test_every_text_command_prints_plain_ascii_with_the_switch(ascii_stdout_runs, name):
    result = ascii_stdout_runs[name, True]
    assert result.returncode == TEXT_COMMANDS[name][1], result.stderr
    assert result.stdout and result.stdout.isascii() and result.stderr == ""


@pytest.mark.parametrize("name", UNICODE_COMMANDS)
def test_unicode_to_an_ascii_stdout_is_one_line_and_exit_2_with_nothing_written(ascii_stdout_runs, name):
    result = ascii_stdout_runs[name, False]
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("symbackprop: standard output (ascii) cannot show ")
    assert "use --ascii" in result.stderr


# --- example -----------------------------------------------------------------------------------------


def test_example_prints_the_shipped_file(workdir):
    stdout = ok(run("example", "mazur", cwd=workdir))
    shipped = EXAMPLE_FILE.read_text(encoding="utf-8")
    assert stdout == shipped
    assert json.loads(stdout) == json.loads(shipped)
    assert json.loads(stdout)["layers"][1]["weights"] == [[0.40, 0.45], [0.50, 0.55]]


def test_example_without_a_name_lists_the_examples(workdir):
    names = ok(run("example", cwd=workdir)).split()
    assert "mazur" in names


def test_console_script_is_installed(workdir):
    script = Path(sys.executable).parent / ("symbackprop.exe" if sys.platform == "win32" else "symbackprop")
    assert script.exists(), f"console script not found beside {sys.executable}"
    result = subprocess.run([str(script), "example"], cwd=workdir, capture_output=True, text=True, timeout=TIMEOUT)
    assert ok(result).split() == ok(run("example", cwd=workdir)).split()


# --- reproduce ---------------------------------------------------------------------------------------


def test_reproduce_json_rows_are_records(reproduction):
    assert isinstance(reproduction, list) and reproduction
    for record in reproduction:
        assert isinstance(record, dict)
        assert {"quantity", "document", "computed", "status", "note"} <= set(record)


def test_reproduce_statuses_are_match_or_erratum(reproduction):
    statuses = [record["status"] for record in reproduction]
    assert set(statuses) <= {"match", "erratum"}
    assert "match" in statuses


def test_reproduce_confirms_the_forward_pass(reproduction):
    out_h1 = [r for r in reproduction
              if r["quantity"]["latex"] == r"\mathrm{out}_{\mathrm{h1}}" and r["document"] == "0.593269992"]
    assert out_h1 and all(r["status"] == "match" for r in out_h1)


def test_errata_say_why(reproduction):
    for record in reproduction:
        if record["status"] == "erratum":
            assert record["note"].strip(), f"erratum without a note: {record}"


# --- bad input ---------------------------------------------------------------------------------------

MALFORMED_SPECS = {
    "broken.json": '{"inputs": [0.05, 0.10],\n',
    "broken.toml": "inputs = [0.05, 0.10\n",
    "wrong_shape.json": json.dumps({
        "inputs": [0.05, 0.10], "targets": [0.01, 0.99], "loss": "half_squared_error",
        "layers": [
            {"activation": "sigmoid", "weights": [[0.15, 0.20], [0.25, 0.30]], "bias": 0.35},
            {"activation": "sigmoid", "weights": [[0.40, 0.45, 0.1], [0.50, 0.55]], "bias": 0.60},
        ],
    }),
}

BAD_COMMANDS = [
    # (arguments, output file that must not appear, what the message must contain)
    (["solve", "no_such_spec.json", "-o", "out.tex"], "out.tex", ["no_such_spec.json", "cannot read"]),
    (["solve", "broken.json", "-o", "out.tex"], "out.tex", ["broken.json", "not valid JSON"]),
    (["solve", "broken.toml", "-o", "out.md"], "out.md", ["broken.toml", "not valid TOML"]),
    (["solve", "wrong_shape.json", "-o", "out.json"], "out.json", ["layers[1].weights[0]", "expected 2 numbers"]),
    (["solve", "--decimals", "abc", "-o", "out.tex"], "out.tex", ["--decimals", "'abc'"]),
    (["solve", "--decimals", "51", "-o", "out.tex"], "out.tex", ["--decimals", "'51'"]),
    (["solve", "--format", "pdf", "-o", "out.tex"], "out.tex", ["--format", "'pdf'"]),
    (["solve", "--frobnicate", "-o", "out.tex"], "out.tex", ["--frobnicate"]),
    (["solve", "-o", "no_such_folder/out.tex"], None, ["no_such_folder/out.tex"]),
    (["reproduce", "nosuch", "-o", "r.json"], "r.json", ["nosuch"]),
    (["example", "nosuch"], None, ["nosuch", "mazur"]),
    (["example", "mazur", "extra"], None, ["extra"]),
    (["frobnicate"], None, ["frobnicate"]),
    ([], None, ["command"]),
]
BAD_IDS = [" ".join(args) or "no-args" for args, _, _ in BAD_COMMANDS]


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory) -> dict[str, tuple[Path, list[str], subprocess.CompletedProcess]]:
    """Every bad command, each in its own folder holding the malformed specs, run a few at a time."""
    prepared = {}
    for case_id, (args, _, _) in zip(BAD_IDS, BAD_COMMANDS):
        folder = tmp_path_factory.mktemp("bad")
        for name, text in MALFORMED_SPECS.items():
            (folder / name).write_text(text, encoding="utf-8")
        prepared[case_id] = (folder, sorted(path.name for path in folder.iterdir()), args)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        futures = {case_id: pool.submit(run, *args, cwd=folder) for case_id, (folder, _, args) in prepared.items()}
        return {case_id: (prepared[case_id][0], prepared[case_id][1], future.result())
                for case_id, future in futures.items()}


@pytest.mark.parametrize(("args", "output", "mentions"), BAD_COMMANDS, ids=BAD_IDS)
def test_bad_input_is_one_line_and_exit_2(bad_runs, args, output, mentions):
    folder, before, result = bad_runs[" ".join(args) or "no-args"]

    assert result.returncode == 2, f"exit {result.returncode}; stderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    assert result.stderr.endswith("\n")
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("symbackprop: ")
    assert len(lines[0]) > len("symbackprop: ")
    for mention in mentions:
        assert mention in lines[0]
    assert result.stdout == ""
    if output is not None:
        assert not (folder / output).exists()
    # nothing written at all: no output file, no temporary file beside it
    assert sorted(path.name for path in folder.iterdir()) == before
