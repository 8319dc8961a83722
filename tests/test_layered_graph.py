"""The layered network is a front end of the one graph engine: its graph, and the derivation read off it."""

from __future__ import annotations

import json

import mpmath
import pytest

from symbackprop.derivation import backprop, derive
from symbackprop.derivation.graph import derive_graph
from symbackprop.network import build_network
from symbackprop.network.layered_graph import layered_graph
from symbackprop.numbers.graph import graph_values
from symbackprop.numbers.point import pass_values
from symbackprop.spec import example_text, spec_from_dict

SUM_BATCH = {
    "name": "sum batch",
    "samples": [{"inputs": ["0.05", "0.1"], "targets": ["0.01", "0.99"]},
                {"inputs": ["0.3", "-0.2"], "targets": ["0.5", "0.2"]}],
    "reduction": "sum",
    "layers": [{"name": "h", "activation": "tanh", "weights": [["0.15", "0.2"], ["0.25", "0.3"]], "bias": "0.35"},
               {"name": "o", "activation": "sigmoid", "weights": [["0.4", "0.45"], ["0.5", "0.55"]], "bias": "0.6"}],
    "loss": "half_squared_error",
    "learning_rate": "0.5",
}


def _network(name: str):
    data = SUM_BATCH if name == "sum batch" else json.loads(example_text(name))
    return build_network(spec_from_dict(data))


@pytest.mark.parametrize("name", ["mazur", "deep", "classifier", "sum batch"])
def test_the_graph_engine_alone_on_the_front_ends_graph_gives_every_delta_and_gradient(name):
    """The graph, derived by the engine's own local rule (no activation identities, no term lookup) and
    evaluated by the graph's evaluator, agrees with the layered derivation: δ_j is the adjoint of net_j,
    dE_total/dout_j the adjoint of out_j, dE_total/dw the adjoint of w."""
    network = _network(name)
    derivation = derive(network)
    layered = pass_values(derivation)
    engine = derive_graph(layered_graph(network).graph)
    graph = graph_values(engine)
    adjoint = {a.quantity: a.symbol for a in engine.adjoints}
    pairs = [(d.symbol, adjoint[d.neuron.net]) for d in derivation.deltas]
    pairs += [(s.partial, adjoint[s.neuron.out]) for s in derivation.sensitivities]
    pairs += [(g.symbol, adjoint[g.parameter.symbol]) for g in derivation.gradients]
    assert len(pairs) == 2 * len(derivation.deltas) + len(network.parameters)
    for ours, engines in pairs:
        assert mpmath.almosteq(layered[ours], graph[engines], rel_eps=mpmath.mpf(10) ** -40, abs_eps=0), ours


def test_the_graph_holds_every_pass_layer_by_layer_and_a_shared_bias_in_every_use():
    network = _network("classifier")
    front = layered_graph(network)
    graph = front.graph
    first, second = network.passes
    layer_of = {node.symbol: front.neurons[node.symbol][1].layer for node in graph.nodes if node.symbol in front.neurons}
    order = [layer_of[node.symbol] for node in graph.nodes if node.symbol in layer_of]
    assert order == sorted(order) and len(order) == 2 * 2 * len(network.neurons)
    assert [n.symbol for n in graph.nodes[-3:]] == [first.part, second.part, network.total]
    assert graph.loss == network.total
    shared = network.parameter("b1")
    users = [user.symbol for user in graph.consumers[shared.symbol]]
    assert users == [n.net for one in network.passes for n in one.layers[0].neurons]
    softmax = first.layers[1].neurons
    assert {n.symbol for n in graph.consumers[softmax[0].net]} == {n.out for n in softmax}
    assert front.neurons[second.layers[0].neurons[1].out] == (second, second.layers[0].neurons[1])
    assert set(graph.spec.trainable) == {p.symbol for p in network.trainable}


def test_the_derivation_is_the_engines_a_wrong_engine_term_reaches_every_record(monkeypatch):
    """Every delta and gradient is read off the engine's adjoints: an engine that drops each adjoint's last
    use changes the layered records (the old layer-by-layer walk would not have noticed)."""
    original = backprop.derive_graph

    def dropping(graph, rule, leaves):
        derived = original(graph, rule, leaves)
        adjoints = tuple(type(a)(a.quantity, a.symbol, a.terms[:-1] if len(a.terms) > 1 else a.terms)
                         for a in derived.adjoints)
        return type(derived)(derived.graph, adjoints)

    monkeypatch.setattr(backprop, "derive_graph", dropping)
    derivation = derive(_network("mazur"))
    assert len(derivation.gradient("b1").terms) == 1
    assert len(derivation.sensitivities[-1].paths) == 1
