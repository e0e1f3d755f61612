"""Numbers and claims recorded by a chapter, written to ``<output_dir>/numbers.json``.

Every chapter backs its claims with measured numbers. A claim is declared once, in the chapter's file
``book/<slug>.toml`` (``[[claims]]`` tables: ``name``, ``kind``, ``statement``, ``measured``, ``op``,
``threshold``), and measured in the notebook with ``rec.claim("<slug>.<name>", value)``: the comparison
``value <op> threshold`` (``op`` one of ``"<=", "<", ">=", ">"``) is evaluated here, once, and stored with its
statement so that the runner can collect it and the book can render a Claims page. A threshold given as a string
names a parameter of the chapter; the notebook passes its value (``rec.claim(id, value, threshold=tol)``). The file
is rewritten atomically (temporary file, then rename) after every call, so an interrupted chapter never leaves a
half-written file.

File layout::

    {"numbers": {name: value, ...},
     "claims": {claim_id: {"statement", "measured", "value", "op", "threshold", "passed"}, ...},
     "meta": {...}}
"""

from __future__ import annotations

import json
import math
import operator
import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

Op = Literal["<=", "<", ">=", ">"]
_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
NUMBERS_FILE = "numbers.json"
CLAIM_KINDS = ("paper", "check", "speed")


@dataclass(frozen=True)
class ClaimSpec:
    """A declared claim: id ``<slug>.<name>``, the human ``statement``, its ``kind`` (``paper``: a paper's
    statement, measured; ``check``: consistency of our construction; ``speed``: a timing ratio), what the value
    ``measured`` is, and the requirement ``value <op> threshold``; a string ``threshold`` names a parameter of
    the chapter. ``paper`` is the bib key when the claim is about a paper other than the chapter's. ``falsify`` holds
    parameter overrides under which the claim must fail (every ``paper`` claim has them) and ``falsify_why`` says
    why it must fail there."""

    id: str
    statement: str
    kind: str
    measured: str
    op: Op
    threshold: float | str
    paper: str | None = None
    falsify: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    falsify_why: str | None = None

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"claim {self.id} has op {self.op!r}; choose one of {sorted(_OPS)}")
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, int | float | str) or (isinstance(t, str) and not t) \
                or (not isinstance(t, str) and not math.isfinite(t)):
            raise ValueError(f"claim {self.id} needs a finite numeric threshold or a parameter name, got {t!r}")
        if self.falsify is not None and (not isinstance(self.falsify, Mapping) or not self.falsify
                                         or not all(isinstance(k, str) for k in self.falsify)):
            raise ValueError(f"claim {self.id}: falsify must be a non-empty table of parameter overrides, got "
                             f"{self.falsify!r}")
        if (self.falsify is None) != (self.falsify_why is None) or (
                self.falsify_why is not None and not (isinstance(self.falsify_why, str) and self.falsify_why.strip())):
            raise ValueError(f"claim {self.id}: give falsify (parameter overrides) and falsify_why (why the claim must "
                             "fail under them) together")


def chapter_spec_path(slug: str, start: str | os.PathLike[str] | None = None) -> Path:
    """``book/<slug>.toml`` seen from ``start`` (default: the working directory) or one of its parents, or
    ``<slug>.toml`` beside ``start`` (a notebook opened from ``book/``)."""
    if not isinstance(slug, str) or not slug:
        raise TypeError(f"slug must be a non-empty string (a chapter's name), got {slug!r}")
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for candidate in (folder / "book" / f"{slug}.toml", folder / f"{slug}.toml"):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(
        f"no book/{slug}.toml above {here}: run the chapter from the repository (python -m paper_experiments run "
        f"--chapter {slug}) or from its book/ folder"
    )


def claim_specs(slug: str, table: Mapping[str, Any]) -> dict[str, ClaimSpec]:
    """The ``[[claims]]`` of a chapter file (parsed TOML ``table``) as specs keyed by id ``<slug>.<name>``."""
    if not isinstance(table, Mapping):
        raise TypeError(f"table must be a parsed TOML table (a dict), got {type(table).__name__}")
    specs = {}
    for entry in table.get("claims", []):
        if not isinstance(entry, Mapping):
            raise TypeError(f"book/{slug}.toml: every [[claims]] entry must be a table, got {entry!r}")
        try:
            spec = ClaimSpec(
                id=f"{slug}.{entry['name']}",
                statement=str(entry["statement"]),
                kind=str(entry["kind"]),
                measured=str(entry["measured"]),
                op=entry["op"],
                threshold=entry["threshold"],
                paper=entry.get("paper"),
                falsify=entry.get("falsify"),
                falsify_why=entry.get("falsify_why"),
            )
        except KeyError as exc:
            raise ValueError(f"book/{slug}.toml: a [[claims]] entry lacks {exc.args[0]!r}: {dict(entry)}") from None
        except ValueError as exc:
            raise ValueError(f"book/{slug}.toml: {exc}") from None
        if spec.kind not in CLAIM_KINDS:
            raise ValueError(f"book/{slug}.toml: claim {spec.id} has kind {spec.kind!r}; choose one of {CLAIM_KINDS}")
        if spec.id in specs:
            raise ValueError(f"book/{slug}.toml: claim {spec.id} is declared twice")
        specs[spec.id] = spec
    return specs


