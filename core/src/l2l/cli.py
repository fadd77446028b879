"""The ``l2l`` command line.

Every error a user can cause ends with one line on stderr and exit status 2 (``--debug``
shows the traceback); an interrupted run stays resumable: exit status 130 after Ctrl-C
(SIGINT), 143 after SIGTERM, 129 after SIGHUP. Reading commands open the store read-only.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Sequence

from . import __version__, serialize
from .errors import ConfigError, L2LError
from .store import DEFAULT_STORE, Store


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConfigError(message)


_opened: list[Store] = []


def _store(args: argparse.Namespace, readonly: bool = True) -> Store:
    """The store named by ``--store``: read-only for reading commands (no file is created).
    Closed when the command ends."""
    store = Store(args.store, readonly=readonly)
    _opened.append(store)
    return store


def _output_dir(path: str | None, what: str) -> None:
    """Refuse an output directory that is an existing file, before any work is done."""
    if path and Path(path).exists() and not Path(path).is_dir():
        raise ConfigError(f"{what} {path} is an existing file, not a directory")


def _output_file(path: str | None) -> None:
    """Refuse an output file whose directory does not exist, or that is a directory."""
    if not path:
        return
    if Path(path).is_dir():
        raise ConfigError(f"output {path} is a directory")
    if not Path(path).resolve().parent.is_dir():
        raise ConfigError(f"output directory {Path(path).parent} does not exist")


#: seconds the serial executor's sentinel waits after a signal before it kills a stuck run
#: (environment variable L2L_SENTINEL_GRACE)
SENTINEL_GRACE = 10.0


class _Sentinel:
    """Starts :mod:`l2l.sentinel` next to a run that evaluates in this process (the serial
    executor): if this process dies abruptly, the sentinel marks the run failed and tells the
    user to use ``--executor process``."""

    def __init__(self, store: str):
        read, self._write = os.pipe()
        watched = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, watched)  # inherited: none is lost
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", str(Path(__file__).with_name("sentinel.py")),
                 store, str(os.getpid()), str(read),
                 os.environ.get("L2L_SENTINEL_GRACE", str(SENTINEL_GRACE))],
                pass_fds=(read,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            os.close(read)

    def done(self) -> None:
        try:
            os.write(self._write, b"done")
        finally:
            os.close(self._write)
        self.process.wait()


def _progress(exp: Any) -> None:
    from .progress import ProgressDisplay

    exp.progress = ProgressDisplay(exp.generations, exp.optimizee.objectives())


def _run_and_report(exp: Any, args: argparse.Namespace) -> int:
    from .executors.serial import SerialExecutor

    _progress(exp)
    sentinel = _Sentinel(args.store) if isinstance(exp.executor, SerialExecutor) else None
    try:
        result = exp.run()
    except KeyboardInterrupt as exc:
        _stop_listening()
        signum = getattr(exc, "signum", signal.SIGINT)
        how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
        if exp.run_id is None:
            print(f"\n{how} before the run started: nothing was stored", file=sys.stderr)
        else:
            print(f"\n{how}: run {exp.run_id} is kept; continue it with "
                  f"'l2l resume {exp.run_id} --store {args.store}'", file=sys.stderr)
        return 128 + int(signum)
    finally:
        if sentinel is not None:
            sentinel.done()
    if getattr(exp, "mode", None) == "async":
        from .asynchronous import async_stats

        stats = async_stats(exp.store, result.run_id)
        print(f"run {result.run_id} {result.status}: {result.evaluations} evaluations (async) "
              f"in {args.store}" + ("" if stats is None else f"\n{stats.text()}"))
    else:
        print(f"run {result.run_id} {result.status}: {result.generations} generations, "
              f"{result.evaluations} evaluations in {args.store}")
    _print_best(result.best_candidate, exp.optimizee.objectives().names)
    if getattr(args, "validate", None) and result.best is not None:
        from .validation import validate_run

        validate_run(exp.store, result.run_id, repeats=args.validate)
    _print_validations(exp.store, result.run_id)
    if getattr(args, "report", None):
        from .report import write_report

        page = write_report(exp.store, result.run_id, Path(args.report))
        print(f"report written to {page}")
    return 0


def _stop_listening() -> None:
    """Once an interruption is being reported, further Ctrl-Cs only repeat the request: ignore
    them, so that the exit status stays the one of the first signal."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)


