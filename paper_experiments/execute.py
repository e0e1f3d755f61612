"""Run one chapter's notebook with papermill and check what it produced (see :mod:`paper_experiments.runner`).

:func:`execute_notebook` executes into a folder with a per-cell timeout capped by the chapter's budget, logs each
code cell it starts to ``run.log`` and checks the declared figures and claims (:func:`verify_outputs`);
:func:`normalise_notebook` makes the executed notebook a function of its inputs. Caching, folders and status
files are the runner's.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError, strip_color
from tqdm import tqdm

from cvxnn_core.results import atomic_write_text, load_numbers
from paper_experiments.registry import Chapter

RUN_LOG = "run.log"  # one line per code cell started, with the elapsed time
_EXCERPT_LINES = 12
_TRACEBACK_LINES = 30


@dataclass
class Execution:
    """What one execution gave: wall time and budget (s), the recorded declared claims (with ``kind`` and
    ``judged``), missing figure files, every reason the chapter failed, and the failing cell (or None)."""

    wall_s: float
    budget_s: float
    claims: dict[str, dict[str, Any]]
    missing: list[str]
    problems: list[str]
    error: dict[str, Any] | None


def execute_notebook(
    root: Path, chapter: Chapter, profile: str, out: Path, overrides: Mapping[str, Any] | None = None
) -> Execution:
    """Execute ``chapter``'s notebook (under ``root``) with papermill into ``out`` and verify what it produced.

    Each cell's timeout is capped by what is left of the chapter's wall-clock budget (a hang guard, never a
    verdict); an execution error, a timeout or a dead kernel is recorded in :attr:`Execution.error` and fails
    this chapter only. Ctrl-C stops the whole run (``KeyboardInterrupt``).
    """
    budget_s, cell_s = chapter.budget_s(profile, overrides)
    source = nbformat.read(root / chapter.notebook, as_version=4)
    total = 1 + sum(cell.cell_type == "code" for cell in source.cells)  # + the injected parameters cell
    bar = tqdm(total=total, desc=chapter.slug, unit="cell", leave=False, file=sys.stderr, disable=None)
    clock = _CellClock(cell_s, budget_s, total, out / RUN_LOG, bar)
    start = time.monotonic()
    error = None
    restore = _quiet_interrupts()
    try:
        papermill.execute_notebook(
            root / chapter.notebook,
            out / f"{chapter.slug}.ipynb",
            parameters={**chapter.params(profile), **(overrides or {}), "output_dir": str(out)},
            kernel_name="python3",
            cwd=root,
            progress_bar=False,
            log_output=False,
            timeout_func=clock.timeout,
            on_cell_start=clock.on_cell_start,
            # The kernel talks to this process over localhost; silence its per-start TCP notice.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except PapermillExecutionError as exc:
        if exc.ename == "KeyboardInterrupt":  # Ctrl-C reached the kernel too: stop the whole run
            raise KeyboardInterrupt from None
        error = _error(exc.cell_index, exc.source, exc.ename, exc.evalue, exc.traceback)
    except TimeoutError:
        limits = f"timed out (limit {clock.cell_s:g} s per cell, {clock.budget_s:g} s for the chapter)"
        error = _error(clock.index, clock.source, "TimeoutError", limits, [])
    except Exception as exc:  # a dead kernel or an unreadable notebook fails this chapter only
        error = _error(clock.index, clock.source, type(exc).__name__, str(exc), [])
    finally:
        restore()
        bar.close()
    wall_s = time.monotonic() - start
    claims, missing, problems = verify_outputs(chapter, out, profile)
    if error is not None:  # what the notebook did not produce follows from the error
        problems = [f"execution failed at cell {error['cell_index']}: {error['ename']}"]
    return Execution(wall_s, budget_s, claims, missing, problems, error)


class _CellClock:
    """nbclient hooks: remember the running cell; cap each cell's timeout by what is left of the budget.

    Each code cell that starts is logged to ``log`` (``+elapsed s  cell k/N``) and advances ``bar``.
    """

    def __init__(self, cell_s: float, budget_s: float, total: int = 0, log: Path | None = None, bar=None) -> None:
        self.cell_s, self.budget_s = cell_s, budget_s
        self.start = time.monotonic()
        self.deadline = self.start + budget_s
        self.index: int | None = None
        self.source = ""
        self.total, self.count, self.log, self.bar = total, 0, log, bar

    def on_cell_start(self, cell: nbformat.NotebookNode, cell_index: int, **_: Any) -> None:
        self.index, self.source = cell_index, cell.source
        if cell.cell_type != "code":
            return
        self.count += 1
        elapsed = time.monotonic() - self.start
        line = f"+{elapsed:8.1f} s  code cell {self.count}/{self.total} (notebook cell {cell_index})"
        if self.log is not None:
            with open(self.log, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        if self.bar is not None:
            self.bar.update()

    def timeout(self, cell: nbformat.NotebookNode) -> float:
        return max(1.0, min(self.cell_s, self.deadline - time.monotonic()))


def _quiet_interrupts() -> Callable[[], None]:
    """Make Ctrl-C during a notebook stop the run without log noise; return the function that undoes it.

    On SIGINT, logging is switched off before ``KeyboardInterrupt`` is raised: tearing down the kernel makes
    nbclient and asyncio log "kernel died" errors that say nothing to a user who pressed Ctrl-C (the CLI prints
    one line instead). Outside the main thread nothing is changed.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum: int, frame: Any) -> None:
        logging.disable(logging.CRITICAL)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    return lambda: signal.signal(signal.SIGINT, previous)


