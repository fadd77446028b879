"""arbor-cell: cells, targets, the batch path, failures and configuration errors (real Arbor)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from l2l import ConfigError, Evaluation, Individual, Task, build, run_tasks
from l2l_arbor import ArborCell

TRUE = {"gnabar": 0.12, "gkbar": 0.036}


@pytest.fixture
def make(hh_kwargs, true_params):
    """Build the HH ball-and-stick optimizee with overrides."""
    assert true_params == TRUE

    def _make(**over) -> ArborCell:
        opt = build("optimizee", "arbor-cell", **hh_kwargs(**over))
        assert isinstance(opt, ArborCell)
        return opt
    return _make


def upward_crossings(v: np.ndarray, level: float) -> int:
    return int(np.sum((v[:-1] < level) & (v[1:] >= level)))


def test_registered_space_and_objectives(make):
    opt = make()
    assert opt.space().names == ["gnabar", "gkbar"]
    names = opt.objectives().names
    assert len(names) == 2 * 6 and names[0] == "weak.soma.Spikecount"
    assert names[-1] == "strong.soma.voltage_base"
    assert opt.has_batch()


def test_target_spikes_are_real_action_potentials(make):
    opt = make()
    opt.setup()
    time, v = opt.target()
    assert v.shape == (2, 1, len(time)) and time[1] - time[0] == pytest.approx(0.1)
    feats = opt._prepared().target_features
    for i, proto in enumerate(["weak", "strong"]):
        trace = v[i, 0]
        n = feats[f"{proto}.soma.Spikecount"]
        assert n >= 3
        # eFEL's count equals the overshooting upstrokes of the voltage itself
        assert upward_crossings(trace, 0.0) == n
        assert trace.max() > 20.0
        assert trace[time < 10.0].max() < -60.0  # at rest before the step
    assert feats["strong.soma.Spikecount"] > feats["weak.soma.Spikecount"]


def test_unstimulated_cell_is_silent(make):
    opt = make(protocols=[{"amplitude": 0.0, "start": 10.0, "duration": 60.0}],
               features=["Spikecount", "voltage_base"])
    opt.setup()
    _, v = opt.target()
    assert opt._prepared().target_features["step1.soma.Spikecount"] == 0
    assert v.max() < -60.0


def test_true_parameters_score_zero(make):
    opt = make()
    opt.setup()
    ev = opt.evaluate(dict(TRUE), 0)
    assert ev.ok and ev.fitness == (0.0,) * 12
    off = opt.evaluate({"gnabar": 0.2, "gkbar": 0.02}, 0)
    assert off.ok and sum(off.fitness) > 5.0
    assert off.observation.shape == (12,)
    assert np.allclose(opt.targets(), opt.evaluate(dict(TRUE), 0).observation)


def test_batch_path_gives_the_same_traces_as_one_at_a_time(make):
    opt = make(threads=2)
    opt.setup()
    params = opt.space().sample(np.random.default_rng(7), 9)
    _, together = opt.traces(params)
    alone = np.stack([opt.traces([p])[1][0] for p in params])
    assert together.shape == (9, 2, 1, alone.shape[-1])
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-9)
    batch = opt.evaluate_batch(params, list(range(9)))
    single = [opt.evaluate(p, s) for s, p in enumerate(params)]
    for a, b in zip(batch, single):
        assert a.status == b.status and a.error == b.error
        np.testing.assert_allclose(a.fitness, b.fitness, rtol=0, atol=1e-9)


def test_diverging_parameter_set_fails_alone_in_a_batch(make):
    opt = make(parameters={**{"gnabar": {"low": 0.05, "high": 0.25, "sets": "hh.gnabar@soma"},
                              "gkbar": {"low": 0.01, "high": 0.08, "sets": "hh.gkbar@soma"}},
                           "cm": {"low": -2.0, "high": 2.0, "sets": "cm"}},
               target_params={**TRUE, "cm": 1.0})
    opt.setup()
    good = [{**TRUE, "cm": 1.0}, {"gnabar": 0.1, "gkbar": 0.05, "cm": 1.5}]
    bad = {**TRUE, "cm": -1.0}
    batch = opt.evaluate_batch([good[0], bad, good[1]], [0, 1, 2])
    assert [e.ok for e in batch] == [True, False, True]
    assert "diverged" in batch[1].error and "non-finite" in batch[1].error
    assert batch[0].fitness == opt.evaluate(good[0], 0).fitness
    np.testing.assert_allclose(batch[2].fitness, opt.evaluate(good[1], 0).fitness, atol=1e-9)


def test_trace_without_spikes_is_a_failed_evaluation_with_reason(make):
    free = {"gnabar": {"low": 0.0, "high": 0.25, "sets": "hh.gnabar@soma"},
            "gkbar": {"low": 0.01, "high": 0.08, "sets": "hh.gkbar@soma"}}
    opt = make(parameters=free)
    opt.setup()
    silent = {"gnabar": 0.0, "gkbar": 0.036}
    ev = opt.evaluate(silent, 0)
    assert not ev.ok and "no or too few spikes" in ev.error
    assert ev.info["features"]["weak.soma.Spikecount"] == 0
    # through the core's worker-side runner, in a batch with a good one: no exception
    out = run_tasks(opt, [Task(0, silent, 0), Task(1, dict(TRUE), 1)])
    assert [e.status for e in out] == ["failed", "ok"] and "Spikecount" in out[0].error
    scored = make(parameters=free, missing_score=250.0)
    scored.setup()
    ev = scored.evaluate(silent, 0)
    assert ev.ok and 250.0 in ev.fitness


def test_targets_from_csv_and_npy_files(make, tmp_path):
    ref = make()
    ref.setup()
    time, v = ref.target()
    csv = tmp_path / "weak.csv"
    csv.write_text("t_ms,v_mV\n" + "\n".join(f"{t:.17g},{x:.17g}" for t, x in zip(time, v[0, 0])))
    npy = tmp_path / "strong.npy"
    np.save(npy, np.stack([time, v[1, 0]], axis=1))
    opt = make(target_params=None, target_traces={"weak": str(csv), "strong.soma": str(npy)}, rmse=True)
    opt.setup()
    assert opt._prepared().target_features == pytest.approx(ref._prepared().target_features)
    ev = opt.evaluate(dict(TRUE), 0)
    assert ev.ok and max(ev.fitness) < 1e-9 and opt.objectives().names[-1] == "rmse"
    assert opt.evaluate({"gnabar": 0.2, "gkbar": 0.02}, 0).fitness[-1] > 1.0


def test_given_feature_values_as_target(make):
    opt = make(target_params=None, features=["Spikecount"],
               target_features={"weak.Spikecount": 4, "strong.Spikecount": {"mean": 6, "std": 0.5}})
    opt.setup()
    prep = opt._prepared()
    assert prep.stds == {"weak.soma.Spikecount": pytest.approx(0.4), "strong.soma.Spikecount": 0.5}
    ev = opt.evaluate(dict(TRUE), 0)
    counts = ev.info["features"]
    assert ev.fitness == pytest.approx((abs(counts["weak.soma.Spikecount"] - 4) / 0.4,
                                        abs(counts["strong.soma.Spikecount"] - 6) / 0.5))


def test_swc_morphology_regions_and_settings(swc_file):
    kw = dict(morphology=str(swc_file), cv_policy=10.0,
              mechanisms=[{"region": "soma", "mechanism": "hh"},
                          {"region": "axon", "mechanism": "hh", "gnabar": 0.2},
                          {"region": "dend", "mechanism": "pas", "e": -65.0},
                          {"region": "apic", "mechanism": "pas", "g": 2e-4}],
              settings={"cm": 1.0, "ra": 120.0, "temperature": 6.3},
              parameters={"gna": {"low": 0.05, "high": 0.3, "sets": ["hh.gnabar@soma", "hh.gnabar@axon"]},
                          "cm_dend": {"low": 0.5, "high": 3.0, "sets": ["cm@dend", "cm@apic"]},
                          "ek": {"low": -90.0, "high": -60.0, "sets": "e_k@soma"}},
              target_params={"gna": 0.15, "cm_dend": 1.0},
              recordings={"soma": '(on-components 0.5 (region "soma"))',
                          "apic": '(on-components 0.5 (region "apic"))'},
              protocols=[{"amplitude": 1.0, "start": 10.0, "duration": 40.0}], tfinal=60.0,
              features=["Spikecount", "voltage_base"])
    opt = build("optimizee", "arbor-cell", **kw)
    opt.setup()
    assert opt.base_params() == {"gna": 0.12, "cm_dend": 1.0, "ek": -77.0}
    assert len(opt.objectives()) == 4
    _, target = opt.target()
    assert target[0, 0].max() > 0.0  # the soma fires
    assert target[0, 1].max() < target[0, 0].max()  # attenuated in the apical dendrite
    _, v = opt.traces([{"gna": 0.15, "cm_dend": 1.0, "ek": -77.0},
                       {"gna": 0.15, "cm_dend": 3.0, "ek": -77.0}])
    np.testing.assert_allclose(v[0], target, atol=1e-9)
    assert np.abs(v[1, 0, 1] - v[0, 0, 1]).max() > 1.0  # dendritic cm changes the dendrite


def test_allen_format_fit(swc_file, allen_fit_file):
    kw = dict(morphology=str(swc_file), allen_fit=str(allen_fit_file),
              parameters={"nav": {"low": 0.01, "high": 0.1, "sets": "NaV.gbar@soma"},
                          "kv31": {"low": 0.05, "high": 0.5, "sets": "Kv3_1.gbar@soma"},
                          "epas": {"low": -90.0, "high": -60.0, "sets": "pas.e@soma"}},
              protocols=[{"amplitude": 0.3, "start": 20.0, "duration": 60.0}], tfinal=100.0,
              features=["Spikecount", "AP_amplitude", "voltage_base"])
    opt = build("optimizee", "arbor-cell", **kw)
    opt.setup()
    assert opt.base_params() == {"nav": 0.06, "kv31": 0.2, "epas": -75.0}
    feats = opt._prepared().target_features
    assert feats["step1.soma.Spikecount"] >= 2
    assert opt.evaluate(opt.base_params(), 0).fitness == (0.0, 0.0, 0.0)
    # the junction potential (-14 mV) is subtracted from the model's voltage, as Allen's SDK does
    raw = build("optimizee", "arbor-cell", voltage_offset=0.0, **kw)
    raw.setup()
    assert raw._prepared().target_features["step1.soma.voltage_base"] == \
        pytest.approx(feats["step1.soma.voltage_base"] - 14.0)
    worse = opt.evaluate({"nav": 0.03, "kv31": 0.2, "epas": -75.0}, 0)
    assert not worse.ok or sum(worse.fitness) > 1.0


@pytest.mark.parametrize("over, match", [
    ({"mechanisms": [{"region": "soma", "mechanism": "nosuchmech"}]}, "not in the loaded catalogues"),
    ({"mechanisms": [{"region": "basal", "mechanism": "hh"}]}, "unknown region 'basal'"),
    ({"parameters": {"g": {"low": 0, "high": 1, "sets": "hh.gbar@soma"}}}, "has no parameter 'gbar'"),
    ({"parameters": {"g": {"low": 0, "high": 1, "sets": "hh.gnabar@dend"}}}, "not painted on 'dend'"),
    ({"parameters": {"g": {"low": 0, "high": 1, "sets": "hh.gnabar"}}}, "needs a region"),
    ({"parameters": {"g": {"low": 0, "high": 1, "sets": "volume@soma"}}}, "unknown quantity"),
    ({"parameters": {"g": {"low": 0, "high": 1}}}, "needs 'sets'"),
    ({"parameters": {"g": {"low": 2, "high": 1, "sets": "cm"}}}, "lower bound"),
    ({"features": ["Spikecount", "no_such_feature"]}, "unknown eFEL feature"),
    ({"morphology": "/nonexistent/cell.swc"}, "does not exist"),
    ({"morphology": "cell.xyz"}, "does not exist"),
    ({"protocols": [{"amplitude": 0.1, "start": 10.0}]}, "missing 'duration'"),
    ({"protocols": [{"amplitude": 0.1, "start": 10.0, "duration": 5, "shape": 1}]}, "unknown key"),
    ({"catalogues": ["nosuch"]}, "unknown catalogue"),
    ({"catalogues": ["/nonexistent/cat.so"]}, "arbor-build-catalogue"),
    ({"target_traces": {"weak": "x.csv"}}, "not several"),
    ({"target_params": {"gnabar": 0.1, "gx": 1.0}}, "unknown parameter"),
    ({"settings": {"cm@soma": "big"}}, "should be a number"),
    ({"cv_policy": "(no-such-policy 3)"}, "cv_policy"),
    ({"geometry": {"soma_radius": -1.0}}, "radii must be positive"),
    ({"dt": 0.0}, "dt must be positive"),
    ({"recordings": {"tuft": '(on-components 0.5 (region "apic"))'}}, "names no location"),
    ({"stimulus_location": '(location 9 0.5)'}, "stimulus location"),
    ({"threads": 0}, "threads must be at least 1"),
    ({"features": ["Spikecount", "ISI_CV"],
      "protocols": [{"amplitude": 0.0, "start": 10.0, "duration": 60.0}]}, "undefined in the target"),
])
def test_bad_config_is_a_config_error(make, over, match):
    with pytest.raises(ConfigError, match=match):
        opt = make(**over)
        opt.space()
        opt.objectives()
        opt.setup()


def test_unknown_keyword_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown key"):
        build("optimizee", "arbor-cell", spikes=3)


def test_gpu_request_without_gpu_build(make):
    import arbor

    if arbor.config().get("gpu"):
        pytest.skip("this Arbor build has a GPU backend")
    with pytest.raises(ConfigError, match="without GPU support"):
        make(gpu=True).setup()


def test_pickles_for_worker_processes(make):
    opt = make()
    opt.setup()
    clone = pickle.loads(pickle.dumps(opt))
    assert not hasattr(clone, "_prep") and clone.get_params() == opt.get_params()
    assert clone.evaluate(dict(TRUE), 0).fitness == (0.0,) * 12


def test_report_figure_hook(make, tmp_path):
    from l2l_arbor import plugin

    opt = make()
    best = Individual(3, 0, {"gnabar": 0.1, "gkbar": 0.04}, 0, Evaluation(fitness=(1.0,)))
    assert plugin.l2l_report_figures("function", opt, best, tmp_path) is None
    paths = plugin.l2l_report_figures("arbor-cell", opt, best, tmp_path)
    assert len(paths) == 1 and paths[0].suffix == ".png" and paths[0].stat().st_size > 10_000


def test_conforms_to_the_optimizee_contract(make):
    from l2l.testing import check_optimizee

    check_optimizee(make(), samples=4)
    check_optimizee(build("optimizee", "arbor-cell"), samples=2)  # the default cell


NML = """<neuroml xmlns="http://www.neuroml.org/schema/neuroml2" id="test">
  <morphology id="m1">
    <segment id="0" name="soma">
      <proximal x="0" y="0" z="0" diameter="20"/><distal x="20" y="0" z="0" diameter="20"/>
    </segment>
    <segment id="1" name="dend">
      <parent segment="0"/>
      <proximal x="20" y="0" z="0" diameter="1"/><distal x="220" y="0" z="0" diameter="1"/>
    </segment>
    <segmentGroup id="soma_group"><member segment="0"/></segmentGroup>
    <segmentGroup id="dendrite_group"><member segment="1"/></segmentGroup>
  </morphology>
