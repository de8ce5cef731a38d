"""The plan of a sweep: one scenario per (point, seed), all checked before any run starts.

Checks, each problem reported on one line: every grid key names a scenario field (with the
closest path suggested), then every grid point builds a valid scenario with
``Scenario.replace`` (a message shared by many points is reported once, with the first point
and how many more).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventsim.exceptions import closest
from eventsim.scenario import Scenario
from eventsim.sweep.errors import SweepError
from eventsim.sweep.grid import Grid

__all__ = ["PlannedRun", "check_path", "plan_runs"]


@dataclass(frozen=True)
class PlannedRun:
    """One row of the sweep: its grid point, its scenario and that scenario's key.

    Examples
    --------
    >>> run = plan_runs(Scenario(duration="5s"), Grid({"drain": [2.0]}, seeds=[4]))[0]
    >>> run.index, run.params, run.scenario.seed, run.key == run.scenario.key()
    (0, {'drain': 2.0}, 4, True)
    """

    index: int
    params: dict[str, Any]
    scenario: Scenario
    key: str


def _fields(node: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(node)]


def check_path(base: Scenario, path: str) -> str | None:
    """None if ``path`` names a field of ``base``, else a one-line problem with a suggestion.

    Examples
    --------
    >>> sc = Scenario(duration="5s")
    >>> check_path(sc, "log.partitions") is None, check_path(sc, "consumers.0.members") is None
    (True, True)
    >>> check_path(sc, "log.partitons")
    "grid key 'log.partitons' is not a scenario field; did you mean 'log.partitions'?"
    >>> check_path(sc, "params.rate")
    "grid key 'params.rate' is not a parameter of workload 'synthetic'; did you mean ...?"
    >>> check_path(sc, "consumers.3.members")
    "grid key 'consumers.3.members': consumers has 1 item (indices 0..0)"
    """
    from eventsim.workloads import get_workload

    node: Any = base
    walked: list[str] = []
    parts = path.split(".")
    for depth, part in enumerate(parts):
        where = ".".join(walked)
        if node is base and part == "params":
            node = get_workload(base.workload).make_params(dict(base.params))
            walked.append(part)
            continue
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            names = _fields(node)
            if part not in names:
                what = (
                    f"a parameter of workload {base.workload!r}"
                    if where == "params"
                    else "a scenario field"
                )
                rest = parts[depth + 1 :]
                paths = [".".join([*walked, n, *rest]) for n in names]
                return f"grid key {path!r} is not {what}{closest(path, paths)}"
            node = getattr(node, part)
        elif isinstance(node, Sequence) and not isinstance(node, str):
            if not part.isdigit() or int(part) >= len(node):
                items = "item" if len(node) == 1 else "items"
                span = f" (indices 0..{len(node) - 1})" if node else ""
                return f"grid key {path!r}: {where} has {len(node)} {items}{span}"
            node = node[int(part)]
        elif isinstance(node, Mapping):
            node = node.get(part)
        else:
            return f"grid key {path!r}: {where} is a value ({node!r}), not a table or list"
        walked.append(part)
    return None


def _short(point: Mapping[str, Any], seed: int | None) -> str:
    items = [f"{k}={v!r}" for k, v in point.items()]
    if seed is not None:
        items.append(f"seed={seed}")
    return ", ".join(items) or "base scenario"


def _key_problems(base: Scenario, grid: Grid) -> list[str]:
    # workload parameters depend on the workload: if it varies, the points' checks judge them
    varies_workload = "workload" in grid.params
    problems = []
    for path in grid.params:
        if varies_workload and path.startswith("params."):
            continue
        problem = check_path(base, path)
        if problem is not None:
            problems.append(problem)
    return problems


def _message(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if type(exc).__name__.endswith("ScenarioError") else f"{type(exc).__name__}: {text}"


def plan_runs(base: Scenario, grid: Grid) -> list[PlannedRun]:
    """The runs of ``grid`` over ``base``, in grid order, every scenario built and validated.

    Raises
    ------
    SweepError
        Listing every problem (unknown keys, rejected values), one line each.

    Examples
    --------
    >>> runs = plan_runs(Scenario(duration="5s"), Grid({"log.partitions": [2, 4]}, seeds=[0, 1]))
    >>> [(r.params["log.partitions"], r.scenario.seed) for r in runs]
    [(2, 0), (2, 1), (4, 0), (4, 1)]
    >>> plan_runs(Scenario(duration="5s"), Grid({"log.partitions": [4, 0, -1]}))
    Traceback (most recent call last):
    ...
    eventsim.sweep.errors.SweepError: sweep has 2 problems (nothing was run):
      log.partitions must be >= 1; got 0 (first at grid point 1: log.partitions=0)
      log.partitions must be >= 1; got -1 (first at grid point 2: log.partitions=-1)
    """
    if not isinstance(base, Scenario):
        msg = f"sweep needs a Scenario as its base; got {type(base).__name__}"
        raise SweepError(msg)
    if not isinstance(grid, Grid):
        msg = f"sweep needs a Grid; got {type(grid).__name__} (wrap axes in Grid({{...}}))"
        raise SweepError(msg)
    problems = _key_problems(base, grid)
    if problems:
        raise SweepError.from_problems(problems)
    runs: list[PlannedRun] = []
    failures: dict[str, tuple[int, int]] = {}  # message → (first point, count)

    def fail(exc: Exception, point_index: int) -> None:
        msg = _message(exc)
        first, count = failures.get(msg, (point_index, 0))
        failures[msg] = (first, count + 1)

    seeds = grid.seeds if grid.seeds is not None else (None,)
    for p, point in enumerate(grid.points):
        try:
            built = base.replace(**point)
        except Exception as exc:  # any rejection of the values, typed or not
            fail(exc, p)
            continue
        for s, seed in enumerate(seeds):
            try:
                scenario = built if seed is None else dataclasses.replace(built, seed=seed)
            except Exception as exc:
                fail(exc, p)
                continue
            runs.append(PlannedRun(p * len(seeds) + s, dict(point), scenario, scenario.key()))
    if failures:
        lines = []
        for msg, (first, count) in failures.items():
            more = f" and {count - 1} more" if count > 1 else ""
            lines.append(
                f"{msg} (first at grid point {first}: {_short(grid.points[first], None)}{more})"
            )
        raise SweepError.from_problems(lines)
    return runs