def load_claim_specs(slug: str, start: str | os.PathLike[str] | None = None) -> dict[str, ClaimSpec]:
    """The claims declared in the chapter file of ``slug`` (:func:`chapter_spec_path`)."""
    with open(chapter_spec_path(slug, start), "rb") as fh:
        return claim_specs(slug, tomllib.load(fh))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples to plain JSON types; NaN/inf become strings."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class Recorder:
    """Collects a chapter's numbers and claims in ``<output_dir>/numbers.json``.

    ``chapter`` names the chapter whose declared claims (``book/<slug>.toml``) :meth:`claim` measures; ``claims``
    gives the specs directly instead.

    >>> rec = Recorder("/tmp/out", chapter="two_layer_convex")        # doctest: +SKIP
    >>> rec.number("convex_optimum", 0.123)                           # doctest: +SKIP
    >>> rec.claim("two_layer_convex.recovery_exact", 1e-9)            # doctest: +SKIP
    """

    def __init__(
        self,
        output_dir: str | os.PathLike[str],
        meta: dict[str, Any] | None = None,
        *,
        chapter: str | None = None,
        claims: Mapping[str, ClaimSpec] | None = None,
    ) -> None:
        if chapter is not None and claims is not None:
            raise ValueError("pass chapter (its book/<slug>.toml is read) or claims, not both")
        if not isinstance(output_dir, str | os.PathLike):
            raise TypeError(f"output_dir must be a str or os.PathLike, got {type(output_dir).__name__}")
        if claims is not None and (not isinstance(claims, Mapping) or any(
                not isinstance(spec, ClaimSpec) or key != spec.id for key, spec in claims.items())):
            raise TypeError("claims must map each claim id to its ClaimSpec (as claim_specs returns)")
        _check_storable(meta or {}, "meta")
        self.claims: dict[str, ClaimSpec] = dict(claims or {}) if chapter is None else load_claim_specs(chapter)
        self.output_dir = Path(output_dir)
        self.path = self.output_dir / NUMBERS_FILE
        self.data: dict[str, Any] = {"numbers": {}, "claims": {}, "meta": _jsonable(meta or {})}
        self._flush()

    def number(self, name: str, value: Any) -> Any:
        """Record a named number (or small list/dict of numbers and strings) and return it unchanged.

        Raises ``TypeError`` for a value JSON cannot hold (an object, a set, a function), naming ``name``.
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty string, got {name!r}")
        converted = _jsonable(value)
        try:
            json.dumps(converted)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"number {name!r}: {type(value).__name__} cannot be stored in numbers.json; record numbers, strings, "
                "lists or dicts of them (e.g. float(x), x.tolist(), df.to_dict('records'))"
            ) from exc
        self.data["numbers"][name] = converted
        self._flush()
        return value

    def claim(self, claim_id: str, value: float, *, threshold: float | None = None) -> bool:
        """Measure the declared claim ``claim_id``: record ``value <op> threshold`` and return whether it holds.

        ``value`` must be a finite real number: a NaN never passes. ``threshold`` is passed exactly when the
        declaration names a parameter (its value in this run); otherwise the declared number is used.
        """
        if claim_id not in self.claims:
            known = ", ".join(sorted(self.claims)) or "none (pass chapter=<slug>)"
            raise KeyError(f"claim {claim_id!r} is not declared; declared claims: {known}")
        spec = self.claims[claim_id]
        if isinstance(spec.threshold, str):
            if threshold is None:
                raise TypeError(f"claim {claim_id!r}: its threshold is the parameter {spec.threshold!r}; pass "
                                f"threshold={spec.threshold}")
        elif threshold is not None:
            raise TypeError(f"claim {claim_id!r} declares the threshold {spec.threshold!r}; do not pass another")
        else:
            threshold = spec.threshold
        value, threshold = (x.item() if isinstance(x, np.ndarray) and x.ndim == 0 else x for x in (value, threshold))
        for what, number in (("value", value), ("threshold", threshold)):
            if isinstance(number, bool) or not isinstance(number, int | float | np.integer | np.floating):
                raise TypeError(
                    f"claim {claim_id!r}: {what} must be a real number, got {type(number).__name__} {number!r}"
                )
        value = float(value)
        threshold = float(threshold)
        passed = bool(math.isfinite(value) and _OPS[spec.op](value, threshold))
        self.data["claims"][claim_id] = {
            "statement": spec.statement,
            "measured": spec.measured,
            "value": _jsonable(value),
            "op": spec.op,
            "threshold": threshold,
            "passed": passed,
        }
        self._flush()
        return passed

    def _flush(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, indent=2, sort_keys=True))


def load_numbers(output_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a chapter's ``numbers.json``."""
    path = Path(output_dir) / NUMBERS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {NUMBERS_FILE} in {output_dir}: run the chapter first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); rerun the chapter") from None


def _check_storable(value: Any, name: str) -> None:
    """Refuse what ``numbers.json`` cannot hold, naming the entry."""
    try:
        json.dumps(_jsonable(value))
    except TypeError:
        bad = [k for k, v in value.items() if _not_storable(v)] if isinstance(value, dict) else []
        where = f"{name}[{bad[0]!r}]" if bad else name
        raise TypeError(f"{where}: {type(value[bad[0]] if bad else value).__name__} cannot be stored in "
                        f"{NUMBERS_FILE}") from None


def _not_storable(value: Any) -> bool:
    try:
        json.dumps(_jsonable(value))
    except TypeError:
        return True
    return False


def run_metadata(**parameters: Any) -> dict[str, Any]:
    """Versions of the numerical stack, the git commit of the working tree and the given parameters."""
    import importlib.metadata as md

    for key, value in parameters.items():
        if _not_storable(value):
            raise TypeError(f"parameter {key!r}: {type(value).__name__} cannot be stored in {NUMBERS_FILE}")
    import platform
    import subprocess

    versions = {}
    for pkg in ("cvxnn-core", "numpy", "scipy", "cvxpy", "clarabel", "torch", "scikit-learn"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "not installed"
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = "unknown"
    return {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "git": sha,
        "versions": versions,
        "parameters": _jsonable(parameters),
    }
