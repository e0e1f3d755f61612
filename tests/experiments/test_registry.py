"""The registry is well-formed, and its validation catches the mistakes it is meant to catch."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from fake_chapters import fake_chapter, write_notebook

from paper_experiments import ConfigError
from paper_experiments.registry import CHAPTERS, PROFILES, Claim, validate_registry


def test_registry_is_valid() -> None:
    validate_registry()


@pytest.mark.parametrize("chapter", CHAPTERS.values(), ids=list(CHAPTERS))
def test_profiles_are_complete_parameter_sets(chapter) -> None:
    for profile in PROFILES:
        assert chapter.params(profile).keys() == chapter.full.keys()
    assert chapter.params("smoke") == {**chapter.full, **chapter.smoke}
    assert chapter.params("full") == dict(chapter.full)


def test_valid_synthetic_registry_passes(fake_root: Path) -> None:
    write_notebook(fake_root, "alpha")
    validate_registry({"alpha": fake_chapter("alpha", n=2)}, fake_root)


def _claim(claim_id: str, kind: str = "paper", **fields: object) -> Claim:
    return Claim(claim_id, "n is positive", kind, "n", ">", 0.0, **fields)  # type: ignore[arg-type]


MISTAKES = {
    "mistyped claim id": (
        {"claims": (_claim("alhpa.positive"),)},
        "claim id 'alhpa.positive' must look like 'alpha.<name>'",
    ),
    "duplicate claim id": (
        {"claims": (_claim("alpha.positive"), _claim("alpha.positive", kind="check"))},
        "duplicate claim id 'alpha.positive'",
    ),
    "unknown claim kind": (
        {"claims": (_claim("alpha.positive", kind="theorem"),)},  # type: ignore[arg-type]
        "claim 'alpha.positive' has kind 'theorem'",
    ),
    "unknown claim paper": (
        {"claims": (_claim("alpha.positive", paper="nobody2099"),)},
        "names paper 'nobody2099', which is not in book/references.bib",
    ),
    "duplicate figure id": ({"figures": ("fig_line", "fig_line")}, "duplicate figure id 'fig_line'"),
    "bad figure id": ({"figures": ("line",)}, "bad figure id 'line'"),
    "missing bib key": ({"citation": "nobody2099"}, "citation key 'nobody2099' is not in book/references.bib"),
    "smoke key not in full": ({"smoke": {"n_typo": 2}}, "smoke parameters ['n_typo'] are not in the full set"),
    "non-literal parameter": ({"full": {"n": (1, 2), "output_dir": "x"}}, "parameter 'n' = (1, 2) is not"),
    "missing notebook": ({"slug": "beta"}, "beta: notebook book/beta.ipynb does not exist"),
    "slug with a number": ({"slug": "alpha2"}, "slug 'alpha2' is not a snake_case topic name"),
    "claim without measurement": (
        {"claims": (Claim("alpha.positive", "a", "paper", " ", ">", 0.0),)},
        "claim 'alpha.positive' does not say what it measures",
    ),
    "threshold from an unknown parameter": (
        {"claims": (Claim("alpha.positive", "a", "paper", "n", ">", "n_min"),)},
        "takes its threshold from 'n_min', which is not a parameter of the notebook",
    ),
    "missing time budget": ({"timeout_s": {"full": 10}}, "timeout_s needs a positive limit for each of smoke, full"),
    "paper claim without a falsifier": (
        {"claims": (Claim("alpha.positive", "a", "paper", "n", ">", 0.0),)},
        "paper claim 'alpha.positive' declares no falsify table",
    ),
    "falsifier of an unknown parameter": (
        {"claims": (Claim("alpha.positive", "a", "paper", "n", ">", 0.0, falsify={"n_typo": 1}, falsify_why="w"),)},
        "falsifies with 'n_typo', which is not a parameter of the notebook",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
def test_validation_catches(mistake: str, fake_root: Path) -> None:
    write_notebook(fake_root, "alpha")
    changes, message = MISTAKES[mistake]
    chapter = dataclasses.replace(fake_chapter("alpha"), **changes)
    with pytest.raises(ConfigError, match="invalid registry: .*" + re.escape(message)):
        validate_registry({chapter.slug: chapter}, fake_root)


def test_registry_key_must_equal_slug(fake_root: Path) -> None:
    write_notebook(fake_root, "alpha")
    with pytest.raises(ConfigError, match="registry key 'beta' differs from the slug 'alpha'"):
        validate_registry({"beta": fake_chapter("alpha")}, fake_root)


def test_unknown_profile_is_a_config_error() -> None:
    chapter = next(iter(CHAPTERS.values()))
    with pytest.raises(ConfigError, match="unknown profile 'medium'; choose one of smoke, full"):
        chapter.params("medium")


def test_coverage_file_names_every_paper_and_only_known_claims() -> None:
    from paper_experiments.coverage import load_coverage, validate_coverage
    from paper_experiments.registry import REPO_ROOT

    papers = load_coverage(REPO_ROOT)
    validate_coverage(papers, CHAPTERS, REPO_ROOT)
    assert len(papers) >= 13  # the 13 founding papers of the research line
    assert {chapter.citation for chapter in CHAPTERS.values()} <= {paper.key for paper in papers}
    assert all(paper.claims for paper in papers)


def test_coverage_validation_catches_unknown_claims_and_missing_reasons(fake_root: Path) -> None:
    from paper_experiments.coverage import HeadlineClaim, PaperCoverage, validate_coverage

    write_notebook(fake_root, "alpha")
    chapters = {"alpha": fake_chapter("alpha")}
    bad = [PaperCoverage("fakepaper", "A Fake Paper", ("alpha",), (
        HeadlineClaim("typo", ("alpha.postive",), ""), HeadlineClaim("no reason", (), "")))]
    with pytest.raises(ConfigError, match="unknown claim id 'alpha.postive'.*has no reproducing claim and no why_not"):
        validate_coverage(bad, chapters, fake_root)


def test_coverage_cites_only_paper_claims_as_reproducing_a_statement(fake_root: Path) -> None:
    from paper_experiments.coverage import HeadlineClaim, PaperCoverage, validate_coverage

    write_notebook(fake_root, "alpha")
    check = Claim("alpha.recovered", "recovery is exact", "check", "difference", "<=", 1e-6)
    chapters = {"alpha": dataclasses.replace(fake_chapter("alpha"), claims=(check,))}
    cited = [PaperCoverage("fakepaper", "A Fake Paper", ("alpha",),
                           (HeadlineClaim("exact", ("alpha.recovered",), ""),))]
    with pytest.raises(ConfigError, match="'alpha.recovered' is a check claim; only paper claims reproduce"):
        validate_coverage(cited, chapters, fake_root)
    supported = [PaperCoverage("fakepaper", "A Fake Paper", ("alpha",),
                               (HeadlineClaim("exact", (), "no paper claim yet", ("alpha.recovered",)),))]
    validate_coverage(supported, chapters, fake_root)  # support is fine


def test_coverage_rejects_an_unknown_key_in_a_claim(tmp_path: Path) -> None:
    from paper_experiments.coverage import load_coverage

    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "coverage.toml").write_text(
        '[[paper]]\nkey = "k"\ntitle = "t"\n[[paper.claim]]\ntext = "x"\nreproduced_by = []\nwhy_partial = "typo"\n')
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['why_partial'\]"):
        load_coverage(tmp_path)
