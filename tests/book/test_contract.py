"""Static contract of every registered chapter and of the environment files (no kernel, sub-second).

A chapter notebook is committed without outputs, has exactly one ``parameters`` cell whose defaults
are the ``full`` set the registry reads, cites its paper in the first markdown cell, mentions every
declared claim and figure id, and imports nothing private. ``environment.yml`` installs the package
itself, so ``pyproject.toml`` is the one source of pins.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from paper_experiments.registry import BIB_FILE, CHAPTERS, Chapter, bib_keys

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "sys.path edit": re.compile(r"\bsys\.path\b"),
    "pip install": re.compile(r"^\s*[!%]\s*pip\b", re.MULTILINE),
    "private import": re.compile(r"^\s*(from|import)\s+cvxnn_core\._", re.MULTILINE),
}
chapters = pytest.mark.parametrize("chapter", CHAPTERS.values(), ids=list(CHAPTERS))


def load(chapter: Chapter) -> nbformat.NotebookNode:
    return nbformat.read(REPO / chapter.notebook, as_version=4)


def toc_files() -> list[str]:
    """The ``file:`` entries of ``_toc.yml``, in order."""
    def walk(node: object) -> list[str]:
        if isinstance(node, dict):
            return ([node["file"]] if "file" in node else []) + [f for v in node.values() for f in walk(v)]
        return [f for item in node for f in walk(item)] if isinstance(node, list) else []

    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    return [toc["root"], *walk(toc.get("parts", toc.get("chapters", [])))]


def parameters_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]


def test_registry_follows_toc_order() -> None:
    listed = [f.removeprefix("book/") for f in toc_files() if f.removeprefix("book/") in CHAPTERS]
    assert listed == list(CHAPTERS)


@chapters
def test_notebook_exists_and_is_in_toc(chapter: Chapter) -> None:
    assert (REPO / chapter.notebook).is_file()
    assert chapter.notebook.removesuffix(".ipynb") in toc_files()


@chapters
def test_one_parameters_cell_with_the_full_defaults(chapter: Chapter) -> None:
    notebook = load(chapter)
    (cell,) = parameters_cells(notebook)
    assert cell.cell_type == "code"
    names = set(papermill.inspect_notebook(str(REPO / chapter.notebook)))
    assert names == set(chapter.full) and names >= set(chapter.smoke)
    body = ast.parse(cell.source).body
    plain = [isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) for s in body]
    assert all(plain), "the parameters cell holds only `name = literal` lines"
    assert {s.targets[0].id: ast.literal_eval(s.value) for s in body} == dict(chapter.full)


@chapters
def test_committed_without_outputs(chapter: Chapter) -> None:
    code = [cell for cell in load(chapter).cells if cell.cell_type == "code"]
    assert [i for i, cell in enumerate(code) if cell.outputs or cell.execution_count is not None] == []


@chapters
def test_no_path_hacks_installs_or_private_imports(chapter: Chapter) -> None:
    source = "\n".join(cell.source for cell in load(chapter).cells if cell.cell_type == "code")
    assert [what for what, pattern in FORBIDDEN.items() if pattern.search(source)] == []


@chapters
def test_first_markdown_cell_cites_a_known_paper(chapter: Chapter) -> None:
    first = next(cell for cell in load(chapter).cells if cell.cell_type == "markdown")
    cited = set(re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", first.source))
    keys = {key.strip() for group in cited for key in group.split(",")}
    assert chapter.citation in keys and keys <= bib_keys(REPO / BIB_FILE)


@chapters
def test_notebook_mentions_every_claim_and_figure(chapter: Chapter) -> None:
    source = "\n".join(cell.source for cell in load(chapter).cells)
    assert [i for i in (*chapter.claim_ids, *chapter.figures) if i not in source] == []


def pyproject_pins() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {}).values()
    return [Requirement(pin) for pin in [*project["dependencies"], *(p for extra in extras for p in extra)]]


def test_direct_dependencies_are_pinned_exactly() -> None:
    pins = pyproject_pins()
    assert [str(r) for r in pins if [s.operator for s in r.specifier] != ["=="]] == []
    assert "torch==2.13.0" in [str(r) for r in pins]


def test_environment_yml_installs_the_package_with_pyproject_pins() -> None:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = [dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict)]
    assert pip == [["-e .[book,dev,bench]"]]
    pinned = {r.name.lower(): str(r.specifier).removeprefix("==") for r in pyproject_pins()}
    requires_python = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    for dep in (d for d in env["dependencies"] if isinstance(d, str)):
        name, _, version = dep.partition("=")
        if name == "python":
            assert SpecifierSet(requires_python).contains(version + ".0"), dep
        elif name != "pip":
            assert pinned.get(name.lower()) == version.lstrip("="), f"{dep} disagrees with pyproject.toml"
