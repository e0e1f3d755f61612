"""The Recorder measures declared claims: statement, requirement and threshold come from the chapter file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from cvxnn_core import results

SPECS = {
    "claims": [
        {"name": "small", "kind": "check", "statement": "It is small.", "measured": "the value", "op": "<=",
         "threshold": 1e-6},
        {"name": "fast", "kind": "speed", "statement": "It is fast.", "measured": "a ratio", "op": ">=",
         "threshold": "speedup_min"},
    ]
}


def _recorder(tmp_path: Path) -> results.Recorder:
    return results.Recorder(tmp_path, claims=results.claim_specs("demo", SPECS))


def test_claim_uses_the_declared_requirement_and_writes_it(tmp_path: Path) -> None:
    rec = _recorder(tmp_path)
    assert rec.claim("demo.small", 1e-7) is True
    assert rec.claim("demo.fast", 3.0, threshold=5.0) is False
    claims = json.loads((tmp_path / results.NUMBERS_FILE).read_text())["claims"]
    assert claims["demo.small"] == {"statement": "It is small.", "measured": "the value", "value": 1e-7, "op": "<=",
                                    "threshold": 1e-6, "passed": True}
    assert claims["demo.fast"]["threshold"] == 5.0 and claims["demo.fast"]["passed"] is False


def test_nan_never_passes(tmp_path: Path) -> None:
    assert _recorder(tmp_path).claim("demo.small", math.nan) is False


def test_chapter_file_is_found_from_the_repository_or_from_book(tmp_path: Path, monkeypatch) -> None:
    book = tmp_path / "book"
    book.mkdir()
    (book / "demo.toml").write_text(
        '[[claims]]\nname = "small"\nkind = "check"\nstatement = "s"\nmeasured = "m"\nop = "<"\nthreshold = 2\n'
    )
    for cwd in (tmp_path, book):
        monkeypatch.chdir(cwd)
        rec = results.Recorder(tmp_path / "out", chapter="demo")
        assert rec.claim("demo.small", 1.0) is True
    monkeypatch.chdir(tmp_path.parent)
    with pytest.raises(FileNotFoundError, match="no book/demo.toml above"):
        results.Recorder(tmp_path / "out", chapter="demo")

