"""E-commerce orders: order sagas with inventory across fulfilment centres, and a Prime-Day spike.

Models an Amazon-style order pipeline as a choreographed saga over three topics::

    order_placed → inventory_reserved → payment_authorized → shipped → delivered
                 ↘ out_of_stock → order_cancelled
                                      ↘ payment_declined → inventory_released → order_cancelled
                                                           ↘ cancellation_requested
                                   → inventory_released + refund_issued → order_cancelled

Orders arrive as a non-homogeneous Poisson process (three regions with their own diurnal
peaks, a weekly curve and a Prime-Day flash crowd); SKUs are Zipf-popular; prices lognormal.
Each region is served by one fulfilment centre (``fc-<region>``) holding stock per SKU with an
order-up-to policy: every ``replenish_interval_s`` a (fc, sku) pair whose available stock fell
below ``reorder_fraction`` × target is refilled to its target (``stock_received``). Units
released by compensations return to stock at the next replenishment boundary. Targets cover
``stock_cover_cycles`` cycles of mean demand (no spike), so the Prime-Day spike causes
stock-outs. The spike starts at ``prime_day_at_s`` (``"auto"``: a quarter into the run; None:
no Prime Day; see :mod:`~eventsim.workloads.spikes`). Default volume, ~20 orders/s (≈1.7 M
orders a day), is the order of magnitude of the ~1.6 M packages a day widely quoted for
Amazon around 2018.

Topics, event types and keys
----------------------------
orders (key ``order_id``): order_placed, cancellation_requested, shipped, delivered,
order_cancelled. payments (key ``order_id``): payment_authorized, payment_declined,
refund_issued. inventory (key ``<fc>/<sku>``): inventory_reserved, out_of_stock,
inventory_released, stock_received.

Payload columns
---------------
order_id : Int64 (the order number; the key ``o<order_id>``; null on stock_received),
customer : Int64 (customer number; null on stock_received), region : Enum, fc : Enum (null
for digital orders), sku : Int32 (catalogue index, 0 the most popular; null for gift cards),
qty : Int32 (units), amount_usd : Float64 (on payment events only). Identifiers in the
payload are numbers, as in an order-management database; only the keys are strings.

Inventory ledger (exact): for each (fc, sku), ``initial + Σ stock_received − Σ reserved +
Σ released ≥ 0`` at every time, and ``reserved = released + shipped + held`` where ``held``
are units of orders still in flight at the end. :meth:`Amazon.initial_stock` gives
``initial``. Payments balance per order: authorized − refunded is the amount for an order
not cancelled and 0 for a cancelled one.

Incidents (``intensity`` meaning)
---------------------------------
outage (target a topic or region; fraction of its events lost), latency_regression (target
stage reservation | payment | shipping | delivery; delay multiplier for steps starting in the
window), error_burst (target payment; decline probability in the window; affected = the
declined orders' keys ``o<order_id>``), card_testing (target payments; ``intensity`` × 1
order/s of $1–5 gift cards from ``ceil(3 × intensity)`` accounts, 85 % declined; affected =
the attacking customers ``c<customer>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import polars as pl

from eventsim.sim.rng import RngStreams
from eventsim.workloads._checks import check_params
from eventsim.workloads._frame import EventFrame, Labels, format_keys
from eventsim.workloads._incidents import check_incidents, drop_outage, incidents_frame, pick_target
from eventsim.workloads._inventory import reserve_stock
from eventsim.workloads._saga import Saga
from eventsim.workloads.base import KEY_PREFIX, IncidentSpec, Workload, WorkloadOutput
from eventsim.workloads.popularity import Zipf, lognormal_sizes
from eventsim.workloads.rates import RateCurve, Region
from eventsim.workloads.spikes import AUTO, Spike, check_spike_param, spike_start

__all__ = ["Amazon"]

ORDER, CUSTOMER = KEY_PREFIX["order_id"], KEY_PREFIX["customer"]

REGIONS = (Region("na-east", -5.0, 0.45), Region("na-west", -8.0, 0.3), Region("eu", 1.0, 0.25))
FCS = tuple(f"fc-{r.name}" for r in REGIONS)
TYPES = (
    "order_placed",
    "inventory_reserved",
    "out_of_stock",
    "payment_authorized",
    "payment_declined",
    "cancellation_requested",
    "inventory_released",
    "refund_issued",
    "shipped",
    "delivered",
    "order_cancelled",
    "stock_received",
)
TOPIC_OF = {
    **dict.fromkeys(("order_placed", "cancellation_requested", "shipped"), "orders"),
    **dict.fromkeys(("delivered", "order_cancelled"), "orders"),
    **dict.fromkeys(("payment_authorized", "payment_declined", "refund_issued"), "payments"),
    **dict.fromkeys(("inventory_reserved", "out_of_stock", "inventory_released"), "inventory"),
    "stock_received": "inventory",
}
TOPICS = ("orders", "payments", "inventory")
TOPIC_ORDER = {topic: tuple(t for t in TYPES if TOPIC_OF[t] == topic) for topic in TOPICS}
PAYLOAD_SCHEMA: dict[str, pl.DataType] = {
    "order_id": pl.Int64(),
    "customer": pl.Int64(),
    "region": pl.Enum([r.name for r in REGIONS]),
    "fc": pl.Enum(FCS),
    "sku": pl.Int32(),
    "qty": pl.Int32(),
    "amount_usd": pl.Float64(),
}


@dataclass(frozen=True)
class AmazonParams:
    """Parameters of :class:`Amazon` (rates per second, times in seconds, prices in USD)."""

    rate_multiplier: float = 1.0
    order_rate_per_s: float = 20.0
    n_customers: int = 1_000_000
    n_skus: int = 20_000
    sku_zipf_exponent: float = 1.0
    mean_qty: float = 1.3
    price_median_usd: float = 25.0
    price_sigma: float = 1.0
    peak_to_trough: float = 3.0
    peak_hour: float = 20.0
    weekend_factor: float = 1.1
    start_hour_utc: float = 0.0
    p_payment_decline: float = 0.02
    p_customer_cancel: float = 0.03
    reservation_median_s: float = 0.5
    payment_median_s: float = 2.0
    shipping_median_s: float = 4 * 3600.0
    delivery_median_s: float = 36 * 3600.0
    replenish_interval_s: float = 3600.0
    stock_cover_cycles: float = 2.0
    reorder_fraction: float = 0.5
    min_stock_units: int = 3
    prime_day_at_s: float | str | None = AUTO
    prime_day_ramp_s: float = 1800.0
    prime_day_peak_multiplier: float = 4.0
    prime_day_decay_s: float = 4 * 3600.0

    def __post_init__(self) -> None:
        check_params(
            self,
            positive=("rate_multiplier", "order_rate_per_s", "n_customers", "n_skus"),
            non_negative=("sku_zipf_exponent", "price_sigma", "prime_day_ramp_s"),
            probability=("p_payment_decline", "p_customer_cancel", "reorder_fraction"),
            at_least_one=("mean_qty", "peak_to_trough", "prime_day_peak_multiplier"),
        )
        check_params(
            self,
            positive=(
                "price_median_usd",
                "weekend_factor",
                "reservation_median_s",
                "payment_median_s",
                "shipping_median_s",
                "delivery_median_s",
                "replenish_interval_s",
                "stock_cover_cycles",
                "min_stock_units",
                "prime_day_decay_s",
            ),
        )
        check_spike_param("prime_day_at_s", self.prime_day_at_s)


class Amazon(Workload):
    """E-commerce order sagas with inventory, payments, refunds and a Prime-Day spike.

    Examples
    --------
    >>> out = Amazon({"order_rate_per_s": 2.0}).generate(600.0, RngStreams(1))
    >>> sorted(out.events["topic"].unique())
    ['inventory', 'orders', 'payments']
    """

    name = "amazon"
    Params = AmazonParams
    incident_kinds = ("outage", "latency_regression", "error_burst", "card_testing")
    topics: ClassVar[dict[str, tuple[str, ...]]] = TOPIC_ORDER
    payload_schema = PAYLOAD_SCHEMA
    incident_targets: ClassVar[dict[str, tuple[str, ...]]] = {
        "outage": ("orders", "payments", "inventory", *(r.name for r in REGIONS)),
        "latency_regression": ("reservation", "payment", "shipping", "delivery"),
        "error_burst": ("payment",),
        "card_testing": ("payments",),
    }

    def __init__(
        self, params: dict[str, object] | None = None, incidents: tuple[IncidentSpec, ...] = ()
    ) -> None:
        super().__init__(params, incidents)
        check_incidents(self.incidents, self.incident_targets, self.name)

    def _curve(self, duration_s: float) -> RateCurve:
        p = self.params
        at = spike_start("prime_day_at_s", p.prime_day_at_s, duration_s, duration_s / 4)
        spikes = ()
        if at is not None:
            spikes = (
                Spike(at, p.prime_day_ramp_s, p.prime_day_peak_multiplier, p.prime_day_decay_s),
            )
        return RateCurve(
            p.order_rate_per_s * p.rate_multiplier,
            peak_to_trough=p.peak_to_trough,
            peak_hour=p.peak_hour,
            regions=REGIONS,
            weekend_factor=p.weekend_factor,
            start_hour_utc=p.start_hour_utc,
            spikes=spikes,
        )

    def initial_stock(self) -> np.ndarray:
        """Stock target per (fc, sku), shape ``(n_fcs, n_skus)``; also the stock at time 0.

        Examples
        --------
        >>> Amazon({"n_skus": 3}).initial_stock().shape
        (3, 3)
        """
        p = self.params
        pmf = Zipf(p.n_skus, p.sku_zipf_exponent).pmf
        share = np.array([r.weight for r in REGIONS]) / sum(r.weight for r in REGIONS)
        per_cycle = p.order_rate_per_s * p.rate_multiplier * p.replenish_interval_s
        demand = per_cycle * p.mean_qty * share[:, None] * pmf[None, :]
        target = np.ceil(p.stock_cover_cycles * demand).astype(np.int64)
        return np.maximum(target, p.min_stock_units)

    def generate(self, duration_s: float, rngs: RngStreams) -> WorkloadOutput:
        """Draw the run's order sagas, inventory updates and incidents (see the module doc)."""
        self.check_window(duration_s)
        p = self.params
        pick = rngs("amazon.incidents")
        targets = [pick_target(s, self.incident_targets[s.kind], pick) for s in self.incidents]
        t, region = self._curve(duration_s).arrivals(rngs("amazon.orders"), 0.0, duration_s)
        rng = rngs("amazon.attrs")
        blocks = np.cumsum([0] + [int(p.n_customers * r.weight) for r in REGIONS])
        cols = {
            "t": t,
            "region": region,
            "customer": blocks[region] + rng.integers(0, np.diff(blocks)[region]),
            "sku": Zipf(p.n_skus, p.sku_zipf_exponent).sample(rng, len(t)),
            "qty": rng.geometric(1.0 / p.mean_qty, len(t)),
            "price": rng.lognormal(np.log(p.price_median_usd), p.price_sigma, len(t)),
            "digital": np.zeros(len(t), dtype=bool),
        }
        attackers: dict[int, np.ndarray] = {}
        for i, spec in enumerate(self.incidents):
            if spec.kind == "card_testing":
                extra = _card_testing(spec, p.n_customers + 1000 * i, rngs(f"amazon.fraud{i}"))
                attackers[i] = np.unique(extra["customer"])
                cols = {k: np.concatenate([v, extra[k]]) for k, v in cols.items()}
        pairs = list(zip(self.incidents, targets))
        idx, ts, code, t_res, burst = self._sagas(cols, pairs, rngs("amazon.saga"))
        released = code == TYPES.index("inventory_released")
        release_t = np.full(len(cols["t"]), np.inf)
        release_t[idx[released]] = ts[released]
        ok, receipts = reserve_stock(
            self.initial_stock(),
            cols,
            t_res,
            release_t,
            duration_s,
            period_s=p.replenish_interval_s,
            reorder_fraction=p.reorder_fraction,
        )
        keep = ok[idx] | (code == 0)
        bad = np.flatnonzero(~ok)
        idx = np.concatenate([idx[keep], bad, bad])
        ts = np.concatenate([ts[keep], t_res[bad], t_res[bad] + 0.05])
        fail_codes = [TYPES.index("out_of_stock"), TYPES.index("order_cancelled")]
        code = np.concatenate([code[keep], *(np.full(len(bad), c) for c in fail_codes)])
        events = self._frame(idx, ts, code, cols, receipts, rngs("amazon.bytes"), duration_s)
        rows = []
        for i, (spec, target) in enumerate(pairs):
            affected: list[str] = []
            if spec.kind == "outage":
                events = drop_outage(events, spec, target, rngs(f"amazon.outage{i}"))
            elif spec.kind == "error_burst" and i in burst:
                affected = [f"{ORDER}{j}" for j in np.flatnonzero(burst[i] & ok)]
            elif spec.kind == "card_testing":
                affected = [f"{CUSTOMER}{j}" for j in attackers[i]]
            rows.append((spec, target, affected))
        return WorkloadOutput(events, incidents_frame(rows))

    def _sagas(
        self,
        cols: dict[str, np.ndarray],
        pairs: list[tuple[IncidentSpec, str]],
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[int, np.ndarray]]:
        """Walk every order through the saga as if its reservation succeeds."""
        p = self.params
        n = len(cols["t"])

        def ln(median: float, sigma: float = 0.5) -> np.ndarray:
            return rng.lognormal(np.log(median), sigma, n)

        digital = cols["digital"]
        phys = ~digital
        s = Saga(cols["t"], TYPES, rng, pairs)
        s.emit("order_placed")
        s.advance("reservation", ln(p.reservation_median_s), phys)
        t_res = s.t.copy()
        s.emit("inventory_reserved", phys)
        s.advance("payment", ln(p.payment_median_s))
        declined = s.fail("payment", np.where(digital, 0.85, p.p_payment_decline))
        s.emit("payment_declined", declined)
        s.advance("compensation", ln(0.2), declined)
        s.emit("inventory_released", declined & phys)
        s.advance("compensation", ln(0.05), declined)
        s.end("order_cancelled", declined)
        s.emit("payment_authorized")
        s.advance("digital", ln(1.0), digital)
        s.end("delivered", digital)
        ship = ln(p.shipping_median_s, 0.6)
        cancel = s.alive & (rng.random(n) < p.p_customer_cancel)
        s.advance("cancellation", ship * rng.random(n), cancel)
        s.emit("cancellation_requested", cancel)
        s.advance("compensation", ln(0.5), cancel)
        s.emit("inventory_released", cancel)
        s.emit("refund_issued", cancel)
        s.advance("compensation", ln(0.05), cancel)
        s.end("order_cancelled", cancel)
        s.advance("shipping", ship)
        s.emit("shipped")
        s.advance("delivery", ln(p.delivery_median_s, 0.4))
        s.end("delivered")
        return (*s.events(), t_res, s.burst_failed)

    def _frame(
        self,
        idx: np.ndarray,
        ts: np.ndarray,
        code: np.ndarray,
        cols: dict[str, np.ndarray],
        receipts: tuple[np.ndarray, ...],
        rng: np.random.Generator,
        duration_s: float,
    ) -> pl.DataFrame:
        """Build the events frame: the sagas' events (ties in time keep the saga's order),
        then the replenishments."""
        p = self.params
        ef = EventFrame(PAYLOAD_SCHEMA, until_s=duration_s, topics=self.topics)
        regions = [r.name for r in REGIONS]
        size = 300 + rng.integers(0, 200, len(idx))
        placed = code == 0
        size[placed] = lognormal_sizes(rng, int(placed.sum()), median=900, sigma=0.5)
        topic_code = np.array([TOPICS.index(TOPIC_OF[t]) for t in TYPES], dtype=np.int8)[code]
        paid = np.isin(code, [TYPES.index(t) for t in TOPIC_ORDER["payments"]])
        amount = np.round(cols["price"] * cols["qty"], 2)
        n_orders = len(cols["t"])
        orders = format_keys(ORDER, np.arange(n_orders))
        pair_keys = _pair_keys(p.n_skus)
        keys = pl.concat([orders, pair_keys])  # order keys, then inventory keys
        digital = cols["digital"][idx]
        region = cols["region"][idx]
        sku = cols["sku"][idx]
        fc = np.where(digital, -1, region)
        pair = fc * p.n_skus + sku
        inventory = topic_code == TOPICS.index("inventory")
        key = np.where(inventory, np.where(pair >= 0, n_orders + pair, -1), idx)
        ef.add(
            ts,
            Labels(topic_code, TOPICS),
            Labels(code, TYPES),
            Labels(key, keys),
            size,
            order_id=idx,
            customer=cols["customer"][idx],
            region=Labels(region, regions),
            fc=Labels(fc, FCS),
            sku=np.where(digital, np.nan, sku),
            qty=cols["qty"][idx],
            amount_usd=np.where(paid, amount[idx], np.nan),
        )
        t_r, fc_r, sku_r, q_r = receipts
        ef.add(
            t_r,
            "inventory",
            "stock_received",
            Labels(fc_r * p.n_skus + sku_r, pair_keys),
            200,
            region=Labels(fc_r, regions),
            fc=Labels(fc_r, FCS),
            sku=sku_r,
            qty=q_r,
        )
        return ef.build()


