"""The dictionary gives every string one code, in order of first appearance, however the
strings arrive (one at a time, as String columns, as Enum columns), and decodes them back."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from eventsim.log.dictionary import Dictionary

WORDS = st.sampled_from(["a", "b", "c", "dd", "é", "", "key-1", "key-2", "x" * 20])
BATCH = st.lists(st.one_of(st.none(), WORDS), max_size=30)
OPS = st.lists(st.tuples(st.sampled_from(["one", "string", "enum"]), BATCH), max_size=12)


@given(OPS)
def test_codes_match_a_reference_model_under_any_mix_of_calls(ops):
    d, model = Dictionary(), {}
    for kind, batch in ops:
        expected = [-1 if v is None else model.setdefault(v, len(model)) for v in batch]
        if kind == "one":
            got = [d.encode(v) for v in batch]
        elif kind == "string":
            got = d.encode_series(pl.Series(batch, dtype=pl.String)).tolist()
        else:
            cats = sorted({v for v in batch if v is not None}, reverse=True)
            got = d.encode_series(pl.Series(batch, dtype=pl.Enum(cats))).tolist()
        assert got == expected
        assert len(d) == len(model)
        assert d.values == list(model)
    codes = np.arange(len(model), dtype=np.int32)
    assert d.decode(codes).to_list() == list(model)
    assert d.take(codes[::-1]) == list(model)[::-1]


COLUMNS = st.lists(st.tuples(st.booleans(), BATCH), max_size=4)


@given(st.lists(COLUMNS, max_size=5), st.integers(0, 5))
def test_columns_encoded_together_get_the_codes_of_one_after_the_other(batches, singles):
    """encode_columns interns the union of its columns' strings in one pass; the codes are
    those of encoding the columns one by one, whatever the dictionary held before."""
    d, model = Dictionary(), {}
    for i, columns in enumerate(batches):
        for v in ["k", *(f"s{j}" for j in range(singles))][: i + 1]:
            model.setdefault(v, len(model))
            d.encode(v)  # a few single lookups between batches
        series = []
        expected = []
        for as_enum, batch in columns:
            expected.append([-1 if v is None else model.setdefault(v, len(model)) for v in batch])
            cats = sorted({v for v in batch if v is not None})
            series.append(pl.Series(batch, dtype=pl.Enum(cats) if as_enum else pl.String))
        assert [c.tolist() for c in d.encode_columns(series)] == expected
        assert d.values == list(model)


def test_large_columns_hashed_on_threads_share_codes():
    d = Dictionary()
    a = pl.Series([f"o{i % 150_000}" for i in range(200_000)])
    b = pl.Series([f"o{i}" for i in range(100_000, 300_000)])
    ca, cb = d.encode_columns([a, b])
    assert len(d) == 300_000
    assert (ca[:150_000] == np.arange(150_000)).all()
    assert (ca[150_000:] == ca[:50_000]).all()
    assert (cb[:50_000] == np.arange(100_000, 150_000)).all()
    assert (cb[50_000:] == np.arange(150_000, 300_000)).all()
    assert d.decode(cb[-1:]).to_list() == ["o299999"]


def test_bulk_interning_of_many_new_strings_then_single_lookups():
    d = Dictionary()
    first = pl.Series([f"k{i}" for i in range(5000)])
    assert d.encode_series(first).tolist() == list(range(5000))
    assert d.encode("k4321") == 4321
    assert d.encode("new") == 5000
    second = pl.Series(["new", "k0", "other", "k4999"])
    assert d.encode_series(second).tolist() == [5000, 0, 5001, 4999]
    assert d.values_from(4999) == ["k4999", "new", "other"]
