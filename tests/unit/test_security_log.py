"""The security log stream: JSON lines on stderr with no set-up, and never twice when logging is configured.

Each case runs in a fresh Python process, as a deployed server would start: pytest's own log capture
would otherwise count as "logging configured".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_APP = """
from core import create_app
create_app({"ENV_NAME": "testing", "DATABASE_URL": "sqlite://", "SECRET_KEY": "x" * 40})
"""
_EVENT = """
import datetime as dt
from core.auth import security_log
security_log.client_address.set("203.0.113.9")
security_log.emit(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC), "sign_in_failed", 7, "203.0.113.9", "line\\nbreak")
"""


def _stderr(script: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stderr.splitlines()


def test_without_any_logging_set_up_each_event_is_one_json_line_on_stderr():
    [line] = _stderr(_APP + _APP + _EVENT)  # the tests and the worker make many apps: still one handler
    assert json.loads(line) == {
        "at": "2026-12-07T09:00:00.000Z",
        "event": "sign_in_failed",
        "user_id": 7,
        "address": "203.0.113.9",
        "detail": "line\nbreak",  # escaped in the line: one event is one line, whatever the detail holds
    }


def test_with_logging_configured_the_line_goes_there_once():
    configured = "import logging, sys\nlogging.basicConfig(stream=sys.stderr, format='root: %(message)s')\n"
    # Configured before the app is made, and after it.
    for script in (configured + _APP + _EVENT, _APP + configured + _EVENT):
        [line] = _stderr(script)
        assert line.startswith("root: {") and json.loads(line.removeprefix("root: "))["event"] == "sign_in_failed"


def test_a_handler_of_its_own_on_the_security_logger_takes_it_instead():
    own = (
        "import logging, sys\n"
        "handler = logging.StreamHandler(sys.stderr)\n"
        "handler.setFormatter(logging.Formatter('own: %(message)s'))\n"
        "logging.getLogger('sng.security').addHandler(handler)\n"
    )
    [line] = _stderr(_APP + own + _EVENT)
    assert line.startswith("own: {")
