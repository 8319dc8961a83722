"""Stage 2: the network as symbols in the document's notation, each with a small local expression."""

from symbackprop.network.build import build_network
from symbackprop.network.model import Layer, Network, Neuron, OutputError, Parameter, Pass
from symbackprop.names import Partial

__all__ = ["Layer", "Network", "Neuron", "OutputError", "Parameter", "Partial", "Pass", "build_network"]
