"""Anomaly detection: features from the log, detectors, thresholds, scoring, NAB, live alerts.

- Features: :class:`FeatureSpec` → :func:`window_features` (polars, finished log) or
  :class:`IncrementalFeatures` (inside the simulation); both give the same frame.
- Detectors: :data:`DETECTORS` (river / scikit-learn adapters, the conformal default),
  :class:`TailDetector`, and :class:`StreamDetector` to run any of them on a metric stream.
- Live: :func:`run_with_detector` scores windows as they close and appends alerts to the log.
- Evaluation: :func:`compare_on_workload` (a workload's incidents → one table),
  :func:`compare_detectors` (frames), the NAB scorer.

``import eventsim.anomaly`` imports neither river, scikit-learn nor matplotlib; what needs
them imports them when first used.
"""

from __future__ import annotations

from eventsim.anomaly._incremental import IncrementalFeatures
from eventsim.anomaly.compare import compare_detectors
from eventsim.anomaly.detectors import DETECTORS, Detector
from eventsim.anomaly.feature_spec import (
    WORKLOAD_FEATURES,
    FeatureSpec,
    feature_columns,
    feature_resolutions,
    feature_schema,
    features_for,
)
from eventsim.anomaly.features import arrival_order, window_features
from eventsim.anomaly.live import ALERTS_SCHEMA, LiveDetector, closing_time, run_with_detector
from eventsim.anomaly.nab import (
    PROFILES,
    nab_benchmark,
    nab_file_scores,
    nab_score,
    nab_series_scores,
    rescore_results,
)
from eventsim.anomaly.nab_data import NabCorpus, load_nab, read_nab_results
from eventsim.anomaly.plot import (
    plot_feature,
    plot_incident_run,
    plot_nab_scoring,
    plot_scores,
    show_incident,
)
from eventsim.anomaly.scoring import (
    detection_delays,
    false_alarms_per_day,
    incident_metrics,
    pointwise_metrics,
    pr_auc,
)
from eventsim.anomaly.stream_detector import (
    CALIBRATED_THRESHOLDS,
    StreamDetector,
    make_threshold,
)
from eventsim.anomaly.tail import TailDetector
from eventsim.anomaly.thresholds import (
    FixedThreshold,
    QuantileThreshold,
    best_threshold_in_hindsight,
)
from eventsim.anomaly.workload_eval import (
    EVAL_PARAMS,
    SCORES_SCHEMA,
    IncidentRun,
    compare_on_workload,
    default_incidents,
    detection_table,
    explore_incident,
    incident_outcomes,
    incident_streams,
    run_workload,
    score_streams,
    workload_scenario,
)

__all__ = [
    "ALERTS_SCHEMA",
    "CALIBRATED_THRESHOLDS",
    "DETECTORS",
    "EVAL_PARAMS",
    "PROFILES",
    "SCORES_SCHEMA",
    "WORKLOAD_FEATURES",
    "Detector",
    "FeatureSpec",
    "FixedThreshold",
    "IncidentRun",
    "IncrementalFeatures",
    "LiveDetector",
    "NabCorpus",
    "QuantileThreshold",
    "StreamDetector",
    "TailDetector",
    "arrival_order",
    "best_threshold_in_hindsight",
    "closing_time",
    "compare_detectors",
    "compare_on_workload",
    "default_incidents",
    "detection_delays",
    "detection_table",
    "explore_incident",
    "false_alarms_per_day",
    "feature_columns",
    "feature_resolutions",
    "feature_schema",
    "features_for",
    "incident_metrics",
    "incident_outcomes",
    "incident_streams",
    "load_nab",
    "make_threshold",
    "nab_benchmark",
    "nab_file_scores",
    "nab_score",
    "nab_series_scores",
    "plot_feature",
    "plot_incident_run",
    "plot_nab_scoring",
    "plot_scores",
    "pointwise_metrics",
    "pr_auc",
    "read_nab_results",
    "rescore_results",
    "run_with_detector",
    "run_workload",
    "score_streams",
    "show_incident",
    "window_features",
    "workload_scenario",
]
