"""The vetting officers' tools: the queue (order, search, filters, paging), the person search, the audit
log page with its CSV export, and the task-type and clearance-type pages in names, not codes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select

from core.audit.models import AuditEntry
from core.audit.services import record
from core.auth.models import Role
from core.db import utcnow
from core.timeutil import london_today
from matching.models import Offer, OfferStatus
from tests.helpers import date_fields, error_messages, make_request, make_user, make_volunteer, make_wards
from vetting.catalogue import CLEARANCE_TYPES, TASK_POLICIES
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ReviewKind, ReviewStatus, VettingReview
from volunteers.models import CircumstanceCategory, CircumstanceReport
from volunteers.skills import SKILLS

# ---- Factories ----------------------------------------------------------------------------------


def _review(db, volunteer, due_in_days: int, kind=ReviewKind.RENEWAL, **values) -> VettingReview:
    review = VettingReview(
        volunteer_id=volunteer.id, kind=kind, due_on=london_today() + dt.timedelta(days=due_in_days), **values
    )
    db.add(review)
    db.commit()
    return review


def _deploy(db, volunteer, ward, in_days: int = 3) -> Offer:
    """An accepted offer for ``volunteer``, starting ``in_days`` from now."""
    start = (utcnow() + dt.timedelta(days=in_days)).replace(minute=0, second=0, microsecond=0)
    item = make_request(db, ward, start=start)
    offer = Offer(
        request_id=item.id,
        volunteer_id=volunteer.id,
        status=OfferStatus.ACCEPTED,
        starts_at=item.window_start,
        ends_at=item.deployment_end,
        load_minutes=60,
        explanation="Near home",
        respond_by=item.window_start - dt.timedelta(hours=2),
        answered_at=utcnow(),
    )
    db.add(offer)
    db.commit()
    return offer


def _officer(app, db, **values):
    client = app.test_client()
    officer = make_user(db, Role.VETTING_OFFICER, **values)
    client.sign_in(officer.email)
    return client, officer


def _names(page) -> list[str]:
    return [row.select_one("a").get_text(strip=True) for row in page.soup.select("tbody tr")]


# ---- The queue: the order its own text states ------------------------------------------------------


def test_the_queue_is_in_the_order_its_own_text_states(app, db):
    ward = make_wards(db, count=1)[0]

    def person(name):
        return make_volunteer(db, full_name=name, home_ward_id=ward.id)

    # Due after the 28 days: by due date alone, whoever is deployed (January before February).
    feb = person("Feb Deployed")
    _review(db, feb, 70)
    _deploy(db, feb, ward)
    _review(db, person("Jan Renewal"), 40)
    # Due within 28 days: the deployed person first, then the earliest due.
    _review(db, person("Soon Renewal"), 10)
    soon_deployed = person("Soon Deployed")
    _review(db, soon_deployed, 20, kind=ReviewKind.NEW_APPLICATION)
    _deploy(db, soon_deployed, ward)
    # Triggered (not overdue): before everything not overdue, even if due later than a renewal.
    _review(db, person("Triggered Later"), 14, kind=ReviewKind.TRIGGERED)
    # Overdue: first of all, whatever their kind; the longest overdue first.
    _review(db, person("Overdue Application"), -9, kind=ReviewKind.NEW_APPLICATION)
    _review(db, person("Overdue Renewal"), -2)
    # A closed review is not in the queue.
    _review(db, person("Closed Review"), -30, status=ReviewStatus.CLOSED, outcome="grant")

    client, _ = _officer(app, db)
    page = client.get("/vetting/queue")
    assert _names(page) == [
        "Overdue Application",
        "Overdue Renewal",
        "Triggered Later",
        "Soon Deployed",
        "Soon Renewal",
        "Jan Renewal",
        "Feb Deployed",
    ]
    text = " ".join(page.soup.select_one("main").get_text().split())
    assert "Overdue reviews first, then triggered reviews, then reviews due in the next 28 days, then the rest" in text
    overdue = page.soup.select("tbody tr")[0]
    assert "Overdue" in overdue.get_text()


# ---- The queue: search, filters, paging -----------------------------------------------------------


def _queue_people(db):
    """Four people in the queue: a deployed renewal, an overdue application, a triggered review, a later renewal."""
    ward = make_wards(db, count=1)[0]
    deployed = make_volunteer(db, full_name="Dara Deployed", email="dara@force.example", home_ward_id=ward.id)
    _review(db, deployed, 20)
    _deploy(db, deployed, ward)
    _review(db, make_volunteer(db, full_name="Olu Overdue", email="olu@force.example"), -3, ReviewKind.NEW_APPLICATION)
    trig = make_volunteer(db, full_name="Tam Triggered", email="tam@elsewhere.example")
    report = CircumstanceReport(
        volunteer_id=trig.id, category=CircumstanceCategory.NEW_JOB, occurred_on=london_today(), details="Consultancy"
    )
    db.add(report)
    db.commit()
    _review(db, trig, 14, ReviewKind.TRIGGERED, circumstance_report_id=report.id)
    _review(db, make_volunteer(db, full_name="Lou Later", email="lou@force.example"), 90)


def test_the_queue_searches_by_name_or_email_and_filters_by_kind_due_and_deployment(app, db):
    _queue_people(db)
    client, _ = _officer(app, db)
    everyone = client.get("/vetting/queue")
    assert _names(everyone) == ["Olu Overdue", "Tam Triggered", "Dara Deployed", "Lou Later"]
    # The row says what kind of change opened a triggered review.
    assert "New job or employer" in everyone.soup.select("tbody tr")[1].get_text()
    assert _names(client.get("/vetting/queue?q=tam")) == ["Tam Triggered"]
    assert _names(client.get("/vetting/queue?q=FORCE.example")) == ["Olu Overdue", "Dara Deployed", "Lou Later"]
    assert _names(client.get("/vetting/queue?q=%25")) == []  # a LIKE wildcard is a character like any other
    assert _names(client.get("/vetting/queue?kind=renewal")) == ["Dara Deployed", "Lou Later"]
    assert _names(client.get("/vetting/queue?only=overdue")) == ["Olu Overdue"]
    assert _names(client.get("/vetting/queue?due_within=20")) == ["Olu Overdue", "Tam Triggered", "Dara Deployed"]
    assert _names(client.get("/vetting/queue?due_within=0")) == ["Olu Overdue"]
    assert _names(client.get("/vetting/queue?only=deployed")) == ["Dara Deployed"]
    both = client.get("/vetting/queue?only=deployed&kind=new_application")
    assert _names(both) == []
    assert "No open review matches these filters." in both.soup.select_one("main").get_text()
    # The filters chosen stay chosen.
    page = client.get("/vetting/queue?q=force&kind=renewal&due_within=30&only=deployed")
    assert _names(page) == ["Dara Deployed"]
    assert page.soup.select_one("#q")["value"] == "force"
    assert page.soup.select_one("#kind option[selected]")["value"] == "renewal"
    assert page.soup.select_one("#due_within")["value"] == "30"
    assert [c["value"] for c in page.soup.select("input[name=only][checked]")] == ["deployed"]
    caption = " ".join(page.soup.select_one("caption").get_text().split())
    assert caption == "1 open review matching the filters"


def test_the_queue_pages_fifty_at_a_time_keeping_the_filters(app, db):
    for n in range(55):
        _review(db, make_volunteer(db, full_name=f"Person {n:02d}"), n % 28 + 1)
    _review(db, make_volunteer(db, full_name="Other Kind"), 1, ReviewKind.NEW_APPLICATION)
    client, _ = _officer(app, db)
    first = client.get("/vetting/queue?kind=renewal")
    assert len(_names(first)) == 50 and "Other Kind" not in _names(first)
    assert " ".join(first.soup.select_one("caption").get_text().split()) == "55 open reviews matching the filters"
    next_link = first.soup.select_one(".govuk-pagination__next a")["href"]
    assert "kind=renewal" in next_link and "page=2" in next_link
    second = client.get(next_link)
    assert len(_names(second)) == 5
    assert set(_names(first)) | set(_names(second)) == {f"Person {n:02d}" for n in range(55)}
    assert second.soup.select_one(".govuk-pagination__item--current").get_text(strip=True) == "2"
    # Ordered across pages: the last of page 1 is due no later than the first of page 2.
    due = {r.volunteer.user.full_name: r.due_on for r in db.scalars(select(VettingReview))}
    assert due[_names(first)[-1]] <= due[_names(second)[0]]
    # A page beyond the end, or not a number, shows the nearest page.
    assert _names(client.get("/vetting/queue?kind=renewal&page=99")) == _names(second)
    assert _names(client.get("/vetting/queue?kind=renewal&page=" + "9" * 40)) == _names(first)
    assert _names(client.get("/vetting/queue?kind=renewal&page=two")) == _names(first)


def test_a_bad_queue_filter_is_shown_by_its_box_kept_as_typed_and_left_out(app, db):
    _queue_people(db)
    client, _ = _officer(app, db)
    long_text = "x" * 10_000
    page = client.get(
        "/vetting/queue", query_string={"q": long_text, "kind": "tampered", "due_within": "soon", "only": "hacked"}
    )
    assert page.status_code == 200
    assert error_messages(page.soup) == {
        "q": "Search text must be 120 characters or fewer",
        "kind": "Choose a kind of review from the list",
        "due_within": "Enter the number of days as a whole number, like 14",
        "only": "Choose from the options listed",
    }
    assert page.soup.select_one("title").get_text().startswith("Error: ")
    assert page.soup.select_one("#q")["value"] == long_text
    assert page.soup.select_one("#due_within")["value"] == "soon"
    # Left out: the whole queue shows.
    assert len(_names(page)) == 4
    for value, message in (
        ("-1", "Enter a number of days from 0 to 366"),
        ("367", "Enter a number of days from 0 to 366"),
        ("9" * 10_000, "Enter the number of days as a whole number, like 14"),
        ("2.5", "Enter the number of days as a whole number, like 14"),
    ):
        bad = client.get("/vetting/queue", query_string={"due_within": value})
        assert error_messages(bad.soup) == {"due_within": message}, value
        assert len(_names(bad)) == 4


# ---- Finding a person: every review, open and closed --------------------------------------------


def test_a_vetting_officer_finds_a_person_and_sees_every_review_open_and_closed(app, db):
    volunteer = make_volunteer(db, full_name="Wanda Whitlock", email="wanda@force.example")
    make_volunteer(db, full_name="Walter Other", email="walter@force.example")
    decider = make_user(db, Role.VETTING_OFFICER, full_name="Officer Decider")
    closed = _review(
        db,
        volunteer,
        -40,
        ReviewKind.NEW_APPLICATION,
        status=ReviewStatus.CLOSED,
        outcome="grant",
        closed_at=utcnow(),
        closed_by_id=decider.id,
    )
    still_open = _review(db, volunteer, 30)
    db.add(
        Clearance(
            volunteer_id=volunteer.id,
            type_code="NPPV2F",
            state=ClearanceState.GRANTED,
            valid_from=dt.date(2025, 1, 1),
            expires_on=dt.date(2027, 12, 31),
        )
    )
    db.commit()
    client, officer = _officer(app, db)

    blank = client.get("/vetting/people")
    assert not error_messages(blank.soup) and not blank.soup.select("tbody tr")
    empty = client.get("/vetting/people?q=+")
    assert error_messages(empty.soup) == {"q": "Enter part of a name or an email address"}
    long = client.get("/vetting/people", query_string={"q": "w" * 10_000})
    assert error_messages(long.soup) == {"q": "Search text must be 120 characters or fewer"}
    assert long.soup.select_one("#q")["value"] == "w" * 10_000
    found = client.get("/vetting/people?q=WA")
    assert [a.get_text(strip=True) for a in found.soup.select("tbody a")] == ["Walter Other", "Wanda Whitlock"]
    by_email = client.get("/vetting/people?q=wanda@force")
    assert [a.get_text(strip=True) for a in by_email.soup.select("tbody a")] == ["Wanda Whitlock"]
    assert "No volunteer" in client.get("/vetting/people?q=nobody-at-all").soup.select_one("main").get_text()

    record = client.get(by_email.soup.select_one("tbody a")["href"])
    assert record.soup.select_one("h1").get_text(strip=True) == "Wanda Whitlock: vetting record"
    links = {a["href"] for a in record.soup.select("main table a")}
    assert {f"/vetting/reviews/{closed.id}", f"/vetting/reviews/{still_open.id}"} <= links
    text = " ".join(record.soup.select_one("main").get_text().split())
    assert "1 open, 1 closed" in text and "Grant" in text and "by Officer Decider" in text
    assert "NPPV level 2 (full)" in text
    # The closed review can be opened again.
    assert client.get(f"/vetting/reviews/{closed.id}").status_code == 200
    # Opening the record is in the audit log.
    db.expire_all()
    viewed = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "vetting_record.viewed", AuditEntry.actor_id == officer.id)
    ).all()
    assert [(e.subject_type, e.subject_id, e.detail) for e in viewed][0] == (
        "volunteer",
        str(volunteer.id),
        '{"page":"person"}',
    )
    assert client.get("/vetting/people/999999").status_code == 404


# ---- The audit log --------------------------------------------------------------------------------


def _entries(app, db):
    """A small log: two officers' decisions about two people, a sweep lapse, a policy change."""
    key = app.config["AUDIT_HMAC_KEY"].encode()
    ana = make_volunteer(db, full_name="Ana Subject", email="ana@force.example")
    ben = make_volunteer(db, full_name="Ben Subject", email="ben@force.example")
    first = make_user(db, Role.VETTING_OFFICER, full_name="Fay First")
    second = make_user(db, Role.VETTING_OFFICER, full_name="Sid Second")
    coordinator = make_user(db, Role.COORDINATOR, full_name="Cora Coordinator")
    clearance = Clearance(volunteer_id=ana.id, type_code="NPPV3", state=ClearanceState.GRANTED)
    db.add(clearance)
    db.commit()
    review = _review(db, ben, 10)
    day = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    for at, actor, action, subject_type, subject_id, detail in (
        (day, first.id, "clearance.grant", "clearance", clearance.id, {"volunteer": ana.id, "to": "granted"}),
        (day + dt.timedelta(days=1), second.id, "review.closed", "vetting_review", review.id, {"outcome": "=cmd"}),
        (day + dt.timedelta(days=2), None, "clearance.lapse", "clearance", clearance.id, {"volunteer": ana.id}),
        (day + dt.timedelta(days=3), first.id, "vetting_record.viewed", "volunteer", ben.id, {"review": review.id}),
        (day + dt.timedelta(days=4), coordinator.id, "policy.validity_changed", "clearance_type", "SC", {}),
    ):
        record(
            db,
            actor_id=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail,
            key=key,
            at=at,
        )
    db.commit()
    return dict(ana=ana, ben=ben, first=first, second=second, coordinator=coordinator, clearance=clearance)


