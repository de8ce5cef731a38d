"""Anomaly detectors behind one interface (``learn_one``/``score_one``), and their registry."""

from __future__ import annotations
