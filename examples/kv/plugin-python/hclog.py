"""Minimal hclog-compatible JSON logging to stderr.

A go-plugin host parses every stderr line of a plugin: a JSON object whose ``@level``,
``@message`` and ``@timestamp`` are strings, with ``@timestamp`` in the layout
``2006-01-02T15:04:05.000000Z07:00`` (exactly six fractional digits), is re-logged at that level
with the remaining keys as key/value pairs. Anything else is logged raw at DEBUG. Non-string values
in the three ``@`` fields crash a Go host, so they are always converted to strings here.
"""

import json
import sys
import threading
from datetime import datetime, timezone

LEVELS = ("trace", "debug", "info", "warn", "error")

_lock = threading.Lock()
_module = ""


def set_module(name):
    """Sets the ``@module`` field added to every line (empty: no field)."""
    global _module
    _module = str(name)


def timestamp(now=None):
    """Formats a time as hclog does: UTC, six fractional digits, ``Z``."""
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _value(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, BaseException):
        return str(v) or type(v).__name__
    return str(v)


def log(level, message, **fields):
    if level not in LEVELS:
        raise ValueError(f"unknown hclog level {level!r}")
    entry = {"@level": level, "@message": str(message), "@timestamp": timestamp()}
    if _module:
        entry["@module"] = _module
    for key, value in fields.items():
        if not key.startswith("@"):
            entry[key] = _value(value)
    line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
    with _lock:
        try:
            sys.stderr.write(line)
            sys.stderr.flush()
        except (OSError, ValueError):
            pass  # stderr gone (host died); nothing sensible left to do


def trace(message, **fields):
    log("trace", message, **fields)


def debug(message, **fields):
    log("debug", message, **fields)


def info(message, **fields):
    log("info", message, **fields)


def warn(message, **fields):
    log("warn", message, **fields)


def error(message, **fields):
    log("error", message, **fields)
