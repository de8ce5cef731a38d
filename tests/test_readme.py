"""The README's Python examples run (as eventsourcing's docs tests run its README)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples() -> None:
    assert len(_blocks()) >= 2


def test_readme_quick_example_runs() -> None:
    import matplotlib

    matplotlib.use("Agg")
    code = (
        _blocks()[0]
        .replace('duration="30m"', 'duration="2m"')
        .replace("start_s=600, duration_s=300", "start_s=30, duration_s=30")
    )
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    res = namespace["res"]
    assert res.incidents.height == 1  # type: ignore[attr-defined]


@pytest.mark.slow
def test_readme_sweep_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    code = _blocks()[1].replace('executor="processes"', 'executor="serial", progress=False')
    code = code.replace("seeds=range(5)", "seeds=range(1)")
    import eventsim as es

    base = es.Scenario(duration="3s", params={"rate_per_s": 20})
    exec(compile(code, "README.md", "exec"), {"base": base})
