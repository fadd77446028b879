"""The CPU kernel of the batched engine: Heun (deterministic or stochastic) for a whole batch.

Layout: instances are the innermost axis of every array (``state[sv, node, instance]``,
``history[slot, cvar, node, instance]``), so the lane loops vectorise. ``prange`` runs blocks of
``lanes`` instances on separate threads; each block goes through all time steps on its own
(instances never interact) on a block-local copy of its history laid out
``[cvar, node, slot, lane]``: the delayed states one connection needs for consecutive steps are
then one contiguous run, so the Linear-coupling gather streams them ``chunk`` steps at a time
instead of waiting on one scattered read per connection and step. Within a step one fused loop
over nodes adds the near connections' terms, evaluates the model equations and does the Heun
update. Per node the far terms are summed before the near ones (each part in CSR order), so for
nodes with short-delay afferents the rounding differs from TVB's order in the last bits.

Conventions follow TVB (tvb.simulator): the history holds the coupling variables of the last
``horizon`` steps; the coupling of step t uses ``x_j(t - 1 - d_ij)`` with ``d_ij`` the delay in
steps (``rint(tract_length / speed / dt)``); Linear coupling is ``a * sum_j w_ij x_j + b``,
Difference ``a * sum_j w_ij (x_j - x_i)``, Kuramoto ``a / n_cvar * sum_j w_ij sin(x_j - x_i)``;
the coupling is computed once per step and used in both Heun stages; noise is
``sqrt(dt) * N(0, 1) * sqrt(2 nsig)``; state-variable bounds clip the predictor and the result.
The history buffer has one slot more than TVB's, so a step can write its new state while other
nodes still read the oldest delayed one.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from .batched_models import G2D, KURAMOTO, MPR, RWW
from .rng import mix64, normal_pair, uniform

#: instances per thread block at most: 32 when the history is long (the block's delay ring then
#: stays near the caches), 64 when it spans at most ``CHUNK`` steps (no or short delays: longer
#: lane loops amortise the per-node loop overhead: MPR without delays, 256 instances, 2 threads,
#: 1.2x faster than 32; 128 was no faster and leaves fewer blocks to balance the threads)
MAX_LANES = 32
MAX_LANES_SHORT = 64
PREFETCH = 8
#: steps of Linear coupling summed at once over the far connections
CHUNK = 32
_PI = np.pi
_PI2 = np.pi ** 2


@njit(inline="always", cache=True)
def _derive(model, p):
    """Per-lane constants of the equations, computed once per block with TVB's operation
    order (so the dfun below gives bit-identical values): G2D rows 12-13 = d * tau,
    gamma * I; MPR rows 7-10 = 1 / tau, Delta / (pi * tau), pi^2 * tau^2, J * tau."""
    nl = p.shape[1]
    if model == G2D:
        q = np.empty((14, nl))
        q[:12] = p
        for l in range(nl):
            q[12, l] = p[5, l] * p[0, l]
            q[13, l] = p[11, l] * p[1, l]
        return q
    if model == MPR:
        q = np.empty((11, nl))
        q[:7] = p
        for l in range(nl):
            tau = p[0, l]
            q[7, l] = 1 / tau
            q[8, l] = p[2, l] / (_PI * tau)
            q[9, l] = _PI2 * (tau * tau)
            q[10, l] = p[3, l] * tau
        return q
    return p.copy()


@njit(inline="always", cache=True)
def _dfun(model, x, c, p, nl, dx):
    """Derivatives of lanes ``0..nl`` (parameters ``p[:, lane]`` from :func:`_derive`), TVB's
    equations and operation order."""
    if model == G2D:
        for l in range(nl):
            tau, a, bb, cc, d = p[0, l], p[2, l], p[3, l], p[4, l], p[5, l]
            e, f, g, alpha, beta, gamma = p[6, l], p[7, l], p[8, l], p[9, l], p[10, l], p[11, l]
            V = x[0, l]
            W = x[1, l]
            V2 = V * V
            dx[0, l] = p[12, l] * (alpha * W - f * V2 * V + e * V2 + g * V + p[13, l]
                                   + gamma * c[0, l] + 0.0)
            dx[1, l] = d * (a + bb * V + cc * V2 - beta * W) / tau
    elif model == KURAMOTO:
        for l in range(nl):
            dx[0, l] = p[0, l] + (c[0, l] + 0.0)
    elif model == RWW:
        for l in range(nl):
            a, bb, d, gamma, tau_s = p[0, l], p[1, l], p[2, l], p[3, l], p[4, l]
            w, J_N, I_o = p[5, l], p[6, l], p[7, l]
            S = x[0, l]
            xx = w * J_N * S + I_o + J_N * c[0, l]
            h = (a * xx - bb) / (1 - np.exp(-d * (a * xx - bb)))
            dx[0, l] = -(S / tau_s) + (1.0 - S) * h * gamma
    elif model == MPR:
        for l in range(nl):
            # 1/tau * (Delta/(pi tau) + 2 V r), 1/tau * (V^2 - pi^2 tau^2 r^2 + eta + J tau r + I
            # + cr Cr + cv Cv); x ** 2 is x * x (numpy squares so; pow() would not vectorise)
            I, eta, cr, cv = p[1, l], p[4, l], p[5, l], p[6, l]
            r = x[0, l]
            V = x[1, l]
            dx[0, l] = p[7, l] * (p[8, l] + 2 * V * r)
            dx[1, l] = p[7, l] * (V * V - p[9, l] * (r * r) + eta + p[10, l] * r + I
                                  + cr * c[0, l] + cv * c[1, l])


@njit(inline="always", cache=True)
def _bound(y, lo, hi, nsv, nl):
    for s in range(nsv):
        for l in range(nl):
            v = y[s, l]
            v = lo[s] if v < lo[s] else v
            y[s, l] = hi[s] if v > hi[s] else v


@intrinsic
def _prefetch(typingctx, flat, index):
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


@njit(inline="always", cache=True)
def _couple(coupling, acc, w, hj, hi_, nl):
    """Add one connection's term to ``acc``: Linear ``w x_j``, Difference ``w (x_j - x_i)``,
    Kuramoto ``w sin(x_j - x_i)``."""
    if coupling == 0:
        for l in range(nl):
            acc[l] += w * hj[l]
    elif coupling == 1:
        for l in range(nl):
            acc[l] += w * (hj[l] - hi_[l])
    else:
        for l in range(nl):
            acc[l] += w * np.sin(hj[l] - hi_[l])


@njit(parallel=True, cache=True, error_model="numpy")
def heun_batch(model, coupling, state, history, step0, n_steps, row_ptr, cols, weights, delays,
               cvars, active, coupling_a, coupling_b, params, dt, sigma, keys, lo, hi, voi, istep,
               skip, out, lanes, chunk):
    """Advance ``state`` (nsv, N, B) and ``history`` (L, ncv, N, B) by ``n_steps`` Heun steps.

    ``step0`` is the step of the current state (its coupling variables are in history slot
    ``step0 % L``). ``row_ptr/cols/weights/delays``: the afferent connections of each node
    (CSR, delays in steps). ``active`` (ncv,): whether a coupling variable's input is used at
    all (False when the model multiplies it by zero in every instance; its gather is skipped).
    ``params`` (n_params, B): the model parameters per instance;
    ``coupling_a/b`` (B,): coupling parameters; ``sigma`` (nsv, B): ``sqrt(2 nsig)`` per state
    variable (all zero: deterministic Heun); ``keys`` (B,): noise keys. Averages of the state
    variables ``voi`` over ``istep`` steps go to ``out[sample - skip]`` (samples before ``skip``
    are dropped). ``lanes``: instances per thread block (a multiple of 8);
    ``chunk``: steps of Linear coupling summed at once (see below; 1 sums every step in CSR
    order).

    Each block copies its history into a block-local ring ``hb[cv, node, slot, lane]``, so the
    delayed states one connection needs for consecutive steps are one contiguous run. Linear
    coupling is summed ``chunk`` steps at a time over the far connections (delay >= chunk - 1,
    streamed from the ring), the near ones are added step by step; Difference and Kuramoto
    (which need the target's own current state) go one step at a time in CSR order.
    """
    nsv, n_node, n_inst = state.shape
    n_slot = history.shape[0]
    ncv = cvars.shape[0]
    nvoi = voi.shape[0]
    chunk = chunk if coupling == 0 else 1
    order, mid = split_rows(row_ptr, delays, chunk)
    stochastic = np.any(sigma != 0.0)
    n_pairs = (nsv + 1) // 2
    sqrt_dt = np.sqrt(dt)
    n_block = (n_inst + lanes - 1) // lanes
    for blk in prange(n_block):
        b0 = blk * lanes
        nl = min(lanes, n_inst - b0)
        x = np.empty((nsv, nl))
        xi = np.empty((nsv, nl))
        d1 = np.empty((nsv, nl))
        d2 = np.empty((nsv, nl))
        z = np.zeros((nsv + 1, nl))
        c = np.empty((ncv, nl))
        acc = np.zeros((nvoi, n_node, nl))
        cpl = np.empty((ncv, n_node, chunk, nl))
        hb = np.empty((ncv, n_node, n_slot, nl))
        for sl in range(n_slot):
            for cv in range(ncv):
                for j in range(n_node):
                    hb[cv, j, sl] = history[sl, cv, j, b0:b0 + nl]
        flat = hb.reshape(-1)
        # block-local, contiguous copies of the per-instance inputs (lanes index from 0)
        pb = _derive(model, np.ascontiguousarray(params[:, b0:b0 + nl]))
        sg = np.ascontiguousarray(sigma[:, b0:b0 + nl])
        ca = coupling_a[b0:b0 + nl].copy()
        cb = coupling_b[b0:b0 + nl].copy()
        kb = keys[b0:b0 + nl].copy()
        for s0 in range(0, n_steps, chunk):
            tc = min(chunk, n_steps - s0)
            now0 = (step0 + s0) % n_slot
            # far connections: their sums for all tc steps, each read as a contiguous run of
            # the ring (prefetching the start of the run PREFETCH connections further on)
            for i in range(n_node):
                for cv in range(ncv):
                    for q in range(tc):
                        cq = cpl[cv, i, q]
                        for l in range(nl):
                            cq[l] = 0.0
                for m in range(row_ptr[i], mid[i]):
                    mp = m + PREFETCH
                    if mp < mid[i]:
                        kp = order[mp]
                        sp = now0 - delays[kp]
                        sp = sp + n_slot if sp < 0 else sp
                        for cv in range(ncv):
                            if active[cv]:
                                base = ((cv * n_node + cols[kp]) * n_slot + sp) * nl
                                for q in range(0, nl, 8):
                                    _prefetch(flat, base + q)
                    k = order[m]
                    w = weights[k]
                    base = now0 - delays[k]
                    base = base + n_slot if base < 0 else base
                    for cv in range(ncv):
                        if not active[cv]:
                            continue
                        hrow = hb[cv, cols[k]]
                        hi_ = hb[cv, i, now0]
                        for q in range(tc):
                            sl = base + q
                            sl = sl - n_slot if sl >= n_slot else sl
                            _couple(coupling, cpl[cv, i, q], w, hrow[sl], hi_, nl)
            for q in range(tc):
                s = s0 + q
                t = step0 + 1 + s
                now = (t - 1) % n_slot
                slot_w = t % n_slot
                for i in range(n_node):
                    for cv in range(ncv):
                        cr = c[cv]
                        cq = cpl[cv, i, q]
                        for l in range(nl):
                            cr[l] = cq[l]
                    # near connections: their delayed states were written during this chunk
                    for m in range(mid[i], row_ptr[i + 1]):
                        k = order[m]
                        slot = now - delays[k]
                        slot = slot + n_slot if slot < 0 else slot
                        for cv in range(ncv):
                            if active[cv]:
                                _couple(coupling, c[cv], weights[k], hb[cv, cols[k], slot],
                                        hb[cv, i, now], nl)
                    for cv in range(ncv):
                        cr = c[cv]
                        if coupling == 0:
                            for l in range(nl):
                                cr[l] = ca[l] * cr[l] + cb[l]
                        elif coupling == 1:
                            for l in range(nl):
                                cr[l] = ca[l] * cr[l]
                        else:
                            for l in range(nl):
                                cr[l] = ca[l] / ncv * cr[l]
                    for sv in range(nsv):
                        xr = x[sv]
                        st = state[sv, i, b0:b0 + nl]
                        for l in range(nl):
                            xr[l] = st[l]
                    if stochastic:
                        for pr in range(n_pairs):
                            ctr = np.uint64((t * n_node + i) * n_pairs + pr)
                            za = z[2 * pr]
                            zb = z[2 * pr + 1]
                            for l in range(nl):
                                g0, g1 = normal_pair(kb[l], ctr)
                                za[l] = g0
                                zb[l] = g1
                        for sv in range(nsv):
                            zr = z[sv]
                            sgr = sg[sv]
                            for l in range(nl):
                                zr[l] = sqrt_dt * zr[l] * sgr[l]
                    # Heun: predictor, bounds, corrector, bounds (TVB's HeunStochastic/Deterministic)
                    _dfun(model, x, c, pb, nl, d1)
                    for sv in range(nsv):
                        xr, xir, d1r, zr = x[sv], xi[sv], d1[sv], z[sv]
                        for l in range(nl):
                            xir[l] = xr[l] + dt * d1r[l] + zr[l]
                    _bound(xi, lo, hi, nsv, nl)
                    _dfun(model, xi, c, pb, nl, d2)
                    for sv in range(nsv):
                        xr, xir, d1r, d2r, zr = x[sv], xi[sv], d1[sv], d2[sv], z[sv]
                        for l in range(nl):
                            xir[l] = xr[l] + (d1r[l] + d2r[l]) * dt / 2.0 + zr[l]
                    _bound(xi, lo, hi, nsv, nl)
                    for sv in range(nsv):
                        xir = xi[sv]
                        st = state[sv, i, b0:b0 + nl]
                        for l in range(nl):
                            st[l] = xir[l]
                    for cv in range(ncv):
                        xir = xi[cvars[cv]]
                        hw = hb[cv, i, slot_w]
                        for l in range(nl):
                            hw[l] = xir[l]
                    for v in range(nvoi):
                        xir = xi[voi[v]]
                        ar = acc[v, i]
                        for l in range(nl):
                            ar[l] += xir[l]
                if (s + 1) % istep == 0:
                    sample = (s + 1) // istep - 1 - skip
                    for v in range(nvoi):
                        for i in range(n_node):
                            ar = acc[v, i]
                            if sample >= 0:
                                o = out[sample, v, i, b0:b0 + nl]
                                for l in range(nl):
                                    o[l] = ar[l] / istep
                            for l in range(nl):
                                ar[l] = 0.0
        for sl in range(n_slot):
            for cv in range(ncv):
                for j in range(n_node):
                    history[sl, cv, j, b0:b0 + nl] = hb[cv, j, sl]


@njit(parallel=True, cache=True)
def random_history(history, state, keys, cvars, low, high, lo, hi):
    """TVB-style random initial history, drawn from each instance's key: every slot but the
    last of ``history`` and the state (the last slot) uniform in [low, high) per state
    variable, clipped to the bounds [lo, hi]."""
    n_slot, ncv, n_node, n_inst = history.shape
    nsv = state.shape[0]
    for b in prange(n_inst):
        key = mix64(keys[b] ^ np.uint64(0x5DEECE66D))
        ctr = np.uint64(0)
        for t in range(n_slot - 1):
            for cv in range(ncv):
                sv = cvars[cv]
                for i in range(n_node):
                    ctr += np.uint64(1)
                    v = low[sv] + (high[sv] - low[sv]) * uniform(key, ctr)
                    history[t, cv, i, b] = min(max(v, lo[sv]), hi[sv])
        for sv in range(nsv):
            for i in range(n_node):
                ctr += np.uint64(1)
                v = low[sv] + (high[sv] - low[sv]) * uniform(key, ctr)
                v = min(max(v, lo[sv]), hi[sv])
                state[sv, i, b] = v
                for cv in range(ncv):
                    if cvars[cv] == sv:
                        history[n_slot - 2, cv, i, b] = v
