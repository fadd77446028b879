"""Support of the generated CPU kernels (``codegen_cpu``): prefetching, the far/near split of
connections, the TVB-style random initial history, and the lane-block sizes.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .rng import mix64, uniform

#: connections ahead whose delayed states are prefetched
PREFETCH = 8
#: steps of Linear coupling summed at once over the far connections
CHUNK = 32
#: most instances one block of the CPU kernel holds (its fused loop writes to a stack buffer of
#: this many lanes)
LANE_CAP = 64


@intrinsic
def prefetch(typingctx, flat, index):
    """Prefetch the cache line of ``flat[index]`` (llvm.prefetch, read, high locality)."""
    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        i8p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i8p, ir.IntType(32), ir.IntType(32), ir.IntType(32)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), i8p)
        i32 = ir.IntType(32)
        builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()
    return types.void(flat, index), codegen


@intrinsic(prefer_literal=True)
def stack_buffer(typingctx, n):
    """A float64 buffer of ``n`` (a literal int) elements on the calling function's stack. The
    fused loop of a generated kernel writes its new states there: LLVM knows that a stack buffer
    no other pointer reaches cannot alias the arrays the loop reads, so it vectorises the loop
    without runtime overlap checks (a heap array needs one check per pair of written and read
    rows, and past LLVM's limit of such checks the loop stays scalar: 4 or more state variables)."""
    if not isinstance(n, types.IntegerLiteral):
        return None

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once(builder, ir.DoubleType(), size=n.literal_value)
    return types.CPointer(types.float64)(n), codegen


@njit(cache=True, inline="always")
def axpy(y, yo, x, xo, n, w):
    """``y[yo:yo + n] += w * x[xo:xo + n]`` without making array views (each view costs two
    atomic reference-count updates) and with unsigned indices (no negative-index wrap), so that
    the loop vectorises; offsets must be in range."""
    yu = np.uint64(yo)
    xu = np.uint64(xo)
    for e in range(np.uint64(n)):
        y[yu + e] += w * x[xu + e]


@njit(cache=True, inline="always")
def zero(y, yo, n):
    """``y[yo:yo + n] = 0`` (as :func:`axpy`)."""
    yu = np.uint64(yo)
    for e in range(np.uint64(n)):
        y[yu + e] = 0.0


@njit(cache=True)
def split_rows(row_ptr, delays, chunk):
    """Order each node's afferent connections for a coupling computed ``chunk`` steps at once:
    ``order[row_ptr[i]:mid[i]]`` are the far ones (delay >= chunk - 1: their delayed states for
    the whole chunk are known at its start), ``order[mid[i]:row_ptr[i + 1]]`` the near ones
    (added step by step); each part keeps the CSR order."""
    n_node = row_ptr.shape[0] - 1
    order = np.empty(delays.shape[0], dtype=np.int64)
    mid = np.empty(n_node, dtype=np.int64)
    m = 0
    for i in range(n_node):
        for k in range(row_ptr[i], row_ptr[i + 1]):
            if delays[k] >= chunk - 1:
                order[m] = k
                m += 1
        mid[i] = m
        for k in range(row_ptr[i], row_ptr[i + 1]):
            if delays[k] < chunk - 1:
                order[m] = k
                m += 1
    return order, mid


@njit(cache=True, error_model="numpy")
def random_history(history, state, keys, cvars, low, high, lo, hi):
    """TVB-style random initial history, drawn from each instance's key: every slot but the
    last of ``history`` and the state (the last slot) uniform in [low, high) per state
    variable, clipped to the bounds [lo, hi]. Instance b's k-th draw (k = 1, 2, ... in the
    order slot, row, node, then state variable, node) is ``uniform(key_b, k)``; the loops run
    over instances innermost, so that they vectorise and write contiguous rows."""
    n_slot, ncv, n_node, n_inst = history.shape
    nsv = state.shape[0]
    kk = np.empty(n_inst, dtype=np.uint64)
    for b in range(n_inst):
        kk[b] = mix64(keys[b] ^ np.uint64(0x5DEECE66D))
    ctr = np.uint64(0)
    for t in range(n_slot - 1):
        for cv in range(ncv):
            sv = cvars[cv]
            for i in range(n_node):
                ctr += np.uint64(1)
                _uniform_row(history[t, cv, i], kk, ctr, low[sv], high[sv], lo[sv], hi[sv])
    for sv in range(nsv):
        for i in range(n_node):
            ctr += np.uint64(1)
            row = state[sv, i]
            _uniform_row(row, kk, ctr, low[sv], high[sv], lo[sv], hi[sv])
            for cv in range(ncv):
                if cvars[cv] == sv:
                    history[n_slot - 2, cv, i, :] = row


@njit(cache=True, error_model="numpy")
def draw_block(hb, sb, keys, b0, ring_cv, cvars, low, high, lo, hi):
    """The random initial history of instances ``b0 .. b0 + nl`` straight into a kernel block's
    ring ``hb`` (ring rows, N, slots, nl) and state ``sb`` (nsv, N, nl): the numbers
    :func:`random_history` draws for them (its k-th draw of instance b is ``uniform(key_b, k)``,
    k counted in the order slot, history row, node, then state variable, node), rounded to
    ``sb``'s precision as its storage would, written in the ring's memory order; ring row h is
    drawn as history row ``ring_cv[h]`` (coupled variable ``cvars[ring_cv[h]]``); the last slot
    is zero."""
    nh, n_node, n_slot, nl = hb.shape
    ncv = cvars.shape[0]
    nsv = sb.shape[0]
    kk = np.empty(nl, dtype=np.uint64)
    for l in range(nl):
        kk[l] = mix64(keys[b0 + l] ^ np.uint64(0x5DEECE66D))
    rnd = np.empty(nl, dtype=sb.dtype)
    for h in range(nh):
        cv = ring_cv[h]
        sv = cvars[cv]
        for i in range(n_node):
            for t in range(n_slot - 1):
                _uniform_row(rnd, kk, np.uint64(1 + (t * ncv + cv) * n_node + i), low[sv], high[sv], lo[sv], hi[sv])
                for l in range(nl):
                    hb[h, i, t, l] = rnd[l]
            for l in range(nl):
                hb[h, i, n_slot - 1, l] = 0.0
    base = (n_slot - 1) * ncv * n_node
    for sv in range(nsv):
        for i in range(n_node):
            _uniform_row(sb[sv, i], kk, np.uint64(base + 1 + sv * n_node + i), low[sv], high[sv], lo[sv], hi[sv])
            for h in range(nh):
                if cvars[ring_cv[h]] == sv:
                    for l in range(nl):
                        hb[h, i, n_slot - 2, l] = sb[sv, i, l]


@njit(cache=True, inline="always")
def _uniform_row(row, kk, ctr, low, high, lo, hi):
    """``row[b] = clip(low + (high - low) * uniform(kk[b], ctr), lo, hi)`` for every instance."""
    for b in range(row.shape[0]):
        v = low + (high - low) * uniform(kk[b], ctr)
        row[b] = min(max(v, lo), hi)