def _rows(page) -> list[tuple[str, str]]:
    """(action in words, about) of each row."""
    return [
        (
            row.select_one(".app-action").get_text(strip=True),
            " ".join(row.select("td")[2].get_text().split()),
        )
        for row in page.soup.select("tbody tr")
    ]


def test_the_audit_log_filters_by_person_officer_action_and_dates(app, db):
    people = _entries(app, db)
    client, _ = _officer(app, db)
    everything = client.get("/vetting/audit-log")
    assert _rows(everything)[:5] == [
        ("Clearance validity changed", "Clearance type: Security Check"),
        ("Vetting record viewed", "Ben Subject"),
        ("Clearance lapsed", "Ana Subject: NPPV level 3"),
        ("Review closed", "Ben Subject: renewal review"),
        ("Clearance granted", "Ana Subject: NPPV level 3"),
    ]
    # By person: their clearances, their reviews and they themselves.
    assert [a for a, _ in _rows(client.get("/vetting/audit-log?person=ana"))] == [
        "Clearance lapsed",
        "Clearance granted",
    ]
    # A full name picks that person, whatever the case.
    by_name = client.get("/vetting/audit-log?person=ANA+subject")
    assert "about Ana Subject" in by_name.soup.select_one("caption").get_text()
    ben = client.get("/vetting/audit-log?person=ben@force.example")
    assert [a for a, _ in _rows(ben)] == ["Vetting record viewed", "Review closed"]
    assert "about Ben Subject" in ben.soup.select_one("caption").get_text()
    # By who did it, the system included.
    assert [a for a, _ in _rows(client.get(f"/vetting/audit-log?actor={people['first'].id}"))] == [
        "Vetting record viewed",
        "Clearance granted",
    ]
    assert [a for a, _ in _rows(client.get("/vetting/audit-log?actor=system"))] == ["Clearance lapsed"]
    # By action, and by London dates (inclusive).
    assert _rows(client.get("/vetting/audit-log?action=review.closed")) == [
        ("Review closed", "Ben Subject: renewal review")
    ]
    dates = {"from_date": ["11", "3", "2026"], "to_date": ["12", "3", "2026"]}
    assert [a for a, _ in _rows(client.get("/vetting/audit-log", query_string=dates))] == [
        "Clearance lapsed",
        "Review closed",
    ]
    combined = client.get("/vetting/audit-log", query_string={**dates, "person": "ana", "actor": "system"})
    assert [a for a, _ in _rows(combined)] == ["Clearance lapsed"]
    # The filters chosen stay chosen.
    assert combined.soup.select_one("#person")["value"] == "ana"
    assert combined.soup.select_one("#actor option[selected]")["value"] == "system"
    assert combined.soup.select_one("#from_date-day")["value"] == "11"


