"""Run the ant GA example and draw the world of its best individual.

    python plugins/l2l-netlogo/examples/render_best.py [config.toml] [--generations N] [-o best.png]

Writes the run into ``ants.sqlite`` (next to the PNG) and the picture of the best colony (nest,
food, pheromone field, ant paths) to ``ant_colony_best.png`` unless ``-o`` says otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from l2l import experiment_from_config, load_config
from l2l_netlogo import render_colony


def main() -> None:
    here = Path(__file__).parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default=str(here / "ants-ga.toml"))
    parser.add_argument("--generations", type=int, help="override the config's generations")
    parser.add_argument("-o", "--output", default="ant_colony_best.png")
    args = parser.parse_args()
    config = load_config(args.config)
    if args.generations:
        config["experiment"]["generations"] = args.generations
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    exp = experiment_from_config(config, store=str(out.with_name("ants.sqlite")))
    result = exp.run()
    best = result.best
    print(f"run {result.run_id}: {result.generations} generations, best fitness "
          f"{result.best_fitness} ({best.evaluation.info})")
    print("best loss per generation:", [round(h, 2) for h in result.history])
    path = render_colony(exp.optimizee, best.params, best.seed, out)
    print(f"picture of the best colony: {path}")


if __name__ == "__main__":
    main()
