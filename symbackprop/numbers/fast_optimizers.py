"""An optimizer's update of a layer spec's parameter arrays, for the numpy fast path (`numbers.fast_layers`).

The update is the optimizer's SymPy rule (`derivation.optimizers.optimizer_rule`: sgd, momentum, Nesterov,
RMSProp, Adam, AdamW, with an l1 or l2 penalty's derivative joining the gradient) compiled by
`numbers.optimizers.compile_rule` for numpy, so that one generated function updates every entry of an array at
once: the same rule the exact path evaluates line by line, never a second copy written by hand. As
`numbers.optimizers.OptimizerProgram` does for scalars, the rule is compiled once per kind of parameter (penalized
or not), each array carries its own state (m, v, ...: zeros before the first step, as on the exact path), and
step t counts from 1. The penalty covers the arrays the layer spec's graph penalizes (`GraphSpec.penalizes`:
kernels, weight matrices and embedding tables; biases and a normalization's γ and β only with `biases = true`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from symbackprop.derivation.optimizers import optimizer_rule, penalty
from symbackprop.network.layers import LayerParameters
from symbackprop.numbers.optimizers import compile_rules
from symbackprop.spec.layers import LayersSpec
from symbackprop.spec.model import OptimizerSpec

State = tuple[tuple[np.ndarray, ...], ...]
"""Per parameter array, the optimizer's state arrays (m, v, ...) in the rule's order."""


class FastOptimizer:
    """An optimizer's compiled update of each parameter array (`keys`: (layer, key) in the order the arrays are
    given), with or without the spec's penalty as the spec says for that array."""

    def __init__(self, optimizer: OptimizerSpec, spec: LayersSpec, names: Callable[[], LayerParameters],
                 keys: Sequence[tuple[str, str]]) -> None:
        compiled = compile_rules(optimizer, penalty(spec.regularization), spec.learning_rate, "numpy")
        named = names() if spec.regularization is not None else None  # named only when a penalty must be placed
        self.penalized = tuple(named is not None and named.graph.penalizes(named.grids[layer][key].entries[0])
                               for layer, key in keys)
        """Per array: whether the penalty covers it (every entry of an array alike)."""
        self.updates = tuple(compiled[covered] for covered in self.penalized)
        self.states = len(optimizer_rule(optimizer).state)
        """How many arrays of state each parameter array carries."""

    def start(self, arrays: Sequence[np.ndarray]) -> State:
        """The state before the first step: zeros of each array's shape."""
        return tuple(tuple(np.zeros_like(array) for _ in range(self.states)) for array in arrays)

    def step(self, arrays: Sequence[np.ndarray], gradients: Sequence[np.ndarray], state: State,
             t: int) -> tuple[tuple[np.ndarray, ...], State]:
        """Step `t` (from 1): every array and its state after it, from the arrays, their gradients and their
        state before it (new arrays: nothing given is changed)."""
        after, carried = [], []
        for update, theta, g, own in zip(self.updates, arrays, gradients, state):
            theta, *new = update(theta, g, *own, t)
            after.append(theta)
            carried.append(tuple(new))
        return tuple(after), tuple(carried)
