"""Numbers and claims recorded by a chapter, written to ``<output_dir>/numbers.json``.

Every chapter backs its claims with measured numbers. A claim is a comparison
``value <op> threshold`` with ``op`` one of ``"<=", "<", ">=", ">"``; it is evaluated
here, once, and stored with its statement so that the runner can collect it and the
book can render a Claims page. The file is rewritten atomically (temporary file, then
rename) after every call, so an interrupted chapter never leaves a half-written file.

File layout::

    {"numbers": {name: value, ...},
     "claims": {claim_id: {"statement", "value", "op", "threshold", "passed"}, ...},
     "meta": {...}}
"""

from __future__ import annotations

import json
import math
import operator
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np

Op = Literal["<=", "<", ">=", ">"]
_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
NUMBERS_FILE = "numbers.json"


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
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

    >>> rec = Recorder("/tmp/out")                                    # doctest: +SKIP
    >>> rec.number("convex_optimum", 0.123)                           # doctest: +SKIP
    >>> rec.claim("two_layer_convex.recovered_matches", "...", 1e-9, "<=", 1e-6)  # doctest: +SKIP
    """

    def __init__(self, output_dir: str | os.PathLike[str], meta: dict[str, Any] | None = None) -> None:
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

    def claim(self, claim_id: str, statement: str, value: float, op: Op, threshold: float) -> bool:
        """Record the claim ``value <op> threshold`` and return whether it holds.

        ``value`` must be a finite real number: a NaN never passes.
        """
        if op not in _OPS:
            raise ValueError(f"op must be one of {sorted(_OPS)}, got {op!r}")
        value, threshold = (x.item() if isinstance(x, np.ndarray) and x.ndim == 0 else x for x in (value, threshold))
        for what, number in (("value", value), ("threshold", threshold)):
            if isinstance(number, bool) or not isinstance(number, int | float | np.integer | np.floating):
                raise TypeError(
                    f"claim {claim_id!r}: {what} must be a real number, got {type(number).__name__} {number!r}"
                )
        value = float(value)
        threshold = float(threshold)
        passed = bool(math.isfinite(value) and _OPS[op](value, threshold))
        self.data["claims"][claim_id] = {
            "statement": statement,
            "value": _jsonable(value),
            "op": op,
            "threshold": threshold,
            "passed": passed,
        }
        self._flush()
        return passed

    def _flush(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, indent=2, sort_keys=True))


def load_numbers(output_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a chapter's ``numbers.json``."""
    return json.loads((Path(output_dir) / NUMBERS_FILE).read_text(encoding="utf-8"))


def run_metadata(**parameters: Any) -> dict[str, Any]:
    """Versions of the numerical stack, the git commit of the working tree and the given parameters."""
    import importlib.metadata as md
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
