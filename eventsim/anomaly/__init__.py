"""Anomaly detection: detectors (river / scikit-learn adapters), thresholds, scoring, NAB."""

from __future__ import annotations
