"""The claims table: every declared claim with the value its chapter measured.

Claims are evaluated once, inside the chapter, by ``cvxnn_core.results.Recorder.claim`` and
stored in ``numbers.json``; the runner copies the declared ones into ``status.json``. This module
collects them from the latest run of each chapter and renders them for the terminal and for the
book's Claims page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paper_experiments import markdown_table
from paper_experiments.registry import Chapter, Claim
from paper_experiments.runner import Project, latest_status

_OP_SYMBOLS = {"<=": "≤", "<": "<", ">=": "≥", ">": ">"}


@dataclass(frozen=True)
class ClaimRow:
    """A declared claim and its recorded entry (``None`` when the latest run did not record it)."""

    chapter: Chapter
    claim: Claim
    entry: dict[str, Any] | None

    @property
    def passed(self) -> bool:
        """Whether the claim was recorded and holds."""
        return bool(self.entry and self.entry.get("passed"))

    def cells(self) -> list[str]:
        """Measured value, requirement (op threshold) and mark ✓/✗."""
        if self.entry is None:
            return ["not recorded", "", "✗"]
        value, threshold = self.entry["value"], self.entry["threshold"]
        measured = f"{value:.4g}" if isinstance(value, int | float) else str(value)
        return [measured, f"{_OP_SYMBOLS[self.entry['op']]} {threshold:.4g}", "✓" if self.passed else "✗"]


def collect_claims(project: Project, profile: str) -> list[ClaimRow]:
    """One row per declared claim, in registry order, from each chapter's latest run with ``profile``."""
    rows = []
    for slug, chapter in project.chapters.items():
        status = latest_status(project, slug, profile)
        recorded = status.claims if status is not None else {}
        rows += [ClaimRow(chapter, claim, recorded.get(claim.id)) for claim in chapter.claims]
    return rows


def claims_table(rows: list[ClaimRow]) -> str:
    """The claims as a plain table for the terminal."""
    headers = ["claim", "measured", "requirement", "status"]
    return markdown_table(headers, [[row.claim.id, *row.cells()] for row in rows])


def claims_page(rows: list[ClaimRow], profile: str) -> str:
    """The book's Claims page (MyST markdown): one section per chapter, one table row per claim."""
    sections = []
    for slug in dict.fromkeys(row.chapter.slug for row in rows):
        chapter_rows = [row for row in rows if row.chapter.slug == slug]
        chapter = chapter_rows[0].chapter
        table = markdown_table(
            ["claim", "measured", "requirement", "status"],
            [[f"{row.claim.statement} `{row.claim.id}`", *row.cells()] for row in chapter_rows],
        )
        held = sum(row.passed for row in chapter_rows)
        sections.append(
            f"## {chapter.title}\n\nChapter {{doc}}`{slug}`, reproducing {{cite}}`{chapter.citation}`: "
            f"{held} of {len(chapter_rows)} claims hold.\n\n{table}\n"
        )
    passed = sum(row.passed for row in rows)
    body = "\n".join(sections)
    return f"""# Claims

Each claim is measured by its chapter, recorded in the chapter's `numbers.json` and checked by
`python -m paper_experiments` after the chapter runs. This build uses the **{profile}** parameter set
(`smoke`: small sizes that run in CI; `full`: each chapter's default sizes, as large as a 2-core CPU
allows). ✓ means the measured value meets the requirement. **{passed} of {len(rows)} claims hold.**

{body}"""
