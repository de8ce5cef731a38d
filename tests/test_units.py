"""Durations at the edges: ``"90s"``, ``"30m"``, ``"2h"`` → seconds, and back."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from eventsim.exceptions import ScenarioError
from eventsim.units import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("90s", 90.0),
        ("30m", 1800.0),
        ("30min", 1800.0),
        ("2h", 7200.0),
        ("1.5h", 5400.0),
        ("1d", 86400.0),
        ("2w", 1209600.0),
        ("1e3ms", 1.0),
        (" 5 m ", 300.0),
        ("42", 42.0),
        ("-5s", -5.0),
        ("+3s", 3.0),
        (90, 90.0),
        (2.5, 2.5),
    ],
)
def test_parse_duration(text: str | float, seconds: float) -> None:
    got = parse_duration(text)
    assert got == seconds
    assert type(got) is float


@pytest.mark.parametrize(
    "bad", ["10 parsecs", "abc", "5x", "", "s", "1.2.3s", "h2", "5 h m", "1 H"]
)
def test_bad_duration_strings_name_field_value_and_units(bad: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_duration(bad, "drain")
    msg = str(info.value)
    assert msg.startswith("drain must be a duration like 90s, 30m or 2h")
    assert "units: ms, s, m, min, h, d, w" in msg
    assert msg.endswith(f"got {bad!r}")
    assert "\n" not in msg


@pytest.mark.parametrize("bad", [True, False])
def test_booleans_are_not_durations(bad: bool) -> None:
    with pytest.raises(ScenarioError, match=f"duration must be a duration.*got {bad!r}"):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1800, "30m"), (7200, "2h"), (86400, "1d"), (95, "95s"), (0.25, "0.25s"), (0, "0s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@given(
    seconds=st.one_of(
        st.integers(0, 10**9).map(float),
        st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
    )
)
@example(seconds=0.0)
@example(seconds=1e-7)
def test_format_then_parse_is_exact(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds
