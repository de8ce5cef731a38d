"""Sweep files: a base scenario, a grid and seeds in one TOML file.

Format (top-level keys come before the tables, as TOML requires)::

    scenario = "scenario.toml"      # a path, relative to this file — or a [scenario] table
    seeds = [0, 1, 2]               # or n_seeds = 3; neither: the scenario's own seed
    metrics = "eventsim.delivery:summary"   # optional; default RunResult.summary

    [grid]                          # the product of these axes (dotted paths → lists)
    "log.partitions" = [4, 12, 48]
    faults.broker_crash_rate_per_h = [0, 1, 4]   # unquoted dotted keys work too

    [[points]]                      # explicit points, one table each (optional)
    "consumers.0.commit" = "after-process"

    [sample]                        # sampled points (optional)
    method = "lhs"                  # random | lhs
    n = 20
    seed = 0                        # seed of the sampler, not of the runs
    [sample.ranges]
    "params.rate_per_s" = [10.0, 100.0]      # floats: uniform; ints: integers, inclusive
    "log.retention_s" = { low = 60.0, high = 3600.0, log = true }
    "consumers.0.commit" = { choices = ["auto", "after-process"] }

When several of ``[grid]``, ``[[points]]`` and ``[sample]`` are given, their points are
crossed (every combination).
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsim.exceptions import closest
from eventsim.scenario import Scenario, load_scenario
from eventsim.sweep.errors import SweepError
from eventsim.sweep.grid import Grid

__all__ = ["SweepFile", "load_sweep", "read_sweep_file", "resolve_metrics"]

_TOP_KEYS = ("scenario", "seeds", "n_seeds", "metrics", "grid", "points", "sample")
_SAMPLE_KEYS = ("method", "n", "seed", "ranges")
_RANGE_KEYS = {"low", "high", "log", "integer", "choices"}


@dataclass(frozen=True)
class SweepFile:
    """What a sweep file holds: the base scenario, the grid and the metrics function's name.

    Examples
    --------
    >>> SweepFile(Scenario(duration="5s"), Grid(seeds=[0])).grid
    Grid(1 points × 1 seeds)
    """

    scenario: Scenario
    grid: Grid
    metrics: str | None = None


def _flatten(table: Mapping[str, Any], prefix: str = "", *, ranges: bool = False) -> dict[str, Any]:
    """``{"log": {"partitions": x}}`` → ``{"log.partitions": x}`` (range specs stay whole)."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        is_spec = ranges and isinstance(value, Mapping) and set(value) <= _RANGE_KEYS
        if isinstance(value, Mapping) and value and not is_spec:
            out.update(_flatten(value, f"{path}.", ranges=ranges))
        else:
            out[path] = value
    return out


def _scenario(data: Any, where: Path) -> Scenario:
    if isinstance(data, str):
        return load_scenario(where.parent / data)
    if isinstance(data, Mapping):
        return Scenario.from_dict(data)
    msg = f"scenario in {str(where)!r} must be a file path or a [scenario] table; got {data!r}"
    raise SweepError(msg)


