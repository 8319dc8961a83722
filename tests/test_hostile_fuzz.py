"""A seeded random sample of hostile specs, formulas and values through the `symbackprop` command (issue #17).

Each case runs in its own process with a timeout, in its own temporary directory. Over every case:
no traceback, no hang, exit code 0, 1 or 2, one line on standard error when it is not empty (a
formula error adds its two caret lines), and no file created, changed or removed but the output
file the command was asked to write.
"""

from __future__ import annotations

import re

import json
import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from symbackprop.spec import example_text
from symbackprop.spec.limits import MAX_SPEC_BYTES

SEED = 17
CASES = 32
TIMEOUT = 30
"""Seconds a case may take (every check runs with --budget 3; the slowest case takes about 4)."""

NUMBERS = ["1e100", "-1e100", "1e-100", "0", "1000", "-1000", "1e90", "0.1_5", "\uff11", "\u0663", "nan",
           "Infinity", "1e999999", "", "abc", 1e308, -0.0, True, None, [], {}, "8.2e-2", "  0.5  ", 10 ** 400]
NAMES = ["\x1b[2J\x1b[31mred", "<script>alert(1)</script>", "a" * 300, "ok", "\u202egnp.exe", "$\\input{/etc/passwd}$",
         "line\nbreak", "&amp; | `code` **bold**"]
ACTIVATIONS = ["sigmoid", "tanh", "relu", "identity", "softplus", "softmax", "Sigmoid", "", None, 3]
LOSSES = ["half_squared_error", "binary_cross_entropy", "cross_entropy", "mean_squared_error", "hinge", None]
FORMULAS = ["(w_1+w_2+w_3+w_4+w_5+w_6+w_7+w_8)^{50}", "(w_1+w_2)^{100000}", "2^{10^{300} w_5}", "e^{10^{300} w_5}",
            "\\sqrt{-1}", "\\frac{\\partial w_5}{\\partial w_5}", "e^{e^{e^{w_5}}}", "\\delta_{o1} out_{h1}",
            "w_5/0", "0^{-1}", "\\ln(0)", "{" * 300 + "}" * 300, "\\sigma(net_{o1})", "__import__('os')",
            "w_5^{0.5}", "\\frac{1}{1 - out_{o1}}", "net_{h1} = w_1 i_1 + w_2 i_2 + b_1", "1e999 w_5", "\u0663 w_5"]
VALUES = ["8.2167041e-2", "0.082167041", "82167041e-9", "0.1_5", "\uff10.1", "nan", "-inf", "1e999999", "", "0x10"]


@dataclass(frozen=True)
class Case:
    arguments: tuple[str, ...]
    spec: str | bytes | None
    """The spec file's content (written as spec.json): text, b"" for a FIFO, "big" for a 50 MiB file,
    None for no file."""
    output: str | None = None
    """The file the command is asked to write, the only one that may appear."""


def _spec_text(draw: random.Random) -> str:
    data = json.loads(example_text("mazur"))
    for _ in range(draw.randint(1, 3)):
        kind = draw.randrange(7)
        if kind == 0:
            layer = draw.choice(data["layers"])
            layer["weights"][draw.randrange(2)][draw.randrange(2)] = draw.choice(NUMBERS)
        elif kind == 1:
            data[draw.choice(["inputs", "targets"])][draw.randrange(2)] = draw.choice(NUMBERS)
        elif kind == 2:
            data[draw.choice(["learning_rate", "name"])] = draw.choice(NUMBERS + NAMES)
        elif kind == 3:
            draw.choice(data["layers"])["activation"] = draw.choice(ACTIVATIONS)
        elif kind == 4:
            data["loss"] = draw.choice(LOSSES)
        elif kind == 5:
            draw.choice(data["layers"])["bias"] = draw.choice([["1000", "-1000"], "1e100", ["0"] * 3, "-1000"])
        else:
            size = draw.choice([3, 120, 3000])
            data["layers"][0]["weights"] = [["0.1"] * 2] * size
            data["layers"][1]["weights"] = [["0.1"] * size] * 2
    text = json.dumps(data)
    if draw.random() < 0.15:
        text = text.replace('"loss"', '"learning_rate": -7, "loss"', 1)  # a repeated key if one is there
    return text


