"""A run's three frames, normalised and cross-referenced once for every finder.

Each delivery knows the row of its event in ``sends`` (``d_pos``) and the log record at its
offset (``d_log``); each log record knows the row of its event in ``sends`` (``log_pos``).
The log is sorted by (topic, partition, offset) and holds one record per offset; the records
beyond the first at an offset are set aside in ``log_extra`` (an inconsistent log).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from eventsim.delivery._frames import check_statuses, deliveries_frame, log_frame, sends_frame
from eventsim.delivery._index import EventIndex, OffsetKeys, string_codes
from eventsim.exceptions import ConfigError, DataFormatError, closest

__all__ = ["Prepared", "prepare"]

_DIRECT_CODES = 1 << 20  # partition codes below this index a table directly


@dataclass
class Prepared:
    """Arrays over sends (length ``n``), log records and deliveries."""

    sends: pl.DataFrame
    n: int
    acked: np.ndarray
    key_order: np.ndarray  # sends rows with a key, by (topic, key) hash bucket, by creation
    key_segment: np.ndarray  # hash bucket of each entry of key_order
    key_hash: np.ndarray  # 64-bit (topic, key) hash of each entry of key_order
    log: pl.DataFrame
    log_key: np.ndarray
    log_visible: np.ndarray
    log_pos: np.ndarray
    copies: np.ndarray  # per send: its visible records in the log
    log_extra: pl.DataFrame
    deliveries: pl.DataFrame
    d_group: np.ndarray
    d_key: np.ndarray
    d_pos: np.ndarray
    d_log: np.ndarray
    d_aborted: np.ndarray
    d_log_event_id: np.ndarray
    delivered_any: np.ndarray  # per send: deliveries not aborted, of any group
    groups: list[str | None]
    scope: list[np.ndarray]  # per group: which sends it accounts for
    scope_topics: list[frozenset[str] | None]  # per group: its topics (None: all)
    keys: OffsetKeys


def prepare(
    sends: pl.DataFrame,
    events: pl.DataFrame,
    deliveries: pl.DataFrame,
    *,
    subscriptions: Mapping[str, Sequence[str]] | None = None,
    group: str | None = None,
) -> Prepared:
    """Normalise and cross-reference the frames (see the module docstring)."""
    s = sends_frame(sends).collect()
    log = log_frame(events).collect()
    d = deliveries_frame(deliveries).collect()
    # sends: row of each event id, statuses, keys in creation order
    index = EventIndex(s["event_id"].to_numpy())
    statuses, (status,) = string_codes([s["status"]])
    check_statuses(statuses[: int(status.max(initial=-1)) + 1])
    topics, (s_topic, l_topic, d_topic) = string_codes([s["topic"], log["topic"], d["topic"]])
    order, segment, key_hash = _key_order(s, s_topic)
    # the log: one record per offset, sorted by (topic, partition, offset)
    keys = _offset_keys(len(topics), log, d)
    log_key = keys.encode(l_topic, log["partition"].to_numpy(), log["offset"].to_numpy())
    log, log_key, log_extra = _one_record_per_offset(log, log_key)
    log_eid = log["event_id"].to_numpy()
    log_pos = index.locate(log_eid)
    visible = ~(log["txn_state"] == "aborted").fill_null(value=False).to_numpy()
    copies = np.bincount(log_pos[visible & (log_pos >= 0)], minlength=index.size)
    # deliveries: their event's send row and the log record at their offset
    d_eid = d["event_id"].to_numpy()
    d_key = keys.encode(d_topic, d["partition"].to_numpy(), d["offset"].to_numpy())
    d_log = _find(log_key, d_key, keys.bits)
    d_log_eid = _at(log_eid, d_log, -1)
    d_aborted = _at(~visible, d_log, fill=False) & (d_log_eid == d_eid)
    d_pos = index.locate(d_eid)
    counted = (d_pos >= 0) & ~d_aborted
    delivered_any = np.bincount(d_pos[counted], minlength=index.size)
    # the groups accounted for
    group_names, (d_group,) = string_codes([d["group"]])
    seen = group_names[: int(d_group.max(initial=-1)) + 1]
    groups, scope, scope_topics = _scope(topics, s_topic, seen, subscriptions, group)
    where = {g: i for i, g in enumerate(groups)}
    d_group = np.array([where.get(g, -1) for g in group_names], dtype=np.int64)[d_group]
    keep = d_group >= 0
    return Prepared(
        sends=s,
        n=index.size,
        acked=status == statuses.index("acked") if "acked" in statuses else status < 0,
        key_order=order,
        key_segment=segment,
        key_hash=key_hash,
        log=log,
        log_key=log_key,
        log_visible=visible,
        log_pos=log_pos,
        copies=copies,
        log_extra=log_extra,
        deliveries=d.filter(pl.Series(keep)),
        d_group=d_group[keep],
        d_key=d_key[keep],
        d_pos=d_pos[keep],
        d_log=d_log[keep],
        d_aborted=d_aborted[keep],
        d_log_event_id=d_log_eid[keep],
        delivered_any=delivered_any,
        groups=groups,
        scope=scope,
        scope_topics=scope_topics,
        keys=keys,
    )


def _offset_keys(n_topics: int, log: pl.DataFrame, d: pl.DataFrame) -> OffsetKeys:
    both = pl.concat([log.select("partition", "offset"), d.select("partition", "offset")])
    lo_p, hi_p, lo_o, hi_o = both.select(
        pl.col("partition").min().alias("lo_p"),
        pl.col("partition").max().alias("hi_p"),
        pl.col("offset").min().alias("lo_o"),
        pl.col("offset").max().alias("hi_o"),
    ).row(0)
    for name, low in (("partition", lo_p), ("offset", lo_o)):
        if low is not None and low < 0:
            msg = f"{name} must be >= 0 in the events and deliveries frames; got {low}"
            raise DataFormatError(msg)
        if both[name].null_count():
            msg = f"{name} must not be null in the events and deliveries frames"
            raise DataFormatError(msg)
    return OffsetKeys(n_topics, hi_p or 0, hi_o or 0)


def _one_record_per_offset(
    log: pl.DataFrame, key: np.ndarray
) -> tuple[pl.DataFrame, np.ndarray, pl.DataFrame]:
    """The log sorted by key with the first record of each offset; the others, apart."""
    if key.size and not bool((key[1:] > key[:-1]).all()):
        order = np.argsort(key, kind="stable")
        log, key = log[order], key[order]
    repeat = np.zeros(key.size, dtype=bool)
    repeat[1:] = key[1:] == key[:-1]
    if not repeat.any():
        return log, key, log.clear().with_columns(first_id=pl.lit(None, pl.Int64))
    first = np.maximum.accumulate(np.where(repeat, 0, np.arange(key.size)))
    extra = log.filter(pl.Series(repeat)).with_columns(
        first_id=pl.Series(log["event_id"].to_numpy()[first[repeat]])
    )
    keep = pl.Series(~repeat)
    return log.filter(keep), key[~repeat], extra.filter(pl.col("event_id") != pl.col("first_id"))


def _at(values: np.ndarray, rows: np.ndarray, fill: object) -> np.ndarray:
    """``values[rows]``, with ``fill`` where a row is -1."""
    out = np.full(rows.size, fill, dtype=values.dtype)
    hit = rows >= 0
    out[hit] = values[rows[hit]]
    return out


def _find(sorted_keys: np.ndarray, keys: np.ndarray, bits: int) -> np.ndarray:
    """Row of each key in ``sorted_keys``, -1 if absent.

    A partition whose offsets are contiguous (the usual log) is a direct table lookup; the
    others are searched.
    """
    out = np.full(keys.size, -1, dtype=np.int64)
    if not sorted_keys.size or not keys.size:
        return out
    tp = sorted_keys >> bits
    start = np.flatnonzero(np.r_[True, tp[1:] != tp[:-1]])
    end = np.r_[start[1:], tp.size]
    part = _partition_index(tp[start], keys >> bits)  # -1: partition absent from the log
    known = part >= 0
    first_row, count = start[part], end[part] - start[part]
    rel = keys - sorted_keys[first_row]
    contiguous = (sorted_keys[end - 1] - sorted_keys[start] + 1 == end - start)[part]
    direct = known & contiguous
    hit = direct & (rel >= 0) & (rel < count)
    out[hit] = first_row[hit] + rel[hit]
    search = known & ~contiguous
    if search.any():
        at = np.searchsorted(sorted_keys, keys[search]).clip(max=sorted_keys.size - 1)
        out[search] = np.where(sorted_keys[at] == keys[search], at, -1)
    return out


def _partition_index(present: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index in the sorted codes ``present`` of each code in ``wanted``, -1 if absent."""
    if present[-1] < _DIRECT_CODES:
        table = np.full(int(present[-1]) + 2, -1, dtype=np.int64)  # last slot: absent
        table[present] = np.arange(present.size)
        return table[np.minimum(wanted, table.size - 1)]
    at = np.searchsorted(present, wanted).clip(max=present.size - 1)
    return np.where(present[at] == wanted, at, -1)


