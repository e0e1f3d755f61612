"""The solver benchmark's mechanics on problems of a second: same problem for every method, the peers' objectives
agree with ours (pyscnn's scaling ``lam = beta / n`` included), accuracy columns, ratios and the saved files.

pyscnn is installed by the README's commands (``--no-deps``), skglm and celer by the bench extra; the cases that
need them skip where they are missing.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from paper_experiments.benchmarks import solvers as bench

GATED = bench.Problem("gated", "teacher", 80, 5, 20)
RELU = bench.Problem("relu", "teacher", 60, 5, 15)
needs_pyscnn = pytest.mark.skipif(not bench.pyscnn_available(), reason="pyscnn (module scnn) is not installed")


@pytest.fixture(scope="module")
def gated_rows():
    return {m: bench.run_method(GATED, m, time_cap=60) for m in ("fista", "clarabel")}


@pytest.fixture(scope="module")
def relu_rows():
    return {m: bench.run_method(RELU, m, time_cap=60) for m in ("active_set", "clarabel")}


def test_problem_build_is_deterministic():
    X1, y1, D1, b1 = GATED.build()
    X2, y2, D2, b2 = GATED.build()
    assert np.array_equal(X1, X2) and np.array_equal(D1, D2) and b1 == b2 and X1.shape == (80, 5)


@pytest.mark.parametrize("profile", bench.PROFILES)
def test_profiles_list_problems(profile):
    problems = bench.profile_problems(profile)
    assert problems and {p.kind for p in problems} <= {"gated", "relu"}


def test_path_profile_is_the_small_beta_column():
    problems = bench.profile_problems("path")
    fractions = sorted({p.beta_frac for p in problems})
    assert fractions == sorted(bench.PATH_FRACTIONS) and min(fractions) == 1e-4
    assert len({p.id for p in problems}) == len(problems)  # beta is part of the id (except at the default 0.1)
    assert {p.family for p in problems if p.kind == "gated"} == {
        "gated-teacher-n1000-d20-P200",
        "gated-breast_cancer-n398-d31-P200",
    }


def test_path_table_reports_time_to_accuracy_against_beta():
    problems = [p for p in bench.profile_problems("path_tiny") if p.kind == "gated"][::2]  # 1e-1 and 1e-3
    results, _ = bench.run_benchmark(problems, ["fista", "clarabel"], time_cap=60, isolate=False, log=lambda _: None)
    path = bench.path_table(results)
    assert set(path["beta_frac"]) == {1e-1, 1e-3} and set(path["panel"]) == {problems[0].family}
    assert not path["failed"].any() and (path["time_to_1e-06"] > 0).all()
    fista = results[results["method"] == "fista"]
    assert (fista["certified_gap"] <= 1e-6).all()


def test_unknown_profile_and_method_raise():
    with pytest.raises(ValueError, match="profile"):
        bench.profile_problems("huge")
    row, _ = bench.run_method(GATED, "adam")
    assert row["status"] == "error" and "does not apply" in row["note"]


def test_our_solvers_match_clarabel(gated_rows, relu_rows):
    for rows in (gated_rows, relu_rows):
        ours, ipm = (rows[m][0] for m in rows)
        assert ours["status"] == ipm["status"] == "ok"
        assert abs(ours["objective"] - ipm["objective"]) <= 1e-6 * ipm["objective"]
        assert ours["certified_gap"] <= 1e-6


@needs_pyscnn
def test_pyscnn_solves_the_same_gated_program(gated_rows):
    row, trace = bench.run_method(GATED, "pyscnn", time_cap=60)
    assert row["status"] == "ok", row["note"]
    reference = gated_rows["clarabel"][0]["objective"]
    assert abs(row["objective"] - reference) <= 1e-6 * reference  # lam = beta / n maps its objective to ours
    assert len(trace) > 1 and trace[-1]["objective"] == row["objective"]


@pytest.mark.parametrize("peer", ["skglm", "celer"])
def test_group_lasso_peers_solve_the_same_gated_program(gated_rows, peer):
    if not bench.peer_available(peer):
        pytest.skip(f"{peer} is not installed (the bench extra)")
    row, trace = bench.run_method(GATED, peer, time_cap=60)
    assert row["status"] == "ok", row["note"]
    reference = gated_rows["clarabel"][0]["objective"]
    assert abs(row["objective"] - reference) <= 1e-6 * reference  # alpha = beta / n maps its objective to ours
    assert trace[-1]["objective"] == row["objective"]


@needs_pyscnn
def test_pyscnn_relu_point_is_made_feasible(relu_rows):
    row, _ = bench.run_method(RELU, "pyscnn", time_cap=60)
    assert row["status"] == "ok", row["note"]
    optimum = relu_rows["clarabel"][0]["objective"]
    assert row["objective"] >= optimum * (1 - 1e-9)  # a feasible point cannot beat the optimum
    assert 0 <= row["certified_gap"] < 1


def test_accuracy_columns_and_ratios(gated_rows):
    import pandas as pd

    rows = [r for r, _ in gated_rows.values()]
    traces = [t | {"problem": r["problem"], "method": r["method"]} for r, tr in gated_rows.values() for t in tr]
    results = bench.add_accuracy_columns(pd.DataFrame(rows), pd.DataFrame(traces))
    assert np.allclose(results["reference"], min(r["objective"] for r in rows))
    assert np.all(np.isfinite(results["time_to_1e-06"]))
    ratios = bench.target_ratios(results)
    assert list(ratios["peer"]) == ["clarabel"] and ratios["bound"].iloc[0] == "="
    head = bench.headline_ratio(results, "gated", "fista", "clarabel")
    assert head["problem"] == GATED.id and math.isclose(head["ratio"], ratios["ratio"].iloc[0])


def test_run_benchmark_writes_and_reloads(tmp_path):
    results, traces = bench.run_benchmark(
        [GATED], ["fista", "clarabel"], time_cap=60, isolate=False, out_dir=tmp_path / "tiny", log=lambda _: None
    )
    assert set(results["method"]) == {"fista", "clarabel"}
    assert {"results.csv", "traces.csv", "machine.json", "config.json"} <= {
        p.name for p in (tmp_path / "tiny").iterdir()
    }
    loaded = bench.load_all(tmp_path)
    assert loaded is not None and list(loaded[0]["run_set"].unique()) == ["tiny"]
    assert len(bench.profile_table(results)) > 0


def test_saved_results_of_other_code_are_stale_and_not_read(tmp_path):
    bench.run_benchmark([GATED], ["fista"], time_cap=60, isolate=False, out_dir=tmp_path / "tiny", log=lambda _: None)
    assert bench.saved_code_hash(tmp_path / "tiny") == bench.code_hash()
    assert bench.stale_folders(tmp_path) == []
    other = "0" * 16  # results produced by some other version of the code
    assert bench.load_all(tmp_path, current=other) is None
    assert bench.stale_folders(tmp_path, current=other) == ["tiny"]


def test_code_hash_follows_the_core_sources(tmp_path):
    import shutil

    repo = Path(bench.__file__).resolve().parents[3]
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(repo / "cvxnn_core", tmp_path / "cvxnn_core", ignore=ignore)
    package = Path("paper_experiments") / "benchmarks" / "solvers"
    shutil.copytree(repo / package, tmp_path / package, ignore=ignore)
    assert bench.code_hash(tmp_path) == bench.code_hash(repo)
    with open(tmp_path / "cvxnn_core" / "losses.py", "a") as handle:
        handle.write("\n# changed\n")
    assert bench.code_hash(tmp_path) != bench.code_hash(repo)
    (tmp_path / "cvxnn_core" / "losses.py").write_bytes((repo / "cvxnn_core" / "losses.py").read_bytes())
    with open(tmp_path / package / "tables.py", "a") as handle:  # every module of the benchmark counts
        handle.write("\n# changed\n")
    assert bench.code_hash(tmp_path) != bench.code_hash(repo)


def test_cap_budget_counts_every_isolated_run():
    problems = [GATED, bench.Problem("relu", "teacher", 60, 8, 30)]
    runs = len(bench.GATED_METHODS) + len(bench.RELU_METHODS)
    assert bench.cap_budget_s(problems, 10.0) == runs * (10.0 + bench.GRACE_S)
    assert bench.cap_budget_s(problems, 10.0, methods=["fista"]) == 10.0 + bench.GRACE_S
