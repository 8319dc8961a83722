"""Hostile specs and values (issue #17): refused early with one line, or read exactly.

A grader runs the engine on what students wrote: a spec must not make it block (a FIFO), read
without end (a device), hold gigabytes (a huge network), print terminal escape codes, or quietly
take the last of two keys.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from fractions import Fraction

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Rational

from symbackprop.api import check, solve
from symbackprop.cli import main
from symbackprop.errors import InputError
from symbackprop.spec import example_text, load_spec, spec_from_dict
from symbackprop.spec.exact import exact_number
from symbackprop.spec.limits import MAX_PARAMETERS, MAX_SPEC_BYTES


def _mazur() -> dict:
    return json.loads(example_text("mazur"))


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_a_repeated_key_is_refused_not_overwritten(tmp_path):
    text = example_text("mazur").replace('"learning_rate": 0.5', '"learning_rate": 0.5, "learning_rate": -7')
    path = tmp_path / "twice.json"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        load_spec(str(path))
    assert _one_line(error) == f"{path}: the key 'learning_rate' appears twice in one object"


def test_a_repeated_key_in_toml_is_refused(tmp_path):
    path = tmp_path / "twice.toml"
    path.write_text('inputs = [1]\ntargets = [1]\nloss = "squared_error"\nlearning_rate = 0.5\nlearning_rate = 0.1\n')
    with pytest.raises(InputError, match="not valid TOML"):
        load_spec(str(path))


@pytest.mark.parametrize("rate", ["0", "-7", "-0.5"])
def test_learning_rate_must_be_positive(rate):
    data = _mazur()
    data["learning_rate"] = rate
    with pytest.raises(InputError, match=r"^learning_rate: expected a positive number, got "):
        spec_from_dict(data)


def _load_in_subprocess(path, timeout: float = 20) -> subprocess.CompletedProcess:
    """`symbackprop gradients PATH` in its own process: a test that blocks fails instead of hanging."""
    return subprocess.run([sys.executable, "-m", "symbackprop.cli", "gradients", str(path)],
                          capture_output=True, text=True, timeout=timeout, cwd=path.parent)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "spec.json"
    os.mkfifo(fifo)
    result = _load_in_subprocess(fifo)
    assert result.returncode == 2
    assert result.stderr == f"symbackprop: {fifo}: cannot read spec file: not a regular file\n"


def test_a_fifo_fed_without_end_is_refused_without_reading_it(tmp_path):
    """/dev/zero's behaviour without touching /dev: a writer that never stops."""
    fifo = tmp_path / "zero.json"
    os.mkfifo(fifo)
    stop = threading.Event()

    def feed() -> None:
        try:
            descriptor = os.open(fifo, os.O_WRONLY)  # blocks until the reader opens it, if it ever does
        except OSError:
            return
        try:
            while not stop.is_set():
                os.write(descriptor, b"0" * 65536)
        except OSError:  # the reader closed its end
            pass
        finally:
            os.close(descriptor)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        result = _load_in_subprocess(fifo)
    finally:
        stop.set()
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # unblocks the writer if nobody opened the FIFO
        writer.join(timeout=5)
    assert result.returncode == 2 and result.stderr.endswith(": cannot read spec file: not a regular file\n")


def test_a_file_larger_than_the_limit_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as handle:
        handle.truncate(200 * MAX_SPEC_BYTES)  # 200 MiB, sparse
    started = time.perf_counter()
    with pytest.raises(InputError) as error:
        load_spec(str(path))
    assert time.perf_counter() - started < 2
    assert _one_line(error).startswith(f"{path}: spec file larger than {MAX_SPEC_BYTES:,} bytes")


def test_a_network_too_large_to_derive_is_refused_before_reading_its_numbers():
    row = ["0.1"] * 2000
    data = {"inputs": row, "targets": row, "loss": "squared_error",
            "layers": [{"activation": "sigmoid", "weights": [row] * 2000}] * 2}
    started = time.perf_counter()
    with pytest.raises(InputError) as error:
        spec_from_dict(data)
    assert time.perf_counter() - started < 1
    assert _one_line(error) == (f"layers: the network has 8,000,000 parameters, more than the {MAX_PARAMETERS:,} "
                                "the engine derives one neuron at a time")


