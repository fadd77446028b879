"""What the CPU and GPU kernel generators share: the layout of a model's per-lane quantities.

Per instance the kernels hold one row of ``q`` per quantity the equations read: the model's
parameters (in :attr:`ModelSpec.params` order, the rows of the ``params`` input), its derived
parameters (computed once per instance) and the engine's quantities the XML may name
(coupling strength ``global_coupling``, Linear's offset, ``global_speed``, ``dt``, ``n_node``).
Coupling variables are rows of ``c``; those that read a delayed state have a history row.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import expr
from .expr import Node
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

    def indent(self) -> "Lines":
        self.depth += 1
        return self

    def dedent(self) -> "Lines":
        self.depth -= 1
        return self

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


SPECIALS = (A, B, SPEED, DT, N_NODE)


@dataclass(frozen=True)
class Layout:
    spec: ModelSpec
    qrows: dict[str, int]          # name -> row of q
    hist_rows: tuple[int, ...]     # coupling index of each history row
    linear_rows: tuple[int, ...]   # history rows summed in chunks (their pre is the delayed state)
    general_rows: tuple[int, ...]  # history rows with a general per-connection term

    @property
    def n_params(self) -> int:
        return len(self.spec.params)

    @property
    def nq(self) -> int:
        return len(self.qrows)

    def coupling_of_row(self, h: int) -> int:
        return self.hist_rows[h]


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
    lin = tuple(h for h, k in enumerate(hist) if spec.couplings[k].linear)
    gen = tuple(h for h, k in enumerate(hist) if not spec.couplings[k].linear)
    return Layout(spec, qrows, hist, lin, gen)


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
    """(flops per connection and step, flops per node and step) of the couplings: the
    per-connection term (2 for multiply-add, plus the ``pre`` expression's own for general
    couplings) and each coupling's post-sum expression."""
    per_conn = sum(2 + (0 if cp.linear else expr.count_flops(cp.pre)) for cp in spec.couplings if cp.source is not None)
    per_node = sum(expr.count_flops(cp.combine) for cp in spec.couplings)
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
