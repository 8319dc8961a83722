"""Fresh computation-graph exercises: a random graph of a chosen size and mix of operations, from a seed.

Same seed, same graph. The leaves are short exact decimals (steps of 0.1 between -2 and 2, never 0);
each node applies one operation of the mix to names made before it, mostly ones nothing uses yet,
sometimes one already used (a name with several uses: fan-out, a shared parameter), so that every
name reaches the loss, the last node. Every graph is valid at its values: an operation is applied
only where it is defined with room to spare (a log or square root of at least 0.1, a divisor of at
least 0.1 in size, an exponent of at most 4) and no value exceeds 100 in size; tanh and σ only where
they have not flattened out (arguments at most 3 and 5 in size), so that no gradient vanishes. A draw
that cannot be completed so is drawn again from the same stream.
"""

from __future__ import annotations

import random
from decimal import Decimal

import mpmath

from symbackprop.errors import InputError

OPERATIONS = {"+": 2, "-": 2, "*": 2, "/": 2, "exp": 1, "log": 1, "sqrt": 1, "tanh": 1, "sigma": 1}
"""Each operation a graph exercise may use, with how many names it takes."""
ALIASES = {"·": "*", "\\cdot": "*", "σ": "sigma", "sigmoid": "sigma", "ln": "log"}
DEFAULT_OPERATIONS = "+,*,exp,tanh,sigma"
MAX_NODES = 30
ATTEMPTS = 50
_TRIES = 10
"""How many draws of names a node gets before its graph is drawn again."""
_REUSE = 0.25
"""How often a node's second name is one already used, when it may be."""
_LARGEST, _SMALLEST = 100, mpmath.mpf("0.1")
"""No value beyond 100 in size; no log, square root or divisor nearer 0 than 0.1."""
_FLAT = {"tanh": 3, "sigma": 5}
"""The largest argument in size of a function that flattens out: beyond, its gradient all but vanishes
(tanh'(3) is about 0.01), and every gradient behind it shows as 0."""


def parse_operations(text: str) -> list[str]:
    """'+,*,exp' -> ['+', '*', 'exp']: each one of `OPERATIONS` (or an alias: ·, σ, sigmoid, ln)."""
    names = [ALIASES.get(part.strip(), part.strip()) for part in text.split(",")]
    unknown = [name for name in names if name not in OPERATIONS]
    if unknown:
        raise InputError(f"ops: unknown operation {unknown[0]!r} (known: {', '.join(OPERATIONS)}, separated by commas)")
    return list(dict.fromkeys(names))


def graph_exercise_spec(nodes: int, operations: list[str], seed: int) -> dict:
    """A graph spec (as JSON-ready data) with `nodes` intermediates drawn from `operations`."""
    if not 1 <= nodes <= MAX_NODES:
        raise InputError(f"nodes: expected a whole number from 1 to {MAX_NODES}, got {nodes}")
    draw = random.Random(seed)
    with mpmath.workdps(30):
        for _ in range(ATTEMPTS):
            built = _Builder(draw, operations).build(nodes)
            if built is not None:
                values, formulas = built
                return {"name": f"graph-exercise-{seed}", "loss": "f", "values": values, "nodes": formulas}
    raise InputError(f"ops: no valid graph of {nodes} nodes from {', '.join(operations)} in {ATTEMPTS} draws "
                     "(each came to an operation undefined, out of range or flat at its values): "
                     "try fewer nodes, or add + or -")


class _Builder:
    """One draw of a graph: names made in order, each node's value known as it is made."""

    def __init__(self, draw: random.Random, operations: list[str]):
        self.draw = draw
        self.operations = operations
        self.values: dict[str, str] = {}
        self.formulas: dict[str, str] = {}
        self.known: dict[str, mpmath.mpf] = {}
        self.unused: list[str] = []
        """Names no node uses yet: each must be used by a later node, so that it reaches the loss."""

    def build(self, nodes: int) -> tuple[dict[str, str], dict[str, str]] | None:
        """The leaves' values and the nodes' formulas, or None when an operation found no valid operands."""
        chosen = [self.draw.choice(self.operations) for _ in range(nodes)]
        for index, operation in enumerate(chosen):
            later = sum(OPERATIONS[op] == 2 for op in chosen[index + 1:])
            name = "f" if index == nodes - 1 else f"q{index + 1}"
            # each later two-name node can leave one name fewer unused: at most `later` + 1 may stay
            if not self.node(name, operation, max(0, len(self.unused) - later)):
                return None
        return self.values, self.formulas

    def node(self, name: str, operation: str, must: int) -> bool:
        """Make node `name`, using at least `must` names nothing uses yet; False if no operation of the
        same arity in the mix is valid on the names drawn."""
        arity = OPERATIONS[operation]
        same = [operation, *(op for op in self.operations if op != operation and OPERATIONS[op] == arity)]
        leaves = dict(self.values)
        for _ in range(_TRIES):
            operands = self.operands(arity, must)
            if operands is None:
                return False
            for candidate in same:
                value = _apply(candidate, [self.known[operand] for operand in operands])
                if value is not None:
                    self.formulas[name] = _formula(candidate, operands)
                    self.known[name] = value
                    self.unused = [other for other in self.unused if other not in operands] + [name]
                    return True
            for leaf in set(self.values) - set(leaves):  # the leaves drawn for operands that did not do
                del self.values[leaf], self.known[leaf]
        return False

    def operands(self, arity: int, must: int) -> list[str] | None:
        """`arity` distinct names: at least `must` unused ones, then unused ones, used ones or new leaves."""
        if must > min(arity, len(self.unused)):
            return None
        taken = self.draw.sample(self.unused, must)
        while len(taken) < arity:
            unused = [name for name in self.unused if name not in taken]
            used = [name for name in self.known if name not in self.unused and name not in taken]
            if used and self.draw.random() < _REUSE:
                taken.append(self.draw.choice(used))
            elif unused and self.draw.random() < 0.5:
                taken.append(self.draw.choice(unused))
            else:
                taken.append(self.leaf())
        return taken

    def leaf(self) -> str:
        """A new leaf with a short exact value, used by the node being made."""
        name = f"x{len(self.values) + 1}"
        step = self.draw.choice([k for k in range(-20, 21) if k != 0])
        self.values[name] = str(Decimal(step) / 10)
        self.known[name] = mpmath.mpf(step) / 10
        return name


def _apply(operation: str, args: list[mpmath.mpf]) -> mpmath.mpf | None:
    """The operation's value, or None where it is undefined, too near its edge, or too large."""
    a = args[0]
    if operation in ("log", "sqrt") and a < _SMALLEST or operation == "exp" and a > 4:
        return None
    if abs(a) > _FLAT.get(operation, abs(a)):
        return None
    if operation == "/" and abs(args[1]) < _SMALLEST:
        return None
    value = {
        "+": lambda: a + args[1], "-": lambda: a - args[1], "*": lambda: a * args[1], "/": lambda: a / args[1],
        "exp": lambda: mpmath.exp(a), "log": lambda: mpmath.log(a), "sqrt": lambda: mpmath.sqrt(a),
        "tanh": lambda: mpmath.tanh(a), "sigma": lambda: 1 / (1 + mpmath.exp(-a)),
    }[operation]()
    return value if abs(value) <= _LARGEST else None


def _formula(operation: str, operands: list[str]) -> str:
    """The node's formula as a spec writes it: 'x1 * q2', 'tanh(q1)'."""
    if OPERATIONS[operation] == 2:
        return f" {operation} ".join(operands)
    return f"{operation}({operands[0]})"
