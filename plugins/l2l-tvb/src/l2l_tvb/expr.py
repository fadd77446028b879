"""The math of RateML expressions: tokens, a parser to a small AST, and code emitters.

RateML's value attributes hold infix math in the C/Python style (``d * tau * (alpha * W - f * {V^3})``):
numbers (``1e-3``, C's ``1.0f``), names, ``+ - * /``, powers written ``{x^n}`` (RateML's
notation), ``x^n`` or ``x**n``, unary ``-``/``+`` (and LEMS's ``~``), calls of the functions in
:data:`FUNCTIONS`, comparisons (``<``, ``<=``, ``>``, ``>=``, ``==``, ``!=`` and LEMS's ``.lt.``,
``.le.``, ``.gt.``, ``.ge.``, ``.eq.``, ``.neq.``) and logic (``&&``/``and``/``.and.``,
``||``/``or``/``.or.``, ``!``/``not``/``.not.``), and the constants ``pi`` and ``inf``.

:func:`parse` gives an AST of frozen dataclasses that keeps the source's evaluation order
(binary operators associate to the left, powers to the right), so that emitted code performs
the same floating-point operations in the same order as the expression reads. Emitters:
:func:`to_python` (numba kernels) and :func:`to_c` (CUDA kernels). Integer powers are emitted
as numba's ``x ** n`` (exponentiation by squaring) and, in C, as the same squaring sequence,
so both kernels round alike.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Union


class ExprError(ValueError):
    """An expression that does not parse or uses what RateML math does not have."""


# -- AST ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Num:
    value: float
    integer: bool = False  # written without a decimal point or exponent (``2``, not ``2.0``)


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Unary:
    op: str  # "-", "+", "not"
    operand: "Node"


@dataclass(frozen=True)
class Bin:
    op: str  # "+", "-", "*", "/", "**", "<", "<=", ">", ">=", "==", "!=", "and", "or"
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple["Node", ...]


Node = Union[Num, Name, Unary, Bin, Call]

#: function name -> (number of arguments, numba spelling, C spelling); exp, sin, cos and erfc go to
#: l2l_tvb.vmath (libm calls would keep the kernels' lane loops from vectorising)
FUNCTIONS: dict[str, tuple[int, str, str]] = {
    "exp": (1, "vmath.exp", "exp"), "log": (1, "math.log", "log"), "log10": (1, "math.log10", "log10"),
    "sqrt": (1, "math.sqrt", "sqrt"), "sin": (1, "vmath.sin", "sin"), "cos": (1, "vmath.cos", "cos"),
    "tan": (1, "math.tan", "tan"), "asin": (1, "math.asin", "asin"), "acos": (1, "math.acos", "acos"),
    "atan": (1, "math.atan", "atan"), "sinh": (1, "math.sinh", "sinh"), "cosh": (1, "math.cosh", "cosh"),
    "tanh": (1, "math.tanh", "tanh"), "abs": (1, "abs", "fabs"), "fabs": (1, "abs", "fabs"),
    "ceil": (1, "math.ceil", "ceil"), "floor": (1, "math.floor", "floor"),
    "erf": (1, "math.erf", "erf"), "erfc": (1, "vmath.erfc", "erfc"),
    "pow": (2, "math.pow", "pow"), "atan2": (2, "math.atan2", "atan2"),
    "min": (2, "min", "fmin"), "max": (2, "max", "fmax"),
}
CONSTANTS = {"pi": math.pi, "inf": math.inf}
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")

# -- tokens ------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?)
  | (?P<dotop>\.(?:lt|le|gt|ge|eq|neq|ne|and|or|not)\.)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|<=|>=|==|!=|&&|\|\||[-+*/^(){},<>!~])
""", re.VERBOSE)
_DOTOPS = {".lt.": "<", ".le.": "<=", ".gt.": ">", ".ge.": ">=", ".eq.": "==", ".neq.": "!=",
           ".ne.": "!=", ".and.": "and", ".or.": "or", ".not.": "not"}
