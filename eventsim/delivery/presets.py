"""Named delivery semantics: documented bundles of producer and consumer settings.

=================  =====================================================================
preset             settings
=================  =====================================================================
at-most-once       producer acks=1, no retries, idempotent (a duplicated request is
                   dropped by sequence number), unacknowledged records dropped after a
                   producer crash; consumers commit *before* processing.
at-least-once      producer acks=all, retries until the delivery timeout, unacknowledged
                   records resent after a crash; consumers commit *after* processing.
exactly-once       idempotent, transactional producer (acks=all); consumers read_committed
                   and commit offsets in the same transaction as the sink's writes
                   (Kafka's read-process-write).
effectively-once   at-least-once plus an idempotent sink that drops repeats by event id.
=================  =====================================================================

What each guarantees also depends on the log: ``acks=all`` protects acknowledged records
only with ``log.replication_factor >= 2`` and ``log.min_insync_replicas >= 2``.
"""

from __future__ import annotations

from typing import Any

from eventsim.exceptions import ScenarioError, closest
from eventsim.scenario import Scenario

__all__ = ["PRESETS", "apply_preset"]

_MAX_RETRIES = 2_147_483_647

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "at-most-once": {
        "producer": {
            "acks": "1",
            "retries": 0,
            "idempotent": True,
            "transactional": False,
            "resend_on_restart": False,
        },
        "consumer": {"commit": "before-process", "isolation": "read_uncommitted", "sink": "plain"},
    },
    "at-least-once": {
        "producer": {
            "acks": "all",
            "retries": _MAX_RETRIES,
            "idempotent": False,
            "transactional": False,
            "resend_on_restart": True,
        },
        "consumer": {"commit": "after-process", "isolation": "read_uncommitted", "sink": "plain"},
    },
    "exactly-once": {
        "producer": {
            "acks": "all",
            "retries": _MAX_RETRIES,
            "idempotent": True,
            "transactional": True,
            "resend_on_restart": True,
        },
        "consumer": {"commit": "transactional", "isolation": "read_committed", "sink": "plain"},
    },
    "effectively-once": {
        "producer": {
            "acks": "all",
            "retries": _MAX_RETRIES,
            "idempotent": False,
            "transactional": False,
            "resend_on_restart": True,
        },
        "consumer": {
            "commit": "after-process",
            "isolation": "read_uncommitted",
            "sink": "idempotent",
        },
    },
}


def apply_preset(scenario: Scenario, name: str) -> Scenario:
    """``scenario`` with the producer and every consumer group set to preset ``name``.

    Examples
    --------
    >>> sc = apply_preset(Scenario(duration="10s"), "exactly-once")
    >>> sc.producer.transactional, sc.consumers[0].commit
    (True, 'transactional')
    """
    preset = PRESETS.get(name)
    if preset is None:
        msg = f"semantics {name!r} is unknown{closest(name, PRESETS)}; known: {', '.join(PRESETS)}"
        raise ScenarioError(msg)
    changes: dict[str, Any] = {f"producer.{k}": v for k, v in preset["producer"].items()}
    for i in range(len(scenario.consumers)):
        changes.update({f"consumers.{i}.{k}": v for k, v in preset["consumer"].items()})
    return scenario.replace(**changes)
