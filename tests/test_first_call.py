"""The first `train` of a process pays only for what it needs (issue #12): no polynomial machinery to prove
the logistic identity, no module imported just to find the built-in examples. No timing here: the
benchmarks measure time (benchmarks/bench_training.py); these tests check the work done."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sympy import symbols

from symbackprop.derivation import derive, identities
from symbackprop.network import build_network
from symbackprop.network.activations import ACTIVATIONS
from symbackprop.spec import load_spec


def test_the_logistic_and_tanh_identities_are_proved_without_cancel(monkeypatch):
    """cancel costs about 8 ms on its first use in a process; the exact tests before it settle these."""
    def cancel(*_args):
        raise AssertionError("cancel was called")

    monkeypatch.setattr(identities, "cancel", cancel)
    identities._output_form.cache_clear()
    try:
        net, out = symbols("net out")
        assert identities.derivative_in_output(ACTIVATIONS["sigmoid"], net, out) == out * (1 - out)
        assert identities.derivative_in_output(ACTIVATIONS["tanh"], net, out) == 1 - out**2
        derive(build_network(load_spec("mazur")))
    finally:
        identities._output_form.cache_clear()


def test_softplus_still_needs_cancel_and_gets_it(monkeypatch):
    """Its inverse does not substitute back to out (log(e^out) stays as it is), so cancel decides."""
    calls = []
    real = identities.cancel
    monkeypatch.setattr(identities, "cancel", lambda expr: calls.append(expr) or real(expr))
    identities._output_form.cache_clear()
    try:
        net, out = symbols("net out")
        assert identities.derivative_in_output(ACTIVATIONS["softplus"], net, out) is not None
        assert len(calls) == 1
    finally:
        identities._output_form.cache_clear()


@pytest.mark.parametrize("module", ["zipfile", "importlib.readers"])
def test_the_first_train_of_a_process_imports_nothing_it_does_not_need(module):
    source = ("import sys; import symbackprop as sbp; before = set(sys.modules); "
              "sbp.train('mazur', 10, fast=True); print(' '.join(sorted(set(sys.modules) - before)))")
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, check=True)
    assert module not in done.stdout.split()
