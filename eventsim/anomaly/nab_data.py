"""Reading the Numenta Anomaly Benchmark (NAB) layout: series, label windows, published results.

A NAB folder holds ``data/<group>/<file>.csv`` (header ``timestamp,value``) and
``labels/combined_windows.json`` (``{"<group>/<file>.csv": [[start, end], ...]}``), optionally
``results/<detector>/<group>/<detector>_<file>.csv`` with a detector's ``anomaly_score`` per
row. Bad input raises :class:`~eventsim.exceptions.DataFormatError` naming the file and line.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from eventsim.exceptions import DataFormatError

__all__ = ["NabCorpus", "load_nab", "read_nab_results"]

_TS_FORMAT = "%Y-%m-%d %H:%M:%S"
_WINDOW_FORMAT = "%Y-%m-%d %H:%M:%S%.f"


class NabCorpus(dict[str, pl.DataFrame]):
    """The series of a NAB folder, keyed by path relative to ``data/``, plus their windows.

    A plain ``dict[str, polars.DataFrame]`` with two companion attributes:

    - ``windows``: series → list of ``(start, end)`` datetimes, inclusive, as labelled;
    - ``window_rows``: series → list of ``(first_row, last_row)`` inclusive row indices, found
      as NAB finds them (the first row at or after the previous window whose timestamp matches
      ``start``; the first row whose timestamp matches ``end``).

    Each frame has the columns ``timestamp`` (Datetime[us], file order kept, never sorted),
    ``value`` (Float64), ``label`` (Boolean: row inside a window) and ``window`` (Int32: index
    of the window holding the row, null outside).

    Examples
    --------
    >>> corpus = NabCorpus({}, windows={}, window_rows={})
    >>> len(corpus), corpus.windows
    (0, {})
    """

    def __init__(
        self,
        frames: dict[str, pl.DataFrame],
        *,
        windows: dict[str, list[tuple[datetime, datetime]]],
        window_rows: dict[str, list[tuple[int, int]]],
    ) -> None:
        super().__init__(frames)
        self.windows = windows
        self.window_rows = window_rows

    def n_windows(self) -> int:
        """Number of windows over all series (what NAB's perfect and null scores count)."""
        return sum(len(w) for w in self.window_rows.values())


def _json_line(text: str, key: str) -> int:
    """1-based line of ``"key"`` in a JSON text (1 when not found)."""
    needle = json.dumps(key)
    for n, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return n
    return 1


def _read_series(path: Path, name: str) -> pl.DataFrame:
    try:
        raw = pl.read_csv(path, schema={"timestamp": pl.String, "value": pl.String})
    except (pl.exceptions.PolarsError, OSError) as exc:
        msg = f"{path}: cannot read NAB series {name!r} (header must be 'timestamp,value'): {exc}"
        raise DataFormatError(msg) from None
    frame = raw.select(
        pl.col("timestamp").str.strptime(pl.Datetime("us"), _TS_FORMAT, strict=False),
        pl.col("value").cast(pl.Float64, strict=False),
    )
    for col, what in (("timestamp", f"a timestamp '{_TS_FORMAT}'"), ("value", "a number")):
        bad = frame[col].is_null() & raw[col].is_not_null() | raw[col].is_null()
        if bad.any():
            row = int(bad.arg_true()[0])
            msg = (
                f"{path}, line {row + 2}: {col} {raw[col][row]!r} is not {what} "
                f"(NAB series {name!r})"
            )
            raise DataFormatError(msg)
    return frame


def _window_rows(
    ts: np.ndarray, limits: list[tuple[datetime, datetime]], where: str
) -> list[tuple[int, int]]:
    rows: list[tuple[int, int]] = []
    start_from = 0
    for start, end in limits:
        hit = np.flatnonzero(ts[start_from:] == np.datetime64(start, "us"))
        last = np.flatnonzero(ts == np.datetime64(end, "us"))
        if hit.size == 0 or last.size == 0:
            missing = start if hit.size == 0 else end
            msg = f"{where}: window timestamp {missing} is not a timestamp of the series"
            raise DataFormatError(msg)
        first = int(hit[0]) + start_from
        if int(last[0]) < first:
            msg = f"{where}: window [{start}, {end}] ends before it starts in the series"
            raise DataFormatError(msg)
        rows.append((first, int(last[0])))
        start_from = int(last[0]) + 1
    return rows


def _parse_limits(entry: object, where: str) -> list[tuple[datetime, datetime]]:
    if not isinstance(entry, list) or not all(
        isinstance(w, list) and len(w) == 2 and all(isinstance(t, str) for t in w) for w in entry
    ):
        msg = f"{where}: windows must be a list of [start, end] timestamp strings; got {entry!r}"
        raise DataFormatError(msg)
    flat = pl.Series([t for w in entry for t in w], dtype=pl.String)
    parsed = flat.str.strptime(pl.Datetime("us"), _WINDOW_FORMAT, strict=False)
    if parsed.null_count():
        bad = flat[int(parsed.is_null().arg_true()[0])]
        msg = f"{where}: window timestamp {bad!r} is not 'YYYY-MM-DD HH:MM:SS[.ffffff]'"
        raise DataFormatError(msg)
    values = parsed.to_list()
    return [(values[k], values[k + 1]) for k in range(0, len(values), 2)]


def load_nab(folder: str | Path) -> NabCorpus:
    """Load a NAB folder: one frame per series plus its label windows.

    Parameters
    ----------
    folder
        A folder with ``data/<group>/<file>.csv`` and ``labels/combined_windows.json``.

    Returns
    -------
    NabCorpus
        ``dict`` series path (``"realKnownCause/nyc_taxi.csv"``) → frame with columns
        ``timestamp`` (Datetime[us]), ``value`` (Float64), ``label`` (Boolean),
        ``window`` (Int32, null outside windows); window bounds in ``.windows`` (datetimes)
        and ``.window_rows`` (row indices), see :class:`NabCorpus`.

    Raises
    ------
    DataFormatError
        Missing folder or files, unparsable timestamps or values (file and line named),
        windows naming a series absent from ``data/`` or a timestamp absent from the series,
        a series without an entry in the windows file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "data" / "g").mkdir(parents=True); (root / "labels").mkdir()
    >>> rows = [f"2020-01-01 00:0{m}:00,{m}" for m in range(6)]
    >>> _ = (root / "data/g/s.csv").write_text("timestamp,value\\n" + "\\n".join(rows))
    >>> w = {"g/s.csv": [["2020-01-01 00:02:00.000000", "2020-01-01 00:03:00.000000"]]}
    >>> _ = (root / "labels/combined_windows.json").write_text(json.dumps(w))
    >>> corpus = load_nab(root)
    >>> corpus["g/s.csv"]["label"].to_list(), corpus.window_rows
    ([False, False, True, True, False, False], {'g/s.csv': [(2, 3)]})
    """
    root = Path(folder)
    data_dir = root / "data"
    labels_path = root / "labels" / "combined_windows.json"
    for needed in (data_dir, labels_path):
        if not needed.exists():
            msg = f"{needed}: not found; a NAB folder needs data/<group>/<file>.csv and labels/"
            raise DataFormatError(msg)
    text = labels_path.read_text()
    try:
        labels = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{labels_path}, line {exc.lineno}: not valid JSON ({exc.msg})"
        raise DataFormatError(msg) from None
    if not isinstance(labels, dict):
        msg = f"{labels_path}, line 1: expected an object keyed by series path"
        raise DataFormatError(msg)
    paths = sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*.csv"))
    for name in labels:
        if name not in paths:
            line = _json_line(text, name)
            msg = f"{labels_path}, line {line}: windows name unknown series {name!r}"
            raise DataFormatError(msg)
    frames: dict[str, pl.DataFrame] = {}
    windows: dict[str, list[tuple[datetime, datetime]]] = {}
    window_rows: dict[str, list[tuple[int, int]]] = {}
    for name in paths:
        if name not in labels:
            msg = f"{labels_path}: series {name!r} in data/ has no windows entry (use [] for none)"
            raise DataFormatError(msg)
        where = f"{labels_path}, line {_json_line(text, name)}"
        frame = _read_series(data_dir / name, name)
        limits = _parse_limits(labels[name], where)
        rows = _window_rows(frame["timestamp"].to_numpy(), limits, where)
        window = np.full(frame.height, -1, dtype=np.int32)
        for k, (first, last) in enumerate(rows):
            window[first : last + 1] = k
        win = pl.Series("window", window).replace(-1, None)
        frames[name] = frame.with_columns(label=win.is_not_null(), window=win)
        windows[name] = limits
        window_rows[name] = rows
    return NabCorpus(frames, windows=windows, window_rows=window_rows)


def read_nab_results(
    results_dir: str | Path, detector: str, series: list[str] | dict[str, pl.DataFrame]
) -> dict[str, np.ndarray]:
    """Read a detector's published NAB outputs: series → ``anomaly_score`` array.

    Parameters
    ----------
    results_dir
        NAB's ``results`` folder, holding ``<detector>/<group>/<detector>_<file>.csv``.
    detector
        Detector folder name (``"randomCutForest"``, ``"numenta"``, ...).
    series
        Series paths to read (or a corpus whose keys are used); with frames, row counts are
        checked against them.

    Returns
    -------
    dict[str, numpy.ndarray]
        Float64 anomaly scores, one per row of the series.

    Raises
    ------
    DataFormatError
        A results file is missing, lacks ``anomaly_score``, has a non-numeric score or a row
        count different from its series.

    Examples
    --------
    >>> read_nab_results("/nonexistent", "numenta", [])
    {}
    """
    out: dict[str, np.ndarray] = {}
    for name in series:
        group, _, file = name.rpartition("/")
        path = Path(results_dir) / detector / group / f"{detector}_{file}"
        if not path.is_file():
            msg = f"{path}: results file of detector {detector!r} for series {name!r} not found"
            raise DataFormatError(msg)
        raw = pl.read_csv(path, infer_schema=False)
        if "anomaly_score" not in raw.columns:
            msg = f"{path}, line 1: no 'anomaly_score' column; columns are {raw.columns}"
            raise DataFormatError(msg)
        col = raw["anomaly_score"]
        scores = col.cast(pl.Float64, strict=False)
        if scores.is_null().any():
            row = int(scores.is_null().arg_true()[0])
            msg = f"{path}, line {row + 2}: anomaly_score {col[row]!r} is not a number"
            raise DataFormatError(msg)
        if isinstance(series, dict) and series[name].height != raw.height:
            msg = (
                f"{path}: {raw.height} rows but series {name!r} has {series[name].height}; "
                "results must have one row per series row"
            )
            raise DataFormatError(msg)
        out[name] = scores.to_numpy()
    return out
