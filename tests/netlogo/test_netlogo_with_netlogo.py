"""Tests that need a NetLogo 6 installation (``NETLOGO_HOME``); skipped, with the reason,
where there is none."""

from __future__ import annotations

import numpy as np
import pytest

from l2l import ConfigError, EvaluationError
from l2l.testing import check_optimizee
from l2l_netlogo import AntColony, NetLogoModel, hand_wired
from l2l_netlogo.network import INPUTS, MOTORS, N_INPUTS, synapse_mask
from l2l_netlogo.rules import World
from l2l_netlogo.workspace import find_netlogo

pytestmark = pytest.mark.skipif(
    find_netlogo() is None,
    reason=("NetLogo is not installed (NETLOGO_HOME is not set or holds no NetLogo jar); "
            "set NETLOGO_HOME to a NetLogo 6 installation to run these tests"))

GROWTH_CODE = """globals [ total ]
to setup
  clear-all
  create-turtles n-start [ setxy random-xcor random-ycor ]
  reset-ticks
end
to go
  ask turtles [ if random-float 1 < growth [ hatch 1 ] ]
  set total count turtles
  tick
end
"""

INTERFACE = """@#$#@#$#@
GRAPHICS-WINDOW
210
10
447
248
-1
-1
7.0
1
10
1
1
1
0
1
1
1
-16
16
-16
16
1
1
1
ticks
30.0

SLIDER
10
20
180
53
growth
growth
0
1
0.5
0.01
1
NIL
HORIZONTAL

SLIDER
10
60
180
93
n-start
n-start
1
50
5.0
1
1
NIL
HORIZONTAL

@#$#@#$#@
@#$#@#$#@
default
true
0
Polygon -7500403 true true 150 5 40 250 150 205 260 250
@#$#@#$#@
NetLogo 6.4.0
@#$#@#$#@
@#$#@#$#@
@#$#@#$#@
@#$#@#$#@
@#$#@#$#@
default
0.0
-0.2 0 0.0 1.0
0.0 1 1.0 0.0
0.2 0 0.0 1.0
link direction
true
0
Line -7500403 true 150 150 90 180
Line -7500403 true 150 150 210 180
@#$#@#$#@
0
@#$#@#$#@
"""


@pytest.fixture
def growth_model(tmp_path):
    path = tmp_path / "growth.nlogo"
    path.write_text(GROWTH_CODE + INTERFACE)
    return path


def test_netlogo_model_sets_globals_runs_and_reports(growth_model):
    model = NetLogoModel(model=str(growth_model), parameters={"growth": {"low": 0, "high": 1}},
                         reporters={"turtles": "count turtles"}, directions="max", ticks=3,
                         constants={"n-start": 5})
    model.setup()
    try:
        assert model.evaluate({"growth": 0.0}, 1).fitness == (5.0,)
        assert model.evaluate({"growth": 1.0}, 1).fitness == (40.0,)
        a, b = model.evaluate({"growth": 0.5}, 7), model.evaluate({"growth": 0.5}, 7)
        assert a.fitness == b.fitness and a.info["engine"] == "netlogo"
    finally:
        model.teardown()


def test_netlogo_model_follows_the_contract(growth_model):
    check_optimizee(NetLogoModel(model=str(growth_model), parameters={"growth": {"low": 0, "high": 1}},
                                 reporters=["count turtles"], ticks=3, constants={"n-start": 5}))


def test_netlogo_model_stop_reporter_ends_the_run(growth_model):
    model = NetLogoModel(model=str(growth_model), parameters={"growth": {"low": 0, "high": 1}},
                         reporters=["count turtles", "ticks"], ticks=50,
                         stop="count turtles >= 20", constants={"n-start": 5})
    assert model.evaluate({"growth": 1.0}, 0).fitness == (20.0, 2.0)
    model.teardown()


def test_netlogo_model_errors_are_one_line_config_errors(growth_model, tmp_path):
    bad_reporter = NetLogoModel(model=str(growth_model), parameters={"growth": {"low": 0, "high": 1}},
                                reporters=["count froggies"])
    with pytest.raises(ConfigError, match="reporter 'count froggies' does not compile"):
        bad_reporter.setup()
    broken = tmp_path / "broken.nlogo"
    broken.write_text(GROWTH_CODE.replace("reset-ticks\nend", "reset-ticks") + INTERFACE)
    with pytest.raises(ConfigError, match="broken.nlogo does not compile"):
        NetLogoModel(model=str(broken), parameters={"growth": {"low": 0, "high": 1}},
                     reporters=["ticks"]).setup()
    missing_global = NetLogoModel(model=str(growth_model), parameters={"speed": {"low": 0, "high": 1}},
                                  reporters=["ticks"])
    with pytest.raises(ConfigError, match="global 'speed' does not compile"):
        missing_global.setup()
    failing = NetLogoModel(model=str(growth_model), parameters={"growth": {"low": 0, "high": 1}},
                           reporters=["1 / (count turtles - 5)"], ticks=0,
                           constants={"n-start": 5})
    with pytest.raises(EvaluationError, match="NetLogo: "):
        failing.evaluate({"growth": 0.5}, 0)  # division by zero at run time
    failing.teardown()


def test_ants_model_runs_in_netlogo_and_conserves_food():
    colony = AntColony(engine="netlogo", ticks=60)
    colony.setup()
    try:
        ev = colony.evaluate(hand_wired(), 3)
        assert ev.info["engine"] == "netlogo"
        total = World.build(colony.rules()).food.sum()
        assert ev.info["food_left"] + ev.info["carried"] + ev.info["delivered"] == total
        assert ev.info["delivered"] > 0
        assert AntColony(ticks=10).make_engine().name == "netlogo"  # auto finds NetLogo
    finally:
        colony.teardown()


@pytest.mark.parametrize("d1,d2", [(1, 1), (3, 4)])
def test_netlogo_and_python_engines_agree_on_delays(d1, d2):
    # RNG-free behaviour (all ants walk straight from the nest): both engines must agree exactly
    mask = synapse_mask(10)
    w, d = np.zeros(mask.shape), np.ones(mask.shape, dtype=int)
    bias, h4, fwd = INPUTS.index("bias"), N_INPUTS + 4, 10 + MOTORS.index("forward")
    w[bias, 4], d[bias, 4] = 15.0, d1
    w[h4, fwd], d[h4, fwd] = 15.0, d2
    params = {"weights": w[mask], "delays": d[mask]}
    infos = []
    for engine in ("python", "netlogo"):
        colony = AntColony(engine=engine, ticks=4)
        infos.append(colony.evaluate(params, 0).info)
        colony.teardown()
    assert infos[0]["walked"] == pytest.approx(infos[1]["walked"])
    assert infos[0]["spikes"] == infos[1]["spikes"]
