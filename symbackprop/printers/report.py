"""Reports of the `gradients` and `train` commands, as text tables or JSON, from engine results."""

from __future__ import annotations

import json

from symbackprop.checks.finite_differences import GradientCheck
from symbackprop.derivation import Derivation
from symbackprop.network import Network
from symbackprop.numbers.kinks import Kink
from symbackprop.numbers.rounding import fixed, significant
from symbackprop.numbers.training import TrainingResult
from symbackprop.printers.text import TextPrinter
from symbackprop.solution import Note, Section, Table, check_section

DIGITS = 20


def gradients_text(derivation: Derivation, loss, checks: list[GradientCheck], at_kink: list[Kink], *,
                   ascii: bool = False, width: int | None = None) -> str:
    """E_total and every gradient with its finite-difference checks beside it (`ascii`, `width`: see TextPrinter)."""
    items = [Note(f"E_total = {significant(loss, DIGITS)}")]
    items += [Note(f"{k.neuron.net.name} = 0: {k.note}.") for k in at_kink]
    items.append(check_section(derivation, checks))
    return TextPrinter(ascii=ascii, width=width)._print(Section(f"Gradients: {derivation.network.spec.name}", tuple(items))) + "\n"


def gradients_json(loss, checks: list[GradientCheck], at_kink: list[Kink]) -> str:
    """{"loss", "gradients": name -> decimal string, "checks": [...], "kinks": [...]}"""
    return _dump({
        "loss": significant(loss, DIGITS),
        "gradients": {c.parameter: significant(c.symbolic, DIGITS) for c in checks},
        "checks": [{"parameter": c.parameter, "symbolic": significant(c.symbolic, DIGITS),
                    "double_fd": repr(c.double), "double_step": c.double_step, "double_error": c.double_error,
                    "double_tolerance": c.double_tolerance, "mpmath_fd": significant(c.high, DIGITS),
                    "agreeing_digits": round(c.agreeing_digits, 1), "status": c.status, "kink": c.kink}
                   for c in checks],
        "kinks": [{"neuron": k.neuron.net.name, "note": k.note} for k in at_kink],
    })


def training_text(result: TrainingResult, every: int, network: Network, *, decimals: int = 9,
                  ascii: bool = False) -> str:
    """Loss before and after, the loss every `every` steps, the final parameters and outputs: names in the
    notation of `solve` (Unicode, or plain ASCII with `ascii`), numbers to `decimals` decimals as `solve` shows them."""
    def shown(value) -> str:
        return fixed(value, decimals)

    history = tuple((str(step), shown(result.history[step][0])) for step in _sampled(result.steps, every))
    parameters = tuple((p.symbol, shown(result.parameters[p.name])) for p in network.parameters)
    outputs = tuple((symbol, shown(value)) for symbol, value in zip(network.outputs, result.outputs))
    section = Section(f"Training: {result.steps:,} steps, order '{result.order}'", (
        Note(f"E_total before: {shown(result.history[0][0])}"),
        Note(f"E_total after:  {shown(result.error)}"),
        Table(("step", "E_total"), history),
        Table(("parameter", "value"), parameters),
        Table(("output", "value"), outputs),
    ))
    return TextPrinter(ascii=ascii)._print(section) + "\n"


def training_json(result: TrainingResult, every: int, names: list[str]) -> str:
    return _dump({
        "steps": result.steps,
        "order": result.order,
        "loss_before": _number(result.history[0][0]),
        "loss_after": _number(result.error),
        "parameters": {name: _number(value) for name, value in result.parameters.items()},
        "outputs": {name: _number(value) for name, value in zip(names, result.outputs)},
        "history": [{"step": step, "loss": _number(result.history[step][0])}
                    for step in _sampled(result.steps, every)],
    })


def _number(value) -> str:
    """A training value: 20 significant digits from the exact path, all of a double's from the fast one."""
    return repr(value) if isinstance(value, float) else significant(value, DIGITS)


def _sampled(steps: int, every: int) -> list[int]:
    """0, every, 2 every, ..., and the last step."""
    return sorted(set(range(0, steps + 1, max(every, 1))) | {steps})


def _dump(data: dict) -> str:
    return json.dumps(data, indent=2) + "\n"
