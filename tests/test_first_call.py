"""The first `train` of a process pays only for what it needs (issue #12): no polynomial machinery to prove
the logistic identity, no module imported just to find the built-in examples; and a layer spec's fast path
(issue #14) names no parameter before a report asks. No timing here: the benchmarks measure time
(benchmarks/bench_training.py, bench_layers.py); these tests check the work done."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sympy import Symbol, symbols

import symbackprop as sbp
from benchmarks.bench_layers import attention_spec, convnet_spec, rnn_spec
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


@pytest.mark.parametrize("make", [convnet_spec, rnn_spec, attention_spec])
def test_the_fast_path_names_no_parameter_before_a_report_asks(make, monkeypatch):
    """Issue #14: the first `train(1, fast=True)` of a layer spec made a Name and a SymPy Symbol per parameter
    (6,810 for the convnet, 32 ms against PyTorch's whole 2 ms step); now it makes none, and the names, made when the
    parameters or the report are first read, are the exact path's, in its order."""
    made = []
    real = Symbol.__new__
    monkeypatch.setattr(Symbol, "__new__", lambda cls, *args, **options: made.append(args) or real(cls, *args, **options))
    problem = sbp.open_problem(make())
    training = problem.train(1, fast=True)
    assert training.error < training.history[0][0] and list(training.history) == [0, 1]
    before_names = {args[0] for args in made}  # an optimizer's rule may make its own few (m, v, ...)
    assert list(training.parameters) == [leaf.name for leaf in problem.parameters.graph.trainable]
    assert before_names.isdisjoint(training.parameters) and len(before_names) < 20
    assert {args[0] for args in made} >= set(training.parameters)
    assert training.record.data["parameters"].keys() == training.parameters.keys()


def _tensors(layers) -> list:
    return [tensor for layer in layers for tensor in (layer.kernel, layer.weights, layer.table, layer.mask,
                                                       *(layer.recurrent or {}).values(), *_tensors(layer.block or ()))
            if tensor is not None]


@pytest.mark.parametrize("name", ["convnet", "rnn", "lstm", "gru", "attention", "batchnorm", "blocks", "conv1d"])
def test_the_fast_path_makes_no_exact_number_from_the_spec(name):
    """The fast path reads the spec's numbers as doubles; their exact Rationals (`Tensor.entries`, 3-4 µs each)
    are the exact path's, made when it first asks."""
    data = json.loads((Path(sbp.__file__).parent / "examples" / f"{name}.json").read_text(), parse_float=Decimal)
    problem = sbp.open_problem({**data, "learning_rate": "0.1"})
    problem.train(1, fast=True)
    spec = problem.layer_spec
    tokens = spec.layers[0].kind == "embedding"  # its inputs are checked as token numbers when read
    read = [tensor for tensor in (*([] if tokens else [spec.inputs]), spec.targets, *_tensors(spec.layers))
            if "entries" in vars(tensor)]
    assert read == []
