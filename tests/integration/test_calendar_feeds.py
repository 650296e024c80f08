"""Calendar feeds (issue #20): a volunteer's and a sergeant's private, revocable calendar link.

The feed is fetched as a calendar app would (no session) and parsed with ``icalendar``.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from core.auth.models import Role, SecurityEvent, User
from core.db import utcnow
from core.timeutil import london_to_utc, london_today
from matching.calendar import services
from matching.calendar.forms import UNDERSTOOD_MESSAGE
from matching.calendar.models import CalendarFeed
from matching.models import VOLUNTEER_WITHDREW, OfferStatus, RequestStatus
from matching.notifications.models import Notification, NotificationKind
from tests.helpers import error_messages, make_offer, make_request, make_user, make_volunteer, make_wards
from volunteers.models import VolunteerStatus

LONDON = ZoneInfo("Europe/London")


# ---- Helpers ------------------------------------------------------------------------------------


def _create_link(client, email: str) -> str:
    """Sign in, make a calendar link on the page, and return its path (shown once, in the box)."""
    client.sign_in(email)
    page = client.get("/calendar")
    assert page.status_code == 200
    response = client.submit("/calendar", {"understood": "y"})
    assert response.status_code == 200
    assert response.soup.select_one("h1").get_text(strip=True) == "Your calendar link"
    url = response.soup.select_one("#calendar-link")["value"]
    assert url.startswith("http://127.0.0.1:5000/calendar/") and url.endswith(".ics")
    assert response.soup.select_one("a[href^='webcal://']")["href"] == "webcal://" + url.split("://", 1)[1]
    return urlsplit(url).path


def _fetch(app, path: str):
    """As a calendar app: no cookies, nobody signed in."""
    return app.test_client().get(path)


def _events(app, path: str) -> dict[str, object]:
    response = _fetch(app, path)
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "Set-Cookie" not in response.headers
    assert "no-store" in response.headers["Cache-Control"]
    calendar = Calendar.from_ical(response.data)
    assert [str(z["tzid"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    return {str(e["uid"]).split("@")[0]: e for e in calendar.walk("VEVENT")}


def _days(n: float) -> dt.datetime:
    return utcnow().replace(microsecond=0, second=0) + dt.timedelta(days=n)


def _confirmed(db, offer) -> None:
    """The booking confirmation recorded when the volunteer accepted (matching.notifications.events)."""
    db.add(
        Notification(
            user_id=offer.volunteer.user_id,
            kind=NotificationKind.BOOKING_CONFIRMED,
            offer_id=offer.id,
            request_id=offer.request_id,
            subject="You are booked",
            body="Booked.",
        )
    )
    db.commit()


# ---- The volunteer's feed -----------------------------------------------------------------------


def test_a_volunteer_feed_holds_their_bookings_and_marks_ended_ones_cancelled(app, client, db):
    ward = make_wards(db, count=1)[0]
    volunteer = make_volunteer(db, full_name="Ada Okafor")
    other = make_volunteer(db, full_name="Someone Else")

    def booked(days: float, status: OfferStatus, title: str, who=volunteer):
        return make_offer(db, who, make_request(db, ward, _days(days), title=title), status)

    accepted = booked(3, OfferStatus.ACCEPTED, "Fraud victim visit, Camden; bring leaflets")
    recent = booked(-14, OfferStatus.ACCEPTED, "Two weeks ago")
    old = booked(-60, OfferStatus.ACCEPTED, "Two months ago")
    declined = booked(4, OfferStatus.DECLINED, "Declined")
    waiting = booked(5, OfferStatus.OFFERED, "Not answered yet")
    pulled_out = booked(6, OfferStatus.WITHDRAWN, "Pulled out")
    pulled_out.closed_reason = VOLUNTEER_WITHDREW + "moving house"
    cancelled = booked(7, OfferStatus.CANCELLED, "Request cancelled after booking")
    _confirmed(db, cancelled)
    never_booked = booked(8, OfferStatus.WITHDRAWN, "Withdrawn before an answer")
    someone_elses = booked(3.5, OfferStatus.ACCEPTED, "Another volunteer's", who=other)
    db.commit()

    events = _events(app, _create_link(client, volunteer.user.email))

    assert set(events) == {f"offer-{o.id}" for o in (accepted, recent, pulled_out, cancelled)}
    assert f"offer-{old.id}" not in events  # more than the few weeks back
    for left_out in (declined, waiting, never_booked, someone_elses):
        assert f"offer-{left_out.id}" not in events
    booking = events[f"offer-{accepted.id}"]
    assert str(booking["status"]) == "CONFIRMED"
    assert str(booking["summary"]) == "Cyber-crime victim visit: Fraud victim visit, Camden; bring leaflets"
    assert booking.decoded("dtstart").astimezone(dt.UTC) == accepted.starts_at
    assert booking.decoded("dtend").astimezone(dt.UTC) == accepted.ends_at
    assert booking["dtstart"].params["TZID"] == "Europe/London"
    assert str(booking["location"]) == ward.label
    assert f"/offers/{accepted.id}" in str(booking["description"])
    for ended in (pulled_out, cancelled):
        event = events[f"offer-{ended.id}"]
        assert str(event["status"]) == "CANCELLED"
        assert str(event["summary"]).startswith("Cancelled: ")
    # The UID is the one the booking confirmation's attachment uses: offer-<id>@<the service's host>.
    assert str(booking["uid"]) == f"offer-{accepted.id}@127.0.0.1"


def _last_sunday_of_october_ahead() -> dt.date:
    today = london_today(utcnow())
    for year in (today.year, today.year + 1):
        day = dt.date(year, 10, 31)
        day -= dt.timedelta(days=(day.weekday() + 1) % 7)
        if day > today:
            return day
    raise AssertionError("unreachable")


def test_a_booking_on_the_night_the_clocks_go_back_shows_the_london_wall_clock_time(app, client, db):
    ward = make_wards(db, count=1)[0]
    volunteer = make_volunteer(db)
    sunday = _last_sunday_of_october_ahead()
    assert sunday.weekday() == 6
    morning = make_request(db, ward, london_to_utc(sunday, dt.time(10, 0)), title="Morning")
    saturday = make_request(db, ward, london_to_utc(sunday - dt.timedelta(days=1), dt.time(10, 0)), title="Saturday")
    # 01:30 GMT, the second 01:30 of the night: a TZID time would be read as the first, an hour early.
    second = dt.datetime.combine(sunday, dt.time(1, 30), tzinfo=dt.UTC)
    night = make_request(db, ward, second, title="Night", duration_minutes=30)
    offers = [make_offer(db, volunteer, r, OfferStatus.ACCEPTED) for r in (morning, saturday, night)]

    events = _events(app, _create_link(client, volunteer.user.email))

    sunday_event = events[f"offer-{offers[0].id}"]
    local = sunday_event.decoded("dtstart")
    assert (local.date(), local.hour, local.minute) == (sunday, 10, 0)
    assert local.astimezone(dt.UTC).hour == 10  # GMT: the clocks have gone back
    saturday_local = events[f"offer-{offers[1].id}"].decoded("dtstart")
    assert saturday_local.hour == 10 and saturday_local.astimezone(dt.UTC).hour == 9  # still BST
    night_start = events[f"offer-{offers[2].id}"].decoded("dtstart")
    assert night_start.astimezone(dt.UTC) == second
    assert night_start.astimezone(LONDON).replace(tzinfo=None) == dt.datetime.combine(sunday, dt.time(1, 30))


# ---- The sergeant's feed ------------------------------------------------------------------------


def test_a_sergeant_feed_shows_only_their_wards_with_who_is_coming(app, client, db):
    mine, theirs = make_wards(db, count=2)
    sergeant = make_user(db, Role.SERGEANT, wards=[mine])
    other_sergeant = make_user(db, Role.SERGEANT, wards=[theirs])
    ada = make_volunteer(db, full_name="Ada Okafor")
    ben = make_volunteer(db, full_name="Ben Singh")
    cat = make_volunteer(db, full_name="Cat Jones")

    two_places = make_request(db, mine, _days(3), title="Schools talk", people_needed=2, created_by_id=sergeant.id)
    make_offer(db, ada, two_places, OfferStatus.ACCEPTED)
    make_offer(db, ben, two_places, OfferStatus.OFFERED)
    make_offer(db, cat, two_places, OfferStatus.DECLINED)
    filled = make_request(db, mine, _days(4), title="Escort", created_by_id=sergeant.id)
    make_offer(db, cat, filled, OfferStatus.ACCEPTED)
    not_sent = make_request(db, mine, _days(5), title="Nobody asked yet", created_by_id=sergeant.id)
    cancelled = make_request(db, mine, _days(6), title="Called off", created_by_id=sergeant.id)
    make_offer(db, ben, cancelled, OfferStatus.CANCELLED)
    cancelled.status, cancelled.cancelled_at, cancelled.cancel_reason = RequestStatus.CANCELLED, utcnow(), "No need"
    elsewhere = make_request(db, theirs, _days(3), title="Another ward's", created_by_id=other_sergeant.id)
    make_offer(db, make_volunteer(db, full_name="Dev Patel"), elsewhere, OfferStatus.ACCEPTED)
    db.commit()

    events = _events(app, _create_link(client, sergeant.email))

    assert set(events) == {f"request-{r.id}" for r in (two_places, filled, cancelled)}
    assert f"request-{elsewhere.id}" not in events and f"request-{not_sent.id}" not in events
    talk = events[f"request-{two_places.id}"]
    assert str(talk["summary"]) == "Schools talk (1 of 2 booked)"
    description = str(talk["description"])
    assert "Coming: Ada Okafor" in description
    assert "Still open: 1 place" in description
    assert "Waiting for an answer: 1 volunteer" in description
    assert "Ben Singh" not in description and "Cat Jones" not in description  # asked or declined: not coming
    assert not any("Dev Patel" in str(e.to_ical()) for e in events.values())  # another ward's volunteer
    assert f"/requests/{two_places.id}" in description
    assert talk.decoded("dtstart").astimezone(dt.UTC) == two_places.window_start
    assert talk.decoded("dtend").astimezone(dt.UTC) == two_places.deployment_end
    assert str(events[f"request-{filled.id}"]["summary"]) == "Escort (1 of 1 booked)"
    assert "Still open" not in str(events[f"request-{filled.id}"]["description"])
    assert str(events[f"request-{cancelled.id}"]["status"]) == "CANCELLED"
    # Never anything of anyone's vetting: names only.
    assert "vetting" not in str(talk.to_ical()).lower() and "clearance" not in str(talk.to_ical()).lower()


def test_a_sergeant_feed_follows_their_wards_as_they_change(app, client, db):
    mine, later = make_wards(db, count=2)
    sergeant = make_user(db, Role.SERGEANT, wards=[mine])
    item = make_request(db, later, _days(3), title="Later ward")
    make_offer(db, make_volunteer(db), item, OfferStatus.ACCEPTED)
    path = _create_link(client, sergeant.email)
    assert _events(app, path) == {}
    sergeant.wards = [mine, later]
    db.commit()
    assert set(_events(app, path)) == {f"request-{item.id}"}


# ---- Making, replacing and turning off a link ---------------------------------------------------


def _events_named(db, user_id: int) -> list[str]:
    db.expire_all()
    return list(
        db.scalars(select(SecurityEvent.event).where(SecurityEvent.user_id == user_id).order_by(SecurityEvent.id))
    )


def test_turning_the_link_off_makes_it_a_404_at_once(app, client, db):
    volunteer = make_volunteer(db)
    path = _create_link(client, volunteer.user.email)
    assert _fetch(app, path).status_code == 200
    page = client.get("/calendar")
    assert "On" in page.soup.select_one(".govuk-summary-list").get_text()
    response = client.submit("/calendar/turn-off", {}, token_from="/calendar")
    assert response.status_code == 302
    page = client.get(response.location)
    assert "Your calendar link is turned off" in page.soup.select_one(".govuk-notification-banner").get_text()
    assert "You do not have a calendar link" in page.get_data(as_text=True)

    gone = _fetch(app, path)
    assert gone.status_code == 404
    assert "Set-Cookie" not in gone.headers
    assert [e for e in _events_named(db, volunteer.user_id) if e.startswith("calendar")] == [
        "calendar_feed_created",
        "calendar_feed_turned_off",
    ]
    # Turning off twice says so, and changes nothing.
    again = client.submit("/calendar/turn-off", {}, token_from="/calendar")
    assert "You have no calendar link to turn off" in client.get(again.location).get_data(as_text=True)


def test_replacing_the_link_ends_the_old_one_and_the_new_one_works(app, client, db):
    sergeant = make_user(db, Role.SERGEANT, wards=make_wards(db, count=1))
    old = _create_link(client, sergeant.email)
    response = client.submit("/calendar", {"understood": "y"})
    assert "Your old link no longer works" in response.get_data(as_text=True)
    new = urlsplit(response.soup.select_one("#calendar-link")["value"]).path
    assert new != old
    assert _fetch(app, old).status_code == 404
    assert _fetch(app, new).status_code == 200
    db.expire_all()
    feeds = list(db.scalars(select(CalendarFeed).where(CalendarFeed.user_id == sergeant.id)))
    assert len(feeds) == 2 and [f.is_live for f in feeds].count(True) == 1
    # Only the hash is kept: the token itself is nowhere in the database.
    token = new.removeprefix("/calendar/").removesuffix(".ics")
    assert all(token not in f.token_hash for f in feeds)
    assert any(f.token_hash == services.token_hash(token) for f in feeds)
    assert [e for e in _events_named(db, sergeant.id) if e.startswith("calendar")] == [
        "calendar_feed_created",
        "calendar_feed_replaced",
    ]


def test_a_link_stops_working_when_its_owner_can_no_longer_have_one(app, client, db):
    volunteer = make_volunteer(db)
    path = _create_link(client, volunteer.user.email)
    volunteer.status = VolunteerStatus.LEFT
    db.commit()
    assert _fetch(app, path).status_code == 404
    volunteer.status = VolunteerStatus.ACTIVE
    volunteer.user.is_disabled = True
    db.commit()
    assert _fetch(app, path).status_code == 404

    sergeant = make_user(db, Role.SERGEANT)
    sergeant_path = _create_link(app.test_client(), sergeant.email)
    sergeant.role = Role.COORDINATOR  # moved on: the old feed must not follow them
    db.commit()
    assert _fetch(app, sergeant_path).status_code == 404


@pytest.mark.parametrize(
    "path", ["/calendar/short.ics", "/calendar/" + "a" * 43 + ".ics", "/calendar/" + "é" * 43 + ".ics", "/calendar/x"]
)
def test_an_unknown_or_ill_formed_link_is_a_bare_404(app, path):
    response = _fetch(app, path)
    assert response.status_code == 404
    assert "Set-Cookie" not in response.headers


def test_a_fetch_records_its_use_at_most_hourly(app, client, db):
    volunteer = make_volunteer(db)
    path = _create_link(client, volunteer.user.email)
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    start = utcnow()
    with app.extensions["db_sessionmaker"]() as session:
        assert services.feed_owner(session, token, now=start).id == volunteer.user_id
        assert services.feed_owner(session, token, now=start + dt.timedelta(minutes=50)) is not None
    db.expire_all()
    assert db.scalar(select(CalendarFeed.last_used_at)) == start
    with app.extensions["db_sessionmaker"]() as session:
        services.feed_owner(session, token, now=start + dt.timedelta(minutes=61))
    db.expire_all()
    assert db.scalar(select(CalendarFeed.last_used_at)) == start + dt.timedelta(minutes=61)
    page = client.get("/calendar")
    assert "Last used by a calendar" in page.get_data(as_text=True)


# ---- The page's forms ---------------------------------------------------------------------------


@pytest.mark.parametrize("understood", [None, "", "x" * 10_000, "y\x00"], ids=["missing", "empty", "huge", "nul"])
def test_the_link_is_made_only_once_the_warning_is_understood(app, client, db, understood):
    volunteer = make_volunteer(db)
    client.sign_in(volunteer.user.email)
    data = {} if understood is None else {"understood": understood}
    response = client.submit("/calendar", data)
    assert response.status_code == 200
    assert response.soup.select_one("h1").get_text(strip=True) == "Calendar feed"
    messages = error_messages(response.soup)
    assert list(messages) == ["understood"]
    if understood in (None, ""):
        assert messages["understood"] == UNDERSTOOD_MESSAGE
    assert response.soup.select_one(".govuk-error-summary a")["href"] == "#understood"
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(CalendarFeed)) == 0


def test_without_a_valid_form_token_nothing_changes(app, client, db):
    volunteer = make_volunteer(db)
    path = _create_link(client, volunteer.user.email)
    response = client.post("/calendar/turn-off", data={"csrf_token": "tampered"})
    assert response.status_code in (302, 400)
    assert _fetch(app, path).status_code == 200


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.VETTING_OFFICER, Role.PARTNER_REVIEWER])
def test_other_roles_have_no_calendar_feed(client, db, role):
    user = make_user(db, role)
    client.sign_in(user.email)
    assert client.get("/calendar").status_code == 403
    with pytest.raises(services.CalendarError):
        services.create_link(db, db.get(User, user.id))


def test_the_account_and_home_pages_lead_to_the_feed(client, db):
    volunteer = make_volunteer(db)
    client.sign_in(volunteer.user.email)
    for path in ("/account", "/"):
        links = [a["href"] for a in client.get(path).soup.select("main a")]
        assert "/calendar" in links, path
