"""Expected verdicts of the Porcupine sample histories (as in ../shared/data/porcupine-sample's
README), shared by the checker and CLI tests."""

from __future__ import annotations

PORCUPINE: dict[str, bool] = {
    "etcd/etcd_000.log": False,
    "etcd/etcd_001.log": False,
    "etcd/etcd_002.log": True,
    "etcd/etcd_003.log": False,
    "etcd/etcd_005.log": True,
    "etcd/etcd_018.log": True,
    "kv/c01-ok.txt": True,
    "kv/c01-bad.txt": False,
    "kv/c10-ok.txt": True,
    "kv/c10-bad.txt": False,
}
