"""Orchestration: isolated worker processes, the whole run, saved results and their code hash, the CLI."""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from paper_experiments._cli import positive
from paper_experiments.benchmarks.solvers.methods import run_method
from paper_experiments.benchmarks.solvers.problems import (
    DEFAULT_OUT,
    GATED_METHODS,
    GRACE_S,
    PATH_FRACTIONS,
    PATH_METHODS,
    PROFILES,
    RELU_METHODS,
    Problem,
    profile_problems,
)
from paper_experiments.benchmarks.solvers.tables import add_accuracy_columns, machine_description, target_ratios


def _run_isolated(
    problem: Problem, method: str, options: dict[str, Any], mem_cap_gb: float = 10.0
) -> tuple[dict[str, Any], list[dict]]:
    """Run one method in a fresh process with a wall-clock limit; ``dnf`` when it is exceeded."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.json"
        out = Path(tmp) / "out.json"
        spec.write_text(
            json.dumps({"problem": asdict(problem), "method": method, "options": options, "mem_cap_gb": mem_cap_gb})
        )
        env = {
            **os.environ,
            "OMP_NUM_THREADS": str(options.get("threads", 1)),
            "OPENBLAS_NUM_THREADS": str(options.get("threads", 1)),
            "MKL_NUM_THREADS": str(options.get("threads", 1)),
        }
        cmd = [sys.executable, "-m", "paper_experiments.benchmarks.solvers", "--worker", str(spec), str(out)]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, env=env, capture_output=True, text=True, timeout=options.get("time_cap", 300.0) + GRACE_S
            )
        except subprocess.TimeoutExpired:
            row = {
                **asdict(problem),
                "problem": problem.id,
                "method": method,
                "status": "dnf",
                "wall_time": time.perf_counter() - t0,
                "note": f"killed after the time cap + {GRACE_S:.0f} s",
            }
            return row, []
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr or "")[-300:]
            row = {
                **asdict(problem),
                "problem": problem.id,
                "method": method,
                "status": "error",
                "wall_time": time.perf_counter() - t0,
                "note": f"worker exit {proc.returncode}: {tail}",
            }
            return row, []
        payload = json.loads(out.read_text())
        return payload["row"], payload["trace"]


def code_hash(root: str | os.PathLike[str] | None = None) -> str:
    """sha256 (first 16 hex digits) over the sources of ``cvxnn_core`` and of this benchmark package.

    Saved results carry it (``config.json``); results of other code are stale and are not read as current.
    """
    import hashlib

    root = Path(root) if root is not None else Path(__file__).resolve().parents[3]
    package = root / "paper_experiments" / "benchmarks" / "solvers"
    files = sorted((root / "cvxnn_core").rglob("*.py")) + sorted(package.rglob("*.py"))
    digest = hashlib.sha256()
    for path in files:
        if "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cap_budget_s(problems: Sequence[Problem], time_cap: float, methods: Iterable[str] | None = None) -> float:
    """The longest an isolated :func:`run_benchmark` can take: ``time_cap + GRACE_S`` for every (problem, method).

    Every method runs in its own process, killed at ``time_cap + GRACE_S``, so this sum bounds the whole run (the
    chapter ``solver_speed`` derives its wall-clock budget from it instead of guessing one).
    """
    chosen = None if methods is None else set(methods)
    runs = sum(
        1
        for problem in problems
        for method in (GATED_METHODS if problem.kind == "gated" else RELU_METHODS)
        if chosen is None or method in chosen
    )
    return runs * (float(time_cap) + GRACE_S)


def run_benchmark(
    problems: Sequence[Problem],
    methods: Iterable[str] | None = None,
    *,
    tol: float = 1e-6,
    time_cap: float = 300.0,
    epochs: int = 2000,
    n_seeds: int = 5,
    threads: int = 1,
    isolate: bool = True,
    mem_cap_gb: float = 10.0,
    out_dir: str | os.PathLike[str] | None = None,
    log=print,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every applicable method on every problem; return ``(results, traces)`` (and write them to ``out_dir``).

    The machine description (:func:`machine_description`, with the load average after the runs) is attached as
    ``results.attrs["machine"]``.

    Problems of one ladder (same kind and data set) run in the given order; a method that did not finish within
    ``time_cap`` on one of them is skipped on the later (larger) ones. ``isolate`` runs each method in its own
    process (time cap enforced by killing it, peak memory measured per method); otherwise everything runs here
    (no kill, and the memory column is the process's running peak). ``mem_cap_gb`` limits each worker's address
    space; a method that exceeds it is recorded as ``oom``.
    """
    options = {"tol": tol, "time_cap": time_cap, "epochs": epochs, "n_seeds": n_seeds, "threads": threads}
    machine = machine_description(threads=threads)
    rows, traces = [], []
    failed: set[tuple[str, str, str]] = set()
    for problem in problems:
        applicable = GATED_METHODS if problem.kind == "gated" else RELU_METHODS
        for method in [m for m in (methods or applicable) if m in applicable]:
            ladder = (problem.kind, problem.dataset, method)
            if ladder in failed:
                rows.append(
                    {
                        **asdict(problem),
                        "problem": problem.id,
                        "method": method,
                        "status": "skipped",
                        "note": "did not finish on a smaller problem (or a larger beta)",
                    }
                )
                continue
            if isolate:
                row, trace = _run_isolated(problem, method, options, mem_cap_gb)
            else:
                row, trace = run_method(problem, method, **options)
            if row["status"] in ("dnf", "cap", "oom", "error") and method not in ("al",):
                failed.add(ladder)
            rows.append(row)
            traces.extend(trace)
            log(
                f"{problem.id:<40} {method:<14} {row['status']:<14} {row.get('wall_time', math.nan):9.3f} s  "
                f"objective {row.get('objective', math.nan):.10g}"
            )
    machine["load_after"] = os.getloadavg()
    results = add_accuracy_columns(pd.DataFrame(rows), pd.DataFrame(traces))
    traces_df = pd.DataFrame(traces, columns=["problem", "method", "run", "time", "objective"])
    if out_dir is not None:
        config = {"problems": [asdict(p) for p in problems], **options, "code_hash": code_hash()}
        save_results(out_dir, results, traces_df, machine, config)
    results.attrs["machine"] = machine
    return results, traces_df



