"""Reading and writing history files: Jepsen/Knossos EDN, Jepsen text logs, Parquet.

Formats (:data:`FORMATS`)
-------------------------
``edn``
    One EDN map per line, as Jepsen and Knossos write histories and as Porcupine's kv logs
    are: ``{:process 0, :type :invoke, :f :write, :value 3}`` then
    ``{:process 0, :type :ok, :f :write, :value 3}``. ``:key`` is optional. Times come from
    ``:time-s`` (seconds, what eventsim writes) or Jepsen's ``:time`` (nanoseconds); without
    either, the position of the event among operation events is the time. Lines whose
    ``:process`` is not an integer (``:nemesis``) are skipped; so are blank lines and ``;``
    comments.
``jepsen-log``
    Jepsen's console log as in Porcupine's etcd test data:
    ``INFO  jepsen.util - 4<TAB>:invoke<TAB>:read<TAB>nil``. Other lines are log chatter and
    are skipped; times are event positions.
``parquet``
    The history frame itself.

Pairing rules: an invocation opens an operation of its process; the next ``ok``/``fail``/
``info`` of that process completes it (same ``:f``, same ``:key``). An ``info`` completion, or
none at all by the end of the file, gives status ``info`` and ``complete_s = inf``. A
completion without an open invocation, or a second invocation while one is open, is an
error, not something repaired.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from eventsim._atomic import atomic_write, atomic_write_text
from eventsim.consistency._edn import EdnError, Keyword, edn_text, parse_edn, to_text
from eventsim.consistency.history import HISTORY_SCHEMA, validate_history
from eventsim.exceptions import ConfigError, DataFormatError, closest

__all__ = ["FORMATS", "detect_format", "read_history", "write_history"]

FORMATS = ("edn", "jepsen-log", "parquet")
"""Names of the history file formats :func:`read_history` knows."""

WRITE_FORMATS = ("edn", "parquet")
"""Names of the formats :func:`write_history` can write."""

_TYPES = ("invoke", "ok", "fail", "info")
_JEPSEN_OP = re.compile(r"^INFO\s+jepsen\.util\s+-\s+(\d+)\b(.*)$")
_JEPSEN_FIELDS = re.compile(r"^\s+:(\S+)\s+:(\S+)\s+(.+?)\s*$")


class _Event:
    """One line of a history: an invocation or a completion."""

    __slots__ = ("f", "key", "line", "process", "time", "type", "value", "version")

    def __init__(self, process: int, type_: str, f: str, value: Any, line: int) -> None:
        self.process = process
        self.type = type_
        self.f = f
        self.value = value
        self.line = line
        self.key: str | None = None
        self.time: float | None = None
        self.version: int | None = None


def detect_format(path: str | Path) -> str:
    """Name the format of the history file at ``path`` from its content.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.edn"
    >>> _ = p.write_text("{:process 0, :type :invoke, :f :read, :value nil}\\n")
    >>> detect_format(p)
    'edn'
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as err:
        msg = f"{path}: cannot read the history file ({err.strerror or err})"
        raise DataFormatError(msg) from None
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.decode("utf-8", errors="replace")
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.startswith("{"):
            return "edn"
        if _JEPSEN_OP.match(stripped) or "jepsen" in stripped:
            return "jepsen-log"
        break
    else:
        return "edn"  # empty (or comments only): an empty history
    msg = (
        f"{path}: cannot tell the history format from line 1 ({text.splitlines()[0][:40]!r}); "
        f"known formats: {', '.join(FORMATS)}"
    )
    raise DataFormatError(msg)


def read_history(path: str | Path, format: str | None = None) -> pl.DataFrame:
    """Read a history file into a history frame (see :mod:`eventsim.consistency.history`).

    Parameters
    ----------
    path
        The file.
    format
        One of :data:`FORMATS`; None detects it from the content.

    Returns
    -------
    polars.DataFrame
        One row per operation in :data:`~eventsim.consistency.history.HISTORY_SCHEMA`
        (plus ``version`` when the file carries ``:version``), sorted by ``invoke_s``.

    Raises
    ------
    DataFormatError
        The file is missing, unreadable, malformed or truncated (the message names the file,
        the line and what was expected), or its events do not pair up.
    ConfigError
        ``format`` is not a known format.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.edn"
    >>> _ = p.write_text('''{:process 0, :type :invoke, :f :write, :value 3}
    ... {:process 1, :type :invoke, :f :read, :value nil}
    ... {:process 0, :type :ok, :f :write, :value 3}
    ... {:process 1, :type :ok, :f :read, :value 3}
    ... ''')
    >>> read_history(p).select("process", "op", "value", "output", "invoke_s", "complete_s").rows()
    [(0, 'write', '3', '3', 0.0, 2.0), (1, 'read', None, '3', 1.0, 3.0)]
    """
    path = Path(path)
    if format is None:
        format = detect_format(path)
    if format not in FORMATS:
        msg = f"history format {format!r} is unknown; known formats: {', '.join(FORMATS)}"
        raise ConfigError(msg + closest(format, FORMATS))
    if format == "parquet":
        try:
            frame = pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError) as err:
            msg = f"{path}: not a readable Parquet history: {str(err).splitlines()[0]}"
            raise DataFormatError(msg) from None
        return validate_history(frame, source=str(path))
    reader = _edn_events if format == "edn" else _jepsen_events
    try:
        with path.open(encoding="utf-8", errors="strict") as fh:
            events = list(reader(fh, path))
    except UnicodeDecodeError as err:
        msg = f"{path}: not UTF-8 text ({err.reason} at byte {err.start})"
        raise DataFormatError(msg) from None
    except OSError as err:
        msg = f"{path}: cannot read the history file ({err.strerror or err})"
        raise DataFormatError(msg) from None
    return _pair(events, path)


