"""The ``tvb-fc`` optimizee: both engines, objectives, targets, BOLD, batch path, errors."""

from __future__ import annotations

import numpy as np
import pytest

from l2l import ConfigError, Experiment, build, get_plugins
from l2l.executor import Task, run_tasks
from l2l_tvb import TvbFc

FAST = dict(connectivity=76, simulation_length=400.0, transient=100.0, dt=0.5, period=2.0,
            speed=10.0, nsig=0.01)


def test_registered_through_the_entry_point():
    assert get_plugins().get("optimizees", "tvb-fc") is TvbFc


def test_batched_engine_scores_sc_fc_correlation_for_a_chunk():
    opt = TvbFc(parameters={"coupling": {"low": 0.0, "high": 0.2}}, **FAST)
    opt.setup()
    assert opt.has_batch()
    assert opt.objectives().names == ("fc_corr",) and opt.objectives().directions == ("max",)
    tasks = [Task(i, {"coupling": c}, 10 + i) for i, c in enumerate([0.0, 0.05, 0.1])]
    evs = run_tasks(opt, tasks)
    assert all(e.ok for e in evs), [e.error for e in evs]
    corr = [e.fitness[0] for e in evs]
    assert all(-1.0 <= c <= 1.0 for c in corr)
    # uncoupled regions are uncorrelated; coupling through the SC makes FC follow SC
    assert abs(corr[0]) < 0.1 and corr[2] > corr[0] + 0.15
    assert evs[0].observation.shape == (76 * 75 // 2,)
    # one parameter set alone gives the same result as inside the chunk
    alone = opt.evaluate({"coupling": 0.05}, 11)
    assert alone.fitness == evs[1].fitness


def test_tvb_engine_runs_any_tvb_model():
    opt = TvbFc(engine="tvb", model="JansenRit", parameters={"coupling": {"low": 0.0, "high": 0.05}},
                coupling="SigmoidalJansenRit", integrator="HeunStochastic", connectivity=68,
                simulation_length=300.0, transient=100.0, dt=0.1, period=2.0, nsig=1e-5)
    opt.setup()
    ev = opt.evaluate({"coupling": 0.01}, 3)
    assert np.isfinite(ev.fitness[0]) and -1 <= ev.fitness[0] <= 1


def test_both_engines_agree_on_sc_fc_correlation():
    kw = dict(parameters={"coupling": {"low": 0.0, "high": 0.2}}, model="Generic2dOscillator",
              connectivity=76, simulation_length=3000.0, transient=500.0, dt=0.5, period=5.0,
              speed=10.0, nsig=0.01)
    b, t = TvbFc(engine="batched", **kw), TvbFc(engine="tvb", **kw)
    b.setup(), t.setup()
    fb = [e.fitness[0] for e in b.evaluate_batch([{"coupling": 0.1}] * 2, [1, 2])]
    ft = [t.evaluate({"coupling": 0.1}, s).fitness[0] for s in (1, 2)]
    assert abs(np.mean(fb) - np.mean(ft)) < 0.1
    assert np.mean(fb) > 0.2


def test_speed_and_model_parameters_per_instance():
    opt = TvbFc(parameters={"coupling": {"low": 0.0, "high": 1.0}, "speed": {"low": 1.0, "high": 20.0},
                            "a": {"low": -3.0, "high": 0.0}}, **FAST)
    opt.setup()
    ps = [{"coupling": 0.1, "speed": 5.0, "a": -2.0}, {"coupling": 0.1, "speed": 20.0, "a": -2.0},
          {"coupling": 0.1, "speed": 5.0, "a": -1.0}]
    evs = opt.evaluate_batch(ps, [4, 4, 4])
    assert all(e.ok for e in evs)
    assert len({e.fitness for e in evs}) == 3
    assert opt.evaluate(ps[1], 4).fitness == evs[1].fitness  # speed groups run separately


def test_empirical_target_and_distance_objective(tmp_path):
    rng = np.random.default_rng(0)
    m = rng.uniform(-1, 1, (76, 76))
    target = (m + m.T) / 2
    path = tmp_path / "fc.csv"
    np.savetxt(path, target, delimiter=",")
    opt = TvbFc(parameters={"coupling": {"low": 0.0, "high": 1.0}}, target=str(path),
                distance="ks", **FAST)
    opt.setup()
    assert opt.objectives().names == ("fc_corr", "fc_ks")
    np.testing.assert_allclose(opt.targets(), target[np.triu_indices(76, 1)])
    ev = opt.evaluate({"coupling": 0.1}, 1)
    assert len(ev.fitness) == 2 and 0.0 <= ev.fitness[1] <= 1.0
    assert abs(ev.fitness[0]) < 0.2  # a random target is not matched


def test_bold_monitor_on_both_engines():
    kw = dict(parameters={"coupling": {"low": 0.0, "high": 1.0}}, monitor="Bold", bold_period=200.0,
              connectivity=68, simulation_length=4000.0, transient=1000.0, dt=0.5, speed=10.0, nsig=0.01)
    b = TvbFc(**kw)
    b.setup()
    ev = b.evaluate({"coupling": 0.1}, 2)
    assert ev.ok and np.isfinite(ev.fitness[0])
    t = TvbFc(engine="tvb", **kw)
    t.setup()
    assert np.isfinite(t.evaluate({"coupling": 0.1}, 2).fitness[0])


def test_bold_signal_equals_tvbs_bold_monitor_step_by_step():
    """The batched engine's BOLD (4 ms averages convolved with the HRF) is TVB's Bold monitor:
    fed the same signal one integration step at a time, TVB's monitor gives the same samples."""
    from tvb.simulator.monitors import Bold

    from l2l_tvb.fc import BOLD_INTERIM_PERIOD, bold_signal

    dt, period, n_steps, n_nodes = 0.5, 500.0, 60_000, 3
    t = np.arange(1, n_steps + 1) * dt
    rng = np.random.default_rng(0)
    signal = (np.sin(t[:, None] / rng.uniform(50, 900, n_nodes)) + 0.1 * rng.standard_normal((n_steps, n_nodes)))
    mon = Bold(period=period)
    mon.dt, mon.istep, mon.voi = dt, int(round(period / dt)), np.array([0])
    mon.compute_hrf()
    mon._interim_stock = np.zeros((mon._interim_istep, 1, n_nodes, 1))
    mon._stock = np.zeros((mon._stock_steps, 1, n_nodes, 1))
    theirs = []
    for step in range(1, n_steps + 1):
        out = mon.sample(step, signal[step - 1].reshape(1, n_nodes, 1))
        if out is not None:
            theirs.append(out[1][0, :, 0])
    per = int(round(BOLD_INTERIM_PERIOD / dt))
    ours = bold_signal(signal.reshape(-1, per, n_nodes).mean(axis=1), period)
    assert len(theirs) == len(ours) == n_steps * dt / period
    np.testing.assert_allclose(ours, np.array(theirs), rtol=1e-9, atol=1e-12)


def test_user_connectome_files(tmp_path, conn76):
    np.savetxt(tmp_path / "w.txt", conn76.weights)
    np.save(tmp_path / "tl.npy", conn76.tract_lengths)
    opt = TvbFc(parameters={"coupling": {"low": 0.0, "high": 1.0}}, weights=str(tmp_path / "w.txt"),
                tract_lengths=str(tmp_path / "tl.npy"), **{**FAST, "connectivity": 68})
    opt.setup()
    ref = TvbFc(parameters={"coupling": {"low": 0.0, "high": 1.0}}, **FAST)
    ref.setup()
    assert opt.evaluate({"coupling": 0.1}, 1).fitness == pytest.approx(ref.evaluate({"coupling": 0.1}, 1).fitness)


def test_config_errors():
    with pytest.raises(ConfigError, match="unknown parameter"):
        TvbFc(parameters={"bogus": {"low": 0, "high": 1}}).setup()
    with pytest.raises(ConfigError, match="not supported"):
        TvbFc(model="Epileptor").setup()
    with pytest.raises(ConfigError, match="integrator"):
        TvbFc(integrator="RungeKutta4thOrderDeterministic").setup()
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        TvbFc(device="gpu").setup()
    with pytest.raises(ConfigError, match="ships"):
        TvbFc(connectivity=77).setup()
    with pytest.raises(ConfigError, match="unknown model"):
        TvbFc(engine="tvb", model="NoSuchModel").setup()


def test_experiment_with_ga_improves_fit():
    opt = build("optimizee", "tvb-fc", parameters={"coupling": {"low": 0.0, "high": 0.2}}, **FAST)
    result = Experiment(opt, build("optimizer", "ga", population=8), seed=1, generations=2).run()
    assert 0.0 <= result.best.params["coupling"] <= 0.2
    assert result.best_fitness[0] > 0.2


def test_diverging_instance_fails_alone():
    """A parameter set that blows up is a failed evaluation; its neighbours in the chunk are not."""
    opt = TvbFc(model="MontbrioPazoRoxin", parameters={"coupling": {"low": 0.0, "high": 5.0}},
                normalize_weights=True, **{**FAST, "dt": 0.05, "simulation_length": 200.0, "transient": 50.0})
    opt.setup()
    evs = run_tasks(opt, [Task(0, {"coupling": 0.02}, 1), Task(1, {"coupling": 5.0}, 2)])
    assert evs[0].ok and not evs[1].ok and "diverged" in evs[1].error


MPR_DT05 = dict(model="MontbrioPazoRoxin", model_params={"J": 5.0, "eta": -2.0}, normalize_weights=True, speed=10.0,
                dt=0.05, nsig=[0.0, 0.01], simulation_length=60.0, transient=10.0, period=1.0,
                fc_variable="r", parameters={"coupling": {"low": 0.1, "high": 0.35}})
MPR_DOWN_STATE = {"r": [0.0, 0.2], "V": [-2.2, -1.8]}


def test_state_range_keeps_mpr_from_diverging_on_the_batched_engine():
    """At dt 0.05 some of TVB's random initial histories (r in [0, 2], V in [-2, 1.5]) blow
    up MPR; drawn near the down state instead, none of 32 seeds does."""
    tasks = [Task(i, {"coupling": 0.24}, i) for i in range(32)]
    failed = {}
    for key, state_range in (("tvb", None), ("down", MPR_DOWN_STATE)):
        opt = TvbFc(state_range=state_range, **MPR_DT05)
        opt.setup()
        failed[key] = [e.error for e in run_tasks(opt, tasks) if not e.ok]
    assert failed["tvb"] and all("diverged" in err for err in failed["tvb"])
    assert failed["down"] == []


def test_state_range_on_the_tvb_engine():
    from tvb.simulator.models import MontbrioPazoRoxin

    from l2l_tvb.connectome import load_connectome
    from l2l_tvb.tvb_engine import simulate_tvb

    conn = load_connectome(76)
    first = {}
    for key, state_range in (("tvb", None), ("down", MPR_DOWN_STATE)):
        _, data = simulate_tvb(conn, "MontbrioPazoRoxin", 2, 0, integrator="HeunDeterministic", dt=0.01,
                               monitor="Raw", voi=("r", "V"), state_range=state_range)
        first[key] = data[0]
    # one step of 0.01 ms after the initial state: still within the range it was drawn from
    r, v = first["down"]
    assert 0.0 <= r.min() and r.max() <= 0.22 and -2.25 <= v.min() and v.max() <= -1.75
    assert first["tvb"][0].max() > 1.0 and first["tvb"][1].max() > 0.0
    # the model class's shared default range is left alone
    assert list(MontbrioPazoRoxin().state_variable_range["r"]) == [0.0, 2.0]
    # through the optimizee: seeds whose TVB-range start diverges at dt 0.05 run near the down state
    ok = {}
    for key, state_range in (("tvb", None), ("down", MPR_DOWN_STATE)):
        opt = TvbFc(engine="tvb", state_range=state_range, **MPR_DT05)
        opt.setup()
        ok[key] = [opt.evaluate({"coupling": 0.24}, s).ok for s in (0, 5)]
    assert ok == {"tvb": [False, False], "down": [True, True]}


@pytest.mark.parametrize("engine", ["batched", "tvb"])
def test_state_range_config_errors(engine):
    kw = dict(engine=engine, model="MontbrioPazoRoxin")
    with pytest.raises(ConfigError, match=r"no state variable 'x' \(has r, V\)"):
        TvbFc(state_range={"x": [0, 1]}, **kw).setup()
    with pytest.raises(ConfigError, match="low must not exceed high"):
        TvbFc(state_range={"r": [1.0, 0.5]}, **kw).setup()
    for bad in (0.5, [0.0, 1.0, 2.0], "ab", {"low": 0.0, "high": 1.0}):
        with pytest.raises(ConfigError, match="must be a pair"):
            TvbFc(state_range={"V": bad}, **kw).setup()
    with pytest.raises(ConfigError, match="must be a table"):
        TvbFc(state_range=[0.0, 1.0], **kw).setup()
    with pytest.raises(ConfigError, match="with state_range, not model_params"):
        TvbFc(model_params={"state_variable_range": {"r": [0.0, 1.0]}}, **kw).setup()


def test_noise_seed_gives_every_evaluation_the_same_noise():
    """Common random numbers: with noise_seed the fitness depends on the parameters only."""
    space = {"coupling": {"low": 0.0, "high": 0.2}}
    fixed = TvbFc(parameters=space, noise_seed=5, **FAST)
    free = TvbFc(parameters=space, **FAST)
    a, b = fixed.evaluate_batch([{"coupling": 0.1}] * 2, [1, 2])
    assert a.fitness == b.fitness
    assert fixed.evaluate({"coupling": 0.1}, 3).fitness == a.fitness
    c, d = free.evaluate_batch([{"coupling": 0.1}] * 2, [1, 2])
    assert c.fitness != d.fitness
    assert fixed.fresh_seeds.startswith("nothing") and "new noise" in free.fresh_seeds
    for bad in (-1, 1.5, "7", True):
        with pytest.raises(ConfigError, match="noise_seed must be an integer"):
            TvbFc(noise_seed=bad).setup()