def cmd_run(args: argparse.Namespace) -> int:
    from .config import experiment_from_config, load_config

    _output_dir(args.report, "--report")
    config = load_config(args.config)
    exp_table = config.setdefault("experiment", {})
    if not isinstance(exp_table, dict):
        raise ConfigError("[experiment] must be a table")
    if args.seed is not None:
        exp_table["seed"] = args.seed
    if args.generations is not None:
        exp_table["generations"] = args.generations
    if args.executor is not None or args.workers is not None:
        config["executor"] = _executor_table(dict(config.get("executor", {"name": "process"})), args)
    exp = experiment_from_config(config, _store(args, readonly=False))
    return _run_and_report(exp, args)


def _executor_table(table: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The executor table with ``--executor`` / ``--workers`` applied (another executor starts
    from its defaults; the same one, perhaps qualified, keeps its settings); ``--workers`` for
    an executor without workers (``serial``) is one line naming the problem."""
    from .plugins import get_plugins

    if args.executor is not None and args.executor != table.get("name"):
        same = args.executor.rpartition(":")[2] == str(table.get("name", "")).rpartition(":")[2]
        table = {**table, "name": args.executor} if same else {"name": args.executor}
    if args.workers is not None:
        name = str(table.get("name", "process"))
        accepted = get_plugins().get("executor", name)._param_names()  # type: ignore[attr-defined]
        if "workers" not in accepted:
            raise ConfigError(f"--workers: the {name!r} executor has no workers (it takes "
                              f"{', '.join(accepted) or 'no options'}); drop --workers, or pick "
                              "an executor that has them, e.g. --executor process")
        table["workers"] = args.workers
    return table


def _executor_override(args: argparse.Namespace, config: dict[str, Any]) -> Any:
    """The executor ``--executor``/``--workers`` ask for instead of a stored run's, or None."""
    from .config import build_part
    from .parts import recorded_table
    from .plugins import get_plugins

    if args.executor is None and args.workers is None:
        return None
    plugins = get_plugins()
    table = dict(config.get("executor") or {"name": "serial"}) if args.executor \
        else recorded_table(config, "executor", plugins)
    return build_part(plugins, "executors", _executor_table(table, args))


def _check_recorded_names(record: Any, plugins: Any, chosen: dict[str, Any]) -> None:
    """One line naming every part of the run that several plugins now register (older runs
    did not record their plugins) and the options that choose."""
    from .parts import PARTS, recorded_table
    from .plugins import NameClash

    clashes = []
    for part in PARTS:
        if part not in chosen:
            try:
                plugins.get(part, recorded_table(record.config, part, plugins)["name"])
            except NameClash as exc:
                clashes.append(exc)
            except ConfigError:
                pass  # reported when the part is built
    if clashes:
        options = " ".join(f"--{c.kind} {{{'|'.join(c.plugins)}}}:{c.name}" for c in clashes)
        raise ConfigError(f"{'; '.join(c.reason for c in clashes)}; choose: "
                          f"l2l resume {record.id} {options}")


def cmd_resume(args: argparse.Namespace) -> int:
    from .config import build_part
    from .experiment import Experiment
    from .parts import recorded_table
    from .plugins import get_plugins

    _output_dir(args.report, "--report")
    store = _store(args, readonly=False)
    record = store.run(args.run)
    if record.status == "finished":
        raise ConfigError(f"run {record.id} is already finished")
    plugins = get_plugins()
    chosen = {part: build_part(plugins, f"{part}s", recorded_table(record.config, part, plugins, choice))
              for part, choice in (("optimizee", args.optimizee), ("optimizer", args.optimizer))
              if choice is not None}
    executor = _executor_override(args, record.config)
    if executor is not None:
        chosen["executor"] = executor
    _check_recorded_names(record, plugins, chosen)
    exp = Experiment.resume(store, record.id, plugins=plugins, **chosen)
    return _run_and_report(exp, args)


def _fmt(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.6g}" for v in values)


def _fmt_params(params: dict[str, Any], limit: int = 8) -> str:
    parts = []
    for k, v in params.items():
        if hasattr(v, "tolist"):
            flat = list(v.reshape(-1)) if hasattr(v, "reshape") else [v]
            shown = ", ".join(f"{x:.4g}" for x in flat[:limit])
            v = f"[{shown}{', …' if len(flat) > limit else ''}]"
        elif isinstance(v, float):
            v = f"{v:.6g}"
        parts.append(f"{k}={v}")
    return " ".join(parts)


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def cmd_runs(args: argparse.Namespace) -> int:
    runs = _store(args).runs()
    if not runs:
        print(f"no runs in {args.store}")
        return 0
    rows = [[str(r.id), r.name, r.status, str(r.generations), str(r.evaluations),
             "-" if r.best_loss is None else f"{r.best_loss:.6g}",  # best mean loss
             time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started))] for r in runs]
    print(_table(rows, ["id", "name", "status", "generations", "evaluations", "best mean loss",
                        "started"]))
    return 0


