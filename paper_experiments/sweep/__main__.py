"""``python -m paper_experiments.sweep``: the many-data-sets sweep from the command line."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cvxnn_core.datasets import read_table
from paper_experiments._cli import positive
from paper_experiments.sweep.engine import run_sweep
from paper_experiments.sweep.tables import accuracy_table
from paper_experiments.sweep.tasks import DEFAULT_CACHE, METHODS, Task, suite


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m paper_experiments.sweep",
        description="Convex (gated, ReLU) against Adam/SGD on many data sets along a regularization path, on "
        "dask.distributed; results cached per (data set, method). Exits 1 when a task failed (the failures are "
        "printed; the other tasks' results are kept).",
    )
    parser.add_argument(
        "--datasets", default="all", help="comma-separated names, or 'all' (default): " + ", ".join(suite())
    )
    parser.add_argument(
        "--data-file",
        action="append",
        default=[],
        metavar="PATH#SHA256",
        help="a local UCI/OpenML CSV (label last) with its sha256; repeatable",
    )
    parser.add_argument("--methods", default=",".join(METHODS), help=f"subset of {METHODS}")
    parser.add_argument("--fractions", default="0.1,0.01,0.001", help="beta / beta_max along the path, each in (0, 1]")
    parser.add_argument("--patterns", type=positive(int, "--patterns"), default=50,
                        help="sampled gates P (default 50)")
    parser.add_argument("--n-train", type=positive(int, "--n-train"), default=500,
                        help="training rows at most (default 500)")
    parser.add_argument("--epochs", type=positive(int, "--epochs"), default=1000,
                        help="Adam/SGD epochs (default 1000)")
    parser.add_argument("--time-cap", type=positive(float, "--time-cap"), default=120.0,
                        help="seconds per convex solve (default 120)")
    parser.add_argument("--seed", type=int, default=0, help="seed of splits, gates and initialisations (>= 0)")
    parser.add_argument("--scheduler", default=None, help="tcp://HOST:PORT of an existing dask scheduler")
    parser.add_argument("--workers", type=positive(int, "--workers"), default=None,
                        help="LocalCluster workers (default: cores)")
    parser.add_argument("--cache", default=DEFAULT_CACHE, help=f"result cache (default {DEFAULT_CACHE})")
    return parser


def _tasks(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[Task]:
    """The tasks the arguments ask for; every argument is checked here, before any cluster starts."""
    known = suite()
    names = known if args.datasets == "all" else [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"--datasets: unknown data set(s) {', '.join(unknown)}; choose from: {', '.join(known)} "
                     "(or give your own file with --data-file PATH#SHA256)")
    for spec in args.data_file:
        path, sep, digest = spec.rpartition("#")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
            parser.error(f"--data-file must read PATH#SHA256 (64 hex digits), got {spec!r}")
        if not Path(path).is_file():
            parser.error(f"--data-file: no file at {path!r}")
        try:
            read_table(path, sha256=digest)
        except (TypeError, ValueError) as err:
            parser.error(f"--data-file: {err}")
    names += [f"file:{spec}" for spec in args.data_file]
    if not names:
        parser.error("no data set to run: name some with --datasets or give --data-file PATH#SHA256")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods or any(m not in METHODS for m in methods):
        parser.error(f"--methods must be a comma-separated subset of {', '.join(METHODS)}, got {args.methods!r}")
    try:
        fractions = tuple(float(f) for f in args.fractions.split(","))
    except ValueError:
        parser.error(f"--fractions must be comma-separated numbers in (0, 1], got {args.fractions!r}")
    if not all(0 < f <= 1 for f in fractions):
        parser.error(f"--fractions must each lie in (0, 1] (beta / beta_max), got {args.fractions!r}")
    if args.scheduler is not None:
        if not re.fullmatch(r"(tcp|tls)://[^/:]+:\d+", args.scheduler):
            parser.error(f"--scheduler must read tcp://HOST:PORT (an existing dask scheduler), got {args.scheduler!r}")
        if args.workers is not None:
            parser.error("--workers sizes the LocalCluster; drop it with --scheduler (that cluster has its own "
                         "workers)")
    if args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    return [
        Task(name, method, fractions, args.patterns, args.n_train, epochs=args.epochs, time_cap=args.time_cap,
             seed=args.seed)
        for name in names
        for method in methods
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Check the arguments, run the sweep, print the test-score table; 1 when a task failed (each failure printed)."""
    parser = _parser()
    args = parser.parse_args(argv)
    tasks = _tasks(parser, args)
    rows, _ = run_sweep(tasks, args.cache, scheduler=args.scheduler, workers=args.workers, log=print)
    failed = rows[rows["status"] == "error"].drop_duplicates(["dataset", "method"])
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(accuracy_table(rows).round(3).to_string())
    print(f"results cached under {args.cache}")
    for _, row in failed.iterrows():
        print(f"FAILED {row['dataset']} / {row['method']}: {str(row['note']).splitlines()[0]}", file=sys.stderr)
    if len(failed):
        total = len(tasks)
        print(f"{len(failed)} of {total} task(s) failed" + (" (all of them)" if len(failed) == total else ""),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
