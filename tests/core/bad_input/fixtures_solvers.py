"""Tiny seeded fixtures of the bad-input rows of solvers, datasets, programs and the command lines.

Each is cheap to build; some are built on first use.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import torch
from bad_input_data import *  # noqa: F403 - RNG, N, X, Y, Y_PM, D, P, BETA, NAN_X, cli, CLIError, tmpdir

from cvxnn_core import datasets, programs, solvers
from cvxnn_core.solvers.fista import _GatedSmooth

# ----------------------------------------------------------------------------------------------------------------------
# Fixtures (all cheap; the data files are written on first use)
# ----------------------------------------------------------------------------------------------------------------------

_SDC_U = RNG.standard_normal((P, 3))  # gated blocks (P, d)
_SDC_Xt = torch.as_tensor(X)
_SDC_Dt = torch.as_tensor(D).double()
_SDC_yt = torch.as_tensor(Y)[:, None]  # (n, 1)
_SDC_U3 = torch.as_tensor(_SDC_U)[:, :, None].clone()  # (P, d, 1)
_SDC_GRAM = _SDC_Xt @ _SDC_Xt.T
_SDC_SMOOTH = _GatedSmooth(_SDC_Xt, _SDC_Dt, _SDC_yt, "squared", None)
_SDC_Q0 = _SDC_SMOOTH.lift(torch.zeros_like(_SDC_U3))


def _SDC_state(step: float = 0.01) -> solvers.FistaState:
    x0 = torch.zeros_like(_SDC_U3)
    return solvers.FistaState(x=x0, q=_SDC_Q0, x_prev=x0, q_prev=_SDC_Q0, step=step)


_SDC_CSV = {
    "good.csv": "1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,10,x\n11,12,y\n13,14,x\n15,16,y\n",
    "openml.csv": "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,10,x\n11,12,y\n",  # OpenML CSV export: a header row
    "openml_quoted.csv": '"a","b","class"\n1,2,"x"\n3,4,"y"\n5,6,"x"\n7,8,"y"\n',
    "nan.csv": "1,2,x\n3,nan,y\n5,6,x\n7,8,y\n9,inf,x\n11,12,y\n13,14,x\n15,16,y\n",
    "one_row_class.csv": "1,2,x\n3,4,y\n5,6,x\n7,8,x\n9,10,x\n11,12,x\n",  # class y has a single row
}
_SDC_GOOD_SHA = "c79c161ecbe892a8e210a79d593e81d9486914bcd00492fdd87b9ad9e532f3a3"  # sha256 of good.csv
_SDC_DIR: list[Path] = []


def _SDC_csv(name: str) -> str:
    """Path of a tiny data file (written once into a temporary folder)."""
    if not _SDC_DIR:
        folder = Path(tempfile.mkdtemp(prefix="cvxnn-bad-input-csv-"))
        for file, text in _SDC_CSV.items():
            (folder / file).write_text(text)
        _SDC_DIR.append(folder)
    return str(_SDC_DIR[0] / name)


class _SDCGuardTripped(Exception):
    """A CLI went past its argument checks into real work (a chapter, the book, a dask cluster, the benchmark)."""


def _SDC_trip(what: str):
    def refuse(*args, **kwargs):
        raise _SDCGuardTripped(f"{what} would have started: the arguments were not refused first")

    return refuse


def _SDC_pe_main(argv: list[str]) -> int:
    """``python -m paper_experiments`` with results redirected to a temporary folder and no chapter/book run."""
    import paper_experiments.__main__ as pe
    import paper_experiments.runner as runner

    with mock.patch.object(runner, "run_chapter", _SDC_trip("a chapter run")), \
            mock.patch.object(runner, "_run_parallel", _SDC_trip("a dask LocalCluster of chapters")), \
            mock.patch.object(runner, "git_sha", lambda root: None), \
            mock.patch.object(pe, "build_book", _SDC_trip("the book build")):
        return pe.main(argv, runner.Project(output_root=Path(tmpdir())))  # noqa: F405


def _SDC_sweep_main(argv: list[str], compute=None) -> int:
    """``python -m paper_experiments.sweep`` whose cluster step is replaced by ``compute`` (default: refuse)."""
    import paper_experiments.sweep.__main__ as sweep_cli
    import paper_experiments.sweep.engine as engine

    with mock.patch.object(engine, "_compute", compute or _SDC_trip("a dask LocalCluster (sweep)")):
        return sweep_cli.main([*argv, "--cache", tmpdir()])  # noqa: F405


def _SDC_sweep_all_fail_main(argv: list[str]) -> int:
    """The sweep where every task comes back as an error record (a data set no worker can load)."""
    import paper_experiments.sweep.engine as engine

    return _SDC_sweep_main(
        argv, lambda pending, *rest: [engine._error_record(task, "ValueError: cannot load") for task, _ in pending]
    )


def _SDC_bench_main(argv: list[str]) -> int:
    """``python -m paper_experiments.benchmarks.solvers`` with ``run_benchmark`` refused and output in a tmp folder."""
    import paper_experiments.benchmarks.solvers.runs as bench  # the module whose main calls run_benchmark

    with mock.patch.object(bench, "run_benchmark", _SDC_trip("the solver benchmark")):
        return bench.main([*argv, "--out", tmpdir()])  # noqa: F405


def _SDC_bench_all_fail_main(argv: list[str]) -> int:
    """The benchmark (tiny, in-process) where every method errors at once (no solver runs)."""
    import paper_experiments.benchmarks.solvers.runs as bench  # the module whose run_benchmark calls run_method

    def failing(problem, method, **options):
        row = {"problem": problem.id, "method": method, "status": "error", "wall_time": 0.0, "note": "ValueError: x"}
        return row, []

    with mock.patch.object(bench, "run_method", failing):
        return bench.main([*argv, "--in-process", "--out", tmpdir()])  # noqa: F405


_SDC_SPLIT = lambda **kw: datasets.split_standardised(X, Y_PM, "t", **kw)  # noqa: E731
_SDC_FG = lambda **kw: solvers.fista_gated(X, Y, BETA, D, max_iters=50, **kw)  # noqa: E731
_SDC_AL = lambda **kw: solvers.al_relu(X, Y, BETA, D, max_iters=200, **kw)  # noqa: E731
_SDC_AS = lambda **kw: solvers.active_set_relu(X, Y, BETA, D, **kw)  # noqa: E731
_SDC_SN = lambda *a, **kw: solvers.support_newton(*a, **kw)  # noqa: E731
_SDC_ND = lambda U=_SDC_U3, beta=0.1, gram=_SDC_GRAM, y=_SDC_yt: solvers.newton_direction(  # noqa: E731
    _SDC_Xt, _SDC_Dt, y, U, beta, gram)
_SDC_ZERO_LAST = torch.cat([_SDC_U3[:-1], torch.zeros_like(_SDC_U3[:1])])

# ----------------------------------------------------------------------------------------------------------------------
# Rows
# ----------------------------------------------------------------------------------------------------------------------

_POSNUM = "must be a positive number"



_SDC_MNIST: dict[str, tuple[Path, dict[str, str]]] = {}


def _SDC_mnist(kind: str) -> tuple[Path, dict[str, str]]:
    """A folder of tiny MNIST files (``"csv"`` or ``"idx"``) and their checksums (written once)."""
    from mnist_files import write_csv, write_idx

    if kind not in _SDC_MNIST:
        folder = Path(tempfile.mkdtemp(prefix=f"mnist_{kind}_"))
        _SDC_MNIST[kind] = folder, (write_csv if kind == "csv" else write_idx)(folder)
    return _SDC_MNIST[kind]


def _SDC_LM(kind: str = "csv", **kwargs):
    folder, sums = _SDC_mnist(kind)
    return datasets.load_mnist(**{"source": kind, "path": folder, "checksums": sums, **kwargs})


def _SDC_truncated_idx() -> tuple[Path, dict[str, str]]:
    """A copy of the tiny IDX folder whose training-images file stops inside its header (checksums updated)."""
    import gzip
    import hashlib
    import shutil

    if "truncated" not in _SDC_MNIST:
        source, sums = _SDC_mnist("idx")
        folder = Path(tempfile.mkdtemp(prefix="mnist_truncated_"))
        for name in sums:
            shutil.copy(source / name, folder / name)
        bad = folder / "train-images-idx3-ubyte.gz"
        bad.write_bytes(gzip.compress(b"\x00\x00\x08\x03\x00\x00", mtime=0))
        _SDC_MNIST["truncated"] = folder, {**sums, bad.name: hashlib.md5(bad.read_bytes()).hexdigest()}
    return _SDC_MNIST["truncated"]


def _SDC_bright_csv() -> tuple[Path, dict[str, str]]:
    """A CSV folder whose first training pixel is 300 (not a byte), with its checksums."""
    import hashlib

    from mnist_files import write_csv

    if "bright" not in _SDC_MNIST:
        folder = Path(tempfile.mkdtemp(prefix="mnist_bright_"))
        sums = write_csv(folder)
        train = folder / "mnist_train.csv"
        lines = train.read_text().splitlines()
        cells = lines[1].split(",")
        lines[1] = ",".join([cells[0], "300", *cells[2:]])
        train.write_text("\n".join(lines) + "\n")
        _SDC_MNIST["bright"] = folder, {**sums, train.name: hashlib.sha256(train.read_bytes()).hexdigest()}
    return _SDC_MNIST["bright"]


__all__ = [name for name in list(globals()) if not name.startswith("__")]  # private fixtures too
