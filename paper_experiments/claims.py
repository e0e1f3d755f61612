"""The claims table: every declared claim with the value its chapter measured.

Claims are evaluated once, inside the chapter, by ``cvxnn_core.results.Recorder.claim`` and
stored in ``numbers.json``; the runner copies the declared ones into ``status.json``. This module
collects them from the latest run of each chapter and renders them for the terminal and for the
book's Claims page, grouped by kind: ``paper`` (a paper's statement, measured), ``check`` (our own
construction is consistent) and ``speed`` (timing ratios, judged only in the ``full`` profile).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from paper_experiments import markdown_table
from paper_experiments.registry import Chapter, Claim
from paper_experiments.runner import Project, failure_reason, latest_status

_OP_SYMBOLS = {"<=": "≤", "<": "<", ">=": "≥", ">": ">"}
KIND_TITLES = {
    "paper": "Claims of the papers",
    "check": "Checks of our construction",
    "speed": "Speed",
}
KIND_TEXT = {
    "paper": "Statements a paper makes (a theorem, an equivalence, an experiment's outcome), measured here.",
    "check": "Consistency of our own implementation: recovery after cone projection, weak duality of our "
    "certificates, a restriction being an upper bound, solver agreement, loop invariants. They hold by "
    "construction when the code is right, so they test the code, not a paper.",
    "speed": "Timing ratios on this machine. They get a verdict only in the `full` profile; a `smoke` run "
    "records them as measurements.",
}


@dataclass(frozen=True)
class ClaimRow:
    """A declared claim and its recorded entry (``None`` when the latest run did not record it)."""

    chapter: Chapter
    claim: Claim
    entry: dict[str, Any] | None
    failure: str | None = None  # the chapter's failure, when its latest run failed

    @property
    def judged(self) -> bool:
        """Whether the run gave this claim a verdict (speed claims outside ``full`` are measurements)."""
        return bool(self.entry is None or self.entry.get("judged", True))

    @property
    def passed(self) -> bool:
        """Whether the claim was recorded and holds (a measurement without a verdict does not count)."""
        return bool(self.entry and self.entry.get("passed") and self.judged)

    def cells(self) -> list[str]:
        """Measured value, requirement (op threshold) and mark ✓/✗ (``measured`` without a verdict)."""
        if self.entry is None:
            return [f"chapter failed: {self.failure}" if self.failure else "not recorded", "", "✗"]
        value, threshold = self.entry["value"], self.entry["threshold"]
        measured = f"{value:.4g}" if isinstance(value, int | float) else str(value)
        mark = "measured (no verdict in this profile)" if not self.judged else "✓" if self.passed else "✗"
        return [measured, f"{_OP_SYMBOLS[self.entry['op']]} {threshold:.4g}", mark]

    @property
    def paper(self) -> str:
        """The bib key of the paper the claim is about."""
        return self.claim.paper or self.chapter.citation


def collect_claims(project: Project, profile: str) -> list[ClaimRow]:
    """One row per declared claim, in registry order, from each chapter's latest run with ``profile``."""
    rows = []
    for slug, chapter in project.chapters.items():
        status = latest_status(project, slug, profile)
        if status is not None and not status.ok:  # a failed run's numbers back no claim
            reason = failure_reason(status).splitlines()[-1] if failure_reason(status) else "see its status"
            rows += [ClaimRow(chapter, claim, None, reason) for claim in chapter.claims]
            continue
        recorded = status.claims if status is not None else {}
        rows += [ClaimRow(chapter, claim, recorded.get(claim.id)) for claim in chapter.claims]
    return rows


def unmet_claims(rows: list[ClaimRow]) -> list[ClaimRow]:
    """Claims that were judged and failed, or were not recorded at all (speed claims without a verdict are met)."""
    return [row for row in rows if row.entry is None or (row.judged and not row.passed)]