def test_many_samples_of_a_large_network_are_refused():
    data = _mazur()
    data["layers"][0]["weights"] = [["0.1"] * 100] * 100
    data["layers"][1]["weights"] = [["0.1"] * 100] * 2
    sample = {"inputs": ["0.5"] * 100, "targets": ["0.5", "0.5"]}
    data["samples"] = [sample] * 20
    del data["inputs"], data["targets"]
    with pytest.raises(InputError, match=r"^layers: 10,202 parameters times 20 samples is more than 100,000"):
        spec_from_dict(data)


@pytest.mark.parametrize("name", ["a\x1b[31mred", "two\nlines", "bell\x07", "right\u202eto left", "nul\x00"])
def test_names_with_control_characters_are_refused(name):
    data = _mazur()
    data["name"] = name
    with pytest.raises(InputError) as error:
        spec_from_dict(data)
    assert _one_line(error).startswith("name: control or invisible character ")


def test_a_name_that_is_markup_is_escaped_in_markdown():
    data = _mazur()
    data["name"] = "<script>alert(1)</script>"
    text = solve(data, checks=False).render("markdown")
    assert "<script>" not in text and "&lt;script&gt;" in text


@pytest.mark.parametrize("text", ["0.1_5", "１", "٠.٥", "0x10", "1e", ".", "+-1", "1 2"])
def test_only_ascii_decimals_are_numbers(text):
    data = _mazur()
    data["inputs"][0] = text
    with pytest.raises(InputError) as error:
        spec_from_dict(data)
    assert _one_line(error).startswith(f"inputs[0]: expected a number, got {text!r} (ASCII decimals")


@pytest.mark.parametrize("text", ["0.1_5", "８.2e-2", "٠.٠٨"])
def test_a_value_to_check_in_other_digits_is_refused(text):
    with pytest.raises(InputError, match=r"^value: expected a number"):
        check(value=text, wrt="w5")


@pytest.mark.parametrize("text", ["8.2167041e-2", "82167041e-9", "0.82167041E-1", "8.2167041E-02"])
def test_a_right_value_in_scientific_notation_is_right(text):
    assert check(value=text, wrt="w5")


def test_a_wrong_value_in_scientific_notation_is_wrong():
    assert not check(value="8.2167042e-2", wrt="w5")


def test_numpy_numbers_in_a_dict_spec_are_read_by_their_shortest_decimal():
    data = _mazur()
    data["inputs"] = list(numpy.array([0.05, 0.10]))
    data["layers"][0]["bias"] = numpy.float64(0.25)
    data["layers"][1]["weights"][0] = [numpy.int64(1), numpy.float64(0.45)]
    spec = spec_from_dict(data)
    assert spec.samples[0].inputs == (Rational(1, 20), Rational(1, 10))
    assert spec.layers[0].bias == Rational(1, 4)
    assert spec.layers[1].weights[0] == (1, Rational(9, 20))


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e99, max_value=1e99)
       .filter(lambda x: x == 0 or abs(x) >= 1e-99))
def test_any_float64_is_read_as_its_shortest_repr(x):
    assert Fraction(exact_number(numpy.float64(x), "x")) == Fraction(Decimal(repr(x)))


@settings(max_examples=200, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1e50"), max_value=Decimal("1e50"),
                   places=None).filter(lambda d: d == 0 or abs(d.adjusted()) <= 100))
def test_any_decimal_string_is_read_exactly(d):
    for text in (str(d), f"{d:e}", f"{d:E}"):
        assert Fraction(exact_number(text, "x")) == Fraction(d)


def test_a_huge_learning_rate_solves():
    data = _mazur()
    data["learning_rate"] = "1e90"
    assert main_output(data).startswith("Worked solution")


def main_output(data: dict) -> str:
    return solve(data).render("text")


def test_steps_times_recorded_rows_are_bounded(capsys):
    assert main(["train", "--steps", "10000000", "--every", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("symbackprop: --every: ")


def test_a_network_too_large_to_check_by_finite_differences_is_refused_early(tmp_path, capsys):
    data = _mazur()
    data["inputs"] = ["0.5"] * 40
    data["layers"][0]["weights"] = [["0.1"] * 40] * 40
    data["layers"][1]["weights"] = [["0.1"] * 40] * 2
    path = tmp_path / "wide.json"
    path.write_text(json.dumps(data))
    started = time.perf_counter()
    assert main(["gradients", str(path)]) == 2
    assert time.perf_counter() - started < 10
    err = capsys.readouterr().err
    assert err == ("symbackprop: spec: checking 1,682 gradients by finite differences would take minutes "
                   "(at most 1,000); train --numpy handles large networks\n")
    assert main(["train", str(path), "--steps", "2", "--numpy"]) == 0