def _pair_keys(n_skus: int) -> pl.Series:
    """Inventory keys ``<fc>/sku-<id>`` for every (fc, sku), fc-major."""
    frame = pl.DataFrame({"fc": np.repeat(np.arange(len(FCS)), n_skus)})
    frame = frame.with_columns(sku=np.tile(np.arange(n_skus), len(FCS)))
    fc_name = pl.col("fc").replace_strict(list(range(len(FCS))), list(FCS), return_dtype=pl.String)
    expr = pl.concat_str([fc_name, pl.lit("/sku-"), pl.col("sku").cast(pl.String)])
    return frame.select(expr.alias("key"))["key"]


def _card_testing(
    spec: IncidentSpec, first_id: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Card-testing orders: ``intensity`` orders/s of $1-5 gift cards from a few accounts."""
    n = int(rng.poisson(spec.intensity * spec.duration_s))
    accounts = int(np.ceil(3 * spec.intensity))
    account = rng.integers(0, accounts, n)
    return {
        "t": np.sort(spec.start_s + rng.random(n) * spec.duration_s),
        "region": rng.integers(0, len(REGIONS), accounts)[account],
        "customer": first_id + account,
        "sku": np.full(n, -1),
        "qty": np.ones(n, dtype=np.int64),
        "price": np.round(rng.uniform(1.0, 5.0, n), 2),
        "digital": np.ones(n, dtype=bool),
    }
