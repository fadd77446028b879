"""The CPU kernel of the batched engine: Heun (deterministic or stochastic) for a whole batch.

Layout: instances are the innermost axis of every array (``state[sv, node, instance]``,
``history[slot, cvar, node, instance]``), so one connection's delayed-state gather reads a
contiguous run of instances and the lane loops vectorise. ``prange`` runs blocks of
``LANES`` instances on separate threads; each block goes through all time steps on its own
(instances never interact), and within a step one fused loop over nodes does the delayed,
coupled gather over the node's afferent connections, the model equations and the Heun update.

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
from numba import njit, prange

from .batched_models import G2D, KURAMOTO, MPR, RWW
from .rng import normal_pair

LANES = 64
_PI = np.pi


@njit(inline="always", cache=True)
def _dfun(model, x, c, p, b0, nl, dx):
    """Derivatives of lanes ``0..nl`` (instances ``b0..b0+nl``), TVB's equations and order."""
    if model == G2D:
        for l in range(nl):
            b = b0 + l
            tau, I, a, bb, cc, d = p[0, b], p[1, b], p[2, b], p[3, b], p[4, b], p[5, b]
            e, f, g, alpha, beta, gamma = p[6, b], p[7, b], p[8, b], p[9, b], p[10, b], p[11, b]
            V = x[0, l]
            W = x[1, l]
            V2 = V * V
            dx[0, l] = d * tau * (alpha * W - f * V2 * V + e * V2 + g * V + gamma * I
                                  + gamma * c[0, l] + 0.0)
            dx[1, l] = d * (a + bb * V + cc * V2 - beta * W) / tau
    elif model == KURAMOTO:
        for l in range(nl):
            dx[0, l] = p[0, b0 + l] + (c[0, l] + 0.0)
    elif model == RWW:
        for l in range(nl):
            b = b0 + l
            a, bb, d, gamma, tau_s = p[0, b], p[1, b], p[2, b], p[3, b], p[4, b]
            w, J_N, I_o = p[5, b], p[6, b], p[7, b]
            S = x[0, l]
            xx = w * J_N * S + I_o + J_N * c[0, l]
            h = (a * xx - bb) / (1 - np.exp(-d * (a * xx - bb)))
            dx[0, l] = -(S / tau_s) + (1.0 - S) * h * gamma
    elif model == MPR:
        for l in range(nl):
            b = b0 + l
            tau, I, Delta, J, eta, cr, cv = p[0, b], p[1, b], p[2, b], p[3, b], p[4, b], p[5, b], p[6, b]
            r = x[0, l]
            V = x[1, l]
            dx[0, l] = 1 / tau * (Delta / (_PI * tau) + 2 * V * r)
            dx[1, l] = 1 / tau * (V ** 2 - _PI ** 2 * tau ** 2 * r ** 2 + eta + J * tau * r + I
                                  + cr * c[0, l] + cv * c[1, l])


@njit(inline="always", cache=True)
def _bound(y, lo, hi, nsv, nl):
    for s in range(nsv):
        for l in range(nl):
            v = y[s, l]
            v = lo[s] if v < lo[s] else v
            y[s, l] = hi[s] if v > hi[s] else v