def _cases() -> list[Case]:
    draw = random.Random(SEED)
    cases = [Case(("gradients", "spec.json"), b""),  # a FIFO: must not block
             Case(("gradients", "spec.json"), "big"),  # 50 MiB: refused before it is read
             Case(("solve", "-o", "out.html"), None, "out.html")]
    while len(cases) < CASES:
        kind = draw.randrange(5)
        if kind == 0:
            cases.append(Case(("check", "--formula", draw.choice(FORMULAS), "--wrt", "w5", "--budget", "3"), None))
        elif kind == 1:
            cases.append(Case(("check", "--value", draw.choice(VALUES), "--wrt", draw.choice(["w5", "w_5", "w99", "b1"]),
                               "--budget", "3"), None))
        elif kind == 2:
            output = draw.choice(["out.md", "out.html", "out.json", "out.tex"])
            cases.append(Case(("solve", "spec.json", "-o", output), _spec_text(draw), output))
        elif kind == 3:
            steps = draw.choice(["1", "3", "10000000"])
            backend = draw.choice(["--fast", "--numpy", "--json"])
            cases.append(Case(("train", "spec.json", "--steps", steps, "--every", "1", backend), _spec_text(draw)))
        else:
            cases.append(Case(("gradients", "spec.json"), _spec_text(draw)))
    return cases


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*")}


def _run(case: Case, folder: Path) -> str | None:
    """None if the case behaves, else what went wrong."""
    folder.mkdir()
    spec = folder / "spec.json"
    if case.spec == b"":
        os.mkfifo(spec)
    elif case.spec == "big":
        with open(spec, "wb") as handle:
            handle.truncate(50 * MAX_SPEC_BYTES)
    elif case.spec is not None:
        spec.write_text(case.spec, encoding="utf-8")
    before = _listing(folder)
    try:
        result = subprocess.run([sys.executable, "-m", "symbackprop.cli", *case.arguments], cwd=folder,
                                capture_output=True, text=True, timeout=TIMEOUT,
                                env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    except subprocess.TimeoutExpired:
        return f"{case.arguments}: no answer within {TIMEOUT} s"
    after = _listing(folder)
    if case.output is not None and result.returncode == 0:
        after.pop(case.output, None)
    lines = result.stderr.splitlines()
    if result.returncode not in (0, 1, 2):
        return f"{case.arguments}: exit code {result.returncode}: {result.stderr[-300:]}"
    if "Traceback" in result.stderr:
        return f"{case.arguments}: traceback: {result.stderr[-300:]}"
    # a formula's error shows the formula and a caret under the position: three lines
    formula_error = bool(lines) and re.fullmatch(r"symbackprop: (--)?[a-z]+: .* at position [0-9]+", lines[0]) is not None \
        and len(lines) == 3
    if lines and (not lines[0].startswith("symbackprop: ") or len(lines) > 1 and not formula_error):
        return f"{case.arguments}: standard error is not one line: {result.stderr[:300]!r}"
    if result.returncode == 2 and not lines:
        return f"{case.arguments}: exit 2 without saying why"
    if after != before:
        return f"{case.arguments}: files changed: {sorted(set(after) ^ set(before)) or 'contents'}"
    return None


def test_hostile_inputs_end_in_one_line_without_traceback_hang_or_stray_file(tmp_path):
    cases = _cases()
    with ThreadPoolExecutor(max_workers=4) as pool:
        problems = list(pool.map(lambda item: _run(item[1], tmp_path / f"case{item[0]}"), enumerate(cases)))
    assert [p for p in problems if p] == []
