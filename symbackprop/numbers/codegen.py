"""Straight-line Python source from assignments over named intermediates.

A training step is the network's forward definitions followed by the derivation's backward
definitions, run in order. Before printing, the assignments are tidied the way a person
unrolling the loop by hand would: a definition that merely renames another value (a symbol
or a number) is substituted, a repeated expression is computed once, what no result needs is
dropped, and a value used only once is written where it is used. Every expression is printed
once, by a printer for the few kinds of node a network's expressions are made of (sums,
products, powers, exp, log, tanh, sign, pieces; a stop-gradient, detach(u), is written as u);
non-integer numbers become named constants. The expressions are the engine's own, never user text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sympy import Abs, And, Expr, Function, Max, Min, Number, Piecewise, Pow, S, Symbol
from sympy.core.relational import Relational

from symbackprop.network.detach import detach

FUNCTIONS = ("exp", "log", "tanh", "log1p", "sign")
"""Functions the generated code calls by name; the caller's namespace provides them. Python's own
max, min and abs print as themselves (the stable forms of `numbers.stable` and graph formulas use them)."""
_BUILTINS = {Max: "max", Min: "min", Abs: "abs"}

_ADD, _MUL, _POW, _ATOM = 1, 2, 3, 4
"""Python precedence levels: a + b, a*b (and -a), a**b, names and calls."""
_RELATIONS = {"==": "==", "!=": "!=", ">": ">", "<": "<", ">=": ">=", "<=": "<="}


@dataclass
class _Merged:
    """The assignments with renames substituted and repeated expressions computed once."""

    assignments: list[tuple[Symbol, Expr]]
    aliases: dict[Symbol, Expr]
    """Symbols that name no computation of their own: a number, or another symbol."""
    parameters: frozenset[Symbol]
    in_place: bool
    """Whether a parameter is reassigned (the output-first order)."""
    occurrences: list[list[Symbol]]
    """For each assignment, every place its expression reads a symbol (aliases resolved), with repeats."""


class SourceWriter:
    """Prints the assignments of `sequence` that given results need, as lines of Python.

    It names the symbols v0, v1, ... and the numbers c0, c1, ...; one writer serves every
    function of a generated module, so that a symbol has one name throughout.
    """

    def __init__(self, sequence: Sequence[tuple[Symbol, Expr]], parameters: Iterable[Symbol],
                 float_literals: bool = False) -> None:
        self.float_literals = float_literals
        """Integers as 1.0 rather than 1: for double precision, where int-float arithmetic costs more."""
        self.functions: set[str] = set()
        """The functions of FUNCTIONS the printed code calls."""
        self.names: dict[Symbol, str] = {}
        self.numbers: dict[Expr, str] = {}
        """Every number but the integers, and every expression of numbers alone, to its constant's name."""
        self._merged = _merge(sequence, frozenset(parameters))
        self._inlined: dict[Symbol, Expr] = {}
        self._numeric: dict[Expr, bool] = {}

    def name(self, symbol: Symbol) -> str:
        """The variable that holds `symbol`, or the number it stands for."""
        value = self._merged.aliases.get(symbol, symbol)
        if not isinstance(value, Symbol):
            return self.expression(value)
        return self.names.setdefault(value, f"v{len(self.names)}")

    def body(self, results: Sequence[Symbol], indent: int, results_in_place: bool = False) -> str:
        """One line per assignment that `results` need; a value used once is written where it is used.

        With `results_in_place`, a result that no line reads gets no line either: the caller writes
        it where it is returned, with `expression(result)`.
        """
        live, self._inlined = _needed(self._merged, results, results_in_place)
        pad = " " * indent
        return "".join(f"{pad}{self.name(target)} = {self.expression(expression)}\n"
                       for target, expression in live if target not in self._inlined)

    def expression(self, expr: Expr) -> str:
        return self._print(expr)[0]

    def updating_body(self, results: Sequence[Symbol], indent: int, new_values: Mapping[Symbol, Symbol],
                      read_after: Iterable[Symbol] = ()) -> tuple[str, set[Symbol]]:
        """`body` for a step that ends by replacing parameters by their new values (`new_values`: new value's
        symbol -> parameter), and the parameters it replaced itself.

        The new values are computed last, each straight into its parameter's variable, as a hand-written
        loop does `w -= eta*g`, where nothing after it reads the parameter's old value (nor `read_after`,
        what the caller's lines after the body read); the caller renames the others. Renaming every one
        at the end of a step cost a tenth of the mazur network's loop.
        """
        live, self._inlined = _needed(self._merged, results)
        statements = [(target, expression) for target, expression in live if target not in self._inlined]
        aliases = self._merged.aliases
        changed = [(aliases.get(new, new), parameter) for new, parameter in new_values.items()
                   if aliases.get(new, new) != parameter]
        parameter_of = dict(changed)
        last = [(t, e) for t, e in statements if t in parameter_of]
        first = [(t, e) for t, e in statements if t not in parameter_of]
        reads = {t: self._reads_written(e) for t, e in statements}
        if self._merged.in_place or len(parameter_of) != len(changed) or any(
                reads[t] & parameter_of.keys() for t, _ in statements):  # then every new value is renamed
            return self.body(results, indent), set()
        replaced, later = set(), {aliases.get(s, s) for s in read_after}
        for target, _expression in reversed(last):
            if parameter_of[target] not in later:
                replaced.add(parameter_of[target])
            later |= reads[target]
        pad = " " * indent
        written = [(t, e) for t, e in first] + [(parameter_of[t] if parameter_of[t] in replaced else t, e)
                                                 for t, e in last]
        return "".join(f"{pad}{self.name(t)} = {self.expression(e)}\n" for t, e in written), replaced

    def _reads_written(self, expr: Expr) -> set[Symbol]:
        """The variables the printed `expr` reads: its symbols, through the values written where they are used."""
        found: set[Symbol] = set()
        for symbol in _occurrences(expr, self._merged.aliases):
            inlined = self._inlined.get(symbol)
            found |= self._reads_written(inlined) if inlined is not None else {symbol}
        return found

    def _print(self, expr: Expr) -> tuple[str, int]:
        """Python source for `expr` and its precedence; the tree is kept, so is every rounding."""
        if isinstance(expr, Symbol):
            value = self._merged.aliases.get(expr, expr)
            if not isinstance(value, Symbol):
                return self._print(value)
            inlined = self._inlined.get(value)
            return self._print(inlined) if inlined is not None else (self.name(value), _ATOM)
        if expr.is_Integer:
            return f"{expr}.0" if self.float_literals else str(expr), _ATOM if expr >= 0 else _MUL
        if self._is_numeric(expr):  # 1/2 or -1/(-3) would be computed in doubles even on the mpmath path
            return self.numbers.setdefault(expr, f"c{len(self.numbers)}"), _ATOM
        if expr.is_Add:
            return self._sum(expr.args), _ADD
        if expr.is_Mul:
            return self._product(expr.args)
        if isinstance(expr, Pow):
            if expr.exp == -1:
                one = "1.0" if self.float_literals else "1"  # 1.0/x: a float division, no int to convert
                return f"{one}/{self._operand(expr.base, _POW)}", _MUL
            return f"{self._operand(expr.base, _ATOM)}**{self._operand(expr.exp, _ATOM)}", _POW
        if isinstance(expr, Piecewise):
            *pieces, (last, _) = expr.args
            text = "".join(f"{self._operand(piece, _ADD)} if {self._condition(condition)} else "
                           for piece, condition in pieces)
            return f"({text}{self._operand(last, _ADD)})", _ATOM
        if isinstance(expr, detach):  # a stop-gradient has its argument's value
            return self._print(expr.args[0])
        if expr.func in _BUILTINS:
            return f"{_BUILTINS[expr.func]}({', '.join(self.expression(a) for a in expr.args)})", _ATOM
        if isinstance(expr, Function) and expr.func.__name__ in FUNCTIONS:
            self.functions.add(expr.func.__name__)
            return f"{expr.func.__name__}({', '.join(self.expression(a) for a in expr.args)})", _ATOM
        raise NotImplementedError(f"no Python code for {type(expr).__name__}")

    def _is_numeric(self, expr: Expr) -> bool:
        """Whether `expr` holds no symbol (remembered: `_print` asks at every level of a tree)."""
        numeric = self._numeric.get(expr)
        if numeric is None:
            numeric = self._numeric[expr] = not isinstance(expr, Symbol) and all(
                self._is_numeric(a) for a in expr.args)
        return numeric

    def _operand(self, expr: Expr, at_least: int) -> str:
        text, precedence = self._print(expr)
        return text if precedence >= at_least else f"({text})"

    def _sum(self, terms: Sequence[Expr]) -> str:
        """a + b - c: a term with a negative coefficient is subtracted (the same number, exactly)."""
        text = self._operand(terms[0], _ADD)
        for term in terms[1:]:
            negated = _negated(term)
            text += f" - {self._operand(negated, _MUL)}" if negated is not None else f" + {self._operand(term, _MUL)}"
        return text

    def _product(self, factors: Sequence[Expr]) -> tuple[str, int]:
        """a*b/c, -a*b: a factor u**-1 divides; a leading -1 is a minus sign; a factor 1 is left out (exact);
        nested products keep parentheses."""
        sign = ""
        if isinstance(factors[0], Number) and factors[0].is_negative:
            sign, factors = "-", ([-factors[0]] if factors[0] is not S.NegativeOne else []) + list(factors[1:])
        factors = [f for f in factors if f is not S.One]
        divides = [isinstance(f, Pow) and f.exp == -1 and not self._is_numeric(f) for f in factors]
        above = [f for f, divide in zip(factors, divides) if not divide]  # 1/(-3) is a constant: int / int is a float
        below = [f.base for f, divide in zip(factors, divides) if divide]
        text = "*".join(self._operand(f, _MUL if k == 0 else _POW) for k, f in enumerate(above)) or "1"
        text += "".join(f"/{self._operand(b, _POW)}" for b in below)
        return sign + text, _MUL

    def _condition(self, condition: Expr) -> str:
        if condition is True or condition == True:  # noqa: E712 (SymPy's true)
            return "True"
        if isinstance(condition, Relational) and condition.rel_op in _RELATIONS:
            return (f"{self._operand(condition.lhs, _ADD)} {_RELATIONS[condition.rel_op]} "
                    f"{self._operand(condition.rhs, _ADD)}")
        if isinstance(condition, And):  # a maximum's arg-max: every other argument below it
            return " and ".join(f"({self._condition(part)})" for part in condition.args)
        raise NotImplementedError(f"no Python code for the condition {condition}")


