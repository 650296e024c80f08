"""Throttling rules (core.auth.throttle) and the one-Argon2-per-try rule of verify_password."""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pytest

from core.auth.passwords import hash_password, verify_password
from core.auth.throttle import Ceiling, Delay, address_key

T0 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
SIGN_IN = Delay(free=5, first=dt.timedelta(seconds=1), longest=dt.timedelta(minutes=15))


def test_free_failures_cost_nothing_then_the_wait_doubles_up_to_the_longest():
    # Five tries back to back; after the fifth failure the next waits 1 s (issue #18: min(2^(n-5) s, 15 min)).
    assert [SIGN_IN.after(n).total_seconds() for n in range(6)] == [0, 0, 0, 0, 0, 1]
    assert [SIGN_IN.after(n).total_seconds() for n in range(6, 16)] == [2, 4, 8, 16, 32, 64, 128, 256, 512, 900]
    assert SIGN_IN.after(10_000) == dt.timedelta(minutes=15)  # no overflow however many


def test_blocked_until_is_none_while_free():
    assert SIGN_IN.blocked_until(4, T0) is None
    assert SIGN_IN.blocked_until(5, T0) == T0 + dt.timedelta(seconds=1)


def test_the_count_starts_afresh_once_the_longest_delay_has_passed():
    assert not SIGN_IN.starts_afresh(T0, T0 + dt.timedelta(minutes=14, seconds=59))
    assert SIGN_IN.starts_afresh(T0, T0 + dt.timedelta(minutes=15))


def test_a_delay_rule_must_make_sense():
    with pytest.raises(ValueError):
        Delay(free=0, first=dt.timedelta(seconds=1), longest=dt.timedelta(minutes=1))
    with pytest.raises(ValueError):
        Delay(free=5, first=dt.timedelta(minutes=2), longest=dt.timedelta(minutes=1))


def test_ceiling_windows_are_calendar_minutes():
    ceiling = Ceiling(limit=120, window=dt.timedelta(minutes=1))
    assert ceiling.window_start(T0 + dt.timedelta(seconds=59, microseconds=5)) == T0
    assert ceiling.window_start(T0 + dt.timedelta(seconds=60)) == T0 + dt.timedelta(minutes=1)


def test_address_keys():
    assert address_key("203.0.113.9") == "203.0.113.9"
    # A client holds a whole IPv6 /64: counting single addresses would give it 2**64 fresh starts.
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("::ffff:203.0.113.9") == "203.0.113.9"
    assert address_key(None) == address_key("") == address_key("not an address") == "unknown"


def _median_seconds(check, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        check()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_an_account_with_no_password_yet_costs_one_argon2_verification_like_any_other():
    real = hash_password("the owner's real passphrase")
    imported = "!" + "x" * 43  # what an import or an invitation stores until a password is chosen
    assert not verify_password(imported, "a guess at the password")
    wrong = _median_seconds(lambda: verify_password(real, "a guess at the password"))
    no_password = _median_seconds(lambda: verify_password(imported, "a guess at the password"))
    unknown = _median_seconds(lambda: verify_password(None, "a guess at the password"))
    # Generous: the point is a factor of ten or more (11 ms against 169 ms in issue #18), not noise.
    assert no_password > wrong / 3 and unknown > wrong / 3
