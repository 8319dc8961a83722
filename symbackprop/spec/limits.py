"""How large a spec may be: bounds that keep every command within seconds and a few hundred MB.

A grader runs the engine on specs other people wrote; without these bounds a spec could make it
read forever (a FIFO, /dev/zero), hold gigabytes (a 2000 x 2000 network) or take minutes before
saying anything. docs/spec.md states them.
"""

from __future__ import annotations

from symbackprop.errors import InputError

MAX_SPEC_BYTES = 8 << 20
"""A spec file of more than 8 MiB is refused before it is parsed (a graph spec of `MAX_GRAPH_NODES` nodes
takes about 2.5 MB in JSON; a network of `MAX_PARAMETERS` parameters, a few hundred kB)."""
MAX_GRAPH_NODES = 100_000
"""Named intermediates of a graph spec: 100,000 are read, derived, evaluated and checked in about a
minute and 600 MB (docs/performance.md)."""
MAX_PARAMETERS = 25_000
"""Weights and biases: the scalar derivation builds a few symbols and expressions per connection;
at 20,200 parameters (100-100-100) it takes about a second and 170 MB (docs/performance.md)."""
MAX_SIZE = 100_000
"""Parameters times samples: each sample is a forward and backward pass of its own symbols."""
MAX_NAME_LENGTH = 200


def require_size(parameters: int, samples: int, field: str) -> None:
    """Refuse, before anything is built, a network too large to derive neuron by neuron."""
    if parameters > MAX_PARAMETERS:
        raise InputError(f"{field}: the network has {parameters:,} parameters, more than the {MAX_PARAMETERS:,} "
                         "the engine derives one neuron at a time")
    if parameters * samples > MAX_SIZE:
        raise InputError(f"{field}: {parameters:,} parameters times {samples:,} samples is more than "
                         f"{MAX_SIZE:,}; use fewer samples")
