"""Fixtures of the runner tests (helpers live in ``fake_chapters.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_chapters import make_fake_root


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    """A fake repository: a copy of the real core and pins, and a bib file (see ``make_fake_root``)."""
    return make_fake_root(tmp_path)