def _negated(term: Expr) -> Expr | None:
    """-term when `term` carries a negative coefficient (so that a + (-c) b prints as a - c b), else None."""
    if isinstance(term, Number) and term.is_negative:
        return -term
    if term.is_Mul and isinstance(term.args[0], Number) and term.args[0].is_negative:
        rest = term.args[1:]
        coefficient = -term.args[0]
        factors = rest if coefficient == 1 else (coefficient, *rest)
        return factors[0] if len(factors) == 1 else term.func(*factors, evaluate=False)
    return None


def _merge(sequence: Sequence[tuple[Symbol, Expr]], parameters: frozenset[Symbol]) -> _Merged:
    """Substitute renames and compute repeated expressions once.

    A parameter may be reassigned in place (the output-first order): a rename of a parameter is kept
    as a rename only where no later reassignment changes what it refers to, and a remembered
    expression that reads the parameter is forgotten at its reassignment.
    """
    aliases: dict[Symbol, Expr] = {}
    seen: dict[object, tuple[Symbol, Expr]] = {}
    kept: list[tuple[Symbol, Expr]] = []
    reassigned_later = {target for target, _ in sequence if target in parameters}
    in_place = bool(reassigned_later)

    def key(expr: Expr) -> object:
        """`expr` with every alias resolved, as a hashable tree: equal keys, equal values."""
        if isinstance(expr, Symbol):
            return aliases.get(expr, expr)
        if not expr.args:
            return expr
        return expr.func, tuple(key(a) for a in expr.args)

    for target, expression in sequence:
        if target in parameters:  # a reassignment: values computed from the old one are now stale
            reassigned_later.discard(target)
            seen = {k: (s, e) for k, (s, e) in seen.items() if target not in _reads(e, aliases)}
            kept.append((target, expression))
            continue
        resolved = key(expression)
        if isinstance(resolved, Number) or (isinstance(resolved, Symbol) and resolved not in reassigned_later):
            aliases[target] = resolved
        elif resolved in seen:
            aliases[target] = seen[resolved][0]
        else:
            seen[resolved] = (target, expression)
            kept.append((target, expression))
    return _Merged(kept, aliases, parameters, in_place, [_occurrences(e, aliases) for _, e in kept])


