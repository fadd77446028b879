"""Throughput of the l2l-tvb batched engine vs tvb-library and vbjax; writes bench/results/tvb.md.

Throughput = (instances x simulated seconds) per wall-clock second, 76-region tvb-data
connectome, dt = 0.1 ms, Heun with additive noise (HeunStochastic).
  A. Generic2dOscillator: tvb-library (instances one after another) vs the batched engine
     (numba CPU kernel) for 1, 16, 64, 256 instances, float64 and float32.
  B. Montbrio-Pazo-Roxin: vbjax (float32, jax.vmap over instances) vs the batched engine, with
     the conduction delays (speed 3 mm/ms: vbjax make_sdde + delay_apply) and without delays
     (vbjax make_sde with a dense coupling product, the form of vbjax's own MPR network).
Also: the kernel's achieved FLOP rate and memory traffic against the machine's peaks. Needs
``pip install -r bench/requirements-tvb.txt`` for part B. Usage: python bench/tvb.py [--quick]
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
# this file is named tvb.py: keep its folder off the path so that ``import tvb`` finds tvb-library
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

from l2l_tvb.batched import csr, simulate  # noqa: E402
from l2l_tvb.batched_models import model_spec  # noqa: E402
from l2l_tvb.connectome import load_connectome  # noqa: E402
from l2l_tvb.tvb_engine import simulate_tvb  # noqa: E402

QUICK = "--quick" in sys.argv
DT, SPEED, NSIG = 0.1, 3.0, 1e-3
G2D_A = 0.0042          # Linear coupling a for Generic2dOscillator
MPR_K = 0.002           # Linear coupling a for Montbrio-Pazo-Roxin
SIZES = (1, 16, 64, 256)
STEPS = 1000 if QUICK else 3000          # batched engine: simulated 0.3 s per instance
TVB_STEPS = 1000 if QUICK else 3000      # tvb-library: 0.3 s per run
VB_STEPS = 500 if QUICK else 1000        # vbjax keeps every step in memory


def cpu_info() -> dict:
    info = {}
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        k, _, v = line.partition(":")
        info[k.strip()] = v.strip()
    return info


def peak_flops(info: dict) -> tuple[float, float, int, float]:
    """(f64 GFLOP/s, f32 GFLOP/s, cores, GHz): cores x clock x FMA lanes x 2. AVX-512 on
    Zen 4 runs on two 256-bit FMA pipes: 16 f64 (32 f32) flop per cycle per core."""
    cores = os.cpu_count() or 1
    ghz = float(info.get("BogoMIPS", "5000")) / 2000.0
    flags = info.get("Flags", "")
    per_cycle = 16 if ("avx2" in flags or "avx512f" in flags) else 8
    return cores * ghz * per_cycle, cores * ghz * per_cycle * 2, cores, ghz


def stream_bandwidth() -> float:
    """Measured memory bandwidth (GB/s) of a numpy triad over 3 x 128 MB arrays."""
    n = 16_000_000
    a, b, c = np.ones(n), np.ones(n), np.empty(n)
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        np.multiply(a, 1.5, out=c)
        np.add(c, b, out=c)
        w = time.perf_counter() - t
        best = max(best, 5 * 8 * n / w / 1e9)   # 2 reads + 1 write, then 2 reads + 1 write (c cached? no: 128 MB)
    return best


def flops_per_instance_step(model: str, n_nodes: int, nnz: int, ncv_active: int) -> float:
    """Counted floating-point operations of one instance-step of the kernel: the coupling
    (multiply + add per connection and active coupling variable, plus a*c+b per node) and per
    node the Heun step (two dfun evaluations, predictor, corrector, noise scaling) and one
    Box-Muller pair (SplitMix64 integer work not counted; log and cos polynomials: 33 flops)."""
    dfun = {"Generic2dOscillator": 21, "MontbrioPazoRoxin": 19}[model]
    nsv = 2
    per_node = 2 * dfun + nsv * (3 + 4 + 2) + 33 + 2 * ncv_active
    return 2.0 * nnz * ncv_active + n_nodes * per_node


def bytes_per_instance_step(nnz: int, n_nodes: int, ncv_active: int, size: int) -> float:
    """Bytes the kernel moves per instance-step: delayed history reads (one value per
    connection and coupling variable), history write, state read + write, output sample."""
    return size * (nnz * ncv_active + n_nodes * (ncv_active + 2 * 2 + 1))


def run_batched(spec, conn, n_inst: int, steps: int, dtype: str, speed: float, params: dict, a: float) -> float:
    seeds = list(range(n_inst))
    t = time.perf_counter()
    r = simulate(spec, conn, steps, seeds, params=params, coupling_a=a, speed=speed, dt=DT,
                 nsig=NSIG, istep=10, dtype=dtype)
    wall = time.perf_counter() - t
    assert np.all(np.isfinite(r.samples)), "batched run diverged"
    return wall


def part_a(conn, lines: list[str], peaks) -> dict:
    spec = model_spec("Generic2dOscillator")
    simulate_tvb(conn, spec.name, 20, 0, coupling_params={"a": G2D_A}, dt=DT, nsig=NSIG)  # compile TVB's numba dfun
    tvb_walls = []
    for seed in (1, 2):
        t = time.perf_counter()
        simulate_tvb(conn, spec.name, TVB_STEPS, seed, coupling_params={"a": G2D_A}, speed=SPEED,
                     integrator="HeunStochastic", dt=DT, nsig=NSIG, monitor="TemporalAverage", period=1.0)
        tvb_walls.append(time.perf_counter() - t)
    tvb_tp = 2 * TVB_STEPS * DT / 1000 / sum(tvb_walls)
    lines += ["## A. Generic2dOscillator, HeunStochastic, 76 regions, dt 0.1 ms, speed 3 mm/ms", "",
              f"tvb-library 2.10, one instance after another: {tvb_tp:.3f} instance·s/s "
              f"({TVB_STEPS * DT / 1000:.1f} s simulated per run, wall {', '.join(f'{w:.2f}' for w in tvb_walls)} s; "
              f"i.e. {1 / tvb_tp * 10:.1f} s wall for 10 s simulated).", "",
              "| instances | dtype | wall (s) | instance·s/s | × tvb-library | kernel GFLOP/s (% peak) | GB/s moved |",
              "|---:|---|---:|---:|---:|---:|---:|"]
    rp, cols, w, d, horizon = csr(conn, SPEED, DT)
    fl = flops_per_instance_step(spec.name, conn.n_regions, len(cols), 1)
    res = {}
    for dtype in ("float64", "float32"):
        for n in SIZES:
            run_batched(spec, conn, n, 20, dtype, SPEED, {}, G2D_A)   # compile / load the kernel
            wall = run_batched(spec, conn, n, STEPS, dtype, SPEED, {}, G2D_A)
            tp = n * STEPS * DT / 1000 / wall
            gflops = fl * n * STEPS / wall / 1e9
            peak = peaks[0] if dtype == "float64" else peaks[1]
            gbs = bytes_per_instance_step(len(cols), conn.n_regions, 1, 8 if dtype == "float64" else 4) * n * STEPS / wall / 1e9
            res[(dtype, n)] = tp
            lines.append(f"| {n} | {dtype} | {wall:.2f} | {tp:.2f} | {tp / tvb_tp:.0f}× | {gflops:.1f} ({100 * gflops / peak:.0f} %) | {gbs:.1f} |")
            print(lines[-1], flush=True)
    lines += ["", f"FLOP count per instance-step: {fl:.0f} (coupling {2 * len(cols)} over {len(cols)} connections, "
              f"node dynamics + noise {fl - 2 * len(cols):.0f}); history depth {horizon} steps, "
              f"{horizon * conn.n_regions * 8 / 1e3:.0f} kB per instance in float64.", ""]
    res["tvb"] = tvb_tp
    return res


def vbjax_throughput(conn, n_inst: int, steps: int, delays: bool) -> tuple[float, float]:
    """vbjax's throughput (instance·s/s) including the drawing of its noise, and of its
    integration alone. vbjax's integrators take the noise as an input array (drawn with
    jax.random before the loop), while the batched engine draws its noise inside the kernel, so
    equal work is noise + integration; both figures are reported."""
    import jax
    import jax.numpy as jnp
    import vbjax as vb

    theta = vb.mpr_default_theta
    sigma = float(np.sqrt(2 * NSIG))
    ks = jnp.full((n_inst,), MPR_K)
    if delays:
        lags = np.rint(conn.tract_lengths / SPEED / DT)
        dh = vb.make_delay_helper(jnp.array(conn.weights), jnp.array((lags + 0.5) * SPEED * DT), dt=DT, v_c=SPEED)
        nh = int(dh.max_lag)

        def dfun(buf, rv, t, k):
            crv = vb.delay_apply(dh, t, buf)
            return vb.mpr_dfun(rv, (k * crv[0], k * crv[1]), theta)

        _, loop = vb.make_sdde(DT, nh, dfun, sigma)
        run = jax.jit(jax.vmap(lambda buf, k: loop(buf, k)[1]))

        @jax.jit
        def inputs(key):
            buf = jax.random.normal(key, (n_inst, nh + 1 + steps, 2, conn.n_regions))
            return buf.at[:, :nh + 1, 0].set(0.1).at[:, :nh + 1, 1].set(-2.0), ks
    else:
        W = jnp.array(conn.weights, dtype=jnp.float32)

        def dfun(x, k):
            c = W @ x.T
            return vb.mpr_dfun(x, (k * c[:, 0], k * c[:, 1]), theta)

        _, loop = vb.make_sde(DT, dfun, sigma)
        run = jax.jit(jax.vmap(lambda x0, zs, k: loop(x0, zs, k)))
        x0 = jnp.tile(jnp.array([0.1, -2.0], dtype=jnp.float32)[None, :, None], (n_inst, 1, conn.n_regions))

        @jax.jit
        def inputs(key):
            return x0, jax.random.normal(key, (n_inst, steps, 2, conn.n_regions)), ks
    jax.block_until_ready(run(*inputs(jax.random.PRNGKey(0))))    # compile both
    t0 = time.perf_counter()
    args = jax.block_until_ready(inputs(jax.random.PRNGKey(1)))
    t1 = time.perf_counter()
    out = jax.block_until_ready(run(*args))
    t2 = time.perf_counter()
    assert not bool(jnp.isnan(out).any()), "vbjax run diverged"
    work = n_inst * steps * DT / 1000
    return work / (t2 - t0), work / (t2 - t1)


def part_b(conn, lines: list[str]) -> dict:
    spec = model_spec("MontbrioPazoRoxin")
    lines += ["## B. Montbrió–Pazó–Roxin vs vbjax, 76 regions, dt 0.1 ms, stochastic Heun", "",
              "vbjax 0.0.19 (jax, float32 on CPU, jax.vmap over instances); batched engine with the same "
              "coupling (Linear, a = k, both r and V coupled as vbjax's mpr_dfun; TVB's default cv = 0 "
              "lets the engine skip the V gather, vbjax computes it). vbjax's integrators take their "
              "noise as an input array drawn with jax.random beforehand, while the batched engine "
              "draws its noise inside the kernel: *equal work* is vbjax's noise + integration (the "
              "× figures); its integration alone (noise drawn outside the timing) is shown too, with "
              "the ratio against it in brackets.", "",
              "| delays | instances | vbjax inst·s/s: noise + integration | integration only | "
              "batched f32 inst·s/s | × vbjax [× integration only] | batched f64 inst·s/s | × vbjax [× integration only] |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    res = {}
    for delays, speed in ((False, 1e9), (True, SPEED)):
        for n in ((16, 256) if not QUICK else (256,)):
            try:
                vb_tp, vb_int = vbjax_throughput(conn, n, VB_STEPS, delays)
            except ImportError:
                lines.append("vbjax is not installed (pip install -r bench/requirements-tvb.txt)")
                return res
            ours = {}
            for dtype in ("float32", "float64"):
                run_batched(spec, conn, n, 20, dtype, speed, {}, MPR_K)   # compile / load
                wall = run_batched(spec, conn, n, STEPS, dtype, speed, {}, MPR_K)
                ours[dtype] = n * STEPS * DT / 1000 / wall
            res[(delays, n)] = (vb_tp, vb_int, ours)
            label = "speed 3 mm/ms" if delays else "none"
            cells = [f"{ours[d]:.1f} | {ours[d] / vb_tp:.1f}× [{ours[d] / vb_int:.1f}×]" for d in ("float32", "float64")]
            lines.append(f"| {label} | {n} | {vb_tp:.2f} | {vb_int:.2f} | {' | '.join(cells)} |")
            print(lines[-1], flush=True)
    lines.append("")
    return res


def main() -> None:
    info = cpu_info()
    peaks = peak_flops(info)
    conn = load_connectome(76)
    load0 = os.getloadavg()
    bw = stream_bandwidth()
    lines = ["# l2l-tvb benchmark", "",
             f"Machine: {info.get('Model name', '?')}, {peaks[2]} cores, ~{peaks[3]:.1f} GHz, "
             f"AVX-512: {'avx512f' in info.get('Flags', '')}; peak ≈ {peaks[0]:.0f} GFLOP/s float64, "
             f"{peaks[1]:.0f} float32; measured memory bandwidth (numpy triad) {bw:.1f} GB/s. "
             f"The machine is shared with other jobs: load average {load0[0]:.1f} at start "
             "(2 cores), so absolute figures are low and noisy; every comparison below is measured "
             "side by side in the same run.", ""]
    a = part_a(conn, lines, peaks)
    b = part_b(conn, lines)
    lines += [f"Load average at the end: {os.getloadavg()[0]:.1f}. Command: `python bench/tvb.py`"
              f"{' --quick' if QUICK else ''}.", ""]
    text = "\n".join(lines)
    print(text)
    out = os.path.join(_HERE, "results", "tvb.md")
    with open(out, "w") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
