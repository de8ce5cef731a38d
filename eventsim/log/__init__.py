"""The in-process, Kafka-like event log: topics, partitions, offsets, consumer groups."""

from __future__ import annotations

from eventsim.exceptions import OffsetOutOfRange
from eventsim.log.assignor import ASSIGNORS, range_assign, round_robin_assign
from eventsim.log.consumer_group import ConsumerGroup
from eventsim.log.event_log import EventLog, Topic, partition_for_key
from eventsim.log.partition import Partition
from eventsim.log.record import Offset, RecordBatch, TopicPartition

__all__ = [
    "ASSIGNORS",
    "ConsumerGroup",
    "EventLog",
    "Offset",
    "OffsetOutOfRange",
    "Partition",
    "RecordBatch",
    "Topic",
    "TopicPartition",
    "partition_for_key",
    "range_assign",
    "round_robin_assign",
]
