"""Fake repositories and chapters for the runner tests: tiny notebooks that use the real results/plotting."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from paper_experiments.registry import Chapter, Claim, chapter_toml
from paper_experiments.runner import Project

REPO = Path(__file__).resolve().parents[2]
FAKE_BIB = "@misc{fakepaper,\n  author = {Doe, Jane},\n  title = {A Fake Paper},\n  year = {2024}\n}\n"
FAKE_COVERAGE = """\
[[paper]]
key = "fakepaper"
title = "A Fake Paper"
chapters = ["alpha"]

[[paper.claim]]
text = "n is positive."
reproduced_by = ["alpha.positive"]

[[paper.claim]]
text = "Something no chapter measures."
why_not = "needs data we do not have"
"""

IMPORTS = """\
import time

import matplotlib.pyplot as plt

from cvxnn_core.plotting import save_figure, style
from cvxnn_core.results import Recorder"""

BODY = """\
time.sleep(sleep_s)
if fail:
    raise ValueError("asked to fail")
rec = Recorder(output_dir, chapter="{slug}")
rec.number("n", n)
rec.claim("{slug}.positive", value)
if extra_claim:
    rec.claim("{slug}.extra", 1)
with style():
    fig, ax = plt.subplots()
    ax.plot(range(n))
save_figure(fig, output_dir, "fig_line")"""


def write_notebook(root: Path, slug: str) -> Path:
    """``book/<slug>.ipynb``: a cited title, a parameters cell, the imports and :data:`BODY`."""
    params = nbformat.v4.new_code_cell(
        "n = 3\nvalue = 1.0\nsleep_s = 0.0\nfail = False\nextra_claim = False\n"
        f'output_dir = "_build/results/{slug}/default"'
    )
    params.metadata["tags"] = ["parameters"]
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(f"# Fake {slug}\n\nReproduces {{cite}}`fakepaper`: `{slug}.positive`."),
            params,
            nbformat.v4.new_code_cell(IMPORTS),
            nbformat.v4.new_code_cell(BODY.format(slug=slug)),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    path = root / "book" / f"{slug}.ipynb"
    nbformat.write(notebook, path)
    return path


def fake_chapter(slug: str, figures: tuple[str, ...] = ("fig_line",), **smoke: object) -> Chapter:
    """A registry entry for the notebook of :func:`write_notebook`; ``smoke`` overrides parameters."""
    return Chapter(
        slug=slug,
        title=f"Fake {slug}",
        citation="fakepaper",
        figures=figures,
        claims=(Claim(f"{slug}.positive", "n is positive", "paper", "the value", ">", 0.0,
                      falsify={"value": -1.0}, falsify_why="a negative value is not positive"),),
        full={"n": 3, "value": 1.0, "sleep_s": 0.0, "fail": False, "extra_claim": False,
              "output_dir": f"_build/results/{slug}/default"},
        smoke=dict(smoke),
        timeout_s={"smoke": 120, "full": 120},
        cell_timeout_s={"smoke": 120, "full": 120},
    )


def make_fake_root(tmp_path: Path) -> Path:
    """A repository with a copy of the real core and pins, and a bib file holding ``fakepaper``."""
    root = tmp_path / "repo"
    (root / "book").mkdir(parents=True)
    shutil.copytree(REPO / "cvxnn_core", root / "cvxnn_core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    (root / "book" / "references.bib").write_text(FAKE_BIB)
    (root / "book" / "coverage.toml").write_text(FAKE_COVERAGE)
    return root


def make_project(root: Path, *chapters: Chapter) -> Project:
    """A project over ``root`` with ``chapters``, writing each chapter's notebook and chapter file."""
    for chapter in chapters:
        write_notebook(root, chapter.slug)
        (root / "book" / f"{chapter.slug}.toml").write_text(chapter_toml(chapter))
    return Project(root=root, chapters={chapter.slug: chapter for chapter in chapters})
