"""Every public name of every ``cvxnn_core`` package, and every CLI command, has at least one bad-input row.

The public names of a package are its ``__all__`` (or, without one, the functions and classes defined in it whose names
do not start with ``_``), restricted to objects defined inside the package; its sub-modules that the package exposes as
attributes (``deep.gap``) count as packages of their own. A class is covered by a row for its constructor or any of its
methods (``"pkg.Class"`` or ``"pkg.Class.method"``). Result containers that users receive but never build are listed in
``RETURNED_ONLY`` with the functions that return them; the test checks that each one really is a class.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import cvxnn_core

TABLES = sorted(p.stem for p in Path(__file__).parent.glob("test_bad_input_*.py") if p.stem != Path(__file__).stem)
ALL_CASES = [case for table in TABLES for case in importlib.import_module(table).CASES]

CLI_COMMANDS = ("cli.main", "cli.run", "cli.build", "cli.claims", "cli.params", "cli.status", "cli.falsify",
                "cli.sweep", "cli.benchmark")


def _packages() -> list[str]:
    names = [m.name for m in pkgutil.iter_modules(cvxnn_core.__path__) if not m.name.startswith("_")]
    return sorted(names) + ["deep.gap"]


def public_names(package: str) -> list[str]:
    module = importlib.import_module(f"cvxnn_core.{package}")
    prefix = f"cvxnn_core.{package}"
    candidates = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    names = []
    for name in candidates:
        obj = getattr(module, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        owner = getattr(obj, "__module__", "")
        if owner == prefix or owner.startswith(prefix + "."):
            names.append(f"{package}.{name}")
    return names


RETURNED_ONLY = {
    "batchnorm.BatchNormResult": "batchnorm.solve_batchnorm",
    "batchnorm.BatchNormTrainResult": "batchnorm.train_batchnorm / train_batchnorm_sweep",
    "certificates.Certificate": "certificates.certify / certify_convex / dual_certificate",
    "closed_form.RankOneSolution": "closed_form.rank_one_relu",
    "cnn.CircularResult": "cnn.solve_circular_dft / solve_circular_nuclear / circular_closed_form",
    "cutting_plane.CuttingPlaneResult": "cutting_plane.cutting_plane",
    "cutting_plane.RestrictedSolution": "cutting_plane.solve_restricted_lasso",
    "datasets.ImageSplit": "datasets.load_mnist",
    "datasets.Split": "datasets.load_binary / load_table / load_keel / split_standardised",
    "deep.BNClassifierResult": "deep.train_bn_relu_classifier",
    "deep.BNCollapseOptimum": "deep.bn_collapse_optimum",
    "deep.DeepLinearResult": "deep.train_deep_linear / train_deep_linear_sweep",
    "deep.LinearOptimum": "deep.deep_linear_optimum / two_layer_linear_optimum",
    "deep.NCMetrics": "deep.neural_collapse_metrics",
    "deep.gap.WhitenedGap": "deep.gap.whitened_gap",
    "interpretation.ClassMeanSimilarity": "interpretation.class_mean_similarity",
    "interpretation.ExtremePointInstance": "interpretation.extreme_point_instances",
    "interpretation.SimilarityControls": "interpretation.similarity_controls",
    "programs.ConvexResult": "programs.solve_relu / solve_gated_relu",
    "pruning.PrunedNetwork": "pruning.prune_network",
    "selections.ScaledSupport": "selections.scaled_support",
    "selections.SelectionRow": "selections.compare_selections",
    "solvers.FirstOrderResult": "solvers.fista_gated / al_relu / active_set_relu",
    "solvers.GatedDecomposition": "solvers.decompose_gated",
    "solvers.PatternGrowth": "solvers.grow_patterns",
    "threshold.ThresholdLasso": "threshold.solve_threshold_lasso",
    "vector_output.Piece": "vector_output.solve_vector_relu (VectorConvexResult.pieces)",
    "vector_output.SpikeFreeSolution": "vector_output.soft_thresholded_svd",
    "vector_output.VectorRecovery": "vector_output.recover_network",
}


def _covered(name: str, targets: set[str]) -> bool:
    return any(t == name or t.startswith(name + ".") for t in targets)


def _target(case_id: str) -> str:
    return case_id.split(":", 1)[0]


TARGETS = {_target(case[0]) for case in ALL_CASES}


def test_rows_are_well_formed_and_unique():
    ids = [case[0] for case in ALL_CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for case_id, call, exc, match in ALL_CASES:
        assert ": " in case_id and "." in _target(case_id), case_id
        assert callable(call) and issubclass(exc, Exception) and match, case_id


@pytest.mark.parametrize("package", _packages())
def test_every_public_name_of_the_package_has_a_row(package):
    names = public_names(package)
    assert names, f"cvxnn_core.{package} exposes no public name"
    missing = [n for n in names if not _covered(n, TARGETS) and n not in RETURNED_ONLY]
    assert not missing, f"public names of cvxnn_core.{package} without a bad-input row: {missing}"


def test_returned_only_entries_are_public_classes():
    for name, source in RETURNED_ONLY.items():
        package, _, attr = name.rpartition(".")
        assert inspect.isclass(getattr(importlib.import_module(f"cvxnn_core.{package}"), attr)), name
        assert source


@pytest.mark.parametrize("command", CLI_COMMANDS)
def test_every_cli_command_has_a_row(command):
    assert command in TARGETS


def test_every_target_names_something_that_exists():
    for case_id, *_ in ALL_CASES:
        target = _target(case_id)
        if target.startswith("cli."):
            continue
        parts = target.split(".")
        for split in (2, 1):
            try:
                obj = importlib.import_module("cvxnn_core." + ".".join(parts[:split]))
            except ModuleNotFoundError:
                continue
            for attr in parts[split:]:
                obj = getattr(obj, attr, None)
            if obj is not None:
                break
        assert obj is not None, f"row {case_id!r} names {target!r}, which does not exist"
