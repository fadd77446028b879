"""The embedded Python engine of the ants model: rules, conservation, determinism, batching."""

from __future__ import annotations

import numpy as np
import pytest

from l2l import ConfigError
from l2l_netlogo import AntColony, PythonEngine, Rules, hand_wired, n_synapses
from l2l_netlogo.engine import diffuse, pickups
from l2l_netlogo.network import N_INPUTS, INPUTS, MOTORS, synapse_endpoints, synapse_mask
from l2l_netlogo.rules import World


def random_networks(n: int, seed: int = 0, hidden: int = 10) -> tuple[list, list]:
    rng = np.random.default_rng(seed)
    size = n_synapses(hidden)
    return ([rng.uniform(-20, 20, size) for _ in range(n)],
            [rng.integers(1, 8, size) for _ in range(n)])


def test_reference_network_has_250_synapses_in_the_netlogo_order():
    assert n_synapses(10) == 250 == synapse_mask(10).sum()
    pre, post = synapse_endpoints(10)
    # the rule of build-synapses in ants.nlogo: row-major, inputs reach hidden neurons only
    expected = [(p, q) for p in range(N_INPUTS + 10) for q in range(10 + len(MOTORS))
                if p >= N_INPUTS or q < 10]
    assert list(zip(pre.tolist(), post.tolist())) == expected
    assert len(INPUTS) == 11 and len(MOTORS) == 4


def test_space_matches_the_reference_experiment():
    space = AntColony().space()
    assert space.dim == 500
    assert (space["weights"].low, space["weights"].high, space["weights"].shape) == (-20, 20, (250,))
    assert (space["delays"].low, space["delays"].high, space["delays"].kind) == (1, 7, "int")
    assert AntColony().rules().n_ants == 15


def test_diffusion_conserves_pheromone_and_evaporation_removes_a_fraction():
    rules = Rules(world_size=11)
    world = World.build(rules)
    rng = np.random.default_rng(3)
    field = rng.uniform(0, 50, (2, 11, 11))
    out = diffuse(field, 0.5, world.neighbours)
    np.testing.assert_allclose(out.sum(axis=(1, 2)), field.sum(axis=(1, 2)), rtol=1e-13)
    assert (out >= 0).all()
    # a single interior source: keeps half, each of its 8 neighbours gets 1/16
    spot = np.zeros((11, 11))
    spot[5, 5] = 16.0
    one = diffuse(spot, 0.5, world.neighbours)
    assert one[5, 5] == 8.0 and one[4:7, 4:7].sum() == 16.0 and one[4, 4] == 1.0
    # a corner has 3 neighbours: it keeps its own half plus the 5 missing shares
    corner = np.zeros((11, 11))
    corner[0, 0] = 16.0
    c = diffuse(corner, 0.5, world.neighbours)
    assert c[0, 0] == 8.0 + 5.0 and c[1, 0] == c[0, 1] == c[1, 1] == 1.0 and c.sum() == 16.0
    # evaporation in a run: with no ant laying pheromone the field stays zero
    zero = PythonEngine(Rules(ticks=20)).run([np.zeros(250)], [np.ones(250, dtype=int)], [0])
    assert zero.pheromone.sum() == 0.0 and zero.walked[0] == 0.0


def test_food_is_conserved_and_pickups_respect_the_food_on_a_patch():
    engine = PythonEngine(Rules(ticks=150))
    w, d = random_networks(5, seed=1)
    hw = hand_wired()
    out = engine.run(w + [hw["weights"]], d + [hw["delays"]], list(range(6)))
    total = engine.world.food.sum()
    assert total > 0
    np.testing.assert_array_equal(out.food_left + out.carried + out.delivered, total)
    assert (out.food >= 0).all()
    # two ants want food on a patch holding one unit: only the first (index order) gets it
    food = np.zeros((1, 5, 5), dtype=np.int64)
    food[0, 2, 2] = 1
    hx = np.array([[2, 2, 3]])
    hy = np.array([[2, 2, 3]])
    want = np.array([[True, True, False]])
    take = pickups(want, food, hx, hy)
    assert take.tolist() == [[True, False, False]] and food[0, 2, 2] == 0


def test_each_run_is_determined_by_its_seed():
    engine = PythonEngine(Rules(ticks=120))
    hw = hand_wired()
    a = engine.run([hw["weights"]], [hw["delays"]], [7], record=True)
    b = engine.run([hw["weights"]], [hw["delays"]], [7], record=True)
    c = engine.run([hw["weights"]], [hw["delays"]], [8], record=True)
    np.testing.assert_array_equal(a.paths, b.paths)
    np.testing.assert_array_equal(a.pheromone, b.pheromone)
    assert a.delivered[0] == b.delivered[0]
    assert not np.array_equal(a.paths, c.paths)


