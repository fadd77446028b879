"""The GPU kernel of a model, generated as CUDA C (compiled by cupy's NVRTC): one thread per instance.

It follows the generated CPU kernel (``codegen_cpu``) step for step: the same array layouts
(instances innermost, so neighbouring threads read neighbouring addresses), equations emitted
from the same AST (integer powers by the same squaring sequence as numba), Heun scheme, bounds,
sampling and counter-based noise, so a GPU run reproduces the CPU run up to the order of the
coupling sums (CSR order here) and libm differences in ``exp``/``sin``. It also holds
``random_history``, the device version of ``batched_cpu.random_history`` (same numbers), so
large batches never build their history on the host. Compiled with ``--fmad=false`` so that
products and sums round as on the CPU.
"""

from __future__ import annotations

from . import expr
from .codegen import Layout, layout, local
from .rateml import SUM, ModelSpec

#: NVRTC options: no fused multiply-add, so that results follow the CPU kernel's rounding
OPTIONS = ("--fmad=false",)

_PRELUDE = r"""
typedef REAL real;
typedef unsigned long long u64;
#define PI 3.141592653589793

__device__ __forceinline__ double ipow(double x, int n) {   /* numba's x ** n for a literal n */
    int e = n < 0 ? -n : n;
    double r = 1.0, v = x;
    while (e) { if (e & 1) r = r * v; e >>= 1; if (e) v = v * v; }
    return n < 0 ? 1.0 / r : r;
}

__device__ u64 mix64(u64 z) {                              /* as rng.mix64 */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

__device__ double log_unit(double u) {                     /* as rng.log_unit */
    long long bits = __double_as_longlong(u);
    long long e = (bits >> 52) - 1023;
    double m = __longlong_as_double((bits & 0x000FFFFFFFFFFFFFLL) | 0x3FF0000000000000LL);
    if (m > 1.4142135623730951) { m *= 0.5; e += 1; }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, p = 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0; p = p * s2 + 1.0 / 11.0; p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0; p = p * s2 + 1.0 / 5.0; p = p * s2 + 1.0 / 3.0; p = p * s2 + 1.0;
    return 2.0 * s * p + e * 0.6931471805599453;
}

__device__ double cos_pm_pi(double x) {                    /* as rng.cos_pm_pi */
    double h = 0.5 * x, h2 = h * h, p = 1.0 / 20922789888000.0;
    p = p * h2 - 1.0 / 87178291200.0; p = p * h2 + 1.0 / 479001600.0;
    p = p * h2 - 1.0 / 3628800.0; p = p * h2 + 1.0 / 40320.0; p = p * h2 - 1.0 / 720.0;
    p = p * h2 + 1.0 / 24.0; p = p * h2 - 0.5;
    double c = p * h2 + 1.0;
    return 2.0 * c * c - 1.0;
}

__device__ double uniform(u64 key, u64 counter) {          /* as rng.uniform */
    return (double)(mix64(key + 0x9E3779B97F4A7C15ULL * counter) >> 11) * 1.1102230246251565e-16;
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
"""