def _needed(merged: _Merged, results: Sequence[Symbol],
            results_in_place: bool = False) -> tuple[list[tuple[Symbol, Expr]], dict[Symbol, Expr]]:
    """The assignments `results` need, in order, and which of them to write where they are used
    (with `results_in_place`, also the results no assignment reads).

    Nothing is inlined when parameters are reassigned in place: an inlined value could then
    read a parameter after its reassignment.
    """
    aliases = merged.aliases
    needed = {aliases.get(r, r) for r in results}
    live: list[tuple[Symbol, Expr]] = []
    uses: Counter[Symbol] = Counter()
    for (target, expression), occurrences in zip(reversed(merged.assignments), reversed(merged.occurrences)):
        if target in needed:
            live.append((target, expression))
            if target in merged.parameters:
                needed.discard(target)
            needed.update(occurrences)
            uses.update(occurrences)
    live.reverse()
    if merged.in_place:
        return live, {}
    returned = Counter(aliases.get(r, r) for r in results)

    def in_place(target: Symbol) -> bool:
        if target in returned:
            return results_in_place and returned[target] == 1 and uses[target] == 0
        return uses[target] == 1

    return live, {target: expression for target, expression in live if in_place(target)}


def _reads(expr: Expr, aliases: dict[Symbol, Expr]) -> set[Symbol]:
    return {s for s in (aliases.get(s, s) for s in expr.free_symbols) if isinstance(s, Symbol)}


def _occurrences(expr: Expr, aliases: dict[Symbol, Expr]) -> list[Symbol]:
    """Every place a symbol is read in `expr` (aliases resolved), with repeats."""
    if isinstance(expr, Symbol):
        value = aliases.get(expr, expr)
        return [value] if isinstance(value, Symbol) else []
    return [s for a in expr.args for s in _occurrences(a, aliases)]