def _edn_events(lines: Iterator[str], path: Path) -> Iterator[_Event]:
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith(";"):
            continue
        try:
            item = parse_edn(text)
        except EdnError as err:
            msg = f"{path}:{number}: {err}"
            raise DataFormatError(msg) from None
        if not isinstance(item, dict):
            msg = f"{path}:{number}: expected an EDN map {{:process .., :type .., :f ..}}"
            raise DataFormatError(msg)
        missing = [k for k in ("process", "type", "f") if k not in item]
        if missing:
            msg = f"{path}:{number}: the map lacks {', '.join(':' + k for k in missing)}"
            raise DataFormatError(msg)
        process = item["process"]
        if isinstance(process, Keyword):
            continue  # :nemesis and other non-client processes carry no operation
        if not isinstance(process, int) or isinstance(process, bool):
            msg = f"{path}:{number}: :process must be an integer; got {process!r}"
            raise DataFormatError(msg)
        event = _Event(process, _type(item["type"], path, number), _name(item["f"]), None, number)
        event.value = item.get("value")
        key = item.get("key")
        event.key = None if key is None else to_text(key)
        event.time = _time(item, path, number)
        version = item.get("version")
        if version is not None and not isinstance(version, int):
            msg = f"{path}:{number}: :version must be an integer; got {version!r}"
            raise DataFormatError(msg)
        event.version = version
        yield event


def _time(item: dict[str, Any], path: Path, number: int) -> float | None:
    if "time-s" in item:
        t = item["time-s"]
    elif "time" in item:
        t = item["time"]
        t = t / 1e9 if isinstance(t, int | float) and not isinstance(t, bool) else t
    else:
        return None
    if not isinstance(t, int | float) or isinstance(t, bool) or math.isnan(t):
        msg = f"{path}:{number}: :time-s/:time must be a number; got {t!r}"
        raise DataFormatError(msg)
    return float(t)


def _type(value: Any, path: Path, number: int) -> str:
    if not isinstance(value, Keyword) or value not in _TYPES:
        msg = f"{path}:{number}: :type must be one of :{', :'.join(_TYPES)}; got {value!r}"
        raise DataFormatError(msg)
    return str(value)


def _name(value: Any) -> str:
    return str(value) if isinstance(value, str) else str(to_text(value))


def _jepsen_events(lines: Iterator[str], path: Path) -> Iterator[_Event]:
    for number, line in enumerate(lines, start=1):
        m = _JEPSEN_OP.match(line.rstrip("\r\n"))
        if m is None:
            continue  # Jepsen's own log chatter
        fields = _JEPSEN_FIELDS.match(m.group(2))
        if fields is None:
            msg = (
                f"{path}:{number}: expected 'INFO jepsen.util - <process> :<type> :<f> <value>'"
                f"; got {line.strip()[:60]!r}"
            )
            raise DataFormatError(msg)
        type_, f, raw = fields.groups()
        try:
            value = parse_edn(raw)
        except EdnError as err:
            msg = f"{path}:{number}: bad value {raw!r}: {err}"
            raise DataFormatError(msg) from None
        yield _Event(int(m.group(1)), _type(Keyword(type_), path, number), f, value, number)


