"""The gradients and train commands, and solve on the built-in examples beyond the document."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symbackprop.cli", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=600)


def test_gradients_json_has_the_loss_and_every_gradient():
    result = run("gradients", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["loss"].startswith("0.29837110876")
    assert list(report["gradients"]) == ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2"]
    assert report["gradients"]["w5"].startswith("0.0821670405642")
    for value in report["gradients"].values():
        assert len(value.lstrip("-0.").replace(".", "")) >= 15
    assert {c["status"] for c in report["checks"]} == {"pass"} and report["kinks"] == []


def test_train_reproduces_the_documents_ten_thousand_rounds():
    result = run("train", "--steps", "10000", "--order", "output-first", "--every", "5000", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [h["step"] for h in report["history"]] == [0, 5000, 10000]
    assert report["loss_before"].startswith("0.298371108760")
    assert report["outputs"]["out_o1"].startswith("0.0159121963")
    assert report["outputs"]["out_o2"].startswith("0.9840657344")


def test_fast_training_agrees_with_the_exact_path():
    exact = json.loads(run("train", "deep", "--steps", "200", "--json").stdout)
    fast = json.loads(run("train", "deep", "--steps", "200", "--fast", "--json").stdout)
    for name, value in exact["parameters"].items():
        assert abs(float(fast["parameters"][name]) - float(value)) <= 1e-12 * max(1.0, abs(float(value)))


def test_numpy_training_agrees_with_the_exact_path():
    exact = json.loads(run("train", "deep", "--steps", "200", "--json").stdout)
    matrix = json.loads(run("train", "deep", "--steps", "200", "--numpy", "--json").stdout)
    assert list(matrix["parameters"]) == list(exact["parameters"])
    for name, value in exact["parameters"].items():
        assert abs(float(matrix["parameters"][name]) - float(value)) <= 1e-12 * max(1.0, abs(float(value)))
    assert abs(float(matrix["loss_after"]) - float(exact["loss_after"])) <= 1e-12


def test_numpy_training_without_numpy_is_one_line():
    hide_numpy = "import sys; sys.modules['numpy'] = None; from symbackprop.cli import main; sys.exit(main())"
    result = subprocess.run([sys.executable, "-c", hide_numpy, "train", "--steps", "5", "--numpy"],
                            capture_output=True, text=True, encoding="utf-8", timeout=600)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "symbackprop: --numpy: needs numpy: pip install 'symbackprop[numpy]'\n"


@pytest.mark.parametrize(("example", "expected"), [
    ("deep", "∂out_o1/∂net_o1 = (1 - tanh(net_o1)²) · 1 = 1 - tanh(net_o1)² = 1 - out_o1²\n"
             "                = 1 - 0.280401548² = 0.921374972"),
    ("classifier", "E_total = (1/2) · (E_total⁽¹⁾ + E_total⁽²⁾)"),
])
def test_solve_reads_clearly_beyond_the_document(example, expected):
    result = run("solve", example)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    assert "FAIL" not in result.stdout


@pytest.mark.parametrize("args", [["train"], ["train", "--steps", "0"], ["train", "--steps", "x"],
                                  ["train", "--steps", "5", "--order", "sideways"],
                                  ["train", "--steps", "5", "--numpy", "--order", "output-first"],
                                  ["train", "--steps", "5", "--numpy", "--fast"]])
def test_train_bad_options_are_one_line(args):
    result = run(*args)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and result.stderr.startswith("symbackprop: ")


def test_plot_draws_the_loss_curve_deterministically(tmp_path):
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    for path in (first, second):
        assert run("train", "--steps", "50", "--fast", "--plot", str(path)).returncode == 0
    assert first.read_bytes() == second.read_bytes() and b"<svg" in first.read_bytes()
    png = tmp_path / "loss.png"
    assert run("train", "--steps", "50", "--plot", str(png)).returncode == 0
    assert png.read_bytes().startswith(b"\x89PNG")
    bad = run("train", "--steps", "5", "--plot", str(tmp_path / "loss.pdf"))
    assert bad.returncode == 2 and not (tmp_path / "loss.pdf").exists()


def test_reported_steps_are_recorded_with_and_without_a_plot(tmp_path):
    """The report lists steps 0, every, 2 every, ... and the last; a plot records more steps, never fewer."""
    plain = json.loads(run("train", "--steps", "100", "--every", "7", "--json").stdout)
    plotted = json.loads(run("train", "--steps", "100", "--every", "7", "--json",
                             "--plot", str(tmp_path / "loss.svg")).stdout)
    assert [row["step"] for row in plain["history"]] == list(range(0, 100, 7)) + [100]
    assert plotted["history"] == plain["history"]
