"""Staleness of reads (k-staleness, t-visibility) and replica convergence after a heal.

For each ok read (versions as in :mod:`eventsim.consistency.versions`), the *latest*
version of its key is the highest version among writes committed strictly before the read
was invoked. A read that returned an older version is stale by

- ``versions_behind`` = latest − returned (k-staleness: how many committed writes it missed);
- ``seconds_behind`` = read invoke − commit time of the latest write (how long the newest
  write it missed had been committed: t-visibility);
- ``stale_for_s`` = read invoke − commit time of the write that replaced the returned
  version (how long the value it returned had been out of date).

All three are 0 for fresh reads.
"""

from __future__ import annotations

import math

import polars as pl

from eventsim.consistency.versions import resolve_versions
from eventsim.exceptions import DataFormatError

__all__ = ["REPLICA_STATES_SCHEMA", "STALENESS_SCHEMA", "convergence_time", "staleness"]

STALENESS_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "process": pl.Int64(),
    "key": pl.String(),
    "invoke_s": pl.Float64(),
    "complete_s": pl.Float64(),
    "version": pl.Int64(),
    "latest_version": pl.Int64(),
    "versions_behind": pl.Int64(),
    "seconds_behind": pl.Float64(),
    "stale_for_s": pl.Float64(),
}
"""Columns of :func:`staleness`."""

REPLICA_STATES_SCHEMA: dict[str, pl.DataType] = {
    "time_s": pl.Float64(),
    "replica": pl.String(),
    "key": pl.String(),
    "version": pl.Int64(),
}
"""Input of :func:`convergence_time`: one row per change, "from ``time_s`` on, ``replica``
holds ``key`` at ``version``" (``replica`` may also be an integer column). A replica without
a row for a key holds version 0 there."""


def staleness(history: pl.DataFrame) -> pl.DataFrame:
    """How stale each read was (definitions in the module docstring).

    Parameters
    ----------
    history
        A history frame; written values unique per key.

    Returns
    -------
    polars.DataFrame
        One row per ok read whose value a write (or the initial state) explains, columns in
        :data:`STALENESS_SCHEMA`, sorted by ``row``.

    Examples
    --------
    >>> from eventsim.consistency.history import make_history
    >>> h = make_history([(0, "write", "x", "a", None, 0, 1), (0, "write", "x", "b", None, 2, 3),
    ...                   (1, "read", "x", None, "a", 5, 6), (1, "read", "x", None, "b", 7, 8)])
    >>> cols = ["row", "version", "versions_behind", "seconds_behind", "stale_for_s"]
    >>> staleness(h).select(cols).rows()
    [(2, 1, 1, 2.0, 2.0), (3, 2, 0, 0.0, 0.0)]
    """
    v = resolve_versions(history)
    writes = (
        v.filter(pl.col("role") == "write")
        .select("key", "version", "commit_s")
        .with_columns(pl.col("key").fill_null("\x00"))
    )
    by_commit = writes.sort("commit_s").with_columns(
        pl.col("version").cum_max().over("key").alias("latest_version")
    )
    latest = by_commit.join(
        writes.select(
            "key", pl.col("version").alias("latest_version"), pl.col("commit_s").alias("latest_s")
        ),
        on=["key", "latest_version"],
    ).select("key", "commit_s", "latest_version", "latest_s")
    reads = (
        v.filter((pl.col("role") == "read") & pl.col("version").is_not_null())
        .with_columns(pl.col("key").fill_null("\x00"))
        .sort("invoke_s")
    )
    out = reads.join_asof(
        latest.sort("commit_s"),
        left_on="invoke_s",
        right_on="commit_s",
        by="key",
        strategy="backward",
        allow_exact_matches=False,
        check_sortedness=False,  # both sides are sorted above; polars cannot check with `by`
    )
    nxt = writes.select(
        "key", (pl.col("version") - 1).alias("version"), pl.col("commit_s").alias("next_s")
    )
    out = out.join(nxt, on=["key", "version"], how="left").with_columns(
        pl.col("latest_version").fill_null(0)
    )
    behind = (pl.col("latest_version") - pl.col("version")).clip(lower_bound=0)
    stale = behind > 0
    out = out.with_columns(
        behind.alias("versions_behind"),
        pl.when(stale)
        .then(pl.col("invoke_s") - pl.col("latest_s"))
        .otherwise(0.0)
        .alias("seconds_behind"),
        pl.when(stale)
        .then((pl.col("invoke_s") - pl.col("next_s")).clip(lower_bound=0.0))
        .otherwise(0.0)
        .alias("stale_for_s"),
        pl.col("key").replace("\x00", None),
    )
    return out.select([pl.col(c).cast(t) for c, t in STALENESS_SCHEMA.items()]).sort("row")


def convergence_time(replica_states: pl.DataFrame, heal_s: float) -> float:
    """Seconds from ``heal_s`` until all replicas first hold the same version of every key.

    Parameters
    ----------
    replica_states
        Changes of replica state, :data:`REPLICA_STATES_SCHEMA` (time_s, replica, key,
        version).
    heal_s
        When the partition healed.

    Returns
    -------
    float
        0.0 if the replicas agree at ``heal_s``; ``inf`` if they never agree afterwards.

    Raises
    ------
    DataFormatError
        A column is missing.

    Examples
    --------
    >>> states = pl.DataFrame({"time_s": [0.0, 0.0, 5.0, 12.5], "replica": ["a", "b", "a", "b"],
    ...                        "key": ["x", "x", "x", "x"], "version": [1, 1, 2, 2]})
    >>> convergence_time(states, heal_s=10.0)
    2.5
    """
    missing = [c for c in REPLICA_STATES_SCHEMA if c not in replica_states.columns]
    if missing:
        need = list(REPLICA_STATES_SCHEMA)
        msg = f"convergence_time: replica_states lacks column(s) {missing}; needs {need}"
        raise DataFormatError(msg)
    s = replica_states.select(
        pl.col("time_s").cast(pl.Float64),
        pl.col("replica").cast(pl.String),
        pl.col("key").cast(pl.String).fill_null("\x00"),
        pl.col("version").cast(pl.Int64).fill_null(0),
    )
    if s.is_empty():
        return 0.0
    replicas = s.select("replica").unique()
    # each key's agreement can only change at that key's change times
    times = s.select("key", "time_s").unique()
    grid = times.join(replicas, how="cross").sort("time_s")
    held = grid.join_asof(
        s.sort("time_s"),
        on="time_s",
        by=["key", "replica"],
        strategy="backward",
        check_sortedness=False,  # sorted above; polars cannot check with `by`
    ).with_columns(pl.col("version").fill_null(0))
    agree = (
        held.group_by("key", "time_s")
        .agg((pl.col("version").n_unique() == 1).alias("agree"))
        .sort("key", "time_s")
        .with_columns(pl.col("time_s").shift(-1).over("key").fill_null(math.inf).alias("end_s"))
    )
    # union of the disagreement intervals [time_s, end_s) that reach past heal_s
    bad = agree.filter(~pl.col("agree") & (pl.col("end_s") > heal_s)).sort("time_s")
    t = heal_s
    for start, end in bad.select("time_s", "end_s").iter_rows():
        if start > t:
            break
        t = max(t, end)
    return t - heal_s
