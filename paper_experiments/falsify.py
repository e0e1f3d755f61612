"""Falsifiers: every ``paper`` claim names parameter overrides under which it must fail, and this module checks it.

A claim that holds whatever the parameters is not evidence of anything. Each ``paper`` claim of ``book/<slug>.toml``
declares ``falsify = { name = value, ... }`` (overrides of the notebook's parameters: too few patterns, the wrong
normalisation, width one, a perturbed recovery, ...) and ``falsify_why``. :func:`run_falsifiers` runs each chapter
once per distinct falsifier (claims that share overrides share the run), on top of a profile (``smoke`` by default),
through the runner's custom-parameter path (cached by key, results in their own folders, never over the book's), and
reports, per claim, the value it measured there and whether it failed as it must. A falsifier under which its claim
still holds, or under which the chapter does not run, is an error. The report is written to
``_build/falsify/<profile>.json`` (atomically) for the book's Claims page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cvxnn_core.results import atomic_write_text
from paper_experiments import ConfigError, markdown_table
from paper_experiments.registry import Chapter, Claim, check_profile, validate_registry
from paper_experiments.runner import MAX_JOBS, Project, failure_reason, git_sha, run_chapter

REPORT_DIR = "falsify"
FALSIFY_PROFILE = "smoke"  # the profile under the falsifiers in the book build and the test suite


@dataclass(frozen=True)
class FalsifyRow:
    """One claim under its falsifier: the overrides, why they must break it, what the run measured, the verdict.

    ``broken`` is True when the claim was measured and failed (as it must); ``problem`` says why the row is an error
    otherwise (the claim still holds, was not recorded, or the chapter failed)."""

    claim_id: str
    overrides: dict[str, Any]
    why: str
    value: float | None
    requirement: str
    broken: bool
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.broken and self.problem is None


def overrides_text(overrides: dict[str, Any]) -> str:
    """``name=value`` pairs, in order (how a reader passes them to ``run -p``)."""
    return ", ".join(f"{name}={value!r}" for name, value in overrides.items())


def falsifier_runs(chapter: Chapter) -> list[tuple[dict[str, Any], list[Claim]]]:
    """The distinct falsifiers of a chapter, each with the claims it must break (one chapter run each)."""
    runs: dict[str, tuple[dict[str, Any], list[Claim]]] = {}
    for claim in chapter.claims:
        if claim.falsify is None:
            continue
        key = json.dumps(claim.falsify, sort_keys=True)
        runs.setdefault(key, (dict(claim.falsify), []))[1].append(claim)
    return list(runs.values())


def _row(claim: Claim, overrides: dict[str, Any], entry: dict[str, Any] | None, failure: str | None) -> FalsifyRow:
    requirement = f"{claim.op} {claim.threshold}"
    if failure is not None:
        return FalsifyRow(claim.id, overrides, claim.falsify_why or "", None, requirement, False,
                          f"the chapter failed under the falsifier: {failure}")
    if entry is None:
        return FalsifyRow(claim.id, overrides, claim.falsify_why or "", None, requirement, False,
                          "the claim was not recorded under the falsifier")
    value = entry.get("value")
    requirement = f"{entry['op']} {entry['threshold']:.4g}"
    if entry.get("passed"):
        return FalsifyRow(claim.id, overrides, claim.falsify_why or "", value, requirement, False,
                          "the claim still holds under its falsifier: it cannot fail this way")
    return FalsifyRow(claim.id, overrides, claim.falsify_why or "", value, requirement, True, None)


def run_falsifiers(slugs: Iterable[str] | None, profile: str = "smoke", *, force: bool = False, jobs: int = 1,
                   project: Project | None = None) -> list[FalsifyRow]:
    """Run every falsifier of the chapters ``slugs`` (all when None) on top of ``profile``; one row per claim.

    ``jobs`` runs (at most one per core) execute at once on a ``dask.distributed`` LocalCluster, as ``run --jobs``
    does, the largest budgets first; in ``full`` the falsifiers of ``exclusive`` chapters run afterwards, alone."""
    project = project or Project()
    check_profile(profile)
    if not 1 <= jobs <= MAX_JOBS:
        raise ConfigError(f"--jobs must be between 1 and {MAX_JOBS}, got {jobs}")
    selected = {slug: project.chapter(slug) for slug in (project.chapters if slugs is None else slugs)}
    validate_registry(selected, project.root)
    sha = git_sha(project.root)
    runs = [(slug, overrides, claims) for slug, chapter in selected.items()
            for overrides, claims in falsifier_runs(chapter)]
    shared = [k for k, run in enumerate(runs) if not selected[run[0]].runs_alone(profile)]
    shared.sort(key=lambda k: -selected[runs[k][0]].budget_s(profile, runs[k][1])[0])
    alone = [k for k, run in enumerate(runs) if selected[run[0]].runs_alone(profile)]
    statuses = {}
    if jobs > 1 and len(shared) > 1:
        from distributed import Client, LocalCluster, as_completed

        with LocalCluster(n_workers=min(jobs, len(shared)), threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            futures = {client.submit(run_chapter, project, runs[k][0], profile, force, sha, runs[k][1], pure=False): k
                       for k in shared}
            for future in as_completed(futures):
                statuses[futures[future]] = future.result()
    else:
        alone = shared + alone
    for k in alone:
        statuses[k] = run_chapter(project, runs[k][0], profile, force, sha, runs[k][1])
    rows: list[FalsifyRow] = []
    for k, (_, overrides, claims) in enumerate(runs):  # the report in registry order, whatever ran first
        status = statuses[k]
        broken_run = status.error is not None or bool(status.missing_figures)
        failure = failure_reason(status) if broken_run else None
        rows += [_row(claim, overrides, status.claims.get(claim.id), failure) for claim in claims]
    return rows


def report_path(project: Project, profile: str) -> Path:
    """Where :func:`write_report` keeps the rows of ``profile``."""
    return project.build_dir / REPORT_DIR / f"{profile}.json"


def write_report(project: Project, profile: str, rows: list[FalsifyRow]) -> Path:
    """Write the rows atomically (merged with earlier rows of other claims, so one chapter can be redone alone)."""
    path = report_path(project, profile)
    merged = {row["claim_id"]: row for row in load_report(project, profile)}
    merged.update({row.claim_id: asdict(row) for row in rows})
    atomic_write_text(path, json.dumps(list(merged.values()), indent=2, default=str))
    return path


def load_report(project: Project, profile: str) -> list[dict[str, Any]]:
    """The rows :func:`write_report` wrote for ``profile`` (empty when it never ran)."""
    path = report_path(project, profile)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def falsify_table(rows: list[FalsifyRow]) -> str:
    """The rows as a plain table for the terminal."""

    def value(row: FalsifyRow) -> str:
        if row.value is None:
            return "–"
        return f"{row.value:.4g}" if isinstance(row.value, int | float) else str(row.value)

    return markdown_table(
        ["claim", "falsifier", "value there", "requirement", "verdict"],
        [[row.claim_id, overrides_text(row.overrides), value(row), row.requirement,
          "fails as it must" if row.ok else f"ERROR: {row.problem}"] for row in rows],
    )
