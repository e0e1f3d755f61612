"""Every registered chapter runs with the smoke parameters, passes its claims, every paper claim fails under its
falsifier, and the book builds.

Results and HTML go to a temporary folder, never to the repository's ``_build``. Each chapter's
wall-clock budget (``Chapter.budget_s("smoke")``) is enforced by the runner as a timeout, and this
test's own timeout is the sum of those budgets plus the book build's: timeouts stop hangs, they never
decide pass or fail on a slow or busy machine. Speed claims are recorded without a verdict in smoke.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from paper_experiments.browser import check_pages, find_browser
from paper_experiments.build import build_book
from paper_experiments.falsify import falsifier_runs, run_falsifiers, write_report
from paper_experiments.registry import CHAPTERS
from paper_experiments.runner import MAX_JOBS, Project, failure_reason, run_chapters

pytestmark = pytest.mark.notebooks
BOOK_BUILD_LIMIT_S = 900  # jupyter-book on the smoke results: ~1 min idle
JOBS = min(2, MAX_JOBS)  # chapters (and falsifier runs) at once; exclusive chapters run alone
SMOKE_LIMIT_S = sum(chapter.budget_s("smoke")[0] * (1 + len(falsifier_runs(chapter))) for chapter in CHAPTERS.values())
SMOKE_LIMIT_S += BOOK_BUILD_LIMIT_S


@pytest.mark.timeout(SMOKE_LIMIT_S)
def test_every_chapter_runs_with_smoke_parameters_and_the_book_builds(tmp_path: Path) -> None:
    project = Project(output_root=tmp_path)
    statuses = run_chapters(None, "smoke", project=project, jobs=JOBS)
    for status in statuses:
        assert status.ok, f"{status.slug}: {failure_reason(status)}"
        chapter = CHAPTERS[status.slug]
        judged = [claim for claim in chapter.claims if claim.judged("smoke")]
        assert status.claims_passed == status.claims_judged == len(judged)
        assert set(status.claims) == set(chapter.claim_ids)  # speed claims too: recorded as measurements
        assert status.missing_figures == []

    # every paper claim names a falsifier, and fails under it (claims that share overrides share one run)
    falsified = run_falsifiers(None, "smoke", project=project, jobs=JOBS)
    paper_claims = [claim.id for chapter in CHAPTERS.values() for claim in chapter.claims if claim.kind == "paper"]
    assert sorted(row.claim_id for row in falsified) == sorted(paper_claims)
    assert [f"{row.claim_id}: {row.problem}" for row in falsified if not row.ok] == []
    write_report(project, "smoke", falsified)

    book = build_book(project, "smoke")
    assert book.ok, "jupyter-book build -W failed; see the captured output"
    html = tmp_path / "_build" / "html"
    assert book.index == html / "index.html" and book.index.is_file()
    assert all((html / f"{chapter.notebook.removesuffix('.ipynb')}.html").is_file() for chapter in CHAPTERS.values())
    for page in [html / "index.html", *(html / "book").glob("*.html")]:  # nothing is fetched from the network
        text = page.read_text(encoding="utf-8")
        assert not re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//', text), page.name
    chapter_page = (html / CHAPTERS["two_layer_convex"].notebook.replace(".ipynb", ".html")).read_text("utf-8")
    assert 'src="../_static/mathjax/tex-chtml.js"' in chapter_page and (html / "_static/mathjax/tex-chtml.js").is_file()
    claims = (html / "book" / "claims.html").read_text(encoding="utf-8")
    assert [c for chapter in CHAPTERS.values() for c in chapter.claim_ids if c not in claims] == []
    assert claims.count("fails as it must") == len(paper_claims)

    # what a reader sees offline, in a real browser (headless Chromium): typeset math, loaded figures, no console
    # errors except the theme's own (paper_experiments.browser.THEME_CONSOLE_ERRORS)
    if find_browser() is None:
        warnings.warn(
            "BROWSER CHECK NOT RUN: chromium and chromedriver are not installed; apt-get install chromium "
            "chromium-driver to check the rendered pages",
            stacklevel=1,
        )
        return
    pages = [html / "index.html", *sorted((html / "book").glob("*.html"))]
    shots = tmp_path / "_build" / "screenshots"
    chapter_pages = {html / f"{c.notebook.removesuffix('.ipynb')}.html" for c in CHAPTERS.values()}
    first = html / f"{CHAPTERS['two_layer_convex'].notebook.removesuffix('.ipynb')}.html"
    screenshots = {first: shots / "two_layer_convex.png", html / "book" / "claims.html": shots / "claims.html.png"}
    for check in check_pages(pages, screenshots=screenshots):
        assert check.ok, check
        if Path(check.page) in chapter_pages:
            assert check.math > 0 and check.images > 0, check  # every chapter has formulas and figures
    assert all(path.is_file() and path.stat().st_size > 0 for path in screenshots.values())
