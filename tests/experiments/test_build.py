"""The book build on fake chapters: staged notebooks, failure pages, the Claims page, warnings as errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from fake_chapters import FAKE_BIB, REPO, fake_chapter, make_project

from paper_experiments.__main__ import main
from paper_experiments.build import build_book

TOC = """\
format: jb-book
root: book/intro
parts:
  - caption: Fake chapters
    numbered: true
    chapters:
      - file: book/conventions
      - file: book/alpha
      - file: book/beta
      - file: book/gamma
  - caption: About this build
    chapters:
      - file: book/claims
      - file: book/coverage
      - file: book/status
      - file: book/references
"""


@pytest.mark.slow
def test_build_renders_results_failures_and_claims(fake_root: Path, capsys) -> None:
    shutil.copy2(REPO / "_config.yml", fake_root / "_config.yml")
    for page in (REPO / "book").glob("*.md"):
        shutil.copy2(page, fake_root / "book" / page.name)
    (fake_root / "book" / "references.bib").write_text((REPO / "book" / "references.bib").read_text() + FAKE_BIB)
    (fake_root / "_toc.yml").write_text(TOC)
    project = make_project(fake_root, fake_chapter("alpha"), fake_chapter("beta", fail=True), fake_chapter("gamma"))
    assert main(["run", "--profile", "smoke", "--chapter", "alpha", "beta"], project) == 1

    # Prose is not part of the cache key: the book shows the current markdown without a re-run.
    source = fake_root / "book" / "alpha.ipynb"
    source.write_text(source.read_text().replace("Reproduces", "Freshly edited prose. Reproduces"))
    capsys.readouterr()
    assert main(["build", "--profile", "smoke", "--chapter", "alpha", "beta"], project) == 1
    out, err = capsys.readouterr()
    html = fake_root / "_build" / "html"
    assert out.rstrip().endswith(str(html / "index.html")) and (html / "index.html").is_file()
    assert "| alpha   | smoke   | cached |" in out
    assert "chapters shown without results: beta (failed), gamma (not run)" in err

    staged = nbformat.read(fake_root / "_build" / "stage" / "book" / "alpha.ipynb", as_version=4)
    injected = [cell for cell in staged.cells if "injected-parameters" in cell.metadata.get("tags", [])]
    assert len(injected) == 1 and "hide-input" in injected[0].metadata["tags"]

    alpha = (html / "book" / "alpha.html").read_text()
    assert "Freshly edited prose." in alpha and "Doe" in alpha and "<img" in alpha
    text = re.sub(r"<[^>]+>", "", alpha)  # the command is syntax-highlighted: compare the text
    assert "Reproduce this page" in text and "python -m paper_experiments run --profile smoke --chapter alpha" in text
    assert "alpha.ipynb" in alpha and "_downloads" in alpha
    beta = (html / "book" / "beta.html").read_text()
    assert "admonition error" in beta and "asked to fail" in beta and "_downloads" in beta
    assert "admonition warning" in (html / "book" / "gamma.html").read_text()
    claims = (html / "book" / "claims.html").read_text()
    assert all(f"{slug}.positive" in claims for slug in ("alpha", "beta", "gamma"))
    assert "✓" in claims and "✗" in claims and (html / "book" / "status.html").is_file()
    coverage = (html / "book" / "coverage.html").read_text()
    assert "alpha.positive" in coverage and "not reproduced: needs data we do not have" in coverage

    # Warnings are errors: a broken citation fails the build.
    intro = fake_root / "book" / "intro.md"
    intro.write_text(intro.read_text() + "\nSee {cite}`nobody2099`.\n")
    assert not build_book(project, "smoke").ok
