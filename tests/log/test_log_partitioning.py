"""Stable partitioning: the same key lands on the same partition in every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from eventsim.log import EventLog, partition_for_key

KEYS = [f"user-{i}" for i in range(500)] + ["", "ключ", "🔑-emoji", "a" * 300, "key with spaces"]
COUNTS = (1, 3, 12, 64)

_CHILD = """
import json, sys
import numpy as np
from eventsim.log import EventLog, partition_for_key
keys, counts = json.loads(sys.stdin.read())
log = EventLog(partitions=1)
codes = np.array([log.strings.encode(k) for k in keys], dtype=np.int32)
out = {}
for n in counts:
    topic = log.create_topic(f"t{n}", n)
    out[str(n)] = {
        "scalar": [partition_for_key(k, n) for k in keys],
        "codes": log.partitions_for_codes(codes, topic).tolist(),
        "hash": hash("probe"),
    }
print(json.dumps(out))
"""


def _local() -> dict[str, dict[str, list[int]]]:
    log = EventLog(partitions=1)
    codes = np.array([log.strings.encode(k) for k in KEYS], dtype=np.int32)
    out = {}
    for n in COUNTS:
        topic = log.create_topic(f"t{n}", n)
        out[str(n)] = {
            "scalar": [partition_for_key(k, n) for k in KEYS],
            "codes": log.partitions_for_codes(codes, topic).tolist(),
        }
    return out


def _child(seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps([KEYS, COUNTS]),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(done.stdout)


def test_partitions_match_a_subprocess_with_another_hash_seed() -> None:
    here = _local()
    a, b = _child("1"), _child("2")
    assert a["12"]["hash"] != b["12"]["hash"], "the two children must really hash differently"
    for n in COUNTS:
        for child in (a, b):
            assert child[str(n)]["scalar"] == here[str(n)]["scalar"]
            assert child[str(n)]["codes"] == here[str(n)]["codes"]
        assert here[str(n)]["codes"] == here[str(n)]["scalar"]


def test_partition_for_key_is_crc32_modulo() -> None:
    assert partition_for_key("user-42", 12) == 7
    assert partition_for_key("", 5) == 0
    assert all(0 <= partition_for_key(k, 7) < 7 for k in KEYS)


def test_keys_spread_over_all_partitions() -> None:
    parts = {partition_for_key(f"user-{i}", 12) for i in range(500)}
    assert parts == set(range(12))


def test_same_key_always_same_partition_in_log() -> None:
    log = EventLog(partitions=6)
    offsets = [log.append("t", "alice", {"v": i}) for i in range(10)]
    assert {o.partition for o in offsets} == {partition_for_key("alice", 6)}
    assert [o.offset for o in offsets] == list(range(10))


def test_null_keys_round_robin_across_appends() -> None:
    log = EventLog(partitions=3)
    got = [log.append("t", None, {"v": i}).partition for i in range(7)]
    assert got == [0, 1, 2, 0, 1, 2, 0]
    topic = log.topics["t"]
    codes = np.full(5, -1, dtype=np.int32)
    assert log.partitions_for_codes(codes, topic).tolist() == [1, 2, 0, 1, 2]


def test_null_keys_round_robin_is_per_topic_and_skips_keyed_records() -> None:
    log = EventLog(partitions=3)
    log.append("a", None, {"v": 0})
    assert log.append("b", None, {"v": 0}).partition == 0
    keyed = log.append("a", "k", {"v": 1})
    assert keyed.partition == partition_for_key("k", 3)
    assert log.append("a", None, {"v": 2}).partition == 1
