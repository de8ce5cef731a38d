"""``eventsim check-history``: verdicts and exit statuses on Porcupine's samples and on
histories written to temporary files; bad input exits 2 with one line on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest
from _porcupine import PORCUPINE

from eventsim.cli import main
from eventsim.consistency import make_history, simulate_history, write_history


@pytest.mark.parametrize(("name", "expected"), PORCUPINE.items())
def test_porcupine_samples(
    shared_data: Path, name: str, expected: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_data / "porcupine-sample" / name
    model = "kv" if name.startswith("kv") else "register"
    code = main(["check-history", str(path), "--model", model])
    out = capsys.readouterr()
    assert code == (0 if expected else 1)
    first = out.out.splitlines()[0]
    assert first.startswith(f"{path}: ")
    assert ("NOT linearizable" in first) is not expected
    assert f"model {model}" in first
    assert out.err == ""
    if not expected:
        assert "cannot place row" in out.out


def test_model_is_detected_from_the_operations(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-history", str(shared_data / "porcupine-sample/kv/c01-ok.txt")]) == 0
    assert "model kv" in capsys.readouterr().out
    assert main(["check-history", str(shared_data / "porcupine-sample/etcd/etcd_002.log")]) == 0
    assert "model register" in capsys.readouterr().out


def test_written_histories(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_history(simulate_history(300, n_keys=4, seed=3), tmp_path / "good.edn")
    stale = simulate_history(300, n_keys=4, ops=("read", "write"), p_stale=0.3, seed=3)
    bad = write_history(stale, tmp_path / "bad.parquet", format="parquet")
    assert main(["check-history", str(good)]) == 0
    assert "linearizable (300 ops, 4 key(s), model kv" in capsys.readouterr().out
    assert main(["check-history", str(bad), "--format", "parquet"]) == 1
    out = capsys.readouterr().out
    assert "NOT linearizable" in out
    assert "model register" in out


def test_unknown_when_the_budget_runs_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_history(simulate_history(2000, n_keys=20, seed=1), tmp_path / "h.edn")
    code = main(["check-history", str(path), "--time-budget-s", "1e-9"])
    assert code == 3
    assert "unknown: the time budget of 1e-09 s ran out" in capsys.readouterr().out


def _bad(tmp_path: Path) -> dict[str, list[str]]:
    garbage = tmp_path / "garbage.edn"
    garbage.write_text("{:process 0, :type :invoke, :f :read\n")
    text = tmp_path / "notes.txt"
    text.write_text("hello world\n")
    kv = write_history(simulate_history(20, seed=1), tmp_path / "kv.edn")
    unpaired = tmp_path / "unpaired.edn"
    unpaired.write_text("{:process 0, :type :ok, :f :read, :value 1}\n")
    return {
        "missing": [str(tmp_path / "nope.edn")],
        "truncated": [str(garbage)],
        "not a history": [str(text)],
        "unpaired": [str(unpaired)],
        "model typo": [str(kv), "--model", "regster"],
        "model mismatch": [str(kv), "--model", "register"],
        "negative budget": [str(kv), "--time-budget-s", "-1"],
        "format typo": [str(kv), "--format", "ednn"],
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "truncated",
        "not a history",
        "unpaired",
        "model typo",
        "model mismatch",
        "negative budget",
        "format typo",
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check-history", *_bad(tmp_path)[case]])
    out = capsys.readouterr()
    assert code == 2
    assert out.out == ""
    lines = out.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("eventsim: error: ")
    assert "Traceback" not in out.err


def test_messages_name_what_is_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = _bad(tmp_path)
    main(["check-history", *cases["model typo"]])
    assert "did you mean 'register'?" in capsys.readouterr().err
    main(["check-history", *cases["model mismatch"]])
    assert "model 'register' has no operation" in capsys.readouterr().err
    main(["check-history", *cases["missing"]])
    assert "nope.edn: cannot read the history file" in capsys.readouterr().err


def test_empty_history_is_linearizable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_history(make_history([]), tmp_path / "empty.edn")
    assert main(["check-history", str(path), "--model", "register"]) == 0
    assert "linearizable (0 ops" in capsys.readouterr().out