def test_the_audit_log_csv_holds_the_filtered_rows_and_reading_and_exporting_are_logged(app, db):
    people = _entries(app, db)
    client, officer = _officer(app, db)
    query = {"actor": str(people["first"].id), "from_date": ["1", "3", "2026"]}
    page = client.get("/vetting/audit-log", query_string=query)
    shown = [row["id"].removeprefix("entry-") for row in page.soup.select("tbody tr")]
    assert len(shown) == 2
    link = page.soup.select_one("a[href*='export.csv']")["href"]
    assert f"actor={people['first'].id}" in link and "from_date=1" in link
    export = client.get(link)
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert export.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[0] == [
        "Entry",
        "When (UTC)",
        "When (London)",
        "Done by",
        "Action",
        "Action code",
        "About",
        "Subject",
        "Detail",
    ]
    assert [r[0] for r in rows[1:]] == shown
    assert [r[3] for r in rows[1:]] == ["Fay First", "Fay First"]
    assert [r[5] for r in rows[1:]] == ["vetting_record.viewed", "clearance.grant"]

    # A cell that a spreadsheet would run as a formula is written as text.
    closed = client.get("/vetting/audit-log/export.csv?action=review.closed")
    detail = list(csv.reader(io.StringIO(closed.get_data(as_text=True))))[1][8]
    assert detail.startswith('{"outcome":"=cmd"')

    db.expire_all()
    mine = db.scalars(select(AuditEntry).where(AuditEntry.actor_id == officer.id).order_by(AuditEntry.seq)).all()
    assert [e.action for e in mine] == ["audit_log.viewed", "audit_log.exported", "audit_log.exported"]
    assert '"entries":2' in mine[0].detail and f'"actor":"{people["first"].id}"' in mine[0].detail
    assert '"from":"2026-03-01"' in mine[1].detail and '"entries":2' in mine[1].detail
    # A person's trail includes who read it.
    client.get("/vetting/audit-log?person=ana@force.example")
    trail = client.get("/vetting/audit-log?person=ana@force.example")
    assert ("Audit log viewed", "Ana Subject") in _rows(trail)


