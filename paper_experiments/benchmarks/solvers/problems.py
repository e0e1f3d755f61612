"""The benchmark's problems: methods, profiles and the problem ladders (:class:`Problem`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

GATED_METHODS = ("fista", "fista_float32", "clarabel", "scs", "pyscnn", "skglm", "celer")
RELU_METHODS = ("active_set", "al", "gated_decomp", "clarabel", "scs", "pyscnn", "adam", "sgd")
DATASETS = ("teacher", "breast_cancer", "digits")
PROFILES = ("tiny", "mid", "full", "scaling", "path", "path_tiny")
PATH_FRACTIONS = (1e-1, 1e-2, 1e-3, 1e-4)  # beta / beta_max of the small-beta profiles
PATH_METHODS = ("fista", "clarabel", "active_set", "al")  # the methods of the small-beta profiles
ACCURACIES = (1e-3, 1e-6)
LR_GRID = {"adam": (1e-3, 1e-2, 1e-1), "sgd": (1e-4, 3e-4, 1e-3)}  # full batch, summed loss: SGD diverges above ~1e-3
DEFAULT_OUT = "_build/benchmarks/solver_speed"
GRACE_S = 30.0  # extra seconds a worker process gets beyond the cap (imports, data, cvxpy compilation)


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: program ``kind`` (``gated``/``relu``), data set, sizes, ``beta = beta_frac * beta_max``.

    For ``teacher`` (planted two-layer ReLU teacher with 100 units, Gaussian inputs, noise 0.1) ``n`` and ``d``
    are free; for ``breast_cancer`` (398 x 30 training part + intercept) and ``digits`` (8x8 digits, even vs odd,
    1257 x 64 + intercept, labels +-1, squared loss) they are the data's and only ``P`` is chosen.
    """

    kind: str
    dataset: str
    n: int
    d: int
    P: int
    beta_frac: float = 0.1
    seed: int = 0

    @property
    def id(self) -> str:
        tail = "" if self.beta_frac == 0.1 else f"-b{self.beta_frac:.0e}"
        return f"{self.kind}-{self.dataset}-n{self.n}-d{self.d}-P{self.P}{tail}"

    @property
    def family(self) -> str:
        """The problem without its ``beta``: the panel of the regularization-path figure."""
        return f"{self.kind}-{self.dataset}-n{self.n}-d{self.d}-P{self.P}"

    def build(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """``(X, y, D, beta)``: deterministic given the fields (same data and patterns for every method)."""
        from cvxnn_core import datasets, patterns, solvers

        if self.dataset == "teacher":
            X, y = datasets.teacher_regression(self.n, self.d, width=100, noise=0.1, seed=self.seed)
        elif self.dataset in ("breast_cancer", "digits"):
            name = "breast_cancer" if self.dataset == "breast_cancer" else "digits_even_vs_odd"
            split = datasets.load_binary(name, seed=self.seed)
            X, y = datasets.add_intercept(split.X_train), split.y_train
        else:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        if X.shape != (self.n, self.d):
            raise ValueError(f"{self.dataset} has shape {X.shape}; build the problem with real_problem()")
        D, _ = patterns.sample_gates(X, self.P, seed=self.seed)
        return X, y, D, self.beta_frac * solvers.beta_max(X, y, D)


def real_problem(kind: str, dataset: str, P: int, **kwargs: Any) -> Problem:
    """A :class:`Problem` on a bundled data set, with ``n`` and ``d`` read from the data."""
    shapes = {"breast_cancer": (398, 31), "digits": (1257, 65)}
    if dataset not in shapes:
        raise ValueError(f"dataset must be one of {sorted(shapes)}, got {dataset!r}")
    return Problem(kind, dataset, *shapes[dataset], P, **kwargs)


def profile_problems(profile: str) -> list[Problem]:
    """The problem sets of the CLI profiles.

    ``tiny`` (the chapter's smoke run), ``mid`` (the chapter's fallback when no saved results exist: ladders in
    ``n`` and in ``P``, the speed targets gated ``(2000, 50, 500)`` and ReLU ``(500, 20, 200)``), ``full`` (the
    joint size ladder from (100, 10, 50) to (10000, 100, 2000), two real data sets, four ReLU problems) and
    ``scaling`` (ladders in ``n`` at ``(d, P) = (20, 200)`` and in ``P`` at ``(n, d) = (1000, 20)``), and the small-beta
    profiles ``path`` and ``path_tiny``: the same problems at ``beta / beta_max`` in :data:`PATH_FRACTIONS` (from the
    largest down; a method that did not finish is skipped at the smaller ``beta``), run with :data:`PATH_METHODS`.
    ``path``: gated on teacher ``(1000, 20, 200)`` and breast cancer (``P = 200``), ReLU on teacher ``(100, 10, 50)``;
    ``path_tiny`` (the chapter's smoke run): gated ``(200, 10, 50)``, ReLU ``(40, 5, 20)``.
    """
    teacher = lambda kind, n, d, P: Problem(kind, "teacher", n, d, P)  # noqa: E731
    if profile == "tiny":  # seconds in one process: the chapter's smoke run
        gated = [(100, 10, 50), (200, 10, 50), (400, 10, 50), (400, 10, 100), (400, 10, 200)]
        return [teacher("gated", *s) for s in gated] + [teacher("relu", 60, 8, 30)]
    if profile == "mid":
        gated = [
            (250, 20, 200),
            (500, 20, 200),
            (1000, 20, 200),
            (500, 20, 50),
            (500, 20, 100),
            (500, 20, 400),
            (2000, 50, 500),
        ]
        relu = [(100, 10, 50), (200, 10, 100), (500, 20, 200)]
        return [teacher("gated", *s) for s in gated] + [teacher("relu", *s) for s in relu]
    if profile == "full":
        ladder = [
            (100, 10, 50),
            (500, 20, 200),
            (1000, 20, 500),
            (2000, 50, 500),
            (5000, 100, 1000),
            (10000, 100, 2000),
        ]
        return (
            [teacher("gated", *s) for s in ladder]
            + [real_problem("gated", "breast_cancer", 200), real_problem("gated", "digits", 200)]
            + [teacher("relu", 100, 10, 50), teacher("relu", 200, 10, 100), teacher("relu", 500, 20, 200)]
            + [real_problem("relu", "breast_cancer", 100)]
        )
    if profile in ("path", "path_tiny"):
        if profile == "path":
            families = [teacher("gated", 1000, 20, 200), real_problem("gated", "breast_cancer", 200)]
            families.append(teacher("relu", 100, 10, 50))
        else:
            families = [teacher("gated", 200, 10, 50), teacher("relu", 40, 5, 20)]
        return [replace(p, beta_frac=frac) for p in families for frac in PATH_FRACTIONS]
    if profile == "scaling":
        n_ladder = [(n, 20, 200) for n in (500, 1000, 2000, 4000, 8000)]
        P_ladder = [(1000, 20, P) for P in (100, 200, 500, 1000, 2000)]
        return [teacher("gated", *s) for s in n_ladder + P_ladder if s != (1000, 20, 200)] + [
            teacher("gated", 1000, 20, 200)
        ]
    raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")

