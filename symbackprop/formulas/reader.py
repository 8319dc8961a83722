"""Read a student's formula, LaTeX-ish, ASCII or Unicode, into a SymPy expression in the document's notation.

The text is parsed by the lark grammar in grammar.lark and the SymPy objects are built
straight from the parse tree, never by eval or sympify, so no input can run code. Names
are normalised to the canonical spelling (w5 and w_{5} are both w_5) before the caller's
`resolve` sees them. Every failure is a FormulaError pointing at the offending character.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from collections.abc import Callable
from operator import attrgetter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedToken
from sympy import (
    E, Abs, Add, Dummy, Expr, GreaterThan, Integer, LessThan, Max, Min, Mul, Piecewise, Pow, Rational, S,
    StrictGreaterThan, StrictLessThan, Symbol, exp, log, sqrt, tanh, true,
)

from symbackprop.errors import InputError
from symbackprop.formulas import shapes
from symbackprop.formulas.unicode import GREEK, plain
from symbackprop.names import Name, Partial

MAX_LENGTH = 10_000
MAX_NESTING = 200
# SymPy's automatic evaluation slows down exponentially with nested tanh, sigma, sqrt...
MAX_FUNCTION_NESTING = 3
MAX_NUMBER_DIGITS = 1000
MAX_DECIMAL_EXPONENT = 1000
# Bigger exact numbers would take long to build and could not be printed in decimal.
MAX_NUMBER_BITS = 10_000

Resolve = Callable[[str], Symbol]
_SHOWN = 72
"""Characters of the formula shown around an error's position."""

@cache
def _parser() -> Lark:
    """The LALR parser, built on first use: only the commands that read formulas pay for it."""
    return Lark.open(
        str(Path(__file__).with_name("grammar.lark")),
        parser="lalr",
        lexer="basic",
        start=["formula", "equation"],
        propagate_positions=True,
    )

_TOO_DEEP = f"formula nested more than {MAX_NESTING} levels deep"
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_BRACKET_OR_ESCAPED = re.compile(r"\\.|[()\[\]{}]", re.DOTALL)
"""What the bracket check looks at: a bracket, or a backslash and the character it escapes (skipped)."""
# A formula that ends right after one of these has a trailing operator.
_OPERATORS = {"PLUS", "MINUS", "TIMES", "DIVIDE", "POW", "EQUALS"}
# Rules that nest a formula inside another; the depth limit counts these.
_NESTING_RULES = {"group", "call", "bare_call", "frac", "power", "absolute"}


def _sigmoid(x: Expr) -> Expr:
    return Pow(Add(1, exp(-x)), -1)


def _relu(x: Expr) -> Expr:
    """relu(x) as the layered networks' relu is built: x where x > 0, else 0 (printed as max(0, x))."""
    return Piecewise((x, StrictGreaterThan(x, 0)), (0, True))


def _unevaluated(function: type) -> Callable[..., Expr]:
    """|x|, max and min kept as written: SymPy would turn |e^x| into e^{re(x)} for its complex symbols."""
    return lambda *arguments: function(*arguments, evaluate=False)


_FUNCTIONS: dict[str, Callable[..., Expr]] = {
    "exp": exp,
    "ln": log,
    "log": log,
    "tanh": tanh,
    "sigma": _sigmoid,
    "σ": _sigmoid,
    "sqrt": sqrt,
    "relu": _relu,
    "abs": _unevaluated(Abs),
    "max": _unevaluated(Max),
    "min": _unevaluated(Min),
}
_KEYWORDS = frozenset([*_FUNCTIONS, "e", "if", "otherwise"])
"""The words the grammar reads as a function, Euler's number or a case's if and otherwise, not as a name."""
_PLAIN_ASSUMPTIONS = Symbol("x").assumptions0
"""A symbol made by `Symbol(name)`, with no assumptions: the only kind a shape stands in for."""
_ARGUMENTS = {"max": 2, "min": 2}
"""How many arguments a function takes, where it is not one."""
_COMPARISONS = {">": StrictGreaterThan, ">=": GreaterThan, "≥": GreaterThan, "<": StrictLessThan, "<=": LessThan,
                "≤": LessThan}
