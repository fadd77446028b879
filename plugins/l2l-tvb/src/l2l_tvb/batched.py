"""The batched engine: many parameter sets of one model integrated in one array program.

:func:`simulate` prepares the arrays (connections in CSR order with delays in steps, per-instance
parameters, noise keys, the initial history) and runs the model's generated CPU kernel (numba,
``codegen_cpu``) or GPU kernel (cupy, ``codegen_gpu``/``batched_gpu``). All instances of one call
share the connectome, the conduction speed (hence the delays), ``dt`` and the coupling function;
model parameters, coupling strength and noise amplitude differ per instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from l2l import ConfigError

from .batched_cpu import CHUNK, LANE_CAP
from .connectome import Connectome
from .rateml import ModelSpec, load_model
from .rng import instance_key

DTYPES = {"float64": np.float64, "float32": np.float32}
#: the CPU kernel's lane loops vectorise in steps of 16 instances (4 AVX2 vectors of 4 float64,
#: 2 of AVX-512): blocks hold a multiple of 32 instances when the batch is large enough
PAD_TO = 32
#: blocks of a small batch (fewer than PAD_TO instances per thread) hold a multiple of this
SMALL_LANES = 8
MAX_LANES = 32
MAX_LANES_SHORT = 64


@dataclass
class BatchResult:
    """``samples[k, v, i, b]``: the average of state variable ``voi[v]`` of region i over the
    k-th sampling period of instance b (after the discarded transient); ``state``: final state
    (nsv, N, B)."""

    samples: np.ndarray
    state: np.ndarray


def initial_history(spec: ModelSpec, n_regions: int, horizon: int, seed: int,
                    state_range: Mapping[str, Sequence[float]] | None = None) -> np.ndarray:
    """TVB-style random initial history (horizon, nsv, N): every slot drawn uniformly from the
    model's initial range (entries of ``state_range`` replacing it) and clipped to its bounds,
    from ``seed``."""
    rng = np.random.default_rng([int(seed), 0x7B])
    rng_lo, rng_hi = spec.state_range(state_range).T
    hist = rng.uniform(rng_lo[None, :, None], rng_hi[None, :, None], size=(horizon, spec.nsv, n_regions))
    return np.clip(hist, np.array(spec.lower)[None, :, None], np.array(spec.upper)[None, :, None])


def csr(connectome: Connectome, speed: float, dt: float) -> tuple[np.ndarray, ...]:
    """Afferent connections per region in TVB's order: row pointers, source columns, weights,
    delays in steps; and the horizon (max delay + 1)."""
    w = connectome.weights
    rows, cols = np.nonzero(w)
    idelays = connectome.delays_in_steps(speed, dt)
    row_ptr = np.zeros(w.shape[0] + 1, dtype=np.int64)
    np.add.at(row_ptr, rows + 1, 1)
    return (np.cumsum(row_ptr), cols.astype(np.int64), w[rows, cols].astype(np.float64),
            idelays[rows, cols].astype(np.int64), int(idelays.max()) + 1)


def gpu_available() -> bool:
    """Whether cupy imports and sees a CUDA device."""
    try:
        import cupy
    except Exception:  # noqa: BLE001 - any import failure means no GPU path
        return False
    try:
        return bool(cupy.cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


def resolve_device(device: str) -> str:
    """``cpu``, ``gpu`` (ConfigError without a usable GPU) or ``auto`` (GPU when there is one)."""
    if device == "cpu":
        return "cpu"
    if device == "gpu":
        if not gpu_available():
            raise ConfigError("device = 'gpu' was asked but no CUDA GPU is usable (cupy missing "
                              "or cupy.cuda.is_available() is False); use device = 'cpu'")
        return "gpu"
    if device == "auto":
        return "gpu" if gpu_available() else "cpu"
    raise ConfigError(f"unknown device {device!r} (use 'cpu', 'gpu' or 'auto')")


def as_spec(model: ModelSpec | str, coupling: str | None = None) -> ModelSpec:
    """The spec of ``model`` (a spec, a built-in TVB class name, ``rateml:<name>`` or an XML
    path) with coupling function ``coupling`` (None: the model's default: TVB's Linear for the
    built-in TVB models, the XML's own couplings otherwise; ``"model"``: the XML's own)."""
    spec = load_model(model) if isinstance(model, str) else model
    return spec.with_coupling(coupling or spec.default_coupling)


def lanes_for(n_inst: int, n_node: int, n_slot: int, threads: int) -> int:
    """Instances per thread block (the batch is padded to whole blocks). Enough instances: whole
    vectors of PAD_TO, enough blocks for every thread, at most MAX_LANES (64 when the delay ring
    is short: longer lane loops amortise the per-node overhead). Fewer than PAD_TO per thread:
    one block per thread of SMALL_LANES multiples (16 instances on 2 threads: 2 blocks of 8, not
    one padded block of 32 on one thread); fewer than 8 instances: blocks of one instance, whose
    kernel vectorises across nodes (on one thread: one block of all of them)."""
    if n_inst < 8:
        return 1 if threads > 1 else n_inst
    if n_inst < PAD_TO * threads:
        return SMALL_LANES * -(-n_inst // (SMALL_LANES * threads))
    cap = MAX_LANES_SHORT if n_slot <= CHUNK + 1 else MAX_LANES
    return int(min(cap, PAD_TO * -(-n_inst // (PAD_TO * threads))))


def threads() -> int:
    """CPU threads the kernels use: ``NUMBA_NUM_THREADS`` or the cores this process may use."""
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def run_cpu(spec: ModelSpec, args: tuple, lanes: int, draw: tuple, chunk: int = CHUNK) -> None:
    """Run the generated CPU kernel of ``spec`` on ``args`` (as :func:`simulate` builds them):
    blocks of ``lanes`` instances, split evenly over :func:`threads` threads (one kernel call
    each, which allocates its block's delay ring once). ``draw``: (cvars, low, high, lo, hi) of
    the random initial history each block draws itself when ``args``' history has no
    instances (an empty last axis)."""
    from concurrent.futures import ThreadPoolExecutor

    from .batched_cpu import split_rows
    from .codegen_cpu import cpu_kernel

    lanes = min(lanes, LANE_CAP)   # the kernel's stack buffer holds at most LANE_CAP lanes
    state, history, step0, n_steps, row_ptr, cols, weights, delays, *rest = args
    sigma = rest[6]            # (active, coupling_a, coupling_b, params, speed, dt, sigma, ...)
    kernel = cpu_kernel(spec)
    block = kernel.block_stochastic if np.any(sigma != 0.0) else kernel.block_deterministic
    if lanes == 1:   # one instance per block: the variant whose step loop is vectorised across nodes
        block = kernel.block_stochastic_single if block is kernel.block_stochastic else kernel.block_deterministic_single
    order, mid = split_rows(row_ptr, delays, chunk)
    n_threads = max(1, min(threads(), -(-state.shape[2] // lanes)))

    def one(t: int) -> None:
        block(t * lanes, n_threads * lanes, state, history, *draw, step0, n_steps, row_ptr, cols, weights, delays,
              order, mid, *rest, lanes, chunk)

    if n_threads == 1:
        one(0)
        return
    with ThreadPoolExecutor(n_threads) as pool:
        for future in [pool.submit(one, t) for t in range(n_threads)]:
            future.result()


def simulate(model: ModelSpec | str, connectome: Connectome, n_steps: int, seeds: Sequence[int], *,
             params: Mapping[str, np.ndarray | float] | None = None, coupling: str | None = None,
             coupling_a: np.ndarray | float = 0.00390625, coupling_b: np.ndarray | float = 0.0,
             speed: float = 3.0, dt: float = 0.1, nsig: np.ndarray | float = 0.0,
             history: np.ndarray | None = None, state_range: Mapping[str, Sequence[float]] | None = None,
             voi: Sequence[str] | None = None, istep: int = 1, skip_samples: int = 0, dtype: str = "float64",
             device: str = "cpu", lanes: int | None = None) -> BatchResult:
    """Integrate ``len(seeds)`` instances of ``model`` for ``n_steps`` steps of ``dt`` ms with Heun.

    ``params``: model parameters, each a scalar or one value per instance (others: the model's
    defaults). ``coupling``: see :func:`as_spec`; ``coupling_a`` (RateML's ``global_coupling``)
    and ``coupling_b`` (Linear's offset) per instance. ``nsig``: TVB's additive-noise ``nsig``,
    scalar, per instance (B,), or per state variable and instance (nsv, B); all zero gives
    deterministic Heun. ``history``: initial history (horizon, nsv, N, B) as TVB's
    ``initial_conditions`` (default: TVB-style random history drawn from each seed's noise key;
    :func:`initial_history` gives one as an array, e.g. to start TVB from the same history).
    ``state_range``: {state variable: (low, high)} replacing entries of the model's initial
    range. ``voi``: observables to record (state variables or the model's exposures; default:
    the first state variable). ``lanes``: instances per CPU thread block (default: chosen).
    """
    spec = as_spec(model, coupling)
    n_inst = len(seeds)
    if dtype not in DTYPES:
        raise ConfigError(f"dtype {dtype!r} not supported (use {', '.join(DTYPES)})")
    if n_steps < 1 or istep < 1 or n_steps // istep <= skip_samples:
        raise ConfigError("simulation too short: no samples left after the transient")
    unknown = set(params or {}) - set(spec.param_names)
    if unknown:
        raise ConfigError(f"model {spec.name}: unknown parameter(s) {sorted(unknown)} "
                          f"(known: {', '.join(spec.param_names)})")
    voi = tuple(voi or spec.state_variables[:1])
    observables = spec.observable_names()
    bad = [v for v in voi if v not in observables] + [v for v in (state_range or {}) if v not in spec.state_variables]
    if bad:
        raise ConfigError(f"model {spec.name}: no state variable(s) {bad} (has {spec.state_variables}"
                          + (f", exposures {observables[spec.nsv:]}" if len(observables) > spec.nsv else "") + ")")
    real = DTYPES[dtype]
    row_ptr, cols, weights, delays, horizon = csr(connectome, speed, dt)
    n = connectome.n_regions
    values = {**spec.defaults(), **(params or {})}
    p = np.stack([np.broadcast_to(np.asarray(values[k], dtype=float), (n_inst,)) for k in spec.param_names]) \
        if spec.params else np.zeros((0, n_inst))
    sig = np.sqrt(2.0 * np.broadcast_to(np.asarray(nsig, dtype=float).reshape(
        (-1, n_inst) if np.ndim(nsig) == 2 else (1, -1)), (spec.nsv, n_inst)))
    cvars = np.array(spec.cvars, dtype=np.int64)
    keys = np.array([instance_key(int(s)) for s in seeds], dtype=np.uint64)
    ca = np.broadcast_to(np.asarray(coupling_a, float), (n_inst,))
    cb = np.broadcast_to(np.asarray(coupling_b, float), (n_inst,))
    on_gpu = resolve_device(device) == "gpu"
    low, high = spec.state_range(state_range).T
    device_history = None
    if history is not None:
        if history.shape != (horizon, spec.nsv, n, n_inst):
            raise ConfigError(f"initial history has shape {history.shape}, expected {(horizon, spec.nsv, n, n_inst)}")
        buf = np.zeros((horizon + 1, len(cvars), n, n_inst), dtype=real)
        buf[:horizon] = history[:, cvars]
        state = np.array(history[horizon - 1], dtype=real, order="C")
    elif on_gpu:
        from .batched_gpu import random_history_gpu

        device_history = random_history_gpu(spec, horizon + 1, n, keys, low, high, real)
        buf = state = np.empty((0, 0, n_inst), dtype=real)
    else:   # each CPU block draws its own (batched_cpu.draw_block): no history of the whole batch
        buf = np.empty((horizon + 1, len(cvars), n, 0), dtype=real)
        state = np.empty((spec.nsv, n, n_inst), dtype=real)
    # CPU: pad the batch to whole blocks of lanes (copies of the last instance, dropped after)
    block = lanes or lanes_for(n_inst, n, horizon + 1, threads())
    pad = 0 if on_gpu or n_inst < 8 else -n_inst % min(block, PAD_TO)
    if pad:
        state, ca, cb, p, sig, keys = (np.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, pad)], mode="edge")
                                       for a in (state, ca, cb, p, sig, keys))
        if buf.shape[3]:
            buf = np.pad(buf, [(0, 0)] * 3 + [(0, pad)], mode="edge")
    n_samples = n_steps // istep - skip_samples
    out = np.empty((n_samples, len(voi), n, n_inst + pad), dtype=real)   # every sample is written
    active = spec.active({k: p[i] for i, k in enumerate(spec.param_names)})
    args = (state, buf, horizon - 1, int(n_steps), row_ptr, cols, weights, delays, active,
            np.ascontiguousarray(ca), np.ascontiguousarray(cb), np.ascontiguousarray(p), float(speed), float(dt),
            np.ascontiguousarray(sig), np.ascontiguousarray(keys),
            np.array([observables.index(v) for v in voi], dtype=np.int64), int(istep), int(skip_samples), out)
    if on_gpu:
        from .batched_gpu import heun_batch_gpu

        state, out = heun_batch_gpu(spec, *args, device_history=device_history)
    else:
        run_cpu(spec, args, min(block, n_inst + pad), (cvars, *(np.ascontiguousarray(a, dtype=float) for a in (
            low, high, spec.lower, spec.upper))))
    return BatchResult(samples=out[..., :n_inst], state=state[..., :n_inst])