class _C:
    """Lines of C with an indentation level."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, *lines: str) -> "_C":
        for line in lines:
            self.lines.append("    " * self.depth + line if line else "")
        return self

    def open(self, line: str) -> "_C":
        self(line + " {")
        self.depth += 1
        return self

    def close(self, tail: str = "") -> "_C":
        self.depth -= 1
        self("}" + tail)
        return self


def _code(node: expr.Node, sums: str | None = None) -> str:
    return expr.to_c(node, lambda n: sums if n == SUM and sums else local(n))


def _loads(src: _C, needed: set[str], lay: Layout, *, x: str = "x", c: bool = False,
           pre: tuple[str, str] | None = None) -> None:
    spec = lay.spec
    for s, sv in enumerate(spec.state_variables):
        if sv in needed:
            src(f"const double {local(sv)} = {x}[{s}];")
    if c:
        for k, cp in enumerate(spec.couplings):
            if cp.name in needed:
                src(f"const double {local(cp.name)} = c[{k}];")
    if pre is not None and pre[0] in needed:
        src(f"const double {local(pre[0])} = {pre[1]};")
    for name, row in lay.qrows.items():
        if name in needed:
            src(f"const double {local(name)} = q[{row}];")


def _needed(nodes) -> set[str]:
    out: set[str] = set()
    for n in nodes:
        if n is not None:
            out |= expr.names(n)
    return out


def kernel_source(spec: ModelSpec, real: str = "double") -> str:
    """CUDA source of ``heun_batch`` and ``random_history`` for ``spec`` with states of C type
    ``real`` ("double" or "float"; arithmetic is double either way)."""
    lay = layout(spec)
    nh = max(len(lay.hist_rows), 1)
    src = _C()
    src(f"/* Generated by l2l_tvb.codegen_gpu from {spec.source} (model {spec.name}); do not edit. */")
    src(*_PRELUDE.replace("REAL", real).strip("\n").split("\n"))
    src(f"#define NSV {spec.nsv}", f"#define NC {max(len(spec.couplings), 1)}", f"#define NH {len(lay.hist_rows)}",
        f"#define NQ {max(lay.nq, 1)}", f"#define NP {lay.n_params}", "")
    # per-instance constants
    src.open("__device__ void derive(double *q, const double *params, long B, long b, double ca, double cb, "
             "double speed, double dt, double n_node)")
    src("for (int r = 0; r < NP; ++r) q[r] = params[r * B + b];")
    values = {"@a": "ca", "@b": "cb", "@speed": "speed", "@dt": "dt", "@n": "n_node"}
    for name in (n for n in lay.qrows if n.startswith("@")):
        src(f"const double {local(name)} = {values[name]};", f"q[{lay.qrows[name]}] = {local(name)};")
    for name in _needed(node for _, node in spec.derived):
        if name in lay.qrows and lay.qrows[name] < lay.n_params:
            src(f"const double {local(name)} = q[{lay.qrows[name]}];")
    for name, node in spec.derived:
        src(f"const double {local(name)} = {_code(node)};", f"q[{lay.qrows[name]}] = {local(name)};")
    src.close()("")
    # derivatives
    src.open("__device__ void dfun(const double *x, const double *c, const double *q, double *dx)")
    needed = _needed([*spec.derivatives, *(n for a in spec.assigns for case in a.cases for n in case)])
    _loads(src, needed, lay, c=True)
    for a in spec.assigns:
        if len(a.cases) == 1 and a.cases[0][0] is None:
            src(f"const double {local(a.name)} = {_code(a.cases[0][1])};")
            continue
        src(f"double {local(a.name)} = 0.0;")
        for i, (cond, value) in enumerate(a.cases):
            if cond is None:
                head = "else"
            else:
                test = _code(cond) if expr.is_boolean(cond) else f"({_code(cond)}) != 0.0"
                head = f"{'if' if i == 0 else 'else if'} ({test})"
            src(f"{head} {local(a.name)} = {_code(value)};")
    for s, node in enumerate(spec.derivatives):
        src(f"dx[{s}] = {_code(node)};")
    src.close()("")
    # couplings
    for h in lay.general_rows:
        cp = spec.couplings[lay.hist_rows[h]]
        src.open(f"__device__ double pre_{h}(double hj, const double *x, const double *q)")
        _loads(src, expr.names(cp.pre), lay, pre=(cp.pre_name, "hj"))
        src(f"return {_code(cp.pre)};").close()("")
    src.open("__device__ void combine(double *c, const double *x, const double *q)")
    for k, cp in enumerate(spec.couplings):
        if cp.source is None:
            src(f"c[{k}] = 0.0;")
            continue
        src.open("")
        _loads(src, expr.names(cp.combine) - {SUM}, lay)
        src(f"c[{k}] = {_code(cp.combine, sums=f'c[{k}]')};").close()
    src.close()("")
    # observables
    src.open("__device__ double observe(long which, const double *xi)")
    for v, (name, node) in enumerate(spec.observables):
        src.open(f"if (which == {v})")
        if isinstance(node, expr.Name) and node.id in spec.state_variables:
            src(f"return xi[{spec.state_variables.index(node.id)}];")
        else:
            _loads(src, expr.names(node), lay, x="xi")
            src(f"return {_code(node)};")
        src.close()
    src("return 0.0;").close()("")
    _heun(src, lay, nh)
    _random_history(src)
    return "\n".join(src.lines) + "\n"


def _heun(src: _C, lay: Layout, nh: int) -> None:
    spec = lay.spec
    src.open('extern "C" __global__ void heun_batch(\n'
             "    real *state, real *history, long step0, long n_steps, const long *row_ptr, const long *cols,\n"
             "    const double *weights, const long *delays, const unsigned char *active, const double *ca,\n"
             "    const double *cb, const double *params, double speed, double dt, const double *sigma,\n"
             "    const u64 *keys, const long *voi, long istep, long skip, real *out, int n_node, int n_slot,\n"
             "    int n_inst, int n_out, int nvoi)")
    src("const long b = (long)blockIdx.x * blockDim.x + threadIdx.x;", "if (b >= n_inst) return;",
        "const long N = n_node, B = n_inst;",
        "double q[NQ], x[NSV], xi[NSV], d1[NSV], d2[NSV], z[NSV + 1], c[NC];",
        "derive(q, params, B, b, ca[b], cb[b], speed, dt, (double)n_node);",
        "bool stochastic = false;", "for (int sv = 0; sv < NSV; ++sv) stochastic |= sigma[sv * B + b] != 0.0;",
        "const int n_pairs = (NSV + 1) / 2;", "const double sqrt_dt = sqrt(dt);", "const u64 key = keys[b];")
    src.open("for (long s = 0; s < n_steps; ++s)")
    src("const long t = step0 + 1 + s, now = (t - 1) % n_slot, slot_w = t % n_slot;",
        "const long sample = s / istep - skip;   /* the averaging window step s belongs to */")
    src.open("for (long i = 0; i < N; ++i)")
    src("for (int sv = 0; sv < NSV; ++sv) { x[sv] = state[(sv * N + i) * B + b]; z[sv] = 0.0; }")
    for k, cp in enumerate(spec.couplings):
        src(f"c[{k}] = 0.0;")
    for h, k in enumerate(lay.hist_rows):
        cp = spec.couplings[k]
        src.open(f"if (active[{h}])")
        src.open("for (long m = row_ptr[i]; m < row_ptr[i + 1]; ++m)")
        src("long slot = now - delays[m];", "if (slot < 0) slot += n_slot;",
            f"const double hj = history[((slot * NH + {h}) * N + cols[m]) * B + b];")
        src(f"c[{k}] += weights[m] * hj;" if cp.linear else f"c[{k}] += weights[m] * pre_{h}(hj, x, q);")
        src.close().close()
    src("combine(c, x, q);")
    src.open("if (stochastic)")
    src.open("for (int pr = 0; pr < n_pairs; ++pr)")
    src("double g0, g1;", "normal_pair(key, (u64)((t * N + i) * n_pairs + pr), &g0, &g1);",
        "z[2 * pr] = g0;", "if (2 * pr + 1 < NSV) z[2 * pr + 1] = g1;")
    src.close()
    src("for (int sv = 0; sv < NSV; ++sv) z[sv] = sqrt_dt * z[sv] * sigma[sv * B + b];")
    src.close()
    src("/* Heun: predictor, bounds, corrector, bounds (TVB's HeunStochastic/Deterministic) */",
        "dfun(x, c, q, d1);", "for (int sv = 0; sv < NSV; ++sv) xi[sv] = x[sv] + dt * d1[sv] + z[sv];")
    _bounds(src, spec)
    src("dfun(xi, c, q, d2);",
        "for (int sv = 0; sv < NSV; ++sv) xi[sv] = x[sv] + (d1[sv] + d2[sv]) * dt / 2.0 + z[sv];")
    _bounds(src, spec)
    src("for (int sv = 0; sv < NSV; ++sv) state[(sv * N + i) * B + b] = (real)xi[sv];")
    for h, k in enumerate(lay.hist_rows):
        src(f"history[((slot_w * NH + {h}) * N + i) * B + b] = (real)xi[{spec.couplings[k].source}];")
    src.open("if (sample >= 0 && sample < n_out)")
    src.open("for (int v = 0; v < nvoi; ++v)")
    src("real *o = out + ((sample * nvoi + v) * N + i) * B + b;",
        "double acc = (s % istep == 0 ? 0.0 : (double)*o) + observe(voi[v], xi);",
        "*o = (real)((s + 1) % istep == 0 ? acc / istep : acc);")
    src.close().close()
    src.close().close().close()("")


def _bounds(src: _C, spec: ModelSpec) -> None:
    for s in range(spec.nsv):
        lo, hi = spec.lower[s], spec.upper[s]
        if lo != float("-inf"):
            src(f"if (xi[{s}] < {expr._c_double(lo)}) xi[{s}] = {expr._c_double(lo)};")
        if hi != float("inf"):
            src(f"if (xi[{s}] > {expr._c_double(hi)}) xi[{s}] = {expr._c_double(hi)};")


def _random_history(src: _C) -> None:
    src.open('extern "C" __global__ void random_history(\n'
             "    real *history, real *state, const u64 *keys, const long *cvars, const double *low,\n"
             "    const double *high, const double *lo, const double *hi, int n_slot, int n_node, int n_inst)")
    src("/* as batched_cpu.random_history: slots 0..n_slot-2 and the state, uniform in [low, high), clipped */",
        "const long b = (long)blockIdx.x * blockDim.x + threadIdx.x;", "if (b >= n_inst) return;",
        "const long N = n_node, B = n_inst;", "const u64 key = mix64(keys[b] ^ 0x5DEECE66DULL);", "u64 ctr = 0;")
    src.open("for (long t = 0; t < n_slot - 1; ++t)")
    src.open("for (int h = 0; h < NH; ++h)")
    src("const long sv = cvars[h];")
    src.open("for (long i = 0; i < N; ++i)")
    src("ctr += 1;", "double v = low[sv] + (high[sv] - low[sv]) * uniform(key, ctr);",
        "history[((t * NH + h) * N + i) * B + b] = (real)fmin(fmax(v, lo[sv]), hi[sv]);")
    src.close().close().close()
    src.open("for (int sv = 0; sv < NSV; ++sv)")
    src.open("for (long i = 0; i < N; ++i)")
    src("ctr += 1;", "double v = low[sv] + (high[sv] - low[sv]) * uniform(key, ctr);",
        "v = fmin(fmax(v, lo[sv]), hi[sv]);", "state[(sv * N + i) * B + b] = (real)v;",
        "for (int h = 0; h < NH; ++h) if (cvars[h] == sv) history[(((n_slot - 2) * NH + h) * N + i) * B + b] = (real)v;")
    src.close().close().close()