def _excerpt(text: str) -> str:
    lines = text.strip().splitlines()
    return "\n".join(lines if len(lines) <= _EXCERPT_LINES else [*lines[:_EXCERPT_LINES], "..."])


def _error(index: int | None, source: str, ename: str, evalue: str, traceback: list[str]) -> dict[str, Any]:
    return {
        "cell_index": index,
        "source": _excerpt(source),
        "ename": ename,
        "evalue": _excerpt(strip_color(evalue)),
        "traceback": "\n".join(strip_color("\n".join(traceback)).splitlines()[-_TRACEBACK_LINES:]),
    }


def verify_outputs(chapter: Chapter, out: Path, profile: str) -> tuple[dict[str, dict[str, Any]], list[str], list[str]]:
    """Declared figures present (non-empty png and svg); declared claims recorded and passed, no others.

    A claim that ``profile`` does not judge (:meth:`Claim.judged`: speed claims outside ``full``) must be
    recorded, but its comparison is kept as a measurement, not a failure.
    """
    from cvxnn_core.plotting import FIGURE_FORMATS  # matplotlib is only needed once a chapter ran

    missing = [
        f"{figure}.{fmt}"
        for figure in chapter.figures
        for fmt in FIGURE_FORMATS
        if not (out / f"{figure}.{fmt}").is_file() or (out / f"{figure}.{fmt}").stat().st_size == 0
    ]
    problems = [f"missing figure {name}" for name in missing]
    try:
        recorded = load_numbers(out)["claims"]
    except (OSError, ValueError, KeyError):
        recorded = {}
        problems.append("numbers.json is missing or unreadable")
    claims = {}
    for claim in chapter.claims:
        entry = recorded.get(claim.id)
        if entry is None:
            problems.append(f"claim {claim.id} was not recorded")
            continue
        claims[claim.id] = {**entry, "kind": claim.kind, "judged": claim.judged(profile)}
        if claim.judged(profile) and not entry.get("passed"):
            problems.append(f"claim {claim.id} failed: {entry['value']} {entry['op']} {entry['threshold']}")
    for claim_id in sorted(set(recorded) - set(chapter.claim_ids)):
        problems.append(f"undeclared claim {claim_id} (declare it in book/{chapter.slug}.toml)")
    return claims, missing, problems


_TIMING_KEYS = ("start_time", "end_time", "duration")


def normalise_notebook(path: Path, tmp: Path, final: Path) -> None:
    """Make the executed notebook a function of its inputs: no execution timestamps, no temporary path.

    Cell and notebook timings (papermill's ``start_time``/``end_time``/``duration``, nbclient's ``execution``)
    are dropped (the run's wall time is in ``status.json``), the injected parameters cell gets a fixed id, and the
    temporary folder the notebook ran in is replaced by the folder it is renamed to. Reruns with the same
    parameters then give the same bytes, apart from timings a chapter prints itself.
    """
    if not path.is_file():
        return
    notebook = nbformat.read(path, as_version=4)
    metas = [notebook.metadata.get("papermill", {}), *(cell.metadata.get("papermill", {}) for cell in notebook.cells)]
    for meta in metas:
        for key in _TIMING_KEYS:
            meta.pop(key, None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill draws a random id for the cell it inserts
    text = nbformat.writes(notebook).replace(str(tmp), str(final))
    atomic_write_text(path, text if text.endswith("\n") else text + "\n")
