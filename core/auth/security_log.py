"""The security log stream: one JSON object per line on stderr, with nothing for the deployer to set up.

Each line says who (``user_id``), what (``event``, ``detail``), when (``at``, UTC) and from where
(``address``, the client as ProxyFix sees it). Never a password, a token, an email address or an
email's body: callers put only ids and counts in ``detail``, and ``security_events`` holds the same.

The record's message *is* the JSON line, so a deployer who routes ``sng.security`` to their own
handler (syslog, a file, a collector) gets the same JSON; our stderr handler then stays silent, so no
line is written twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from contextvars import ContextVar

LOGGER_NAME = "sng.security"
security_log = logging.getLogger(LOGGER_NAME)

# The client address of the web request being served, set by core.security before every request and
# cleared after it; None in the command line and the worker. Services never read the request: they
# take an address explicitly, or leave the log to label the event with this one.
client_address: ContextVar[str | None] = ContextVar("sng_client_address", default=None)


def line(at: dt.datetime, event: str, user_id: int | None, address: str | None, detail: str) -> str:
    """The JSON line for one security event (control characters escaped, so one event is one line)."""
    return json.dumps(
        {
            "at": at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "event": event,
            "user_id": user_id,
            "address": address,
            "detail": detail,
        },
        ensure_ascii=True,
    )


def emit(at: dt.datetime, event: str, user_id: int | None, address: str | None, detail: str) -> None:
    security_log.info(line(at, event, user_id, address, detail))


class StderrFallbackHandler(logging.Handler):
    """Writes each record's message to (the current) stderr, unless another handler would take it.

    "Another handler" is any handler on ``sng.security`` or, while records propagate, on its parents up
    to the root: a deployer's logging configuration (or pytest's capture) wins, and nothing is written
    twice. Python's own last-resort handler prints only warnings, so without this the stream was silent.
    """

    terminator = "\n"

    def emit(self, record: logging.LogRecord) -> None:
        if _handled_elsewhere(logging.getLogger(record.name), self):
            return
        try:
            stream = sys.stderr
            stream.write(self.format(record) + self.terminator)
            stream.flush()
        except Exception:  # noqa: BLE001 - logging must never break the request; report as logging does
            self.handleError(record)


def _handled_elsewhere(logger: logging.Logger, ours: logging.Handler) -> bool:
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler is not ours for handler in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent  # type: ignore[assignment]
    return False


def install() -> None:
    """Make ``sng.security`` write INFO and above as JSON lines to stderr. Idempotent: the tests and
    the worker create many apps in one process."""
    security_log.setLevel(logging.INFO)
    if not any(isinstance(h, StderrFallbackHandler) for h in security_log.handlers):
        handler = StderrFallbackHandler(level=logging.INFO)
        handler.setFormatter(logging.Formatter("%(message)s"))
        security_log.addHandler(handler)
