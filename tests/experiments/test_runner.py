"""Runner mechanics on fake chapters in a temporary repository: cache keys, reuse, isolation, atomicity."""

from __future__ import annotations

import dataclasses
import json
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from fake_chapters import REPO, fake_chapter, make_project, write_notebook

from paper_experiments.__main__ import main
from paper_experiments.runner import ChapterStatus, Project, cache_key, latest_status, result_dir, run_chapters


def assert_complete(project: Project, status: ChapterStatus) -> None:
    """An ok result folder: executed notebook, numbers, figures, status, and the latest pointer to it."""
    folder = result_dir(project, status)
    assert status.ok and folder.name == f"smoke-{status.key[:16]}"
    assert {p.name for p in folder.iterdir()} >= {
        f"{status.slug}.ipynb", "numbers.json", "status.json", "fig_line.png", "fig_line.svg"
    }
    numbers = json.loads((folder / "numbers.json").read_text())
    assert numbers["claims"][f"{status.slug}.positive"]["passed"] is True
    assert latest_status(project, status.slug, "smoke") == dataclasses.replace(status, cached=False)


def test_cache_key_follows_code_params_core_and_pins(fake_root: Path) -> None:
    chapter = fake_chapter("alpha")
    project = make_project(fake_root, chapter)
    key = cache_key(project, chapter, "smoke")
    path = fake_root / chapter.notebook

    notebook = nbformat.read(path, as_version=4)
    notebook.cells[3].outputs = [nbformat.v4.new_output("stream", text="hello")]
    notebook.cells[3].execution_count = 7
    notebook.cells[3].metadata["collapsed"] = True
    notebook.metadata["papermill"] = {"duration": 1.0}
    notebook.cells[0].source += "\n\nMore prose."
    nbformat.write(notebook, path)
    assert cache_key(project, chapter, "smoke") == key, "outputs, metadata and markdown do not enter the key"

    keys = [key]
    path.write_text(path.read_text().replace("range(n)", "range(n + 1)"))
    keys.append(cache_key(project, chapter, "smoke"))
    keys.append(cache_key(project, dataclasses.replace(chapter, smoke={"n": 4}), "smoke"))
    core = fake_root / "cvxnn_core"
    (core / "extra.py").write_text("x = 1\n")
    keys.append(cache_key(project, chapter, "smoke"))
    (core / "book.mplstyle").write_text("lines.linewidth: 2\n")
    keys.append(cache_key(project, chapter, "smoke"))
    pyproject = fake_root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("numpy==", "numpy>="))
    keys.append(cache_key(project, chapter, "smoke"))
    assert len(set(keys)) == len(keys), "code, parameters, core modules, core style and pins all enter the key"
    (core / "notes.txt").write_text("not code")
    assert cache_key(project, chapter, "smoke") == keys[-1]


def test_second_run_is_cached_and_only_edited_or_forced_chapters_rerun(fake_root: Path) -> None:
    project = make_project(fake_root, fake_chapter("alpha"), fake_chapter("beta"))
    first = run_chapters(None, "smoke", project=project)
    assert [s.label for s in first] == ["ok", "ok"]
    for status in first:
        assert_complete(project, status)

    assert [s.label for s in run_chapters(None, "smoke", project=project)] == ["cached", "cached"]

    notebook = fake_root / "book" / "alpha.ipynb"
    notebook.write_text(notebook.read_text().replace("range(n)", "range(2 * n)"))
    edited = run_chapters(None, "smoke", project=project)
    assert [s.label for s in edited] == ["ok", "cached"]
    assert edited[0].key != first[0].key
    assert_complete(project, edited[0])

    forced = run_chapters(["beta"], "smoke", force=True, project=project)
    assert [s.label for s in forced] == ["ok"]
    assert forced[0].folder == first[1].folder
    assert not list((project.results_dir / "beta").glob(".tmp-*"))