def test_bad_audit_log_filters_are_shown_by_their_box_and_nothing_is_listed(app, db):
    _entries(app, db)
    client, officer = _officer(app, db)
    today = london_today()
    cases = [
        ({"person": "nobody"}, {"person": "No volunteer’s name or email address contains ‘nobody’"}),
        ({"person": "subject"}, {"person": "More than one volunteer matches ‘subject’: enter their email address"}),
        ({"person": "p" * 10_000}, {"person": "The name or email address must be 254 characters or fewer"}),
        ({"actor": "99999999"}, {"actor": "Choose someone from the list"}),
        ({"action": "<script>"}, {"action": "Choose an action from the list"}),
        ({"from_date": ["31", "2", "2026"]}, {"from_date-day": "The from date must be a real date"}),
        ({"from_date": ["", "2", "2026"]}, {"from_date-day": "The from date must include a day"}),
        ({"to_date": ["1", "1", "1900"]}, {"to_date-day": "The to date must be in 2000 or later"}),
        ({"to_date": ["1", "1", "99999"]}, {"to_date-day": "The to date must be a real date"}),
        (
            date_fields("from_date", today + dt.timedelta(days=1)),
            {"from_date-day": "The from date must be today or in the past"},
        ),
        (
            {**date_fields("from_date", today), **date_fields("to_date", today - dt.timedelta(days=1))},
            {"to_date-day": "The to date must be the same as or after the from date"},
        ),
    ]
    for query, expected in cases:
        page = client.get("/vetting/audit-log", query_string=query)
        assert page.status_code == 200, query
        assert error_messages(page.soup) == expected, query
        assert not page.soup.select("tbody tr"), query
        assert "Correct the filters to see the entries." in page.soup.select_one("main").get_text()
        # An export with the same filters goes back to the page that explains.
        export = client.get("/vetting/audit-log/export.csv", query_string=query)
        assert export.status_code == 302 and "/vetting/audit-log?" in export.location, query
    kept = client.get("/vetting/audit-log", query_string={"from_date": ["31", "2", "2026"], "person": "p" * 300})
    assert [kept.soup.select_one(f"#from_date-{part}")["value"] for part in ("day", "month", "year")] == [
        "31",
        "2",
        "2026",
    ]
    assert kept.soup.select_one("#person")["value"] == "p" * 300
    # Nothing was read, so nothing is logged as read.
    db.expire_all()
    assert not db.scalars(select(AuditEntry).where(AuditEntry.actor_id == officer.id)).all()


