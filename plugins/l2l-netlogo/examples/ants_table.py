"""The README's ant table: an optimized run against the hand-wired controller and random
networks, on the same fresh worlds, and its learning curve.

    l2l run plugins/l2l-netlogo/examples/ants-ga.toml --store ants.db
    python plugins/l2l-netlogo/examples/ants_table.py ants.db [--run ants-ga] [--worlds 16]
        [--fewer-ants 1,2]

Prints markdown: what ``l2l validate`` stores for the run's best (training mean, fresh worlds,
the hand-wired baseline, all on the same ``--worlds`` seeds), ``--random`` random networks
(one fresh world each, the same seeds), and the best so far at ``--points`` generations scored
on the same fresh worlds (mean ± SE against evaluations), optionally the best and the
hand-wired controller with fewer ants, with the run's setting, its wall time and the machine
(``bench/machine.py`` when run from a clone).

Every fresh-world score is food delivered: a run trained on another objective (``fitness =
["shaped"]``, a training signal) is scored with ``fitness = ["food"]``, its training column
keeps the objective it was trained on.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

from l2l import Store, build, get_plugins
from l2l.config import build_part
from l2l.noise import fmt_mean_se, mean_se
from l2l.validation import FRESH, best_at, load_rounds, score_params, validate_run, validation_seed
from l2l_netlogo import AntColony
from l2l_netlogo.engine import PythonEngine


def machine_line(packages: list[str]) -> tuple[object | None, str]:
    bench = Path(__file__).resolve().parents[3] / "bench"
    if (bench / "machine.py").exists():
        # loaded from its file: bench/ also holds nest.py and netlogo.py, which must not shadow
        # the simulators' modules
        spec = importlib.util.spec_from_file_location("l2l_bench_machine", bench / "machine.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[spec.name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        return module.Machine.measure(packages), ""
    return None, "(bench/machine.py not found: machine not measured)"


def fresh_food(per: dict) -> tuple[float, float]:
    """Mean ± SE of the food over one controller's successful fresh-world scores."""
    return mean_se([e.fitness[0] for e in per[FRESH] if e.ok])


