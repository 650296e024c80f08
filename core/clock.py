"""The app's clock: what "now" is for every business rule. Pure: the standard library only.

In production it is the system clock. A browser test has to let a deployment's time pass in an app
served by another process (tests/e2e/test_after_deployment.py), so the clock can be moved by a file:
``SNG_TEST_CLOCK_FILE`` names a file holding either an offset in seconds ("259200" is three days
ahead) or an ISO instant with its time zone ("2026-12-10T09:00:00+00:00": the clock read that when
the file was written, and runs on from there). Time keeps flowing either way, so session limits,
throttles and offer deadlines behave as they would. A missing or empty file means no offset.

Test-only: ``core.config`` refuses to start in production with the variable set. The file is read
again only when its modification time changes, so a request pays one ``stat`` per "now".

Authenticator codes are the one exception (``wall_clock``): the code on a person's phone follows
real time whatever the app's clock says, so core/auth/mfa.py checks codes against the system clock.
"""

from __future__ import annotations

import datetime as dt
import os
import threading

CLOCK_FILE_VARIABLE = "SNG_TEST_CLOCK_FILE"

_lock = threading.Lock()
# (path, modification time in ns, size) → offset from the system clock, of the file last read.
_cached: tuple[tuple[str, int, int], dt.timedelta] | None = None


class ClockFileError(ValueError):
    """The test clock file holds something other than seconds or an ISO instant with a time zone."""


def wall_clock() -> dt.datetime:
    """The system clock, whatever the test clock says: only for what follows real time outside the app
    (the authenticator app's codes)."""
    return dt.datetime.now(dt.UTC)


def parse_offset(text: str, written_at: dt.datetime) -> dt.timedelta:
    """The offset a clock file's ``text`` sets, for a file written at ``written_at`` (system time)."""
    text = text.strip()
    if not text:
        return dt.timedelta(0)
    try:
        return dt.timedelta(seconds=float(text))
    except ValueError:
        pass
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ClockFileError(f"the test clock file must hold seconds or an ISO instant, not {text[:40]!r}") from None
    if instant.tzinfo is None:
        raise ClockFileError("the test clock's instant needs a time zone (for example +00:00)")
    return instant - written_at


def offset() -> dt.timedelta:
    """How far the app's clock is from the system clock: zero unless a test clock file says otherwise."""
    global _cached
    path = os.environ.get(CLOCK_FILE_VARIABLE)
    if not path:
        return dt.timedelta(0)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return dt.timedelta(0)
    key = (path, stat.st_mtime_ns, stat.st_size)
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    with _lock:
        with open(path, encoding="utf-8") as file:
            text = file.read()
        written_at = dt.datetime.fromtimestamp(stat.st_mtime_ns / 1e9, dt.UTC)
        found = parse_offset(text, written_at)
        _cached = (key, found)
        return found


def utcnow() -> dt.datetime:
    """Now, as an aware UTC datetime, on the app's clock."""
    return dt.datetime.now(dt.UTC) + offset()