def test_only_vetting_officers_reach_the_people_search_and_the_audit_log(app, db):
    volunteer = make_volunteer(db)
    paths = (
        "/vetting/people?q=a",
        f"/vetting/people/{volunteer.id}",
        "/vetting/audit-log",
        "/vetting/audit-log/export.csv",
    )
    for role in (Role.VOLUNTEER, Role.SERGEANT, Role.COORDINATOR):
        client = app.test_client()
        client.sign_in(make_user(db, role).email)
        for path in paths:
            assert client.get(path).status_code == 403, (role, path)
    anonymous = app.test_client()
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 302 and "/sign-in" in response.location
    db.expire_all()
    assert not db.scalars(select(AuditEntry)).all(), "a refused request reads and logs nothing"


def test_exactly_one_menu_item_is_current_on_each_vetting_officer_page(app, db):
    volunteer = make_volunteer(db)
    review = _review(db, volunteer, 5)
    client, _ = _officer(app, db)
    menu = [a.get_text(strip=True) for a in client.get("/").soup.select(".govuk-service-navigation__link")]
    assert menu == ["Home", "Vetting queue", "Find a person", "Audit log"]
    for path, current in (
        ("/", "Home"),
        ("/vetting/queue", "Vetting queue"),
        (f"/vetting/reviews/{review.id}", "Vetting queue"),
        ("/vetting/people?q=test", "Find a person"),
        (f"/vetting/people/{volunteer.id}", "Find a person"),
        ("/vetting/audit-log", "Audit log"),
    ):
        page = client.get(path)
        active = page.soup.select(".govuk-service-navigation__item--active")
        assert [a.get_text(strip=True) for a in active] == [current], path