@njit(parallel=True, cache=True)
def heun_batch(model, coupling, state, history, step0, n_steps, row_ptr, cols, weights, delays,
               cvars, coupling_a, coupling_b, params, dt, sigma, keys, lo, hi, voi, istep,
               skip, out):
    """Advance ``state`` (nsv, N, B) and ``history`` (L, ncv, N, B) by ``n_steps`` Heun steps.

    ``step0`` is the step of the current state (its coupling variables are in history slot
    ``step0 % L``). ``row_ptr/cols/weights/delays``: the afferent connections of each node
    (CSR, delays in steps). ``params`` (n_params, B): the model parameters per instance;
    ``coupling_a/b`` (B,): coupling parameters; ``sigma`` (nsv, B): ``sqrt(2 nsig)`` per state
    variable (all zero: deterministic Heun); ``keys`` (B,): noise keys. Averages of the state
    variables ``voi`` over ``istep`` steps go to ``out[sample - skip]`` (samples before ``skip``
    are dropped).
    """
    nsv, n_node, n_inst = state.shape
    n_slot = history.shape[0]
    ncv = cvars.shape[0]
    nvoi = voi.shape[0]
    stochastic = np.any(sigma != 0.0)
    n_pairs = (nsv + 1) // 2
    sqrt_dt = np.sqrt(dt)
    n_block = (n_inst + LANES - 1) // LANES
    for blk in prange(n_block):
        b0 = blk * LANES
        nl = min(LANES, n_inst - b0)
        x = np.empty((nsv, LANES))
        xi = np.empty((nsv, LANES))
        d1 = np.empty((nsv, LANES))
        d2 = np.empty((nsv, LANES))
        z = np.zeros((nsv, LANES))
        c = np.empty((ncv, LANES))
        acc = np.zeros((nvoi, n_node, LANES))
        for s in range(n_steps):
            t = step0 + 1 + s
            now = (t - 1) % n_slot
            slot_w = t % n_slot
            for i in range(n_node):
                # delayed coupling: one compiled gather over the afferent connections
                for cv in range(ncv):
                    for l in range(nl):
                        c[cv, l] = 0.0
                for k in range(row_ptr[i], row_ptr[i + 1]):
                    j = cols[k]
                    w = weights[k]
                    slot = now - delays[k]
                    if slot < 0:
                        slot += n_slot
                    for cv in range(ncv):
                        if coupling == 0:
                            for l in range(nl):
                                c[cv, l] += w * history[slot, cv, j, b0 + l]
                        elif coupling == 1:
                            for l in range(nl):
                                c[cv, l] += w * (history[slot, cv, j, b0 + l] - history[now, cv, i, b0 + l])
                        else:
                            for l in range(nl):
                                c[cv, l] += w * np.sin(history[slot, cv, j, b0 + l] - history[now, cv, i, b0 + l])
                for cv in range(ncv):
                    for l in range(nl):
                        if coupling == 0:
                            c[cv, l] = coupling_a[b0 + l] * c[cv, l] + coupling_b[b0 + l]
                        elif coupling == 1:
                            c[cv, l] = coupling_a[b0 + l] * c[cv, l]
                        else:
                            c[cv, l] = coupling_a[b0 + l] / ncv * c[cv, l]
                for sv in range(nsv):
                    for l in range(nl):
                        x[sv, l] = state[sv, i, b0 + l]
                if stochastic:
                    for pr in range(n_pairs):
                        ctr = np.uint64((t * n_node + i) * n_pairs + pr)
                        for l in range(nl):
                            g0, g1 = normal_pair(keys[b0 + l], ctr)
                            z[2 * pr, l] = sqrt_dt * g0 * sigma[2 * pr, b0 + l]
                            if 2 * pr + 1 < nsv:
                                z[2 * pr + 1, l] = sqrt_dt * g1 * sigma[2 * pr + 1, b0 + l]
                # Heun: predictor, bounds, corrector, bounds (TVB's HeunStochastic/Deterministic)
                _dfun(model, x, c, params, b0, nl, d1)
                for sv in range(nsv):
                    for l in range(nl):
                        xi[sv, l] = x[sv, l] + dt * d1[sv, l] + z[sv, l]
                _bound(xi, lo, hi, nsv, nl)
                _dfun(model, xi, c, params, b0, nl, d2)
                for sv in range(nsv):
                    for l in range(nl):
                        xi[sv, l] = x[sv, l] + (d1[sv, l] + d2[sv, l]) * dt / 2.0 + z[sv, l]
                _bound(xi, lo, hi, nsv, nl)
                for sv in range(nsv):
                    for l in range(nl):
                        state[sv, i, b0 + l] = xi[sv, l]
                for cv in range(ncv):
                    for l in range(nl):
                        history[slot_w, cv, i, b0 + l] = xi[cvars[cv], l]
                for v in range(nvoi):
                    for l in range(nl):
                        acc[v, i, l] += xi[voi[v], l]
            if (s + 1) % istep == 0:
                sample = (s + 1) // istep - 1 - skip
                for v in range(nvoi):
                    for i in range(n_node):
                        for l in range(nl):
                            if sample >= 0:
                                out[sample, v, i, b0 + l] = acc[v, i, l] / istep
                            acc[v, i, l] = 0.0