def test_failing_chapter_reports_its_cell_and_leaves_others_intact(fake_root: Path, capsys) -> None:
    project = make_project(fake_root, fake_chapter("alpha"), fake_chapter("beta", fail=True))
    assert main(["run", "--profile", "smoke"], project) == 1
    alpha = latest_status(project, "alpha", "smoke")
    assert_complete(project, alpha)
    alpha_files = {p.name: p.stat().st_mtime_ns for p in result_dir(project, alpha).iterdir()}

    assert main(["run", "--profile", "smoke"], project) == 1  # alpha cached, beta re-executed
    beta = latest_status(project, "beta", "smoke")
    assert not beta.ok and beta.folder == f"failed-smoke-{beta.key[:16]}"
    assert beta.error["ename"] == "ValueError" and beta.error["evalue"] == "asked to fail"
    assert beta.error["cell_index"] == 4  # markdown, parameters, injected parameters, imports, body
    assert 'raise ValueError("asked to fail")' in beta.error["source"]
    assert [p.name for p in (project.results_dir / "beta").iterdir() if p.is_dir()] == [beta.folder]
    assert {p.name: p.stat().st_mtime_ns for p in result_dir(project, alpha).iterdir()} == alpha_files

    out, err = capsys.readouterr()
    assert "| alpha   | smoke   | cached |" in out and "FAILED beta: cell 4 raised ValueError: asked to fail" in err
    assert main(["status", "--profile", "smoke"], project) == 0
    assert "failed" in capsys.readouterr().out


def test_missing_figure_failed_claim_undeclared_claim_and_timeout_fail_the_chapter(fake_root: Path) -> None:
    checked = fake_chapter("alpha", figures=("fig_line", "fig_missing"), value=-1.0)
    # The budget leaves room for the kernel start and imports on a loaded 2-core machine; the sleep cell exceeds it.
    slow = dataclasses.replace(fake_chapter("beta", sleep_s=600), timeout_s={"smoke": 40, "full": 40})
    undeclared = fake_chapter("gamma", extra_claim=True)
    project = make_project(fake_root, checked, slow, undeclared)
    alpha, beta, gamma = run_chapters(None, "smoke", jobs=2, project=project)
    assert not alpha.ok and alpha.error is None
    assert alpha.missing_figures == ["fig_missing.png", "fig_missing.svg"]
    assert alpha.problems == [
        "missing figure fig_missing.png",
        "missing figure fig_missing.svg",
        "claim alpha.positive failed: -1.0 > 0.0",
    ]
    assert alpha.claims_passed == 0 and alpha.claims_total == 1
    assert not gamma.ok and gamma.error["ename"] == "KeyError"
    assert "gamma.extra' is not declared" in gamma.error["evalue"]
    assert not beta.ok and beta.error["ename"] == "TimeoutError" and beta.error["cell_index"] == 4
    assert "40 s for the chapter" in beta.error["evalue"]  # the guard stopped the 600 s sleep, not its end


def test_jobs_run_on_dask_and_exclusive_chapters_run_alone_afterwards_in_full(fake_root: Path) -> None:
    from datetime import datetime

    def sleeping(slug: str):
        chapter = fake_chapter(slug)
        return dataclasses.replace(chapter, full={**chapter.full, "sleep_s": 2.0})

    shared = [sleeping("alpha"), sleeping("beta")]
    alone = dataclasses.replace(fake_chapter("gamma"), exclusive=True)
    assert alone.runs_alone("full") and not alone.runs_alone("smoke")  # smoke judges no timing: it shares the cores
    project = make_project(fake_root, alone, *shared)
    statuses = run_chapters(None, "full", jobs=2, project=project)
    assert [s.slug for s in statuses] == ["gamma", "alpha", "beta"] and all(s.ok for s in statuses)
    finished = {s.slug: datetime.fromisoformat(s.finished_at).timestamp() for s in statuses}
    started_alone = finished["gamma"] - statuses[0].wall_s
    assert started_alone >= max(finished["alpha"], finished["beta"]) - 1.0  # finished_at has 1 s resolution


