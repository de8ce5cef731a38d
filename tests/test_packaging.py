"""Packaging: pyproject.toml and environment.yml agree; ``import eventsim`` stays light."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("river", "sklearn", "matplotlib", "scipy", "dask", "distributed")
_REQ = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(\[[^\]]*\])?\s*(.*?)\s*$")


def _split(req: str) -> tuple[str, str, str]:
    match = _REQ.match(req)
    assert match is not None, req
    name, extras, spec = match.groups()
    return name.lower().replace("_", "-"), extras or "", spec.replace(" ", "")


def _pyproject() -> dict[str, str]:
    """Name → version spec of every runtime, dev and dask dependency; ``dask[distributed]``
    is the two conda packages ``dask`` and ``distributed``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in ("dev", "dask"):
        reqs += project["optional-dependencies"][extra]
    out: dict[str, str] = {}
    for req in reqs:
        name, extras, spec = _split(req)
        out[name] = spec
        if name == "dask" and "distributed" in extras:
            out["distributed"] = spec
    return out


def _environment() -> dict[str, str]:
    """Conda dependencies of environment.yml (python, pip and the pip section left out)."""
    out: dict[str, str] = {}
    in_deps = False
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw.startswith(" "):
            in_deps = line.startswith("dependencies:")
            continue
        item = re.match(r"^  - (.+)$", line)  # top-level list items only, not the pip: list
        if in_deps and item and not item.group(1).endswith(":"):
            name, _, spec = _split(item.group(1))
            if name not in ("python", "pip"):
                out[name] = spec
    return out


def test_environment_and_pyproject_name_the_same_dependencies() -> None:
    conda, pip = _environment(), _pyproject()
    assert sorted(conda) == sorted(pip)
    assert conda == pip  # same version floors too


def test_dependency_lists_are_complete() -> None:
    pip = _pyproject()
    for name in ("simpy", "polars", "pyarrow", "numpy", "river", "scikit-learn", "hypothesis"):
        assert name in pip
    assert {"dask", "distributed"} <= set(pip)


def test_python_version_agrees() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    assert "  - python>=3.11" in (ROOT / "environment.yml").read_text().splitlines()


def test_console_script_points_at_cli_main() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"eventsim": "eventsim.cli:main"}


_PROBE = """
import json, sys
import eventsim
{extra}
from eventsim import Scenario, run, RunResult
Scenario()
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})))
"""


@pytest.mark.parametrize("extra", ["", "import eventsim.log, eventsim.sim, eventsim.workloads"])
def test_import_eventsim_does_not_import_heavy_libraries(extra: str) -> None:
    code = _PROBE.format(heavy=set(HEAVY), extra=extra)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_public_names() -> None:
    import eventsim

    assert set(eventsim.__all__) >= {
        "ConsumerGroupConfig",
        "IncidentSpec",
        "LogConfig",
        "ProducerConfig",
        "RunResult",
        "Scenario",
        "__version__",
        "run",
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert eventsim.__version__ == project["version"]
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        eventsim.nope


def test_package_ships_py_typed() -> None:
    assert (ROOT / "eventsim" / "py.typed").is_file()
