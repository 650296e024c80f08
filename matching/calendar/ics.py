"""iCalendar files: the calendar feeds and the .ics attached to booking confirmations.

Pure (no Flask, no ORM) so the feed views and the emails build the same file from the same
facts. The ``icalendar`` library does the escaping, folding and the VTIMEZONE; this module
decides what a booking looks like in someone's calendar.

Times are written in Europe/London with a TZID, so a calendar app shows the wall-clock time
the sergeant asked for, whatever zone the phone is in. The one exception is the second 01:xx
on the night the clocks go back: RFC 5545 reads an ambiguous local time as its first
occurrence, so such a time is written in UTC instead, or it would show an hour early.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

LONDON = ZoneInfo("Europe/London")
LONDON_TZID = "Europe/London"
DEFAULT_SERVICE = "SNT volunteer matching"

# The VTIMEZONE lists every clock change between these margins around the events: enough for
# any app to place them, without the half-century of rules icalendar writes by default.
_ZONE_MARGIN = dt.timedelta(days=400)


@dataclass(frozen=True)
class CalendarEvent:
    """One booking or request as a calendar shows it.

    ``uid`` must stay the same for the same booking across every file we ever send (the feed
    and the emails), so that a calendar updates or drops its copy rather than adding a second.
    ``sequence`` goes up when a booking changes, for apps that compare it.
    """

    uid: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    summary: str
    description: str = ""
    location: str = ""
    cancelled: bool = False
    sequence: int = 0

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("calendar times must be timezone-aware")
        if self.ends_at < self.starts_at:
            raise ValueError("a calendar event cannot end before it starts")
        if not self.uid:
            raise ValueError("a calendar event needs a UID")


def service_domain(public_url: str) -> str:
    """The host of the service's public address, for UIDs ("offer-12@volunteers.police.example")."""
    host = urlsplit(public_url).hostname
    return host or "localhost"


def offer_uid(offer_id: int, public_url: str) -> str:
    """The UID of a volunteer's booking: the same in the feed and in the confirmation email."""
    return f"offer-{offer_id}@{service_domain(public_url)}"


def request_uid(request_id: int, public_url: str) -> str:
    """The UID of a support request in a sergeant's feed."""
    return f"request-{request_id}@{service_domain(public_url)}"


def london_time(moment: dt.datetime) -> dt.datetime:
    """``moment`` as written in the file: London wall-clock time, or UTC when that is ambiguous.

    The second occurrence of 01:00–01:59 on the autumn change (``fold=1``) cannot be told from
    the first by a TZID time, so it stays in UTC.
    """
    local = moment.astimezone(LONDON)
    if local.fold:
        first = local.replace(fold=0)
        if first.utcoffset() != local.utcoffset():
            return moment.astimezone(dt.UTC)
    return local


def calendar_bytes(
    events: Sequence[CalendarEvent],
    *,
    name: str,
    method: str | None = None,
    service: str = DEFAULT_SERVICE,
    stamped_at: dt.datetime | None = None,
) -> bytes:
    """A VCALENDAR holding ``events``, ready to serve as ``text/calendar`` or attach to an email.

    ``name`` is the calendar's title in the app (X-WR-CALNAME); ``method`` is for email
    attachments ("PUBLISH"; a feed has none); ``service`` names the product in PRODID;
    ``stamped_at`` is the file's DTSTAMP: callers pass ``core.db.utcnow()`` so a test's clock
    applies (the wall clock is used only when nothing is given).
    """
    stamp = (stamped_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    calendar = Calendar()
    calendar.add("prodid", f"-//{_product_text(service)}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method.upper())
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", LONDON_TZID)
    calendar.add_component(_timezone(events, stamp))
    for event in events:
        calendar.add_component(_event(event, stamp))
    return calendar.to_ical()


def _product_text(service: str) -> str:
    # PRODID's "//" separates its parts; a service name holding one would blur them.
    return service.replace("//", "/").strip() or DEFAULT_SERVICE


def _timezone(events: Sequence[CalendarEvent], stamp: dt.datetime) -> Timezone:
    starts = [event.starts_at for event in events] or [stamp]
    ends = [event.ends_at for event in events] or [stamp]
    first = (min(starts) - _ZONE_MARGIN).date()
    last = (max(ends) + _ZONE_MARGIN).date()
    return Timezone.from_tzinfo(LONDON, tzid=LONDON_TZID, first_date=first, last_date=last)


def _event(event: CalendarEvent, stamp: dt.datetime) -> Event:
    item = Event()
    item.add("uid", event.uid)
    item.add("dtstamp", stamp)
    item.add("dtstart", london_time(event.starts_at))
    item.add("dtend", london_time(event.ends_at))
    item.add("summary", event.summary)
    if event.description:
        item.add("description", event.description)
    if event.location:
        item.add("location", event.location)
    item.add("sequence", event.sequence)
    item.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    # A booking is time the volunteer is not free: show it as busy, a cancelled one as free.
    item.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
    return item
