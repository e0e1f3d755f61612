"""Stage the book from the latest chapter results and build it with jupyter-book.

Staging (``_build/stage/``, wiped first) copies ``_config.yml``, ``_toc.yml``, ``book/*.md``,
``book/references.bib`` and ``book/_static/``, then adds for each chapter either its executed
notebook (latest run ok) or a page with a failure admonition (latest run failed, or never run),
and generates the Claims page ``book/claims.md``, the Coverage page ``book/coverage.md`` (from
``book/coverage.toml``) and the build status page ``book/status.md``.
jupyter-book then builds the stage with ``-W --keep-going`` (warnings are errors) into
``<output root>/_build/html``; it never executes anything (``execute_notebooks: off``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from paper_experiments.claims import claims_page, collect_claims
from paper_experiments.coverage import coverage_page, load_coverage, validate_coverage
from paper_experiments.falsify import FALSIFY_PROFILE, load_report
from paper_experiments.registry import BIB_FILE, Chapter, check_profile
from paper_experiments.runner import (
    STATUS_FILE,
    ChapterStatus,
    Project,
    git_sha,
    latest_status,
    result_dir,
    status_table,
)

INJECTED_TAG = "injected-parameters"  # the tag papermill puts on the cell it inserts
EXECUTED_DIR = "_executed"  # executed notebooks offered for download, under the staged book/
# jupyter_book has no ``__main__``; this is its console script, run by this interpreter.
_JUPYTER_BOOK = "import sys; from jupyter_book.cli.main import main; sys.exit(main())"


@dataclass(frozen=True)
class BookBuild:
    """The outcome of :func:`build_book`: whether jupyter-book succeeded, the index page, each chapter's page."""

    ok: bool
    index: Path
    pages: dict[str, str]  # slug -> "ok", "failed" or "not run"


