"""The CPU kernel of a model, generated as numba source: Heun (deterministic or stochastic) for
a whole batch of instances.

Layout: instances are the innermost axis of every array (``state[sv, node, instance]``,
``history[slot, row, node, instance]``), so the lane loops vectorise. Threads run blocks of
``lanes`` instances on separate threads; each block goes through all time steps on its own
(instances never interact) on block-local contiguous copies of its state (``[sv, node, lane]``)
and of its history, laid out ``[row, node, slot, lane]``: the delayed states one connection needs
for consecutive steps are one contiguous run. A coupling whose per-connection term separates
(``codegen.separate``: ``pre = sum_t f_t(x_j) g_t(x_i, ...)``, e.g. ``x_j``, ``x_j - x_i``,
``sin(x_j - x_i) = sin x_j cos x_i - cos x_j sin x_i``) keeps one ring row per ``f_t`` holding
``f_t`` of the delayed state (evaluated once per node and step when the state is written, not
per connection), and each row is a linear sum: summed ``chunk`` steps at a time over the far
connections (delay >= chunk - 1, whose states for the whole chunk are known at its start),
streaming each connection's run as one flat multiply-add loop over (step, lane)
(``batched_cpu.axpy``), the near ones added step by step; the node then combines the rows'
sums with its ``g_t`` (``f_t = 1``: the node's weight sum). Other couplings go step by step in
CSR order with their ``pre`` per connection. Within a step one fused loop over the
lanes of each node finishes the couplings, draws the noise, evaluates the model equations for
both Heun stages and does the update. For LLVM to vectorise that loop across the lanes it must
call no library function (``exp``, ``sin``, ``cos``, ``erfc`` are :mod:`l2l_tvb.vmath`'s) and
write no array that could overlap what it reads: it writes the new states to a buffer on the
stack (``batched_cpu.stack_buffer``; a heap array would need a runtime overlap check per pair of
written and read rows, and beyond LLVM's limit on those checks — from 4 state variables on —
the loop stayed scalar). A step's new coupled states go to the chunk's stage
(``[row, node, step of the chunk, lane]``, where near connections read them); at the end of the
chunk they are copied into the ring, one contiguous run per node. The hot loops index whole
arrays in place or by flat offsets: an array view costs two atomic reference-count updates,
which per node and step cost as much as the equations.

Conventions follow TVB (tvb.simulator): the history holds the coupled state variables of the
last ``horizon`` steps; the coupling of step t uses ``x_j(t - 1 - d_ij)`` with ``d_ij`` the delay
in steps (``rint(tract_length / speed / dt)``), computed once per step and used in both Heun
stages; noise is ``sqrt(dt) * N(0, 1) * sqrt(2 nsig)``; state-variable bounds clip the
predictor and the result. The history buffer has one slot more than TVB's, so a step can write
its new state while other nodes still read the oldest delayed one.

The model's pieces are emitted from its :class:`~l2l_tvb.rateml.ModelSpec` (``_derive``: per-lane
constants once per block; ``_dfun``; ``_pre_<k>``/``_combine``: couplings; ``_observe``), the
loop around them (``block_stochastic`` and ``block_deterministic``: one block of instances
through all steps, releasing the GIL) from the template below, once with the noise and once
without, so that a run compiles only the variant it uses (compile time is numba's typing and
lowering of the fused loop: one variant is half of it); :func:`cpu_kernel` writes the source to
the kernel cache and imports it (numba compiles it once per machine and content). Threads, not
numba's ``prange``, run the blocks (``batched.run_cpu``): a parallel wrapper tripled the compile
time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from types import ModuleType

import numba

from . import expr
from .batched_cpu import LANE_CAP
from .codegen import Layout, Lines, layout, loads, local, separated_sum
from .kernel_cache import content_hash, import_source
from .rateml import SUM, Assign, ModelSpec

_SUPPORT = [Path(__file__).with_name(n) for n in ("batched_cpu.py", "rng.py", "vmath.py", "codegen_cpu.py")]


def _code(node: expr.Node, sums: str | None = None) -> str:
    return expr.to_python(node, lambda n: sums if n == SUM and sums else local(n))


def _loads(src: Lines, needed: set[str], lay: Layout, *, x: str | None = "x", c: bool = False,
           pre: tuple[str, str] | None = None) -> None:
    """Emit the loads of lane ``l`` of every quantity in ``needed`` (the state ``x`` of node ``i``:
    ``x[sv, i, l]``, indexed in place: an array view per node would cost reference counting)."""
    for name, array, row in loads(lay, needed, x=x, c=c, pre=pre):
        at = "l" if row is None else f"{row}, i, l" if array == x else f"{row}, l"
        src(f"{name} = {array}[{at}]")


def _assigns(src: Lines, assigns: tuple[Assign, ...]) -> None:
    for a in assigns:
        if len(a.cases) == 1 and a.cases[0][0] is None:
            src(f"{local(a.name)} = {_code(a.cases[0][1])}")
            continue
        src(f"{local(a.name)} = 0.0")
        for i, (cond, value) in enumerate(a.cases):
            if cond is None:
                src("else:")
            else:
                test = _code(cond) if expr.is_boolean(cond) else f"({_code(cond)}) != 0.0"
                src(f"{'if' if i == 0 else 'elif'} {test}:")
            src.indent()(f"{local(a.name)} = {_code(value)}").dedent()


def _needed(nodes) -> set[str]:
    out: set[str] = set()
    for n in nodes:
        if n is not None:
            out |= expr.names(n)
    return out


def model_source(spec: ModelSpec) -> str:
    """The numba source of the model's pieces and of ``block_stochastic`` / ``block_deterministic``."""
    lay = layout(spec)
    src = Lines()
    src(f'"""Generated by l2l_tvb.codegen_cpu from {spec.source} (model {spec.name}); do not edit."""',
        "import math", "import numpy as np", "from numba import carray, njit", "from l2l_tvb import vmath",
        "from l2l_tvb.batched_cpu import axpy, draw_block, prefetch, stack_buffer, zero",
        "from l2l_tvb.rng import normal_pair", "",
        f"NSV = {spec.nsv}", f"NC = {len(spec.couplings)}", f"NH = {len(lay.ring)}",
        f"NQ = {lay.nq}", f"NP = {lay.n_params}", "PREFETCH = 8",
        "# the history row (coupling variable) each row of the delay ring is drawn from",
        f"RING_CV = np.array({[h for h, _ in lay.ring] or [0]}, dtype=np.int64)", "", "")
    # per-lane constants
    src('@njit(cache=True)', "def _derive(p, ca, cb, speed, dt, n_node):").indent()
    src("nl = p.shape[1]", "q = np.empty((NQ, nl))", "for r in range(NP):", "    for l in range(nl):",
        "        q[r, l] = p[r, l]")
    specials = [n for n in lay.qrows if n.startswith("@")]
    if spec.derived or specials:
        src("for l in range(nl):").indent()
        needed = _needed(node for _, node in spec.derived)
        for name in needed:
            if name in lay.qrows and lay.qrows[name] < lay.n_params:
                src(f"{local(name)} = p[{lay.qrows[name]}, l]")
        values = {"@a": "ca[l]", "@b": "cb[l]", "@speed": "speed", "@dt": "dt", "@n": "n_node"}
        for name in specials:
            src(f"{local(name)} = {values[name]}")
        for name, node in spec.derived:
            src(f"{local(name)} = {_code(node)}", f"q[{lay.qrows[name]}, l] = {local(name)}")
        for name in specials:
            src(f"q[{lay.qrows[name]}, l] = {local(name)}")
        src.dedent()
    src("return q").dedent()("", "")
    # general couplings: the per-connection term
    for h in lay.general_rows:
        cp = spec.couplings[lay.hist_rows[lay.ring[h][0]]]
        src('@njit(cache=True)', f"def _pre_{h}(acc, w, hj, x, i, q, nl):").indent()
        src("for l in range(nl):").indent()
        _loads(src, expr.names(cp.pre), lay, pre=(cp.pre_name, "hj"))
        src(f"acc[l] += w * ({_code(cp.pre)})").dedent().dedent()("", "")
    # observables
    src('@njit(cache=True)', "def _observe(xi, i, which, ar, v, nl):").indent()
    for v, (name, node) in enumerate(spec.observables):
        src(f"{'if' if v == 0 else 'elif'} which == {v}:").indent()
        src("for l in range(nl):").indent()
        if isinstance(node, expr.Name) and node.id in spec.state_variables:
            src(f"ar[v, i, l] += xi[{spec.state_variables.index(node.id)}, i, l]")
        else:
            _loads(src, expr.names(node), lay, x="xi")
            src(f"ar[v, i, l] += {_code(node)}")
        src.dedent().dedent()
    src.dedent()("", "")
    for noise in (True, False):
        for single in (False, True):
            _kernel(src, lay, noise, single)
            src("", "")
    return src.text()


