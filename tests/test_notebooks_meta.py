"""House style of every notebook: it opens with prose (what you will see, why it matters) and
ends with questions to discuss. That outputs are cleared is checked in test_notebooks.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT / "notebooks"))


def _cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if "".join(c["source"]).strip()]  # blank cells do not count


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_opens_with_markdown(path: Path) -> None:
    cells = _cells(path)
    assert cells, f"{_id(path)} is empty"
    assert cells[0]["cell_type"] == "markdown", f"{_id(path)}: the first cell must be markdown"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_ends_with_questions(path: Path) -> None:
    last = _cells(path)[-1]
    assert last["cell_type"] == "markdown", f"{_id(path)}: the last cell must be markdown"
    assert "Questions" in "".join(last["source"]), (
        f"{_id(path)}: the last cell must hold the questions to discuss ('Questions')"
    )
