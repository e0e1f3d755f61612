"""Execute chapters with papermill into cached, atomically written result folders.

For a chapter and a profile (``smoke`` or ``full``) the runner

1. computes a cache key: sha256 over the notebook's code cells, the parameter set, every
   ``*.py``/``*.mplstyle`` file of ``cvxnn_core/`` and of ``paper_experiments/benchmarks/``, the files of the
   chapter's declared ``inputs`` (saved benchmark results) and the dependency pins of ``pyproject.toml``;
2. on a hit (``_build/results/<slug>/<profile>-<key[:16]>/`` exists with an ok status) executes
   nothing; on a miss runs the notebook with papermill into ``_build/results/<slug>/.tmp-*/``
   (``cwd`` = repository root, ``output_dir`` pointing there, a per-cell timeout capped by the
   chapter's wall-clock budget, :meth:`Chapter.budget_s`: a hang guard, never a verdict);
3. checks that every declared figure exists as non-empty png and svg, that every declared claim
   is recorded in ``numbers.json`` and passed (a ``speed`` claim outside the ``full`` profile is
   recorded as a measurement without a verdict), and that no undeclared claim was recorded;
4. writes ``status.json`` and renames the folder into place: ``<profile>-<key[:16]>`` when ok,
   ``failed-<profile>-<key[:16]>`` otherwise. A killed run leaves only a ``.tmp-*`` folder, which
   the next run of that chapter removes; other chapters' folders are never touched;
5. points ``_build/results/<slug>/latest-<profile>.json`` at the folder of this run.

A run with a reader's own parameter values (``overrides``, ``run -p NAME=VALUE``) goes to its own folder
``custom-<profile>-<key[:16]>/`` (the key covers the values), is cached the same way, and never touches the
registered results or the ``latest-*`` pointers the book is built from. While a chapter runs, each code cell
it starts is logged to ``run.log`` in its folder (and shown as a progress bar on a terminal).

Every selected chapter runs even when one fails; callers decide the exit status.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
from tqdm import tqdm

from cvxnn_core.results import atomic_write_text
from paper_experiments import ConfigError, Interrupted, markdown_table
from paper_experiments.execute import execute_notebook, normalise_notebook
from paper_experiments.registry import CHAPTERS, REPO_ROOT, Chapter, check_profile, validate_registry

CORE_PACKAGE = "cvxnn_core"
# Code whose change must re-run a chapter: the core and the benchmark a chapter may run.
CODE_DIRS = (CORE_PACKAGE, "paper_experiments/benchmarks")
CORE_SUFFIXES = (".py", ".mplstyle")
STATUS_FILE = "status.json"
MAX_JOBS = os.cpu_count() or 1  # --jobs: at most one chapter per core
_EXCERPT_LINES = 12
_TRACEBACK_LINES = 30


@dataclass(frozen=True)
class Project:
    """Where things are: the repository (notebooks, core, pins), the registry, and the ``_build`` folder.

    ``output_root`` is the folder that holds ``_build/`` (the repository root unless a test or a
    caller redirects results and HTML elsewhere).
    """

    root: Path = REPO_ROOT
    chapters: Mapping[str, Chapter] = field(default_factory=lambda: CHAPTERS)
    output_root: Path | None = None

    @property
    def build_dir(self) -> Path:
        """The ``_build`` folder (results, staged book, HTML)."""
        return (self.output_root or self.root) / "_build"

    @property
    def results_dir(self) -> Path:
        """``_build/results``: one folder per chapter slug."""
        return self.build_dir / "results"

    def chapter(self, slug: str) -> Chapter:
        """The registry entry of ``slug``; an unknown slug is a :class:`ConfigError`."""
        if slug not in self.chapters:
            raise ConfigError(f"unknown chapter {slug!r}; known chapters: {', '.join(self.chapters)}")
        return self.chapters[slug]


@dataclass
class ChapterStatus:
    """The outcome of one chapter run, stored as ``status.json`` in its result folder.

    ``folder`` is the result folder's name under ``_build/results/<slug>/``; ``claims`` maps each
    declared claim that was recorded to its ``numbers.json`` entry, with its ``kind`` and ``judged``
    (False for a speed claim outside the full profile: a measurement without a verdict);
    ``budget_s`` is the chapter's wall-clock limit for this run; ``overrides`` the reader's own parameter
    values (empty for a registered run); ``core`` the hash of the code it ran against (:func:`code_hash`);
    ``error`` describes the failing
    cell (index in the executed notebook, source excerpt, error name and message); ``problems``
    lists every reason the chapter failed. ``cached`` (not stored) marks a cache hit.
    """

    slug: str
    profile: str
    key: str
    ok: bool
    folder: str
    wall_s: float
    finished_at: str
    git_sha: str | None
    claims_total: int
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)
    budget_s: float | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    core: str | None = None
    missing_figures: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    cached: bool = False

    @property
    def label(self) -> str:
        """``ok``, ``cached`` or ``failed``."""
        return "failed" if not self.ok else "cached" if self.cached else "ok"

    @property
    def claims_passed(self) -> int:
        """How many declared claims were recorded, judged and passed."""
        return sum(bool(entry.get("passed")) and entry.get("judged", True) for entry in self.claims.values())

    @property
    def claims_judged(self) -> int:
        """How many declared claims get a verdict in this run (all but speed claims outside ``full``)."""
        return self.claims_total - sum(not entry.get("judged", True) for entry in self.claims.values())

    def to_json(self) -> str:
        """The ``status.json`` text (everything but ``cached``)."""
        data = asdict(self)
        del data["cached"]
        return json.dumps(data, indent=2, sort_keys=True)


def cache_key(project: Project, chapter: Chapter, profile: str, overrides: Mapping[str, Any] | None = None) -> str:
    """sha256 over the notebook's code cells, the parameters, the code, the chapter's inputs and the pins.

    Code: every ``*.py``/``*.mplstyle`` file of :data:`CODE_DIRS`. Inputs: every file under the chapter's
    ``inputs`` folders (relative to the output root). Outputs, execution counts, metadata and markdown cells
    of the notebook do not enter the key.
    """
    notebook = nbformat.read(project.root / chapter.notebook, as_version=4)
    code = _code_files(project)
    base = project.output_root or project.root
    inputs = {
        path.relative_to(base).as_posix(): _file_hash(path)
        for folder in chapter.inputs
        for path in sorted((base / folder).rglob("*"))
        if path.is_file()
    }
    manifest = {
        "code": [cell.source for cell in notebook.cells if cell.cell_type == "code"],
        "params": {**chapter.params(profile), **(overrides or {})},
        "core": code,
        "inputs": inputs,
        "pins": _dependency_pins(project.root / "pyproject.toml"),
    }
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _code_files(project: Project) -> dict[str, str]:
    return {
        path.relative_to(project.root).as_posix(): _file_hash(path)
        for folder in CODE_DIRS
        for path in sorted((project.root / folder).rglob("*"))
        if path.suffix in CORE_SUFFIXES and path.is_file() and "__pycache__" not in path.parts
    }


def code_hash(project: Project) -> str:
    """sha256 (first 12 hex digits) of the code a chapter runs against: ``cvxnn_core`` and the benchmarks."""
    return hashlib.sha256(json.dumps(_code_files(project), sort_keys=True).encode()).hexdigest()[:12]


def _dependency_pins(pyproject: Path) -> dict[str, Any]:
    meta = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    return {
        "requires-python": meta.get("requires-python"),
        "dependencies": sorted(meta.get("dependencies", [])),
        "optional": {extra: sorted(pins) for extra, pins in meta.get("optional-dependencies", {}).items()},
    }


def git_sha(root: Path) -> str | None:
    """``git describe --always --dirty`` of ``root``, or None outside a repository or before a commit."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def read_status(folder: Path) -> ChapterStatus | None:
    """The status stored in ``folder``, or None when absent or unreadable."""
    try:
        return ChapterStatus(**json.loads((folder / STATUS_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def latest_status(project: Project, slug: str, profile: str) -> ChapterStatus | None:
    """The status of the most recent run of ``slug`` with ``profile`` (ok or failed), if any."""
    pointer = project.results_dir / slug / f"latest-{profile}.json"
    try:
        folder = json.loads(pointer.read_text(encoding="utf-8"))["folder"]
    except (OSError, ValueError, KeyError):
        return None
    return read_status(project.results_dir / slug / folder)


def result_dir(project: Project, status: ChapterStatus) -> Path:
    """The folder holding the executed notebook, numbers, figures and status of ``status``."""
    return project.results_dir / status.slug / status.folder


def failure_reason(status: ChapterStatus) -> str:
    """One line: the failing cell and error, else the verification problems."""
    if status.error:
        index = status.error.get("cell_index")
        where = "the kernel" if index is None else f"cell {index}"
        first_line = (status.error["evalue"].splitlines() or [""])[0]
        return f"{where} raised {status.error['ename']}: {first_line}"
    return "; ".join(status.problems)


def run_chapters(
    slugs: Iterable[str] | None,
    profile: str,
    force: bool = False,
    jobs: int = 1,
    project: Project | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> list[ChapterStatus]:
    """Run the chapters ``slugs`` (all when None) with ``profile``; return their statuses in that order.

    ``overrides`` (a reader's own parameter values, see :func:`run_chapter`) apply to a single chapter only.

    A chapter whose result is cached is not executed unless ``force``. Every chapter runs even when
    another fails. ``jobs`` chapters (at most one per core) run at once on a ``dask.distributed`` LocalCluster, each
    in its own worker process, the largest budgets first (the long ones do not end the run alone); in ``full``,
    chapters marked ``exclusive`` run afterwards, alone (:meth:`Chapter.runs_alone`). Ctrl-C raises
    :class:`Interrupted`: finished chapters keep their results, the interrupted one leaves only a ``.tmp-*``
    folder, which the next run of that chapter removes.
    """
    project = project or Project()
    check_profile(profile)
    if not 1 <= jobs <= MAX_JOBS:
        raise ConfigError(f"--jobs must be between 1 and {MAX_JOBS}, got {jobs}")
    selected = {slug: project.chapter(slug) for slug in (project.chapters if slugs is None else slugs)}
    if overrides and len(selected) != 1:
        raise ConfigError("parameter values (-p NAME=VALUE) apply to one chapter: name it with --chapter SLUG")
    validate_registry(selected, project.root)
    sha = git_sha(project.root)
    statuses: dict[str, ChapterStatus] = {}
    with tqdm(total=len(selected), desc="chapters", unit="chapter", file=sys.stderr, disable=None) as bar:
        if jobs == 1 or len(selected) == 1:
            for slug in selected:
                bar.set_postfix_str(slug)
                try:
                    statuses[slug] = run_chapter(project, slug, profile, force, sha, overrides)
                except KeyboardInterrupt:
                    raise Interrupted(slug, list(statuses)) from None
                bar.update()
        else:
            shared = [slug for slug, chapter in selected.items() if not chapter.runs_alone(profile)]
            shared.sort(key=lambda slug: -selected[slug].budget_s(profile)[0])
            for slug, status in _run_parallel(project, shared, profile, force, sha, jobs):
                statuses[slug] = status
                bar.set_postfix_str(slug)
                bar.update()
            for slug in [slug for slug, chapter in selected.items() if chapter.runs_alone(profile)]:
                bar.set_postfix_str(f"{slug} (alone)")
                try:
                    statuses[slug] = run_chapter(project, slug, profile, force, sha)
                except KeyboardInterrupt:
                    raise Interrupted(slug, list(statuses)) from None
                bar.update()
    return [statuses[slug] for slug in selected]


def _run_parallel(
    project: Project, slugs: list[str], profile: str, force: bool, sha: str | None, jobs: int
) -> Iterator[tuple[str, ChapterStatus]]:
    """Run ``slugs`` on a ``dask.distributed`` LocalCluster of ``jobs`` single-threaded worker processes (the engine
    of :mod:`paper_experiments.sweep`); yields ``(slug, status)`` as chapters finish."""
    if not slugs:
        return
    from distributed import Client, LocalCluster, as_completed

    with (
        LocalCluster(
            n_workers=min(jobs, len(slugs)), threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        futures = {client.submit(run_chapter, project, slug, profile, force, sha, pure=False): slug for slug in slugs}
        for future in as_completed(futures):
            yield futures[future], future.result()


def run_chapter(
    project: Project,
    slug: str,
    profile: str,
    force: bool,
    sha: str | None,
    overrides: Mapping[str, Any] | None = None,
) -> ChapterStatus:
    """Run one chapter (see the module docstring): reuse a cached result or execute and verify.

    With ``overrides`` (a reader's own values) the result goes to ``custom-<profile>-<key[:16]>/`` and is reused
    when it ran without an execution error; the registered results and ``latest-*`` pointers are not touched.
    """
    chapter = project.chapter(slug)
    overrides = dict(overrides or {})
    key = cache_key(project, chapter, profile, overrides)
    chapter_dir = project.results_dir / slug
    custom = bool(overrides)
    done_dir = chapter_dir / (_custom_folder(profile, key) if custom else _folder_name(profile, key, ok=True))
    chapter_dir.mkdir(parents=True, exist_ok=True)
    with _locked(chapter_dir):
        for stale in chapter_dir.glob(".tmp-*"):
            shutil.rmtree(stale)
        cached = read_status(done_dir)
        usable = cached is not None and cached.key == key and (cached.error is None if custom else cached.ok)
        if usable and not force:
            cached.cached = True
            if not custom:
                _point_latest(chapter_dir, profile, cached)
            return cached
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=chapter_dir))
        status = _execute(project, chapter, profile, key, tmp, sha, overrides)
        if custom:
            status.folder = _custom_folder(profile, key)
        normalise_notebook(tmp / f"{slug}.ipynb", tmp, chapter_dir / status.folder)
        atomic_write_text(tmp / STATUS_FILE, status.to_json())
        _replace_dir(tmp, chapter_dir / status.folder)
        if not custom:
            _point_latest(chapter_dir, profile, status)
    return status


def _custom_folder(profile: str, key: str) -> str:
    """``custom-<profile>-<key[:16]>``: the folder of a run with a reader's own parameter values."""
    return f"custom-{profile}-{key[:16]}"


def _folder_name(profile: str, key: str, ok: bool) -> str:
    """``<profile>-<key[:16]>`` for an ok result, ``failed-<profile>-<key[:16]>`` otherwise."""
    return f"{profile}-{key[:16]}" if ok else f"failed-{profile}-{key[:16]}"


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (released by the OS if the process dies)."""
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _replace_dir(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst``, moving an existing ``dst`` aside first (it is removed afterwards)."""
    old = None
    if dst.exists():
        old = Path(tempfile.mkdtemp(prefix=".tmp-old-", dir=dst.parent))
        os.replace(dst, old / dst.name)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old)


def _point_latest(chapter_dir: Path, profile: str, status: ChapterStatus) -> None:
    pointer = {"folder": status.folder, "key": status.key, "ok": status.ok}
    atomic_write_text(chapter_dir / f"latest-{profile}.json", json.dumps(pointer, indent=2))


def _execute(
    project: Project,
    chapter: Chapter,
    profile: str,
    key: str,
    out: Path,
    sha: str | None,
    overrides: Mapping[str, Any] | None = None,
) -> ChapterStatus:
    """Execute the notebook into ``out`` and verify what it produced; name the folder it will become."""
    run = execute_notebook(project.root, chapter, profile, out, overrides)
    return ChapterStatus(
        slug=chapter.slug,
        profile=profile,
        key=key,
        ok=not run.problems,
        folder=_folder_name(profile, key, ok=not run.problems),
        wall_s=round(run.wall_s, 2),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        git_sha=sha,
        claims_total=len(chapter.claims),
        claims=run.claims,
        budget_s=round(run.budget_s, 1),
        overrides=dict(overrides or {}),
        core=code_hash(project),
        missing_figures=run.missing,
        problems=run.problems,
        error=run.error,
    )


def status_table(statuses: Iterable[ChapterStatus]) -> str:
    """A table of chapter, profile, status (ok/cached/failed), time and budget, claims, key, git SHA.

    Claims read ``passed/judged``, followed by ``+ k measured`` for recorded claims without a verdict.
    """
    rows = []
    for s in statuses:
        claims = f"{s.claims_passed}/{s.claims_judged}"
        if s.claims_judged < s.claims_total:
            claims += f" + {s.claims_total - s.claims_judged} measured"
        budget = f"{s.budget_s:.0f} s" if s.budget_s is not None else "-"
        rows.append(
            [
                s.slug,
                s.profile,
                s.label,
                f"{s.wall_s:.1f} s",
                budget,
                claims,
                s.key[:16],
                s.git_sha or "-",
                s.finished_at,
            ]
        )
    headers = ["chapter", "profile", "status", "time", "budget", "claims", "key", "git", "finished"]
    return markdown_table(headers, rows)
