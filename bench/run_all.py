"""Run every bench, then regenerate the README's "Measured" table from bench/results/.

Each bench runs niced, in its own process, with a time limit; one whose plugin or simulator is
not installed is skipped with the reason, and a bench skips its peers that are not installed
(their requirements: ``bench/requirements-<bench>.txt``). The README table is then rebuilt from
``bench/results/*.summary.json`` only (benches that wrote none are named).

    python bench/run_all.py [--quick] [--only overhead,arbor] [--table-only]

``--quick`` (each bench's quick flavour) takes under 10 minutes on 2 idle cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import summary  # noqa: E402

#: bench -> (module, package that provides it) it cannot run without; its peers are the
#: bench's own business (it skips them with the reason)
BENCHES: dict[str, tuple[tuple[str, str], ...]] = {
    "overhead": (("l2l", "core"),),
    "scaling": (("l2l", "core"),),
    "arbor": (("l2l_arbor", "plugins/l2l-arbor"),),
    "nest": (("l2l_nest", "plugins/l2l-nest"),),
    "tvb": (("l2l_tvb", "plugins/l2l-tvb"),),
    "netlogo": (("l2l_netlogo", "plugins/l2l-netlogo"),),
    "optimizers": (("l2l", "core"),),
    "async": (("l2l", "core"),),
}
#: seconds a bench may take (quick, full)
LIMITS = {"quick": 420, "full": 5400}


def missing_packages(bench: str) -> list[str]:
    return [pkg for module, pkg in BENCHES[bench] if importlib.util.find_spec(module) is None]


def _be_nice() -> None:
    """In the bench's process (its own session): nice 10, for its session's scheduling group
    too where Linux groups processes by session (autogroup), so other users' work goes first."""
    os.nice(10)
    try:
        with open("/proc/self/autogroup", "w") as fh:
            fh.write("10")
    except OSError:
        pass


def run(bench: str, quick: bool) -> tuple[str, float]:
    """Run one bench; its status and wall seconds."""
    script = BENCH / f"{bench}.py"
    if not script.exists():
        return "skipped: no script", 0.0
    missing = missing_packages(bench)
    if missing:
        return f"skipped: not installed (pip install {' '.join(f'-e {m}' for m in missing)})", 0.0
    cmd = [sys.executable, str(script.relative_to(ROOT))] + (["--quick"] if quick else [])
    limit = LIMITS["quick" if quick else "full"]
    print(f"\n=== {bench}: python {' '.join(cmd[1:])} (niced, limit {limit} s)", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, preexec_fn=_be_nice)
    try:
        code = proc.wait(timeout=limit)
        status = "ok" if code == 0 else f"failed (exit status {code})"
    except subprocess.TimeoutExpired:
        status = f"failed: over its limit of {limit} s"
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        try:  # the bench's session: its workers too
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    return status, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="each bench's quick flavour")
    ap.add_argument("--only", help="comma-separated benches (default: all)")
    ap.add_argument("--table-only", action="store_true",
                    help="run nothing; rebuild the README table from bench/results/")
    args = ap.parse_args()
    chosen = list(BENCHES) if not args.only else args.only.split(",")
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        print(f"unknown bench(es): {', '.join(unknown)} (known: {', '.join(BENCHES)})", file=sys.stderr)
        return 2
    outcomes: dict[str, tuple[str, float]] = {}
    t0 = time.perf_counter()
    if not args.table_only:
        for bench in chosen:
            outcomes[bench] = run(bench, args.quick)
            if outcomes[bench][0] == "interrupted":
                break
            if outcomes[bench][0].startswith("skipped"):
                print(f"\n=== {bench}: {outcomes[bench][0]}", flush=True)
    total = time.perf_counter() - t0
    changed = summary.update_readme()
    present = {s["bench"] for s in summary.read_all()}
    print("\n=== summary")
    for bench, (status, seconds) in outcomes.items():
        print(f"  {bench:10s} {status}" + (f", {seconds:.0f} s" if seconds else ""))
    if outcomes:
        print(f"  all benches: {total:.0f} s")
    absent = [b for b in BENCHES if b not in present]
    if absent:
        print(f"  no summary in bench/results/ yet (not in the README table): {', '.join(absent)}")
    print(f"  README.md 'Measured' table {'updated' if changed else 'unchanged'} "
          f"({len(present)} benches)")
    return 0 if all(s == "ok" or s.startswith("skipped") for s, _ in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
