"""The GPU kernel of the batched engine (cupy ``RawKernel``): one CUDA thread per instance.

It mirrors ``batched_cpu.heun_batch`` line by line (same array layouts, with instances the
innermost axis so neighbouring threads read neighbouring addresses; same equations, Heun
scheme, bounds, sampling, and the same counter-based noise, so a GPU run reproduces the CPU
run up to floating-point contraction). It is chosen by ``device = "gpu"``/``"auto"``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_SOURCE = r"""
typedef REAL real;
typedef unsigned long long u64;
#define PI 3.141592653589793

__device__ u64 mix64(u64 z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

__device__ double log_unit(double u) {          /* as rng.log_unit */
    long long bits = __double_as_longlong(u);
    long long e = (bits >> 52) - 1023;
    double m = __longlong_as_double((bits & 0x000FFFFFFFFFFFFFLL) | 0x3FF0000000000000LL);
    if (m > 1.4142135623730951) { m *= 0.5; e += 1; }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, p = 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0; p = p * s2 + 1.0 / 11.0; p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0; p = p * s2 + 1.0 / 5.0; p = p * s2 + 1.0 / 3.0; p = p * s2 + 1.0;
    return 2.0 * s * p + e * 0.6931471805599453;
}

__device__ double cos_pm_pi(double x) {          /* as rng.cos_pm_pi */
    double h = 0.5 * x, h2 = h * h, p = 1.0 / 20922789888000.0;
    p = p * h2 - 1.0 / 87178291200.0; p = p * h2 + 1.0 / 479001600.0;
    p = p * h2 - 1.0 / 3628800.0; p = p * h2 + 1.0 / 40320.0; p = p * h2 - 1.0 / 720.0;
    p = p * h2 + 1.0 / 24.0; p = p * h2 - 0.5;
    double c = p * h2 + 1.0;
    return 2.0 * c * c - 1.0;
}

__device__ void normal_pair(u64 key, u64 counter, double *g0, double *g1) {   /* as rng.normal_pair */
    const u64 G = 0x9E3779B97F4A7C15ULL;
    u64 z = key + G * (2ULL * counter + 1ULL);
    double u1 = ((double)(mix64(z) >> 11) + 0.5) * 1.1102230246251565e-16;
    double u2 = (double)(mix64(z + G) >> 11) * 1.1102230246251565e-16;
    double r = sqrt(-2.0 * log_unit(u1)), x = 6.283185307179586 * u2 - PI;
    double c = cos_pm_pi(x), s = sqrt(fmax(0.0, 1.0 - c * c));
    *g0 = r * c; *g1 = (x < 0.0 ? -s : s) * r;
}

__device__ void dfun(int model, const double *x, const double *c, const double *p, long ld, double *dx) {
    /* p[k * ld]: parameter k of this instance (TVB's equations and operation order) */
    if (model == 0) {          /* Generic2dOscillator */
        double tau = p[0], I = p[ld], a = p[2 * ld], b = p[3 * ld], cc = p[4 * ld], d = p[5 * ld];
        double e = p[6 * ld], f = p[7 * ld], g = p[8 * ld], alpha = p[9 * ld], beta = p[10 * ld], gamma = p[11 * ld];
        double V = x[0], W = x[1], V2 = V * V;
        dx[0] = d * tau * (alpha * W - f * V2 * V + e * V2 + g * V + gamma * I + gamma * c[0] + 0.0);
        dx[1] = d * (a + b * V + cc * V2 - beta * W) / tau;
    } else if (model == 1) {   /* Kuramoto */
        dx[0] = p[0] + (c[0] + 0.0);
    } else if (model == 2) {   /* ReducedWongWang */
        double a = p[0], b = p[ld], d = p[2 * ld], gamma = p[3 * ld], tau_s = p[4 * ld];
        double w = p[5 * ld], J_N = p[6 * ld], I_o = p[7 * ld], S = x[0];
        double xx = w * J_N * S + I_o + J_N * c[0];
        double h = (a * xx - b) / (1 - exp(-d * (a * xx - b)));
        dx[0] = -(S / tau_s) + (1.0 - S) * h * gamma;
    } else {                   /* MontbrioPazoRoxin */
        double tau = p[0], I = p[ld], Delta = p[2 * ld], J = p[3 * ld], eta = p[4 * ld];
        double cr = p[5 * ld], cv = p[6 * ld], r = x[0], V = x[1];
        dx[0] = 1 / tau * (Delta / (PI * tau) + 2 * V * r);
        dx[1] = 1 / tau * (V * V - PI * PI * (tau * tau) * (r * r) + eta + J * tau * r + I + cr * c[0] + cv * c[1]);
    }
}

extern "C" __global__ void heun_batch(
    int model, int coupling, real *state, real *history, long step0, long n_steps,
    const long *row_ptr, const long *cols, const double *weights, const long *delays,
    const long *cvars, const double *ca, const double *cb, const double *params, double dt,
    const double *sigma, const u64 *keys, const double *lo, const double *hi, const long *voi,
    long istep, long skip, real *out, int nsv, int ncv, int nvoi, int n_node, int n_slot,
    int n_inst, int n_out)
{
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n_inst) return;
    double x[4], xi[4], d1[4], d2[4], z[4], c[2];
    const long N = n_node, B = n_inst;
    int n_pairs = (nsv + 1) / 2;
    bool stochastic = false;
    for (int sv = 0; sv < nsv; ++sv) stochastic |= sigma[sv * B + b] != 0.0;
    double sqrt_dt = sqrt(dt);
    for (long s = 0; s < n_steps; ++s) {
        long t = step0 + 1 + s, now = (t - 1) % n_slot, slot_w = t % n_slot;
        for (int i = 0; i < n_node; ++i) {
            for (int cv = 0; cv < ncv; ++cv) c[cv] = 0.0;
            for (long k = row_ptr[i]; k < row_ptr[i + 1]; ++k) {
                long slot = now - delays[k];
                if (slot < 0) slot += n_slot;
                for (int cv = 0; cv < ncv; ++cv) {
                    double xj = history[((slot * ncv + cv) * N + cols[k]) * B + b];
                    double xn = history[((now * ncv + cv) * N + i) * B + b];
                    c[cv] += weights[k] * (coupling == 0 ? xj : coupling == 1 ? xj - xn : sin(xj - xn));
                }
            }
            for (int cv = 0; cv < ncv; ++cv)
                c[cv] = coupling == 0 ? ca[b] * c[cv] + cb[b] : coupling == 1 ? ca[b] * c[cv] : ca[b] / ncv * c[cv];
            for (int sv = 0; sv < nsv; ++sv) { x[sv] = state[(sv * N + i) * B + b]; z[sv] = 0.0; }
            if (stochastic) {
                for (int pr = 0; pr < n_pairs; ++pr) {
                    double g0, g1;
                    normal_pair(keys[b], (u64)((t * N + i) * n_pairs + pr), &g0, &g1);
                    z[2 * pr] = g0;
                    if (2 * pr + 1 < nsv) z[2 * pr + 1] = g1;
                }
                for (int sv = 0; sv < nsv; ++sv) z[sv] = sqrt_dt * z[sv] * sigma[sv * B + b];
            }
            dfun(model, x, c, params + b, B, d1);
            for (int sv = 0; sv < nsv; ++sv) xi[sv] = fmin(fmax(x[sv] + dt * d1[sv] + z[sv], lo[sv]), hi[sv]);
            dfun(model, xi, c, params + b, B, d2);
            for (int sv = 0; sv < nsv; ++sv) {
                xi[sv] = fmin(fmax(x[sv] + (d1[sv] + d2[sv]) * dt / 2.0 + z[sv], lo[sv]), hi[sv]);
                state[(sv * N + i) * B + b] = (real)xi[sv];
            }
            for (int cv = 0; cv < ncv; ++cv) history[((slot_w * ncv + cv) * N + i) * B + b] = (real)xi[cvars[cv]];
            long sample = s / istep - skip;   /* the averaging window step s belongs to */
            for (int v = 0; v < nvoi; ++v) {
                if (sample >= 0 && sample < n_out)
                    out[((sample * nvoi + v) * N + i) * B + b] += (real)(xi[voi[v]] / istep);
            }
        }
    }
}
"""


#: NVRTC options: no fused multiply-add, so that results follow the CPU kernel's rounding
OPTIONS = ("--fmad=false",)


def kernel_source(real: str) -> str:
    """The CUDA source of ``heun_batch`` for states of C type ``real`` ("double"/"float")."""
    return _SOURCE.replace("REAL", real)


@lru_cache(maxsize=None)
def _kernel(real: str):
    import cupy

    return cupy.RawKernel(kernel_source(real), "heun_batch", options=OPTIONS)


def heun_batch_gpu(model, coupling, state, history, step0, n_steps, row_ptr, cols, weights, delays,
                   cvars, active, coupling_a, coupling_b, params, dt, sigma, keys, lo, hi, voi, istep,
                   skip, out):
    """Run the batch on the GPU; same arguments as ``batched_cpu.heun_batch`` (``active`` is
    not needed: the GPU gathers every coupling variable); returns the final state and the
    samples as numpy arrays."""
    import cupy

    real = "double" if state.dtype == np.float64 else "float"
    if state.shape[0] > 4 or len(cvars) > 2:
        raise ValueError("GPU kernel supports at most 4 state and 2 coupling variables")
    dev = [cupy.asarray(a) for a in (state, history, row_ptr, cols, weights, delays, cvars,
                                     coupling_a, coupling_b, params, sigma, keys, lo, hi, voi)]
    d_state, d_hist, d_rp, d_cols, d_w, d_del, d_cv, d_ca, d_cb, d_p, d_sig, d_keys, d_lo, d_hi, d_voi = dev
    d_out = cupy.zeros_like(cupy.asarray(out))
    nsv, n_node, n_inst = state.shape
    threads = 128
    _kernel(real)(((n_inst + threads - 1) // threads,), (threads,), (
        np.int32(model), np.int32(coupling), d_state, d_hist, np.int64(step0), np.int64(n_steps),
        d_rp, d_cols, d_w, d_del, d_cv, d_ca, d_cb, d_p, np.float64(dt), d_sig, d_keys, d_lo, d_hi,
        d_voi, np.int64(istep), np.int64(skip), d_out, np.int32(nsv), np.int32(len(cvars)),
        np.int32(len(voi)), np.int32(n_node), np.int32(history.shape[0]), np.int32(n_inst),
        np.int32(out.shape[0])))
    return cupy.asnumpy(d_state), cupy.asnumpy(d_out)
