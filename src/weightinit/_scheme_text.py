"""The one-line scheme notation ``name(key=value, ...)`` that ``weightinit inspect``
prints, e.g. ``normal(mean=0,std=0.01)``: parsed here so that the CLI and spec files
accept what the tool shows."""
from __future__ import annotations

import ast
import re

_CALL = re.compile(r"\s*([A-Za-z_][\w]*)\s*(?:\((.*)\))?\s*\Z", re.S)
_WORD = re.compile(r"[A-Za-z_][\w.\-]*\Z")
_SPECIAL = {"inf": float("inf"), "-inf": float("-inf"), "+inf": float("inf"), "nan": float("nan"),
            "none": None, "true": True, "false": False}


def is_call(text: str) -> bool:
    """True when `text` carries parameters in parentheses."""
    return "(" in text


def _split_top(body: str) -> list[str]:
    """Split at commas outside brackets and quotes."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in body:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    if quote or depth:
        raise ValueError(f"unbalanced brackets or quotes in {body!r}")
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def parse_value(text: str):
    """A Python literal (number, quoted str, list, tuple, None, True, False), inf/nan,
    or a bare word (``fan_in``) as a str."""
    t = text.strip()
    if t.lower() in _SPECIAL:
        return _SPECIAL[t.lower()]
    try:
        return ast.literal_eval(t)
    except (ValueError, SyntaxError):
        pass
    if _WORD.match(t):
        return t
    raise ValueError(f"cannot read the value {t!r} (a number, a word, a quoted string or a list)")


def parse_call(text: str) -> tuple[str, dict]:
    """``"normal(std=0.01)"`` -> ``("normal", {"std": 0.01})``; a bare name -> ``(name, {})``."""
    if not isinstance(text, str):
        raise TypeError(f"scheme must be a str, got {type(text).__name__} {text!r}")
    m = _CALL.match(text)
    if not m:
        raise ValueError(f"scheme {text!r} is not NAME or NAME(key=value, ...), e.g. normal(std=0.01)")
    name, body = m.group(1), m.group(2)
    params = {}
    for part in _split_top(body or ""):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ValueError(f"scheme {text!r}: parameter {part!r} is not key=value")
        if key in params:
            raise ValueError(f"scheme {text!r}: parameter {key!r} given twice")
        params[key] = parse_value(value)
    return name, params
