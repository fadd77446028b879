"""GPU check of the l2l-tvb batched engine: one command, under 5 minutes on a CUDA machine.

For every model the batched engine runs from RateML XML (the TVB models l2l-tvb ships,
tvb-contrib's RateML models, the test-only Wilson-Cowan model):
  1. correctness: 64 instances (8 parameter sets x 8 seeds), 1,000 noise-free Heun steps on the
     76-region connectome (speed 3 mm/ms), float64, from the same initial history: the generated
     GPU kernel against the generated CPU kernel, every state variable, relative difference
     max |gpu - cpu| / max |cpu| per state variable, at most 1e-9 (PASS/FAIL); and the same
     with noise (the counter-based noise is the same numbers on both devices);
  2. speed: instance·s/s (instances x simulated seconds per wall second, kernel only, history
     drawn on the device) at 1k, 4k, 16k and 64k instances, 1,000 steps of 0.1 ms, with noise.
Writes bench/results/gpu.md. Without cupy or a CUDA device it says so and exits (status 0).
Needs ``pip install -e 'plugins/l2l-tvb[gpu,rateml]'``. Usage: python bench/gpu.py [--quick]
(--quick: 16k instances at most, four models).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
from _paths import HERE as _HERE  # first: keeps bench/tvb.py from shadowing tvb-library

from machine import Machine  # noqa: E402

from l2l_tvb.batched import as_spec, csr, gpu_available, initial_history, simulate  # noqa: E402
from l2l_tvb.connectome import load_connectome  # noqa: E402
from l2l_tvb.rateml import builtin_models, rateml_models  # noqa: E402

QUICK = "--quick" in sys.argv
DT, SPEED, STEPS, TOL = 0.1, 3.0, 1000, 1e-9
SIZES = (1024, 4096, 16384) if QUICK else (1024, 4096, 16384, 65536)
WILSON_COWAN = os.path.join(os.path.dirname(_HERE), "tests", "tvb", "models", "WilsonCowan.xml")
#: parameters that keep each model away from blow-ups over 1000 steps (as in the cross-validation)
SETTINGS: dict[str, dict] = {
    "MontbrioPazoRoxin": dict(a=0.05, params={"eta": -4.6}),
    "ZerlautAdaptationFirstOrder": dict(a=0.02, state_range={"W_i": (0.0, 5.0), "ou_drift": (-1e-3, 1e-3)}),
    "rateml:kuramoto": dict(a=0.1, params={"omega": 0.01}, state_range={"V": (-1.5, 0.5)}),
    "rateml:montbrio": dict(a=0.05, state_range={"r": (0.0, 2.0), "V": (-2.0, 1.5)}),
    "rateml:rwongwang": dict(a=0.3, state_range={"V": (0.0, 1.0), "W": (0.0, 1.0)}),
    "rateml:oscillator": dict(a=0.05, params={"a": -0.5}, state_range={"V": (-2.0, 4.0), "W": (-6.0, 6.0)}),
    "rateml:epileptor": dict(a=0.1, params={"Kvf": 0.05, "Ks": -0.05, "Iext": 5.0},
                             state_range={"x1": (0.5, 1.0), "y1": (-3.0, 0.0), "z": (2.5, 3.5), "x2": (-1.0, 0.0),
                                          "y2": (0.0, 1.0), "g": (-0.2, 0.2)}),
    "rateml:rwongwang_deco": dict(a=0.3, state_range={"S_e": (0.0, 1.0), "S_i": (0.0, 1.0), "H_e": (0.0, 50.0),
                                                      "I_e": (0.0, 10.0)}),
    WILSON_COWAN: dict(a=0.5, params={"P": 0.5}, state_range={"E": (0.0, 0.5), "I": (0.0, 0.5)}),
}


def models() -> list[str]:
    names = [*builtin_models(), *(f"rateml:{m}" for m in rateml_models() if m != "zerlaut"), WILSON_COWAN]
    return names[:4] if QUICK else names


def label(model: str) -> str:
    return os.path.basename(model) if model.endswith(".xml") else model


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """max over state variables (axis 1) of max |a - b| / max |b|."""
    return max(float(np.abs(a[:, s] - b[:, s]).max() / max(np.abs(b[:, s]).max(), 1e-300)) for s in range(b.shape[1]))


def check(model: str, conn) -> tuple[float, float]:
    """(noise-free, noisy) relative difference GPU vs CPU, 64 instances, 1000 steps."""
    spec = as_spec(model)
    cfg = SETTINGS.get(model, {})
    n_inst = 64
    horizon = csr(conn, SPEED, DT)[-1]
    hist = np.stack([initial_history(spec, conn.n_regions, horizon, s, cfg.get("state_range"))
                     for s in range(n_inst)], axis=-1)
    params = {k: np.full(n_inst, v) for k, v in cfg.get("params", {}).items()}
    if spec.params:   # 8 values of the first parameter (+-5 %) x 8 seeds
        first = spec.params[0].name
        base = params.get(first, np.full(n_inst, spec.params[0].default))
        params[first] = base * np.repeat(np.linspace(0.95, 1.05, 8), 8)
    out = []
    for nsig in (0.0, 1e-6):
        kw = dict(params=params, coupling_a=cfg.get("a", 0.02), speed=SPEED, dt=DT, nsig=nsig, history=hist,
                  voi=spec.state_variables)
        cpu = simulate(spec, conn, STEPS, list(range(n_inst)), device="cpu", **kw).samples
        gpu = simulate(spec, conn, STEPS, list(range(n_inst)), device="gpu", **kw).samples
        out.append(relative_difference(gpu, cpu))
    return out[0], out[1]


def speed(model: str, conn, n_inst: int) -> float:
    """instance·s/s of the GPU kernel for ``n_inst`` instances (history drawn on the device)."""
    import cupy

    spec = as_spec(model)
    cfg = SETTINGS.get(model, {})
    kw = dict(params=cfg.get("params"), coupling_a=cfg.get("a", 0.02), speed=SPEED, dt=DT, nsig=1e-6,
              state_range=cfg.get("state_range"), istep=STEPS, device="gpu")
    simulate(spec, conn, 10, list(range(n_inst)), **{**kw, "istep": 10})     # compile, allocate
    cupy.cuda.Device().synchronize()
    t = time.perf_counter()
    simulate(spec, conn, STEPS, list(range(n_inst)), **kw)
    cupy.cuda.Device().synchronize()
    return n_inst * STEPS * DT / 1000.0 / (time.perf_counter() - t)


def _compile_cpu(model: str) -> None:
    """Both CPU kernel variants of ``model``: noise-free and noisy."""
    for nsig in (0.0, 1e-6):
        simulate(model, load_connectome(76), 2, [1], nsig=nsig)


def warm_cpu_kernels(names: list[str]) -> None:
    """Compile the CPU kernels (the reference) in parallel processes: numba caches them on disk."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(len(names), os.cpu_count() or 1)) as pool:
        list(pool.map(_compile_cpu, names))


