"""Properties of the delivery checker on random histories: it agrees with a brute-force
recount written from the definitions, and with the independent Parquet recount."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import polars as pl
from hypothesis import example, given
from hypothesis import strategies as st

from eventsim.delivery.checker import check, classify_events, recount_from_parquet

LATE_S = 1.0
ACKED_OR_NOT = ["acked", "acked", "failed", "unacked"]


# -- random histories --------------------------------------------------------------------------
@st.composite
def histories(draw: st.DrawFn, *, collisions: bool = True) -> dict[str, pl.DataFrame]:
    n = draw(st.integers(0, 10))
    big_ids = draw(st.booleans())  # sparse ids take the sorted-search path of the index
    ids = draw(
        st.lists(st.integers(0, 10**12 if big_ids else 30), min_size=n, max_size=n, unique=True)
    )
    col = lambda values: draw(st.lists(st.sampled_from(values), min_size=n, max_size=n))  # noqa: E731
    sends = pl.DataFrame(
        {
            "event_id": ids,
            "topic": col(["t", "u"]),
            "key": col(["a", "b", None]),
            "partition": col([0, 1]),
            "created_s": col([0.0, 0.5, 1.0]),
            "attempts": col([0, 1, 2]),
            "status": col(ACKED_OR_NOT),
            "acked_s": col([None, 0.25]),
        },
        schema={
            "event_id": pl.Int64,
            "topic": pl.String,
            "key": pl.String,
            "partition": pl.Int32,
            "created_s": pl.Float64,
            "attempts": pl.Int32,
            "status": pl.String,
            "acked_s": pl.Float64,
        },
    )
    # the log: 0-2 copies per event, some transactional, plus records of unknown events
    records = []
    for row in sends.iter_rows(named=True):
        for _ in range(draw(st.sampled_from([0, 1, 1, 2]))):
            txn = draw(st.sampled_from([None, None, "committed", "aborted"]))
            records.append((row["topic"], row["partition"], row["event_id"], txn))
    for orphan in draw(st.lists(st.integers(10**13, 10**13 + 2), max_size=2)):
        records.append(("t", 0, orphan, None))
    records = [records[i] for i in draw(st.permutations(range(len(records))))]
    next_offset: Counter[tuple[str, int]] = Counter()
    log_rows = []
    for topic, part, eid, txn in records:
        next_offset[topic, part] += draw(st.integers(0, 1))  # sparse offsets
        log_rows.append((topic, part, next_offset[topic, part], eid, txn))
        next_offset[topic, part] += 1
    if collisions and log_rows and draw(st.booleans()):
        topic, part, offset, _, _ = draw(st.sampled_from(log_rows))
        log_rows.append((topic, part, offset, draw(st.integers(0, 30)), None))
    events = pl.DataFrame(
        log_rows,
        schema={
            "topic": pl.String,
            "partition": pl.Int32,
            "offset": pl.Int64,
            "event_id": pl.Int64,
            "txn_state": pl.String,
        },
        orient="row",
    )
    # deliveries: each group polls records of the log, repeats and all, plus strays
    created = dict(zip(ids, sends["created_s"], strict=True))
    rows = []
    for group in draw(st.lists(st.sampled_from(["g1", "g2"]), unique=True, max_size=2)):
        t = 0.0
        picks = draw(st.lists(st.integers(0, len(log_rows)), max_size=12)) if log_rows else []
        for poll, pick in enumerate(picks):
            if pick < len(log_rows):
                topic, part, offset, eid, _ = log_rows[pick]
            else:  # a delivery the log cannot account for
                topic, part, offset, eid = "t", 0, 7, draw(st.integers(0, 30))
            t += draw(st.sampled_from([0.0, 0.5, 1.5]))
            rows.append(
                (
                    group,
                    draw(st.sampled_from(["m0", "m1"])),
                    draw(st.integers(1, 2)),
                    poll // 2,
                    topic,
                    part,
                    offset,
                    eid,
                    t,
                    t - created.get(eid, 0.0),
                    draw(st.booleans()),
                )
            )
    deliveries = pl.DataFrame(
        rows,
        schema={
            "group": pl.String,
            "member": pl.String,
            "generation": pl.Int32,
            "poll": pl.Int64,
            "topic": pl.String,
            "partition": pl.Int32,
            "offset": pl.Int64,
            "event_id": pl.Int64,
            "delivered_s": pl.Float64,
            "latency_s": pl.Float64,
            "applied": pl.Boolean,
        },
        orient="row",
    )
    if draw(st.booleans()):
        deliveries = deliveries.sample(fraction=1.0, shuffle=True, seed=draw(st.integers(0, 9)))
    return {"sends": sends, "events": events, "deliveries": deliveries}


# -- brute force, from the definitions ---------------------------------------------------------
def _first_records(events: pl.DataFrame) -> dict[tuple, dict]:
    """The record the log holds at each offset (the first row there)."""
    at: dict[tuple, dict] = {}
    for r in events.iter_rows(named=True):
        at.setdefault((r["topic"], r["partition"], r["offset"]), r)
    return at


def brute_classify(h: dict[str, pl.DataFrame]) -> list[dict]:
    at = _first_records(h["events"])
    sends = h["sends"].sort("event_id").to_dicts()
    dl = h["deliveries"].to_dicts()

    def aborted(d: dict) -> bool:
        rec = at.get((d["topic"], d["partition"], d["offset"]))
        return bool(rec and rec["txn_state"] == "aborted" and rec["event_id"] == d["event_id"])

    groups = sorted({d["group"] for d in dl}) or [None]
    out = []
    for g in groups:
        first: dict[int, float | None] = {}
        rows = []
        for s in sends:
            mine = [
                d
                for d in dl
                if d["group"] == g and d["event_id"] == s["event_id"] and not aborted(d)
            ]
            ok = [d for d in mine if d["applied"]]
            n = len(ok)
            first[s["event_id"]] = min((d["delivered_s"] for d in ok), default=None)
            latency = min((d["latency_s"] for d in ok), default=None)
            rows.append(
                {
                    "event_id": s["event_id"],
                    "group": g,
                    "n_delivered": len(mine),
                    "n_applied": n,
                    "outcome": "lost" if n == 0 else "delivered_once" if n == 1 else "duplicated",
                    "first_applied_s": first[s["event_id"]],
                    "first_latency_s": latency,
                    "late": latency is not None and latency > LATE_S,
                }
            )
        for row, s in zip(rows, sends, strict=True):
            mine = first[s["event_id"]]
            row["reordered"] = (
                s["key"] is not None
                and mine is not None
                and any(
                    (o["topic"], o["key"]) == (s["topic"], s["key"])
                    and (o["created_s"], o["event_id"]) < (s["created_s"], s["event_id"])
                    and first[o["event_id"]] is not None
                    and first[o["event_id"]] > mine
                    for o in sends
                )
            )
        out.extend(rows)
    return out


def brute_anomalies(h: dict[str, pl.DataFrame]) -> Counter[str]:
    events, dl = h["events"], h["deliveries"].with_row_index("row").to_dicts()
    sends = {s["event_id"]: s for s in h["sends"].to_dicts()}
    at = _first_records(events)
    visible = [r for r in at.values() if r["txn_state"] != "aborted"]

    def aborted(d: dict) -> bool:
        rec = at.get((d["topic"], d["partition"], d["offset"]))
        return bool(rec and rec["txn_state"] == "aborted" and rec["event_id"] == d["event_id"])

    counted = [d for d in dl if not aborted(d)]
    found: Counter[str] = Counter()
    for row in brute_classify(h):
        if row["outcome"] != "delivered_once":
            found[row["outcome"]] += 1
        found["reordered"] += row["reordered"]
    copies = Counter(r["event_id"] for r in visible)
    delivered = {d["event_id"] for d in counted}
    found["lost-write"] = sum(
        s["status"] == "acked" and copies[e] == 0 and e not in delivered for e, s in sends.items()
    )
    found["duplicate"] = sum(c - 1 for c in copies.values())
    found["aborted-read"] = len(dl) - len(counted)
    # inconsistent offsets: vs the log, between deliveries where the log has none, in the log
    wrong = set()
    by_offset: dict[tuple, list[dict]] = {}
    for d in dl:
        where = (d["topic"], d["partition"], d["offset"])
        if where in at and at[where]["event_id"] != d["event_id"]:
            wrong.add((d["group"], *where, d["event_id"]))
        if where not in at:
            by_offset.setdefault(where, []).append(d)
    for where, ds in by_offset.items():
        ref = min(ds, key=lambda d: (d["delivered_s"], d["row"]))["event_id"]
        wrong |= {(d["group"], *where, d["event_id"]) for d in ds if d["event_id"] != ref}
    seen_at: dict[tuple, int] = {}
    in_log = 0
    for r in events.iter_rows(named=True):
        where = (r["topic"], r["partition"], r["offset"])
        if where in seen_at:
            in_log += r["event_id"] != seen_at[where]
        else:
            seen_at[where] = r["event_id"]
    found["inconsistent-offsets"] = len(wrong) + in_log
    # poll sequences
    runs: dict[tuple, list[dict]] = {}
    for d in sorted(dl, key=lambda d: (d["poll"], d["row"])):
        runs.setdefault((d["group"], d["member"], d["generation"], d["topic"], d["partition"]), [])
        runs[d["group"], d["member"], d["generation"], d["topic"], d["partition"]].append(d)
    for (_, _, _, topic, part), ds in runs.items():
        for a, b in itertools.pairwise(ds):
            if b["offset"] <= a["offset"]:
                found["nonmonotonic-poll"] += 1
            elif any(
                (r["topic"], r["partition"]) == (topic, part)
                and a["offset"] < r["offset"] < b["offset"]
                for r in visible
            ):
                found["poll-skip"] += 1
    # unseen: visible events never delivered to a group
    groups = sorted({d["group"] for d in dl}) or [None]
    for g in groups:
        got = {d["event_id"] for d in counted if d["group"] == g}
        found["unseen"] += len({r["event_id"] for r in visible} - got)
    return +found


# -- properties ------------------------------------------------------------------------------
EMPTY = {
    "sends": pl.DataFrame(
        schema={
            "event_id": pl.Int64,
            "topic": pl.String,
            "key": pl.String,
            "partition": pl.Int32,
            "created_s": pl.Float64,
            "attempts": pl.Int32,
            "status": pl.String,
            "acked_s": pl.Float64,
        }
    ),
    "events": pl.DataFrame(
        schema={"topic": pl.String, "partition": pl.Int32, "offset": pl.Int64, "event_id": pl.Int64}
    ),
    "deliveries": pl.DataFrame(
        schema={
            "group": pl.String,
            "member": pl.String,
            "topic": pl.String,
            "partition": pl.Int32,
            "offset": pl.Int64,
            "event_id": pl.Int64,
            "delivered_s": pl.Float64,
            "latency_s": pl.Float64,
        }
    ),
}


@given(histories())
@example(EMPTY)
def test_classify_events_equals_brute_force(h: dict[str, pl.DataFrame]) -> None:
    got = classify_events(h["sends"], h["deliveries"], events=h["events"], late_after_s=LATE_S)
    columns = list(brute_classify(h)[0]) if h["sends"].height else ["event_id"]
    assert got.select(columns).to_dicts() == (brute_classify(h) if h["sends"].height else [])


@given(histories())
@example(EMPTY)
def test_check_anomalies_equal_brute_force(h: dict[str, pl.DataFrame]) -> None:
    r = check(h, late_after_s=LATE_S)
    if not h["sends"].height:
        assert r.valid is None
        return
    want = brute_anomalies(h)
    want["late"] = sum(row["late"] for row in brute_classify(h))
    assert r.counts() == dict(+want)
    assert r.valid is not any(name not in ("reordered", "late") for name in +want)
    assert r.info["anomalies"] == {name: want[name] for name in r.info["anomalies"]}


@given(histories(collisions=False))
def test_check_agrees_with_parquet_recount(tmp_path_factory, h: dict[str, pl.DataFrame]) -> None:
    if not h["sends"].height:
        return
    path: Path = tmp_path_factory.mktemp("run") / "run.parquet"
    h["events"].write_parquet(path)
    h["sends"].write_parquet(path.with_name("run.sends.parquet"))
    h["deliveries"].write_parquet(path.with_name("run.deliveries.parquet"))
    recount = recount_from_parquet(path)
    info = check(h).info
    assert {k: info[k] for k in ("produced", "delivered_once", "lost", "duplicated")} == {
        k: recount[k] for k in ("produced", "delivered_once", "lost", "duplicated")
    }
    assert recount["by_group"] == {
        g: {k: v for k, v in c.items() if k in ("delivered_once", "lost", "duplicated")}
        for g, c in info["by_group"].items()
    }


@given(histories())
def test_hash_collisions_never_change_reordering(h: dict[str, pl.DataFrame]) -> None:
    from eventsim.delivery._outcomes import outcomes
    from eventsim.delivery._prepare import prepare

    prep = prepare(h["sends"], h["events"], h["deliveries"])
    exact = [out.reordered.tolist() for out in outcomes(prep, None)]
    prep.key_segment = prep.key_segment * 0  # every key in one bucket
    assert [out.reordered.tolist() for out in outcomes(prep, None)] == exact
    prep.key_hash = prep.key_hash * 0  # and one 64-bit hash: the exact string sort decides
    assert [out.reordered.tolist() for out in outcomes(prep, None)] == exact
