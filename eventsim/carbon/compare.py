"""``compare_placement``: run several policies on one scenario and tabulate them side by side."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from eventsim.carbon.accounting import account
from eventsim.carbon.base import Policy
from eventsim.carbon.offline_optimum import OfflineOptimum
from eventsim.carbon.policies import make_policy
from eventsim.carbon.scenario import PlacementScenario

__all__ = ["DEFAULT_POLICIES", "compare_placement"]

DEFAULT_POLICIES = (
    "latency-first",
    "greenest-now",
    "carbon-slo",
    "shift-non-interrupting",
    "shift-interrupting",
    "follow-renewables",
)


def compare_placement(
    scenario: PlacementScenario,
    policies: Sequence[str | Policy] = DEFAULT_POLICIES,
    *,
    baseline: str | Policy = "latency-first",
) -> pl.DataFrame:
    """One row per policy (plus the baseline and the offline optimum if not listed).

    Parameters
    ----------
    scenario
        The scenario (compiled once, shared by all policies).
    policies
        Registry names or policy instances.
    baseline
        The policy savings are measured against.

    Returns
    -------
    polars.DataFrame
        ``policy`` String; ``energy_kwh``, ``emissions_g``, ``stream_emissions_g``,
        ``job_emissions_g``, ``migration_emissions_g``, ``n_events``, ``slo_violations``,
        ``overflow_events``, ``mean_queue_delay_s``, ``max_queue_delay_s``, ``n_jobs``,
        ``deadline_misses`` Float64; ``savings_g``, ``savings_pct`` (vs the baseline) and
        ``share_of_optimum`` (savings / the optimum's savings; null when the optimum saves
        nothing) Float64. The optimum respects the SLO and capacities; a policy that violates
        them can show a share above 1.

    Examples
    --------
    >>> from datetime import datetime
    >>> from eventsim.carbon import PlacementScenario, Region, make_trace
    >>> a = make_trace(datetime(2021, 1, 1), [300.0, 100.0], 3600)
    >>> b = make_trace(datetime(2021, 1, 1), [100.0, 300.0], 3600)
    >>> jobs = pl.DataFrame({"job_id": [0], "submit_s": [0.0], "duration_s": [3600.0],
    ...     "deadline_s": [7200.0], "power_kw": [1.0], "kind": ["x"]})
    >>> sc = PlacementScenario((Region("a", pue=1.0), Region("b", pue=1.0)), {"a": a, "b": b},
    ...     {("a", "b"): 10.0}, datetime(2021, 1, 1), 3600.0, jobs=jobs)
    >>> out = compare_placement(sc, ["latency-first", "shift-non-interrupting"])
    >>> out.select("policy", "emissions_g", "savings_pct").rows()
    [('latency-first', 300.0, 0.0), ('shift-non-interrupting', 100.0, 66.66...),
     ('offline-optimum', 100.0, 66.66...)]
    """
    problem = scenario.compile()
    chosen = [make_policy(p) for p in policies]
    base = make_policy(baseline)
    names = [p.name for p in chosen]
    if base.name not in names:
        chosen.insert(0, base)
    if OfflineOptimum.name not in names:
        chosen.append(OfflineOptimum())
    rows = []
    for policy in chosen:
        ledger = account(problem, policy.place(problem))
        rows.append({"policy": policy.name, **ledger.totals()})
    table = pl.DataFrame(rows)
    base_g = table.filter(pl.col("policy") == base.name)["emissions_g"][0]
    opt_g = table.filter(pl.col("policy") == OfflineOptimum.name)["emissions_g"][0]
    opt_savings = base_g - opt_g
    return table.with_columns(
        (base_g - pl.col("emissions_g")).alias("savings_g"),
        (100 * (base_g - pl.col("emissions_g")) / base_g if base_g else pl.lit(0.0)).alias(
            "savings_pct"
        ),
        (
            (base_g - pl.col("emissions_g")) / opt_savings
            if opt_savings > 1e-9 * max(base_g, 1.0)
            else pl.lit(None, dtype=pl.Float64)
        ).alias("share_of_optimum"),
    )
