"""The .ics builder: what a calendar app reads back from the feeds and the booking emails."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from matching.calendar.ics import CalendarEvent, calendar_bytes, offer_uid, request_uid, service_domain

LONDON = ZoneInfo("Europe/London")
STAMP = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)


def _event(uid: str, start: dt.datetime, hours: float = 3, **kwargs) -> CalendarEvent:
    return CalendarEvent(
        uid=uid, starts_at=start, ends_at=start + dt.timedelta(hours=hours), summary="Patrol", **kwargs
    )


def _parse(data: bytes) -> Calendar:
    assert isinstance(data, bytes)
    return Calendar.from_ical(data)


def _events(calendar: Calendar) -> dict[str, object]:
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def test_a_calendar_parses_back_with_its_headers_and_zone():
    data = calendar_bytes(
        [_event("offer-1@example.org", dt.datetime(2026, 7, 1, 13, 0, tzinfo=dt.UTC))],
        name="My bookings",
        service="Met volunteer matching",
        stamped_at=STAMP,
    )
    calendar = _parse(data)
    assert str(calendar["version"]) == "2.0"
    assert "Met volunteer matching" in str(calendar["prodid"])
    assert str(calendar["x-wr-calname"]) == "My bookings"
    assert str(calendar["x-wr-timezone"]) == "Europe/London"
    assert "method" not in calendar
    zones = calendar.walk("VTIMEZONE")
    assert [str(zone["tzid"]) for zone in zones] == ["Europe/London"]
    event = _events(calendar)["offer-1@example.org"]
    assert event.decoded("dtstamp") == STAMP
    assert str(event["status"]) == "CONFIRMED"
    # Served with CRLF line ends, as RFC 5545 requires.
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")


def test_times_are_london_wall_clock_with_a_tzid_in_summer_and_winter():
    summer = _event("a@x", dt.datetime(2026, 7, 1, 13, 0, tzinfo=dt.UTC))
    winter = _event("b@x", dt.datetime(2026, 1, 15, 13, 0, tzinfo=dt.UTC))
    data = calendar_bytes([summer, winter], name="x", stamped_at=STAMP)
    assert b"DTSTART;TZID=Europe/London:20260701T140000" in data
    assert b"DTSTART;TZID=Europe/London:20260115T130000" in data
    events = _events(_parse(data))
    assert events["a@x"].decoded("dtstart") == summer.starts_at
    assert events["b@x"].decoded("dtend") == winter.ends_at


def test_across_the_march_clock_change():
    # Clocks go forward at 01:00 GMT on 29 March 2026. A night patrol from 23:00 GMT on the
    # Saturday to 07:00 BST: eight wall-clock hours, seven real ones.
    start = dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC)
    end = dt.datetime(2026, 3, 29, 6, 0, tzinfo=dt.UTC)
    data = calendar_bytes([CalendarEvent("n@x", start, end, "Night patrol")], name="x", stamped_at=STAMP)
    assert b"DTSTART;TZID=Europe/London:20260328T230000" in data
    assert b"DTEND;TZID=Europe/London:20260329T070000" in data
    event = _events(_parse(data))["n@x"]
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == end
    assert event.decoded("dtend").astimezone(LONDON).hour == 7


def test_across_the_october_clock_change():
    # Clocks go back at 02:00 BST on Sunday 25 October 2026. A 10:00 booking that Sunday is 10:00
    # GMT; a 10:00 booking the Saturday before is 09:00 UTC.
    sunday = dt.datetime(2026, 10, 25, 10, 0, tzinfo=dt.UTC)
    saturday = dt.datetime(2026, 10, 24, 9, 0, tzinfo=dt.UTC)
    data = calendar_bytes([_event("sun@x", sunday), _event("sat@x", saturday)], name="x", stamped_at=STAMP)
    assert b"DTSTART;TZID=Europe/London:20261025T100000" in data
    assert b"DTSTART;TZID=Europe/London:20261024T100000" in data
    events = _events(_parse(data))
    assert events["sun@x"].decoded("dtstart") == sunday
    assert events["sat@x"].decoded("dtstart") == saturday
    # The zone the file carries knows both offsets around the change.
    zone = _parse(data).walk("VTIMEZONE")[0]
    offsets = {sub.decoded("tzoffsetto") for sub in zone.subcomponents}
    assert dt.timedelta(0) in offsets and dt.timedelta(hours=1) in offsets


def test_the_hour_that_happens_twice_is_not_shown_an_hour_early():
    # 00:30 UTC is 01:30 BST (the first 01:30); 01:30 UTC is 01:30 GMT (the second). A TZID time
    # of 01:30 would be read as the first, so the second is written in UTC.
    first = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    second = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)
    data = calendar_bytes([_event("first@x", first, 0.5), _event("second@x", second, 0.5)], name="x", stamped_at=STAMP)
    assert b"DTSTART;TZID=Europe/London:20261025T013000" in data
    assert b"DTSTART:20261025T013000Z" in data
    events = _events(_parse(data))
    # (Compared in UTC: Python never counts an ambiguous London time equal to another zone's.)
    assert events["first@x"].decoded("dtstart").astimezone(dt.UTC) == first
    assert events["second@x"].decoded("dtstart").astimezone(dt.UTC) == second


def test_a_cancelled_booking_is_marked_cancelled_and_free():
    data = calendar_bytes(
        [_event("gone@x", dt.datetime(2026, 7, 1, 13, 0, tzinfo=dt.UTC), cancelled=True, sequence=2)],
        name="x",
        stamped_at=STAMP,
    )
    event = _events(_parse(data))["gone@x"]
    assert str(event["status"]) == "CANCELLED"
    assert str(event["transp"]) == "TRANSPARENT"
    assert event.decoded("sequence") == 2


def test_text_with_commas_semicolons_and_newlines_is_escaped_and_reads_back():
    title = "Victim visit, Brixton; bring ID\nand a second line\\with a backslash"
    description = "Meet at the front desk, ask for PC Smith;\nparking at the rear."
    event = CalendarEvent(
        "t@x",
        dt.datetime(2026, 7, 1, 13, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 7, 1, 15, 0, tzinfo=dt.UTC),
        title,
        description=description,
        location="Brixton Police Station, 367 Brixton Road; SW9",
    )
    data = calendar_bytes([event], name="Bookings, mine; all", stamped_at=STAMP)
    assert b"SUMMARY:Victim visit\\, Brixton\\; bring ID\\nand" in data
    calendar = _parse(data)
    parsed = _events(calendar)["t@x"]
    assert str(parsed["summary"]) == title
    assert str(parsed["description"]) == description
    assert str(parsed["location"]) == "Brixton Police Station, 367 Brixton Road; SW9"
    assert str(calendar["x-wr-calname"]) == "Bookings, mine; all"


def test_a_long_text_is_folded_and_reads_back_whole():
    long = "Ö" * 500
    data = calendar_bytes(
        [CalendarEvent("l@x", STAMP, STAMP + dt.timedelta(hours=1), "Long", description=long)],
        name="x",
        stamped_at=STAMP,
    )
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    assert str(_events(_parse(data))["l@x"]["description"]) == long


def test_an_email_attachment_carries_a_method():
    data = calendar_bytes([_event("m@x", STAMP)], name="x", method="publish", stamped_at=STAMP)
    assert str(_parse(data)["method"]) == "PUBLISH"


def test_an_empty_feed_is_still_a_valid_calendar():
    calendar = _parse(calendar_bytes([], name="Nothing booked", stamped_at=STAMP))
    assert calendar.walk("VEVENT") == []
    assert str(calendar["x-wr-calname"]) == "Nothing booked"


def test_uids_are_stable_and_name_the_service():
    assert offer_uid(12, "https://volunteers.police.example/") == "offer-12@volunteers.police.example"
    assert offer_uid(12, "https://volunteers.police.example") == offer_uid(12, "https://volunteers.police.example/x")
    assert request_uid(7, "http://127.0.0.1:5000") == "request-7@127.0.0.1"
    assert service_domain("") == "localhost"


def test_naive_or_backwards_times_are_refused():
    with pytest.raises(ValueError, match="aware"):
        CalendarEvent("x", dt.datetime(2026, 1, 1, 9, 0), dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.UTC), "x")
    with pytest.raises(ValueError, match="end before"):
        CalendarEvent("x", STAMP, STAMP - dt.timedelta(hours=1), "x")
