"""The chapter registry: one typed entry per chapter of the book, in ``_toc.yml`` order, read from data.

A chapter is two files: ``book/<slug>.ipynb`` (narrative, a ``parameters`` cell whose defaults are the ``full``
parameter set, calls into ``cvxnn_core``, figures) and ``book/<slug>.toml`` (title, citation, figures, the
``[smoke]`` overrides that make it run in CI, time budgets, and the claims, each declared once with its
statement, kind, what is measured and the requirement ``op threshold``; the notebook measures them with
``rec.claim(id, value)``). Nothing is copied: ``full`` is read from the notebook itself. The slug is also the
results-folder name: one name end to end.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from cvxnn_core.results import ClaimSpec, claim_specs
from paper_experiments import ConfigError

Profile = Literal["smoke", "full"]
PROFILES: tuple[str, ...] = get_args(Profile)
ClaimKind = Literal["paper", "check", "speed"]
CLAIM_KINDS: tuple[str, ...] = get_args(ClaimKind)
# Speed claims get a verdict only in this profile; elsewhere their ratio is recorded as a measurement.
SPEED_VERDICT_PROFILE = "full"
REPO_ROOT = Path(__file__).resolve().parent.parent
BIB_FILE = "book/references.bib"

_SLUG = re.compile(r"[a-z]+(_[a-z]+)*")
_FIGURE_ID = re.compile(r"fig_[a-z0-9]+(_[a-z0-9]+)*")
_CLAIM_NAME = re.compile(r"[a-z0-9]+(_[a-z0-9]+)*")


@dataclass(frozen=True)
class Claim(ClaimSpec):
    """A claim reproduced by a chapter (:class:`cvxnn_core.results.ClaimSpec`, declared in ``book/<slug>.toml``).

    ``kind``: ``"paper"`` (a statement a paper makes, measured; ``paper`` names its bib key when it is not the
    chapter's citation), ``"check"`` (consistency of our own construction: recovery after projection, weak
    duality of our certificate, a restriction being an upper bound, a loop invariant) or ``"speed"`` (a timing
    ratio: judged only in the ``full`` profile, recorded without a verdict in ``smoke``). The chapter measures
    it with ``Recorder.claim(id, value)``.
    """

    def judged(self, profile: str) -> bool:
        """Whether a run with ``profile`` gives this claim a pass/fail verdict."""
        return self.kind != "speed" or profile == SPEED_VERDICT_PROFILE


@dataclass(frozen=True)
class Chapter:
    """One chapter: its notebook, the paper it reproduces, what it must produce, how to run it.

    ``timeout_s`` is the wall-clock budget of the whole chapter per profile and
    ``cell_timeout_s`` the limit of a single cell; both are enforced as timeouts, never as verdicts, and are
    set to at least five times the chapter's measured time on an idle 2-core machine (CONTRIBUTING.md).
    ``capped_s`` adds, from the parameters of a run, the seconds its capped work can take at most (the
    benchmark's per-method time caps): the chapter's budget is derived from the caps it sets, not guessed.
    ``inputs`` are folders (relative to the output root) whose files enter the cache key, such as saved
    benchmark results a chapter reads. ``exclusive`` chapters (timings, or work that uses every core) never run
    beside another chapter in the ``full`` profile, where their speed claims are judged: ``run --jobs N`` runs them
    alone, after the others (:meth:`runs_alone`). In ``smoke`` speed claims are recorded without a verdict, so there
    they share the cores like any chapter.
    """

    slug: str
    title: str
    citation: str
    figures: tuple[str, ...]
    claims: tuple[Claim, ...]
    full: Mapping[str, Any]
    smoke: Mapping[str, Any]
    timeout_s: Mapping[str, float]
    cell_timeout_s: Mapping[str, float]
    capped_s: Callable[[Mapping[str, Any]], float] | None = None
    inputs: tuple[str, ...] = ()
    exclusive: bool = False

    @property
    def notebook(self) -> str:
        """The notebook path relative to the repository root."""
        return f"book/{self.slug}.ipynb"

    @property
    def claim_ids(self) -> tuple[str, ...]:
        """The declared claim ids, in order."""
        return tuple(claim.id for claim in self.claims)

    def params(self, profile: str) -> dict[str, Any]:
        """The complete parameter set of ``profile``: ``full``, overridden by ``smoke`` for smoke runs."""
        check_profile(profile)
        return {**self.full, **(self.smoke if profile == "smoke" else {})}

    def runs_alone(self, profile: str) -> bool:
        """Whether a run with ``profile`` must have the machine to itself (``exclusive``, and ``full``)."""
        return self.exclusive and profile == "full"

    def budget_s(self, profile: str, overrides: Mapping[str, Any] | None = None) -> tuple[float, float]:
        """``(chapter, cell)`` wall-clock limits of a run with ``profile`` (and a reader's ``overrides``): the fixed
        limits plus the capped work."""
        params = {**self.params(profile), **(overrides or {})}
        extra = float(self.capped_s(params)) if self.capped_s is not None else 0.0
        return self.timeout_s[profile] + extra, self.cell_timeout_s[profile] + extra


def _benchmark_caps(params: Mapping[str, Any]) -> float:
    """Seconds the ``solver_speed`` benchmark can take at most: every isolated method run killed at its cap."""
    if not params["isolate"]:
        return 0.0
    from paper_experiments.benchmarks.solvers import PATH_METHODS, cap_budget_s, profile_problems

    main = cap_budget_s(profile_problems(params["profile"]), params["time_cap"])
    path = params.get("path_profile")
    return main + (cap_budget_s(profile_problems(path), params["time_cap"], PATH_METHODS) if path else 0.0)



# Budgets a chapter file can name (``capped = "<name>"``): functions of a run's parameters giving the seconds its
# capped work can take at most.
CAPPED: dict[str, Callable[[Mapping[str, Any]], float]] = {"benchmark_caps": _benchmark_caps}


def notebook_parameters(path: str | Path) -> dict[str, Any]:
    """The defaults of the notebook's ``parameters`` cell: ``name = <literal>`` assignments, in order."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise ConfigError(f"{path}: needs exactly one cell tagged 'parameters', found {len(tagged)}")
    source = "".join(tagged[0]["source"])
    values = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            found = ast.unparse(node)
            raise ConfigError(f"{path}: the parameters cell may hold only 'name = value' lines, found {found!r}")
        try:
            values[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError:
            found = ast.unparse(node.value)
            raise ConfigError(f"{path}: parameter {node.targets[0].id} is not a literal: {found}") from None
    return values


def load_chapter(root: str | Path, slug: str) -> Chapter:
    """The chapter ``slug`` from ``book/<slug>.toml`` and the parameters cell of ``book/<slug>.ipynb``."""
    root = Path(root)
    path = root / "book" / f"{slug}.toml"
    try:
        with open(path, "rb") as fh:
            table = tomllib.load(fh)
        specs = claim_specs(slug, table)
    except (OSError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    capped = table.get("capped")
    if capped is not None and capped not in CAPPED:
        raise ConfigError(f"{path}: capped = {capped!r} is not one of {sorted(CAPPED)}")
    try:
        return Chapter(
            slug=slug,
            title=table["title"],
            citation=table["citation"],
            figures=tuple(table["figures"]),
            claims=tuple(Claim(**vars(spec)) for spec in specs.values()),
            full=notebook_parameters(root / "book" / f"{slug}.ipynb"),
            smoke=dict(table.get("smoke", {})),
            timeout_s=dict(table["timeout_s"]),
            cell_timeout_s=dict(table["cell_timeout_s"]),
            capped_s=None if capped is None else CAPPED[capped],
            inputs=tuple(table.get("inputs", ())),
            exclusive=bool(table.get("exclusive", False)),
        )
    except KeyError as exc:
        raise ConfigError(f"{path}: missing key {exc.args[0]!r}") from None


def toc_slugs(root: str | Path) -> list[str]:
    """The chapters of ``_toc.yml`` in order: its ``book/<slug>`` entries with a notebook and a chapter file."""
    root = Path(root)
    entries = re.findall(r"^\s*-?\s*file:\s*book/(\w+)\s*$", (root / "_toc.yml").read_text(), re.MULTILINE)
    return [s for s in entries if (root / "book" / f"{s}.toml").is_file() and (root / "book" / f"{s}.ipynb").is_file()]


def load_chapters(root: str | Path = REPO_ROOT) -> dict[str, Chapter]:
    """Every chapter of the book, in ``_toc.yml`` order."""
    return {slug: load_chapter(root, slug) for slug in toc_slugs(root)}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise ConfigError(f"{value!r} cannot be written to a chapter file")


def chapter_toml(chapter: Chapter) -> str:
    """The ``book/<slug>.toml`` text of ``chapter`` (:func:`load_chapter` reads it back; ``full`` stays in the
    notebook). ``capped_s`` is written by its name in :data:`CAPPED`."""
    lines = [f"title = {_toml_value(chapter.title)}", f"citation = {_toml_value(chapter.citation)}",
             f"figures = {_toml_value(chapter.figures)}"]
    if chapter.inputs:
        lines.append(f"inputs = {_toml_value(chapter.inputs)}")
    if chapter.capped_s is not None:
        lines.append(f"capped = {_toml_value(next(k for k, f in CAPPED.items() if f is chapter.capped_s))}")
    for table in ("timeout_s", "cell_timeout_s", "smoke"):
        lines += ["", f"[{table}]", *(f"{k} = {_toml_value(v)}" for k, v in getattr(chapter, table).items())]
    for claim in chapter.claims:
        lines += ["", "[[claims]]", f"name = {_toml_value(claim.id.partition('.')[2])}"]
        fields = ("kind", "paper", "statement", "measured", "op", "threshold", "falsify", "falsify_why")
        lines += [f"{f} = {_toml_value(getattr(claim, f))}" for f in fields if getattr(claim, f) is not None]
    return "\n".join(lines) + "\n"


CHAPTERS: dict[str, Chapter] = load_chapters()


def check_profile(profile: str) -> None:
    """Raise :class:`ConfigError` unless ``profile`` is one of :data:`PROFILES`."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")


def bib_keys(path: str | Path) -> set[str]:
    """The entry keys of a BibTeX file."""
    return set(re.findall(r"@\w+\s*\{\s*([^,\s]+)\s*,", Path(path).read_text(encoding="utf-8")))


def _is_literal(value: Any) -> bool:
    """Whether ``value`` is a plain literal that a papermill ``parameters`` cell can hold."""
    if isinstance(value, list):
        return all(_is_literal(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_literal(v) for k, v in value.items())
    return value is None or isinstance(value, bool | int | float | str)


def _chapter_problems(key: str, chapter: Chapter, root: Path, known_bib_keys: set[str]) -> list[str]:
    slug = chapter.slug
    problems = []
    if key != slug:
        problems.append(f"registry key {key!r} differs from the slug {slug!r}")
    if not _SLUG.fullmatch(slug):
        problems.append(f"slug {slug!r} is not a snake_case topic name (letters and _ only)")
    if not chapter.title.strip():
        problems.append(f"{slug}: empty title")
    if not (root / chapter.notebook).is_file():
        problems.append(f"{slug}: notebook {chapter.notebook} does not exist")
    if chapter.citation not in known_bib_keys:
        problems.append(f"{slug}: citation key {chapter.citation!r} is not in {BIB_FILE}")
    for figure_id in sorted({f for f in chapter.figures if chapter.figures.count(f) > 1}):
        problems.append(f"{slug}: duplicate figure id {figure_id!r}")
    for figure_id in chapter.figures:
        if not _FIGURE_ID.fullmatch(figure_id):
            problems.append(f"{slug}: bad figure id {figure_id!r} (want fig_<what>)")
    claim_ids = chapter.claim_ids
    for claim_id in sorted({c for c in claim_ids if claim_ids.count(c) > 1}):
        problems.append(f"{slug}: duplicate claim id {claim_id!r}")
    for claim in chapter.claims:
        prefix, _, name = claim.id.partition(".")
        if prefix != slug or not _CLAIM_NAME.fullmatch(name):
            problems.append(f"{slug}: claim id {claim.id!r} must look like '{slug}.<name>'")
        if not claim.statement.strip():
            problems.append(f"{slug}: claim {claim.id!r} has no statement")
        if claim.kind not in CLAIM_KINDS:
            problems.append(f"{slug}: claim {claim.id!r} has kind {claim.kind!r}; choose one of {CLAIM_KINDS}")
        if claim.paper is not None and claim.paper not in known_bib_keys:
            problems.append(f"{slug}: claim {claim.id!r} names paper {claim.paper!r}, which is not in {BIB_FILE}")
        if not claim.measured.strip():
            problems.append(f"{slug}: claim {claim.id!r} does not say what it measures")
        if isinstance(claim.threshold, str) and claim.threshold not in chapter.full:
            problems.append(f"{slug}: claim {claim.id!r} takes its threshold from {claim.threshold!r}, which is not "
                            "a parameter of the notebook")
        problems += _falsifier_problems(chapter, claim)
    extra = sorted(set(chapter.smoke) - set(chapter.full))
    if extra:
        problems.append(f"{slug}: smoke parameters {extra} are not in the full set")
    problems += [
        f"{slug}: parameter {name!r} = {value!r} is not a plain literal"
        for name, value in {**chapter.full, **chapter.smoke}.items()
        if not _is_literal(value)
    ]
    for budget in ("timeout_s", "cell_timeout_s"):
        limits = getattr(chapter, budget)
        if sorted(limits) != sorted(PROFILES) or not all(limit > 0 for limit in limits.values()):
            problems.append(f"{slug}: {budget} needs a positive limit for each of {', '.join(PROFILES)}")
    return problems


def _falsifier_problems(chapter: Chapter, claim: Claim) -> list[str]:
    """A ``paper`` claim must name a falsifier: overrides of notebook parameters (plain literals) under which it
    must fail, and why."""
    slug = chapter.slug
    if claim.falsify is None:
        return [f"{slug}: paper claim {claim.id!r} declares no falsify table (parameter overrides under which it "
                "must fail); a claim no parameter can break is a 'check'"] if claim.kind == "paper" else []
    problems = [f"{slug}: claim {claim.id!r} falsifies with {name!r}, which is not a parameter of the notebook"
                for name in claim.falsify if name not in chapter.full]
    problems += [f"{slug}: claim {claim.id!r} falsifies with {name} = {value!r}, not a plain literal"
                 for name, value in claim.falsify.items() if not _is_literal(value)]
    return problems


def validate_registry(chapters: Mapping[str, Chapter] | None = None, root: str | Path = REPO_ROOT) -> None:
    """Check the registry and raise :class:`ConfigError` listing every problem, one per line.

    Checks: unique snake_case slugs, notebooks exist, citation keys exist in ``book/references.bib``,
    figure ids ``fig_*`` unique within a chapter, claim ids ``<slug>.<name>`` unique, smoke keys
    a subset of full keys, plain-literal parameters, positive time budgets for every profile.
    """
    chapters = CHAPTERS if chapters is None else chapters
    root = Path(root)
    bib = root / BIB_FILE
    known = bib_keys(bib) if bib.is_file() else set()
    problems = [] if bib.is_file() else [f"{BIB_FILE} does not exist"]
    for key, chapter in chapters.items():
        problems += _chapter_problems(key, chapter, root, known)
    if problems:
        raise ConfigError("invalid registry: " + "; ".join(problems))