def _seeds(data: Mapping[str, Any]) -> list[int] | None:
    if "seeds" in data and "n_seeds" in data:
        msg = "give seeds = [..] or n_seeds = N, not both"
        raise SweepError(msg)
    if "n_seeds" in data:
        n = data["n_seeds"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            msg = f"n_seeds must be an integer >= 1; got {n!r}"
            raise SweepError(msg)
        return list(range(n))
    seeds = data.get("seeds")
    if seeds is not None and not isinstance(seeds, list):
        msg = f"seeds must be a list of integers (or use n_seeds = N); got {seeds!r}"
        raise SweepError(msg)
    return seeds


def _sample(spec: Any) -> Grid:
    if not isinstance(spec, Mapping):
        msg = f"[sample] must be a table; got {spec!r}"
        raise SweepError(msg)
    for key in spec:
        if key not in _SAMPLE_KEYS:
            msg = f"[sample] has unknown key {key!r}{closest(key, _SAMPLE_KEYS)}"
            raise SweepError(msg)
    if "n" not in spec or "ranges" not in spec:
        msg = "[sample] needs n (how many points) and a [sample.ranges] table"
        raise SweepError(msg)
    ranges = spec["ranges"]
    if not isinstance(ranges, Mapping):
        msg = f"[sample.ranges] must be a table of dotted path → range; got {ranges!r}"
        raise SweepError(msg)
    return Grid.sample(
        _flatten(ranges, ranges=True),
        spec["n"],
        method=spec.get("method", "lhs"),
        sample_seed=spec.get("seed", 0),
    )


def _grid(data: Mapping[str, Any]) -> Grid:
    seeds = _seeds(data)
    parts: list[Grid] = []
    if "grid" in data:
        if not isinstance(data["grid"], Mapping):
            msg = f"[grid] must be a table of dotted path → list; got {data['grid']!r}"
            raise SweepError(msg)
        parts.append(Grid(_flatten(data["grid"])))
    if "points" in data:
        points = data["points"]
        if not isinstance(points, list):
            msg = f"points must be an array of tables ([[points]]); got {points!r}"
            raise SweepError(msg)
        parts.append(Grid.from_list([_flatten(p) if isinstance(p, Mapping) else p for p in points]))
    if "sample" in data:
        parts.append(_sample(data["sample"]))
    if not parts:
        return Grid(seeds=seeds)
    grid = parts[0]
    for part in parts[1:]:
        grid = grid * part
    return Grid.from_list(grid.points, seeds=seeds)


def read_sweep_file(path: str | Path) -> SweepFile:
    """Read a sweep file (format in the module docstring).

    Raises
    ------
    SweepError
        Unreadable file, malformed TOML, unknown keys, bad grid, seeds or ranges.
    ScenarioError
        The base scenario is invalid.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "sweep.toml"
    >>> _ = f.write_text('''
    ... n_seeds = 2
    ... [scenario]
    ... duration = "5s"
    ... [grid]
    ... log.partitions = [4, 8]
    ... ''')
    >>> read_sweep_file(f)
    SweepFile(scenario=Scenario(...), grid=Grid(2 points × 2 seeds: log.partitions), metrics=None)
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"sweep file {str(path)!r} cannot be read: {exc.strerror}"
        raise SweepError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"sweep file {str(path)!r} is not valid TOML: {exc}"
        raise SweepError(msg) from None
    for key in data:
        if key not in _TOP_KEYS:
            msg = (
                f"sweep file {str(path)!r} has unknown key {key!r}{closest(key, _TOP_KEYS)}"
                f" (known: {', '.join(_TOP_KEYS)})"
            )
            raise SweepError(msg)
    if "scenario" not in data:
        msg = f"sweep file {str(path)!r} needs scenario = 'file.toml' or a [scenario] table"
        raise SweepError(msg)
    metrics = data.get("metrics")
    if metrics is not None and not isinstance(metrics, str):
        msg = f"metrics must be a name like 'package.module:function'; got {metrics!r}"
        raise SweepError(msg)
    return SweepFile(_scenario(data["scenario"], path), _grid(data), metrics)


def load_sweep(path: str | Path) -> tuple[Scenario, Grid]:
    """The base scenario and the grid of a sweep file (see :func:`read_sweep_file`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "sweep.toml"
    >>> _ = f.write_text('seeds = [1, 2]\\n[scenario]\\nduration = "5s"\\n')
    >>> base, grid = load_sweep(f)
    >>> base.duration, len(grid)
    (5.0, 2)
    """
    spec = read_sweep_file(path)
    return spec.scenario, spec.grid


def resolve_metrics(name: str | None) -> Callable[..., Any]:
    """The metrics function named ``"package.module:function"`` (or a dotted path).

    None gives :meth:`RunResult.summary`.

    Examples
    --------
    >>> resolve_metrics("eventsim.sim.result:RunResult.summary").__qualname__
    'RunResult.summary'
    >>> resolve_metrics("eventsim.sim.result:nothing")
    Traceback (most recent call last):
    ...
    eventsim.sweep.errors.SweepError: metrics 'eventsim.sim.result:nothing' cannot be loaded: ...
    """
    if name is None:
        from eventsim.sim.result import RunResult

        return RunResult.summary
    module_name, _, attr = name.partition(":")
    if not attr:
        module_name, _, attr = name.rpartition(".")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError) as exc:
        msg = f"metrics {name!r} cannot be loaded: {type(exc).__name__}: {exc}"
        raise SweepError(msg) from None
    if not callable(obj):
        msg = f"metrics {name!r} is not callable"
        raise SweepError(msg)
    return obj  # type: ignore[no-any-return]
