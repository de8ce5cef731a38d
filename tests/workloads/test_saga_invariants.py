"""Saga invariants of the uber trips and amazon orders, as hypothesis properties."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eventsim.sim.rng import RngStreams
from eventsim.workloads import IncidentSpec
from eventsim.workloads.amazon import Amazon
from eventsim.workloads.uber import TERMINAL, Uber

AMAZON_TERMINAL = ("delivered", "order_cancelled")
PROB = st.floats(0.0, 0.5)


def last_is_terminal(ev, entity, terminal):
    """Each saga has at most one terminal event, and nothing after it."""
    per = ev.group_by(entity).agg(
        n_terminal=pl.col("event_type").is_in(terminal).sum(),
        last=pl.col("event_type").sort_by("timestamp_s", maintain_order=True).last(),
        first_t=pl.col("timestamp_s").min(),
    )
    assert per["n_terminal"].max() <= 1
    done = per.filter(pl.col("n_terminal") == 1)
    assert done["last"].is_in(terminal).all()
    return per


def first_time(ev, entity, types):
    return (
        ev.filter(pl.col("event_type").is_in(types))
        .group_by(entity)
        .agg(pl.col("timestamp_s").min().alias("t"))
    )


def assert_follows(ev, entity, compensation, failures):
    """Every compensation event comes strictly after a failure of the same saga."""
    comp = ev.filter(pl.col("event_type") == compensation).select(entity, "timestamp_s")
    fail = first_time(ev, entity, failures)
    joined = comp.join(fail, on=entity, how="left")
    assert joined["t"].null_count() == 0, compensation
    assert (joined["timestamp_s"] > joined["t"]).all(), compensation


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), decline=PROB, cancel=PROB, burst=st.booleans())
@example(seed=0, decline=0.0, cancel=0.0, burst=False)
def test_amazon_order_sagas(seed, decline, cancel, burst):
    medians = {"shipping_median_s": 60.0, "delivery_median_s": 120.0}
    params = {"order_rate_per_s": 1.0, "n_skus": 300, "replenish_interval_s": 600.0, **medians}
    params |= {"p_payment_decline": decline, "p_customer_cancel": cancel, "peak_to_trough": 1.0}
    incidents = ()
    if burst:
        incidents = (
            IncidentSpec("error_burst", 100.0, 100.0, 0.7),
            IncidentSpec("latency_regression", 50.0, 200.0, 3.0, "shipping"),
            IncidentSpec("card_testing", 120.0, 60.0, 1.0),
        )
    w = Amazon(params, incidents)
    margin = 50 * (0.5 + 2.0 + 60.0 * 3 + 120.0 + 2.0)
    duration = 400.0 + margin
    ev = w.generate(duration, RngStreams(seed)).events
    orders = ev.filter(pl.col("order_id").is_not_null())
    per = last_is_terminal(orders, "order_id", AMAZON_TERMINAL)
    early = per.filter(pl.col("first_t") < 400.0)
    assert (early["n_terminal"] == 1).all()
    assert_follows(
        orders, "order_id", "inventory_released", ["payment_declined", "cancellation_requested"]
    )
    assert_follows(orders, "order_id", "refund_issued", ["cancellation_requested"])
    assert_follows(
        orders,
        "order_id",
        "order_cancelled",
        ["out_of_stock", "payment_declined", "cancellation_requested"],
    )
    # inventory ledger per (fc, sku): never negative, conserved
    initial = w.initial_stock()
    fcs = {f"fc-{r}": i for i, r in enumerate(("na-east", "na-west", "eu"))}
    sign = {"stock_received": 1, "inventory_reserved": -1, "inventory_released": 1}
    inv = ev.filter(pl.col("event_type").is_in(list(sign))).with_columns(
        delta=pl.col("event_type").replace_strict(sign, return_dtype=pl.Int64) * pl.col("qty"),
        fc_i=pl.col("fc").replace_strict(fcs, return_dtype=pl.Int64),
        sku_i=pl.col("sku").cast(pl.Int64),
    )
    inv = inv.with_columns(
        start=pl.Series(initial[inv["fc_i"].to_numpy(), inv["sku_i"].to_numpy()])
    )
    level = inv.with_columns(level=pl.col("start") + pl.col("delta").cum_sum().over("key"))
    assert level["level"].min() >= 0
    # every reserved unit is released, shipped or still held — never two of them
    moves = orders.filter(
        pl.col("event_type").is_in(["inventory_reserved", "inventory_released", "shipped"])
    ).pivot("event_type", index="order_id", values="qty", aggregate_function="len")
    for col in ("inventory_reserved", "inventory_released", "shipped"):
        if col not in moves.columns:
            moves = moves.with_columns(pl.lit(0, pl.UInt32).alias(col))
    moves = moves.fill_null(0)
    assert (moves["inventory_reserved"] == 1).all()
    assert (moves["inventory_released"] + moves["shipped"] <= 1).all()
    # payments and refunds balance
    pay = orders.group_by("order_id").agg(
        auth=pl.col("amount_usd").filter(pl.col("event_type") == "payment_authorized").sum(),
        refund=pl.col("amount_usd").filter(pl.col("event_type") == "refund_issued").sum(),
        cancelled=(pl.col("event_type") == "order_cancelled").any(),
        delivered=(pl.col("event_type") == "delivered").any(),
    )
    cancelled = pay.filter(pl.col("cancelled"))
    np.testing.assert_allclose(cancelled["auth"], cancelled["refund"])
    delivered = pay.filter(pl.col("delivered"))
    assert (delivered["auth"] > 0).all()
    assert (delivered["refund"] == 0).all()


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), decline=PROB, rider=PROB, driver=PROB, burst=st.booleans())
@example(seed=0, decline=0.0, rider=0.0, driver=0.0, burst=False)
def test_uber_trip_sagas(seed, decline, rider, driver, burst):
    params = {"trip_rate_per_s": 0.5, "n_drivers": 50, "ping_interval_s": 60.0}
    params |= {"trip_median_s": 60.0, "pickup_median_s": 30.0, "grid_x": 5, "grid_y": 5}
    params |= {"p_payment_decline": decline, "p_rider_cancel": rider, "p_driver_cancel": driver}
    incidents = ()
    if burst:
        incidents = (
            IncidentSpec("error_burst", 100.0, 100.0, 0.6, "matching"),
            IncidentSpec("latency_regression", 0.0, 300.0, 2.0, "trip"),
        )
    margin = 50 * (1.0 + 8.0 + 30.0 + 60.0 * 2 + 1.0 + 2.0)
    ev = Uber(params, incidents).generate(300.0 + margin, RngStreams(seed)).events
    trips = ev.filter(pl.col("trip_id").is_not_null())
    per = last_is_terminal(trips, "trip_id", list(TERMINAL))
    assert (per.filter(pl.col("first_t") < 300.0)["n_terminal"] == 1).all()
    assert_follows(trips, "trip_id", "driver_released", ["rider_cancelled", "driver_cancelled"])
    assert_follows(
        trips,
        "trip_id",
        "authorization_released",
        ["match_failed", "rider_cancelled", "driver_cancelled"],
    )
    money = (
        trips.group_by("trip_id")
        .agg(
            *(
                pl.col("amount_usd").filter(pl.col("event_type") == t).sum().alias(t)
                for t in ("payment_authorized", "payment_captured", "authorization_released")
            ),
            done=pl.col("event_type").is_in(list(TERMINAL)).any(),
        )
        .filter(pl.col("done"))
    )
    np.testing.assert_allclose(
        money["payment_authorized"], money["payment_captured"] + money["authorization_released"]
    )
    # a driver appears only once the trip is matched
    before = trips.filter(pl.col("event_type").is_in(["trip_requested", "payment_authorized"]))
    assert before["driver"].null_count() == len(before)
