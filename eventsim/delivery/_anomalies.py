"""Finders of the delivery checker's named anomalies, each returning rows of ANOMALY_SCHEMA.

The definitions are in :data:`eventsim.delivery.checker.ANOMALIES`. Finders pick the offending
rows with array masks over a :class:`~eventsim.delivery._prepare.Prepared` run, then build
their (usually small) frames and evidence text with polars.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from eventsim.delivery._frames import ANOMALY_SCHEMA
from eventsim.delivery._index import string_codes
from eventsim.delivery._outcomes import Outcomes
from eventsim.delivery._prepare import Prepared

__all__ = [
    "aborted_reads",
    "business",
    "inconsistent_offsets",
    "log_duplicates",
    "lost_writes",
    "poll_gaps",
    "unseen",
]


def _s(col: str | pl.Expr) -> pl.Expr:
    """A column as evidence text (null → '?')."""
    e = pl.col(col) if isinstance(col, str) else col
    return e.cast(pl.String).fill_null("?")


def _t(col: str) -> pl.Expr:
    """A time in seconds as evidence text, to the millisecond."""
    return _s(pl.col(col).round(3))


def _where() -> pl.Expr:
    return pl.format("{}/{}@{}", _s("topic"), _s("partition"), _s("offset"))


def _who() -> pl.Expr:
    return pl.format("{}/{} gen {}", _s("group"), _s("member"), _s("generation"))


def _group_text() -> pl.Expr:
    return pl.when(pl.col("group").is_null()).then(pl.lit("any group")).otherwise(pl.col("group"))


def _rows(frame: pl.DataFrame, name: str, evidence: pl.Expr, **cols: pl.Expr) -> pl.DataFrame:
    """Rows of ANOMALY_SCHEMA from ``frame``; missing columns come from ``cols`` or are null."""
    exprs = {c: pl.col(c) for c in ("event_id", "topic", "partition", "offset", "group")}
    exprs.update(cols)
    exprs["anomaly"] = pl.lit(name)
    exprs["evidence"] = evidence
    # rechunk: polars 2.1's pl.format panics on string columns of several chunks (filters)
    return frame.rechunk().select(exprs[c].cast(t).alias(c) for c, t in ANOMALY_SCHEMA.items())


# -- business level ----------------------------------------------------------------------------
def business(prep: Prepared, out: Outcomes, late_after_s: float | None) -> list[pl.DataFrame]:
    """``lost``, ``duplicated``, ``reordered`` and ``late`` rows of one group (offset null)."""
    base = prep.sends.select("event_id", "topic", "partition", "key", "status", "attempts")
    per_event = {
        "n_delivered": out.n_delivered,
        "n_applied": out.n_applied,
        "first_applied_s": out.first_applied_s,
        "first_latency_s": out.first_latency_s,
        "prior_applied_s": out.prior_applied_s,
    }

    def rows_of(mask: np.ndarray) -> pl.DataFrame:
        at = np.flatnonzero(mask)
        extra = {k: pl.Series(k, v[at]) for k, v in per_event.items()}
        extra = {k: v.fill_nan(None) if v.dtype.is_float() else v for k, v in extra.items()}
        return base[at].with_columns(group=pl.lit(out.group, pl.String), **extra)

    no_offset = {"offset": pl.lit(None, pl.Int64)}
    found = []
    masks = {
        "lost": out.scope & (out.n_applied == 0),
        "duplicated": out.n_applied > 1,
        "reordered": out.reordered,
        "late": out.late,
    }
    evidence = {
        "lost": pl.format(
            "{} send after {} attempt(s); never applied by {} ({} deliveries)",
            _s("status"),
            _s("attempts"),
            _group_text(),
            _s("n_delivered"),
        ),
        "duplicated": pl.format(
            "applied {} times by {} ({} deliveries)",
            _s("n_applied"),
            _group_text(),
            _s("n_delivered"),
        ),
        "reordered": pl.format(
            "key {}: applied by {} at {} s, before an earlier-created event applied at {} s",
            _s("key"),
            _group_text(),
            _t("first_applied_s"),
            _t("prior_applied_s"),
        ),
        "late": pl.format(
            "first applied by {} {} s after creation (limit {} s)",
            _group_text(),
            _t("first_latency_s"),
            pl.lit(str(late_after_s)),
        ),
    }
    for name, mask in masks.items():
        if mask.any():
            found.append(_rows(rows_of(mask), name, evidence[name], **no_offset))
    return found


# -- log level ---------------------------------------------------------------------------------
def lost_writes(prep: Prepared) -> pl.DataFrame:
    """Acked sends with no visible record in the log that no group ever had delivered."""
    lost = prep.acked & (prep.copies == 0) & (prep.delivered_any == 0)
    evidence = pl.format(
        "acked at {} s after {} attempt(s); absent from the log and never delivered",
        _t("acked_s"),
        _s("attempts"),
    )
    frame = prep.sends.filter(pl.Series(lost))
    return _rows(frame, "lost-write", evidence, offset=pl.lit(None), group=pl.lit(None))


def log_duplicates(prep: Prepared) -> pl.DataFrame:
    """Every visible copy of an event beyond its first (by topic, partition, offset)."""
    copies = prep.copies
    visible = prep.log_visible
    pos = prep.log_pos
    dup = visible & (pos >= 0) & (copies[pos.clip(min=0)] > 1)
    orphan = visible & (pos < 0)
    if orphan.any():
        ids = prep.log["event_id"].to_numpy()
        uniq, counts = np.unique(ids[orphan], return_counts=True)
        dup |= orphan & np.isin(ids, uniq[counts > 1])
    if not dup.any():
        return pl.DataFrame(schema=ANOMALY_SCHEMA)
    rows = prep.log.filter(pl.Series(dup)).rechunk()  # see _rows
    places = rows.group_by("event_id", maintain_order=True).agg(
        n_copies=pl.len(), places=_where().str.join(", ")
    )
    extra = rows.filter(pl.int_range(pl.len()).over("event_id") > 0).join(places, on="event_id")
    evidence = pl.format("event at {} offsets: {}", _s("n_copies"), pl.col("places"))
    return _rows(extra, "duplicate", evidence, group=pl.lit(None))


def aborted_reads(prep: Prepared) -> pl.DataFrame:
    """Deliveries of records of aborted transactions (Jepsen's G1a, aborted read)."""
    evidence = pl.format("{} processed a record of an aborted transaction", _who())
    return _rows(prep.deliveries.filter(pl.Series(prep.d_aborted)), "aborted-read", evidence)


def inconsistent_offsets(prep: Prepared) -> pl.DataFrame:
    """Offsets observed holding two different events (see ``ANOMALIES``)."""
    d = prep.deliveries
    d_eid = d["event_id"].to_numpy()
    keys = ["group", "topic", "partition", "offset", "event_id"]
    found = []
    differs = (prep.d_log >= 0) & (prep.d_log_event_id != d_eid)
    if differs.any():
        vs_log = d.filter(pl.Series(differs)).with_columns(
            log_event_id=pl.Series(prep.d_log_event_id[differs])
        )
        evidence = pl.format(
            "the log has event {} there; {} got event {}",
            _s("log_event_id"),
            _who(),
            _s("event_id"),
        )
        vs_log = vs_log.unique(keys, keep="first", maintain_order=True)
        found.append(_rows(vs_log, "inconsistent-offsets", evidence))
    absent = d.filter(pl.Series(prep.d_log < 0))
    if absent.height:
        at = ["topic", "partition", "offset"]
        ref = (
            absent.sort("delivered_s", "row")
            .group_by(at, maintain_order=True)
            .agg(ref_event_id=pl.col("event_id").first(), n=pl.col("event_id").n_unique())
            .filter(pl.col("n") > 1)
        )
        others = (
            absent.join(ref, on=at)
            .filter(pl.col("event_id") != pl.col("ref_event_id"))
            .sort("row")
            .unique(keys, keep="first", maintain_order=True)
        )
        evidence = pl.format(
            "not in the log; first delivered as event {}, yet {} got event {}",
            _s("ref_event_id"),
            _who(),
            _s("event_id"),
        )
        found.append(_rows(others, "inconsistent-offsets", evidence))
    if prep.log_extra.height:
        evidence = pl.format(
            "two log records at one offset; the first holds event {}", _s("first_id")
        )
        found.append(_rows(prep.log_extra, "inconsistent-offsets", evidence, group=pl.lit(None)))
    return pl.concat(found) if found else pl.DataFrame(schema=ANOMALY_SCHEMA)


# -- poll sequences ---------------------------------------------------------------------------
def poll_gaps(prep: Prepared) -> list[pl.DataFrame]:
    """``nonmonotonic-poll`` and ``poll-skip`` rows.

    Deliveries are taken in poll order (``poll``, then row order) within one group, member,
    generation and partition; each is compared with the one before it.
    """
    d = prep.deliveries
    if d.height < 2:
        return []
    seg = _segments(prep)
    order = _sequence_order(seg, d["poll"].fill_null(0).to_numpy())
    offset = d["offset"].to_numpy()[order]
    seg = seg[order]
    same = seg[1:] == seg[:-1]
    cur, prev = offset[1:], offset[:-1]
    found = []
    back = same & (cur <= prev)
    if back.any():
        rows = d[order[1:][back]].with_columns(prev=pl.Series(prev[back]))
        evidence = pl.format("{}: offset {} after offset {}", _who(), _s("offset"), _s("prev"))
        found.append(_rows(rows, "nonmonotonic-poll", evidence))
    jump = same & (cur > prev + 1)
    if jump.any():
        visible = prep.log_key[prep.log_visible]
        keys = prep.d_key[order]
        lo = np.searchsorted(visible, keys[:-1][jump], side="right")
        hi = np.searchsorted(visible, keys[1:][jump], side="left")
        skipped = hi - lo
        hit = skipped > 0
        rows = d[order[1:][jump][hit]].with_columns(
            prev=pl.Series(prev[jump][hit]), skipped=pl.Series(skipped[hit])
        )
        evidence = pl.format(
            "{}: offset {} after offset {}, skipping {} record(s) of the log",
            _who(),
            _s("offset"),
            _s("prev"),
            _s("skipped"),
        )
        found.append(_rows(rows, "poll-skip", evidence))
    return found


def _segments(prep: Prepared) -> np.ndarray:
    """One Int64 per (group, member, generation, topic-partition) of each delivery."""
    d = prep.deliveries
    _, (member,) = string_codes([d["member"]])
    gen = d["generation"].fill_null(0).to_numpy().astype(np.int64)
    gen = gen - gen.min()
    tp = prep.d_key >> prep.keys.bits
    parts = [prep.d_group.astype(np.int64), member, gen, tp]
    sizes = [int(p.max()) + 1 for p in parts]
    if np.prod([float(n) for n in sizes]) >= 2.0**62:  # e.g. huge generation numbers
        return np.unique(np.stack(parts, axis=1), axis=0, return_inverse=True)[1].ravel()
    seg = parts[0]
    for part, size in zip(parts[1:], sizes[1:], strict=True):
        seg = seg * size + part
    return seg


def _sequence_order(seg: np.ndarray, poll: np.ndarray) -> np.ndarray:
    """Deliveries ordered by segment, then poll, then row."""
    small = seg.max(initial=0) < 2**16  # numpy sorts 16-bit keys stably by radix
    order = np.argsort(seg.astype(np.uint16) if small else seg, kind="stable")
    s, p = seg[order], poll[order]
    if bool(((s[1:] != s[:-1]) | (p[1:] >= p[:-1])).all()):
        return order
    return np.lexsort((np.arange(seg.size), poll, seg))


# -- unseen -----------------------------------------------------------------------------------
def unseen(prep: Prepared, outs: list[Outcomes]) -> pl.DataFrame:
    """Visible log events of a group's topics that no delivery to the group ever carried.

    One row per (group, event), at the event's first visible log record (by topic, partition,
    offset).
    """
    copies = prep.copies
    pos = prep.log_pos
    ids = prep.log["event_id"].to_numpy()
    visible = prep.log_visible
    d_eid = prep.deliveries["event_id"].to_numpy()
    found = []
    for i, out in enumerate(outs):
        missing = out.scope & (copies > 0) & (out.n_delivered == 0)
        rows = np.flatnonzero(visible & (pos >= 0) & missing[pos.clip(min=0)])
        _, first = np.unique(pos[rows], return_index=True)
        picked = [rows[first]]
        orphan = np.flatnonzero(visible & (pos < 0))
        if orphan.size:
            got = d_eid[(prep.d_group == i) & (prep.d_pos < 0) & ~prep.d_aborted]
            orphan = orphan[~np.isin(ids[orphan], got)]
            _, first = np.unique(ids[orphan], return_index=True)
            picked.append(orphan[first])
        take = np.sort(np.concatenate(picked))
        frame = prep.log[take].with_columns(group=pl.lit(out.group, pl.String))
        topics = prep.scope_topics[i]
        if topics is not None:
            frame = frame.filter(pl.col("topic").is_in(list(topics)))
        found.append(frame)
    evidence = pl.format("in the log at {}; never delivered to {}", _where(), _group_text())
    return _rows(pl.concat(found), "unseen", evidence)
