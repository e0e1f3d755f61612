"""A chapter's parameters for a reader: what they mean, and values of one's own (``-p NAME=VALUE``).

:func:`describe` gives each parameter's name, type, smoke and full values and a one-line meaning: the comment
after it in the notebook's ``parameters`` cell when there is one, else the glossary below (shared names such
as ``seed`` or ``beta``, then name patterns such as ``lr_<what>`` or ``epochs_<section>``).
:func:`parse_overrides` turns ``NAME=VALUE`` strings into values of the parameter's type, refusing unknown
names and badly typed values before anything runs.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paper_experiments import ConfigError, markdown_table
from paper_experiments.registry import Chapter

# Meanings of the names every chapter uses for the same thing (STYLE.md: one name for one thing).
GLOSSARY = {
    "seed": "seed of every random draw (data, patterns, initialisations)",
    "data_seed": "seed of the data set alone",
    "n": "number of training samples",
    "d": "input dimension (before the bias column)",
    "c": "number of outputs (classes)",
    "beta": "weight-decay strength beta of the convex program and of the trained networks",
    "n_patterns": "number of sampled activation patterns",
    "widths": "hidden widths of the trained (non-convex) networks",
    "width": "hidden width of the trained network",
    "n_seeds": "initialisations per width and optimizer",
    "epochs": "training epochs (full batch unless stated)",
    "steps": "gradient steps",
    "lr": "step size",
    "lr_adam": "Adam step size",
    "lr_sgd": "SGD step size",
    "lr_gd": "gradient-descent step size",
    "momentum": "SGD momentum",
    "noise": "standard deviation of the noise added to the targets or inputs",
    "tol": "target relative duality gap of the solvers",
    "n_train": "training samples of the real-data experiment",
    "test_fraction": "fraction of the data held out for testing",
    "n_per_class": "samples per class",
    "init_scale": "scale of the initial weights (small: rich regime)",
    "max_iters": "iteration cap of the method",
    "output_dir": "where the chapter writes its numbers and figures (set by the runner)",
    "profile": "benchmark problem set (tiny, mid, full, scaling)",
    "use_saved": "read saved benchmark results of the current code instead of running the problem set",
    "results_dir": "folder of saved benchmark results",
    "time_cap": "seconds each benchmark method may run before it is recorded as 'did not finish'",
    "isolate": "run each benchmark method in its own process (time cap enforced, memory measured)",
    "resolution": "grid points per axis of the decision-region plots",
    "kinds": "synthetic 2-D data sets",
    "digits": "digit classes used",
    "digit_classes": "digit classes used",
}
# Name patterns: (regex, meaning with {0} for the captured part).
PATTERNS = [
    (r"(\w+)_speedup_min", "speed-up target over the peer ({0})"),
    (r"(\w+)_min", "smallest {0}"),
    (r"(\w+)_max", "largest {0}"),
    (r"lr_(\w+)", "step size ({0})"),
    (r"epochs_(\w+)", "training epochs ({0})"),
    (r"steps_(\w+)", "gradient steps ({0})"),
    (r"betas?_(\w+)", "weight decay beta ({0})"),
    (r"widths?_(\w+)", "hidden width ({0})"),
    (r"n_seeds_(\w+)", "initialisations ({0})"),
    (r"n_patterns_(\w+)", "sampled activation patterns ({0})"),
    (r"n_(\w+)", "number of {0}"),
    (r"d_(\w+)", "input dimension ({0})"),
]


@dataclass(frozen=True)
class Parameter:
    """One parameter of a chapter: its name, type, values in both profiles and meaning."""

    name: str
    type: str
    smoke: Any
    full: Any
    meaning: str


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        inner = sorted({_type_name(item) for item in value})
        return f"list[{' | '.join(inner) or 'any'}]"
    return type(value).__name__ if value is not None else "None"


def _comments(root: Path, chapter: Chapter) -> dict[str, str]:
    """``name = value  # meaning`` comments of the notebook's parameters cell."""
    import nbformat

    notebook = nbformat.read(root / chapter.notebook, as_version=4)
    cells = [c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    found = {}
    for line in (cells[0].source if cells else "").splitlines():
        match = re.match(r"\s*(\w+)\s*=.*?#\s*(.+)$", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def meaning(name: str, comments: dict[str, str]) -> str:
    """The meaning of ``name``: the notebook's comment, the glossary, or a name pattern."""
    if name in comments:
        return comments[name]
    if name in GLOSSARY:
        return GLOSSARY[name]
    for pattern, text in PATTERNS:
        match = re.fullmatch(pattern, name)
        if match:
            return text.format(*(part.replace("_", " ") for part in match.groups()))
    return name.replace("_", " ")


def describe(root: Path, chapter: Chapter) -> list[Parameter]:
    """Every parameter of ``chapter`` in the order of its ``full`` set."""
    comments = _comments(root, chapter)
    smoke = chapter.params("smoke")
    return [
        Parameter(name, _type_name(value), smoke[name], value, meaning(name, comments))
        for name, value in chapter.full.items()
    ]


def parameters_table(root: Path, chapter: Chapter) -> str:
    """The ``params`` command's table: name, type, smoke, full, meaning."""
    rows = [[p.name, p.type, repr(p.smoke), repr(p.full), p.meaning] for p in describe(root, chapter)]
    return markdown_table(["name", "type", "smoke", "full", "meaning"], rows)


def _convert(name: str, text: str, like: Any) -> Any:
    """``text`` as a value of the type of ``like`` (the full value), or a :class:`ConfigError`."""
    expected = _type_name(like)
    if isinstance(like, bool):
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ConfigError(f"parameter {name} takes a bool (true/false), got {text!r}")
    if isinstance(like, str):
        return text
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        raise ConfigError(f"parameter {name} takes {expected}, got {text!r} (not a Python literal)") from None
    if isinstance(like, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(like, list) and isinstance(value, list):
        kinds = {type(item) for item in like}
        if kinds == {float}:
            value = [float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        if like and not all(type(item) in kinds for item in value):
            raise ConfigError(f"parameter {name} takes {expected}, got {text!r}")
        return value
    if type(value) is not type(like) and like is not None:
        raise ConfigError(f"parameter {name} takes {expected}, got {text!r}")
    return value


def parse_overrides(chapter: Chapter, items: list[str]) -> dict[str, Any]:
    """``["NAME=VALUE", ...]`` as ``{name: value}``, typed like the chapter's full values; errors list the names."""
    valid = {name: value for name, value in chapter.full.items() if name != "output_dir"}
    listing = ", ".join(f"{name} ({_type_name(value)})" for name, value in valid.items())
    overrides: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"-p takes NAME=VALUE, got {item!r}; parameters of {chapter.slug}: {listing}")
        if name == "output_dir":
            raise ConfigError("output_dir is set by the runner (custom runs get their own result folder)")
        if name not in valid:
            raise ConfigError(f"{chapter.slug} has no parameter {name!r}; its parameters: {listing}")
        overrides[name] = _convert(name, text, valid[name])
    return overrides
