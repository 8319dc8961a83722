"""Fresh exercises: a network with sensible numbers drawn from a seed (same seed, same exercise).

Numbers are short decimals like the document's (weights and biases in steps of 0.05, inputs in
steps of 0.05, targets in steps of 0.01), so a student can work them with a calculator.
"""

from __future__ import annotations

import random
from decimal import Decimal

from symbackprop.errors import InputError
from symbackprop.spec.vocabulary import ACTIVATIONS, LOSSES

MAX_NEURONS = 8
MAX_LAYERS = 6


def parse_layers(text: str) -> list[int]:
    """'2,2,2' -> [2, 2, 2]: inputs, then each layer's size."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise InputError(f"layers: expected sizes separated by commas like 2,2,2, got {text!r}") from None
    if len(sizes) < 2 or len(sizes) > MAX_LAYERS + 1 or not all(1 <= n <= MAX_NEURONS for n in sizes):
        raise InputError(f"layers: expected 2 to {MAX_LAYERS + 1} sizes from 1 to {MAX_NEURONS}, got {text!r}")
    return sizes


def exercise_spec(sizes: list[int], activation: str, loss: str, seed: int) -> dict:
    """A spec (as JSON-ready data) for a network with `sizes` = [inputs, layer 1, ..., outputs]."""
    if activation not in ACTIVATIONS or activation == "softmax":
        raise InputError(f"activation: expected one of {', '.join(a for a in ACTIVATIONS if a != 'softmax')}")
    if loss not in LOSSES:
        raise InputError(f"loss: unknown loss {loss!r} (known: {', '.join(LOSSES)})")
    draw = random.Random(seed)

    def step(low: int, high: int, unit: str) -> str:
        return str(Decimal(draw.randint(low, high)) * Decimal(unit))

    layers = []
    for index, (fan_in, size) in enumerate(zip(sizes, sizes[1:])):
        last = index == len(sizes) - 2
        layers.append({
            "name": "o" if last else ("h" if len(sizes) == 3 else f"h{index + 1}"),
            "activation": "sigmoid" if last and loss in ("binary_cross_entropy",) else activation,
            "weights": [[step(1, 19, "0.05") for _ in range(fan_in)] for _ in range(size)],
            "bias": step(1, 19, "0.05"),
        })
    targets = [step(1, 99, "0.01") for _ in range(sizes[-1])]
    if loss == "cross_entropy":
        hot = draw.randrange(sizes[-1])
        targets = ["1" if k == hot else "0" for k in range(sizes[-1])]
        layers[-1]["activation"] = "softmax" if sizes[-1] > 1 else "sigmoid"
    return {
        "name": f"exercise-{seed}",
        "inputs": [step(1, 19, "0.05") for _ in range(sizes[0])],
        "targets": targets,
        "layers": layers,
        "loss": loss,
        "learning_rate": "0.5",
        "update_biases": False,
    }