def _run_until_beta_sleeps(fake_root: Path, tmp_path: Path, call: str, **popen: object):
    """Start ``call`` (run_chapters or main over alpha and a sleeping beta) in a subprocess; return once beta runs."""
    fast, slow = fake_chapter("alpha"), fake_chapter("beta", sleep_s=120)
    project = make_project(fake_root, fast, slow)
    (tmp_path / "project.pkl").write_bytes(pickle.dumps(project))
    driver = f"import pickle, sys; project = pickle.loads(open(sys.argv[1], 'rb').read()); {call}"
    runner = subprocess.Popen([sys.executable, "-c", driver, str(tmp_path / "project.pkl")], cwd=REPO, **popen)
    beta_dir = project.results_dir / "beta"
    deadline = time.monotonic() + 120
    while not list(beta_dir.glob(".tmp-*/beta.ipynb")):  # beta is executing (sleeping)
        if runner.poll() is not None or time.monotonic() > deadline:
            runner.kill()
            pytest.fail("runner ended before beta started")
        time.sleep(0.2)
    time.sleep(1.0)
    return project, runner, beta_dir, fast, slow


def test_killed_run_keeps_finished_chapters_and_leaves_only_tmp(fake_root: Path, tmp_path: Path) -> None:
    call = "from paper_experiments.runner import run_chapters; run_chapters(None, 'smoke', project=project)"
    project, runner, beta_dir, fast, slow = _run_until_beta_sleeps(fake_root, tmp_path, call)
    runner.kill()
    runner.wait()

    assert_complete(project, latest_status(project, "alpha", "smoke"))
    assert [p.name for p in beta_dir.iterdir() if not p.name.startswith(".")] == []

    quick = make_project(fake_root, fast, dataclasses.replace(slow, smoke={}))
    (beta,) = run_chapters(["beta"], "smoke", project=quick)
    assert beta.ok and not list(beta_dir.glob(".tmp-*"))


def test_cli_user_errors_are_one_line(fake_root: Path, capsys) -> None:
    project = make_project(fake_root, fake_chapter("alpha"))
    assert main(["run", "--chapter", "nope"], project) == 2
    assert capsys.readouterr().err == "error: unknown chapter 'nope'; known chapters: alpha\n"
    (fake_root / "book" / "alpha.ipynb").unlink()
    assert main(["run"], project) == 2
    assert capsys.readouterr().err == "error: invalid registry: alpha: notebook book/alpha.ipynb does not exist\n"
    write_notebook(fake_root, "alpha")
    assert main(["run", "--jobs", "0"], project) == 2
    assert "--jobs must be between 1 and" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--profile", "medium"], project)
    assert exit_info.value.code == 2
    assert main(["list"], project) == 0
    assert "alpha.positive: n is positive" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["list", "run", "status", "claims", "build"])