def _kernel(src: Lines, lay: Layout, noise: bool, single: bool) -> None:
    """``block_<stochastic|deterministic>``; ``single``: the ``_single`` variant for blocks of one
    instance, whose per-step loop runs over the nodes (couplings of every node first, then one
    fused loop over all nodes: vectorised across nodes instead of a scalar lane loop per node)."""
    spec = lay.spec
    lin, gen = lay.linear_rows, lay.general_rows
    src("@njit(cache=True, nogil=True, error_model='numpy')",
        f"def block_{'stochastic' if noise else 'deterministic'}{'_single' if single else ''}(b_first, b_stride, state, history, cvars, low, high, "
        "lo, hi, step0, n_steps,",
        "           row_ptr, cols, weights, delays, order, mid, active, coupling_a, coupling_b, params, speed, dt,",
        "           sigma, keys, voi, istep, skip, out, lanes, chunk):")
    src.indent()
    src('"""Advance the blocks of ``lanes`` instances starting at ``b_first, b_first + b_stride, ...`` of',
        f"``state`` (nsv, N, B) by ``n_steps`` {'stochastic' if noise else 'deterministic'} Heun steps from step "
        "``step0``, from the initial",
        "history ``history`` (L, rows, N, B), or, when its last axis is empty, from the TVB-style random one",
        "drawn by ``batched_cpu.draw_block`` (the numbers of ``batched_cpu.random_history``). See the module",
        "docstring of l2l_tvb.codegen_cpu; l2l_tvb.batched.run_cpu runs one call per thread.\"\"\"",
        "n_node = state.shape[1]", "n_inst = state.shape[2]", "n_slot = history.shape[0]",
        "nvoi = voi.shape[0]", "n_pairs = (NSV + 1) // 2", "sqrt_dt = np.sqrt(dt)",
        "drawn = history.shape[3] == 0",
        *[f"act{h} = active[{h}]" for h in range(len(lay.hist_rows))],
        "# each node's afferent weight sum (the constant terms of separable couplings)",
        "wsum = np.zeros(n_node)", "for i in range(n_node):", "    for m in range(row_ptr[i], row_ptr[i + 1]):",
        "        wsum[i] += weights[m]",
        "# the block's delay ring, allocated once per thread: a fresh one per block cost its page faults",
        "ring = np.empty(NH * n_node * n_slot * min(lanes, n_inst - b_first))",
        "for b0 in range(b_first, n_inst, b_stride):")
    src.indent()
    src("nl = min(lanes, n_inst - b0)",
        f"cgen = np.zeros(({max(len(gen), 1)}, nl))",
        "# the fused loop's output on the stack (no aliasing with what it reads: it vectorises)",
        f"xnew = carray(stack_buffer({spec.nsv * LANE_CAP}), (NSV, {LANE_CAP}))",
        "acc = np.zeros((nvoi, n_node, nl))", f"cpl = np.zeros(({max(len(lin), 1)}, n_node, chunk, nl))",
        "hb = ring[:NH * n_node * n_slot * nl].reshape((NH, n_node, n_slot, nl))",
        "stg = np.empty((NH, n_node, chunk, nl))",
        *([f"cn = np.empty(({max(len(lin), 1)}, n_node))", f"cgn = np.empty(({max(len(gen), 1)}, n_node))",
           "xnode = np.empty((NSV, n_node))"] if single else []),
        "# the block's state, contiguous (a strided view of ``state`` would keep the lane loops scalar)",
        "if drawn:", "    sb = np.empty((NSV, n_node, nl), dtype=state.dtype)",
        "    draw_block(hb, sb, keys, b0, RING_CV, cvars, low, high, lo, hi)", "else:",
        "    sb = state[:, :, b0:b0 + nl].copy()", "    for sl in range(n_slot):", "        for h in range(NH):",
        "            for j in range(n_node):", "                hb[h, j, sl] = history[sl, RING_CV[h], j, b0:b0 + nl]")
    for h, (_, f) in enumerate(lay.ring):
        if f is not None:
            src(f"# ring row {h} holds {expr.to_python(f, str)} of the delayed state", f"if act{lay.ring[h][0]}:",
                "    for j in range(n_node):", "        for sl in range(n_slot - 1):",
                "            for l in range(nl):").indent(4)
            src(f"{local(_pre_name(lay, h))} = hb[{h}, j, sl, l]", f"hb[{h}, j, sl, l] = {_code(f)}").dedent(4)
    src(
        "# flat views: the coupling loops index them with offsets (no per-connection array views)",
        "flat = hb.reshape(-1)", "cflat = cpl.reshape(-1)", "sflat = stg.reshape(-1)",
        "q = _derive(np.ascontiguousarray(params[:, b0:b0 + nl]), coupling_a[b0:b0 + nl], "
        "coupling_b[b0:b0 + nl], speed, dt, float(n_node))",
        "sg = np.ascontiguousarray(sigma[:, b0:b0 + nl])", "kb = keys[b0:b0 + nl].copy()",
        *(["s2 = sb.reshape((NSV, n_node))   # the state of a one-instance block, nodes innermost"] if single else []),
        "for s0 in range(0, n_steps, chunk):")
    src.indent()
    src("tc = min(chunk, n_steps - s0)", "now0 = (step0 + s0) % n_slot")
    if lin:
        src("# far connections of the linear couplings: their sums for all tc steps, each read as a",
            "# contiguous run of the ring (prefetching the start of the run PREFETCH connections on)",
            "for i in range(n_node):").indent()
        for j, h in enumerate(lin):
            src(f"zero(cflat, ({j} * n_node + i) * chunk * nl, tc * nl)")
        src("for m in range(row_ptr[i], mid[i]):").indent()
        src("mp = m + PREFETCH", "if mp < mid[i]:").indent()
        src("kp = order[mp]", "sp = now0 - delays[kp]", "sp = sp + n_slot if sp < 0 else sp")
        for h in lin:
            src(f"if active[{lay.ring[h][0]}]:").indent()
            src(f"base = (({h} * n_node + cols[kp]) * n_slot + sp) * nl", "for qq in range(0, nl, 8):",
                "    prefetch(flat, base + qq)").dedent()
        src.dedent()
        src("k = order[m]", "w = weights[k]", "base = now0 - delays[k]", "base = base + n_slot if base < 0 else base")
        for j, h in enumerate(lin):
            src(f"if active[{lay.ring[h][0]}]:").indent()
            src("# the run of tc slots from ``base`` is contiguous up to the end of the ring, then",
                "# goes on from its start: one or two flat multiply-add loops over (step, lane)",
                f"c0 = ({j} * n_node + i) * chunk * nl", f"h0 = ({h} * n_node + cols[k]) * n_slot * nl",
                "n1 = min(tc, n_slot - base) * nl", "axpy(cflat, c0, flat, h0 + base * nl, n1, w)",
                "if n1 < tc * nl:", "    axpy(cflat, c0 + n1, flat, h0, tc * nl - n1, w)")
            src.dedent()
        src.dedent().dedent()
    src("for qq in range(tc):").indent()
    src("s = s0 + qq", "t = step0 + 1 + s", "now = (t - 1) % n_slot")
    if single:
        _step_nodes(src, lay, noise)
    else:
        src("for i in range(n_node):")
        src.indent()
        for j, h in enumerate(lin):
            src(f"if active[{lay.ring[h][0]}]:").indent()
            src("# near connections: their delayed states were written during this chunk",
                "for m in range(mid[i], row_ptr[i + 1]):").indent()
            src("k = order[m]", "w = weights[k]")
            src(f"c0 = (({j} * n_node + i) * chunk + qq) * nl", "qd = qq - 1 - delays[k]", "if qd >= 0:",
                f"    axpy(cflat, c0, sflat, (({h} * n_node + cols[k]) * chunk + qd) * nl, nl, w)", "else:",
                "    slot = now - delays[k]", "    slot = slot + n_slot if slot < 0 else slot",
                f"    axpy(cflat, c0, flat, (({h} * n_node + cols[k]) * n_slot + slot) * nl, nl, w)")
            src.dedent().dedent()
        for g, h in enumerate(gen):
            src(f"cg{g} = cgen[{g}]", "for l in range(nl):", f"    cg{g}[l] = 0.0", f"if active[{lay.ring[h][0]}]:").indent()
            src("for m in range(row_ptr[i], row_ptr[i + 1]):").indent()
            _delayed(src, h, "m")
            src(f"_pre_{h}(cg{g}, weights[m], hv, sb, i, q, nl)")
            src.dedent().dedent()
        if noise:
            for pr in range((spec.nsv + 1) // 2):
                src(f"ctr{pr} = np.uint64((t * n_node + i) * n_pairs + {pr})")
        _fused(src, lay, noise)
        src("# the new state into the state and the chunk's stage (apart from the fused loop, whose only",
            "# written array is xnew: fewer possible aliases, so that LLVM vectorises it)",
            "for sv in range(NSV):", "    for l in range(nl):", "        sb[sv, i, l] = xnew[sv, l]")
        _stage(src, lay, "for l in range(nl):", "stg[{h}, i, qq, l]", "xnew[{sv}, l]")
        src("for v in range(nvoi):", "    _observe(sb, i, voi[v], acc, v, nl)")
        src.dedent()
    src("if (s + 1) % istep == 0:").indent()
    src("sample = (s + 1) // istep - 1 - skip", "for v in range(nvoi):", "    for i in range(n_node):",
        "        ar = acc[v, i]", "        if sample >= 0:", "            o = out[sample, v, i, b0:b0 + nl]",
        "            for l in range(nl):", "                o[l] = ar[l] / istep",
        "        for l in range(nl):", "            ar[l] = 0.0")
    src.dedent().dedent()
    src("# the chunk's new states into the ring: one contiguous run of slots per node and row",
        "for h in range(NH):", "    for j in range(n_node):", "        for qq in range(tc):",
        "            hr = hb[h, j, (now0 + 1 + qq) % n_slot]", "            sr = stg[h, j, qq]",
        "            for l in range(nl):", "                hr[l] = sr[l]")
    src.dedent()
    src("# the final state (the history is not handed back: nothing reads it)", "state[:, :, b0:b0 + nl] = sb")
    src.dedent().dedent()




def _pre_name(lay: Layout, h: int) -> str:
    """The name of ring row ``h``'s delayed state in its coupling's ``pre``."""
    return lay.spec.couplings[lay.hist_rows[lay.ring[h][0]]].pre_name


def _step_nodes(src: Lines, lay: Layout, noise: bool) -> None:
    """One step of a one-instance block: every node's couplings (the far sums of the chunk plus
    the near connections; general couplings per connection), then one fused loop over the nodes,
    then the new states into the state, the stage and the observables. The same arithmetic in
    the same order as the lane loop's, node by node: the results are identical."""
    spec = lay.spec
    for j, h in enumerate(lay.linear_rows):
        src("for i in range(n_node):", f"    cn[{j}, i] = cpl[{j}, i, qq, 0]", f"if active[{lay.ring[h][0]}]:").indent()
        src("for i in range(n_node):").indent()
        src("for m in range(mid[i], row_ptr[i + 1]):").indent()
        src("k = order[m]", "qd = qq - 1 - delays[k]", "if qd >= 0:",
            f"    cn[{j}, i] += weights[k] * stg[{h}, cols[k], qd, 0]", "else:",
            "    slot = now - delays[k]", "    slot = slot + n_slot if slot < 0 else slot",
            f"    cn[{j}, i] += weights[k] * hb[{h}, cols[k], slot, 0]")
        src.dedent(3)
    for g, h in enumerate(lay.general_rows):
        src("for i in range(n_node):").indent()
        src(f"cgen[{g}, 0] = 0.0", f"if active[{lay.ring[h][0]}]:").indent()
        src("for m in range(row_ptr[i], row_ptr[i + 1]):").indent()
        _delayed(src, h, "m")
        src(f"_pre_{h}(cgen[{g}], weights[m], hv, sb, i, q, 1)")
        src.dedent(2)
        src(f"cgn[{g}, i] = cgen[{g}, 0]").dedent()
    _fused(src, lay, noise, _NODES)
    src("for sv in range(NSV):", "    for i in range(n_node):", "        s2[sv, i] = xnode[sv, i]")
    _stage(src, lay, "for i in range(n_node):", "stg[{h}, i, qq, 0]", "xnode[{sv}, i]")
    src("for i in range(n_node):", "    for v in range(nvoi):", "        _observe(sb, i, voi[v], acc, v, 1)")


def _stage(src: Lines, lay: Layout, loop: str, target: str, source: str) -> None:
    """The new states into the chunk's stage, one ring row at a time (``f`` of the coupled state
    variable for a separated row), in ``loop`` over the lanes or the nodes; an unused
    coupling's rows are neither read nor written."""
    for h, (hr, f) in enumerate(lay.ring):
        sv = lay.spec.couplings[lay.hist_rows[hr]].source
        src(f"if act{hr}:", f"    {loop}").indent(2)
        if f is None:
            src(f"{target.format(h=h)} = {source.format(sv=sv)}")
        else:
            src(f"{local(_pre_name(lay, h))} = {source.format(sv=sv)}", f"{target.format(h=h)} = {_code(f)}")
        src.dedent(2)


def _delayed(src: Lines, h: int, k: str) -> None:
    """Emit ``hv`` = the delayed state of history row ``h`` that connection ``k`` reads this step:
    from the chunk's stage when it was written during this chunk, else from the ring."""
    src(f"qd = qq - 1 - delays[{k}]", "if qd >= 0:", f"    hv = stg[{h}, cols[{k}], qd]", "else:").indent()
    src(f"slot = now - delays[{k}]", "slot = slot + n_slot if slot < 0 else slot", f"hv = hb[{h}, cols[{k}], slot]")
    src.dedent()


#: how the fused loop indexes its arrays: over the lanes of node ``i``, or (blocks of one
#: instance) over the nodes
_LANES = dict(loop="for l in range(nl):", x="sb[{s}, i, l]", q="q[{row}, l]", cpl="cpl[{c}, i, qq, l]",
              cg="cg{g}[l]", key="kb[l]", sg="sg[{s}, l]", out="xnew[{s}, l]")
_NODES = dict(loop="for i in range(n_node):", x="s2[{s}, i]", q="q[{row}, 0]", cpl="cn[{c}, i]",
              cg="cgn[{g}, i]", key="kb[0]", sg="sg[{s}, 0]", out="xnode[{s}, i]")


def _fused(src: Lines, lay: Layout, noise: bool, at: dict[str, str] = _LANES) -> None:
    """One loop over the lanes of node ``i`` (``at`` = _NODES: over the nodes of a one-instance
    block) that finishes the couplings, draws the noise, does the Heun step (equations emitted
    twice, for the state and for the predictor) and writes the new state to ``xnew`` (``xnode``):
    no intermediate arrays between the stages."""
    spec = lay.spec
    nsv = spec.nsv
    column = {h: j for j, h in enumerate(lay.linear_rows)}
    hist_row = {k: h for h, k in enumerate(lay.hist_rows)}
    sums = {k: f"({separated_sum(parts, lambda h: at['cpl'].format(c=column[h]), 'wsum[i]', _code)} "
               f"if act{hist_row[k]} else 0.0)" for k, parts in lay.terms}
    sums |= {lay.hist_rows[lay.ring[h][0]]: at["cg"].format(g=g) for g, h in enumerate(lay.general_rows)}
    nodes = [*spec.derivatives, *(n for a in spec.assigns for case in a.cases for n in case),
             *(cp.combine for cp in spec.couplings), *(g for _, parts in lay.terms for _, g in parts)]
    needed = _needed(nodes) - set(spec.state_variables) - {cp.name for cp in spec.couplings}
    src(at["loop"]).indent()
    for s, sv in enumerate(spec.state_variables):
        src(f"x{s} = {at['x'].format(s=s)}", f"{local(sv)} = x{s}")
    for name, row in lay.qrows.items():
        if name in needed:
            src(f"{local(name)} = {at['q'].format(row=row)}")
    for k, cp in enumerate(spec.couplings):
        if cp.source is None:
            src(f"{local(cp.name)} = 0.0")
        else:
            src(f"{local(cp.name)} = {_code(cp.combine, sums=sums[k])}")
    plus = ["" for _ in range(nsv)]
    if noise:
        for pr in range((nsv + 1) // 2):
            if at is _NODES:
                src(f"ctr{pr} = np.uint64((t * n_node + i) * n_pairs + {pr})")
            src(f"g0, g1 = normal_pair({at['key']}, ctr{pr})")
            for half in (0, 1):
                s = 2 * pr + half
                if s < nsv:
                    src(f"z{s} = sqrt_dt * g{half} * {at['sg'].format(s=s)}")
                    plus[s] = f" + z{s}"
    _assigns(src, spec.assigns)
    for s, node in enumerate(spec.derivatives):
        src(f"d1_{s} = {_code(node)}")
    for s in range(nsv):
        src(f"xi{s} = x{s} + dt * d1_{s}{plus[s]}")
        _clip(src, spec, s, f"xi{s}")
    for s, sv in enumerate(spec.state_variables):
        src(f"{local(sv)} = xi{s}")
    _assigns(src, spec.assigns)
    for s, node in enumerate(spec.derivatives):
        src(f"d2_{s} = {_code(node)}")
    for s in range(nsv):
        src(f"xn{s} = x{s} + (d1_{s} + d2_{s}) * dt / 2.0{plus[s]}")
        _clip(src, spec, s, f"xn{s}")
        src(f"{at['out'].format(s=s)} = xn{s}")
    src.dedent()


def _clip(src: Lines, spec: ModelSpec, s: int, var: str) -> None:
    """Clip a bounded state variable (constants baked in; unbounded ones cost nothing)."""
    lo, hi = spec.lower[s], spec.upper[s]
    if lo != float("-inf"):
        src(f"{var} = {lo!r} if {var} < {lo!r} else {var}")
    if hi != float("inf"):
        src(f"{var} = {hi!r} if {var} > {hi!r} else {var}")


@lru_cache(maxsize=None)
def cpu_kernel(spec: ModelSpec) -> ModuleType:
    """The imported generated module of ``spec`` (the ``block_*`` kernels and the model's pieces)."""
    source = model_source(spec)
    support = content_hash(numba.__version__, *(p.read_text() for p in _SUPPORT))
    return import_source(f"cpu_{_slug(spec.name)}", f"# support {support}\n" + source)


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)[:40]
