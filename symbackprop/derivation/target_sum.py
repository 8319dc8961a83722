"""A softmax output layer's delta in its targets' sum: with cross-entropy, (out_j - target_j)/N.

The delta of a coupled output neuron is the Jacobian sum delta_j = sum_k dE/dout_k * dout_k/dnet_j,
each factor derived on its own (for softmax with cross-entropy, -target_k/(N out_k) times
out_k([k = j] - out_j)). Multiplied out, with one target other than target_j written as the
targets' sum T minus the others, the other targets and outputs cancel: delta_j = (out_j T - target_j)/N,
the derivative for any targets, soft labels included. When the targets form a distribution, T = 1
gives the form every textbook shows, (out_j - target_j)/N. Nothing is typed in: both forms come
out of SymPy, and only when everything but out_j, target_j and T cancels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sympy import Add, Dummy, Expr, Symbol, expand_mul, factor_terms

from symbackprop.derivation.rules import fold_sum
from symbackprop.network import Network
from symbackprop.network.unevaluated import unevaluated_product, unevaluated_sum


@dataclass(frozen=True)
class TargetSumForms:
    """delta_j written with the targets' sum, and with that sum set to 1."""

    targets: tuple[Symbol, ...]
    """The targets whose sum the forms use: the sample's."""
    general: Expr
    """For any targets: (out_j (target_1 + ... + target_K) - target_j)/N."""
    distribution: Expr
    """When the targets sum to 1: (out_j - target_j)/N."""


def target_sum_forms(jacobian_sum: Expr, out: Symbol, target: Symbol,
                     targets: Sequence[Symbol]) -> TargetSumForms | None:
    """The forms of delta_j = `jacobian_sum` in `out` (out_j), `target` (target_j) and the sum of `targets`;
    None when the sum does not reduce to them (a loss other than cross-entropy, a hidden layer)."""
    others = [t for t in targets if t != target]
    if not others:
        return None
    total = Dummy("T")
    eliminated = others[0]
    rest = [t for t in targets if t != eliminated]
    in_total = expand_mul(jacobian_sum.xreplace({eliminated: total - sum(rest)}))
    if not in_total.free_symbols <= {out, target, total}:
        return None
    general = _factored(in_total, {total: unevaluated_sum(list(targets))})
    distribution = _factored(expand_mul(in_total.xreplace({total: 1})), {})
    return TargetSumForms(tuple(targets), general, distribution)


def _factored(expr: Expr, names: dict[Dummy, Expr]) -> Expr:
    """The number factored out and kept in front, positive terms first, as written by hand:
    (1/2) (out - target); `names` then replaces the placeholder of the targets' sum by the sum itself."""
    coefficient, rest = factor_terms(expr).as_coeff_Mul()
    terms = sorted(Add.make_args(rest), key=lambda term: term.could_extract_minus_sign())
    rest = fold_sum([term.xreplace(names) for term in terms])
    return rest if coefficient == 1 else unevaluated_product((coefficient, rest))


def distribution_constraints(network: Network) -> dict[Symbol, Expr]:
    """Under cross-entropy, for each sample whose exact targets sum to 1: its last target as 1 minus the
    others. What holds for targets that form a distribution, such as (out - target)/N, holds under these."""
    if network.spec.loss != "cross_entropy":
        return {}
    constraints = {}
    for one, sample in zip(network.passes, network.spec.samples):
        if len(one.targets) > 1 and sum(sample.targets) == 1:
            *others, last = one.targets
            constraints[last] = 1 - Add(*others)
    return constraints