def save_results(out_dir, results: pd.DataFrame, traces: pd.DataFrame, machine: dict, config: dict) -> Path:
    """Write ``results.csv``, ``traces.csv``, ``machine.json`` and ``config.json`` (each atomically)."""
    from cvxnn_core.results import atomic_write_text

    out = Path(out_dir)
    atomic_write_text(out / "results.csv", results.to_csv(index=False))
    atomic_write_text(out / "traces.csv", traces.to_csv(index=False))
    atomic_write_text(out / "machine.json", json.dumps(machine, indent=1, default=str))
    atomic_write_text(out / "config.json", json.dumps(config, indent=1, default=str))
    return out


def load_results(out_dir) -> tuple[pd.DataFrame, pd.DataFrame, dict] | None:
    """``(results, traces, machine)`` saved by :func:`run_benchmark`, or ``None`` if the folder has none."""
    out = Path(out_dir)
    if not (out / "results.csv").exists():
        return None
    return (
        pd.read_csv(out / "results.csv"),
        pd.read_csv(out / "traces.csv"),
        json.loads((out / "machine.json").read_text()),
    )


def saved_code_hash(out_dir) -> str | None:
    """The ``code_hash`` stored in a results folder's ``config.json`` (``None`` when absent)."""
    try:
        return json.loads((Path(out_dir) / "config.json").read_text()).get("code_hash")
    except (OSError, ValueError):
        return None


def stale_folders(parent, current: str | None = None) -> list[str]:
    """Result folders under ``parent`` produced by other code than ``current`` (default: :func:`code_hash`)."""
    parent = Path(parent)
    current = current or code_hash()
    if not parent.exists():
        return []
    return [
        p.name
        for p in sorted(parent.glob("*"))
        if p.is_dir() and (p / "results.csv").exists() and saved_code_hash(p) != current
    ]


