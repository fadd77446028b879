"""Framework overhead per generation on a trivially cheap optimizee, l2l against the L2L framework
(PyPI ``l2lforhpc``) run live in the same run at equal work.

Both run a GA on 10-D Rastrigin (microseconds per evaluation) at populations 32 and 100. l2l:
``ga`` with the ``serial`` executor and the ``process`` executor (2 workers), results in one
SQLite file. L2L: its ``GeneticAlgorithmOptimizer`` with its local runner at its default of up
to 32 worker processes, stock and with its fixed polling sleeps (5 s in the coordinator and in
every worker) cut to 10 ms at run time (``bench/peers/l2lforhpc_ga.py``). Reported: seconds per
generation over the whole run (start-up included) and steady (median of the generations after
the first), the files and bytes each writes, the best value found.

L2L's import name is the same as ours, so it runs in a virtual environment of its own, created
from ``bench/requirements-overhead.txt`` under ``~/.cache/l2l-bench/`` on first use; without it
(``--no-peer-setup``, no network) its rows are skipped with the reason.

    python bench/overhead.py [--quick] [--generations 20] [--peer-generations 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import summary
from l2l import Experiment, Store, build
from l2l.executors.process import ProcessExecutor
from l2l.executors.serial import SerialExecutor
from machine import Machine
from timing import GenerationTimes

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "results" / "overhead.md"
REQUIREMENTS = BENCH / "requirements-overhead.txt"
DRIVER = BENCH / "peers" / "l2lforhpc_ga.py"
POPULATIONS = (32, 100)
SLEEP_CAP = 0.01


def folder_size(path: str) -> tuple[int, int]:
    """(files, bytes) under ``path``."""
    files = size = 0
    for folder, _, names in os.walk(path):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(folder, name))
    return files, size


def run_ours(executor_name: str, population: int, generations: int, workers: int) -> dict:
    times = GenerationTimes()
    with tempfile.TemporaryDirectory() as tmp:
        executor = (SerialExecutor(batch=False) if executor_name == "serial"
                    else ProcessExecutor(workers=workers))
        store = Store(os.path.join(tmp, "runs.db"))
        exp = Experiment(build("optimizee", "function", function="rastrigin", dimension=10),
                         build("optimizer", "ga", population=population), executor, store,
                         generations=generations, seed=0, progress=times)
        t0, cpu0 = time.perf_counter(), time.process_time()
        result = exp.run()
        total, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        store.close()
        files, size = folder_size(tmp)
        names = sorted(os.listdir(tmp))
    return {"framework": "l2l", "executor": f"{executor_name}" + ("" if executor_name == "serial"
                                                                   else f", {workers} workers"),
            "population": population, "generations": generations, "whole": total / generations,
            "steady": times.steady(), "cpu": cpu / generations, "files": files, "bytes": size,
            "names": names, "best": float(result.best_fitness[0])}


# -- the peer ------------------------------------------------------------------------------------
def cache_dir() -> Path:
    base = os.environ.get("L2L_BENCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "l2l-bench")
    return Path(base)


def peer_python(setup: bool) -> tuple[str | None, str]:
    """The Python of L2L's environment (made from the requirements file when ``setup``), or
    None and the reason it is not available."""
    env = cache_dir() / "overhead-l2lforhpc"
    python = env / "bin" / "python"
    stamp = env / "requirements.txt"
    wanted = REQUIREMENTS.read_text()
    shown = str(env).replace(os.path.expanduser("~"), "~", 1)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return str(python), f"L2L in its own environment ({shown})"
    if not setup:
        return None, (f"L2L (l2lforhpc) is not installed in {shown}; run without --no-peer-setup to "
                      f"create it from {REQUIREMENTS.relative_to(BENCH.parent)}")
    print(f"creating L2L's environment {shown} from {REQUIREMENTS.name} ...", flush=True)
    shutil.rmtree(env, ignore_errors=True)
    uv = shutil.which("uv")
    steps = ([[uv, "venv", "-q", "--python", sys.executable, str(env)],
              [uv, "pip", "install", "-q", "--python", str(python), "-r", str(REQUIREMENTS)]] if uv else
             [[sys.executable, "-m", "venv", str(env)],
              [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)]])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
            return None, f"creating L2L's environment failed: {' '.join(step[:3])}: {last[0]}"
    stamp.write_text(wanted)
    return str(python), f"L2L in its own environment ({shown}, created now)"


def run_peer(python: str, population: int, generations: int, sleep_cap: float | None,
             timeout: float) -> dict:
    """One L2L run in its own process session; its workers are killed with it."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        root = os.path.join(tmp, "root")
        os.mkdir(root)
        cmd = [python, str(DRIVER), "--population", str(population), "--generations",
               str(generations), "--root", root, "--out", out]
        if sleep_cap is not None:
            cmd += ["--sleep-cap", str(sleep_cap)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            err = f"timed out after {timeout:.0f} s"
        finally:
            try:
                os.killpg(proc.pid, 9)  # the session holds L2L's workers, which outlive its run
            except ProcessLookupError:
                pass
            proc.wait()
        if not os.path.exists(out):
            tail = (err or "").strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"L2L run failed: {tail[0]}")
        r = json.loads(Path(out).read_text())
    gens = r["generation_s"]
    steady = sorted(gens[1:])[len(gens[1:]) // 2] if len(gens) > 1 else gens[0]
    return {"framework": "L2L " + ("stock" if sleep_cap is None else f"sleeps cut to {sleep_cap * 1e3:g} ms"),
            "executor": f"local runner, {r['workers']} workers", "population": population,
            "generations": generations, "whole": r["total_s"] / generations, "steady": steady,
            "cpu": r["coordinator_cpu_s"] / generations, "files": r["files"], "bytes": r["bytes"],
            "names": None, "best": r["best"]}


def l2l_version(python: str) -> str:
    done = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('l2lforhpc'))"],
                          capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


