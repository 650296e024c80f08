"""Hours served (matching/hours): specials' duty hours and their approval, the volunteer's year, long service,
and the coordinators' table of specials against their commitment. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.auth.models import Role
from core.db import utcnow
from core.geography.models import Borough
from core.timeutil import london_to_utc, london_today
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.hours import services
from matching.hours.models import DutyHours, DutyKind, DutyState
from matching.models import Offer, OfferStatus
from tests.helpers import date_fields, error_messages, make_request, make_user, make_volunteer, make_wards
from volunteers.models import VolunteerKind, VolunteerStatus

D = dt.date


def _special(db, ward, **overrides):
    values = dict(
        kind=VolunteerKind.SPECIAL,
        status=VolunteerStatus.ACTIVE,
        home_ward_id=ward.id,
        monthly_commitment_minutes=16 * 60,
        warrant_number="SC12345",
    )
    return make_volunteer(db, **(values | overrides))


def _deployment(db, volunteer, ward, starts_at, outcome, served=None, logged=None, minutes=120):
    """An accepted booking at ``starts_at`` and what was recorded about it."""
    item = make_request(db, ward, starts_at, title="Visit after a phone scam", duration_minutes=minutes)
    offer = Offer(
        request_id=item.id,
        volunteer_id=volunteer.id,
        status=OfferStatus.ACCEPTED,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=minutes),
        load_minutes=minutes,
        explanation="Test",
        respond_by=starts_at - dt.timedelta(days=1),
        offered_at=starts_at - dt.timedelta(days=3),
        answered_at=starts_at - dt.timedelta(days=2),
    )
    db.add(offer)
    db.flush()
    db.add(
        Deployment(
            offer_id=offer.id,
            request_id=item.id,
            volunteer_id=volunteer.id,
            outcome=outcome,
            served_minutes=served,
            logged_minutes=logged,
        )
    )
    db.commit()
    return offer


def _duty(db, volunteer, on, minutes, state=DutyState.APPROVED, kind=DutyKind.PATROL):
    entry = DutyHours(volunteer_id=volunteer.id, on_date=on, kind=kind, minutes=minutes, state=state)
    db.add(entry)
    db.commit()
    return entry


def _text(soup) -> str:
    return " ".join(soup.get_text().split())


def _log(client, **fields):
    yesterday = london_today() - dt.timedelta(days=1)
    data = {**date_fields("on_date", yesterday), "kind": "patrol", "start_time": "", "end_time": "", "hours": ""}
    data |= {"note": ""}
    data |= fields
    return client.submit("/hours/duty/new", data)


# ---- Logging duty hours --------------------------------------------------------------------------


def test_a_special_logs_duty_hours_which_wait_for_approval(client, db):
    ward = make_wards(db, "Camden", 1)[0]
    special = _special(db, ward)
    client.sign_in(special.user.email)
    response = _log(client, start_time="6pm", end_time="10:30pm", note="Evening patrol with PC Patel")
    assert response.status_code == 302 and response.location == "/hours"
    entry = db.scalars(select(DutyHours)).one()
    assert (entry.minutes, entry.start_minute, entry.end_minute) == (270, 18 * 60, 22 * 60 + 30)
    assert entry.state is DutyState.PENDING and entry.note == "Evening patrol with PC Patel"
    page = client.get("/hours").soup
    text = _text(page)
    assert "sent for approval" in text
    assert "Evening patrol with PC Patel" in text and "Waiting for approval" in text
    # Not counted until approved.
    assert "Hours served this month 0 hours of 16 hours (0%)" in text
    assert "4 hours 30 minutes (counted once approved)" in text


def test_a_night_patrol_ends_the_next_morning(client, db):
    ward = make_wards(db, "Camden", 1)[0]
    special = _special(db, ward)
    client.sign_in(special.user.email)
    two_days_ago = london_today() - dt.timedelta(days=2)
    response = _log(client, **date_fields("on_date", two_days_ago), start_time="22:00", end_time="03:00")
    assert response.status_code == 302
    assert db.scalars(select(DutyHours.minutes)).one() in (300, 240, 360)  # 5 hours, unless the clocks changed


def test_logging_refuses_what_is_wrong_by_the_field_and_keeps_what_was_typed(client, db):
    ward = make_wards(db, "Camden", 1)[0]
    special = _special(db, ward)
    client.sign_in(special.user.email)
    today = london_today()
    cases = [
        ({"on_date": ["", "", ""], "kind": "", "hours": ""}, {"on_date-day": "Enter the date of the duty"}),
        ({"kind": ""}, {"kind": "Choose the kind of duty"}),
        ({"kind": "holiday"}, {"kind": "Choose the kind of duty from the list"}),
        ({}, {"hours": "Enter the start and end times, or the number of hours"}),
        ({"on_date": ["31", "2", "2026"], "hours": "4"}, {"on_date-day": "The date must be a real date"}),
        ({"on_date": ["1", "1", "999999999999"], "hours": "4"}, {"on_date-day": "The date must be a real date"}),
        (
            {**date_fields("on_date", today + dt.timedelta(days=1)), "hours": "4"},
            {"on_date-day": "The date of the duty must be today or in the past"},
        ),
        (
            {**date_fields("on_date", today - dt.timedelta(days=200)), "hours": "4"},
            {"on_date-day": "You can log duty from the last 92 days only. For older duty, ask your coordinator"},
        ),
        ({"hours": "four"}, {"hours": "Enter the number of hours like 4, 4.5 or 4:30"}),
        ({"hours": "25"}, {"hours": "A stretch of duty can be at most 24 hours"}),
        ({"hours": "0"}, {"hours": "Enter a length of duty of at least 1 minute"}),
        ({"start_time": "6pm"}, {"end_time": "Enter the time the duty ended"}),
        (
            {"start_time": "6pm", "end_time": "9pm", "hours": "3"},
            {"hours": "Enter either the start and end times or the number of hours, not both"},
        ),
        (
            {"start_time": "25:00", "end_time": "9pm"},
            {"start_time": "Enter the start time as a time of day, like 6pm or 18:00"},
        ),
        ({"hours": "4", "note": "x" * 10_000}, {"note": "The note must be 500 characters or fewer"}),
        ({"hours": "4" * 10_000}, {"hours": "Enter the number of hours like 4, 4.5 or 4:30"}),
    ]
    for fields, expected in cases:
        response = _log(client, **fields)
        assert response.status_code == 200, fields
        messages = error_messages(response.soup)
        for field, message in expected.items():
            assert messages.get(field) == message, (fields, messages)
    # What was typed is shown again.
    response = _log(client, hours="25", note="Stewarding the carnival")
    assert response.soup.select_one("#note").get_text() == "Stewarding the carnival"
    assert response.soup.select_one("#hours")["value"] == "25"
    assert db.scalars(select(DutyHours)).all() == []


def test_at_most_24_hours_of_duty_a_day_and_rejected_hours_do_not_count(client, db):
    ward = make_wards(db, "Camden", 1)[0]
    special = _special(db, ward)
    yesterday = london_today() - dt.timedelta(days=1)
    _duty(db, special, yesterday, 20 * 60, DutyState.PENDING)
    _duty(db, special, yesterday, 10 * 60, DutyState.REJECTED)
    client.sign_in(special.user.email)
    response = _log(client, hours="5")
    assert error_messages(response.soup)["hours"] == (
        "You have already logged 20 hours on this date. Duty logged for one day can be at most 24 hours"
    )
    assert _log(client, hours="4").status_code == 302


def test_a_police_support_volunteer_has_no_duty_hours_to_log(client, db):
    ward = make_wards(db, "Camden", 1)[0]
    psv = make_volunteer(db, status=VolunteerStatus.ACTIVE, home_ward_id=ward.id)
    client.sign_in(psv.user.email)
    response = client.get("/hours/duty/new")
    assert response.status_code == 302 and response.location == "/hours"
    page = client.get("/hours").soup
    assert "Only special constables log duty hours" in _text(page)
    assert page.select_one("#duty-hours") is None


# ---- Approving -----------------------------------------------------------------------------------


def test_the_home_ward_sergeant_or_a_coordinator_decides_and_nobody_else(app, db):
    home, other = make_wards(db, "Camden", 2)
    special = _special(db, home, full_name="Sam Special")
    first = _duty(db, special, london_today() - dt.timedelta(days=1), 240, DutyState.PENDING)
    second = _duty(db, special, london_today() - dt.timedelta(days=2), 180, DutyState.PENDING, DutyKind.TRAINING)
    home_sergeant = make_user(db, Role.SERGEANT, wards=[home])
    other_sergeant = make_user(db, Role.SERGEANT, wards=[other])
    coordinator = make_user(db, Role.COORDINATOR)
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)

    outsider = app.test_client()
    outsider.sign_in(other_sergeant.email)
    assert "Sam Special" not in _text(outsider.get("/hours/approvals").soup)
    token = outsider.csrf_token("/hours/approvals")
    assert outsider.post(f"/hours/duty/{first.id}/approve", data={"csrf_token": token}).status_code == 404
    assert outsider.get(f"/hours/duty/{first.id}/reject").status_code == 404

    stranger = app.test_client()
    stranger.sign_in(volunteer.user.email)
    assert stranger.get("/hours/approvals").status_code == 403
    token = stranger.csrf_token("/")
    assert stranger.post(f"/hours/duty/{first.id}/approve", data={"csrf_token": token}).status_code == 403

    sergeant = app.test_client()
    sergeant.sign_in(home_sergeant.email)
    page = sergeant.get("/hours/approvals").soup
    assert "Sam Special" in _text(page)
    token = sergeant.csrf_token("/hours/approvals")
    response = sergeant.post(f"/hours/duty/{first.id}/approve", data={"csrf_token": token})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(DutyHours, first.id).state is DutyState.APPROVED
    assert db.get(DutyHours, first.id).decided_by_id == home_sergeant.id
    # Twice is refused with a message, never counted twice.
    sergeant.post(f"/hours/duty/{first.id}/approve", data={"csrf_token": token})
    assert "already been approved or rejected" in _text(sergeant.get("/hours/approvals").soup)

    boss = app.test_client()
    boss.sign_in(coordinator.email)
    response = boss.submit(f"/hours/duty/{second.id}/reject", {"reason": "  "})
    assert error_messages(response.soup)["reason"] == "Enter the reason, so the special knows what to correct"
    response = boss.submit(f"/hours/duty/{second.id}/reject", {"reason": "No training was held that day"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(DutyHours, second.id).state is DutyState.REJECTED

    own = app.test_client()
    own.sign_in(special.user.email)
    text = _text(own.get("/hours").soup)
    assert "Approved" in text and "Not approved" in text and "Reason: No training was held that day" in text
    assert "Hours served this month" in text


# ---- Totals, milestones ----------------------------------------------------------------------------


def test_totals_are_attended_deployments_and_approved_duty_by_london_month(db):
    ward = make_wards(db, "Camden", 1)[0]
    special = _special(db, ward)
    now = dt.datetime(2026, 7, 15, 12, 0, tzinfo=dt.UTC)
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST): July's.
    _deployment(db, special, ward, dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC), DeploymentOutcome.ATTENDED, 120)
    # 21:00 UTC on 30 June is 22:00 on 30 June in London: June's (and ends before the next one starts).
    _deployment(db, special, ward, dt.datetime(2026, 6, 30, 21, 0, tzinfo=dt.UTC), DeploymentOutcome.ATTENDED, 60)
    _deployment(db, special, ward, dt.datetime(2026, 7, 5, 9, 0, tzinfo=dt.UTC), DeploymentOutcome.DID_NOT_ATTEND)
    _deployment(db, special, ward, dt.datetime(2026, 7, 6, 9, 0, tzinfo=dt.UTC), DeploymentOutcome.LOGGED, logged=180)
    _deployment(db, special, ward, dt.datetime(2026, 7, 7, 9, 0, tzinfo=dt.UTC), DeploymentOutcome.AWAITING)
    _duty(db, special, D(2026, 7, 10), 240)
    _duty(db, special, D(2026, 7, 11), 300, DutyState.PENDING)
    _duty(db, special, D(2026, 7, 12), 200, DutyState.REJECTED)
    _duty(db, special, D(2026, 1, 3), 100)
    _duty(db, special, D(2025, 12, 31), 500)
    # Someone else's hours never count.
    _duty(db, _special(db, ward), D(2026, 7, 10), 600)

    year = services.volunteer_year(db, special, now)
    assert (year.totals.month_minutes, year.totals.year_minutes, year.totals.all_minutes) == (
        120 + 240,
        120 + 60 + 240 + 100,
        120 + 60 + 240 + 100 + 500,
    )
    assert year.pending_minutes == 300 + 180
    assert [p.outcome for p in year.past] == [
        DeploymentOutcome.AWAITING,
        DeploymentOutcome.LOGGED,
        DeploymentOutcome.DID_NOT_ATTEND,
        DeploymentOutcome.ATTENDED,
        DeploymentOutcome.ATTENDED,
    ]
    assert [p.counted for p in year.past] == [False, False, False, True, True]
    assert year.month_percent == 360 * 100 // 960
    assert services.served_this_month(db, special.id, now) == 360


def test_the_volunteer_sees_past_deployments_hours_and_milestones(app, db):
    ward = make_wards(db, "Camden", 1)[0]
    special = _special(db, ward, full_name="Sam Special")
    special.created_at = utcnow() - dt.timedelta(days=5 * 366 + 10)
    db.commit()
    start = utcnow() - dt.timedelta(days=1)
    _deployment(db, special, ward, start, DeploymentOutcome.ATTENDED, served=135)
    for days in range(2, 7):  # 5 × 20 hours = 100 hours, over the last weeks
        _duty(db, special, london_today() - dt.timedelta(days=days * 7), 20 * 60)
    client = app.test_client()
    client.sign_in(special.user.email)
    page = client.get("/hours").soup
    text = _text(page)
    assert page.select_one("h1").get_text(strip=True) == "Your hours"
    rows = page.select("#past-deployments ~ div table tbody tr")
    assert len(rows) == 1
    assert "Visit after a phone scam" in rows[0].get_text() and "Attended" in rows[0].get_text()
    assert "2 hours 15 minutes" in rows[0].get_text()
    assert "Hours served in all 102 hours 15 minutes" in text
    tags = [t.get_text(strip=True) for t in page.select("#long-service + p .govuk-tag")]
    assert tags == ["50 hours", "100 hours", "1 year", "5 years"]
    assert "Next: 250 hours served, 147 hours 45 minutes to go." in text
    assert "5 full years of service" in text and "record on this service was created" in text

    coordinator = app.test_client()
    coordinator.sign_in(make_user(db, Role.COORDINATOR).email)
    record = coordinator.get(f"/volunteers/{special.id}").soup
    section = _text(record.select_one("#hours-served").find_next("dl"))
    assert "In all 102 hours 15 minutes" in section and "100 hours" in section and "5 years" in section
    detail = coordinator.get(f"/hours/volunteers/{special.id}").soup
    assert detail.select_one("h1").get_text(strip=True) == "Hours: Sam Special"
    assert "Visit after a phone scam" in _text(detail)


def test_the_home_page_says_hours_served_and_booked_ahead_apart(app, db):
    ward = make_wards(db, "Camden", 1)[0]
    special = _special(db, ward)
    today = london_today()
    # Booked but not confirmed: not served. A booking to come later this month (or none, on the last day).
    _deployment(db, special, ward, utcnow() - dt.timedelta(hours=3), DeploymentOutcome.AWAITING, minutes=60)
    later = london_to_utc(today, dt.time(0, 0)) + dt.timedelta(days=1, hours=10)
    if later.month == today.month:
        item = make_request(db, ward, later)
        db.add(
            Offer(
                request_id=item.id,
                volunteer_id=special.id,
                status=OfferStatus.ACCEPTED,
                starts_at=later,
                ends_at=later + dt.timedelta(minutes=90),
                load_minutes=90,
                explanation="Test",
                respond_by=later,
            )
        )
    _duty(db, special, today, 75)
    db.commit()
    client = app.test_client()
    client.sign_in(special.user.email)
    line = _text(client.get("/").soup.select_one("#hours-this-month"))
    expected = "This month: 1 hour 15 minutes served of your monthly commitment of 16 hours"
    if later.month == today.month:
        expected += ", and 1 hour 30 minutes booked ahead"
    assert line == expected + ". See your hours"


# ---- Specials against their commitment -----------------------------------------------------------


def _row(soup, volunteer_id):
    return soup.select_one(f"#specials-hours tr[data-volunteer-id='{volunteer_id}']")


def test_a_specials_row_moves_from_red_to_green_when_hours_are_approved(app, db):
    ward = make_wards(db, "Camden", 1)[0]
    special = _special(db, ward, full_name="Sam Special")
    entry = _duty(db, special, london_today(), 16 * 60, DutyState.PENDING)
    coordinator = app.test_client()
    coordinator.sign_in(make_user(db, Role.COORDINATOR).email)
    page = coordinator.get("/hours/specials").soup
    assert page.select_one("h1").get_text(strip=True) == "Special constables' hours"
    cells = _row(page, special.id).select("td")
    assert len(cells) == 1 + 6  # the commitment, then six months
    assert _text(cells[-1]) == "0.0 Well below"
    assert "govuk-tag--red" in cells[-1].select_one(".govuk-tag")["class"]

    sergeant = app.test_client()
    sergeant.sign_in(make_user(db, Role.SERGEANT, wards=[ward]).email)
    token = sergeant.csrf_token("/hours/approvals")
    assert sergeant.post(f"/hours/duty/{entry.id}/approve", data={"csrf_token": token}).status_code == 302

    cells = _row(coordinator.get("/hours/specials").soup, special.id).select("td")
    assert _text(cells[-1]) == "16.0 Met"
    assert "govuk-tag--green" in cells[-1].select_one(".govuk-tag")["class"]


def test_amber_and_the_thresholds_come_from_the_config(app, db):
    ward = make_wards(db, "Camden", 1)[0]
    special = _special(db, ward)
    _duty(db, special, london_today(), 12 * 60)
    coordinator = app.test_client()
    coordinator.sign_in(make_user(db, Role.COORDINATOR).email)
    assert _text(_row(coordinator.get("/hours/specials").soup, special.id).select("td")[-1]) == "12.0 Below"
    app.config.update(SPECIALS_GREEN_PERCENT=75, SPECIALS_AMBER_PERCENT=25)
    assert _text(_row(coordinator.get("/hours/specials").soup, special.id).select("td")[-1]) == "12.0 Met"


def test_the_table_filters_by_bcu_and_downloads_the_same_rows(app, db):
    camden = make_wards(db, "Camden", 1)[0]
    croydon = make_wards(db, "Croydon", 1)[0]
    in_camden = _special(db, camden, full_name="Camden Special")
    in_croydon = _special(db, croydon, full_name="=Croydon Special")
    make_volunteer(db, status=VolunteerStatus.ACTIVE, home_ward_id=camden.id, full_name="Not A Special")
    _special(db, camden, full_name="Left Special", status=VolunteerStatus.LEFT)
    bcu_id = db.scalar(select(Borough.bcu_id).where(Borough.id == camden.borough_id))
    assert bcu_id != db.scalar(select(Borough.bcu_id).where(Borough.id == croydon.borough_id))
    coordinator = app.test_client()
    coordinator.sign_in(make_user(db, Role.COORDINATOR).email)

    everyone = coordinator.get("/hours/specials").soup
    names = [a.get_text(strip=True) for a in everyone.select("#specials-hours tbody th a")]
    assert names == ["=Croydon Special", "Camden Special"]

    filtered = coordinator.get(f"/hours/specials?bcu={bcu_id}").soup
    assert _row(filtered, in_camden.id) is not None and _row(filtered, in_croydon.id) is None
    assert filtered.select_one("#bcu option[selected]")["value"] == str(bcu_id)

    csv_text = coordinator.get(f"/hours/specials/export.csv?bcu={bcu_id}").get_data(as_text=True)
    lines = csv_text.strip().split("\r\n")
    assert len(lines) == 2 and lines[1].startswith("Camden Special,SC12345,")
    everyone_csv = coordinator.get("/hours/specials/export.csv").get_data(as_text=True)
    assert "'=Croydon Special" in everyone_csv  # never a formula in a spreadsheet

    for bad in ("999999", "abc", "1" * 40):
        response = coordinator.get("/hours/specials", query_string={"bcu": bad})
        assert response.status_code == 200
        assert error_messages(response.soup)["bcu"] == "Choose a BCU from the list"
    assert coordinator.get("/hours/specials/export.csv?bcu=abc").status_code == 302
