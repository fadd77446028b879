"""Cross-validation of the batched engine against tvb-library itself.

Noise-free: from the same initial history, trajectories of every state variable agree.
Tolerances: with TVB's delay history promoted to float64 both programs do the same float64
operations (TVB's equations are transcribed in TVB's operation order); only the order of the
coupling sum can differ, so differences stay at a few ulps of the state's magnitude over the
few hundred steps simulated here: we require |batched - tvb| <= 1e-11 * (1 + max|x|). With
TVB as shipped, its history and weights are float32, which perturbs the coupling input by
~6e-8 relatively each step: we then require 1e-5 * (1 + max|x|).
Noisy: FC of the batched engine matches TVB's as closely as TVB's FC for another seed does.
"""

from __future__ import annotations

import numpy as np
import pytest

from l2l_tvb.batched import csr, initial_history, simulate
from l2l_tvb.batched_models import MODELS, model_spec
from l2l_tvb.fc import fc_matrix, pearson, upper
from l2l_tvb.tvb_engine import simulate_tvb

# model, coupling function, coupling a, dt (MPR needs a smaller step), extra model parameters
CASES = [
    ("Generic2dOscillator", "Linear", 0.02, 0.1, {"a": -0.5}),
    ("Generic2dOscillator", "Difference", 0.02, 0.1, {}),
    ("Kuramoto", "Kuramoto", 0.05, 0.1, {"omega": 0.3}),
    ("ReducedWongWang", "Linear", 0.2, 0.1, {}),
    ("MontbrioPazoRoxin", "Linear", 0.05, 0.01, {"eta": -4.6}),
]
N_STEPS = 300
SPEED = 10.0


def _pair(conn, model, coupling, a, dt, extra, seed=3):
    spec = model_spec(model)
    horizon = csr(conn, SPEED, dt)[-1]
    hist = initial_history(spec, conn.n_regions, horizon, seed)
    mine = simulate(spec, conn, N_STEPS, [seed], params=extra, coupling=coupling, coupling_a=a,
                    speed=SPEED, dt=dt, history=hist[..., None], voi=spec.state_variables)
    _, ref = simulate_tvb(conn, model, N_STEPS, seed, params=extra, coupling=coupling,
                          coupling_params={"a": a}, speed=SPEED, integrator="HeunDeterministic",
                          dt=dt, monitor="Raw", voi=spec.state_variables, history=hist)
    return mine.samples[..., 0], ref


def test_every_batched_model_is_cross_validated():
    assert {c[0] for c in CASES} == set(MODELS)


@pytest.mark.parametrize("model,coupling,a,dt,extra", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_deterministic_trajectories_match_tvb(conn76, tvb_float64_history, model, coupling, a, dt, extra):
    mine, ref = _pair(conn76, model, coupling, a, dt, extra)
    assert mine.shape == ref.shape == (N_STEPS, model_spec(model).nsv, 76)
    assert np.all(np.isfinite(ref))
    scale = 1.0 + np.abs(ref).max()
    # the trajectories move: a wrong equation could not hide behind a fixed point
    assert np.abs(ref[-1] - ref[0]).max() > 1e-3 * scale
    assert np.abs(mine - ref).max() <= 1e-11 * scale


@pytest.mark.parametrize("model,coupling,a,dt,extra", CASES[:1] + CASES[3:4], ids=["G2D", "RWW"])
def test_deterministic_trajectories_match_stock_tvb(conn76, model, coupling, a, dt, extra):
    mine, ref = _pair(conn76, model, coupling, a, dt, extra)
    scale = 1.0 + np.abs(ref).max()
    assert np.abs(mine - ref).max() <= 1e-5 * scale


def test_coupling_changes_trajectories(conn76, tvb_float64_history):
    """Control: the comparison is sensitive to the coupling strength."""
    mine, _ = _pair(conn76, "Generic2dOscillator", "Linear", 0.02, 0.1, {"a": -0.5})
    _, ref = _pair(conn76, "Generic2dOscillator", "Linear", 0.0201, 0.1, {"a": -0.5})
    assert np.abs(mine - ref).max() > 1e-6


def test_noisy_fc_matches_tvb(conn76):
    """Generic2dOscillator with HeunStochastic (fluctuations around its fixed point): FC of the
    batched engine agrees with TVB's as well as TVB's FCs for two seeds agree with each other;
    mean FC and signal variance match."""
    model, dt, n_steps, period = "Generic2dOscillator", 0.5, 8000, 5.0
    params, a, nsig = {}, 0.05, 0.01
    spec = model_spec(model)
    istep = int(period / dt)
    skip = 100
    mine = simulate(spec, conn76, n_steps, [11, 12], params=params, coupling_a=a, speed=SPEED,
                    dt=dt, nsig=nsig, istep=istep, skip_samples=skip).samples[:, 0]
    refs = [simulate_tvb(conn76, model, n_steps, s, params=params, coupling_params={"a": a},
                         speed=SPEED, dt=dt, nsig=nsig, monitor="TemporalAverage", period=period)[1][skip:, 0]
            for s in (21, 22)]
    fc_m = [upper(fc_matrix(mine[..., b])) for b in range(2)]
    fc_t = [upper(fc_matrix(r)) for r in refs]
    tvb_vs_tvb = pearson(fc_t[0], fc_t[1])
    assert tvb_vs_tvb > 0.2  # the FC is a reproducible property of the model
    for f in fc_m:
        for g in fc_t:
            assert pearson(f, g) > tvb_vs_tvb - 0.1
    assert abs(np.mean(fc_m) - np.mean(fc_t)) < 0.05
    var_m = np.mean([mine[..., b].var(axis=0).mean() for b in range(2)])
    var_t = np.mean([r.var(axis=0).mean() for r in refs])
    assert 0.9 < var_m / var_t < 1.1  # same noise scaling (sqrt(dt) sqrt(2 nsig))