def _pair(events: list[_Event], path: Path) -> pl.DataFrame:
    timed = [e.time is not None for e in events]
    if any(timed) and not all(timed):
        first = events[timed.index(not timed[0])]
        msg = f"{path}:{first.line}: some events carry :time and some do not; give all or none"
        raise DataFormatError(msg)
    rows: list[list[Any]] = []
    open_ops: dict[int, tuple[_Event, int]] = {}
    for index, ev in enumerate(events):
        t = float(index) if ev.time is None else ev.time
        if ev.type == "invoke":
            if ev.process in open_ops:
                prev = open_ops[ev.process][0]
                msg = (
                    f"{path}:{ev.line}: process {ev.process} invokes :{ev.f} while its :{prev.f}"
                    f" invoked at line {prev.line} is still open; expected a completion first"
                )
                raise DataFormatError(msg)
            open_ops[ev.process] = (ev, len(rows))
            rows.append(
                [ev.process, ev.f, ev.key, to_text(ev.value), None, t, math.inf, "info", ev.version]
            )
            continue
        if ev.process not in open_ops:
            msg = (
                f"{path}:{ev.line}: :{ev.type} :{ev.f} of process {ev.process} has no open "
                f"invocation; expected an :invoke before it"
            )
            raise DataFormatError(msg)
        inv, row_index = open_ops.pop(ev.process)
        if ev.f != inv.f or (ev.key is not None and ev.key != inv.key):
            msg = (
                f"{path}:{ev.line}: completion :{ev.f} key {ev.key!r} of process {ev.process} "
                f"does not match its invocation :{inv.f} key {inv.key!r} at line {inv.line}"
            )
            raise DataFormatError(msg)
        row = rows[row_index]
        row[4] = to_text(ev.value)
        row[7] = ev.type
        if ev.type != "info":
            row[6] = t
        if ev.version is not None:
            row[8] = ev.version
    schema = dict(HISTORY_SCHEMA)
    schema["version"] = pl.Int64()
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    if frame["version"].null_count() == frame.height:
        frame = frame.drop("version")
    return validate_history(frame.sort("invoke_s", maintain_order=True), source=str(path))


def write_history(frame: pl.DataFrame, path: str | Path, format: str = "edn") -> Path:
    """Write a history frame to ``path`` atomically (temporary file, then rename).

    ``edn`` writes one invocation and one completion line per operation, in time order, with
    ``:time-s`` (seconds) so that :func:`read_history` gives the same frame back. An ``info``
    completion is written just before the next invocation of its process (or at the end).

    Parameters
    ----------
    frame
        A history frame.
    path
        The file to write.
    format
        One of :data:`WRITE_FORMATS`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from eventsim.consistency.history import make_history
    >>> h = make_history([(0, "write", None, 1, 1, 0.0, 1.0), (1, "read", None, None, 1, 0.5, 2.0)])
    >>> p = write_history(h, pathlib.Path(tempfile.mkdtemp()) / "h.edn")
    >>> print(p.read_text().splitlines()[0])
    {:process 0, :type :invoke, :f :write, :value 1, :time-s 0.0}
    >>> read_history(p).equals(h)
    True
    """
    path = Path(path)
    if format not in WRITE_FORMATS:
        msg = f"history format {format!r} cannot be written; known: {', '.join(WRITE_FORMATS)}"
        raise ConfigError(msg + closest(format, WRITE_FORMATS))
    frame = validate_history(frame)
    if format == "parquet":
        atomic_write(path, lambda tmp: frame.write_parquet(tmp))
        return path
    atomic_write_text(path, "".join(line + "\n" for line in _edn_lines(frame)))
    return path


def _edn_lines(frame: pl.DataFrame) -> list[str]:
    has_version = "version" in frame.columns
    cols = frame.to_dict(as_series=False)
    n = frame.height
    # the info completion of an op goes just before its process's next invocation
    next_row: list[int | None] = [None] * n
    last: dict[int, int] = {}
    for i in sorted(range(n), key=lambda i: (cols["invoke_s"][i], i)):
        p = cols["process"][i]
        if p in last:
            next_row[last[p]] = i
        last[p] = i
    keyed: list[tuple[tuple[float, int, int, int], str]] = []
    for i in range(n):
        fields = [f":process {cols['process'][i]}", "", f":f {_kw(cols['op'][i])}"]
        if cols["key"][i] is not None:
            fields.append(f":key {edn_text(cols['key'][i])}")
        inv, comp, status = cols["invoke_s"][i], cols["complete_s"][i], cols["status"][i]
        version = cols["version"][i] if has_version else None
        tail = "" if version is None else f", :version {version}"
        invoke = fields.copy()
        invoke[1] = ":type :invoke"
        invoke.append(f":value {edn_text(cols['value'][i])}")
        invoke.append(f":time-s {_num(inv)}")
        done = fields.copy()
        done[1] = f":type :{status}"
        done.append(f":value {edn_text(cols['output'][i])}")
        done.append(f":time-s {_num(comp)}")
        j = next_row[i]
        if j is not None and status != "info" and cols["invoke_s"][j] < comp:
            msg = (
                f"EDN holds one open operation per process; process {cols['process'][i]} "
                f"invokes row {j} at {cols['invoke_s'][j]} before row {i} completes at {comp}"
            )
            raise DataFormatError(msg)
        if status == "info":
            when = (math.inf, 2, i, 0) if j is None else (cols["invoke_s"][j], 1, j, -1)
        elif comp > inv:
            when = (comp, 0, i, 0)
        else:  # zero duration: the completion follows its own invocation
            when = (comp, 1, i, 1)
        keyed.append(((inv, 1, i, 0), "{" + ", ".join(invoke) + tail + "}"))
        keyed.append((when, "{" + ", ".join(done) + tail + "}"))
    keyed.sort(key=lambda kv: kv[0])
    return [line for _, line in keyed]


def _kw(name: str) -> str:
    return name if name.startswith(":") else ":" + name


def _num(t: float) -> str:
    return "##Inf" if t == math.inf else repr(float(t))
