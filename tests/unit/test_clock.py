"""The app's clock (core/clock.py): the system clock, unless a test moves it with a file; never in production."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from core import clock, db, timeutil
from core.config import ConfigError, load_config

STRONG = "k" * 40


@pytest.fixture
def clock_file(tmp_path, monkeypatch):
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE_VARIABLE, str(path))
    return path


def _write(path, text: str, mtime_ns: int | None = None) -> None:
    path.write_text(text)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def test_without_the_variable_the_clock_is_the_system_clock(monkeypatch):
    monkeypatch.delenv(clock.CLOCK_FILE_VARIABLE, raising=False)
    before = dt.datetime.now(dt.UTC)
    now = db.utcnow()
    assert before <= now <= dt.datetime.now(dt.UTC)
    assert now.tzinfo is dt.UTC


def test_a_missing_or_empty_file_moves_nothing(clock_file):
    assert clock.offset() == dt.timedelta(0)
    _write(clock_file, "")
    assert clock.offset() == dt.timedelta(0)


def test_an_offset_in_seconds_moves_every_now_and_time_keeps_running(clock_file):
    _write(clock_file, str(3 * 86400))
    first = db.utcnow()
    assert abs(first - dt.datetime.now(dt.UTC) - dt.timedelta(days=3)) < dt.timedelta(seconds=5)
    assert clock.utcnow() >= first  # still running, not frozen
    assert clock.wall_clock() < first - dt.timedelta(days=2)  # the authenticator's clock is not moved


def test_london_today_follows_the_moved_clock(clock_file):
    _write(clock_file, str(40 * 86400))
    assert timeutil.london_today() >= (dt.datetime.now(dt.UTC) + dt.timedelta(days=39)).date()


def test_an_instant_sets_the_clock_as_of_when_the_file_was_written(clock_file):
    written = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=60)
    _write(clock_file, "2031-05-01T09:00:00+01:00", int(written.timestamp() * 1e9))
    moved = clock.utcnow()
    # One minute after it was written the clock reads one minute after the instant (within a second).
    expected = dt.datetime(2031, 5, 1, 8, 1, tzinfo=dt.UTC)
    assert abs(moved - expected) < dt.timedelta(seconds=2)


def test_a_changed_file_is_read_again(clock_file):
    _write(clock_file, "3600", 1_000_000_000_000_000_000)
    assert clock.offset() == dt.timedelta(hours=1)
    _write(clock_file, "7200", 1_000_000_001_000_000_000)
    assert clock.offset() == dt.timedelta(hours=2)
    _write(clock_file, "0", 1_000_000_002_000_000_000)
    assert clock.offset() == dt.timedelta(0)


def test_an_unchanged_file_is_not_read_again(clock_file, monkeypatch):
    _write(clock_file, "60", 1_000_000_000_000_000_000)
    assert clock.offset() == dt.timedelta(minutes=1)
    reads = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: reads.append(a) or real_open(*a, **k))
    for _ in range(5):
        assert clock.offset() == dt.timedelta(minutes=1)
    assert reads == []


@pytest.mark.parametrize("text", ["tomorrow", "2031-05-01T09:00:00", "3 days"])
def test_a_file_it_cannot_read_is_an_error_not_a_silent_real_clock(clock_file, text):
    _write(clock_file, text)
    with pytest.raises(clock.ClockFileError):
        clock.utcnow()


def test_production_refuses_to_start_with_a_test_clock(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("AUDIT_HMAC_KEY", STRONG)
    monkeypatch.setenv("MAIL_SENDER", "SNT volunteering <volunteering@police.example>")
    monkeypatch.delenv(clock.CLOCK_FILE_VARIABLE, raising=False)
    assert load_config({"ENV_NAME": "production"})["TEST_CLOCK_FILE"] is None
    monkeypatch.setenv(clock.CLOCK_FILE_VARIABLE, str(tmp_path / "clock"))
    with pytest.raises(ConfigError, match="SNG_TEST_CLOCK_FILE"):
        load_config({"ENV_NAME": "production"})
    assert load_config({"ENV_NAME": "testing"})["TEST_CLOCK_FILE"] == str(tmp_path / "clock")
