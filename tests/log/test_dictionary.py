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


def test_bulk_interning_of_many_new_strings_then_single_lookups():
    d = Dictionary()
    first = pl.Series([f"k{i}" for i in range(5000)])
    assert d.encode_series(first).tolist() == list(range(5000))
    assert d.encode("k4321") == 4321
    assert d.encode("new") == 5000
    second = pl.Series(["new", "k0", "other", "k4999"])
    assert d.encode_series(second).tolist() == [5000, 0, 5001, 4999]
    assert d.values_from(4999) == ["k4999", "new", "other"]
