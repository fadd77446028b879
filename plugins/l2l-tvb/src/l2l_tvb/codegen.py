"""What the CPU and GPU kernel generators share: the layout of a model's per-lane quantities.

Per instance the kernels hold one row of ``q`` per quantity the equations read: the model's
parameters (in :attr:`ModelSpec.params` order, the rows of the ``params`` input), its derived
parameters (computed once per instance) and the engine's quantities the XML may name
(coupling strength ``global_coupling``, Linear's offset, ``global_speed``, ``dt``, ``n_node``).
Coupling variables are rows of ``c``; those that read a delayed state have a history row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import expr
from .expr import Bin, Call, Name, Node, Num, Unary
from .rateml import A, B, DT, N_NODE, SPEED, SUM, ModelSpec


class Lines:
    """Lines of generated source with an indentation level (four spaces a level); calls chain."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, *lines: str) -> "Lines":
        for line in lines:
            self.lines.append("    " * self.depth + line if line else "")
        return self

    def indent(self, levels: int = 1) -> "Lines":
        self.depth += levels
        return self

    def dedent(self, levels: int = 1) -> "Lines":
        self.depth -= levels
        return self

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


SPECIALS = (A, B, SPEED, DT, N_NODE)


@dataclass(frozen=True)
class Layout:
    spec: ModelSpec
    qrows: dict[str, int]          # name -> row of q
    hist_rows: tuple[int, ...]     # coupling index of each history row (one per cvar: raw delayed states)
    linear_rows: tuple[int, ...]   # CPU ring rows summed in chunks (rows of separable couplings)
    general_rows: tuple[int, ...]  # CPU ring rows with a general per-connection term (raw states)
    #: the CPU kernel's delay ring: (history row it is drawn from, f) per row: ``f(x_j)`` of the
    #: row's delayed state (an expression of the coupling's ``pre_name``), None for ``x_j`` itself
    ring: tuple[tuple[int, Node | None], ...] = ()
    #: separable couplings (coupling index -> terms): ``sum_j w pre = sum_t g_t * sum_j w f_t(x_j)``,
    #: each term (ring row of ``f_t``, or None for ``f_t = 1``: the node's weight sum; ``g_t``)
    terms: tuple[tuple[int, tuple[tuple[int | None, Node], ...]], ...] = ()

    @property
    def n_params(self) -> int:
        return len(self.spec.params)

    @property
    def nq(self) -> int:
        return len(self.qrows)

    def coupling_of_row(self, h: int) -> int:
        return self.hist_rows[h]

    def terms_of(self, k: int) -> tuple[tuple[int | None, Node], ...] | None:
        return dict(self.terms).get(k)


#: at most this many ring rows per separable coupling (else it is summed per connection)
MAX_TERMS = 4


def separate(pre: Node, xj: str) -> list[tuple[Node | None, Node]] | None:
    """``pre`` as ``sum_t f_t(x_j) * g_t`` with each ``f_t`` a function of the delayed state
    ``xj`` alone (None: 1) and ``g_t`` free of it, or None when it does not separate so:
    sums, differences, negation, products and quotients with factors free of ``xj``, any
    expression of ``xj`` alone, and ``sin``/``cos`` of ``xj ± u`` (angle addition). Then
    ``sum_j w pre = sum_t g_t * sum_j w f_t(x_j)``: the per-connection work is a multiply-add of
    a stored ``f_t(x_j)``, and the functions are evaluated once per node and step."""
    one = Num(1.0)
    if xj not in expr.names(pre):
        return [(None, pre)]
    if expr.names(pre) == {xj}:
        return [(pre, one)]
    if isinstance(pre, Unary) and pre.op in "+-":
        inner = separate(pre.operand, xj)
        return None if inner is None else [(f, Unary(pre.op, g)) for f, g in inner]
    if isinstance(pre, Bin) and pre.op in ("+", "-"):
        left, right = separate(pre.left, xj), separate(pre.right, xj)
        if left is None or right is None:
            return None
        return left + ([(f, Unary("-", g)) for f, g in right] if pre.op == "-" else right)
    if isinstance(pre, Bin) and pre.op in ("*", "/"):
        if xj not in expr.names(pre.right):
            inner = separate(pre.left, xj)
            return None if inner is None else [(f, Bin(pre.op, g, pre.right)) for f, g in inner]
        if pre.op == "*" and xj not in expr.names(pre.left):
            inner = separate(pre.right, xj)
            return None if inner is None else [(f, Bin("*", pre.left, g)) for f, g in inner]
        return None
    if isinstance(pre, Call) and pre.fn in ("sin", "cos") and isinstance(pre.args[0], Bin) \
            and pre.args[0].op in ("+", "-") and pre.args[0].left == Name(xj) and xj not in expr.names(pre.args[0].right):
        u, sign = pre.args[0].right, pre.args[0].op
        sin_x, cos_x = Call("sin", (Name(xj),)), Call("cos", (Name(xj),))
        sin_u, cos_u = Call("sin", (u,)), Call("cos", (u,))
        if pre.fn == "sin":   # sin(x -+ u) = sin x cos u -+ cos x sin u
            return [(sin_x, cos_u), (cos_x, Unary("-", sin_u) if sign == "-" else sin_u)]
        # cos(x -+ u) = cos x cos u +- sin x sin u
        return [(cos_x, cos_u), (sin_x, sin_u if sign == "-" else Unary("-", sin_u))]
    return None