def _print_best(cand: Any, names: Sequence[str], params_limit: int = 8,
                label: str = "best") -> None:
    """The best candidate: mean ± SE of each objective over its scores, their count."""
    if cand is None:
        return
    print(f"{label}: {cand.fitness_text(names)}, generation {cand.generation}, "
          f"index {cand.index}")
    print(f"{label} parameters {_fmt_params(cand.params, params_limit)}")


def _print_validations(store: Store, run_id: int) -> None:
    from .validation import format_round, load_rounds

    objectives = store.run(run_id).objectives
    for vr in load_rounds(store, run_id):
        print(format_round(vr, objectives))


def cmd_validate(args: argparse.Namespace) -> int:
    from .validation import format_round, validate_run

    store = _store(args, readonly=False)
    record = store.run(args.run)
    executor = _executor_override(args, record.config)
    vr = validate_run(store, record.id, repeats=args.repeats, top=args.top,
                      baselines=not args.no_baselines, executor=executor)
    print(f"run {record.id} '{record.name}':")
    print(format_round(vr, record.objectives))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = _store(args)
    rec = store.run(args.run)
    print(f"run {rec.id} '{rec.name}': {rec.status}, seed {rec.seed}, "
          f"{rec.generations} generations, {rec.evaluations} evaluations")
    opt = rec.config.get("optimizer", {}).get("name")
    fun = rec.config.get("optimizee", {}).get("name")
    print(f"optimizee {fun}, optimizer {opt}, executor "
          f"{rec.config.get('executor', {}).get('name')}; objectives "
          + ", ".join(f"{n} ({d})" for n, d in zip(rec.objectives.names, rec.objectives.directions)))
    print("versions: " + ", ".join(f"{k} {v}" for k, v in rec.versions.items()))
    if rec.error:
        print(f"error: {rec.error}")
    from .asynchronous import async_stats

    timing = async_stats(store, rec.id)
    if timing is not None:
        print(timing.text() + "; each 'generation' below is a block of "
              f"{timing.block} consecutive evaluations")
    stats = {s["generation"]: s for s in store.generation_stats(rec.id)}
    per_gen = store.best_per_generation(rec.id)
    rows: list[list[str]] = []
    for g in sorted(stats):
        best = store.candidate(rec.id, *per_gen[g], rec.objectives) if g in per_gen else None
        rows.append([str(g), str(stats[g]["evaluations"]), str(stats[g]["failed"]),
                     "-" if best is None else best.fitness_text(),
                     "-" if best is None else _fmt_params(best.params, 4)])
    if rows:
        print(_table(rows, ["generation", "evaluations", "failed",
                            "best new candidate (mean ± SE)", "its parameters"]))
    _print_best(store.best_candidate(rec.id), rec.objectives.names, 16, "overall best")
    _print_validations(store, rec.id)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from .asynchronous import replay

    store = _store(args, readonly=False)
    record = store.run(args.run)
    executor = _executor_override(args, record.config)
    result, differences = replay(store, record.id, executor=executor)
    if differences:
        print(f"replay of run {record.id} as run {result.run_id} differs from the record "
              f"({len(differences)} differences); first: {differences[0]}", file=sys.stderr)
        return 1
    print(f"replay of run {record.id} as run {result.run_id}: {result.evaluations} evaluations "
          f"told in the recorded order, identical to the record (parameters, seeds, fitness, "
          f"optimizer state)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    _output_file(args.output)
    store = _store(args)
    rec = store.run(args.run)
    out = open(args.output, "w", newline="") if args.output else sys.stdout
    try:
        individuals = list(store.individuals(rec.id))
        if args.format == "json":
            data = [{"generation": i.generation, "index": i.index, "seed": i.seed,
                     "params": serialize.plain(i.params), "status": i.evaluation.status,
                     "fitness": list(i.evaluation.fitness), "error": i.evaluation.error,
                     "observation": serialize.plain(i.evaluation.observation),
                     "info": serialize.plain(i.evaluation.info),
                     "wall_time": i.evaluation.wall_time, "worker": i.evaluation.worker}
                    for i in individuals]
            json.dump({"run": rec.id, "name": rec.name, "objectives": rec.objectives.to_json(),
                       "evaluations": data}, out, indent=1)
            out.write("\n")
        else:
            import numpy as np

            pcols: list[str] = []
            for i in individuals[:1]:
                for k, v in i.params.items():
                    size = int(np.size(v)) if not isinstance(v, str) else 1
                    pcols += [k] if np.ndim(v) == 0 else [f"{k}[{j}]" for j in range(size)]
            writer = csv.writer(out)
            writer.writerow(["generation", "index", "seed", "status", *rec.objectives.names,
                             *pcols, "error", "wall_time", "worker"])
            for i in individuals:
                values: list[Any] = []
                for v in i.params.values():
                    values += [v] if np.ndim(v) == 0 else list(np.asarray(v).reshape(-1))
                fit: list[Any] = list(i.evaluation.fitness) or [""] * len(rec.objectives)
                writer.writerow([i.generation, i.index, i.seed, i.evaluation.status, *fit,
                                 *values, i.evaluation.error or "", f"{i.evaluation.wall_time:.6g}",
                                 i.evaluation.worker])
    finally:
        if out is not sys.stdout:
            out.close()
    if args.output:
        print(f"wrote {len(individuals)} evaluations to {args.output}", file=sys.stderr)
    return 0


def cmd_list_plugins(args: argparse.Namespace) -> int:
    from .plugins import get_plugins

    plugins = get_plugins()
    infos = sorted(plugins.infos, key=lambda i: (i.name != "l2l-core", i.name))
    if args.json:
        print(json.dumps(plugins.to_json(), indent=1))
        return 0
    rows = [[i.name, i.version, "ok" if i.status == "ok" else f"failed: {i.error}",
             ", ".join(i.optimizers) or "-", ", ".join(i.optimizees) or "-",
             ", ".join(i.executors) or "-"] for i in infos]
    print(_table(rows, ["distribution", "version", "status", "optimizers", "optimizees",
                        "executors"]))
    for conflict in plugins.conflicts:
        print(f"conflict: {conflict}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    _output_dir(args.output, "-o")
    store = _store(args)
    run_id = store.resolve(args.run)
    page = write_report(store, run_id, Path(args.output or f"l2l-report-{run_id}"))
    print(f"report written to {page}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .report import compare

    _output_file(args.output)
    path = compare(_store(args), list(args.runs), Path(args.output))
    print(f"comparison written to {path}")
    return 0


def cmd_new_plugin(args: argparse.Namespace) -> int:
    from .scaffold import new_plugin

    _output_dir(args.dir, "--dir")
    path = new_plugin(args.name, Path(args.dir), executor=args.executor)
    print(f"plugin package written to {path}")
    return 0


def make_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="l2l", description="Gradient-free and meta-learning optimization of "
                "neuroscience models.")
    p.add_argument("--version", action="version", version=f"l2l {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def store_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--store", default=DEFAULT_STORE, help=f"results file (default {DEFAULT_STORE})")

    def exec_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--executor", help="executor name (overrides the config)")
        sp.add_argument("--workers", type=int, help="number of workers")
        sp.add_argument("--report", metavar="DIR", help="write a report there at the end")
        sp.add_argument("--validate", type=int, metavar="N",
                        help="at the end, score the best on N fresh seeds and held-out data")

    s = sub.add_parser("run", help="run an experiment from a TOML file")
    s.add_argument("config")
    store_arg(s)
    exec_args(s)
    s.add_argument("--seed", type=int)
    s.add_argument("--generations", type=int)
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("resume", help="continue an interrupted run from its last generation")
    s.add_argument("run", help="run id or name")
    store_arg(s)
    exec_args(s)
    for part in ("optimizer", "optimizee"):
        s.add_argument(f"--{part}", metavar="PLUGIN:NAME",
                       help=f"the plugin that provides the run's {part}, when several register "
                            "its name (runs record it; older runs may need it)")
    s.set_defaults(func=cmd_resume)

    s = sub.add_parser("replay", help="re-run an async run in its recorded completion order")
    s.add_argument("run", help="run id or name")
    store_arg(s)
    s.add_argument("--executor", help="executor name (default: the run's)")
    s.add_argument("--workers", type=int, help="number of workers")
    s.set_defaults(func=cmd_replay)

    s = sub.add_parser("runs", help="list runs")
    store_arg(s)
    s.set_defaults(func=cmd_runs)

    s = sub.add_parser("show", help="summary of a run")
    s.add_argument("run")
    store_arg(s)
    s.set_defaults(func=cmd_show)

    s = sub.add_parser("validate", help="re-score a run's best on fresh seeds and held-out data")
    s.add_argument("run")
    s.add_argument("--repeats", type=int, default=16, help="fresh seeds per score (default 16)")
    s.add_argument("--top", type=int, default=1, help="how many of the best candidates (default 1)")
    s.add_argument("--no-baselines", action="store_true",
                   help="skip the optimizee's baselines (a hand design, defaults)")
    s.add_argument("--executor", help="executor name (default: the run's)")
    s.add_argument("--workers", type=int, help="number of workers")
    store_arg(s)
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("export", help="write a run's evaluations as CSV or JSON")
    s.add_argument("run")
    s.add_argument("--format", choices=["csv", "json"], default="csv")
    s.add_argument("-o", "--output", help="file (default: standard output)")
    store_arg(s)
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("list-plugins", help="installed plugins and what they register")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list_plugins)

    s = sub.add_parser("report", help="plots and an HTML page for a run")
    s.add_argument("run")
    s.add_argument("-o", "--output", metavar="DIR")
    store_arg(s)
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("compare", help="overlay the fitness curves of several runs")
    s.add_argument("runs", nargs="+")
    s.add_argument("-o", "--output", default="l2l-compare.png")
    store_arg(s)
    s.set_defaults(func=cmd_compare)

    s = sub.add_parser("new-plugin", help="write a ready third-party plugin package")
    s.add_argument("name")
    s.add_argument("--dir", default=".")
    s.add_argument("--executor", action="store_true", help="include an example executor")
    s.set_defaults(func=cmd_new_plugin)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = make_parser().parse_args(argv)
        if not getattr(args, "command", None):
            make_parser().print_help()
            return 2
        return int(args.func(args))
    except L2LError as exc:
        if debug:
            traceback.print_exc()
        print(f"l2l: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a file the user named cannot be read or written
        if debug:
            traceback.print_exc()
        where = f": {exc.filename}" if exc.filename else ""
        print(f"l2l: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # outside a run (loading plugins, reading the config)
        _stop_listening()
        signum = int(getattr(exc, "signum", signal.SIGINT))
        print(f"\nl2l: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + signum
    finally:
        while _opened:
            _opened.pop().close()


if __name__ == "__main__":
    sys.exit(main())
