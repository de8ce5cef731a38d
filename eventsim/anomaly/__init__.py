"""Anomaly detection: detectors (river / scikit-learn adapters), thresholds, scoring, NAB.

``import eventsim.anomaly`` imports neither river nor scikit-learn; detectors that need them
import them when first used.
"""

from __future__ import annotations

from eventsim.anomaly.compare import compare_detectors
from eventsim.anomaly.detectors import DETECTORS, Detector
from eventsim.anomaly.nab import (
    PROFILES,
    nab_benchmark,
    nab_file_scores,
    nab_score,
    nab_series_scores,
    rescore_results,
)
from eventsim.anomaly.nab_data import NabCorpus, load_nab, read_nab_results
from eventsim.anomaly.scoring import (
    detection_delays,
    false_alarms_per_day,
    incident_metrics,
    pointwise_metrics,
    pr_auc,
)
from eventsim.anomaly.thresholds import (
    FixedThreshold,
    QuantileThreshold,
    best_threshold_in_hindsight,
)

__all__ = [
    "DETECTORS",
    "PROFILES",
    "Detector",
    "FixedThreshold",
    "NabCorpus",
    "QuantileThreshold",
    "best_threshold_in_hindsight",
    "compare_detectors",
    "detection_delays",
    "false_alarms_per_day",
    "incident_metrics",
    "load_nab",
    "nab_benchmark",
    "nab_file_scores",
    "nab_score",
    "nab_series_scores",
    "pointwise_metrics",
    "pr_auc",
    "read_nab_results",
    "rescore_results",
]