def test_every_command_has_help(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0 and "usage:" in capsys.readouterr().out


def test_ctrl_c_prints_one_line_exits_130_and_a_rerun_resumes(fake_root: Path, tmp_path: Path) -> None:
    call = "from paper_experiments.__main__ import main; sys.exit(main(['run', '--profile', 'smoke'], project))"
    project, runner, beta_dir, fast, slow = _run_until_beta_sleeps(
        fake_root, tmp_path, call, stderr=subprocess.PIPE, text=True
    )
    try:
        runner.send_signal(signal.SIGINT)
        _, err = runner.communicate(timeout=120)
    finally:
        runner.kill()
    lines = [line for line in err.splitlines() if line.strip() and "chapters" not in line]
    assert runner.returncode == 130
    assert lines == [lines[-1]] and "interrupted during chapter beta" in lines[-1] and "alpha are kept" in lines[-1]
    assert "Traceback" not in err
    assert_complete(project, latest_status(project, "alpha", "smoke"))
    quick = make_project(fake_root, fast, dataclasses.replace(slow, smoke={}))
    statuses = run_chapters(None, "smoke", project=quick)
    assert [s.label for s in statuses] == ["cached", "ok"] and not list(beta_dir.glob(".tmp-*"))


def test_claims_of_a_failed_chapter_say_failed_and_the_command_exits_non_zero(fake_root: Path, capsys) -> None:
    project = make_project(fake_root, fake_chapter("alpha"), fake_chapter("beta", fail=True))
    assert main(["run", "--profile", "smoke"], project) == 1
    capsys.readouterr()
    assert main(["claims", "--profile", "smoke"], project) == 1
    out, err = capsys.readouterr()
    beta_row = next(line for line in out.splitlines() if "beta.positive" in line)
    assert "chapter failed: cell" in beta_row and "ValueError: asked to fail" in beta_row and "✗" in beta_row
    assert "1 claim(s) failed or not recorded: beta.positive" in err
    ok = make_project(fake_root, fake_chapter("alpha"))
    assert main(["claims", "--profile", "smoke"], ok) == 0


def test_a_reader_reruns_a_chapter_with_own_values_into_its_own_folder(fake_root: Path, capsys) -> None:
    project = make_project(fake_root, fake_chapter("alpha"))
    assert main(["run", "--profile", "smoke"], project) == 0
    registered = latest_status(project, "alpha", "smoke")
    folder = result_dir(project, registered)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    pointer = (project.results_dir / "alpha" / "latest-smoke.json").read_bytes()
    capsys.readouterr()

    assert main(["run", "--profile", "smoke", "--chapter", "alpha", "-p", "n=5"], project) == 0
    out, _ = capsys.readouterr()
    custom = next(p for p in (project.results_dir / "alpha").iterdir() if p.name.startswith("custom-smoke-"))
    assert f"results (executed notebook, numbers, figures, claims): {custom}" in out
    assert "alpha.positive | custom parameters" in out and "✓" in out
    status = json.loads((custom / "status.json").read_text())
    assert status["overrides"] == {"n": 5}
    assert json.loads((custom / "numbers.json").read_text())["numbers"]["n"] == 5
    assert json.loads((folder / "numbers.json").read_text())["numbers"]["n"] == 3
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert (project.results_dir / "alpha" / "latest-smoke.json").read_bytes() == pointer
    assert (custom / "run.log").read_text().count("code cell") == 4  # injected parameters + 3 code cells

    # A claim that fails with the reader's values is reported, and fails the command only with --strict.
    assert main(["run", "--profile", "smoke", "--chapter", "alpha", "-p", "value=-1"], project) == 0
    assert "1 claim(s) do not hold with these values: alpha.positive" in capsys.readouterr().err
    assert main(["run", "--profile", "smoke", "--chapter", "alpha", "-p", "value=-1", "--strict"], project) == 1
    capsys.readouterr()


def test_custom_values_are_refused_before_anything_runs(fake_root: Path, capsys) -> None:
    project = make_project(fake_root, fake_chapter("alpha"))
    assert main(["run", "--chapter", "alpha", "-p", "m=5"], project) == 2
    err = capsys.readouterr().err
    assert "alpha has no parameter 'm'; its parameters: n (int), value (float), sleep_s (float)" in err
    assert main(["run", "--chapter", "alpha", "-p", "n=abc"], project) == 2
    assert "parameter n takes int, got 'abc'" in capsys.readouterr().err
    assert main(["run", "--chapter", "alpha", "-p", "n=2.5"], project) == 2
    assert "parameter n takes int, got '2.5'" in capsys.readouterr().err
    assert main(["run", "-p", "n=5"], project) == 2
    assert "apply to one chapter" in capsys.readouterr().err
    assert not (project.results_dir / "alpha").exists()  # nothing ran
    assert main(["params", "alpha"], project) == 0
    out = capsys.readouterr().out
    assert "| n " in out and "number of training samples" in out and "run --chapter alpha -p NAME=VALUE" in out


def test_falsifiers_run_once_per_distinct_override_and_flag_claims_that_still_hold(fake_root: Path) -> None:
    from paper_experiments.falsify import falsifier_runs, load_report, run_falsifiers, write_report
    from paper_experiments.registry import Claim

    holds = Claim("beta.positive", "n is positive", "paper", "the value", ">", 0.0,
                  falsify={"n": 5}, falsify_why="n does not enter the claim")  # cannot break it
    project = make_project(fake_root, fake_chapter("alpha"), dataclasses.replace(fake_chapter("beta"), claims=(holds,)))
    assert len(falsifier_runs(project.chapters["alpha"])) == 1
    rows = {row.claim_id: row for row in run_falsifiers(None, "smoke", project=project)}
    assert rows["alpha.positive"].ok and rows["alpha.positive"].value == -1.0  # fails as it must
    assert not rows["beta.positive"].ok and "still holds" in rows["beta.positive"].problem
    write_report(project, "smoke", list(rows.values()))
    assert {row["claim_id"] for row in load_report(project, "smoke")} == {"alpha.positive", "beta.positive"}
