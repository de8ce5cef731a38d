"""Consistency: history checkers, clocks and CRDTs."""

from __future__ import annotations