def stage_book(project: Project, profile: str) -> dict[str, str]:
    """Fill ``_build/stage/`` for ``profile``; return each chapter's page kind ("ok", "failed", "not run")."""
    check_profile(profile)
    root, stage = project.root, project.build_dir / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", BIB_FILE, *(p.relative_to(root) for p in root.glob("book/*.md"))):
        shutil.copy2(root / name, stage / name)
    if (root / "book" / "_static").is_dir():
        shutil.copytree(root / "book" / "_static", stage / "book" / "_static")

    latest = {slug: latest_status(project, slug, profile) for slug in project.chapters}
    for slug, status in latest.items():
        chapter = project.chapters[slug]
        if status is not None and status.ok:
            executed = stage / "book" / EXECUTED_DIR / f"{slug}.ipynb"
            executed.parent.mkdir(exist_ok=True)
            shutil.copy2(result_dir(project, status) / f"{slug}.ipynb", executed)
            notebook = _staged_notebook(project, chapter, status)
            meta = _run_meta(result_dir(project, status))
            notebook.cells.insert(1, nbformat.v4.new_markdown_cell(reproduce_box(chapter, status, meta)))
            nbformat.write(notebook, stage / "book" / f"{slug}.ipynb")
        else:
            page = _failure_page(project, chapter, status, profile, stage)
            (stage / "book" / f"{slug}.md").write_text(page, encoding="utf-8")
    pages = {slug: "not run" if s is None else "ok" if s.ok else "failed" for slug, s in latest.items()}
    statuses = [status for status in latest.values() if status is not None]

    rows = collect_claims(project, profile)
    falsified = {row["claim_id"]: row for row in load_report(project, FALSIFY_PROFILE)}
    (stage / "book" / "claims.md").write_text(claims_page(rows, profile, falsified), "utf-8")
    papers = load_coverage(root)
    validate_coverage(papers, project.chapters, root)
    (stage / "book" / "coverage.md").write_text(coverage_page(papers, rows, profile), "utf-8")
    not_run = [slug for slug, kind in pages.items() if kind == "not run"]
    (stage / "book" / "status.md").write_text(_status_page(project, statuses, not_run, profile), "utf-8")
    return pages


def build_book(project: Project, profile: str) -> BookBuild:
    """Stage the book for ``profile`` and build the HTML with ``jupyter-book build -W --keep-going``."""
    pages = stage_book(project, profile)
    command = [
        sys.executable, "-c", _JUPYTER_BOOK, "build", str(project.build_dir / "stage"),
        "--path-output", str(project.build_dir.parent), "--all", "-W", "--keep-going",
    ]
    done = subprocess.run(command, cwd=project.root, check=False)
    return BookBuild(ok=done.returncode == 0, index=project.build_dir / "html" / "index.html", pages=pages)


def _run_meta(folder: Path) -> dict:
    """The ``meta`` a chapter's Recorder wrote (:func:`cvxnn_core.results.run_metadata`), or ``{}``."""
    from cvxnn_core.results import load_numbers

    try:
        return dict(load_numbers(folder).get("meta", {}))
    except (OSError, ValueError):
        return {}


def reproduce_box(chapter: Chapter, status: ChapterStatus, meta: dict | None = None) -> str:
    """The generated "Reproduce this page" admonition: command, profile, values, wall time, code version, the
    machine and package versions of the run (``meta``), download."""
    slug, profile = chapter.slug, status.profile
    meta = meta or {}
    versions = ", ".join(f"{name} {version}" for name, version in meta.get("versions", {}).items())
    environment = (
        f"It ran on Python {meta.get('python', '?')} ({meta.get('machine', 'unknown machine')}) with {versions}. "
        if versions else ""
    )
    values = ", ".join(f"`{k}={v!r}`" for k, v in chapter.params(profile).items() if k != "output_dir")
    return (
        f":::{{admonition}} Reproduce this page\n:class: tip\n"
        f"This page is `{chapter.notebook}` executed by\n\n"
        f"```bash\npython -m paper_experiments run --profile {profile} --chapter {slug}\n```\n\n"
        f"with the **{profile}** parameters ({values}). The run took {status.wall_s:.1f} s and finished "
        f"{status.finished_at}, against commit `{status.git_sha or 'unknown'}` (code hash of `cvxnn_core` and the "
        f"benchmarks: `{status.core or 'unknown'}`). {environment}Download the executed notebook: "
        f"{{download}}`{slug}.ipynb <{EXECUTED_DIR}/{slug}.ipynb>`.\n\n"
        f"Your own values: `python -m paper_experiments params {slug}` lists the parameters and "
        f"`python -m paper_experiments run --chapter {slug} -p NAME=VALUE` runs the chapter with them into a "
        "folder of its own, with the claims checked and the figures saved.\n:::\n"
    )


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _staged_notebook(project: Project, chapter: Chapter, status: ChapterStatus) -> nbformat.NotebookNode:
    """The executed notebook, with the source's current markdown and the injected cell tagged ``hide-input``.

    Markdown does not enter the cache key, so a prose edit must not need a re-run: when the code
    cells of the source equal those that ran, the source's markdown cells replace the executed ones.
    """
    executed = nbformat.read(result_dir(project, status) / f"{chapter.slug}.ipynb", as_version=4)
    source = nbformat.read(project.root / chapter.notebook, as_version=4)
    ran = [cell for cell in executed.cells if cell.cell_type == "code" and INJECTED_TAG not in _tags(cell)]
    if [cell.source for cell in ran] == [cell.source for cell in source.cells if cell.cell_type == "code"]:
        injected = [cell for cell in executed.cells if INJECTED_TAG in _tags(cell)]
        outputs, cells = iter(ran), []
        for cell in source.cells:
            if cell.cell_type != "code":
                cells.append(cell)
                continue
            cells.append(next(outputs))
            if "parameters" in _tags(cell):
                cells += injected
        executed.cells = cells
    for cell in executed.cells:
        if INJECTED_TAG in _tags(cell) and "hide-input" not in _tags(cell):
            cell.metadata["tags"] = [*_tags(cell), "hide-input"]
    return executed


def _failure_page(
    project: Project, chapter: Chapter, status: ChapterStatus | None, profile: str, stage: Path
) -> str:
    """A page that says the chapter failed (or never ran) and where its report is."""
    slug = chapter.slug
    head = f"# {chapter.title}\n\nThis chapter reproduces {{cite}}`{chapter.citation}`.\n\n"
    if status is None:
        command = f"python -m paper_experiments run --profile {profile} --chapter {slug}"
        return head + f":::{{warning}}\nThis chapter has not been run with the `{profile}` profile: `{command}`.\n:::\n"
    folder, reports = result_dir(project, status), stage / "book" / "_failed" / slug
    reports.mkdir(parents=True)
    links = []
    for name in (STATUS_FILE, f"{slug}.ipynb"):
        if (folder / name).is_file():
            shutil.copy2(folder / name, reports / name)
            links.append(f"{{download}}`{name} <_failed/{slug}/{name}>`")
    details = [f"- {problem}" for problem in status.problems]
    cell = ""
    if status.error:
        error = status.error
        details[:0] = [error["traceback"] or f"{error['ename']}: {error['evalue']}", ""]
        cell = f"Failing cell {error['cell_index']}:\n\n````python\n{error['source']}\n````\n\n"
    text = "\n".join(details)
    return head + (
        f":::{{error}}\nThis chapter failed with the `{profile}` profile.\n\n{cell}"
        f"````text\n{text}\n````\n\n"
        f"Report: {', '.join(links)} (`{folder / STATUS_FILE}`).\n:::\n"
    )


def _status_page(project: Project, statuses: list[ChapterStatus], not_run: list[str], profile: str) -> str:
    built = datetime.now(UTC).isoformat(timespec="seconds")
    missing = f"\nNot run with this profile: {', '.join(f'`{slug}`' for slug in not_run)}.\n" if not_run else ""
    return f"""# Build status

Built {built} with the **{profile}** parameter set from commit `{git_sha(project.root) or "unknown"}`.
Each chapter ran through `python -m paper_experiments run`; its result folder
`_build/results/<chapter>/<profile>-<key>/` holds the executed notebook, `numbers.json`, the figures
and `status.json`. The key hashes the notebook's code, the parameters, `cvxnn_core`, the benchmark code,
saved inputs and the pins. *time* is the chapter's wall time in the run that produced its result; *budget*
is its wall-clock limit (a guard against hangs, never a verdict: at least five times the idle time,
plus the caps of any capped work). Chapters ran for {sum(s.wall_s for s in statuses) / 60:.1f} minutes in all.

{status_table(statuses)}
{missing}"""
