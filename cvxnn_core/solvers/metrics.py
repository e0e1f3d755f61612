"""Measuring solvers: time to a relative accuracy and performance profiles."""

from __future__ import annotations

import math

import numpy as np

from cvxnn_core._shapes import check_array

# ----------------------------------------------------------------------------------------------------------------------
# Measuring solvers: time to accuracy and performance profiles
# ----------------------------------------------------------------------------------------------------------------------


def time_to_accuracy(times: np.ndarray, objectives: np.ndarray, reference: float, tol: float) -> float:
    """First time at which ``(objective - reference) / |reference| <= tol``; ``inf`` if never.

    ``times`` and ``objectives`` (same length) trace one run; ``objectives`` must be values of points that are
    feasible for the program (every solver here reports those), ``reference`` the best value any method
    reached. A run that ends *below* the reference (a non-convex network on a restricted pattern set) counts
    as having reached it.
    """
    times = check_array(times, "times", (None,), labels=("k",)) if np.size(times) else np.zeros(0)
    objectives = np.asarray(objectives, dtype=float)
    if times.shape != objectives.shape or times.ndim != 1:
        raise ValueError(f"times and objectives must be 1-D of equal length, got {times.shape} and {objectives.shape}")
    if isinstance(reference, bool) or not isinstance(reference, int | float | np.integer | np.floating):
        raise TypeError(f"reference must be a finite number (the best value reached), got {reference!r}")
    if not (np.isfinite(reference) and np.isfinite(tol) and tol >= 0):
        raise ValueError(f"reference must be finite and tol >= 0, got {reference!r} and {tol!r}")
    ok = (objectives - reference) <= tol * max(abs(reference), 1e-300)
    return float(times[np.argmax(ok)]) if np.any(ok) else math.inf


def performance_profile(solve_times: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Fraction of problems solved by time ``t`` for each method: ``out[k, m] = mean_p(solve_times[p, m] <= grid[k])``.

    ``solve_times`` is ``(problems, methods)`` with ``inf`` (or NaN) for "never reached the tolerance" or "did not
    finish"; the profile is on an absolute time axis, as in Mishkin, Sahiner & Pilanci (2022, Fig. 4).
    """
    try:
        T = np.asarray(solve_times, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError("solve_times must be numbers (seconds; inf or NaN for not solved)") from exc
    if T.ndim != 2 or T.shape[0] == 0:
        raise ValueError(f"solve_times must have shape (problems, methods) with at least one problem, got {T.shape}")
    if np.any(T < 0):
        raise ValueError("solve_times must be >= 0 (seconds; inf or NaN for not solved)")
    T = np.where(np.isnan(T), np.inf, T)
    if np.size(grid) == 0:
        raise ValueError("grid must hold at least one time")
    grid = check_array(np.ravel(grid), "grid", (None,), labels=("k",))
    return np.mean(T[None, :, :] <= grid[:, None, None], axis=1)