_WORDOPS = {"and": "and", "or": "or", "not": "not"}
_SYMOPS = {"&&": "and", "||": "or", "!": "not", "~": "-", "^": "**"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # "num", "name", "op", "end"
    text: str
    pos: int


def tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExprError(f"unexpected character {text[pos]!r} at column {pos + 1}")
        kind = m.lastgroup or ""
        tok = m.group()
        if kind == "dotop":
            out.append(_Tok("op", _DOTOPS[tok.lower()], pos))
        elif kind == "name" and tok in _WORDOPS:
            out.append(_Tok("op", _WORDOPS[tok], pos))
        elif kind == "op":
            out.append(_Tok("op", _SYMOPS.get(tok, tok), pos))
        elif kind != "space":
            out.append(_Tok(kind, tok, pos))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


# -- parser ------------------------------------------------------------------------------------
class _Parser:
    """Recursive descent, one function per precedence level (lowest first)."""

    def __init__(self, text: str):
        self.text = text
        self.toks = tokens(text)
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, *ops: str) -> str | None:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ops:
            self.i += 1
            return tok.text
        return None

    def expect(self, op: str) -> None:
        if self.accept(op) is None:
            tok = self.peek()
            found = "the end" if tok.kind == "end" else repr(tok.text)
            raise ExprError(f"expected {op!r} at column {tok.pos + 1}, found {found}")

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExprError("empty expression")
        node = self.logic_or()
        tok = self.peek()
        if tok.kind != "end":
            raise ExprError(f"unexpected {tok.text!r} at column {tok.pos + 1}")
        return node

    def logic_or(self) -> Node:
        node = self.logic_and()
        while self.accept("or"):
            node = Bin("or", node, self.logic_and())
        return node

    def logic_and(self) -> Node:
        node = self.logic_not()
        while self.accept("and"):
            node = Bin("and", node, self.logic_not())
        return node

    def logic_not(self) -> Node:
        if self.accept("not"):
            return Unary("not", self.logic_not())
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        op = self.accept(*COMPARISONS)
        if op:
            node = Bin(op, node, self.additive())
            if self.peek().kind == "op" and self.peek().text in COMPARISONS:
                raise ExprError(f"chained comparison at column {self.peek().pos + 1}: use 'and'")
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while op := self.accept("+", "-"):
            node = Bin(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while op := self.accept("*", "/"):
            node = Bin(op, node, self.unary())
        return node

    def unary(self) -> Node:
        op = self.accept("-", "+")
        if op:
            return Unary(op, self.unary())
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.accept("**"):
            return Bin("**", base, self.unary())
        return base

    def atom(self) -> Node:
        tok = self.take()
        if tok.kind == "num":
            text = tok.text.rstrip("fF")
            return Num(float(text), integer=re.fullmatch(r"\d+", text) is not None)
        if tok.kind == "name":
            if self.accept("("):
                args: list[Node] = []
                if not self.accept(")"):
                    args.append(self.logic_or())
                    while self.accept(","):
                        args.append(self.logic_or())
                    self.expect(")")
                return Call(tok.text, tuple(args))
            return Name(tok.text)
        if tok.kind == "op" and tok.text in ("(", "{"):
            node = self.logic_or()
            self.expect(")" if tok.text == "(" else "}")
            return node
        found = "the end" if tok.kind == "end" else repr(tok.text)
        raise ExprError(f"unexpected {found} at column {tok.pos + 1}")


def parse(text: str) -> Node:
    """The AST of ``text``; :class:`ExprError` for malformed math or unknown functions."""
    node = _Parser(text).parse()
    for call in walk(node):
        if isinstance(call, Call):
            if call.fn not in FUNCTIONS:
                raise ExprError(f"unknown function {call.fn!r} (known: {', '.join(sorted(FUNCTIONS))})")
            if len(call.args) != FUNCTIONS[call.fn][0]:
                raise ExprError(f"{call.fn}() takes {FUNCTIONS[call.fn][0]} argument(s), got {len(call.args)}")
    return node


# -- analysis ----------------------------------------------------------------------------------
def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node below it."""
    yield node
    if isinstance(node, Unary):
        yield from walk(node.operand)
    elif isinstance(node, Bin):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Call):
        for a in node.args:
            yield from walk(a)


def names(node: Node) -> set[str]:
    """The names ``node`` reads (constants ``pi``/``inf`` excluded)."""
    return {n.id for n in walk(node) if isinstance(n, Name) and n.id not in CONSTANTS}


def substitute(node: Node, mapping: dict[str, Node]) -> Node:
    """``node`` with the names in ``mapping`` replaced by their nodes."""
    if isinstance(node, Name):
        return mapping.get(node.id, node)
    if isinstance(node, Unary):
        return Unary(node.op, substitute(node.operand, mapping))
    if isinstance(node, Bin):
        return Bin(node.op, substitute(node.left, mapping), substitute(node.right, mapping))
    if isinstance(node, Call):
        return Call(node.fn, tuple(substitute(a, mapping) for a in node.args))
    return node


def is_boolean(node: Node) -> bool:
    return (isinstance(node, Bin) and node.op in (*COMPARISONS, "and", "or")) or \
        (isinstance(node, Unary) and node.op == "not")


def evaluate(node: Node, env: dict[str, float] | None = None) -> float:
    """The value of ``node`` with the names in ``env`` (Python float arithmetic, the same as
    TVB's ``numpy.array([<expression>])`` defaults)."""
    env = env or {}
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Name):
        if node.id in env:
            return env[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise ExprError(f"unknown name {node.id!r}")
    if isinstance(node, Unary):
        v = evaluate(node.operand, env)
        return -v if node.op == "-" else v if node.op == "+" else float(not v)
    if isinstance(node, Bin):
        a, b = evaluate(node.left, env), evaluate(node.right, env)
        ops: dict[str, Callable[[float, float], float]] = {
            "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
            "/": lambda x, y: x / y, "**": _power,
            "<": lambda x, y: float(x < y), "<=": lambda x, y: float(x <= y),
            ">": lambda x, y: float(x > y), ">=": lambda x, y: float(x >= y),
            "==": lambda x, y: float(x == y), "!=": lambda x, y: float(x != y),
            "and": lambda x, y: float(bool(x) and bool(y)), "or": lambda x, y: float(bool(x) or bool(y))}
        try:
            return ops[node.op](a, b)
        except ZeroDivisionError:
            raise ExprError("division by zero") from None
    if isinstance(node, Call):
        args = [evaluate(a, env) for a in node.args]
        fns: dict[str, Callable[..., float]] = {"abs": abs, "fabs": abs, "min": min, "max": max}
        return float(fns.get(node.fn, getattr(math, node.fn, None))(*args))  # type: ignore[misc]
    raise ExprError(f"cannot evaluate {node!r}")


def _power(a: float, b: float) -> float:
    return float(a ** int(b)) if b == int(b) else math.pow(a, b)


def integer_exponent(node: Bin) -> int | None:
    """The exponent of a power when it is an integer literal (``x^2``, ``x^-1``), else None."""
    exp = node.right
    sign = 1
    if isinstance(exp, Unary) and exp.op in "-+" and isinstance(exp.operand, Num):
        sign, exp = (-1 if exp.op == "-" else 1), exp.operand
    if isinstance(exp, Num) and exp.value == int(exp.value) and abs(exp.value) <= 64:
        return sign * int(exp.value)
    return None


# -- emitters ----------------------------------------------------------------------------------
#: binding strength of each operator in the emitted code (higher binds tighter)
_PREC = {"or": 1, "and": 2, "not": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
         "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7, "**": 8}


def _prec(node: Node) -> int:
    if isinstance(node, Bin):
        return _PREC[node.op]
    if isinstance(node, Unary):
        return _PREC["not"] if node.op == "not" else _PREC["neg"]
    return 9


def _wrap(code: str, inner: Node, need: int, right: bool = False) -> str:
    p = _prec(inner)
    return f"({code})" if p < need or (right and p == need) else code


def to_python(node: Node, resolve: Callable[[str], str]) -> str:
    """numba source of ``node``; ``resolve`` maps a model name to the code that reads it."""
    def emit(n: Node) -> str:
        if isinstance(n, Num):
            return str(int(n.value)) if n.integer else repr(float(n.value))
        if isinstance(n, Name):
            if n.id == "pi":
                return "math.pi"
            if n.id == "inf":
                return "math.inf"
            return resolve(n.id)
        if isinstance(n, Unary):
            if n.op == "not":
                return f"not {_wrap(emit(n.operand), n.operand, _PREC['not'])}"
            return f"{n.op}{_wrap(emit(n.operand), n.operand, _PREC['neg'])}"
        if isinstance(n, Bin):
            if n.op == "**":
                k = integer_exponent(n)
                base = _wrap(emit(n.left), n.left, 9)
                if k is not None:
                    return f"{base} ** {k}" if k >= 0 else f"{base} ** ({k})"
                return f"math.pow({emit(n.left)}, {emit(n.right)})"
            p = _PREC[n.op]
            if n.op in COMPARISONS:  # keep comparisons as operands of arithmetic in parentheses
                return f"({_wrap(emit(n.left), n.left, p + 1)} {n.op} {_wrap(emit(n.right), n.right, p + 1)})"
            return f"{_wrap(emit(n.left), n.left, p)} {n.op} {_wrap(emit(n.right), n.right, p, right=True)}"
        assert isinstance(n, Call)
        return f"{FUNCTIONS[n.fn][1]}({', '.join(emit(a) for a in n.args)})"
    return emit(node)


def to_c(node: Node, resolve: Callable[[str], str]) -> str:
    """CUDA C source of ``node`` (double precision; integer powers through ``ipow``)."""
    def emit(n: Node) -> str:
        if isinstance(n, Num):
            return _c_double(n.value)
        if isinstance(n, Name):
            if n.id == "pi":
                return "PI"
            if n.id == "inf":
                return "INFINITY"
            return resolve(n.id)
        if isinstance(n, Unary):
            op = "!" if n.op == "not" else n.op
            return f"{op}{_wrap(emit(n.operand), n.operand, _PREC['neg'] if op != '!' else 9)}"
        if isinstance(n, Bin):
            if n.op == "**":
                k = integer_exponent(n)
                if k is not None:
                    return f"ipow({emit(n.left)}, {k})"
                return f"pow({emit(n.left)}, {emit(n.right)})"
            op = {"and": "&&", "or": "||"}.get(n.op, n.op)
            p = _PREC[n.op]
            if n.op in COMPARISONS:
                return f"({_wrap(emit(n.left), n.left, p + 1)} {op} {_wrap(emit(n.right), n.right, p + 1)})"
            return f"{_wrap(emit(n.left), n.left, p)} {op} {_wrap(emit(n.right), n.right, p, right=True)}"
        assert isinstance(n, Call)
        return f"{FUNCTIONS[n.fn][2]}({', '.join(emit(a) for a in n.args)})"
    return emit(node)


def _c_double(v: float) -> str:
    if math.isinf(v):
        return "INFINITY" if v > 0 else "(-INFINITY)"
    text = repr(float(v))
    return text if any(ch in text for ch in ".en") else text + ".0"


def count_flops(node: Node) -> int:
    """Floating-point operations of one evaluation: arithmetic operators count 1, integer powers
    the multiplications of their squaring sequence, a library function call 20 (a typical
    polynomial evaluation), comparisons 1."""
    total = 0
    for n in walk(node):
        if isinstance(n, Bin):
            if n.op == "**":
                k = integer_exponent(n)
                if k is None:
                    total += 20
                elif k:
                    total += abs(k).bit_length() - 1 + bin(abs(k)).count("1") - 1 + (k < 0)
            elif n.op not in ("and", "or"):
                total += 1
        elif isinstance(n, Unary) and n.op == "-":
            total += 1
        elif isinstance(n, Call):
            total += 1 if n.fn in ("abs", "fabs", "min", "max", "ceil", "floor") else 20
    return total
