"""The README's learning-to-learn table: the inner EnKF's defaults against the hyper-parameters
the outer GA learned, at equal inner budget, on the test images, over fresh inner seeds.

    l2l run plugins/l2l-nest/examples/l2l-enkf.toml --store l2l.db
    python plugins/l2l-nest/examples/l2l_enkf_table.py l2l.db [--seeds 10]

``l2l validate`` (stored in the run's store) runs, for the run's best hyper-parameters and for
the defaults (the meta optimizee's baseline), one inner run per fresh seed — the same seeds for
both — and scores each inner best on the validation and the test images. Prints markdown: mean
± SE over the seeds, the paired difference (learned − defaults) in standard errors, the learned
values, the command, the wall times and the machine (``bench/machine.py`` from a clone).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

from l2l import Store, build, get_plugins
from l2l.config import build_part
from l2l.validation import FRESH, load_rounds, paired_difference, validate_run


def machine(packages: list[str]) -> object | None:
    bench = Path(__file__).resolve().parents[3] / "bench"
    if not (bench / "machine.py").exists():
        return None
    # loaded from its file: bench/ also holds nest.py and netlogo.py, which must not shadow
    # the simulators' modules
    spec = importlib.util.spec_from_file_location("l2l_bench_machine", bench / "machine.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.Machine.measure(packages)


def pct(m: float, se: float) -> str:
    return f"{100 * m:.1f} ± {100 * se:.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--run", default="l2l-enkf-digits")
    parser.add_argument("--seeds", type=int, default=10, help="fresh inner seeds (at least 5)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    m = machine(["numpy", "l2l-core", "l2l-nest", "nest-simulator"])
    store = Store(args.store)
    rec = store.run(args.run)
    rounds = [r for r in load_rounds(store, rec.id) if r.repeats == args.seeds]
    t0 = time.monotonic()
    vr = rounds[-1] if rounds else validate_run(
        store, rec.id, repeats=args.seeds,
        executor=build("executor", "process", workers=args.workers))
    validate_wall = time.monotonic() - t0
    from l2l.validation import CandidateScores

    learned: CandidateScores = vr.candidates[0]
    defaults = next(c for c in vr.candidates if c.baseline == "defaults")
    raw = {(g, i, score): [] for g, i in ((learned.generation, learned.index), (-1, 0))
           for score in ("test", "validation")}
    for g, i, score, _, _, ev in store.validation_scores(rec.id, vr.round):
        if (g, i, score) in raw:
            raw[(g, i, score)].append(ev)
    cand = store.candidate(rec.id, learned.generation, learned.index)
    assert cand is not None
    wall = (rec.ended or rec.started) - rec.started
    print(f"Outer run {rec.id} '{rec.name}' ({rec.status}): {rec.generations} generations, "
          f"{rec.evaluations} inner runs, {wall / 60:.0f} min wall time; validation round "
          f"{vr.round}: {args.seeds} fresh inner seeds"
          + (f", {validate_wall / 60:.0f} min." if not rounds else "."))
    print()
    print("| inner EnKF | hyper-parameters | inner evaluations | validation accuracy | "
          "test accuracy |")
    print("|---|---|---|---|---|")
    meta = build_part(get_plugins(), "optimizees", rec.config["optimizee"])

    def text(params: dict) -> str:
        return ", ".join(f"{k} = {v:.3g}" if isinstance(v, float) else f"{k} = {v}"
                         for k, v in params.items())

    def inner_evaluations(params: dict) -> int:
        population = int(params.get("optimizer.population",
                                    meta.defaults().get("optimizer.population", 1)))
        return population * meta.inner_generations(population)

    base = vr.candidates[-1]
    assert base is defaults
    for label, c, p in (("defaults", defaults, meta.defaults()),
                        ("learned (outer GA's best)", learned, cand.params)):
        print(f"| {label} | {text(p)} | {inner_evaluations(p)} | "
              f"{pct(c.scores['validation'].mean[0], c.scores['validation'].se[0])} | "
              f"{pct(c.scores['test'].mean[0], c.scores['test'].se[0])} |")
    print()
    for score in ("test", "validation"):
        d, se, n = paired_difference(raw[(learned.generation, learned.index, score)],
                                     raw[(-1, 0, score)])
        print(f"- {score} accuracy, learned − defaults (paired over {n} inner seeds): "
              f"{100 * d:+.1f} ± {100 * se:.1f} points = {d / se:+.1f} SE" if se > 0 else
              f"- {score}: difference {100 * d:+.1f} points (no spread)")
    print(f"- training (outer fitness = inner validation accuracy, mean over "
          f"{cand.count} inner runs): {pct(-cand.loss, cand.loss_se)}")
    print(f"- fresh inner seeds, the outer fitness again: "
          f"{pct(learned.scores[FRESH].mean[0], learned.scores[FRESH].se[0])}")
    if m is not None:
        print("\n" + "\n".join(m.finish().markdown()))  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