@pytest.mark.parametrize("d1,d2", [(1, 1), (3, 4), (7, 7)])
def test_synaptic_delays_postpone_the_first_step(d1, d2):
    # bias -> hidden 4 (delay d1) -> forward motor (delay d2): the bias input fires every step
    # from step 0, so the first forward spike is at step d1 + d2 and each one moves 1/5 patch
    rules = Rules(ticks=4)
    mask = synapse_mask(10)
    w, d = np.zeros(mask.shape), np.ones(mask.shape, dtype=int)
    bias, h4, fwd = INPUTS.index("bias"), N_INPUTS + 4, 10 + MOTORS.index("forward")
    w[bias, 4], d[bias, 4] = 15.0, d1
    w[h4, fwd], d[h4, fwd] = 15.0, d2
    out = PythonEngine(rules).run([w[mask]], [d[mask]], [0])
    steps = rules.ticks * rules.substeps - (d1 + d2)
    assert out.walked[0] == pytest.approx(rules.n_ants * steps / rules.substeps)


def test_hand_wired_network_forages_better_than_random_ones():
    engine = PythonEngine(Rules(ticks=200))
    hw = hand_wired()
    seeds = [11, 12, 13]
    hand = engine.run([hw["weights"]] * 3, [hw["delays"]] * 3, seeds)
    w, d = random_networks(12, seed=5)
    rand = engine.run(w, d, list(range(12)))
    assert hand.delivered.min() >= 20
    assert hand.delivered.mean() > 3 * rand.delivered.mean() + 5
    assert (hand.first_delivery < 200).all()


def test_batch_path_equals_one_at_a_time():
    colony = AntColony(engine="python", ticks=80, fitness=["food", "first_delivery"])
    w, d = random_networks(4, seed=9)
    hw = hand_wired()
    params = [{"weights": a, "delays": b} for a, b in zip(w, d)] + [hw]
    seeds = [101, 102, 103, 104, 105]
    batch = colony.evaluate_batch(params, seeds)
    single = [colony.evaluate(p, s) for p, s in zip(params, seeds)]
    assert [e.fitness for e in batch] == [e.fitness for e in single]
    assert [e.info for e in batch] == [e.info for e in single]
    assert all(e.info["engine"] == "python" for e in batch)
    assert batch[-1].info["delivered"] > 0
    engine = PythonEngine(colony.rules())
    many = engine.run(w, d, seeds[:4], record=True)
    for i in range(4):
        one = engine.run([w[i]], [d[i]], [seeds[i]], record=True)
        np.testing.assert_array_equal(one.paths[0], many.paths[i])
        np.testing.assert_array_equal(one.pheromone[0], many.pheromone[i])


def test_fitness_objectives_and_info():
    colony = AntColony(engine="python", ticks=100, fitness=["food", "first_delivery"])
    obj = colony.objectives()
    assert obj.names == ("food", "first_delivery") and obj.directions == ("max", "min")
    ev = colony.evaluate(hand_wired(), 4)
    info = ev.info
    assert ev.fitness[0] == pytest.approx(info["delivered"] - 0.001 * info["wasted"] / 15)
    assert ev.fitness[1] == info["first_delivery"] < 100



def test_fixed_delays_leave_only_the_weights_to_the_optimizer():
    fixed = AntColony(engine="python", ticks=80, optimize_delays=False, delay=2)
    space = fixed.space()
    assert space.dim == 250 and list(space.names) == ["weights"]
    weights, _ = random_networks(2, seed=5)
    seeds = [11, 12]
    ones = [np.full(250, 2)] * 2
    free = AntColony(engine="python", ticks=80)
    got = fixed.evaluate_batch([{"weights": w} for w in weights], seeds)
    want = free.evaluate_batch([{"weights": w, "delays": d} for w, d in zip(weights, ones)], seeds)
    assert [e.fitness for e in got] == [e.fitness for e in want]
    # the hand design (all delays 1) is a baseline of the weights-only space with delay 1 only
    assert set(AntColony(optimize_delays=False).baselines()["hand-wired"]) == {"weights"}
    assert fixed.baselines() == {}
    with pytest.raises(ConfigError, match="delay must lie in"):
        AntColony(optimize_delays=False, delay=9).space()


def test_shaped_objective_adds_the_homing_of_carrying_ants():
    colony = AntColony(engine="python", n_ants=5, world_size=31, ticks=200,
                       fitness=["food", "shaped"], homing_bonus=2.0)
    assert colony.objectives().directions == ("max", "max")
    hand = colony.evaluate(hand_wired(), 3)
    food, shaped = hand.fitness
    homing = hand.info["homing"]
    assert shaped == pytest.approx(food + 2.0 * homing / 15)
    # the hand design carries food home: about one nest-to-food distance (6-14) per delivery
    assert hand.info["delivered"] > 5 and 5 < homing / hand.info["delivered"] < 15
    # a network that never moves closes no distance: shaped == food
    still = colony.evaluate({"weights": np.zeros(250), "delays": np.ones(250, dtype=int)}, 3)
    assert still.info["homing"] == 0.0 and still.fitness[0] == still.fitness[1]