def claims_table(rows: list[ClaimRow]) -> str:
    """The claims as a plain table for the terminal."""
    headers = ["claim", "kind", "measured", "requirement", "status"]
    return markdown_table(headers, [[row.claim.id, row.claim.kind, *row.cells()] for row in rows])


def _count(rows: list[ClaimRow]) -> str:
    judged = [row for row in rows if row.judged]
    text = f"{sum(row.passed for row in judged)}/{len(judged)}" if judged else ""
    measured = len(rows) - len(judged)
    return (text + (" + " if text else "") + f"{measured} measured") if measured else (text or "–")


def _falsifier_text(row: ClaimRow, falsified: Mapping[str, Mapping[str, Any]]) -> str:
    """The falsifier of a claim and what its run measured: ``n_patterns=1`` (why) → value, verdict."""
    if row.claim.falsify is None:
        return ""
    overrides = ", ".join(f"{name}={value!r}" for name, value in row.claim.falsify.items())
    text = f" *Falsifier:* `{overrides}` ({row.claim.falsify_why})"
    entry = falsified.get(row.claim.id)
    if entry is None:
        return text + ": not run in this build."
    if entry.get("broken") and entry.get("problem") is None:
        value = entry.get("value")
        shown = f"{value:.4g}" if isinstance(value, int | float) else str(value)
        return text + f" → {shown}, fails as it must ✓."
    return text + f" → ✗ {entry.get('problem')}."


def claims_page(rows: list[ClaimRow], profile: str,
                falsified: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The book's Claims page (MyST markdown): counts per paper and kind, then one section per kind.

    The verdict comes first in every row, so that it is visible whatever the width of the window; a ``paper``
    claim also shows its falsifier and the value its falsifier run measured (``falsified``: rows of
    :func:`paper_experiments.falsify.load_report` by claim id)."""
    falsified = falsified or {}
    kinds = [kind for kind in KIND_TITLES if any(row.claim.kind == kind for row in rows)]
    papers = list(dict.fromkeys(row.paper for row in rows))
    summary = markdown_table(
        ["paper", *kinds],
        [
            [f"{{cite:t}}`{paper}`", *(_count([r for r in rows if r.paper == paper and r.claim.kind == kind])
                                       for kind in kinds)]
            for paper in papers
        ],
    )
    sections = []
    for kind in kinds:
        kind_rows = [row for row in rows if row.claim.kind == kind]
        table = markdown_table(
            ["status", "claim", "measured", "requirement"],
            [[row.cells()[2], f"{{doc}}`{row.chapter.slug}`: {row.claim.statement} *Measured: {row.claim.measured}.* "
              f"`{row.claim.id}`{_falsifier_text(row, falsified)}", *row.cells()[:2]] for row in kind_rows],
        )
        sections.append(f"## {KIND_TITLES[kind]} ({_count(kind_rows)})\n\n{KIND_TEXT[kind]}\n\n{table}\n")
    judged = [row for row in rows if row.judged]
    passed = sum(row.passed for row in judged)
    measured = len(rows) - len(judged)
    note = f" {measured} speed claims are recorded as measurements without a verdict." if measured else ""
    body = "\n".join(sections)
    return f"""# Claims

Each claim is measured by its chapter, recorded in the chapter's `numbers.json` and checked by
`python -m paper_experiments` after the chapter runs. This build uses the **{profile}** parameter set
(`smoke`: small sizes that run in CI; `full`: each chapter's default sizes, as large as a 2-core CPU
allows). ✓ means the measured value meets the requirement. **{passed} of {len(judged)} judged claims
hold.**{note} Every claim of a paper names a *falsifier*: parameter values under which it must fail (too few
patterns, the wrong normalisation, ...); the build runs each falsifier on the `smoke` parameters and shows the value it
measured, so that a claim that could not fail would show here. Which headline claims of each paper are reproduced at
all is on the {{doc}}`coverage` page.

Claims per paper and kind (held / judged):

{summary}

{body}"""