def _scope(
    topics: list[str | None],
    s_topic: np.ndarray,
    delivered_groups: list[str | None],
    subscriptions: Mapping[str, Sequence[str]] | None,
    group: str | None,
) -> tuple[list[str | None], list[np.ndarray], list[frozenset[str] | None]]:
    """The groups to account for and, per group, which sends and topics it accounts for."""
    subs = dict(subscriptions or {})
    known = sorted(set(subs) | {g for g in delivered_groups if g is not None})
    if group is not None:
        if known and group not in known:
            msg = f"group must be one of {', '.join(known)}; got {group!r}{closest(group, known)}"
            raise ConfigError(msg)
        groups: list[str | None] = [group]
    else:
        groups = list(known) or [None]
    code = {t: i for i, t in enumerate(topics)}
    scope, scope_topics = [], []
    for g in groups:
        wanted = subs.get(g, ()) if g is not None else ()
        if wanted:
            scope.append(np.isin(s_topic, [code[t] for t in wanted if t in code]))
            scope_topics.append(frozenset(wanted))
        else:
            scope.append(np.ones(s_topic.size, dtype=bool))
            scope_topics.append(None)
    return groups, scope, scope_topics


def _key_order(s: pl.DataFrame, topic: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sends with a key, in 65,536 buckets by a hash of (topic, key), each in creation order.

    A bucket merges several keys; merging can only add candidates to the exact reordering
    check, never hide one (a non-decreasing merged sequence has non-decreasing parts), so the
    hash (whatever polars version computes it) never changes a result. Buckets sort by radix.
    Returns the rows, their buckets and their 64-bit hashes.
    """
    keyed = s["key"].is_not_null().to_numpy()
    rows = np.flatnonzero(keyed)
    mix = topic[rows].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h = s["key"].hash().to_numpy()[rows] ^ mix
    bucket = (h >> np.uint64(48)).astype(np.uint16)
    created = s["created_s"].to_numpy()[rows]
    eid = s["event_id"].to_numpy()[rows]
    later = (created[1:] > created[:-1]) | ((created[1:] == created[:-1]) & (eid[1:] > eid[:-1]))
    if bool(later.all()):
        order = np.argsort(bucket, kind="stable")
    else:
        frame = pl.DataFrame({"b": bucket, "c": created, "e": eid})
        order = frame.select(pl.arg_sort_by("b", "c", "e", nulls_last=True)).to_series().to_numpy()
    return rows[order], bucket[order].astype(np.int64), h[order]
