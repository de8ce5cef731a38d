"""Carbon-aware placement: regions, carbon traces, forecasts, placement and shifting policies.

Describe a :class:`PlacementScenario` (regions, traces, latencies, SLO, work, forecast), then
``compare_placement(scenario, policies=[...])`` returns one table: energy, emissions, SLO
violations, queueing, deadline misses, savings against the baseline and the share of the
offline optimum's savings. ``scenarios.lets_wait_awhile`` re-runs Scenario II of Wiesner et
al. (Middleware 2021). scipy and matplotlib load only inside the functions that use them.
"""

from __future__ import annotations

from eventsim.carbon import scenarios
from eventsim.carbon.accounting import Ledger, account, backlog, per_event_footprint
from eventsim.carbon.base import Placement, Policy, Problem
from eventsim.carbon.carbon_slo import CarbonWithinSLO
from eventsim.carbon.compare import DEFAULT_POLICIES, compare_placement
from eventsim.carbon.follow_renewables import FollowTheRenewables
from eventsim.carbon.forecast import (
    FORECASTS,
    Forecast,
    NoisyForecast,
    PerfectForecast,
    PersistenceForecast,
    SeasonalNaiveForecast,
    make_forecast,
)
from eventsim.carbon.greenest_now import GreenestNow
from eventsim.carbon.latency_first import LatencyFirst
from eventsim.carbon.loaders import (
    load_csv,
    load_electricitymaps_csv,
    load_uk_carbon_intensity_json,
    load_watttime_csv,
    write_csv,
)
from eventsim.carbon.offline_optimum import OfflineOptimum
from eventsim.carbon.plot import (
    plot_intensity_shape,
    plot_job_shift,
    plot_savings,
    plot_tradeoff,
)
from eventsim.carbon.policies import POLICIES, make_policy
from eventsim.carbon.profile import (
    RegionProfile,
    fit_profile,
    load_region_profiles,
    synthesize_trace,
)
from eventsim.carbon.region import HANDLERS, NETWORK_KWH_PER_GB, HandlerEnergy, Region
from eventsim.carbon.scenario import PlacementScenario, WorkSpec
from eventsim.carbon.time_shifting import TimeShifting
from eventsim.carbon.trace import clean_trace, make_trace, resample_trace, to_grid
from eventsim.carbon.work import (
    JOB_KINDS,
    JOB_SCHEMA,
    STREAM_SCHEMA,
    JobKind,
    TopicSpec,
    events_to_work,
    generate_jobs,
    generate_streams,
)

__all__ = [
    "DEFAULT_POLICIES",
    "FORECASTS",
    "HANDLERS",
    "JOB_KINDS",
    "JOB_SCHEMA",
    "NETWORK_KWH_PER_GB",
    "POLICIES",
    "STREAM_SCHEMA",
    "CarbonWithinSLO",
    "FollowTheRenewables",
    "Forecast",
    "GreenestNow",
    "HandlerEnergy",
    "JobKind",
    "LatencyFirst",
    "Ledger",
    "NoisyForecast",
    "OfflineOptimum",
    "PerfectForecast",
    "PersistenceForecast",
    "Placement",
    "PlacementScenario",
    "Policy",
    "Problem",
    "Region",
    "RegionProfile",
    "SeasonalNaiveForecast",
    "TimeShifting",
    "TopicSpec",
    "WorkSpec",
    "account",
    "backlog",
    "clean_trace",
    "compare_placement",
    "events_to_work",
    "fit_profile",
    "generate_jobs",
    "generate_streams",
    "load_csv",
    "load_electricitymaps_csv",
    "load_region_profiles",
    "load_uk_carbon_intensity_json",
    "load_watttime_csv",
    "make_forecast",
    "make_policy",
    "make_trace",
    "per_event_footprint",
    "plot_intensity_shape",
    "plot_job_shift",
    "plot_savings",
    "plot_tradeoff",
    "resample_trace",
    "scenarios",
    "synthesize_trace",
    "to_grid",
    "write_csv",
]
