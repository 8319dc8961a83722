"""Fresh layer exercises: a small network of one layer kind (a convolution, pooling, a recurrent cell, attention,
a normalization, ...) with short exact decimals drawn from a seed (same seed, same exercise).

Every number is a short decimal a student can work with a calculator: inputs and targets in steps of 0.1
from -1 to 1, weights and kernels in steps of 0.1 from -0.9 to 0.9, never 0, biases in steps of 0.1 from
-0.5 to 0.5. No relu is drawn, so no kink is hit there; a max pooling's windows could tie, so
`layer_exercise_specs` yields one draw after another from the seed's stream, and the caller takes the
first whose values hit no kink (the engine finds them: `numbers.kinks`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from decimal import Decimal

from symbackprop.errors import InputError

Draw = Callable[[int, int], str]
"""A short exact decimal: k/10 for a whole k drawn from the given range, never 0."""


def _dense(draw: Draw, outputs: int, inputs: int) -> dict:
    return {"kind": "dense", "weights": _matrix(draw, outputs, inputs), "bias": [draw(-5, 5) for _ in range(outputs)]}


def _matrix(draw: Draw, rows: int, columns: int) -> list[list[str]]:
    return [[draw(-9, 9) for _ in range(columns)] for _ in range(rows)]


def _vector(draw: Draw, size: int, low: int = -10, high: int = 10) -> list[str]:
    return [draw(low, high) for _ in range(size)]


def _conv1d(draw: Draw, stream: random.Random) -> dict:
    """A 1-D convolution of 5 inputs with a kernel of 3, stride 1 or 2, and a bias."""
    stride = stream.choice([1, 2])
    return {"inputs": _vector(draw, 5), "layers": [{"kind": "conv1d", "kernel": _vector(draw, 3, -9, 9),
                                                   "stride": stride, "bias": draw(-5, 5)}],
            "targets": _vector(draw, (5 - 3) // stride + 1)}


def _conv2d(draw: Draw, stream: random.Random) -> dict:
    """A 2-D convolution of a 3x3 image with a 2x2 kernel and a bias."""
    return {"inputs": _matrix(draw, 3, 3), "layers": [{"kind": "conv2d", "kernel": _matrix(draw, 2, 2),
                                                       "bias": draw(-5, 5)}],
            "targets": _matrix(draw, 2, 2)}


def _pooled(kind: str) -> Callable[[Draw, random.Random], dict]:
    def pooled(draw: Draw, stream: random.Random) -> dict:
        """A 1-D convolution of 5 inputs with a kernel of 2, then pooling over windows of 2."""
        return {"inputs": _vector(draw, 5), "layers": [{"kind": "conv1d", "kernel": _vector(draw, 2, -9, 9)},
                                                       {"kind": kind, "size": 2}],
                "targets": _vector(draw, 2)}
    return pooled


def _rnn(draw: Draw, stream: random.Random) -> dict:
    """An Elman RNN over 2 steps: 1 input, 2 hidden units, 1 output."""
    return {"inputs": _matrix(draw, 2, 1), "layers": [{"kind": "rnn", "W": _matrix(draw, 2, 1), "U": _matrix(draw, 2, 2),
                                                       "V": _matrix(draw, 1, 2), "b": _vector(draw, 2, -5, 5),
                                                       "c": draw(-5, 5)}],
            "targets": _matrix(draw, 2, 1)}


def _gated(kind: str, gates: str) -> Callable[[Draw, random.Random], dict]:
    def gated(draw: Draw, stream: random.Random) -> dict:
        """A gated cell over 2 steps: 1 input, 1 unit, 1 output, a bias on every gate and on the output."""
        return {"inputs": _matrix(draw, 2, 1),
                "layers": [{"kind": kind, "W": {gate: _matrix(draw, 1, 1) for gate in gates},
                            "U": {gate: _matrix(draw, 1, 1) for gate in gates}, "V": _matrix(draw, 1, 1),
                            "b": {gate: [draw(-5, 5)] for gate in (*gates, "y")}}],
                "targets": _matrix(draw, 2, 1)}
    return gated


def _attention(draw: Draw, stream: random.Random) -> dict:
    """Self-attention over 2 positions of 2 features, one head, causal or not."""
    return {"inputs": _matrix(draw, 2, 2),
            "layers": [{"kind": "attention", "WQ": _matrix(draw, 2, 2), "WK": _matrix(draw, 2, 2),
                        "WV": _matrix(draw, 2, 2), "causal": stream.random() < 0.5}],
            "targets": _matrix(draw, 2, 2)}


def _norm(kind: str, rows: int, features: int) -> Callable[[Draw, random.Random], dict]:
    def norm(draw: Draw, stream: random.Random) -> dict:
        """A normalization with γ and β drawn, ε 0.001."""
        return {"inputs": _matrix(draw, rows, features),
                "layers": [{"kind": kind, "gamma": _vector(draw, features, 5, 15), "beta": _vector(draw, features, -5, 5),
                            "epsilon": "0.001"}],
                "targets": _matrix(draw, rows, features)}
    return norm


def _dropout(draw: Draw, stream: random.Random) -> dict:
    """A dense layer of 2 inputs and 3 outputs, then inverted dropout (p = 0.5, scale 2) with a given mask."""
    mask = [1, 0, 1]
    stream.shuffle(mask)
    return {"inputs": _vector(draw, 2), "layers": [_dense(draw, 3, 2), {"kind": "dropout", "mask": mask, "scale": 2}],
            "targets": _vector(draw, 3)}


def _embedding(draw: Draw, stream: random.Random) -> dict:
    """Three tokens (one of them twice) looked up in a table of 3 rows of 2, flattened, then a dense output."""
    tokens = [1, 2, 3]
    stream.shuffle(tokens)
    tokens[2] = tokens[0]
    return {"inputs": tokens, "layers": [{"kind": "embedding", "table": _matrix(draw, 3, 2)}, {"kind": "flatten"},
                                         _dense(draw, 1, 6)],
            "targets": _vector(draw, 1)}


def _residual(draw: Draw, stream: random.Random) -> dict:
    """A residual block r = x + tanh(W x + b) on 2 inputs."""
    return {"inputs": _vector(draw, 2),
            "layers": [{"kind": "residual", "layers": [_dense(draw, 2, 2), {"kind": "tanh"}]}],
            "targets": _vector(draw, 2)}


LAYER_EXERCISES: dict[str, Callable[[Draw, random.Random], dict]] = {
    "conv1d": _conv1d, "conv2d": _conv2d, "maxpool": _pooled("maxpool1d"), "avgpool": _pooled("avgpool1d"),
    "rnn": _rnn, "lstm": _gated("lstm", "ifog"), "gru": _gated("gru", "run"), "attention": _attention,
    "batchnorm": _norm("batchnorm", 3, 2), "layernorm": _norm("layernorm", 2, 3), "dropout": _dropout,
    "embedding": _embedding, "residual": _residual,
}
"""Each layer kind an exercise can be about, and how its network is drawn."""


def layer_exercise_specs(kind: str, seed: int) -> Iterator[dict]:
    """Layer specs (as JSON-ready data) of a network about `kind`, one draw after another from the seed's
    stream: the same seed gives the same draws in the same order."""
    if kind not in LAYER_EXERCISES:
        raise InputError(f"layer: unknown layer kind {kind!r} (known: {', '.join(LAYER_EXERCISES)})")
    stream = random.Random(seed)

    def draw(low: int, high: int) -> str:
        return str(Decimal(stream.choice([k for k in range(low, high + 1) if k != 0])) / 10)

    while True:
        yield {"name": f"{kind}-exercise-{seed}", **LAYER_EXERCISES[kind](draw, stream), "loss": "half_squared_error"}
