"""Throughput of the l2l-tvb batched engine against tvb-library and vbjax, with each configuration's
fraction of the machine's roofline; writes bench/results/tvb.md and tvb.summary.json.

Throughput: instance·s/s = instances x simulated seconds per wall-clock second. dt 0.1 ms,
stochastic Heun (nsig 1e-3 on every state variable), conduction speed 3 mm/ms, float64.
  A. Generic2dOscillator (generated from l2l-tvb's RateML description of TVB's class, Linear
     coupling a = 0.0042, 1-ms temporal averages recorded) on tvb-data's 76-, 96- and
     192-region connectomes at 1, 16, 64, 256 and 1,024 instances, against tvb-library itself
     (the same model, coupling, integrator, noise and monitor; one instance after another,
     measured live at each size).
  B. Montbrió–Pazó–Roxin against vbjax at 256 instances (76 regions), with conduction delays and
     without: vbjax in each layout it documents or allows (see vbjax_runs), its fastest one in
     the table.
  C. Every RateML model at 76 regions and 256 instances (--quick: half the steps), each with a
     profile by subtraction as in D.
  D. Where the time goes (Generic2dOscillator, 256 instances, each size): the share of the
     coupling gather, the noise and the rest, by subtracting runs without them.
Roofline (per instance and step): FLOPs counted from the generated kernel's expressions
(coupling multiply-adds per connection, equations twice per Heun step, the Heun update, the
noise's Box–Muller) and bytes it must move (one delayed state per connection and coupled
variable — the sparse matrix-vector product's stream, as if the delay history came from
memory — plus state, history and output writes), against the machine's float64 FLOP peak
estimate and its measured triad bandwidth (bench/machine.py): attainable = min(peak / FLOPs,
bandwidth / bytes). Above 100 % means the delayed states came from cache.
Usage: python bench/tvb.py [--quick]   (part B needs pip install -r bench/requirements-tvb.txt)
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time

import numpy as np
from _paths import HERE as _HERE  # first: keeps this folder (tvb.py) from shadowing tvb-library

import summary  # noqa: E402
from machine import Machine  # noqa: E402

from l2l_tvb.batched import as_spec, csr, simulate  # noqa: E402
from l2l_tvb.codegen import coupling_flops, dfun_flops, layout  # noqa: E402
from l2l_tvb.connectome import load_connectome  # noqa: E402
from l2l_tvb.rateml import builtin_models, rateml_models  # noqa: E402
from l2l_tvb.tvb_engine import simulate_tvb  # noqa: E402

QUICK = "--quick" in sys.argv
DT, SPEED, NSIG, ISTEP = 0.1, 3.0, 1e-3, 10
G2D_A = 0.0042
MPR_K = 0.002
REGIONS = (76, 96, 192)
INSTANCES = (1, 16, 64, 256, 1024)
STEPS = 500 if QUICK else 2000            # batched engine: 0.05 / 0.2 s simulated per instance
TVB_STEPS = 500 if QUICK else 1000        # tvb-library: 0.05 / 0.1 s per run
VB_STEPS = 300 if QUICK else 1000         # vbjax keeps every step (and its noise) in memory
#: vbjax with delays gathers the dense delayed state every step (~0.06 instance·s/s on 2 cores:
#: 1000 steps of 256 instances would take ~7 minutes per layout)
VB_DELAY_STEPS = 100
REPEATS = 1 if QUICK else 2
#: noise-free-safe settings of the RateML models for part C (as in the cross-validation)
RATEML_SETTINGS: dict[str, dict] = {
    "rateml:kuramoto": dict(params={"omega": 0.01}, state_range={"V": (-1.5, 0.5)}),
    # y1 <= -0.5: from y1 near 0 tvb-contrib's epileptor.xml (and RateML's own model) blows up
    # (tests/tvb/test_tvb_crossval.py::test_xml_epileptor_diverges_as_ratemls_own_model_does)
    "rateml:epileptor": dict(params={"Iext": 5.0}, state_range={"x1": (0.5, 1.0), "y1": (-3.0, -0.5),
                                                                "z": (2.5, 3.5), "x2": (-1.0, 0.0),
                                                                "y2": (0.0, 1.0), "g": (-0.2, 0.2)}),
    "rateml:montbrio": dict(state_range={"r": (0.0, 0.2), "V": (-2.2, -1.8)}),
    "MontbrioPazoRoxin": dict(state_range={"r": (0.0, 0.2), "V": (-2.2, -1.8)}),
}


# -- roofline ----------------------------------------------------------------------------------
def per_step_counts(spec, nnz: int, n_node: int, active_rows: int, nvoi: int = 1) -> tuple[float, float]:
    """(FLOPs, bytes) one instance needs per step (float64; stochastic Heun). ``active_rows``:
    the history rows (coupled variables) some instance uses; the delay ring holds one row per
    separable term of their couplings (codegen.layout)."""
    lay = layout(spec)
    per_conn, per_node_c = coupling_flops(spec)
    share = active_rows / max(len(lay.hist_rows), 1)
    per_conn = per_conn * share
    ring_rows = len(lay.ring) * share
    noise = ((spec.nsv + 1) // 2) * 55 + 2 * spec.nsv          # Box-Muller pairs, scaling
    heun = 10 * spec.nsv                                         # predictor 3, corrector 5, noise 2
    flops = nnz * per_conn + n_node * (per_node_c + 2 * dfun_flops(spec) + heun + noise + nvoi)
    bytes_ = 8 * (nnz * ring_rows + n_node * (2 * spec.nsv + len(lay.ring) + nvoi))
    return flops, bytes_


def roofline(machine: Machine, flops: float, bytes_: float) -> tuple[float, str]:
    """(attainable instance·s/s, what bounds it)."""
    t_flop = flops / (machine.peak_gflops * 1e9)
    t_mem = bytes_ / (machine.bandwidth_gbs * 1e9)
    return DT / 1000.0 / max(t_flop, t_mem), ("memory" if t_mem > t_flop else "compute")


# -- runs --------------------------------------------------------------------------------------
def batched_rate(spec, conn, n: int, steps: int, a: float, speed: float = SPEED, dtype: str = "float64",
                 diverged: list[int] | None = None, nsig: float = NSIG, **kw) -> float:
    """Best instance·s/s of REPEATS runs (after a short run that compiles and warms). A run
    with non-finite samples is an error, unless ``diverged`` is given: then the number of
    instances that diverged is appended to it."""
    simulate(spec, conn, 20, list(range(n)), coupling_a=a, speed=speed, dt=DT, nsig=nsig, istep=ISTEP,
             dtype=dtype, **kw)
    best = 0.0
    for _ in range(REPEATS):
        t = time.perf_counter()
        r = simulate(spec, conn, steps, list(range(n)), coupling_a=a, speed=speed, dt=DT, nsig=nsig, istep=ISTEP,
                     dtype=dtype, **kw)
        best = max(best, n * steps * DT / 1000.0 / (time.perf_counter() - t))
        bad = int((~np.isfinite(r.samples)).any(axis=(0, 1, 2)).sum())
        if diverged is None:
            assert not bad, "batched run diverged"
    if diverged is not None:
        diverged.append(bad)
    return best


def tvb_rate(conn, model: str = "Generic2dOscillator", a: float = G2D_A) -> float:
    """tvb-library's instance·s/s: the same model, Linear coupling, HeunStochastic, noise and
    1-ms temporal averages, one run after another (best of REPEATS after a warm-up)."""
    simulate_tvb(conn, model, 20, 0, coupling_params={"a": a}, dt=DT, nsig=NSIG, speed=SPEED)
    best = 0.0
    for seed in range(REPEATS):
        t = time.perf_counter()
        simulate_tvb(conn, model, TVB_STEPS, seed + 1, coupling_params={"a": a}, speed=SPEED,
                     integrator="HeunStochastic", dt=DT, nsig=NSIG, monitor="TemporalAverage", period=ISTEP * DT)
        best = max(best, TVB_STEPS * DT / 1000.0 / (time.perf_counter() - t))
    return best


def part_a(machine: Machine, lines: list[str]) -> dict:
    spec = as_spec("Generic2dOscillator")
    lines += ["## A. Generic2dOscillator at every size: l2l-tvb against tvb-library", "",
              "Both live in this run: tvb-library 2.10 one instance after another; the batched engine's generated "
              f"kernel (numba, {os.environ.get('NUMBA_NUM_THREADS', machine.cores)} threads). Roofline: see the "
              "header of bench/tvb.py.", "",
              "| regions | instances | instance·s/s | × tvb-library | GFLOP/s | GB/s | roofline instance·s/s (bound) "
              "| % of roofline |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    res: dict = {}
    for n_reg in REGIONS:
        conn = load_connectome(n_reg)
        nnz = len(csr(conn, SPEED, DT)[1])
        tvb = tvb_rate(conn)
        res[(n_reg, "tvb")] = tvb
        flops, bytes_ = per_step_counts(spec, nnz, n_reg, 1)
        roof, bound = roofline(machine, flops, bytes_)
        for n in INSTANCES:
            rate = batched_rate(spec, conn, n, STEPS, G2D_A)
            steps_s = rate * 1000.0 / DT
            res[(n_reg, n)] = (rate, rate / roof)
            lines.append(f"| {n_reg} | {n} | {rate:.2f} | {rate / tvb:.0f}× | {flops * steps_s / 1e9:.1f} | "
                         f"{bytes_ * steps_s / 1e9:.1f} | {roof:.0f} ({bound}) | {100 * rate / roof:.0f} % |")
            print(lines[-1], flush=True)
        lines.append(f"| {n_reg} | tvb-library | {tvb:.3f} | 1× | | | | |")
        print(lines[-1], flush=True)
    lines += ["", "Per instance and step: " + "; ".join(
        f"{n} regions {len(csr(load_connectome(n), SPEED, DT)[1])} connections, "
        f"{per_step_counts(spec, len(csr(load_connectome(n), SPEED, DT)[1]), n, 1)[0]:.0f} FLOPs, "
        f"{per_step_counts(spec, len(csr(load_connectome(n), SPEED, DT)[1]), n, 1)[1] / 1e3:.1f} kB, "
        f"delay history {csr(load_connectome(n), SPEED, DT)[-1]} steps" for n in REGIONS) + ".", ""]
    return res


# -- vbjax -------------------------------------------------------------------------------------
def vbjax_runs(conn, n_inst: int, steps: int, delays: bool) -> dict[str, tuple[float, float]]:
    """vbjax's MPR network, every layout tried: {layout: (instance·s/s with its noise drawn,
    instance·s/s of the integration alone)}. vbjax's integrators take the noise as an input
    array, drawn with jax.random beforehand; the batched engine draws its noise in the kernel,
    so equal work is noise + integration.

    With delays (make_sdde; vbjax's delay history is the buffer it integrates into):
      vmap-dense: jax.vmap over instances of vbjax's delay_apply (a dense n x n gather per step);
      batch-last-dense: one simulation whose arrays carry the instances as their last axis, the
        same dense gather, so each gathered element is a contiguous run of instances;
      batch-last-sparse: the same layout gathering only the nonzero connections (COO, as
        vbjax.sparse's scatter-gather SpMV) and summing them per target with segment_sum.
    Without delays (make_sde): vmap of vbjax's own network form (W @ r per instance), and the
    batch-last layout, where the coupling is one matrix product W @ r[:, instances].
    Only r is gathered (cv = 0 in both engines: the V coupling has weight 0)."""
    import jax
    import jax.numpy as jnp
    import vbjax as vb

    theta = vb.mpr_default_theta
    sigma = float(np.sqrt(2 * NSIG))
    n = conn.n_regions
    W = jnp.array(conn.weights)
    lags = np.rint(conn.tract_lengths / SPEED / DT).astype(np.int32)
    nh = int(lags.max()) + 1
    rows, cols = np.nonzero(conn.weights)

    def timed(make_inputs, run) -> tuple[float, float]:
        jax.block_until_ready(run(*make_inputs(jax.random.PRNGKey(0))))      # compile both
        t0 = time.perf_counter()
        args = jax.block_until_ready(make_inputs(jax.random.PRNGKey(1)))
        t1 = time.perf_counter()
        out = jax.block_until_ready(run(*args))
        t2 = time.perf_counter()
        assert not bool(jnp.isnan(out).any()), "vbjax run diverged"
        work = n_inst * steps * DT / 1000.0
        return work / (t2 - t0), work / (t2 - t1)

    out = {}
    k = jnp.full((n_inst,), MPR_K)
    if delays:
        def buffer(key, shape):
            buf = jax.random.normal(key, shape)
            return buf.at[:nh + 1, 0].set(0.1).at[:nh + 1, 1].set(-2.0)

        # vmap of vbjax's own delay helper (dense gather, instances first)
        dh = vb.make_delay_helper(W, jnp.array((lags + 0.5) * SPEED * DT), dt=DT, v_c=SPEED)

        def dfun_v(buf, rv, t, kk):
            cr = (dh.Wt[..., 0].T * buf[t - dh.lags, 0, dh.ix_lag_from]).sum(axis=1)
            return vb.mpr_dfun(rv, (kk * cr, 0.0), theta)
        _, loop_v = vb.make_sdde(DT, nh, dfun_v, sigma)
        run_v = jax.jit(jax.vmap(lambda buf, kk: loop_v(buf, kk)[1]))
        out["vmap-dense"] = timed(lambda key: (jax.vmap(lambda kk: buffer(kk, (nh + 1 + steps, 2, n)))(
            jax.random.split(key, n_inst)), k), run_v)
        # instances as the last axis, dense gather
        lag_j, ix_j = jnp.array(lags), jnp.tile(jnp.arange(n), (n, 1))

        def dfun_d(buf, rv, t, kk):
            cr = jnp.einsum("ij,ijb->ib", W, buf[t - lag_j, 0, ix_j])
            return vb.mpr_dfun(rv, (kk * cr, 0.0), theta)
        _, loop_d = vb.make_sdde(DT, nh, dfun_d, sigma)
        run_d = jax.jit(lambda buf, kk: loop_d(buf, kk)[1])
        out["batch-last-dense"] = timed(lambda key: (buffer(key, (nh + 1 + steps, 2, n, n_inst)), k), run_d)
        # instances last, sparse gather of the nonzero connections
        r_j, c_j = jnp.array(rows), jnp.array(cols)
        w_j, l_j = jnp.array(conn.weights[rows, cols]), jnp.array(lags[rows, cols])

        def dfun_s(buf, rv, t, kk):
            terms = w_j[:, None] * buf[t - l_j, 0, c_j]
            cr = jax.ops.segment_sum(terms, r_j, num_segments=n)
            return vb.mpr_dfun(rv, (kk * cr, 0.0), theta)
        _, loop_s = vb.make_sdde(DT, nh, dfun_s, sigma)
        run_s = jax.jit(lambda buf, kk: loop_s(buf, kk)[1])
        out["batch-last-sparse"] = timed(lambda key: (buffer(key, (nh + 1 + steps, 2, n, n_inst)), k), run_s)
    else:
        def dfun_v(x, kk):
            return vb.mpr_dfun(x, (kk * (W @ x[0]), 0.0), theta)
        _, loop_v = vb.make_sde(DT, dfun_v, sigma)
        run_v = jax.jit(jax.vmap(lambda x0, zs, kk: loop_v(x0, zs, kk)))
        x0 = jnp.tile(jnp.array([0.1, -2.0])[None, :, None], (n_inst, 1, n))
        out["vmap"] = timed(lambda key: (x0, jax.random.normal(key, (n_inst, steps, 2, n)), k), run_v)

        def dfun_b(x, kk):
            return vb.mpr_dfun(x, (kk * (W @ x[0]), 0.0), theta)
        _, loop_b = vb.make_sde(DT, dfun_b, sigma)
        run_b = jax.jit(lambda x0, zs, kk: loop_b(x0, zs, kk))
        xb = jnp.tile(jnp.array([0.1, -2.0])[:, None, None], (1, n, n_inst))
        out["batch-last"] = timed(lambda key: (xb, jax.random.normal(key, (steps, 2, n, n_inst)), k), run_b)
    return out


def part_b(lines: list[str]) -> dict:
    conn = load_connectome(76)
    spec = as_spec("MontbrioPazoRoxin")
    n_inst = 256
    lines += ["## B. Montbrió–Pazó–Roxin against vbjax, 76 regions, 256 instances", ""]
    try:
        import jax
    except ImportError:
        jax = None
    if jax is None or importlib.util.find_spec("vbjax") is None:
        lines += ["vbjax is not installed (pip install -r bench/requirements-tvb.txt): part B skipped.", ""]
        print(lines[-2])
        return {}
    lines += [f"vbjax {_version('vbjax')} (jax {_version('jax')}, CPU), MPR with vbjax's default parameters "
              "(J 15, eta -5, Delta 1, cr 1, cv 0) in both engines, Linear coupling k = "
              f"{MPR_K}, noise sqrt(2·{NSIG}) on r and V. vbjax's integrators take their noise as an input array "
              "drawn beforehand; the batched engine draws it inside its kernel. *Equal work* is vbjax's noise + "
              "integration (× column); its integration alone is in brackets. Every vbjax layout tried (see "
              "`vbjax_runs` in bench/tvb.py), in float32 (jax's default) and, for the fastest, in float64; "
              "the batched engine in float64.", "",
              "| delays | vbjax layout | dtype | vbjax inst·s/s (noise + integration) | integration alone | "
              "batched f64 inst·s/s | × vbjax [× integration alone] |", "|---|---|---|---:|---:|---:|---:|"]
    res = {}
    for delays, speed in ((False, 1e9), (True, SPEED)):
        ours = batched_rate(spec, conn, n_inst, STEPS, MPR_K, speed=speed,
                            state_range=RATEML_SETTINGS["MontbrioPazoRoxin"]["state_range"])
        vb_steps = VB_DELAY_STEPS if delays else VB_STEPS
        runs = {f"{name} f32": r for name, r in vbjax_runs(conn, n_inst, vb_steps, delays).items()}
        best = max(runs, key=lambda name: runs[name][0])
        jax.config.update("jax_enable_x64", True)
        try:
            runs[best.replace("f32", "f64")] = vbjax_runs(conn, n_inst, vb_steps, delays)[best.split()[0]]
        finally:
            jax.config.update("jax_enable_x64", False)
        for name, (total, integ) in runs.items():
            layout_name, dt_name = name.split()
            lines.append(f"| {'speed 3 mm/ms' if delays else 'none'} | {layout_name} | {dt_name} | {total:.2f} | "
                         f"{integ:.2f} | {ours:.1f} | {ours / total:.1f}× [{ours / integ:.1f}×] |")
            print(lines[-1], flush=True)
        fastest = max(runs, key=lambda name: runs[name][0])
        res[delays] = (ours, fastest, runs[fastest])
    lines.append("")
    return res


def part_c(machine: Machine, lines: list[str]) -> None:
    conn = load_connectome(76)
    n_inst = 256
    nnz = len(csr(conn, SPEED, DT)[1])
    lines += ["## C. Every RateML model, 76 regions, 256 instances", "",
              "Generated kernels of the TVB models l2l-tvb ships as RateML XML and of tvb-contrib's RateML models "
              "(own couplings; settings as in the cross-validation where the defaults diverge; rateml:epileptor "
              "starts with y1 in [-3, -0.5]: from y1 near 0 its XML, like RateML's own model, blows up). The "
              "kernels evaluate exp, sin, cos and erfc with l2l_tvb.vmath (vectorised; counted as 20 FLOPs a "
              "call, as every library function). Where the time goes: a profile by subtraction as in part D "
              "(coupling gather / noise / equations, update and writes); *equations alone* is the rate of the "
              "run without coupling and noise, the ceiling the model's own equations leave. The last column "
              "counts instances whose run went non-finite (the kernel's speed is measured all the same).", "",
              "| model | state variables | FLOPs / instance-step | instance·s/s | roofline (bound) | % of roofline "
              "| time: coupling / noise / equations | equations alone inst·s/s (% of roofline) | diverged |",
              "|---|---:|---:|---:|---:|---:|---|---:|---:|"]
    for model in [*builtin_models(), *(f"rateml:{m}" for m in rateml_models() if m != "zerlaut")]:
        spec = as_spec(model)
        cfg = RATEML_SETTINGS.get(model, {})
        values = {**spec.defaults(), **cfg.get("params", {})}
        active = int(spec.active({k: np.array([v]) for k, v in values.items()}).sum())
        flops, bytes_ = per_step_counts(spec, nnz, 76, active)
        roof, bound = roofline(machine, flops, bytes_)
        diverged: list[int] = []
        rate = batched_rate(spec, conn, n_inst, STEPS // 2, 0.002, diverged=diverged, **cfg)
        sh = shares(spec, conn, n_inst, STEPS // 2, 0.002, rate, **cfg)
        lines.append(f"| {model} | {spec.nsv} | {flops:.0f} | {rate:.1f} | {roof:.0f} ({bound}) "
                     f"| {100 * rate / roof:.0f} % | {100 * sh['coupling']:.0f} / {100 * sh['noise']:.0f} / "
                     f"{100 * sh['rest']:.0f} % | {sh['bare']:.1f} ({100 * sh['bare'] / roof:.0f} %) "
                     f"| {diverged[0]} of {n_inst} |")
        print(lines[-1], flush=True)
    lines.append("")


def shares(spec, conn, n: int, steps: int, a: float, full: float, **kw) -> dict[str, float]:
    """A profile by subtraction (the same kernel and inputs): beside the full stochastic run's
    rate ``full``, the run without the coupling gather (every coupling row switched off, as the
    kernel does for a coupling no instance uses) and the one without coupling and noise (the
    deterministic kernel): the shares of the full run's time, and the bare rate."""
    from l2l_tvb.rateml import ModelSpec

    original = ModelSpec.active
    ModelSpec.active = lambda self, values: np.zeros(len(self.gates()), dtype=np.bool_)
    try:
        uncoupled = batched_rate(spec, conn, n, steps, a, diverged=[], **kw)
        bare = batched_rate(spec, conn, n, steps, a, diverged=[], nsig=0.0, **kw)
    finally:
        ModelSpec.active = original
    t_full, t_unc, t_bare = 1 / full, 1 / uncoupled, 1 / bare
    return {"coupling": (t_full - t_unc) / t_full, "noise": (t_unc - t_bare) / t_full, "rest": t_bare / t_full,
            "bare": bare}


def part_d(lines: list[str]) -> dict:
    """Where the time goes (a profile by subtraction, the same kernel and inputs): the full
    stochastic run; without the coupling gather (every coupling row switched off, as the
    kernel does for a coupling no instance uses); and without the noise (the deterministic
    kernel). Generic2dOscillator, 256 instances, float64."""
    spec = as_spec("Generic2dOscillator")
    lines += ["## D. Where the time goes: Generic2dOscillator, 256 instances, float64", "",
              "Profile by subtraction (same kernel, inputs and step count; best of "
              f"{REPEATS} after a warm-up): the coupling gather is full minus the run with every coupling row "
              "switched off (the kernel skips a coupling no instance uses); the noise is full minus the "
              "deterministic kernel (no Box–Muller); the rest (equations for both Heun stages, the update, the "
              "state/history/output writes, the loop overhead) is the run without coupling and noise.", "",
              "| regions | connections | full inst·s/s | coupling gather | noise | equations, update, writes |",
              "|---:|---:|---:|---:|---:|---:|"]
    res = {}
    for n_reg in REGIONS:
        conn = load_connectome(n_reg)
        nnz = len(csr(conn, SPEED, DT)[1])
        full = batched_rate(spec, conn, 256, STEPS, G2D_A)
        share = shares(spec, conn, 256, STEPS, G2D_A, full)
        res[n_reg] = share
        lines.append(f"| {n_reg} | {nnz} | {full:.2f} | {100 * share['coupling']:.0f} % | {100 * share['noise']:.0f} % "
                     f"| {100 * share['rest']:.0f} % |")
        print(lines[-1], flush=True)
    lines.append("")
    return res


def part_e(machine: Machine, a: dict, lines: list[str]) -> None:
    """What limits the configurations of part A below 30 % of their roofline, measured: how
    many cores the batch's blocks keep busy, the cycles each busy core spends per node and
    instance-step (against the same figure at 256 instances), and the noise's share (the
    deterministic kernel's rate beside the stochastic one's)."""
    from l2l_tvb.batched import PAD_TO, lanes_for, threads

    spec = as_spec("Generic2dOscillator")
    low = [(n_reg, n) for n_reg in REGIONS for n in INSTANCES if a[(n_reg, n)][1] < 0.3]
    if not low:
        return
    n_thr = threads()
    lines += ["## E. What limits the configurations below 30 % of roofline", "",
              "Generic2dOscillator as in part A. Busy cores: blocks of instances the batch is split into (one "
              f"thread each, at most {n_thr}). Cycles per node and instance-step: busy cores x "
              f"{machine.ghz:.2f} GHz / (instance-steps per s x regions), beside the same figure at 256 instances "
              "(where every core is busy and the lane loops run whole vectors). Noise share: 1 - stochastic / "
              "deterministic rate (best of the runs, after a warm-up).", "",
              "| regions | instances | % of roofline | blocks x lanes | busy cores | cycles per node and instance-step "
              "(256 instances) | noise share | limit |", "|---:|---:|---:|---|---:|---:|---:|---|"]
    for n_reg, n in low:
        conn = load_connectome(n_reg)
        horizon = csr(conn, SPEED, DT)[-1]
        lanes = lanes_for(n, n_reg, horizon + 1, n_thr)
        n_run = n if n < 8 else n + (-n % min(lanes, PAD_TO))
        blocks = -(-n_run // lanes)
        busy = min(n_thr, blocks)
        rate, frac = a[(n_reg, n)]
        det = batched_rate(spec, conn, n, STEPS, G2D_A, nsig=0.0)
        cyc = busy * machine.ghz * 1e9 / (rate * 1000.0 / DT * n_reg)
        cyc256 = n_thr * machine.ghz * 1e9 / (a[(n_reg, 256)][0] * 1000.0 / DT * n_reg)
        noise = max(0.0, 1.0 - rate / det)
        why = []
        if busy < n_thr:
            why.append(f"{n_thr - busy} of {n_thr} cores idle ({blocks} block{'s' if blocks > 1 else ''}: an instance "
                       "runs on one core)")
        if lanes == 1:
            why.append(f"one instance per block (its kernel vectorises across nodes): {cyc / cyc256:.1f}x the cycles "
                       "per node and instance of 256 instances")
        elif lanes < 16:
            why.append(f"lane loop of {lanes}: {cyc / cyc256:.1f}x the cycles per node and instance of 256 instances")
        lines.append(f"| {n_reg} | {n} | {100 * frac:.0f} % | {blocks} x {lanes} | {busy} | {cyc:.0f} ({cyc256:.0f}) | "
                     f"{100 * noise:.0f} % | {'; '.join(why) or 'per-block overhead'} |")
        print(lines[-1], flush=True)
    lines.append("")


def _version(pkg: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return "not installed"


def main() -> None:
    machine = Machine.measure(["l2l-tvb", "numba", "tvb-library", "tvb-contrib", "vbjax", "jax"])
    lines = ["# l2l-tvb benchmark", ""]
    body: list[str] = []
    a = part_a(machine, body)
    b = part_b(body)
    part_c(machine, body)
    part_d(body)
    part_e(machine, a, body)
    machine.finish()
    command = f"python bench/tvb.py{' --quick' if QUICK else ''}"
    lines += machine.markdown() + ["", "The machine is shared: the load average is printed above; every comparison "
                                   "is measured side by side in this run.", ""] + body
    lines += [f"Command: `{command}`.", ""]
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(_HERE, "results", "tvb.md"), "w") as fh:
        fh.write(text)
    rows = [{"what": f"TVB Generic2dOscillator, {n} regions, 256 instances, float64 (instance·s/s)",
             "l2l": f"{a[(n, 256)][0]:.1f} ({a[(n, 256)][0] / a[(n, 'tvb')]:.0f}× tvb-library; "
                    f"{100 * a[(n, 256)][1]:.0f} % of roofline)",
             "reference": f"tvb-library {a[(n, 'tvb')]:.2f} (goal ≥ {100 if n == 76 else 60}×)"} for n in (76, 192)]
    for delays in (False, True):
        if delays in b:
            ours, name, (total, integ) = b[delays]
            rows.append({"what": f"MPR vs vbjax, 76 regions, 256 instances, {'with' if delays else 'without'} delays "
                                 "(instance·s/s)",
                         "l2l": f"{ours:.1f} ({ours / total:.1f}× vbjax; {ours / integ:.1f}× its integration alone)",
                         "reference": f"vbjax {total:.2f} ({name}, fastest layout tried)"})
    summary.write("tvb", command, machine.markdown()[0], rows)


if __name__ == "__main__":
    main()