# -- report ----------------------------------------------------------------------------------------
def render(rows: list[dict], machine: Machine, peer_note: str, args) -> tuple[str, list[dict]]:
    lines = ["# Framework overhead: l2l and the L2L framework, GA on 10-D Rastrigin", "",
             *machine.markdown(), "",
             f"l2l: `ga`, {args.generations} generations, one SQLite store file. L2L: its GA "
             f"(`GeneticAlgorithmOptimizer`, parameters of its own example) and local runner, "
             f"{args.peer_generations} generations. Peer: {peer_note}. *whole run* = wall seconds "
             "of the run divided by its generations (worker start-up included); *steady* = median "
             "of the generations after the first; *coordinator CPU* = CPU seconds of the "
             "coordinating process per generation (whole run; workers not counted), which other "
             "jobs' load inflates far less than wall time. Evaluations cost microseconds: "
             "everything measured is framework overhead.", "",
             "| framework | executor | population | s per generation, whole run | s per generation, "
             "steady | coordinator CPU s per generation | files written | bytes | best value |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        names = f" ({', '.join(r['names'])})" if r["names"] else ""
        lines.append(f"| {r['framework']} | {r['executor']} | {r['population']} | {r['whole']:.4f} | "
                     f"{r['steady']:.4f} | {r['cpu']:.4f} | {r['files']}{names} | {r['bytes']:,} "
                     f"| {r['best']:.3g} |")
    ours = {(r["executor"].split(",")[0], r["population"]): r for r in rows if r["framework"] == "l2l"}
    peers = [r for r in rows if r["framework"] != "l2l"]
    summary_rows = []
    if peers:
        lines += ["", "Steady seconds per generation of L2L over l2l's, same run:", ""]
        for p in peers:
            for ex in ("serial", "process"):
                o = ours[(ex, p["population"])]
                lines.append(f"- population {p['population']}, {p['framework']} / l2l {ex}: "
                             f"**{p['steady'] / o['steady']:,.0f}×**")
    for pop in POPULATIONS:
        serial, process = ours[("serial", pop)], ours[("process", pop)]
        stock = next((p for p in peers if p["population"] == pop and "stock" in p["framework"]), None)
        cut = next((p for p in peers if p["population"] == pop and "cut" in p["framework"]), None)
        if stock or cut:
            parts = []
            for label, p in (("stock", stock), (f"sleeps cut to {SLEEP_CAP * 1e3:g} ms", cut)):
                if p:
                    parts.append(f"{label} {p['steady']:.1f} s per generation "
                                 f"({p['steady'] / serial['steady']:,.0f}× ours in-process, "
                                 f"{p['steady'] / process['steady']:,.0f}× ours with 2 workers)")
            files = (stock or cut)["files"]  # type: ignore[index]
            reference = (f"L2L (`l2lforhpc` {args.peer_version}, live, same run, up to 32 workers): "
                         + "; ".join(parts) + f"; {files} files for "
                         f"{(stock or cut)['generations']} generations")  # type: ignore[index]
        elif args.peer_version != "not installed":
            reference = "L2L: not run at this population (`--quick` runs it at 32 only)"
        else:
            reference = f"L2L skipped: {peer_note}"
        summary_rows.append({
            "what": f"framework overhead per generation, GA on 10-D Rastrigin, population {pop}",
            "l2l": f"{serial['steady'] * 1e3:.1f} ms in-process, {process['steady'] * 1e3:.1f} ms "
                   f"with the `process` executor (2 workers); {serial['files']} store file",
            "reference": reference})
    lines += ["", f"Command: `{args.command}`."]
    return "\n".join(lines) + "\n", summary_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer generations; L2L at population 32 only")
    ap.add_argument("--generations", type=int, default=20, help="of each l2l run")
    ap.add_argument("--peer-generations", type=int, default=4,
                    help="of each L2L run (its first generation starts its workers)")
    ap.add_argument("--workers", type=int, default=2, help="of l2l's process executor")
    ap.add_argument("--no-peer-setup", action="store_true",
                    help="do not create L2L's environment; skip it if it is not there")
    ap.add_argument("--peer-timeout", type=float, default=600.0, help="seconds per L2L run")
    args = ap.parse_args()
    if args.quick:
        args.generations, args.peer_generations = 10, 2
    args.command = "python bench/overhead.py" + (" --quick" if args.quick else "")

    python, peer_note = peer_python(not args.no_peer_setup)
    if python is None:
        print(f"skipped: L2L: {peer_note}", flush=True)
    args.peer_version = l2l_version(python) if python else "not installed"
    machine = Machine.measure(["l2l-core"])
    machine.versions["l2lforhpc (own environment)"] = args.peer_version
    rows = []
    for pop in POPULATIONS:
        for executor in ("serial", "process"):
            rows.append(run_ours(executor, pop, args.generations, args.workers))
            print(f"  l2l {executor} population {pop}: {rows[-1]['steady'] * 1e3:.2f} ms per generation",
                  flush=True)
    if python:
        for pop in POPULATIONS:
            for cap in (None, SLEEP_CAP):
                if args.quick and pop != POPULATIONS[0]:
                    continue
                try:
                    rows.append(run_peer(python, pop, args.peer_generations, cap, args.peer_timeout))
                except RuntimeError as exc:
                    print(f"  {exc}", flush=True)
                    continue
                print(f"  {rows[-1]['framework']} population {pop}: {rows[-1]['steady']:.2f} s per "
                      f"generation, {rows[-1]['files']} files", flush=True)
    machine.finish()
    text, summary_rows = render(rows, machine, peer_note, args)
    print(text)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text)
    summary.write("overhead", args.command, machine.markdown()[0], summary_rows)


if __name__ == "__main__":
    main()