</neuroml>
"""
ASC = """("CellBody" (Color Red) (CellBody)
  (-5 0 0 1) (0 5 0 1) (5 0 0 1) (0 -5 0 1))
((Color Blue) (Dendrite)
  (5 0 0 2) (50 0 0 2) (150 0 0 1))
"""


@pytest.mark.parametrize("suffix, text, soma, dend", [
    (".nml", NML, "soma_group", "dendrite_group"), (".asc", ASC, "soma", "dend")])
def test_neuroml_and_neurolucida_morphologies(tmp_path, suffix, text, soma, dend):
    path = tmp_path / f"cell{suffix}"
    path.write_text(text)
    centre = f'(on-components 0.5 (region "{soma}"))'
    opt = build("optimizee", "arbor-cell", morphology=str(path),
                mechanisms=[{"region": soma, "mechanism": "hh"}, {"region": dend, "mechanism": "pas"}],
                parameters={"gna": {"low": 0.05, "high": 0.3, "sets": f"hh.gnabar@{soma}"}},
                stimulus_location=centre, recordings={"soma": centre},
                protocols=[{"amplitude": 0.5, "start": 5.0, "duration": 40.0}], tfinal=50.0,
                features=["Spikecount"])
    opt.setup()
    assert opt._prepared().target_features["step1.soma.Spikecount"] >= 1  # the soma fires
    assert opt.evaluate({"gna": 0.12}, 0).fitness == (0.0,)


LEAK_MOD = """NEURON {
    SUFFIX leak
    NONSPECIFIC_CURRENT i
    RANGE g, e
}
UNITS { (mV) = (millivolt) (S) = (siemens) }
PARAMETER {
    g = 0.0003 (S/cm2)
    e = -54.3 (mV)
}
BREAKPOINT { i = g*(v - e) }
"""


def test_user_catalogue_built_with_arbor_build_catalogue(tmp_path, make):
    """A mechanism compiled by ``arbor-build-catalogue`` (a .so) and loaded with a prefix."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import arbor

    if shutil.which("cmake") is None or shutil.which("c++") is None:
        pytest.skip("arbor-build-catalogue needs cmake and a C++ compiler")
    script = Path(arbor.__file__).parent / "bin" / "arbor-build-catalogue"
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "leak.mod").write_text(LEAK_MOD)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([sys.executable, str(script), "mycat", "mod"], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=300)
    so = tmp_path / "mycat-catalogue.so"
    assert so.is_file()
    opt = make(catalogues=[{"catalogue": str(so), "prefix": "my_"}],
               mechanisms=[{"region": "soma", "mechanism": "hh", "gl": 0.0},
                           {"region": "soma", "mechanism": "my_leak"},
                           {"region": "dend", "mechanism": "pas"}],
               parameters={"e_leak": {"low": -80.0, "high": -50.0, "sets": "my_leak.e@soma"}},
               target_params=None, features=["voltage_base"],
               protocols=[{"amplitude": 0.0, "start": 10.0, "duration": 60.0}])
    opt.setup()
    assert opt.base_params() == {"e_leak": -54.3}
    _, v = opt.traces([{"e_leak": -54.3}, {"e_leak": -75.0}])
    assert v[1].mean() < v[0].mean() - 3.0  # the compiled leak sets the resting potential
