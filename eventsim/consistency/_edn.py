"""A small reader and printer for the one-line EDN maps of Jepsen/Knossos histories.

Supports what histories use: maps, vectors, lists, sets, strings, keywords, integers, floats,
``nil``, ``true``/``false`` and ``##Inf``. Keywords are read as :class:`Keyword` (a ``str``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["EdnError", "Keyword", "edn_text", "parse_edn", "to_text"]

_TOKEN = re.compile(
    r"""\s*,*\s*(?:
      (?P<open>\#\{|[{\[(])
    | (?P<close>[}\])])
    | "(?P<str>(?:[^"\\]|\\.)*)"
    | (?P<num>[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[NM]?)(?=[\s,}\])]|$)
    | (?P<inf>\#\#-?Inf|\#\#NaN)
    | (?P<kw>:[^\s,{}\[\]()"]+)
    | (?P<sym>[A-Za-z*!_?$%&=<>/.][^\s,{}\[\]()"]*)
    )""",
    re.VERBOSE,
)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_CLOSER = {"{": "}", "[": "]", "(": ")", "#{": "}"}


class EdnError(ValueError):
    """The text is not the EDN this reader supports; the message says what was expected."""


class Keyword(str):
    """An EDN keyword, without its leading colon (``Keyword("ok") == "ok"``)."""

    __slots__ = ()


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", _unescape_one, body)


def _unescape_one(m: re.Match[str]) -> str:
    code = m.group(1)
    if len(code) == 5:
        return chr(int(code[1:], 16))
    return _ESCAPES.get(code, code)


def parse_edn(text: str) -> Any:
    """Parse one EDN value from ``text`` (nothing but whitespace may follow).

    Examples
    --------
    >>> parse_edn('{:process 0, :type :ok, :value [1 "a" nil]}')
    {'process': 0, 'type': 'ok', 'value': [1, 'a', None]}
    """
    value, pos = _parse(text, 0)
    if text[pos:].strip(" \t\r\n,"):
        msg = f"unexpected text after the value at column {pos + 1}: {text[pos : pos + 20]!r}"
        raise EdnError(msg)
    return value


def _parse(text: str, pos: int) -> tuple[Any, int]:
    m = _TOKEN.match(text, pos)
    if m is None or (m.end() == pos and m.lastgroup is None):
        found = text[pos : pos + 20].strip() or "end of line"
        msg = f"expected an EDN value at column {pos + 1}; found {found!r}"
        raise EdnError(msg)
    kind = m.lastgroup
    end = m.end()
    if kind == "open":
        opener = m.group("open")
        items: list[Any] = []
        closer = _CLOSER[opener]
        while True:
            c = _TOKEN.match(text, end)
            if c is not None and c.lastgroup == "close":
                if c.group("close") != closer:
                    msg = f"expected {closer!r} at column {c.end()}; found {c.group('close')!r}"
                    raise EdnError(msg)
                end = c.end()
                break
            if c is None or c.lastgroup is None:
                msg = f"expected {closer!r} or a value at column {end + 1}; the line ends early"
                raise EdnError(msg)
            item, end = _parse(text, end)
            items.append(item)
        if opener == "{":
            if len(items) % 2:
                msg = "expected an even number of forms in a map (key value pairs)"
                raise EdnError(msg)
            return {_map_key(k): v for k, v in zip(items[::2], items[1::2])}, end
        return items, end
    if kind == "close":
        msg = f"unexpected {m.group('close')!r} at column {end}"
        raise EdnError(msg)
    if kind == "str":
        return _unescape(m.group("str")), end
    if kind == "num":
        num = m.group("num").rstrip("NM")
        return (float(num) if any(ch in num for ch in ".eE") else int(num)), end
    if kind == "inf":
        word = m.group("inf")
        return {"##Inf": math.inf, "##-Inf": -math.inf}.get(word, math.nan), end
    if kind == "kw":
        return Keyword(m.group("kw")[1:]), end
    sym = m.group("sym")
    if sym in ("nil", "true", "false"):
        return {"nil": None, "true": True, "false": False}[sym], end
    return Keyword(sym), end


def _map_key(key: Any) -> Any:
    return str(key) if isinstance(key, Keyword) else key


def to_text(value: Any) -> str | None:
    """The history frame's string form of a parsed EDN value (``nil`` → None).

    Integers print as digits, keywords as ``:name``, vectors as JSON.

    Examples
    --------
    >>> to_text(3), to_text(Keyword("timed-out")), to_text([3, 0]), to_text(None)
    ('3', ':timed-out', '[3, 0]', None)
    """
    if value is None:
        return None
    if isinstance(value, Keyword):
        return ":" + value
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps([_json_item(v) for v in value])
    return repr(value) if isinstance(value, float) else str(value)


def _json_item(value: Any) -> Any:
    if isinstance(value, Keyword):
        return ":" + value
    if isinstance(value, list):
        return [_json_item(v) for v in value]
    return value


def edn_text(text: str | None) -> str:
    """Print a frame string as the EDN value that :func:`to_text` maps back to it.

    Examples
    --------
    >>> edn_text("3"), edn_text(":timed-out"), edn_text("[3, 0]"), edn_text("x y"), edn_text(None)
    ('3', ':timed-out', '[3 0]', '"x y"', 'nil')
    """
    if text is None:
        return "nil"
    if re.fullmatch(r"-?\d+", text) and str(int(text)) == text:
        return text
    if re.fullmatch(r":[^\s,{}\[\]()\"]+", text):
        return text
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if isinstance(items, list) and json.dumps(items) == text:
            return _edn_item(items)
    return json.dumps(text, ensure_ascii=False)


def _edn_item(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_edn_item(v) for v in value) + "]"
    if isinstance(value, str):
        return value if re.fullmatch(r":[^\s,{}\[\]()\"]+", value) else json.dumps(value)
    if isinstance(value, float):
        return "##Inf" if value == math.inf else "##-Inf" if value == -math.inf else repr(value)
    return str(value)
