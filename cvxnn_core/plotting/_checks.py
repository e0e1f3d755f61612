"""Checks of the tidy data frames and mappings given to the figure helpers (errors name the argument)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd


def check_frame(frame: object, name: str, columns: Iterable[str], *, finite: Iterable[str] = (),
                log: Iterable[str] = (), unit: Iterable[str] = (), choices: Mapping[str, Iterable] | None = None):
    """``frame`` as a non-empty DataFrame holding ``columns``: ``finite`` columns hold finite numbers, ``log`` columns
    (drawn on a log axis) finite numbers ``> 0``, ``unit`` columns numbers in ``[0, 1]``; ``choices`` maps a column to
    its allowed values."""

    columns = list(dict.fromkeys(columns))
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame with columns {columns}, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; it needs {columns}, has {list(frame.columns)}")
    if len(frame) == 0:
        raise ValueError(f"{name} is empty (0 rows); there is nothing to plot")
    log, unit = tuple(log), tuple(unit)
    for c in dict.fromkeys((*finite, *log, *unit)):
        v = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name}[{c!r}] contains NaN, inf or non-numeric entries; drop those rows first")
        if c in log and v.min() <= 0:
            raise ValueError(f"{name}[{c!r}] must be > 0 (drawn on a log axis), got {v.min():g}")
        if c in unit and (v.min() < 0 or v.max() > 1):
            raise ValueError(f"{name}[{c!r}] must lie in [0, 1], got values in [{v.min():g}, {v.max():g}]")
    for c, allowed in (choices or {}).items():
        allowed = tuple(allowed)
        bad = [v for v in dict.fromkeys(frame[c]) if v not in allowed]
        if bad:
            raise ValueError(f"{name}[{c!r}] must be one of {allowed}, got {bad[:5]}")
    return frame


def check_keys(mapping: object, name: str, needed: Iterable, source: str) -> Mapping:
    """``mapping`` as a dict with an entry for every value of ``needed`` (the values of ``source``, named in the
    message)."""
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{name} must be a dict, got {type(mapping).__name__}")
    missing = [k for k in dict.fromkeys(needed) if k not in mapping]
    if missing:
        raise ValueError(f"{name} has no entry for {missing[:5]}; it needs one per value of {source}")
    return mapping


def check_mesh(sub: pd.DataFrame, value: str, name: str) -> pd.DataFrame:
    """``sub[value]`` pivoted to an ``x2 x x1`` table; refused unless it is a full mesh of at least 2 x 2 points."""
    S = sub.pivot_table(index="x2", columns="x1", values=value)
    if min(S.shape) < 2 or S.isna().to_numpy().any():
        raise ValueError(
            f"{name} must hold a regular x1-x2 mesh of at least 2 x 2 points per panel (every x1 with every x2), got "
            f"{len(sub)} rows over {S.shape[1]} x1 and {S.shape[0]} x2 values"
        )
    return S
