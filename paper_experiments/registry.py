"""The chapter registry: one typed entry per chapter of the book, in ``_toc.yml`` order.

The registry is the only place where parameter sets live. A chapter's notebook
``book/<slug>.ipynb`` holds the ``full`` values as the defaults of its ``parameters`` cell
(a contract test checks this); ``smoke`` overrides a subset of them with small values so that
every chapter runs in CI. The slug is also the results-folder name: one name end to end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

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
class Claim:
    """A claim reproduced by a chapter: id ``<slug>.<name>``, a short human statement and what it tests.

    ``kind``: ``"paper"`` (a statement a paper makes, measured; ``paper`` names its bib key when it is not the
    chapter's citation), ``"check"`` (consistency of our own construction: recovery after projection, weak
    duality of our certificate, a restriction being an upper bound, a loop invariant) or ``"speed"`` (a timing
    ratio: judged only in the ``full`` profile, recorded without a verdict in ``smoke``). The chapter measures
    it with ``Recorder.claim(id, statement, value, op, threshold)``.
    """

    id: str
    statement: str
    kind: ClaimKind
    paper: str | None = None

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
    benchmark results a chapter reads.
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
    from paper_experiments.benchmarks.solvers import cap_budget_s, profile_problems

    return cap_budget_s(profile_problems(params["profile"]), params["time_cap"])


CHAPTERS: dict[str, Chapter] = {
    chapter.slug: chapter
    for chapter in [
        Chapter(
            slug="two_layer_convex",
            title="Two-layer ReLU networks are convex programs",
            citation="pilanci2020neural",
            figures=(
                "fig_objective_vs_epoch",
                "fig_train_test_error",
                "fig_certified_gap",
                "fig_patterns_upper_bound",
                "fig_neuron_counts",
            ),
            claims=(
                Claim(
                    "two_layer_convex.certified_optimal",
                    "The convex optimum over the complete arrangement is certified by a dual bound.",
                    "paper",
                ),
                Claim(
                    "two_layer_convex.recovery_exact",
                    "The ReLU network recovered from the convex solution attains the convex optimum.",
                    "check",
                ),
                Claim(
                    "two_layer_convex.convex_below_sgd",
                    "No SGD or Adam run, at any width or seed, ends below the certified convex optimum.",
                    "paper",
                ),
                Claim(
                    "two_layer_convex.sgd_bounds_valid",
                    "Every certificate computed from an SGD or Adam network is a lower bound on the optimum.",
                    "check",
                ),
                Claim(
                    "two_layer_convex.sampled_never_below",
                    "The optimum over sampled patterns is never below the certified optimum.",
                    "check",
                ),
                Claim(
                    "two_layer_convex.few_patterns_upper_bound",
                    "With very few sampled patterns the convex program is strictly above the optimum.",
                    "check",
                ),
                Claim(
                    "two_layer_convex.pruned_at_most_n_plus_1",
                    "After pruning, the optimal network has at most n + 1 neurons.",
                    "check",
                ),
                Claim(
                    "two_layer_convex.pruning_preserves_objective",
                    "Pruning the recovered network leaves its objective unchanged.",
                    "check",
                ),
            ),
            full={
                "seed": 0,
                "n": 30,
                "d": 2,
                "beta": 0.01,
                "n_patterns": 50,
                "pattern_counts": [2, 4, 8, 16, 32, 64, 128],
                "widths": [4, 16, 64],
                "n_seeds": 5,
                "epochs": 3000,
                "lr_adam": 0.01,
                "lr_sgd": 0.001,
                "n_train": 300,
                "output_dir": "_build/results/two_layer_convex/default",
            },
            smoke={
                "n": 16,
                "epochs": 300,
                "widths": [4, 32],
                "n_seeds": 2,
                "n_train": 120,
                "pattern_counts": [2, 8, 32],
            },
            timeout_s={"smoke": 420, "full": 3600},
            cell_timeout_s={"smoke": 300, "full": 1800},
        ),
        Chapter(
            slug="linear_splines",
            title="One-dimensional data: ReLU networks are linear splines",
            citation="ergen2021convex",
            figures=(
                "fig_spline_fit",
                "fig_objective_vs_epoch",
                "fig_min_norm_limit",
                "fig_bias_penalty_kinks",
                "fig_rank_one",
            ),
            claims=(
                Claim(
                    "linear_splines.ramp_lasso_equal",
                    "With free biases, the convex optimum over the complete arrangement equals the optimum of the "
                    "Lasso over ramps with kinks at the data points.",
                    "paper",
                ),
                Claim(
                    "linear_splines.kinks_at_data",
                    "The optimal network built from the ramp Lasso has every kink on a data point.",
                    "check",
                ),
                Claim(
                    "linear_splines.min_norm_limit",
                    "As beta -> 0 the optimal network tends, on the data range, to the minimum-norm interpolating "
                    "linear spline.",
                    "paper",
                ),
                Claim(
                    "linear_splines.penalised_bias_moves_kinks",
                    "With penalised biases, kinks at data points are no longer optimal: the best network with its "
                    "kinks on data points is strictly worse than the optimum.",
                    "check",
                ),
                Claim(
                    "linear_splines.rank_one_closed_form",
                    "For rank-one data the closed-form two-neuron solution attains the convex solver's optimum.",
                    "paper",
                ),
                Claim(
                    "linear_splines.sgd_not_below",
                    "No SGD or Adam run ends below the convex optimum.",
                    "paper",
                ),
            ),
            full={
                "seed": 0,
                "data_seed": 4,
                "n": 16,
                "noise": 0.1,
                "beta": 0.01,
                "beta_min": 1e-6,
                "n_betas": 13,
                "betas_penalty": [0.1, 0.03, 0.01, 0.003, 0.001],
                "widths": [8, 32, 128],
                "n_seeds": 2,
                "epochs": 2000,
                "lr_adam": 0.01,
                "lr_sgd": 0.003,
                "momentum": 0.9,
                "n_rank_one": 20,
                "d_rank_one": 3,
                "betas_rank_one": [0.01, 0.1, 1.0, 3.0, 10.0, 30.0],
                "widths_rank_one": [2, 16],
                "epochs_rank_one": 600,
                "output_dir": "_build/results/linear_splines/default",
            },
            smoke={
                "epochs": 200,
                "widths": [8, 32],
                "n_seeds": 1,
                "n_betas": 7,
                "betas_penalty": [0.1, 0.01],
                "betas_rank_one": [0.1, 1.0, 10.0],
                "widths_rank_one": [4],
                "epochs_rank_one": 300,
            },
            timeout_s={"smoke": 300, "full": 900},
            cell_timeout_s={"smoke": 180, "full": 600},
        ),
        Chapter(
            slug="ntk_vs_finite_width",
            title="The NTK does not explain finite-width networks trained with weight decay",
            citation="ergen2021convex",
            figures=(
                "fig_predictors_1d",
                "fig_curvature",
                "fig_distance_vs_width",
                "fig_predictors_2d",
            ),
            claims=(
                Claim(
                    "ntk_vs_finite_width.convex_certified",
                    "The convex optimum over the complete arrangement of the 1-D data is certified by a dual bound.",
                    "paper",
                    paper="pilanci2020neural",
                ),
                Claim(
                    "ntk_vs_finite_width.ntk_smooth_vs_kinks",
                    "The NTK predictor is curved almost everywhere: almost no grid interval has zero second "
                    "difference.",
                    "paper",
                ),
                Claim(
                    "ntk_vs_finite_width.convex_piecewise_linear",
                    "The convex-optimal network is linear except at a few kinks: almost every grid interval is flat.",
                    "check",
                ),
                Claim(
                    "ntk_vs_finite_width.lazy_tracks_ntk",
                    "At the largest width, lazily trained networks are closer to the NTK predictor than to the "
                    "convex-optimal network.",
                    "paper",
                    paper="jacot2018neural",
                ),
                Claim(
                    "ntk_vs_finite_width.lazy_distance_decreases",
                    "The distance of lazily trained networks to the NTK predictor decreases with width.",
                    "paper",
                    paper="jacot2018neural",
                ),
                Claim(
                    "ntk_vs_finite_width.rich_approaches_convex",
                    "Networks trained from a small initialisation with weight decay reach the convex optimum "
                    "within 1%.",
                    "paper",
                ),
                Claim(
                    "ntk_vs_finite_width.rich_not_below",
                    "No rich-regime run ends below the certified convex optimum.",
                    "paper",
                    paper="pilanci2020neural",
                ),
                Claim(
                    "ntk_vs_finite_width.rich_closer_to_convex",
                    "The rich-regime networks are closer to the convex-optimal network than to the NTK predictor.",
                    "paper",
                ),
            ),
            full={
                "seed": 4,
                "n": 12,
                "beta": 0.01,
                "n_grid": 2001,
                "widths": [128, 512, 2048, 8192],
                "n_seeds": 3,
                "lazy_steps": 4000,
                "width": 64,
                "init_scale": 0.1,
                "lr_adam": 0.005,
                "epochs": 3000,
                "n_2d": 20,
                "output_dir": "_build/results/ntk_vs_finite_width/default",
            },
            smoke={
                "widths": [512, 8192],
                "n_seeds": 2,
                "n_grid": 1001,
                "lazy_steps": 3000,
                "epochs": 2000,
            },
            timeout_s={"smoke": 300, "full": 900},
            cell_timeout_s={"smoke": 240, "full": 600},
        ),
        Chapter(
            slug="decision_regions",
            title="Decision regions, extreme points and neurons as autoencoders",
            citation="ergen2021convex",
            figures=(
                "fig_decision_regions",
                "fig_rectified_ellipsoid",
                "fig_whitened_closed_form",
                "fig_neurons_as_images",
            ),
            claims=(
                Claim(
                    "decision_regions.convex_not_above_sgd",
                    "On moons, circles and a spiral, with hinge and squared loss, the certified convex optimum is "
                    "never above the final objective of any Adam run of any width.",
                    "paper",
                    paper="pilanci2020neural",
                ),
                Claim(
                    "decision_regions.neurons_extreme_points",
                    "Every optimal neuron attains the support function of conv(Q u -Q) in the dual direction: its "
                    "signed point s_j (X u_j)_+ lies on the boundary of the hull of the rectified ellipsoid.",
                    "paper",
                ),
                Claim(
                    "decision_regions.whitened_closed_form",
                    "For whitened data (X X^T = I) and squared loss, the two-neuron soft-thresholding closed form "
                    "equals the convex optimum over the complete arrangement at every beta.",
                    "paper",
                ),
                Claim(
                    "decision_regions.neurons_resemble_class_means",
                    "On 8x8 digits the convex neurons are closer to non-negative combinations of the label-signed "
                    "class means than 99% of random directions are (the control).",
                    "paper",
                    paper="ergen2020convexgeometry",
                ),
            ),
            full={
                "seed": 0,
                "n": 30,
                "kinds": ["moons", "circles", "spiral"],
                "noise": 0.1,
                "beta": 0.01,
                "max_enumerate": 40,
                "n_patterns": 300,
                "widths": [4, 16, 64],
                "n_seeds": 2,
                "epochs": 500,
                "lr_adam": 0.01,
                "resolution": 70,
                "beta_geometry": 0.1,
                "n_geometry_seeds": 8,
                "geometry_figure_seeds": [1, 2, 7],
                "n_whitened": 8,
                "d_whitened": 12,
                "n_positive_whitened": 3,
                "betas_whitened": [0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 1.9, 2.2, 2.6],
                "widths_whitened": [2, 8],
                "epochs_whitened": 400,
                "digit_classes": [3, 8],
                "digits_positive": [8],
                "n_per_class": 20,
                "n_patterns_digits": 50,
                "beta_digits": 0.1,
                "width_digits": 16,
                "n_random": 2000,
                "output_dir": "_build/results/decision_regions/default",
            },
            smoke={
                "n": 16,
                "epochs": 150,
                "widths": [4, 32],
                "n_seeds": 1,
                "resolution": 40,
                "n_geometry_seeds": 3,
                "geometry_figure_seeds": [1, 2],
                "betas_whitened": [0.1, 1.0, 2.6],
                "widths_whitened": [2],
                "epochs_whitened": 200,
                "n_per_class": 10,
                "n_patterns_digits": 20,
                "n_random": 300,
            },
            timeout_s={"smoke": 300, "full": 900},
            cell_timeout_s={"smoke": 180, "full": 600},
        ),
        Chapter(
            slug="cutting_planes",
            title="Training by cutting planes: upper and lower bounds that meet",
            citation="ergen2021convex",
            figures=(
                "fig_bounds_vs_iteration",
                "fig_violation",
                "fig_bounds_vs_time",
                "fig_network",
            ),
            claims=(
                Claim(
                    "cutting_planes.bounds_meet",
                    "The cutting-plane upper and lower bounds meet at termination (relative gap at most 1e-6).",
                    "check",
                ),
                Claim(
                    "cutting_planes.matches_full_program",
                    "The cutting-plane objective equals the optimum of the full convex program over all patterns.",
                    "check",
                ),
                Claim(
                    "cutting_planes.at_most_n_plus_1_neurons",
                    "Pruned by the Caratheodory reduction, the network found at termination has at most n + 1 neurons.",
                    "check",
                ),
                Claim(
                    "cutting_planes.sgd_not_below",
                    "No SGD or Adam run ends below the optimum certified by the cutting-plane method.",
                    "paper",
                ),
            ),
            full={
                "seed": 0,
                "n": 30,
                "d": 2,
                "beta": 0.01,
                "n_datasets": 3,
                "tol": 1e-07,
                "neurons_per_iter": 5,
                "max_iters": 300,
                "widths": [16, 64],
                "n_seeds": 2,
                "epochs": 2000,
                "lr_adam": 0.01,
                "lr_sgd": 0.001,
                "output_dir": "_build/results/cutting_planes/default",
            },
            smoke={
                "n": 16,
                "n_datasets": 2,
                "widths": [16],
                "n_seeds": 1,
                "epochs": 300,
            },
            timeout_s={"smoke": 240, "full": 900},
            cell_timeout_s={"smoke": 180, "full": 600},
        ),
        Chapter(
            slug="copositive_relaxation",
            title="Vector outputs: copositive programs and their relaxations",
            citation="sahiner2021vector",
            figures=(
                "fig_objective_vs_epoch",
                "fig_spike_free",
                "fig_relaxation_time",
            ),
            claims=(
                Claim(
                    "copositive_relaxation.scalar_reduction",
                    "With c = 1 the vector-output convex program equals the scalar convex ReLU program of the first "
                    "chapter (same optimum).",
                    "check",
                ),
                Claim(
                    "copositive_relaxation.exact_recovery",
                    "The network recovered from the exact (copositive) program attains its optimum.",
                    "check",
                ),
                Claim(
                    "copositive_relaxation.relaxation_lower_bound",
                    "The relaxations (cones dropped; doubly non-negative) over the complete arrangement are below "
                    "every SGD/Adam run.",
                    "check",
                ),
                Claim(
                    "copositive_relaxation.svt_equals_solver",
                    "On spike-free (whitened) data with one-hot labels the soft-thresholded SVD equals the exact "
                    "solver's optimum at every beta.",
                    "paper",
                ),
                Claim(
                    "copositive_relaxation.sgd_not_below_svt",
                    "No Adam run on spike-free data ends below the soft-thresholded SVD value.",
                    "paper",
                ),
                Claim(
                    "copositive_relaxation.relaxation_exact_recovered",
                    "Where the relaxation is exact (spike-free data, one-hot labels) the network recovered from the "
                    "relaxation's solution attains the relaxation's value.",
                    "paper",
                ),
            ),
            full={
                "seed": 0,
                "n": 10,
                "d": 2,
                "c": 3,
                "beta": 0.1,
                "widths": [4, 16, 64],
                "n_seeds": 5,
                "epochs": 3000,
                "lr_adam": 0.01,
                "lr_sgd": 0.008,
                "n_spike": 4,
                "d_spike": 6,
                "betas_spike": [0.05, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0],
                "width_spike": 16,
                "epochs_spike": 2000,
                "time_ns": [10, 20, 40, 80, 160],
                "time_ranks": [1, 2, 3, 4],
                "n_time_rank": 10,
                "output_dir": "_build/results/copositive_relaxation/default",
            },
            smoke={
                "widths": [4, 32],
                "n_seeds": 2,
                "epochs": 300,
                "betas_spike": [0.05, 0.5, 1.0, 1.5],
                "epochs_spike": 300,
                "time_ns": [10, 20, 40],
                "time_ranks": [1, 2, 3],
            },
            timeout_s={"smoke": 180, "full": 600},
            cell_timeout_s={"smoke": 120, "full": 300},
        ),
        Chapter(
            slug="convolutional_networks",
            title="Convolutional networks as convex programs",
            citation="ergen2021cnn",
            figures=(
                "fig_objective_vs_seed",
                "fig_accuracy",
                "fig_multiclass_confusion",
                "fig_filters",
                "fig_circular_spectrum",
                "fig_complexity",
            ),
            claims=(
                Claim(
                    "convolutional_networks.recovery_exact",
                    "The two-layer ReLU CNN recovered from each convex solution attains the convex objective.",
                    "check",
                ),
                Claim(
                    "convolutional_networks.sgd_not_below_complete",
                    "No SGD or Adam run, at any width or seed, ends below the convex optimum over the complete "
                    "patch arrangement of an instance small enough to enumerate.",
                    "paper",
                ),
                Claim(
                    "convolutional_networks.circular_dft_equals_solver",
                    "For the linear CNN with circular convolution, the l1 solution in the DFT domain (closed form per "
                    "frequency on shift-closed data) has the objective of a solver on the CNN's nuclear-norm program.",
                    "paper",
                    paper="pilanci2020neural",
                ),
            ),
            full={
                "seed": 0,
                "n_seeds": 4,
                "widths": [2, 8, 32],
                "epochs": 1500,
                "lr_adam": 0.01,
                "lr_sgd": 0.01,
                "tiny_n": 8,
                "tiny_length": 6,
                "tiny_filter": 3,
                "tiny_beta": 0.05,
                "digits": [3, 8],
                "n_per_class": 90,
                "multi_per_class": 40,
                "test_fraction": 0.5,
                "patch_size": 3,
                "stride": 2,
                "beta": 0.01,
                "n_patterns": 32,
                "digit_epochs": 1000,
                "planted_n": 40,
                "planted_size": 6,
                "planted_width": 8,
                "d": 16,
                "n": 24,
                "n_base": 4,
                "circular_beta": 2.0,
                "complexity_ns": [2, 4, 6, 8],
                "complexity_length": 6,
                "complexity_filters": [1, 2, 3, 4],
                "complexity_n": 4,
                "output_dir": "_build/results/convolutional_networks/default",
            },
            smoke={
                "n_seeds": 2,
                "widths": [2, 16],
                "epochs": 400,
                "tiny_n": 6,
                "n_per_class": 40,
                "multi_per_class": 10,
                "n_patterns": 16,
                "digit_epochs": 300,
                "planted_n": 24,
                "complexity_ns": [2, 4, 6],
                "complexity_filters": [1, 2, 3],
            },
            timeout_s={"smoke": 300, "full": 900},
            cell_timeout_s={"smoke": 180, "full": 600},
        ),
        Chapter(
            slug="batchnorm_networks",
            title="Batch normalization: a convex program on whitened data",
            citation="ergen2022batchnorm",
            figures=(
                "fig_objective_vs_epoch",
                "fig_closed_form",
                "fig_singular_bias",
                "fig_accuracy",
            ),
            claims=(
                Claim(
                    "batchnorm_networks.recovery_exact",
                    "The BN network recovered from the convex program on the whitened basis [U, 1/sqrt(n)] "
                    "attains the convex optimum.",
                    "check",
                ),
                Claim(
                    "batchnorm_networks.sgd_not_below",
                    "No SGD or Adam run on the BN network, at any epoch, width or seed, goes below the convex "
                    "optimum over the complete arrangement.",
                    "paper",
                ),
                Claim(
                    "batchnorm_networks.sgd_reaches_optimum",
                    "The best SGD/Adam run at the largest width comes within 1% of the convex optimum.",
                    "paper",
                ),
                Claim(
                    "batchnorm_networks.closed_form_equals_solver",
                    "For n <= d the closed-form optimum (soft-thresholded halves of y) equals the solver's optimum "
                    "over every activation pattern, at every beta.",
                    "paper",
                ),
                Claim(
                    "batchnorm_networks.gd_prefers_top_singular",
                    "Gradient-descent-trained BN networks put at least twice the share of an isotropic direction "
                    "into the top singular directions of the data, also from an isotropic initialisation.",
                    "paper",
                ),
            ),
            full={
                "seed": 0,
                "n": 24,
                "d": 2,
                "beta": 0.01,
                "widths": [4, 16, 64],
                "n_seeds": 5,
                "epochs": 2000,
                "lr_adam": 0.01,
                "lr_sgd": 0.1,
                "n_closed": 8,
                "d_closed": 16,
                "betas_closed": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0],
                "n_train": 200,
                "beta_data": 0.1,
                "width_data": 32,
                "n_seeds_data": 3,
                "epochs_data": 1500,
                "lr_gd": 0.05,
                "n_patterns": 30,
                "k_top": 8,
                "energy": 0.9,
                "output_dir": "_build/results/batchnorm_networks/default",
            },
            smoke={
                "n": 16,
                "widths": [4, 32],
                "n_seeds": 2,
                "epochs": 1500,
                "betas_closed": [0.03, 0.3, 3.0],
                "n_train": 100,
                "n_seeds_data": 2,
                "epochs_data": 300,
                "n_patterns": 15,
            },
            timeout_s={"smoke": 300, "full": 900},
            cell_timeout_s={"smoke": 180, "full": 600},
        ),
        Chapter(
            slug="neural_collapse",
            title="Deep networks through convex duality: rank, alignment and neural collapse",
            citation="ergen2021revealing",
            figures=(
                "fig_rank_vs_beta",
                "fig_layer_norms",
                "fig_neural_collapse",
                "fig_deep_spline",
            ),
            claims=(
                Claim(
                    "neural_collapse.trained_rank_matches",
                    "For a two-layer linear network on whitened data, the rank of the hidden weight trained by "
                    "gradient descent (singular values above 1e-3 sqrt(s_1)) equals the closed-form rank "
                    "#{i: s_i > beta} at every beta of the sweep.",
                    "paper",
                ),
                Claim(
                    "neural_collapse.deep_linear_rank_one",
                    "Every layer of a four-layer linear network with one output ends training with stable rank "
                    "at most 1.05 (rank one, as the closed form predicts).",
                    "paper",
                ),
                Claim(
                    "neural_collapse.nc2_etf",
                    "The centred class means of the BN features end within 0.05 of a simplex ETF (norm spread and "
                    "largest deviation of the pairwise cosines from -1/(C-1)).",
                    "paper",
                ),
                Claim(
                    "neural_collapse.nc_improves",
                    "The within-class variability NC1 falls by at least a factor 100 from initialisation to the end "
                    "of training.",
                    "paper",
                ),
                Claim(
                    "neural_collapse.bn_bound_valid",
                    "The closed-form value of the BN last-layer problem is a lower bound on the training objective "
                    "at every recorded epoch.",
                    "check",
                ),
            ),
            full={
                "seed": 0,
                "n": 40,
                "singular_values": [2.0, 1.75, 1.5, 1.25, 1.0, 0.75, 0.5, 0.25],
                "betas_per_gap": 3,
                "lr": 0.2,
                "steps": 1500,
                "rank_rtol": 1e-3,
                "n_layers": 4,
                "d_deep": 10,
                "beta_deep": 0.1,
                "lr_deep": 0.05,
                "steps_deep": 1500,
                "n_per_class": 50,
                "width": 64,
                "beta_nc": 5.0,
                "lr_nc": 0.02,
                "epochs": 1000,
                "n_spline": 8,
                "depths": [3, 4],
                "width_spline": 20,
                "beta_spline": 0.01,
                "lr_spline": 0.02,
                "epochs_spline": 2000,
                "output_dir": "_build/results/neural_collapse/default",
            },
            smoke={
                "steps": 800,
                "betas_per_gap": 2,
                "steps_deep": 600,
                "n_per_class": 30,
                "epochs": 400,
                "depths": [3],
                "epochs_spline": 800,
            },
            timeout_s={"smoke": 240, "full": 600},
            cell_timeout_s={"smoke": 120, "full": 300},
        ),
        Chapter(
            slug="solver_speed",
            title="How fast can we solve it? First-order and active-set solvers against the peers",
            citation="mishkin2022fast",
            figures=("fig_time_to_accuracy", "fig_performance_profile", "fig_scaling", "fig_pattern_growth"),
            claims=(
                Claim(
                    "solver_speed.fista_matches_cvxpy",
                    "Restarted FISTA (torch) reaches Clarabel's optimum of the gated-ReLU program to 1e-6 relative.",
                    "check",
                ),
                Claim(
                    "solver_speed.fista_gap_certified",
                    "FISTA stops on its own duality certificate: relative gap at most 1e-6 at the returned point.",
                    "check",
                ),
                Claim(
                    "solver_speed.relu_matches_cvxpy",
                    "The active-set ReLU solver reaches Clarabel's optimum of the cone-constrained program to 1e-6.",
                    "check",
                ),
                Claim(
                    "solver_speed.relu_feasible",
                    "The active-set ReLU point satisfies every cone constraint (relative violation at most 1e-6).",
                    "check",
                ),
                Claim(
                    "solver_speed.relu_gap_certified",
                    "certify_convex, independently of the solver, certifies the ReLU point to a relative gap 1e-6.",
                    "check",
                ),
                Claim(
                    "solver_speed.gated_speedup_vs_clarabel",
                    "On the largest gated problem of the benchmark (the mid set's (2000, 50, 500), unless saved "
                    "results hold larger ones) FISTA reaches 1e-6 at least 50x faster than Clarabel.",
                    "speed",
                ),
                Claim(
                    "solver_speed.relu_speedup_vs_clarabel",
                    "On the largest ReLU problem of the benchmark (the mid set's (500, 20, 200), unless saved results "
                    "hold larger ones) the active-set solver reaches a certified 1e-6 faster than Clarabel.",
                    "speed",
                ),
                Claim(
                    "solver_speed.gated_speedup_vs_pyscnn",
                    "On the largest gated problem FISTA reaches 1e-6 at least 1.5x faster than pyscnn's R-FISTA.",
                    "speed",
                ),
                Claim(
                    "solver_speed.relu_speedup_vs_pyscnn",
                    "On the largest ReLU problem the active-set solver reaches 1e-6 at least 5x faster than pyscnn's "
                    "augmented Lagrangian.",
                    "speed",
                ),
                Claim(
                    "solver_speed.enriched_patterns_beat_adam",
                    "Grown from the trained networks' activation patterns, the convex optimum is at or below the best "
                    "Adam/SGD objective (relative 1e-6).",
                    "check",
                ),
            ),
            full={
                "seed": 0,
                "tol": 1e-6,
                "check_n": 300,
                "check_d": 10,
                "check_P": 100,
                "relu_n": 200,
                "relu_d": 10,
                "relu_P": 100,
                "profile": "mid",
                "use_saved": True,
                "results_dir": "_build/benchmarks/solver_speed",
                "time_cap": 120.0,
                "isolate": True,
                "epochs": 2000,
                "n_seeds": 5,
                "lr_adam": 0.01,
                "lr_sgd": 3e-4,
                "growth_rounds": 10,
                "gated_speedup_min": 50.0,
                "relu_speedup_min": 1.0,
                "pyscnn_gated_speedup_min": 1.5,
                "pyscnn_relu_speedup_min": 5.0,
                "output_dir": "_build/results/solver_speed/default",
            },
            smoke={
                "check_n": 200,
                "check_P": 60,
                "relu_n": 100,
                "relu_P": 50,
                "profile": "tiny",
                "use_saved": False,
                "time_cap": 60.0,
                "isolate": False,
                "epochs": 500,
                "n_seeds": 2,
                "growth_rounds": 4,
            },
            # Fixed limits cover everything but the benchmark (idle 2 cores: smoke ~40 s in all, full ~300 s
            # outside the benchmark); the benchmark adds its own caps (capped_s).
            timeout_s={"smoke": 300, "full": 1800},
            cell_timeout_s={"smoke": 240, "full": 1200},
            capped_s=_benchmark_caps,
            inputs=("_build/benchmarks/solver_speed",),
        ),
    ]
}


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
