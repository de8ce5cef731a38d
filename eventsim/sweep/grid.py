"""Grid: the runs of a sweep, as parameter points (dotted path → value) times seeds.

Points come from a product of axes (``Grid({...})``), an explicit list (``Grid.from_list``) or
a sample over ranges (``Grid.random``, ``Grid.lhs``). Seeds are an axis of their own: every
point runs once per seed, point-major, so the sweep's rows follow the grid's order. Grids
combine: ``a * b`` crosses their points, ``a + b`` chains them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from eventsim.sweep.errors import SweepError
from eventsim.sweep.sample import sample_points

__all__ = ["Grid"]


def _plain(value: Any) -> Any:
    """numpy scalars → Python scalars (so values hash, compare and serialise as plain data)."""
    return value.item() if isinstance(value, np.generic) else value


def _axis_values(name: str, values: Any) -> list[Any]:
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        msg = f"grid axis {name!r} must be a list of values; got {values!r}"
        raise SweepError(msg)
    out = [_plain(v) for v in values]
    if not out:
        msg = f"grid axis {name!r} is empty; give at least one value"
        raise SweepError(msg)
    return out


def _seeds(seeds: Iterable[int] | None) -> tuple[int, ...] | None:
    if seeds is None:
        return None
    if isinstance(seeds, int | str | bytes) or not isinstance(seeds, Iterable):
        msg = f"seeds must be a list of integers such as range(5); got {seeds!r}"
        raise SweepError(msg)
    out = tuple(_plain(s) for s in seeds)
    for s in out:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            msg = f"seeds must be integers >= 0; got {s!r}"
            raise SweepError(msg)
    if not out:
        msg = "seeds is empty; give at least one seed (or leave it out to use the scenario's)"
        raise SweepError(msg)
    if len(set(out)) != len(out):
        dup = sorted({s for s in out if out.count(s) > 1})
        msg = f"seeds must be distinct; {dup} repeat"
        raise SweepError(msg)
    return out


class Grid:
    """Parameter points (dotted scenario paths → values) times seeds.

    Parameters
    ----------
    axes
        Dotted scenario path → list of values; the grid is their product, in order (the last
        axis varies fastest). Paths reach nested fields (``"log.partitions"``), workload
        parameters (``"params.rate_per_s"``) and list items (``"consumers.0.members"``).
    seeds
        Seeds to run every point with (``range(5)``); None runs each point once with the
        base scenario's seed.

    Attributes
    ----------
    points : tuple of dict
        The parameter points, in order (treat as read-only).
    seeds : tuple of int or None
        The seeds, or None.

    Examples
    --------
    >>> g = Grid({"log.partitions": [4, 12], "params.rate_per_s": [50, 100]}, seeds=range(3))
    >>> len(g), g.params
    (12, ('log.partitions', 'params.rate_per_s'))
    >>> g.points[1]
    {'log.partitions': 4, 'params.rate_per_s': 100}
    >>> next(iter(g))
    ({'log.partitions': 4, 'params.rate_per_s': 50}, 0)
    >>> Grid.from_list([{"log.partitions": 4}, {"log.partitions": 8, "drain": 5}])
    Grid(2 points: log.partitions, drain)
    """

    points: tuple[dict[str, Any], ...]
    seeds: tuple[int, ...] | None

    def __init__(
        self, axes: Mapping[str, Sequence[Any]] | None = None, *, seeds: Iterable[int] | None = None
    ) -> None:
        axes = dict(axes or {})
        columns = {name: _axis_values(name, values) for name, values in axes.items()}
        names = list(columns)
        points = [dict(zip(names, combo)) for combo in itertools.product(*columns.values())]
        self._set(points, seeds, empty_ok=bool(names))

    # -- constructors ------------------------------------------------------------------------
    @classmethod
    def from_list(
        cls, points: Iterable[Mapping[str, Any]], *, seeds: Iterable[int] | None = None
    ) -> Grid:
        """A grid of explicit points; keys may differ between points (missing → base value).

        Examples
        --------
        >>> Grid.from_list([{"log.partitions": 4}, {"log.partitions": 8}], seeds=[1, 2]).seeds
        (1, 2)
        """
        out = []
        for i, point in enumerate(points):
            if not isinstance(point, Mapping):
                msg = f"grid point {i} must be a mapping of dotted path → value; got {point!r}"
                raise SweepError(msg)
            out.append({str(k): _plain(v) for k, v in point.items()})
        if not out:
            msg = "grid is empty: Grid.from_list needs at least one point"
            raise SweepError(msg)
        grid = cls.__new__(cls)
        grid._set(out, seeds, empty_ok=True)
        return grid

    @classmethod
    def sample(
        cls,
        ranges: Mapping[str, Any],
        n: int,
        *,
        method: str = "lhs",
        sample_seed: int = 0,
        seeds: Iterable[int] | None = None,
    ) -> Grid:
        """``n`` points drawn over ``ranges`` by ``method`` (``"random"`` or ``"lhs"``), seeded.

        See :mod:`eventsim.sweep.sample` for the range forms.

        Examples
        --------
        >>> g = Grid.sample({"log.partitions": (1, 48)}, 5, method="random", sample_seed=3)
        >>> len(g), all(1 <= p["log.partitions"] <= 48 for p in g.points)
        (5, True)
        """
        return cls.from_list(sample_points(ranges, n, method=method, seed=sample_seed), seeds=seeds)

    @classmethod
    def random(
        cls,
        ranges: Mapping[str, Any],
        n: int,
        *,
        sample_seed: int = 0,
        seeds: Iterable[int] | None = None,
    ) -> Grid:
        """``n`` points drawn uniformly at random over ``ranges``.

        Examples
        --------
        >>> Grid.random({"params.rate_per_s": (10.0, 100.0)}, 3).params
        ('params.rate_per_s',)
        """
        return cls.sample(ranges, n, method="random", sample_seed=sample_seed, seeds=seeds)

    @classmethod
    def lhs(
        cls,
        ranges: Mapping[str, Any],
        n: int,
        *,
        sample_seed: int = 0,
        seeds: Iterable[int] | None = None,
    ) -> Grid:
        """``n`` points of a Latin hypercube over ``ranges`` (``scipy.stats.qmc``).

        Each range is cut into ``n`` equal strata and every stratum holds exactly one point.

        Examples
        --------
        >>> g = Grid.lhs({"log.partitions": (0, 9)}, 10, sample_seed=1)
        >>> sorted(p["log.partitions"] for p in g.points)
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        """
        return cls.sample(ranges, n, method="lhs", sample_seed=sample_seed, seeds=seeds)

    def _set(
        self, points: list[dict[str, Any]], seeds: Iterable[int] | None, *, empty_ok: bool
    ) -> None:
        self.points = tuple(points)
        self.seeds = _seeds(seeds)
        if not empty_ok and self.seeds is None:
            msg = "grid is empty: give at least one axis (path → values) or seeds"
            raise SweepError(msg)
        if self.seeds is not None and "seed" in self.params:
            msg = "grid has both a 'seed' axis and seeds=; give the seeds one way"
            raise SweepError(msg)

    # -- views -------------------------------------------------------------------------------
    @property
    def params(self) -> tuple[str, ...]:
        """The varied paths, in order of first appearance (the table's parameter columns)."""
        return tuple(dict.fromkeys(k for p in self.points for k in p))

    def __len__(self) -> int:
        return len(self.points) * (len(self.seeds) if self.seeds is not None else 1)

    def __iter__(self) -> Iterator[tuple[dict[str, Any], int | None]]:
        """``(point, seed)`` pairs, point-major; seed None means the base scenario's."""
        seeds: tuple[int | None, ...] = self.seeds if self.seeds is not None else (None,)
        for point in self.points:
            for seed in seeds:
                yield dict(point), seed

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Grid):
            return NotImplemented
        return self.points == other.points and self.seeds == other.seeds

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        seeds = f" × {len(self.seeds)} seeds" if self.seeds is not None else ""
        params = f": {', '.join(self.params)}" if self.params else ""
        return f"Grid({len(self.points)} points{seeds}{params})"

    # -- combining ---------------------------------------------------------------------------
    def __mul__(self, other: Grid) -> Grid:
        """Every point of ``self`` with every point of ``other`` (at most one may have seeds).

        Examples
        --------
        >>> g = Grid({"log.partitions": [4, 8]}) * Grid({"drain": [0, 5]}, seeds=[0, 1])
        >>> len(g), g.points[1]
        (8, {'log.partitions': 4, 'drain': 5})
        """
        if not isinstance(other, Grid):
            return NotImplemented
        return Grid.from_list(
            [{**a, **b} for a in self.points for b in other.points],
            seeds=self._seeds_with(other, "*"),
        )

    def __add__(self, other: Grid) -> Grid:
        """The points of ``self`` then those of ``other``.

        Examples
        --------
        >>> len(Grid({"log.partitions": [4, 8]}) + Grid({"drain": [0]}))
        3
        """
        if not isinstance(other, Grid):
            return NotImplemented
        return Grid.from_list([*self.points, *other.points], seeds=self._seeds_with(other, "+"))

    def _seeds_with(self, other: Grid, op: str) -> tuple[int, ...] | None:
        if self.seeds is not None and other.seeds is not None and self.seeds != other.seeds:
            msg = f"grids with different seeds cannot be combined with {op}; give seeds once"
            raise SweepError(msg)
        return self.seeds if self.seeds is not None else other.seeds