def print_behaviour(colony: AntColony, controllers: dict, seeds: list[int]) -> None:
    """Per delivery: ticks spent carrying and searching, nest distance closed while carrying;
    per ant: distance walked (mean over the worlds, Python engine)."""
    rules = colony.rules()
    engine = PythonEngine(rules)
    print(f"\nHow they forage, in the same {len(seeds)} fresh worlds (per delivery: ant-ticks "
          f"carrying food and searching for it, nest distance closed while carrying).\n")
    print("| controller | delivered | ticks carrying | ticks searching | distance homed | "
          "walked per ant (of " + f"{rules.ticks}) |")
    print("|---|---|---|---|---|---|")
    delays = None if colony.optimize_delays else colony.fixed_delays()
    for name, p in controllers.items():
        n = len(seeds)
        out = engine.run([p["weights"]] * n, [p["delays"] if delays is None else delays] * n,
                         seeds, record=True)
        total = max(int(out.delivered.sum()), 1)
        carrying = out.carrying[:, 1:].sum()   # type: ignore[index]
        searching = out.carrying[:, 1:].size - carrying   # type: ignore[index]
        print(f"| {name} | {out.delivered.mean():.1f} | {carrying / total:.1f} | "
              f"{searching / total:.1f} | {out.homing.sum() / total:.1f} | "   # type: ignore[union-attr]
              f"{out.walked.mean() / rules.n_ants:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--run", default="ants-ga")
    parser.add_argument("--worlds", type=int, default=16)
    parser.add_argument("--random", type=int, default=16, help="random networks")
    parser.add_argument("--points", type=int, default=8, help="points of the learning curve")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--behaviour", action="store_true",
                        help="how the best and the hand-wired controller forage, in the same "
                             "fresh worlds (time per trip, homing, walking)")
    parser.add_argument("--fewer-ants", default="",
                        help="comma-separated ant counts: the best and the hand-wired controller "
                             "again with that many ants, in the same fresh worlds")
    args = parser.parse_args()
    machine, note = machine_line(["numpy", "l2l-core", "l2l-netlogo"])
    store = Store(args.store)
    rec = store.run(args.run)
    plugins = get_plugins()
    food_config = {**rec.config["optimizee"], "fitness": ["food"]}
    trained_on_food = list(rec.config["optimizee"].get("fitness", ["food"]))[:1] == ["food"]
    optimizee = build_part(plugins, "optimizees", food_config)

    def executor():
        return build("executor", "process", workers=args.workers)

    rounds = [r for r in load_rounds(store, rec.id) if r.repeats == args.worlds]
    vr = rounds[-1] if rounds else validate_run(store, rec.id, repeats=args.worlds,
                                                executor=executor())
    seeds = [validation_seed(rec.seed, vr.round, r) for r in range(args.worlds)]
    best = vr.candidates[0]
    hand = next(c for c in vr.candidates if c.baseline == "hand-wired")
    best_params = store.candidate(rec.id, best.generation, best.index).params
    hand_params = optimizee.baselines()["hand-wired"]
    if trained_on_food:
        best_fresh, hand_fresh = ((c.scores[FRESH].mean[0], c.scores[FRESH].se[0])
                                  for c in (best, hand))
    else:  # validate_run scored the training objective: score food in the same worlds
        rescored = score_params(optimizee, [best_params, hand_params], seeds, [FRESH], executor())
        best_fresh, hand_fresh = (fresh_food(per)
                                  for per in rescored)
    rng = np.random.default_rng(12345)
    space = optimizee.space()
    nets = space.sample(rng, args.random)
    random_scores = score_params(optimizee, nets, seeds, [FRESH], executor())
    rand = [per[FRESH][k].fitness[0] for k, per in enumerate(random_scores)]  # world k for net k

    stats = store.generation_stats(rec.id)
    evaluations = np.cumsum([s["evaluations"] for s in stats])
    last = len(stats) - 1
    points = sorted({int(round(x)) for x in np.linspace(0, last, args.points)})
    curve_params, curve_rows = [], []
    for g in points:
        cand = best_at(store, rec.id, g)
        if cand is not None:
            curve_params.append(cand.params)
            curve_rows.append((g, int(evaluations[g]), cand))
    curve = score_params(optimizee, curve_params, seeds, [FRESH], executor())

    wall = (f"{(rec.ended - rec.started) / 60:.0f} min wall time" if rec.ended is not None
            else "wall time not recorded (its process ended without closing the run)")
    ants = rec.config["optimizee"]
    setting = ", ".join(f"{k} {ants[k]}" for k in ("n_ants", "world_size", "ticks") if k in ants)
    exp = rec.config.get("experiment", {})
    print(f"Run {rec.id} '{rec.name}' ({rec.status}; {setting}; {rec.config['optimizer']['name']} "
          f"population {rec.config['optimizer'].get('population')}, repeats "
          f"{exp.get('repeats', 1)}, reevaluate {exp.get('reevaluate', 0)}): {rec.generations} "
          f"generations, {rec.evaluations} colony simulations, {wall}.\n")
    trained = rec.objectives.names[0]
    print(f"| controller | food, mean ± SE over {args.worlds} fresh worlds | training score "
          f"({trained}) |")
    print("|---|---|---|")
    t = best.training
    print(f"| optimized (run's best, generation {best.generation}) | "
          f"{fmt_mean_se(*best_fresh)} | "
          f"{fmt_mean_se(t['mean'][0], t['se'][0])} (n {t['count']}) |")
    print(f"| hand-wired (`hand_wired()`) | "
          f"{fmt_mean_se(*hand_fresh)} | - |")
    m, se = mean_se(rand)
    print(f"| random networks ({args.random}, one world each) | {fmt_mean_se(m, se)} | - |")
    diff, diff_se = best_fresh[0] - hand_fresh[0], float(np.hypot(best_fresh[1], hand_fresh[1]))
    print(f"\nOptimized − hand-wired: {fmt_mean_se(diff, diff_se)} "
          f"({diff / diff_se if diff_se > 0 else float('inf'):+.1f} SE, the SEs combined as "
          f"if independent; both in the same worlds).")
    print(f"\nLearning curve: the best so far after each generation, scored in the same "
          f"{args.worlds} fresh worlds.\n")
    print(f"| generation | evaluations | training mean, {trained} (n) | fresh worlds, food, "
          f"mean ± SE |")
    print("|---|---|---|---|")
    hand_mean = hand_fresh[0]
    crossed = None
    for (g, n, cand), per in zip(curve_rows, curve):
        fm, fse = fresh_food(per)
        if crossed is None and fm >= hand_mean:
            crossed = n
        print(f"| {g} | {n} | {fmt_mean_se(cand.mean[0], cand.se[0])} ({cand.count}) | "
              f"{fmt_mean_se(fm, fse)} |")
    print(f"\nThe best so far reaches the hand-wired controller's mean ({hand_mean:.1f}) on fresh "
          f"worlds " + (f"after {crossed} evaluations." if crossed is not None else
                        f"at none of these points (not within {rec.evaluations} evaluations)."))
    counts = [int(n) for n in args.fewer_ants.split(",") if n.strip()]
    if counts:
        print("\nThe same two controllers with fewer ants, in the same fresh worlds.\n")
        print("| ants | optimized | per ant | hand-wired | per ant |")
        print("|---|---|---|---|---|")
        for n in counts:
            fewer = build_part(plugins, "optimizees", {**food_config, "n_ants": n})
            per = score_params(fewer, [best_params, hand_params],
                               seeds, [FRESH], executor())
            cells = []
            for scored in per:
                fm, fse = fresh_food(scored)
                cells += [fmt_mean_se(fm, fse), f"{fm / n:.1f}"]
            print(f"| {n} | " + " | ".join(cells) + " |")
    if args.behaviour:
        print_behaviour(optimizee, {"optimized": best_params, "hand-wired": hand_params}, seeds)
    if machine is not None:
        print("\n" + "\n".join(machine.finish().markdown()))  # type: ignore[attr-defined]
    else:
        print("\n" + note)


if __name__ == "__main__":
    main()