def _merged(terms: list[tuple[Node | None, Node]]) -> tuple[tuple[Node | None, Node], ...]:
    """Terms with equal ``f`` combined (their ``g`` added), in first-seen order."""
    out: dict[Node | None, Node] = {}
    for f, g in terms:
        out[f] = Bin("+", out[f], g) if f in out else g
    return tuple(out.items())


def separated_sum(parts, row_sum: Callable[[int], str], weight_sum: str, code: Callable[[Node], str]) -> str:
    """Code of a separable coupling's afferent sum ``sum_t g_t * S_t``: ``row_sum(h)`` the code
    of ring row h's weighted sum, ``weight_sum`` that of the node's weight sum (for ``f_t = 1``),
    ``code`` the backend's expression writer."""
    out = []
    for h, g in parts:
        s = weight_sum if h is None else row_sum(h)
        out.append(s if g == Num(1.0) else f"({code(g)}) * {s}")
    return "(" + " + ".join(out) + ")"


def layout(spec: ModelSpec) -> Layout:
    qrows = {p.name: i for i, p in enumerate(spec.params)}
    for name, _ in spec.derived:
        qrows[name] = len(qrows)
    used: set[str] = set()
    for node in all_expressions(spec):
        used |= expr.names(node)
    for name in SPECIALS:
        if name in used:
            qrows[name] = len(qrows)
    hist = tuple(k for k, c in enumerate(spec.couplings) if c.source is not None)
    ring: list[tuple[int, Node | None]] = []
    lin: list[int] = []
    gen: list[int] = []
    terms: list[tuple[int, tuple[tuple[int | None, Node], ...]]] = []
    for h, k in enumerate(hist):
        cp = spec.couplings[k]
        parts = None if cp.linear else separate(cp.pre, cp.pre_name)
        if parts is not None:
            parts = list(_merged(parts))
        if cp.linear:
            parts = [(Name(cp.pre_name), Num(1.0))]
        if parts is None or sum(f is not None for f, _ in parts) > MAX_TERMS:
            gen.append(len(ring))
            ring.append((h, None))
            continue
        mine: list[tuple[int | None, Node]] = []
        for f, g in parts:
            if f is None:
                mine.append((None, g))
                continue
            lin.append(len(ring))
            mine.append((len(ring), g))
            ring.append((h, None if f == Name(cp.pre_name) else f))
        terms.append((k, tuple(mine)))
    return Layout(spec, qrows, hist, tuple(lin), tuple(gen), tuple(ring), tuple(terms))


def all_expressions(spec: ModelSpec) -> list[Node]:
    """Every expression the kernels evaluate per lane (not the derived parameters' own)."""
    out: list[Node] = list(spec.derivatives)
    for a in spec.assigns:
        for cond, value in a.cases:
            out.append(value)
            if cond is not None:
                out.append(cond)
    for cp in spec.couplings:
        out += [cp.pre, cp.combine]
    out += [node for name, node in spec.observables]
    out += [node for name, node in spec.derived]
    return out


def local(name: str) -> str:
    """The kernel-local variable that holds model quantity ``name``."""
    if name.startswith("@"):
        return {A: "s_a", B: "s_b", SPEED: "s_speed", DT: "s_dt", N_NODE: "s_n", SUM: "s_sum"}[name]
    return f"v_{name}"


def dfun_flops(spec: ModelSpec) -> int:
    """Counted flops of one evaluation of the model's derivatives (all cases of conditionals)."""
    total = sum(expr.count_flops(n) for n in spec.derivatives)
    for a in spec.assigns:
        total += max(expr.count_flops(v) + (expr.count_flops(c) if c is not None else 0) for c, v in a.cases)
    return total


def coupling_flops(spec: ModelSpec) -> tuple[int, int]:
    """(flops per connection and step, flops per node and step) of the couplings: a multiply-add
    per ring row summed over connections (plus, for a general coupling, its ``pre`` expression
    per connection); per node the ring rows' functions ``f_t`` (once per node and step), the
    terms' ``g_t`` and each coupling's post-sum expression."""
    lay = layout(spec)
    per_conn = 2 * len(lay.ring) + sum(expr.count_flops(spec.couplings[lay.hist_rows[lay.ring[r][0]]].pre)
                                       for r in lay.general_rows)
    per_node = sum(expr.count_flops(cp.combine) for cp in spec.couplings)
    per_node += sum(expr.count_flops(f) for _, f in lay.ring if f is not None)
    per_node += sum(expr.count_flops(g) + 2 for _, parts in lay.terms for _, g in parts)
    return per_conn, per_node


def loads(lay: "Layout", needed: set[str], *, x: str | None, c: bool,
          pre: tuple[str, str] | None) -> list[tuple[str, str, int | None]]:
    """What a kernel loads for the quantities in ``needed``: ``(local name, array, row)``, row
    None for a one-dimensional array: state variables from ``x``, couplings from ``c``, the
    ``pre`` quantity from its own array, derived quantities from ``q``. Each backend writes
    them in its own syntax."""
    spec = lay.spec
    out: list[tuple[str, str, int | None]] = []
    if x is not None:
        out += [(local(sv), x, s) for s, sv in enumerate(spec.state_variables) if sv in needed]
    if c:
        out += [(local(cp.name), "c", k) for k, cp in enumerate(spec.couplings) if cp.name in needed]
    if pre is not None and pre[0] in needed:
        out.append((local(pre[0]), pre[1], None))
    out += [(local(name), "q", row) for name, row in lay.qrows.items() if name in needed]
    return out
