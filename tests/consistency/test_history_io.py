"""Reading and writing history files: the Porcupine samples, EDN round trips, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from eventsim.consistency import make_history, read_history, write_history
from eventsim.consistency.history_io import detect_format
from eventsim.exceptions import ConfigError, DataFormatError

SAMPLES = {
    "etcd/etcd_000.log": (85, {"fail": 20, "info": 16, "ok": 49}),
    "etcd/etcd_002.log": (77, {"fail": 13, "info": 19, "ok": 45}),
    "kv/c01-ok.txt": (58, {"ok": 58}),
    "kv/c10-bad.txt": (405, {"ok": 405}),
}


def _write(tmp_path: Path, text: str, name: str = "h.edn") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("name", "expected"), SAMPLES.items())
def test_porcupine_samples_parse(shared_data: Path, name: str, expected: tuple) -> None:
    path = shared_data / "porcupine-sample" / name
    frame = read_history(path)
    n, statuses = expected
    assert frame.height == n
    assert dict(frame.group_by("status").len().iter_rows()) == statuses
    assert detect_format(path) == ("jepsen-log" if name.startswith("etcd") else "edn")
    # info ops never complete; everything else completes after it starts
    assert frame.filter(pl.col("status") == "info")["complete_s"].to_list() == [math.inf] * (
        statuses.get("info", 0)
    )
    assert (frame["complete_s"] > frame["invoke_s"]).all()


def test_etcd_first_rows(shared_data: Path) -> None:
    frame = read_history(shared_data / "porcupine-sample" / "etcd" / "etcd_000.log")
    assert frame.head(3).rows() == [
        (0, "read", None, None, None, 0.0, 6.0, "ok"),
        (3, "read", None, None, None, 1.0, 5.0, "ok"),
        (2, "write", None, "4", "4", 2.0, 9.0, "ok"),
    ]
    cas = frame.filter(pl.col("op") == "cas").row(0)
    assert cas[3] == "[3, 0]"


def test_edn_register_history(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "; a comment\n"
        "{:process 0, :type :invoke, :f :write, :value 3, :time 1000000000}\n"
        "{:process :nemesis, :type :info, :f :start, :value nil, :time 1500000000}\n"
        "{:process 0, :type :ok, :f :write, :value 3, :time 2000000000}\n"
        "{:process 1, :type :invoke, :f :cas, :value [3 4], :time 2500000000}\n"
        "{:process 1, :type :fail, :f :cas, :value [3 4], :time 3000000000}\n"
        "{:process 2, :type :invoke, :f :read, :value nil, :time 3500000000}\n",
    )
    assert read_history(path).rows() == [
        (0, "write", None, "3", "3", 1.0, 2.0, "ok"),
        (1, "cas", None, "[3, 4]", "[3, 4]", 2.5, 3.0, "fail"),
        (2, "read", None, None, None, 3.5, math.inf, "info"),
    ]


def test_round_trip_edn_and_parquet(tmp_path: Path) -> None:
    h = make_history(
        [
            (0, "write", None, 1, 1, 0.0, 1.0, "ok"),
            (1, "cas", None, [1, 2], [1, 2], 0.5, 2.0, "fail"),
            (0, "read", None, None, ":timed-out", 1.0, 1.0, "fail"),
            (2, "write", None, "x y", None, 1.5, None, "info"),
            (2, "read", None, None, "x y", 3.0, 4.0, "ok"),
        ]
    )
    for fmt in ("edn", "parquet"):
        path = write_history(h, tmp_path / f"h.{fmt}", format=fmt)
        assert_frame_equal(read_history(path), h)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.edn", "h.parquet"]  # no temp left


def test_round_trip_keeps_version_and_keys(tmp_path: Path) -> None:
    h = make_history(
        process=[0, 1],
        op=["put", "get"],
        key=["k 1", "k 1"],
        value=["12", None],
        output=["12", ""],
        invoke_s=[0.0, 0.25],
        complete_s=[0.5, 0.75],
        version=[1, None],
    )
    back = read_history(write_history(h, tmp_path / "h.edn"))
    assert_frame_equal(back, h)


_text = st.one_of(st.none(), st.text(max_size=8), st.integers(-5, 99).map(str))


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.sampled_from(["read", "write", "get", "append"]),
            st.one_of(st.none(), st.text(min_size=1, max_size=4)),
            _text,
            _text,
            st.floats(0, 100, allow_nan=False),
            st.floats(0, 5, allow_nan=False),
            st.sampled_from(["ok", "fail", "info"]),
        ),
        max_size=12,
    )
)
@example([])
@example(  # zero gaps and durations, an info op followed by more ops of its process
    [(0, "read", None, None, None, 0.0, 0.0, s) for s in ("info", "ok", "info", "ok")]
    + [(0, "write", "k", "1", None, 0.0, 1.0, "ok"), (1, "get", None, None, "", 0.0, 0.0, "fail")]
)
def test_edn_round_trip_property(tmp_path_factory: pytest.TempPathFactory, rows: list) -> None:
    # one op at a time per process: lay each process's ops end to end
    clock: dict[int, float] = {}
    ops = []
    for p, op, key, value, output, gap, dur, status in rows:
        start = clock.get(p, 0.0) + gap
        end = start + dur
        clock[p] = end
        ops.append((p, op, key, value, output, start, None if status == "info" else end, status))
    h = make_history(ops)
    path = tmp_path_factory.mktemp("rt") / "h.edn"
    assert_frame_equal(read_history(write_history(h, path)), h)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{:process 0, :type :invoke, :f :read", r"h\.edn:1: expected '\}' or a value"),
        ('{:process 0, :type :invoke, :f :read, :value "ab}\n', r"h\.edn:1: expected"),
        ("{:process 0, :type :start, :f :read}\n", r"h\.edn:1: :type must be one of"),
        ("{:process 0, :f :read}\n", r"h\.edn:1: the map lacks :type"),
        ("[1 2]\n", r"h\.edn:1: expected an EDN map"),
        (
            "{:process 0, :type :ok, :f :read, :value 1}\n",
            r"h\.edn:1: :ok :read of process 0 has no open invocation",
        ),
        (
            "{:process 0, :type :invoke, :f :read, :value nil}\n"
            "{:process 0, :type :invoke, :f :write, :value 1}\n",
            r"h\.edn:2: process 0 invokes :write while its :read invoked at line 1 is still open",
        ),
        (
            "{:process 0, :type :invoke, :f :read, :value nil}\n"
            "{:process 0, :type :ok, :f :write, :value 1}\n",
            r"h\.edn:2: completion :write .* does not match its invocation :read",
        ),
        (
            "{:process 0, :type :invoke, :f :read, :value nil, :time 1}\n"
            "{:process 0, :type :ok, :f :read, :value 1}\n",
            r"h\.edn:2: some events carry :time and some do not",
        ),
    ],
)
def test_bad_edn(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(DataFormatError, match=match):
        read_history(_write(tmp_path, text), format="edn")


def test_truncated_jepsen_log(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:re",
        "etcd.log",
    )
    with pytest.raises(DataFormatError, match=r"etcd\.log:2: expected 'INFO jepsen.util - "):
        read_history(path)


def test_jepsen_log_ok_without_invoke(tmp_path: Path) -> None:
    path = _write(tmp_path, "INFO  jepsen.util - 3\t:ok\t:write\t1\n", "etcd.log")
    with pytest.raises(DataFormatError, match=r"etcd\.log:1: :ok :write of process 3 has no open"):
        read_history(path)


def test_unknown_formats(tmp_path: Path) -> None:
    path = _write(tmp_path, "process,op\n0,read\n", "h.csv")
    with pytest.raises(
        DataFormatError, match=r"h\.csv: cannot tell .* known formats: edn, jepsen-log, parquet"
    ):
        read_history(path)
    with pytest.raises(
        ConfigError, match=r"format 'ednn' is unknown; known formats: .*did you mean 'edn'"
    ):
        read_history(path, format="ednn")
    with pytest.raises(ConfigError, match=r"cannot be written; known: edn, parquet"):
        write_history(make_history([]), tmp_path / "x", format="jepsen-log")
    assert read_history(_write(tmp_path, "", "empty.edn")).height == 0


def test_make_history_errors() -> None:
    with pytest.raises(DataFormatError, match=r"row 0 must have 7 or 8 fields; got 3"):
        make_history([(0, "read", None)])
    with pytest.raises(
        DataFormatError, match=r"status must be one of \['ok', 'fail', 'info'\]; got 'done'"
    ):
        make_history([(0, "read", None, None, None, 0, 1, "done")])
    with pytest.raises(DataFormatError, match=r"complete_s must be >= invoke_s; got 1.0 < 2.0"):
        make_history([(0, "read", None, None, None, 2, 1)])


def test_overlapping_ops_of_one_process_cannot_be_written(tmp_path: Path) -> None:
    h = make_history([(0, "read", None, None, None, 0, 2), (0, "read", None, None, None, 1, 3)])
    with pytest.raises(DataFormatError, match=r"process 0 invokes row 1 at 1.0 before row 0"):
        write_history(h, tmp_path / "h.edn")
    assert not (tmp_path / "h.edn").exists()


def test_missing_or_binary_file(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"nope\.edn: cannot read the history file"):
        read_history(tmp_path / "nope.edn")
    with pytest.raises(DataFormatError, match=r"nope\.edn: cannot read the history file"):
        read_history(tmp_path / "nope.edn", format="edn")
    path = tmp_path / "bin.edn"
    path.write_bytes(b'{:process 0, :type :invoke, :f :read, :value "\xff"}\n')
    with pytest.raises(DataFormatError, match=r"bin\.edn: not UTF-8 text"):
        read_history(path)