def main() -> int:
    if not gpu_available():
        print("bench/gpu.py: SKIPPED — no usable CUDA GPU (cupy missing or cupy.cuda.is_available() is False); "
              "install l2l-tvb[gpu] on a machine with an NVIDIA GPU and run again.")
        return 0
    import cupy

    t0 = time.perf_counter()
    machine = Machine.measure(["l2l-tvb", "numba", "cupy-cuda12x", "tvb-library", "tvb-contrib"])
    props = cupy.cuda.runtime.getDeviceProperties(0)
    conn = load_connectome(76)
    lines = ["# l2l-tvb on the GPU: generated kernels against the CPU kernels, and their speed", "",
             *machine.markdown(),
             f"GPU: {props['name'].decode()}, {props['totalGlobalMem'] / 2**30:.0f} GiB, compute capability "
             f"{props['major']}.{props['minor']}.", "",
             f"76 regions, speed {SPEED} mm/ms, dt {DT} ms, {STEPS} Heun steps, float64. Agreement: 64 instances, "
             f"max |gpu - cpu| / max |cpu| per state variable (goal <= {TOL:g}). Speed: instance·s/s with noise, "
             "history drawn on the device, kernel and transfers of the result.", "",
             "| model | noise-free | noisy | agree | " + " | ".join(f"{n // 1024}k inst·s/s" for n in SIZES) + " |",
             "|---|---:|---:|---|" + "---:|" * len(SIZES)]
    warm_cpu_kernels(models())
    failed = 0
    for model in models():
        quiet, noisy = check(model, conn)
        ok = quiet <= TOL and noisy <= TOL
        failed += not ok
        rates = [speed(model, conn, n) for n in SIZES]
        lines.append(f"| {label(model)} | {quiet:.1e} | {noisy:.1e} | {'PASS' if ok else 'FAIL'} | "
                     + " | ".join(f"{r:,.0f}" for r in rates) + " |")
        print(lines[-1], flush=True)
    machine.finish()
    lines += ["", f"Load average after: {machine.load_after[0]:.1f}. Wall time of the check: "
              f"{time.perf_counter() - t0:.0f} s. Command: `python bench/gpu.py{' --quick' if QUICK else ''}`.", ""]
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(_HERE, "results", "gpu.md"), "w") as fh:
        fh.write(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
