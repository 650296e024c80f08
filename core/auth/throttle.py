"""Throttling rules: a growing delay instead of a lock. Pure: no Flask, no ORM.

Why not a lock: a lock after N failures lets anyone keep an account's owner out by sending a few
wrong passwords now and then (issue #18: one request every 15 minutes kept a coordinator out for
good). Here failures only make the *next* try wait, the wait grows with each failure up to a
ceiling, and the count starts again once the longest wait has passed with no new failure, so a slow
attacker never builds up a delay at all and a fast one stops mattering as soon as they stop.

While a counter is in its delay, a try is refused without looking at the password (so guessing is
really slowed, not just answered later), with the same message and cost as a wrong password.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

# 2**40 seconds is 35,000 years: no configured ceiling is longer, and the power stays small.
_MAX_DOUBLINGS = 40


@dataclass(frozen=True)
class Delay:
    """``free`` tries may fail back to back; after the ``free``-th failure in a row the next try waits
    ``first``, after each further one twice as long, never longer than ``longest``. The count starts
    afresh once ``longest`` has passed since the last failure."""

    free: int
    first: dt.timedelta
    longest: dt.timedelta

    def __post_init__(self) -> None:
        if self.free < 1 or self.first <= dt.timedelta(0) or self.longest < self.first:
            raise ValueError("a delay needs free >= 1 and 0 < first <= longest")

    def after(self, failures: int) -> dt.timedelta:
        """How long the next try must wait after the ``failures``-th failure in a row."""
        if failures < self.free:
            return dt.timedelta(0)
        doublings = min(failures - self.free, _MAX_DOUBLINGS)
        return min(self.first * 2**doublings, self.longest)

    def blocked_until(self, failures: int, at: dt.datetime) -> dt.datetime | None:
        """When the next try may be made, after the ``failures``-th failure at ``at``; None: at once."""
        wait = self.after(failures)
        return at + wait if wait else None

    def starts_afresh(self, last_failure: dt.datetime, now: dt.datetime) -> bool:
        """Whether the count of failures begins again at ``now``."""
        return now - last_failure >= self.longest


@dataclass(frozen=True)
class Ceiling:
    """At most ``limit`` failures in each fixed ``window`` (a calendar minute, say) across the service."""

    limit: int
    window: dt.timedelta

    def window_start(self, now: dt.datetime) -> dt.datetime:
        """The start of the window ``now`` falls in (windows are aligned to the Unix epoch)."""
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return now - (now - epoch) % self.window


def address_key(address: str | None) -> str:
    """The client address as throttling counts it: an IPv4 address as it is, an IPv6 address by its
    /64 network (one household or server is given a whole /64, so counting single IPv6 addresses
    would let one client take a fresh address for every try), anything unparseable as 'unknown'."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return "unknown"
    if ip.version == 6:
        mapped = ip.ipv4_mapped  # type: ignore[union-attr]
        if mapped is not None:
            return str(mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
