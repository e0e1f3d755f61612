"""The Coverage page: for every paper of the research line, its headline claims and what reproduces them.

The data live in one file, ``book/coverage.toml``: one ``[[paper]]`` table per paper (bib key, title, the
chapters that reproduce it) with its headline claims (``[[paper.claim]]``: ``text``, ``reproduced_by`` — ids of
``paper`` claims of the registry, the only kind that tests a paper's statement — or ``why_not``, one line on why it is
not reproduced; ``supported_by`` lists ``check`` or ``speed`` claims that back it without testing the statement, such as
an exact recovery or a one-sided bound). Papers without a chapter appear
too. :func:`validate_coverage` checks the file against the registry and the bibliography;
:func:`coverage_page` renders it with the latest verdict of every reproducing claim.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from paper_experiments import ConfigError, markdown_table
from paper_experiments.claims import ClaimRow
from paper_experiments.registry import BIB_FILE, Chapter, bib_keys

COVERAGE_FILE = "book/coverage.toml"


@dataclass(frozen=True)
class HeadlineClaim:
    """A headline claim of a paper and the registry claims that reproduce it (empty: ``why_not`` says why)."""

    text: str
    reproduced_by: tuple[str, ...]
    why_not: str
    supported_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class PaperCoverage:
    """One paper: bib key, title, the chapters on it and its headline claims."""

    key: str
    title: str
    chapters: tuple[str, ...]
    claims: tuple[HeadlineClaim, ...]


CLAIM_KEYS = {"text", "reproduced_by", "why_not", "supported_by"}


def load_coverage(root: str | Path) -> list[PaperCoverage]:
    """Read ``book/coverage.toml`` under ``root``."""
    data = tomllib.loads((Path(root) / COVERAGE_FILE).read_text(encoding="utf-8"))
    for paper in data.get("paper", ()):
        for claim in paper.get("claim", ()):
            unknown = sorted(set(claim) - CLAIM_KEYS)
            if unknown:
                raise ConfigError(f"invalid {COVERAGE_FILE}: {paper.get('key')}: unknown key(s) {unknown} in a claim "
                                  f"(allowed: {sorted(CLAIM_KEYS)})")
    return [
        PaperCoverage(
            key=paper["key"],
            title=paper["title"],
            chapters=tuple(paper.get("chapters", ())),
            claims=tuple(
                HeadlineClaim(claim["text"], tuple(claim.get("reproduced_by", ())), claim.get("why_not", ""),
                              tuple(claim.get("supported_by", ())))
                for claim in paper.get("claim", ())
            ),
        )
        for paper in data.get("paper", ())
    ]


def validate_coverage(papers: list[PaperCoverage], chapters: Mapping[str, Chapter], root: str | Path) -> None:
    """Raise :class:`ConfigError` listing every problem: unknown bib keys, chapters or claim ids; a headline
    claim with neither a reproducing claim nor a reason; a paper listed twice; a chapter's paper missing."""
    known = bib_keys(Path(root) / BIB_FILE)
    kinds = {claim.id: claim.kind for chapter in chapters.values() for claim in chapter.claims}
    claim_ids = set(kinds)
    problems = []
    keys = [paper.key for paper in papers]
    problems += [f"paper {key!r} is listed twice" for key in sorted({k for k in keys if keys.count(k) > 1})]
    for paper in papers:
        if paper.key not in known:
            problems.append(f"paper {paper.key!r} is not in {BIB_FILE}")
        problems += [f"{paper.key}: unknown chapter {slug!r}" for slug in paper.chapters if slug not in chapters]
        if not paper.claims:
            problems.append(f"{paper.key}: no headline claim")
        for claim in paper.claims:
            named = claim.reproduced_by + claim.supported_by
            problems += [f"{paper.key}: unknown claim id {c!r}" for c in named if c not in claim_ids]
            problems += [f"{paper.key}: {c!r} is a {kinds[c]} claim; only paper claims reproduce a statement (list it "
                         "under supported_by)" for c in claim.reproduced_by if c in kinds and kinds[c] != "paper"]
            if not claim.reproduced_by and not claim.why_not.strip():
                problems.append(f"{paper.key}: claim {claim.text[:40]!r}... has no reproducing claim and no why_not")
    cited = {chapter.citation for chapter in chapters.values()}
    problems += [f"chapter citation {key!r} has no entry in {COVERAGE_FILE}" for key in sorted(cited - set(keys))]
    if problems:
        raise ConfigError(f"invalid {COVERAGE_FILE}: " + "; ".join(problems))


def coverage_page(papers: list[PaperCoverage], rows: list[ClaimRow], profile: str) -> str:
    """The Coverage page (MyST markdown): a summary table, then one section per paper."""
    verdicts = {row.claim.id: row for row in rows}

    def mark(claim_id: str) -> str:
        row = verdicts.get(claim_id)
        state = "" if row is None else " ✓" if row.passed else " (measured)" if not row.judged else " ✗"
        return f"`{claim_id}`{state}"

    summary = markdown_table(
        ["paper", "chapters", "headline claims reproduced"],
        [
            [
                f"{{cite:t}}`{paper.key}`",
                ", ".join(f"{{doc}}`{slug}`" for slug in paper.chapters) or "none yet",
                f"{sum(bool(c.reproduced_by) for c in paper.claims)} of {len(paper.claims)}",
            ]
            for paper in papers
        ],
    )
    sections = []
    for paper in papers:
        table = markdown_table(
            ["headline claim", "reproduced by"],
            [
                [claim.text, (", ".join(mark(cid) for cid in claim.reproduced_by) or f"not reproduced: {claim.why_not}")
                 + (f" (supported by {', '.join(mark(cid) for cid in claim.supported_by)})" if claim.supported_by
                    else "")]
                for claim in paper.claims
            ],
        )
        sections.append(f"## {paper.title}\n\n{{cite:t}}`{paper.key}`\n\n{table}\n")
    total = sum(len(paper.claims) for paper in papers)
    done = sum(bool(claim.reproduced_by) for paper in papers for claim in paper.claims)
    body = "\n".join(sections)
    return f"""# Coverage

Every paper of the research line, its headline claims, and the chapter claims that reproduce them (with
their verdict in this **{profile}** build: ✓ holds, ✗ fails, "measured" for speed claims without a verdict
in this profile). Only `paper` claims, each with a falsifier that must break it, count as reproducing a
statement; `check` claims of our own construction that back a statement are listed as support. A one-sided
claim that no trained network ends below the certified optimum reproduces an exactness statement only together with
the exact recovery listed beside it as support.
**{done} of {total} headline claims of {len(papers)} papers are reproduced.** Generated from
`{COVERAGE_FILE}`; the {{doc}}`claims` page lists every claim with its measured value.

{summary}

{body}"""
