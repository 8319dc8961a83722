"""One result contract: every result is a record printed by the same printers, in every format, and its
JSON has the keys docs/api.md lists for its kind; steps and printers do not compute."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest

import symbackprop as sbp
from symbackprop.numbers.rounding import fixed
from symbackprop.numbers.training import ORDERS, error_after_update
from symbackprop.printers import PRINTERS, TextPrinter
from symbackprop.solution import worked_solution

ROOT = Path(__file__).resolve().parents[1]
COMMON_KEYS = ["schema_version", "kind", "title", "decimals", "figure"]
PROBLEM = sbp.Problem("mazur")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symbackprop.cli", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=600)


COMMANDS = {
    "solution": ("solve", "--format", "json"),
    "exercise": ("exercise", "--seed", "3", "--format", "json"),
    "gradients": ("gradients", "--json"),
    "training": ("train", "--steps", "20", "--every", "10", "--format", "json"),
    "check": ("check", "--formula", "delta_{o1} out_{h2}", "--wrt", "w5", "--json"),
    "reproduction": ("reproduce", "--json"),
    "grading": ("grade", "mazur", "SOLUTION", "--json"),
}
"""One command per kind; `derivation` has no command of its own and is rendered through the API."""


def _documented() -> tuple[dict[str, list[str]], dict[tuple[str, str], list[str]]]:
    """From docs/api.md's "JSON output": each kind's own keys, and the keys of each entry of a list key."""
    guide = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = guide.split("## JSON output", 1)[1].split("\n## ", 1)[0]
    kinds, values = section.split("The keys' values", 1)
    own, entries = {}, {}
    for kind, _made_by, keys in re.findall(r"^\| `(\w+)` \| ([^|]*) \| ([^|]*) \|$", kinds, re.M):
        own[kind] = re.findall(r"`(\w+)`", keys)
    for kind, key, value in re.findall(r"^\| `(\w+)` \| `(\w+)` \| ([^|]*) \|$", values, re.M):
        if "each with" in value:
            entries[kind, key] = re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", value.split("each with", 1)[1]))
    return own, entries


OWN_KEYS, ENTRY_KEYS = _documented()


GRADED = "net_h1 = w_1 i_1 + w_2 i_2 + b_1 = 0.3775\nout_h1 = 0.61\nnet_o1 = 1.1126\nE_total = E_o1 + traget_o2\n"
"""A solution with a right line, a wrong one, one right given it, and one that cannot be read."""

KINK = {"inputs": [1, 1], "targets": [0.5], "loss": "squared_error",
        "layers": [{"activation": "relu", "weights": [[0.5, -0.5]]}]}
"""A relu whose net input is exactly 0: its gradients report lists a kink."""


def _json_of(kind: str, folder: Path) -> dict:
    if kind == "derivation":
        return json.loads(sbp.derivation("mazur").render("json"))
    spec = folder / "kink.json"
    spec.write_text(json.dumps(KINK), encoding="utf-8")
    solution = folder / "solution.txt"
    solution.write_text(GRADED, encoding="utf-8")
    command = [str(solution) if part == "SOLUTION" else part for part in COMMANDS[kind]]
    result = run(*command, *([str(spec)] if kind == "gradients" else []))
    assert result.returncode == (1 if kind == "check" else 0), result.stderr
    return json.loads(result.stdout)


def test_the_guide_documents_exactly_the_kinds_the_engine_makes():
    assert set(OWN_KEYS) == set(COMMANDS) | {"derivation"}
    assert OWN_KEYS["gradients"] == ["loss", "gradients", "checks", "kinks"]
    assert {key for _kind, key in ENTRY_KEYS} == {"checks", "kinks", "history", "explanations", "rows", "lines"}


@pytest.mark.parametrize("kind", sorted(COMMANDS) + ["derivation"])
def test_json_has_exactly_the_documented_keys(kind, tmp_path):
    record = _json_of(kind, tmp_path)
    assert list(record) == COMMON_KEYS + OWN_KEYS[kind] + ["sections"]
    assert record["schema_version"] == 1 and record["kind"] == kind
    assert record["sections"] and all(section["type"] == "section" for section in record["sections"])
    for (entry_kind, key), keys in ENTRY_KEYS.items():
        if entry_kind == kind:
            assert record[key], (kind, key)
            assert all(list(entry) == keys for entry in record[key]), (kind, key)


def test_a_report_keeps_its_values_and_the_same_numbers_as_its_text():
    gradients = json.loads(PROBLEM.gradient_report().render("json"))
    assert gradients["gradients"]["w5"] == "0.082167040564230778846"
    assert "E_total = 0.29837110876000268861" in PROBLEM.gradient_report().render("text")
    assert gradients["loss"] == "0.29837110876000268861"
    verdict = json.loads(sbp.check(formula="delta_{o1} out_{h2}", wrt="w5").render("json"))
    assert verdict["quantity"] == {"latex": r"\frac{\partial E_{\mathrm{total}}}{\partial w_{5}}", "text": "dE_total/dw_5"}
    assert verdict["explanations"][0]["description"]["text"] == "out_h2 where out_h1 belongs (in dnet_o1/dw_5)"


RESULTS = {
    "solution": lambda: PROBLEM.solve(checks=False),
    "derivation": lambda: PROBLEM.derivation(),
    "gradients": lambda: PROBLEM.gradient_report(),
    "training": lambda: PROBLEM.train(4, every=2),
    "check": lambda: PROBLEM.check(formula="delta_{o1} out_{h2}", wrt="w5"),
    "reproduction": lambda: sbp.reproduce(),
    "grading": lambda: PROBLEM.grade(GRADED),
}


@pytest.mark.parametrize("fmt", sorted(PRINTERS))
@pytest.mark.parametrize("kind", sorted(RESULTS))
def test_every_result_renders_in_every_format(kind, fmt):
    result = RESULTS[kind]()
    assert result.formats == tuple(sorted(PRINTERS))
    rendered = result.render(fmt)
    expected = {"text": result.record.title, "markdown": f"# {result.record.title}", "latex": r"\documentclass",
                "html": "<!DOCTYPE html>", "json": '"schema_version": 1'}[fmt]
    assert rendered.startswith(expected) if fmt != "json" else expected in rendered
    assert rendered == (TextPrinter(width=80) if fmt == "text" else PRINTERS[fmt]()).doprint(result.record)


@pytest.mark.parametrize("command", [("gradients",), ("train", "--steps", "2"), ("check", "--value", "0.08", "--wrt", "w5")])
def test_report_commands_take_every_format(command):
    result = run(*command, "--format", "latex")
    assert result.returncode == 0 and result.stdout.startswith(r"\documentclass"), result.stderr


def test_printers_do_not_round_or_evaluate():
    """Numbers reach the printers as numerals: no printer imports the rounding functions or mpmath."""
    for path in (ROOT / "symbackprop" / "printers").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.module not in ("symbackprop.numbers.rounding", "mpmath"), path.name
            if isinstance(node, ast.Import):
                assert all(alias.name != "mpmath" for alias in node.names), path.name


def test_the_error_after_one_update_is_laid_out_not_computed():
    """The solution shows the numbers stage's error after one update as given: it does not train."""
    given = {"simultaneous": mpmath.mpf("0.125"), "output-first": mpmath.mpf("0.25")}
    text = TextPrinter().doprint(worked_solution(PROBLEM.derived, after_update=given))
    after = text.split("Error after one update", 1)[1]
    assert "E_total⁺ = 0.125" in after and "E_total⁺ = 0.25" in after


def test_solve_and_train_share_one_compiled_loop():
    problem = sbp.Problem("mazur")
    solution = problem.solve(checks=False).render("text")
    assert set(problem._compiled) == {(order, "mpmath") for order in ORDERS}
    loops = dict(problem._compiled)
    one = problem.train(1)
    assert problem._compiled == loops
    assert f"E_total⁺ = {fixed(one.error, 9)}" in solution
    assert problem.after_update["simultaneous"] == error_after_update(problem.derived, "simultaneous") == one.error


def test_a_relu_at_its_kink_is_shown_the_same_way_by_solve_and_gradients():
    problem = sbp.Problem(KINK)
    report = problem.gradient_report().render("text")
    solution = problem.solve(checks=False).render("text")
    kink = "At a kink\n---------\n\nnet_o1 = 0\nrelu is not differentiable at net = 0; the engine uses the left derivative, 0."
    assert kink in report and kink in solution
