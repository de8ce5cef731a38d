"""Incremental feature windows: the same frame as the polars path, updated batch by batch.

A consumer's batch handler feeds every polled batch to :class:`IncrementalFeatures`; windows
come out as soon as the watermark closes them (the policy is in
:mod:`eventsim.anomaly.features`). Work per batch is vectorised: records are binned into
*panes* (one step of event time) with ``numpy.bincount`` on ``(pane, stream)`` ids; a window
is the merge of its panes (sums for counts, a union for distinct keys, a concatenation for
quantiles), done once when it is emitted. Per-key and per-entity state (previous timestamp,
previous position) lives in arrays indexed by the log's string codes, so a batch updates it
with one sort and a few fancy-indexing assignments, never a loop over records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from eventsim.anomaly.feature_spec import (
    ALERTS_TOPIC,
    FeatureSpec,
    _us,
    feature_schema,
    quantile_name,
)

if TYPE_CHECKING:
    from eventsim.log.event_log import EventLog
    from eventsim.log.record import RecordBatch

__all__ = ["IncrementalFeatures"]

_ERR, _OK, _FAIL = 1, 2, 4
_NO_TIME = -(2**62)
_SHIFT = np.int64(32)


class _Pane:
    """Sums and raw values of one step of event time, per stream."""

    __slots__ = (
        "ent",
        "ent_n",
        "errors",
        "events",
        "failure",
        "keys",
        "lat_s",
        "lat_v",
        "late",
        "sealed",
        "speed",
        "success",
    )

    def __init__(self, size: int) -> None:
        self.events = np.zeros(size, np.int64)
        self.errors = np.zeros(size, np.int64)
        self.success = np.zeros(size, np.int64)
        self.failure = np.zeros(size, np.int64)
        self.late = np.zeros(size, np.int64)
        self.speed = np.full(size, -1.0)
        self.lat_s: list[np.ndarray] = []
        self.lat_v: list[np.ndarray] = []
        self.keys: list[np.ndarray] = []
        self.ent: list[np.ndarray] = []
        self.ent_n: list[np.ndarray] = []
        self.sealed = False

    def grow(self, size: int) -> None:
        for name in ("events", "errors", "success", "failure", "late"):
            old = getattr(self, name)
            new = np.zeros(size, np.int64)
            new[: old.shape[0]] = old
            setattr(self, name, new)
        speed = np.full(size, -1.0)
        speed[: self.speed.shape[0]] = self.speed
        self.speed = speed

    def seal(self) -> None:
        """Compact the raw values once no record can join the pane any more."""
        if self.sealed:
            return
        self.lat_s, self.lat_v = [_cat(self.lat_s, np.int64)], [_cat(self.lat_v, np.float64)]
        self.keys = [np.unique(_cat(self.keys, np.int64))]
        ent, counts = np.unique(_cat(self.ent, np.int64), return_counts=True)
        self.ent, self.ent_n = [ent], [counts.astype(np.int64)]
        self.sealed = True


def _cat(parts: Sequence[np.ndarray], dtype: type) -> np.ndarray:
    if not parts:
        return np.empty(0, dtype)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _grow(arr: np.ndarray, size: int, fill: float) -> np.ndarray:
    if arr.shape[0] >= size:
        return arr
    new = np.full(max(size, 2 * arr.shape[0]), fill, dtype=arr.dtype)
    new[: arr.shape[0]] = arr
    return new


class IncrementalFeatures:
    """Feature windows updated batch by batch as a consumer polls (vectorised per batch).

    Use it as a batch handler (``sim.handlers[group].append(features)``) of a consumer group
    with one member, or call :meth:`update` with polled batches; :meth:`tick` lets the clock
    close windows while nothing arrives; :meth:`flush` emits the windows still open at the
    end. :meth:`frame` then equals :func:`~eventsim.anomaly.window_features` over the run's
    events and deliveries (with ``until_s`` the time of the last tick).

    Parameters
    ----------
    spec
        What to compute.
    log
        The event log the batches come from (its string dictionary decodes codes).

    Examples
    --------
    >>> from eventsim.log import ConsumerGroup, EventLog
    >>> log = EventLog(partitions=1)
    >>> for t in [1.0, 2.0, 70.0, 130.0]:
    ...     _ = log.append("orders", key="k", value={"v": t}, timestamp_s=t)
    >>> group = ConsumerGroup(log, "features", ["orders"])
    >>> group.join("m")
    >>> feats = IncrementalFeatures(FeatureSpec(allowed_lateness_s=0, max_delay_s=None), log)
    >>> emitted = feats.update([(b, None) for b in group.poll("m", 100)])
    >>> emitted.select("window_start_s", "events").rows()
    [(0.0, 2), (60.0, 1)]
    >>> feats.flush().select("window_start_s", "events").rows()
    [(120.0, 1)]
    """

    def __init__(self, spec: FeatureSpec, log: EventLog) -> None:
        self.spec = spec
        self.log = log
        self.schema = feature_schema(spec)
        self._step = _us(spec.slide_s)
        self._window = _us(spec.window_s)
        self._lateness = _us(spec.allowed_lateness_s)
        self._delay = None if spec.max_delay_s is None else _us(spec.max_delay_s)
        self._m_panes = spec.panes
        self._seen: dict[tuple[str, int], int] = {}
        self._m = _NO_TIME
        self._names: list[str] = []
        self._ids: dict[str, int] = {}
        self._tables: dict[tuple[str, str], np.ndarray] = {}
        self._first = np.zeros(0, np.int64)
        self._last_k: int | None = None
        self._next_k: int | None = None
        self._panes: dict[int, _Pane] = {}
        self._flags = np.zeros(0, np.uint8)
        self._key_t = np.zeros(0)
        self._ent_t = np.zeros(0)
        self._ent_x = np.zeros(0)
        self._ent_y = np.zeros(0)
        self._out: list[pl.DataFrame] = []
        self.records = 0

    # -- the handler interface -------------------------------------------------------------
    def __call__(
        self, member: str, batches: list[tuple[RecordBatch, np.ndarray | None]], now_s: float
    ) -> None:
        """Batch-handler signature of :class:`~eventsim.sim.Simulation`."""
        self.update(batches, now_s)

    def update(
        self, batches: list[tuple[RecordBatch, np.ndarray | None]], now_s: float | None = None
    ) -> pl.DataFrame | None:
        """Add one poll's records (in order), polled at ``now_s``; return the windows the
        watermark closed, if any.

        Without ``now_s`` the watermark is event time only (``max_delay_s`` unused).
        """
        now = self._now(now_s)
        cols = self._gather(batches)
        if cols is not None:
            self._add(cols, now)
        return self.tick(now_s)

    def tick(self, now_s: float | None) -> pl.DataFrame | None:
        """Let the consumer's clock advance the watermark; return the windows it closed."""
        now = self._now(now_s)
        if now is not None and self._names:
            self._bump_last((now - self._delay) // self._step - self._m_panes)  # type: ignore[operator]
        return self._emit(self._watermark(now))

    def flush(self) -> pl.DataFrame | None:
        """Emit every window still open (the end of the run)."""
        if self._last_k is None:
            return None
        return self._emit(None)

    def _now(self, now_s: float | None) -> int | None:
        if now_s is None or self._delay is None:
            return None
        return int(np.floor(now_s * 1_000_000.0))

    def _watermark(self, now: int | None) -> int:
        w = self._m - self._lateness
        return w if now is None else max(w, now - self._delay)  # type: ignore[operator]

    def frame(self) -> pl.DataFrame:
        """Every window emitted so far (the feature frame)."""
        if not self._out:
            return pl.DataFrame(schema=self.schema)
        return pl.concat(self._out)

    # -- gathering a poll -------------------------------------------------------------------
    def _wanted(self, topic: str) -> bool:
        topics = self.spec.topics
        return topic != ALERTS_TOPIC if topics is None else topic in topics

    def _gather(
        self, batches: list[tuple[RecordBatch, np.ndarray | None]]
    ) -> dict[str, np.ndarray] | None:
        spec = self.spec
        names = ["timestamp_s", "key", "event_type"]
        payload = [c for c in (spec.by_column, spec.entity) if c not in (None, "key")]
        if spec.latency not in (None, "key_gap"):
            payload.append(spec.latency)  # type: ignore[arg-type]
        payload += list(spec.position or ())
        payload = [c for c in dict.fromkeys(payload) if c not in names]
        parts: dict[str, list[np.ndarray]] = {n: [] for n in [*names, "_sid"]}
        for name in payload:
            parts[name] = []
            parts[f"{name}.valid"] = []
        for batch, mask in batches:
            if not len(batch) or not self._wanted(batch.topic):
                continue
            rows = self._fresh(batch, mask)
            if rows is not None and not (isinstance(rows, slice) or rows.shape[0]):
                continue
            src, lo, hi = batch.source, batch.lo, batch.hi
            for name in names:
                parts[name].append(src.data[name][lo:hi][rows])
            for name in payload:
                col = src.data.get(name)
                n = parts["timestamp_s"][-1].shape[0]
                if col is None:
                    parts[name].append(np.zeros(n))
                    parts[f"{name}.valid"].append(np.zeros(n, bool))
                    continue
                parts[name].append(col[lo:hi][rows])
                valid = src.valid.get(name)
                ok = np.ones(n, bool) if valid is None else valid[lo:hi][rows]
                parts[f"{name}.valid"].append(ok)
            parts["_sid"].append(self._stream_ids(batch, parts))
        if not parts["timestamp_s"]:
            return None
        return {k: _cat(v, v[0].dtype.type) for k, v in parts.items()}

    def _fresh(self, batch: RecordBatch, mask: np.ndarray | None) -> slice | np.ndarray | None:
        """Rows of a batch not seen before (first delivery only), as a slice or indices."""
        tp = (batch.topic, batch.partition)
        offsets = batch.offsets
        last = self._seen.get(tp, -1)
        self._seen[tp] = max(last, int(offsets[-1]))
        start = 0 if offsets[0] > last else int(np.searchsorted(offsets, last, side="right"))
        if mask is None:
            return slice(start, None)
        return np.flatnonzero(mask[start:]) + start

    def _stream_ids(self, batch: RecordBatch, parts: dict[str, list[np.ndarray]]) -> np.ndarray:
        """Stream id of each gathered row of ``batch`` (-1: no stream)."""
        by = self.spec.by
        n = parts["timestamp_s"][-1].shape[0]
        fixed = {"topic": batch.topic, "partition": str(batch.partition)}
        col = self.spec.by_column
        if col is None:
            return np.full(n, self._stream("/".join(fixed[c] for c in by)), np.int64)
        i = by.index(col)
        prefix = "".join(f"{fixed[c]}/" for c in by[:i])
        suffix = "".join(f"/{fixed[c]}" for c in by[i + 1 :])
        codes = parts[col][-1].astype(np.int64)
        ok = codes >= 0
        if f"{col}.valid" in parts:
            ok &= parts[f"{col}.valid"][-1]
        table = self._tables.get((prefix, suffix), np.full(0, -1, np.int64))
        table = _grow(table, len(self.log.strings), -1)
        self._tables[(prefix, suffix)] = table
        codes = np.where(ok, codes, 0)
        sid = np.where(ok, table[codes], -1)
        new = np.unique(codes[ok & (sid < 0)])
        if new.shape[0]:
            values = self.log.strings.decode(new.astype(np.int32)).to_list()
            table[new] = [self._stream(f"{prefix}{v}{suffix}") for v in values]
            sid = np.where(ok, table[codes], -1)
        return sid

    def _stream(self, name: str) -> int:
        sid = self._ids.get(name)
        if sid is None:
            sid = self._ids[name] = len(self._names)
            self._names.append(name)
            self._first = _grow(self._first, sid + 1, np.iinfo(np.int64).max)
            for pane in self._panes.values():
                if pane.events.shape[0] <= sid:
                    pane.grow(self._first.shape[0])
        return sid

    # -- per-record metrics -------------------------------------------------------------------
    def _type_flags(self, codes: np.ndarray) -> np.ndarray:
        n = len(self.log.strings)
        old = self._flags.shape[0]
        if n == 0:
            return np.zeros(codes.shape[0], np.uint8)
        if n > old:
            names = self.log.strings.decode(np.arange(old, n, dtype=np.int32))
            spec = self.spec
            flags = (
                names.is_in(list(spec.error_types)).fill_null(value=False).to_numpy() * _ERR
                + names.is_in(list(spec.success_types)).fill_null(value=False).to_numpy() * _OK
                + names.is_in(list(spec.failure_types)).fill_null(value=False).to_numpy() * _FAIL
            )
            self._flags = np.concatenate([self._flags, flags.astype(np.uint8)])
        return np.where(codes >= 0, self._flags[np.maximum(codes, 0)], 0)

    def _key_gaps(self, ts: np.ndarray, keys: np.ndarray, use: np.ndarray) -> np.ndarray:
        """Seconds since each record's key was last seen (NaN where unknown or <= 0)."""
        out = np.full(ts.shape[0], np.nan)
        idx = np.flatnonzero(use & (keys >= 0))
        if not idx.shape[0]:
            return out
        self._key_t = _grow(self._key_t, len(self.log.strings), np.nan)
        order = np.argsort(keys[idx], kind="stable")
        k, t = keys[idx][order], ts[idx][order]
        head = np.empty(k.shape[0], bool)
        head[0] = True
        np.not_equal(k[1:], k[:-1], out=head[1:])
        prev = np.empty_like(t)
        prev[1:] = t[:-1]
        prev[head] = self._key_t[k[head]]
        tail = np.append(head[1:], True)
        self._key_t[k[tail]] = t[tail]
        gap = t - prev
        out[idx[order]] = np.where(gap > 0, gap, np.nan)
        return out

    def _speeds(
        self, ts: np.ndarray, ent: np.ndarray, x: np.ndarray, y: np.ndarray, use: np.ndarray
    ) -> np.ndarray:
        """Implied speed from each entity's previous position (NaN where undefined)."""
        out = np.full(ts.shape[0], np.nan)
        idx = np.flatnonzero(use)
        if not idx.shape[0]:
            return out
        size = len(self.log.strings)
        self._ent_t = _grow(self._ent_t, size, np.nan)
        self._ent_x = _grow(self._ent_x, size, np.nan)
        self._ent_y = _grow(self._ent_y, size, np.nan)
        order = np.argsort(ent[idx], kind="stable")
        e, t, px, py = ent[idx][order], ts[idx][order], x[idx][order], y[idx][order]
        head = np.empty(e.shape[0], bool)
        head[0] = True
        np.not_equal(e[1:], e[:-1], out=head[1:])
        prev = [np.empty_like(t), np.empty_like(t), np.empty_like(t)]
        for arr, cur, state in zip(prev, (t, px, py), (self._ent_t, self._ent_x, self._ent_y)):
            arr[1:] = cur[:-1]
            arr[head] = state[e[head]]
        tail = np.append(head[1:], True)
        for cur, state in zip((t, px, py), (self._ent_t, self._ent_x, self._ent_y)):
            state[e[tail]] = cur[tail]
        dt = t - prev[0]
        dx, dy = px - prev[1], py - prev[2]
        with np.errstate(invalid="ignore", divide="ignore"):
            speed = np.sqrt(dx * dx + dy * dy) / dt
        out[idx[order]] = np.where(dt > 0, speed, np.nan)
        return out

    # -- adding a poll to the panes ---------------------------------------------------------
    def _add(self, c: dict[str, np.ndarray], now: int | None) -> None:
        spec = self.spec
        ts = c["timestamp_s"].astype(np.float64, copy=False)
        t = np.floor(ts * 1_000_000.0).astype(np.int64)
        self.records += t.shape[0]
        run = np.maximum.accumulate(np.concatenate([[self._m], t]))
        watermark, self._m = run[:-1] - self._lateness, int(run[-1])
        if now is not None:
            watermark = np.maximum(watermark, now - self._delay)  # type: ignore[operator]
        late = t < watermark
        sid = c["_sid"]
        if late.any():
            hit = late & (sid >= 0)
            self._add_late(np.maximum(watermark[hit] // self._step, 0), sid[hit])
        on = ~late
        lat = None
        if spec.latency == "key_gap":
            lat = self._key_gaps(ts, c["key"].astype(np.int64), on)
        elif spec.latency is not None:
            v = c[spec.latency].astype(np.float64)
            lat = np.where(c[f"{spec.latency}.valid"] & np.isfinite(v), v, np.nan)
        ent = None
        if spec.entity is not None:
            ent = c["key"] if spec.entity == "key" else c[spec.entity]
            ent = ent.astype(np.int64)
            if spec.entity != "key":
                ent = np.where(c[f"{spec.entity}.valid"], ent, -1)
        speed = None
        if spec.position is not None and ent is not None:
            (xc, yc) = spec.position
            x, y = c[xc].astype(np.float64), c[yc].astype(np.float64)
            ok = c[f"{xc}.valid"] & c[f"{yc}.valid"] & np.isfinite(x) & np.isfinite(y)
            speed = self._speeds(ts, ent, x, y, on & ok & (ent >= 0))
        keep = on & (sid >= 0)
        if not keep.any():
            return
        sel = np.flatnonzero(keep)
        pane = t[sel] // self._step
        s = sid[sel]
        first = np.maximum(pane - (self._m_panes - 1), 0)
        np.minimum.at(self._first, s, first)
        self._bump_last(int(pane.max()))
        flags = self._type_flags(c["event_type"][sel].astype(np.int64))
        keys = c["key"][sel].astype(np.int64)
        self._bin(
            pane,
            s,
            flags,
            keys,
            None if lat is None else lat[sel],
            None if ent is None else ent[sel],
            None if speed is None else speed[sel],
        )

    def _bump_last(self, k: int) -> None:
        if k >= 0:
            self._last_k = k if self._last_k is None else max(self._last_k, k)

    def _pane(self, k: int) -> _Pane:
        pane = self._panes.get(k)
        if pane is None:
            pane = self._panes[k] = _Pane(max(self._first.shape[0], 1))
        return pane

    def _add_late(self, k: np.ndarray, s: np.ndarray) -> None:
        if not k.shape[0]:
            return
        np.minimum.at(self._first, s, k)
        self._bump_last(int(k.max()))
        for kk in np.unique(k).tolist():
            pane = self._pane(kk)
            pane.late += np.bincount(s[k == kk], minlength=pane.late.shape[0])

    def _bin(
        self,
        pane: np.ndarray,
        s: np.ndarray,
        flags: np.ndarray,
        keys: np.ndarray,
        lat: np.ndarray | None,
        ent: np.ndarray | None,
        speed: np.ndarray | None,
    ) -> None:
        """Add on-time records to their panes: bincounts on (pane, stream) ids."""
        lo = int(pane.min())
        n_panes = int(pane.max()) - lo + 1
        size = self._first.shape[0]
        flat = (pane - lo) * size + s
        total = n_panes * size

        def counts(where: np.ndarray | None = None) -> np.ndarray:
            ids = flat if where is None else flat[where]
            return np.bincount(ids, minlength=total).reshape(n_panes, size)

        events = counts()
        errors = counts((flags & _ERR) != 0)
        success = counts((flags & _OK) != 0)
        failure = counts((flags & _FAIL) != 0)
        top = None
        if speed is not None:
            ok = np.isfinite(speed)
            top = np.full(total, -1.0)
            np.maximum.at(top, flat[ok], speed[ok])
            top = top.reshape(n_panes, size)
        key_combo = (s << _SHIFT) | keys
        has_key = keys >= 0
        lat_ok = None if lat is None else np.isfinite(lat)
        ent_combo = None if ent is None else (s << _SHIFT) | ent
        split = _splitter(pane, lo, n_panes)
        for j in range(n_panes):
            p = self._pane(lo + j)
            if p.events.shape[0] < size:
                p.grow(size)
            p.events[:size] += events[j]
            p.errors[:size] += errors[j]
            p.success[:size] += success[j]
            p.failure[:size] += failure[j]
            if top is not None:
                np.maximum(p.speed[:size], top[j], out=p.speed[:size])
            rows = split(j)
            sub = has_key[rows]
            p.keys.append(key_combo[rows][sub])
            if lat is not None and lat_ok is not None:
                good = lat_ok[rows]
                p.lat_s.append(s[rows][good])
                p.lat_v.append(lat[rows][good])
            if ent_combo is not None and ent is not None:
                p.ent.append(ent_combo[rows][ent[rows] >= 0])

    # -- emitting windows -------------------------------------------------------------------
    def _emit(self, watermark: int | None) -> pl.DataFrame | None:
        if self._last_k is None or not self._names:
            return None
        if not self._out:  # nothing emitted yet: a new stream may still start earlier
            self._next_k = int(self._first[: len(self._names)].min())
        assert self._next_k is not None
        out = []
        while self._next_k <= self._last_k and (
            watermark is None or self._next_k * self._step + self._window <= watermark
        ):
            out.append(self._window_rows(self._next_k))
            self._panes.pop(self._next_k, None)
            self._next_k += 1
        if not out:
            return None
        frame = pl.concat(out)
        self._out.append(frame)
        return frame

    def _window_rows(self, k: int) -> pl.DataFrame:
        spec = self.spec
        size = len(self._names)
        panes = [self._panes.get(j) for j in range(k, k + self._m_panes)]
        present = [p for p in panes if p is not None]
        for p in present:
            p.seal()

        def total(name: str) -> np.ndarray:
            acc = np.zeros(size, np.int64)
            for p in present:
                arr = getattr(p, name)
                acc[: min(size, arr.shape[0])] += arr[:size]
            return acc

        events, errors = total("events"), total("errors")
        success, failure = total("success"), total("failure")
        head = panes[0]
        late = np.zeros(size, np.int64)
        if head is not None:
            late[: min(size, head.late.shape[0])] = head.late[:size]
        rows = np.flatnonzero(self._first[:size] <= k)
        order = sorted(rows.tolist(), key=self._names.__getitem__)
        sel = np.asarray(order, dtype=np.int64)
        n = events[sel]
        cols: dict[str, object] = {
            "window_start_s": np.full(sel.shape[0], np.float64(k * self._step) / 1_000_000.0),
            "window_end_s": np.full(
                sel.shape[0], np.float64(k * self._step + self._window) / 1_000_000.0
            ),
            "stream": [self._names[i] for i in order],
            "events": n,
            "late_records": late[sel],
            "event_rate_per_s": n.astype(np.float64) / spec.window_s,
        }
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["error_ratio"] = np.where(n > 0, errors[sel] / n.astype(np.float64), 0.0)
            done = success[sel] + failure[sel]
            cols["completion_ratio"] = np.where(
                done > 0, success[sel] / done.astype(np.float64), 1.0
            )
            cols["terminal_events"] = done
        keys = np.unique(_cat([a for p in present for a in p.keys], np.int64))
        cols["distinct_keys"] = np.bincount(keys >> _SHIFT, minlength=size)[sel]
        if spec.latency is not None:
            quant, samples = self._quantiles(present, size)
            for q, values in zip(spec.quantiles, quant, strict=True):
                cols[quantile_name(q)] = values[sel]
            cols["latency_samples"] = samples[sel]
        if spec.entity is not None:
            cols["top_entity_rate_per_s"] = self._top(present, size)[sel] / spec.window_s
        if spec.position is not None:
            speed = np.full(size, -1.0)
            for p in present:
                m = min(size, p.speed.shape[0])
                np.maximum(speed[:m], p.speed[:m], out=speed[:m])
            cols["max_speed_mps"] = np.where(speed[sel] < 0, 0.0, speed[sel])
        return pl.DataFrame({k: cols[k] for k in self.schema}, schema=self.schema)

    def _quantiles(self, panes: list[_Pane], size: int) -> tuple[list[np.ndarray], np.ndarray]:
        """Lower quantiles per stream (one partition per stream, no full sort), and the
        number of latency values per stream."""
        s = _cat([a for p in panes for a in p.lat_s], np.int64)
        v = _cat([a for p in panes for a in p.lat_v], np.float64)
        out = [np.zeros(size) for _ in self.spec.quantiles]
        if not s.shape[0]:
            return out, np.zeros(size, np.int64)
        order = np.argsort(s, kind="stable")
        n = np.bincount(s, minlength=size)
        bounds = np.concatenate([[0], np.cumsum(n)])
        for sid in np.flatnonzero(n).tolist():
            seg = v[order[bounds[sid] : bounds[sid + 1]]]
            ks = [int(np.floor(float(n[sid] - 1) * q)) for q in self.spec.quantiles]
            part = np.partition(seg, sorted(set(ks)))
            for vals, k in zip(out, ks, strict=True):
                vals[sid] = part[k]
        return out, n[:size].astype(np.int64)

    def _top(self, panes: list[_Pane], size: int) -> np.ndarray:
        ent = _cat([a for p in panes for a in p.ent], np.int64)
        cnt = _cat([a for p in panes for a in p.ent_n], np.int64)
        top = np.zeros(size, np.int64)
        if ent.shape[0]:
            uniq, inv = np.unique(ent, return_inverse=True)
            totals = np.bincount(inv, weights=cnt, minlength=uniq.shape[0]).astype(np.int64)
            np.maximum.at(top, uniq >> _SHIFT, totals)
        return top.astype(np.float64)


def _splitter(pane: np.ndarray, lo: int, n_panes: int):  # type: ignore[no-untyped-def]
    """``split(j)``: the rows (slice or indices) of pane ``lo + j``."""
    if n_panes == 1:
        return lambda j: slice(None)
    order = np.argsort(pane, kind="stable")
    bounds = np.searchsorted(pane[order], np.arange(lo, lo + n_panes + 1))
    return lambda j: order[bounds[j] : bounds[j + 1]]