_GREEK_NAMES = {letter: name for name, letter in GREEK.items()}
_ALIASES = {"Etotal": Name("E", ("total",))}
_LETTERS_DIGITS = re.compile(r"([A-Za-z]+)([0-9]+)")
_ASCII_PARTIAL = re.compile(r"d(?P<of>[^/]*?)\s*/\s*d(?P<wrt>.*)", re.DOTALL)
_ASCII_WORD = re.compile(r"([A-Za-z]+[0-9]*)(_[^<\[^]*)?(\[[0-9]+(?:,[0-9]+)+\])?(?:<([0-9]+)>)?(?:\[([0-9]+)\])?(\^\+)?",
                         re.DOTALL)
_TEXT_WORD = re.compile(r"\{\s*([A-Za-z0-9]+)\s*\}")
_LABEL_NOISE = re.compile(r"\\(?:text|mathrm|textrm|mathit)(?![A-Za-z])|\\|[\s{}_\[\]]")
"""What a subscript's labels are written with: \\text{...} and the like, a Greek letter's backslash (\\mu is mu)."""
_INNER_UNDERSCORE = re.compile(r"(?<=[A-Za-z0-9])_")
"""An underscore between indices, read as a comma: W_1_2 is W_1,2."""
_DECIMAL = re.compile(r"([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_SIGNED_DIGITS = re.compile(r"([+-]*)([0-9]+)")
_LATEX_MARKS = re.compile(r"\^\s*\{\s*(?:\\langle\s*(?P<step>[0-9]+)\s*\\rangle\s*)?"
                          r"(?:\(\s*(?P<sample>[0-9]+)\s*\)\s*)?(?P<updated>\+)?\s*\}")


class FormulaError(InputError):
    """A formula that cannot be read: the reason, and the 0-based position in `text` to blame."""

    def __init__(self, reason: str, text: str, position: int) -> None:
        super().__init__(reason, text, position)
        self.reason, self.text, self.position = reason, text, position
        self.argument = "formula"
        """What the text was given as: the argument (or option) an error names."""

    def __str__(self) -> str:
        start = self.text.rfind("\n", 0, self.position) + 1
        end = self.text.find("\n", self.position)
        line = self.text[start : end if end >= 0 else len(self.text)]
        column = self.position - start
        if len(line) > _SHOWN:  # a window around the position, so the caret stays on screen
            first = max(0, min(column - _SHOWN // 2, len(line) - _SHOWN))
            line = ("..." if first else "") + line[first : first + _SHOWN] + ("..." if first + _SHOWN < len(line) else "")
            column = column - first + (3 if first else 0)
        return f"{self.argument}: {self.reason} at position {self.position}\n{line}\n{' ' * column}^"


def read_formula(text: str, resolve: Resolve | None = None) -> Expr:
    """The SymPy expression `text` spells.

    `resolve` maps each canonical name (w_5, net_h1, E_total, delta_o1, w_5^+) to its
    symbol and raises KeyError for a name it does not know; by default every name is
    `Symbol(name)`. Partial derivatives become `Partial(of, wrt)` of resolved symbols.
    """
    return _read(text, "formula", resolve)


def read_equation(text: str, resolve: Resolve | None = None) -> list[Expr]:
    """The sides of `a = b = c` as [a, b, c]; a formula without "=" gives [formula]."""
    return _read(text, "equation", resolve)


class Numeral(Dummy):
    """A decimal number as it was written (0.593269992, 8.2e-2): its exact value and its text, kept apart
    from the formula around it so that a check can take it at the precision it was printed with."""

    value: Rational
    written: str

    def __new__(cls, value: Rational, written: str) -> "Numeral":
        numeral = super().__new__(cls, written)
        numeral.value, numeral.written = value, written
        return numeral


@dataclass(frozen=True)
class Side:
    """One side of a chain `a = b = c`: what it says, with each decimal number a `Numeral`, and its text."""

    expression: Expr
    written: str

    @property
    def numerals(self) -> set[Numeral]:
        return {s for s in self.expression.free_symbols if isinstance(s, Numeral)}


def read_chain(text: str, resolve: Resolve | None = None) -> list[Side]:
    """The sides of `a = b = c` as `read_equation` reads them, but with every number that has a decimal
    point or an exponent left as a `Numeral` (whole numbers are exact): 0.74136507 · 0.186815602 stays a
    product of two printed numbers instead of becoming one exact rational."""
    tree = _checked_parse(text, "equation")
    expressions = _Builder(text, resolve or Symbol, numerals=True).build(tree)
    sides = [c for c in tree.children if isinstance(c, Tree)]
    return [Side(expression, " ".join(text[side.meta.start_pos:side.meta.end_pos].split()))
            for expression, side in zip(expressions, sides)]


def _read(text: str, start: str, resolve: Resolve | None) -> Any:
    resolve = resolve or Symbol
    _check_limits(text)
    if start == "formula" and (expression := _read_by_shape(text, resolve)) is not None:
        return expression
    return _Builder(text, resolve).build(_parse(text, start))


def _checked_parse(text: str, start: str) -> Tree:
    """The parse tree of a text within the length and nesting limits."""
    _check_limits(text)
    return _parse(text, start)


def _check_limits(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula longer than {MAX_LENGTH} characters", text, MAX_LENGTH)
    _check_brackets(text)


def _read_by_shape(text: str, resolve: Resolve) -> Expr | None:
    """The formula from the expression of its shape (`shapes`), or None when it has no plain shape, a
    name does not resolve to a plain symbol, or the shape does not read: the grammar then reads it
    (and reports what is wrong)."""
    split = shapes.split(text, _KEYWORDS)
    if split is None:
        return None
    pieces, words = split
    try:
        symbols = [resolve(_word_key(word)) for word in words]
    except (KeyError, ValueError):
        return None
    distinct = sorted(set(symbols), key=attrgetter("name"))
    plain = all(type(symbol) is Symbol and symbol.assumptions0 == _PLAIN_ASSUMPTIONS for symbol in distinct)
    if not plain or len(distinct) > shapes.MAX_NAMES:
        return None
    rank = {symbol: index for index, symbol in enumerate(distinct)}
    template = _template((pieces, tuple(rank[symbol] for symbol in symbols)))
    return None if template is None else shapes.fill(template, distinct)


@lru_cache(maxsize=1 << 16)
def _word_key(word: str) -> str:
    """The canonical key of a word read as a name on its own (ValueError if it is none)."""
    return _canonical(word).key


@lru_cache(maxsize=4096)
def _template(shape: shapes.Shape) -> Expr | None:
    """The expression of every formula of `shape`, in stand-in names; None if the shape does not read, or
    reads a stand-in as anything but itself (w5^+ is another name than w5)."""
    text = shapes.stand_in_text(shape)
    stand_ins = {shapes.stand_in(rank): shapes.stand_in_symbol(rank) for rank in shape[1]}
    try:
        return _Builder(text, stand_ins.__getitem__).build(_parse(text, "formula"))
    except FormulaError:
        return None


def _check_brackets(text: str) -> None:
    """Balanced (), [] and {} nested at most MAX_NESTING deep; escaped characters do not count."""
    open_at: list[int] = []
    for match in _BRACKET_OR_ESCAPED.finditer(text):
        char, index = match[0], match.start()
        if char in _CLOSERS:
            open_at.append(index)
            if len(open_at) > MAX_NESTING:
                raise FormulaError(_TOO_DEEP, text, index)
        elif char in _CLOSERS.values():
            if not open_at:
                raise FormulaError(f"unmatched '{char}'", text, index)
            opener = open_at.pop()
            if _CLOSERS[text[opener]] != char:
                raise FormulaError(f"mismatched '{char}' for '{text[opener]}'", text, index)
    if open_at:
        raise FormulaError(f"unclosed '{text[open_at[-1]]}'", text, open_at[-1])


def _parse(text: str, start: str) -> Tree:
    interactive = _parser().parse_interactive(text, start=start)
    last: Token | None = None
    try:
        for token in interactive.iter_parse():
            last = token
        return interactive.feed_eof(last)
    except UnexpectedCharacters as error:
        raise FormulaError(
            f"unexpected character '{text[error.pos_in_stream]}'", text, error.pos_in_stream
        ) from None
    except UnexpectedToken as error:
        token = error.token
        if token.type == "CMD":
            raise FormulaError(f"unknown command {token}", text, token.start_pos) from None
        if token.type == "POSTPLUS":  # 1+ at the end: a "+" that can only be trailing
            raise FormulaError("trailing operator '+'", text, token.start_pos) from None
        if token.type != "$END":
            raise FormulaError(f"unexpected '{token}'", text, token.start_pos) from None
        if last is None:
            raise FormulaError("empty formula", text, 0) from None
        if last.type in _OPERATORS:
            raise FormulaError(f"trailing operator '{last}'", text, last.start_pos) from None
        raise FormulaError("unexpected end of formula", text, len(text)) from None


@dataclass(frozen=True)
class _Arguments:
    """(a, b) after a function's name: only max and min take several."""

    values: tuple[Expr, ...]


@dataclass(frozen=True)
class _Differential:
    r"""`\partial x` on its own: only a quotient of two of them means something."""

    symbol: Symbol
    position: int


def _is_function(node: Tree) -> bool:
    """exp, ln, tanh, sigma, sqrt, ... applied, or e raised to a power."""
    first = node.children[0]
    return node.data in ("call", "bare_call") or (
        node.data == "power" and isinstance(first, Tree) and first.data == "euler"
    )


def _start(child: Tree | Token) -> int:
    return child.start_pos if isinstance(child, Token) else child.meta.start_pos


def _bits(expr: Expr) -> int:
    """Roughly how many bits the exact numbers in `expr` take: what a power of it multiplies."""
    return sum(max(abs(r.p).bit_length(), r.q.bit_length()) - 1 for r in expr.atoms(Rational))


def _canonical(base: str, labels: tuple[str, ...] = (), step: int | None = None, sample: int | None = None,
               updated: bool = False) -> Name:
    """w + 5 -> w_5, w5 -> w_5, Etotal -> E_total, with the marks read after the name; ValueError if it is none."""
    if not labels and (match := _LETTERS_DIGITS.fullmatch(base)):
        base, labels = match[1], (match[2],)
    elif not labels and base in _ALIASES:
        return _ALIASES[base]
    return Name(base, labels, sample, step, updated)


def _labels(subscript: str) -> tuple[str, ...]:
    r"""_{h2, 1} -> (h2, 1); _{\text{total}} -> (total,); _{\mu} -> (mu,); _5 -> (5,); ₁,₂ -> (1, 2); _1_2 and [1,2]
    -> (1, 2)."""
    return tuple(_LABEL_NOISE.sub("", _INNER_UNDERSCORE.sub(",", plain(subscript))).split(","))


class _Builder:
    """Turns the parse tree into SymPy bottom-up, without recursion, one method per rule."""

    def __init__(self, text: str, resolve: Resolve, numerals: bool = False) -> None:
        self.text = text
        self.resolve = resolve
        self.numerals = numerals
        """Decimal numbers become `Numeral`s (read_chain), not rationals."""

    def build(self, tree: Tree) -> Any:
        values: dict[int, Any] = {}
        pending: list[tuple[Tree, int, int, bool]] = [(tree, 0, 0, False)]
        while pending:
            node, depth, functions, children_built = pending.pop()
            if children_built:
                children = [values.pop(id(c)) if isinstance(c, Tree) else c for c in node.children]
                values[id(node)] = self._build_node(node, children)
                continue
            depth += node.data in _NESTING_RULES
            if depth > MAX_NESTING:
                raise self._error(_TOO_DEEP, node.meta.start_pos)
            functions += _is_function(node)
            if functions > MAX_FUNCTION_NESTING:
                raise self._error(
                    f"functions nested more than {MAX_FUNCTION_NESTING} deep", node.meta.start_pos
                )
            pending.append((node, depth, functions, True))
            pending.extend(
                (c, depth, functions, False) for c in reversed(node.children) if isinstance(c, Tree)
            )
        return values[id(tree)]

    def _build_node(self, node: Tree, children: list[Any]) -> Any:
        try:
            return getattr(self, node.data)(node, children)
        except (RecursionError, ArithmeticError, ValueError) as error:
            raise self._error("cannot evaluate this expression", node.meta.start_pos) from error

    def _error(self, reason: str, position: int) -> FormulaError:
        return FormulaError(reason, self.text, position)

    def _expr(self, value: Any) -> Expr:
        if isinstance(value, _Differential):
            raise self._error("incomplete partial derivative", value.position)
        return value

    def _checked(self, value: Expr, reason: str, position: int) -> Expr:
        if value.has(S.ComplexInfinity, S.NaN):
            raise self._error(reason, position)
        if value.has(S.ImaginaryUnit):  # sqrt(-1), ln(-1): the network's quantities are real
            raise self._error("not a real number", position)
        return value

    def _check_size(self, factors: list[Expr], position: int) -> None:
        if sum(_bits(f) for f in factors) > MAX_NUMBER_BITS:
            raise self._error("number too large", position)

    def _symbol(self, name: Callable[[], Name], written: str, position: int) -> Symbol:
        """The resolved symbol of the name `name()` builds, or an error naming what was `written`."""
        try:
            key = name().key
        except ValueError:
            raise self._error(f"not a name '{written}'", position) from None
        try:
            return self.resolve(key)
        except KeyError as error:  # a resolver may say more than the key: a suggestion, the names it knows
            hint = error.args[0] if error.args and error.args[0] != key else None
            raise self._error(f"unknown name '{key}'" + (f" ({hint})" if hint else ""), position) from None

    def _ascii_name(self, word: str, position: int) -> Symbol:
        base, subscript, indices, step, sample, updated = _ASCII_WORD.fullmatch(plain(word)).groups()
        labels = (() if subscript is None else _labels(subscript)) + (() if indices is None else _labels(indices))
        return self._symbol(lambda: _canonical(base, labels, step and int(step), sample and int(sample), bool(updated)),
                            word, position)

    def _reciprocal(self, value: Expr, position: int) -> Expr:
        return self._checked(Pow(value, -1), "division by zero", position)

    def _check_log_power(self, argument: Expr, position: int) -> None:
        """exp(c*log(n)) evaluates to n**c for a number n: bound it like that power."""
        bases = [term.args[0] for term in argument.atoms(log) if term.args[0].is_number]
        if bases:
            exponent = max((abs(r.p) for r in argument.atoms(Rational)), default=0)
            if max(map(_bits, bases)) * exponent > MAX_NUMBER_BITS:
                raise self._error("number too large", position)

    # One method per grammar rule; `children` are built values, or tokens.

    def formula(self, node: Tree, children: list[Any]) -> Expr:
        return self._expr(children[0])

    def equation(self, node: Tree, children: list[Any]) -> list[Expr]:
        return [self._expr(c) for c in children if not isinstance(c, Token)]

    def sum(self, node: Tree, children: list[Any]) -> Expr:
        terms = [self._expr(children[0])]
        for sign, term in zip(children[1::2], children[2::2]):
            terms.append(-self._expr(term) if sign.type == "MINUS" else self._expr(term))
        return Add(*terms)

    def signed(self, node: Tree, children: list[Any]) -> Expr:
        sign, value = children
        return -self._expr(value) if sign.type == "MINUS" else self._expr(value)

    def product(self, node: Tree, children: list[Any]) -> Expr:
        operands: list[tuple[Token | None, Any]] = []
        operator = None
        for child in children:
            if isinstance(child, Token):
                operator = child
            else:
                operands.append((operator, child))
                operator = None
        factors = []
        index = 0
        while index < len(operands):
            operator, value = operands[index]
            index += 1
            if isinstance(value, _Differential):
                following = operands[index] if index < len(operands) else (None, None)
                if not (
                    following[0] is not None
                    and following[0].type == "DIVIDE"
                    and isinstance(following[1], _Differential)
                ):
                    raise self._error("incomplete partial derivative", value.position)
                value = Partial(value.symbol, following[1].symbol)
                index += 1
            if operator is not None and operator.type == "DIVIDE":
                value = self._reciprocal(self._expr(value), operator.start_pos)
            factors.append(self._expr(value))
        self._check_size(factors, node.meta.start_pos)
        return Mul(*factors)

    def power(self, node: Tree, children: list[Any]) -> Expr:
        return self._power(self._expr(children[0]), self._expr(children[2]), children[1].start_pos)

    def raised(self, node: Tree, children: list[Any]) -> Expr:
        """x², (1 + x)⁻¹⁻¹: a superscript exponent, a sum of signed whole numbers."""
        base, token = self._expr(children[0]), children[1]
        terms = _SIGNED_DIGITS.findall(plain(token))
        if sum(len(digits) for _, digits in terms) > MAX_NUMBER_DIGITS:
            raise self._error(f"number with more than {MAX_NUMBER_DIGITS} digits", token.start_pos)
        exponent = Add(*(Integer(int(digits)) * (-1) ** signs.count("-") for signs, digits in terms))
        return self._power(base, exponent, token.start_pos)

    def _power(self, base: Expr, exponent: Expr, position: int) -> Expr:
        if exponent.is_Rational and _bits(base) * abs(exponent.p) > MAX_NUMBER_BITS:
            raise self._error("number too large", position)
        if base == E:
            self._check_log_power(exponent, position)
        return self._checked(Pow(base, exponent), "division by zero", position)

    def call(self, node: Tree, children: list[Any]) -> Expr:
        function = children[0]
        name = function.lstrip("\\")
        arguments = children[1].values if isinstance(children[1], _Arguments) else (self._expr(children[1]),)
        wanted = _ARGUMENTS.get(name, 1)
        if len(arguments) != wanted:
            raise self._error(f"{name} takes {'one argument' if wanted == 1 else f'{wanted} arguments'}, "
                              f"got {len(arguments)}", function.start_pos)
        for argument in arguments:
            self._check_log_power(argument, function.start_pos)
        value = _FUNCTIONS[name](*arguments)
        return self._checked(value, f"{name}({', '.join(map(str, arguments))}) is undefined", function.start_pos)

    bare_call = call

    def arguments(self, node: Tree, children: list[Any]) -> _Arguments:
        return _Arguments(tuple(self._expr(c) for c in children if not isinstance(c, Token)))

    def absolute(self, node: Tree, children: list[Any]) -> Expr:
        return _FUNCTIONS["abs"](self._expr(children[1]))

    def cases(self, node: Tree, children: list[Any]) -> Expr:
        pieces = [c for c in children if isinstance(c, tuple)]
        otherwise = self._expr(children[-3])
        return Piecewise(*pieces, (otherwise, true))

    def piece(self, node: Tree, children: list[Any]) -> tuple[Expr, Any]:
        value, _, left, compare, right = children
        try:
            return self._expr(value), _COMPARISONS[str(compare)](self._expr(left), self._expr(right))
        except TypeError:  # SymPy refuses to order what is not real
            raise self._error("cannot compare these", compare.start_pos) from None

    def group(self, node: Tree, children: list[Any]) -> Any:
        return children[1]

    def frac(self, node: Tree, children: list[Any]) -> Expr:
        numerator, denominator = children[2], children[5]
        if isinstance(numerator, _Differential) and isinstance(denominator, _Differential):
            return Partial(numerator.symbol, denominator.symbol)
        numerator, denominator = self._expr(numerator), self._expr(denominator)
        self._check_size([numerator, denominator], node.meta.start_pos)
        return Mul(numerator, self._reciprocal(denominator, node.meta.start_pos))

    def differential(self, node: Tree, children: list[Any]) -> _Differential:
        symbol = self._expr(children[1])
        if not isinstance(symbol, Symbol):
            raise self._error(
                f"partial derivative needs a symbol, not {symbol}", _start(node.children[1])
            )
        return _Differential(symbol, node.meta.start_pos)

    def name(self, node: Tree, children: list[Any]) -> Symbol:
        base, *marks = children
        if base.type == "GREEK":
            word = _GREEK_NAMES.get(base) or base[1:]
        elif base.type == "TEXTNAME":
            word = _TEXT_WORD.search(base)[1]
        else:
            word = str(base)
        labels = next((_labels(m) for m in marks if m.type in ("SUBSCRIPT", "UNICODE_SUBSCRIPT")), ())
        labels += next((_labels(m) for m in marks if m.type == "INDICES"), ())
        step = next((int(m[1:-1]) for m in marks if m.type == "STEP"), None)
        sample = next((int(plain(m)[1:-1]) for m in marks if m.type == "SAMPLE"), None)
        updated = any(m.type in ("UPDATED", "POSTPLUS") for m in marks)
        latex = next((_LATEX_MARKS.fullmatch(m) for m in marks if m.type == "LATEX_MARKS"), None)
        if latex is not None:
            step, sample = (None if latex[k] is None else int(latex[k]) for k in ("step", "sample"))
            updated = bool(latex["updated"])
        written = self.text[base.start_pos:node.meta.end_pos]
        return self._symbol(lambda: _canonical(word, labels, step, sample, updated), written, base.start_pos)

    def ascii_partial(self, node: Tree, children: list[Any]) -> Partial:
        (token,) = children
        match = _ASCII_PARTIAL.fullmatch(token)
        of = self._ascii_name(match["of"], token.start_pos + match.start("of"))
        wrt = self._ascii_name(match["wrt"], token.start_pos + match.start("wrt"))
        return Partial(of, wrt)

    def number(self, node: Tree, children: list[Any]) -> Rational:
        (token,) = children
        whole, fraction, exponent = _DECIMAL.fullmatch(token).groups()
        digits = (whole + (fraction or "")).lstrip("0")
        if len(digits) > MAX_NUMBER_DIGITS:
            raise self._error(f"number with more than {MAX_NUMBER_DIGITS} digits", token.start_pos)
        exponent = (exponent or "0").lstrip("+")
        # Length first: int() refuses strings of more than 4300 digits.
        if len(exponent.lstrip("-0")) > 4 or abs(int(exponent)) > MAX_DECIMAL_EXPONENT:
            raise self._error(f"number exponent beyond {MAX_DECIMAL_EXPONENT}", token.start_pos)
        value = int(digits or "0") * Fraction(10) ** (int(exponent) - len(fraction or ""))
        exact = Rational(value.numerator, value.denominator)
        if self.numerals and ("." in token or "e" in token.lower()):
            return Numeral(exact, str(token))
        return exact

    def euler(self, node: Tree, children: list[Any]) -> Expr:
        return E

    def unknown_command(self, node: Tree, children: list[Any]) -> Expr:
        (token,) = children
        raise self._error(f"unknown command {token}", token.start_pos)