# ---- The task-type and clearance-type pages -------------------------------------------------------


def _coordinator(app, db):
    client = app.test_client()
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    return client


def test_the_task_types_page_shows_names_not_codes_or_markup(app, db):
    page = _coordinator(app, db).get("/vetting/task-types")
    main = page.soup.select_one("main")
    text = main.get_text(" ")
    assert "<br>" not in text and "&lt;br" not in str(main)
    for clearance_type in CLEARANCE_TYPES:
        assert clearance_type.code not in text.split(), clearance_type.code
        assert f" {clearance_type.code} " not in f" {text} "
    for skill in SKILLS:
        assert skill.code not in text, skill.code
    # Youth work unsupervised: the children's barred list, by name, in a list.
    youth = next(p for p in TASK_POLICIES if p.unsupervised_clearance_groups)
    card = next(c for c in page.soup.select(".govuk-summary-card") if youth.name in c.select_one("h2").get_text())
    unsupervised = next(
        row for row in card.select(".govuk-summary-list__row") if "Unsupervised" in row.select_one("dt").get_text()
    )
    value = " ".join(unsupervised.select_one("dd").get_text().split())
    assert value == (
        "Allowed, with one of: DBS enhanced check with children's barred list or DBS enhanced check with "
        "children's and adults' barred lists as well"
    )
    skills_row = next(
        row for row in card.select(".govuk-summary-list__row") if "Skills" in row.select_one("dt").get_text()
    )
    assert skills_row.select("li"), "skills are a list"


def test_the_clearance_types_page_shows_names_and_regimes_in_words(app, db):
    page = _coordinator(app, db).get("/vetting/clearance-types")
    main = page.soup.select_one("main")
    text = " ".join(main.get_text(" ").split())
    for clearance_type in CLEARANCE_TYPES:
        assert clearance_type.name in text
        assert f"({clearance_type.code})" not in text
    assert "Dbs" not in text and "DBS_" not in text
    assert "Disclosure and Barring Service" in text
