"""RFC 8785 canonical JSON, fast where that is provably exact (pure: no database, no I/O).

`rfc8785` is the reference (~70 µs an entry). For the entries this log
writes, orjson with sorted keys gives the same bytes in ~1 µs, and `scan`
says when that is so: only strings, null, booleans, integers a double
represents exactly, lists, and dicts whose keys are ASCII (RFC 8785 sorts keys
by UTF-16 code units; for ASCII that is orjson's byte order). Floats and
anything else take the reference path, whose number formatting follows
ECMAScript. A Hypothesis test holds the two paths byte-equal.

The log writes entries with it (`transparency/appends.py`), the independent
verifier (`transparency/verify.py`) checks them with it, and the record chains
(`safeslot/chain.py`) hash rows with it: it is in the kit because the kernel's
chains need it as much as the log does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson
import rfc8785

MAX_SAFE_INTEGER = 2**53 - 1  # RFC 8785 numbers are IEEE 754 doubles


def scan(value: dict[str, Any], flagged_keys: Iterable[str] = frozenset()) -> tuple[bool, bool]:
    """One pass over an object: (plain, holds a key in ``flagged_keys``, compared in lower case).

    Iterative, because appends are hot.
    """
    flagged = flagged_keys if isinstance(flagged_keys, frozenset) else frozenset(flagged_keys)
    plain, found = True, False
    stack: list[Any] = [value]
    while stack:
        v = stack.pop()
        is_dict = type(v) is dict
        for k, x in v.items() if is_dict else enumerate(v):
            if is_dict:
                if type(k) is not str or not k.isascii():
                    plain = False
                elif flagged and k.lower() in flagged:
                    found = True
            t = type(x)
            if t is str or t is bool or x is None:
                continue
            if t is dict or t is list:
                stack.append(x)
            elif t is int:
                if not -MAX_SAFE_INTEGER <= x <= MAX_SAFE_INTEGER:
                    plain = False
            else:
                plain = False  # floats, tuples, other mappings: the reference path
    return plain, found


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON: orjson when provably identical, else `rfc8785`."""
    if type(value) is dict and scan(value)[0]:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # e.g. a lone surrogate: let rfc8785 name the problem
    return rfc8785.dumps(value)


def _number(text: str) -> int | float:
    """A JSON integer as RFC 8785 reads it: beyond 2**53 it is a double (``9007199254740992`` is 2.0**53)."""
    n = int(text)
    return n if -MAX_SAFE_INTEGER <= n <= MAX_SAFE_INTEGER else float(n)


def is_canonical_object(data: bytes) -> tuple[Any, bool]:
    """Parse ``data``; (the value, whether ``data`` is exactly its RFC 8785 form). Raises ValueError if not JSON."""
    try:
        value = orjson.loads(data)
        if canonical_json(value) == data:
            return value, True
    except (orjson.JSONDecodeError, rfc8785.CanonicalizationError, TypeError, ValueError):
        pass
    # The slow, exact reading: numbers as doubles, as RFC 8785 defines them (rare: floats, big numbers).
    value = json.loads(data, parse_int=_number)
    try:
        return value, rfc8785.dumps(value) == data
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        return value, False