def load_all(parent, current: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict] | None:
    """Concatenate the current benchmark folders under ``parent`` (``full``, ``scaling``, ...); ``None`` if none.

    Only folders whose ``code_hash`` equals ``current`` (default: :func:`code_hash` of this code) are read; the
    others are stale (:func:`stale_folders`). Returns ``(results, traces, machines)`` with a ``run_set`` column
    naming the folder, and the machine descriptions by folder.
    """
    parent = Path(parent)
    current = current or code_hash()
    folders = [p for p in sorted(parent.glob("*")) if p.is_dir()] if parent.exists() else []
    found = [(p.name, load_results(p)) for p in folders if saved_code_hash(p) == current]
    found = [(name, got) for name, got in found if got is not None]
    if not found:
        return None
    res = pd.concat([r.assign(run_set=name) for name, (r, _, _) in found], ignore_index=True)
    tr = pd.concat([t.assign(run_set=name) for name, (_, t, _) in found], ignore_index=True)
    return res, tr, {name: m for name, (_, _, m) in found}



def _worker(spec_path: str, out_path: str) -> int:
    import resource

    spec = json.loads(Path(spec_path).read_text())
    cap = int(spec.get("mem_cap_gb", 10) * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        row, trace = run_method(Problem(**spec["problem"]), spec["method"], **spec["options"])
    except Exception:  # pragma: no cover - reported to the parent
        traceback.print_exc()
        return 1
    Path(out_path).write_text(json.dumps({"row": row, "trace": trace}, default=float))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m paper_experiments.benchmarks.solvers",
        description="Benchmark the convex solvers of cvxnn_core against cvxpy (Clarabel, SCS), pyscnn (if "
        "installed) and Adam/SGD on the same data and patterns; writes CSV/JSON with the machine description.",
    )
    parser.add_argument(
        "--profile",
        default="mid",
        choices=list(PROFILES),
        help="problem set (default: mid); 'full': the size ladder up to (10000, 100, 2000); 'scaling': ladders "
        f"in n and in P; 'path': the small-beta column, beta / beta_max in {PATH_FRACTIONS} (methods {PATH_METHODS} "
        "unless --methods says otherwise)",
    )
    parser.add_argument(
        "--methods",
        default=None,
        help=f"comma-separated subset of {sorted(set(GATED_METHODS + RELU_METHODS))} (default: all)",
    )
    parser.add_argument("--time-cap", type=positive(float, "--time-cap"), default=300.0,
                        help="seconds per method and problem (default 300)")
    parser.add_argument("--tol", type=positive(float, "--tol"), default=1e-6,
                        help="certified relative gap of our solvers (default 1e-6)")
    parser.add_argument("--epochs", type=positive(int, "--epochs"), default=2000,
                        help="Adam/SGD epochs (full batch, default 2000)")
    parser.add_argument("--seeds", type=positive(int, "--seeds"), default=5,
                        help="Adam/SGD seeds per step size (default 5)")
    parser.add_argument("--threads", type=positive(int, "--threads"), default=1,
                        help="torch/BLAS threads per method (default 1)")
    parser.add_argument("--mem-cap-gb", type=positive(float, "--mem-cap-gb"), default=10.0,
                        help="address-space limit per worker (default 10)")
    parser.add_argument("--in-process", action="store_true", help="no worker processes (no kill, no memory)")
    parser.add_argument("--out", default=None, help=f"output folder (default {DEFAULT_OUT}/<profile>)")
    parser.add_argument("--worker", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(*args.worker)
    methods = None if args.methods is None else [m.strip() for m in args.methods.split(",") if m.strip()]
    known = sorted(set(GATED_METHODS + RELU_METHODS))
    if methods is not None and (not methods or set(methods) - set(known)):
        parser.error(f"--methods must be a comma-separated subset of {', '.join(known)}, got {args.methods!r}")
    if methods is None and args.profile.startswith("path"):
        methods = list(PATH_METHODS)
    out = args.out or f"{DEFAULT_OUT}/{args.profile}"
    results, _ = run_benchmark(
        profile_problems(args.profile),
        methods,
        tol=args.tol,
        time_cap=args.time_cap,
        epochs=args.epochs,
        n_seeds=args.seeds,
        threads=args.threads,
        isolate=not args.in_process,
        mem_cap_gb=args.mem_cap_gb,
        out_dir=out,
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(target_ratios(results).to_string(index=False))
    print(f"results written to {out}")
    failed = results[results["status"].isin(["error", "oom"])]
    for _, row in failed.iterrows():
        note = str(row.get("note", "")).strip().splitlines() or [""]
        print(f"FAILED {row['problem']} / {row['method']}: {note[0]}", file=sys.stderr)
    if len(results) and not results["status"].isin(["ok", "cap"]).any():
        print("every method failed", file=sys.stderr)
        return 1
    return 0

