"""A rerun with the same parameters gives the same files: numbers, claims, CSVs, figures and notebook.

Only ``status.json`` may differ, and only in the recorded timings (``wall_s``, ``finished_at``), and the
progress log ``run.log``, which is nothing but timings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paper_experiments.execute import RUN_LOG
from paper_experiments.runner import STATUS_FILE, Project, result_dir, run_chapters

pytestmark = pytest.mark.notebooks
CHAPTER = "neural_collapse"  # ~10 s in smoke; strip plots with jitter, trained networks, SVG and PNG figures
TIMINGS = ("wall_s", "finished_at")


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_a_forced_rerun_writes_byte_identical_files(tmp_path: Path) -> None:
    project = Project(output_root=tmp_path)
    runs = []
    for _ in range(2):
        (status,) = run_chapters([CHAPTER], "smoke", force=True, project=project)
        assert status.ok, status.problems
        runs.append(_files(result_dir(project, status)))
    first, second = runs
    assert first.keys() == second.keys()
    assert {"numbers.json", f"{CHAPTER}.ipynb"} <= first.keys() and any(n.endswith(".svg") for n in first)
    differ = [name for name in first if first[name] != second[name] and name != RUN_LOG]
    assert differ in ([], [STATUS_FILE])
    a, b = (json.loads(run[STATUS_FILE]) for run in runs)
    assert {k: v for k, v in a.items() if k not in TIMINGS} == {k: v for k, v in b.items() if k not in TIMINGS}
