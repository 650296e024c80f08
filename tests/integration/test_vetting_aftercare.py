"""Aftercare: changes of circumstances join the open triggered review, the sweep opens the annual
integrity review, a vetting officer opens a review on information from outside (and may suspend
pending it), and a volunteer who leaves has their clearances ended as no longer needed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.audit.models import AuditEntry
from core.seams import seams
from core.timeutil import london_today
from tests.helpers import date_fields, error_messages, make_volunteer
from tests.integration.vetting_factories import granted, mail_to, officer, officers, review, volunteer_client
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, PendingDecision, ReviewKind, ReviewStatus, VettingReview
from volunteers.models import CircumstanceReport, Volunteer, VolunteerStatus


def _report(client, category, details):
    return client.submit(
        "/profile/circumstances",
        {"category": category, "details": details, **date_fields("occurred_on", london_today())},
    )


def _open_triggered(db, volunteer_id):
    db.expire_all()
    return db.scalars(
        select(VettingReview).where(
            VettingReview.volunteer_id == volunteer_id,
            VettingReview.kind == ReviewKind.TRIGGERED,
            VettingReview.status == ReviewStatus.OPEN,
        )
    ).all()


def _sweep(app, today=None):
    args = ["vetting", "sweep"] + (["--today", today.isoformat()] if today else [])
    return app.test_cli_runner().invoke(args=args)


# ---- Changes of circumstances -------------------------------------------------------------------


def test_a_second_change_report_joins_the_open_triggered_review_and_the_queue_says_what_changed(app, db):
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE, full_name="Cass Change")
    person = volunteer_client(app, volunteer)
    assert _report(person, "new_job", "Joined Acme Security as an investigator").status_code == 302
    assert _report(person, "criminal_involvement", "Arrested after a neighbour dispute").status_code == 302
    (item,) = _open_triggered(db, volunteer.id)
    assert {t.circumstance_report.category.value for t in item.triggers} == {"new_job", "criminal_involvement"}

    client = officer(app, db)
    row = next(tr for tr in client.get("/vetting/queue").soup.select("tbody tr") if "Cass Change" in tr.get_text())
    assert "New job or employer" in row.get_text()
    assert "Arrest, charge, caution, conviction or investigation" in row.get_text()
    page = client.get(f"/vetting/reviews/{item.id}").soup.get_text()
    assert "Joined Acme Security" in page and "neighbour dispute" in page
    circumstances = person.get("/profile/circumstances").soup.get_text()
    assert circumstances.count("Review open") == 2

    client.submit(f"/vetting/reviews/{item.id}", {"outcome": "no_change", "reason": "Employer not a conflict"})
    assert _report(person, "new_address", "Moved to Hackney").status_code == 302
    (fresh,) = _open_triggered(db, volunteer.id)
    assert fresh.id != item.id and [t.circumstance_report.category.value for t in fresh.triggers] == ["new_address"]


# ---- The annual integrity review ----------------------------------------------------------------


def test_the_sweep_opens_the_annual_integrity_review_once(app, db):
    today = london_today()
    due = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    granted(db, due)  # granted 700 days ago, never reviewed since
    recent = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    fresh = granted(db, recent)
    fresh.valid_from = today - dt.timedelta(days=100)
    reviewed = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    granted(db, reviewed)
    review(db, reviewed, ReviewKind.INTEGRITY, opened_days_ago=200, status=ReviewStatus.CLOSED)
    left = make_volunteer(db, status=VolunteerStatus.LEFT)
    granted(db, left)
    lapsed = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    granted(db, lapsed, state=ClearanceState.LAPSED, expires_in=-30)
    db.commit()

    first = _sweep(app)
    assert "1 integrity review opened" in first.output, first.output
    opened = db.scalars(select(VettingReview).where(VettingReview.kind == ReviewKind.INTEGRITY)).all()
    new = [r for r in opened if r.status is ReviewStatus.OPEN]
    assert [r.volunteer_id for r in new] == [due.id]
    assert new[0].due_on == today + dt.timedelta(days=28)
    assert "0 integrity reviews opened" in _sweep(app).output

    # A year after that review was opened, the next one.
    next_year = today + dt.timedelta(days=366)
    db.get(VettingReview, new[0].id).status = ReviewStatus.CLOSED
    db.commit()
    later = _sweep(app, next_year)
    assert "integrity review" in later.output
    db.expire_all()
    again = db.scalars(
        select(VettingReview).where(
            VettingReview.kind == ReviewKind.INTEGRITY,
            VettingReview.volunteer_id == due.id,
            VettingReview.status == ReviewStatus.OPEN,
        )
    ).all()
    assert len(again) == 1


def test_an_integrity_review_closes_with_no_concerns_and_its_page_offers_the_clearance_actions(app, db):
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    clearance = granted(db, volunteer)
    item = review(db, volunteer, ReviewKind.INTEGRITY)
    client = officer(app, db)
    page = client.get(f"/vetting/reviews/{item.id}")
    assert page.soup.select_one("h1").get_text(strip=True).startswith("Annual integrity review")
    assert page.soup.select_one(f"form[action$='/clearances/{clearance.id}/suspend']") is not None
    client.submit(f"/vetting/reviews/{item.id}", {"outcome": "no_change", "reason": "Annual declaration checked"})
    db.expire_all()
    assert db.get(VettingReview, item.id).outcome == "no_change"


# ---- Information from outside -------------------------------------------------------------------


def test_an_officer_opens_a_review_on_information_from_outside_and_suspends_pending_it(app, db, smtp):
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE, full_name="Olly Outside")
    clearance = granted(db, volunteer)
    other = granted(db, volunteer, code="DBS_ENH_CHILD")
    renewal = review(db, volunteer, ReviewKind.RENEWAL, clearance=clearance)
    client = officer(app, db)
    assert "Record information from outside" in client.get(f"/vetting/reviews/{renewal.id}").soup.get_text()
    url = f"/vetting/volunteers/{volunteer.id}/information"
    page = client.get(url)
    assert page.soup.select_one("h1").get_text(strip=True) == "Record information about Olly Outside"

    empty = client.submit(url, {})
    assert error_messages(empty.soup) == {
        "source": "Choose where the information came from",
        "summary": "Enter a summary of the information",
    }
    tampered = client.submit(url, {"source": "gossip", "summary": "x"})
    assert error_messages(tampered.soup) == {"source": "Choose where the information came from"}
    long = "z" * 10_000
    too_long = client.submit(url, {"source": "professional_standards", "summary": long, "suspend": "y"})
    assert error_messages(too_long.soup) == {"summary": "The summary must be 4,000 characters or fewer"}
    assert too_long.soup.select_one("#summary").get_text() == long
    assert too_long.soup.select_one("input[name=suspend]").has_attr("checked")
    assert _open_triggered(db, volunteer.id) == []

    done = client.submit(
        url, {"source": "professional_standards", "summary": "Named in a misconduct referral", "suspend": "y"}
    )
    assert done.status_code == 302
    (item,) = _open_triggered(db, volunteer.id)
    assert done.location.endswith(f"/vetting/reviews/{item.id}")
    assert db.get(Clearance, clearance.id).state is ClearanceState.SUSPENDED
    assert db.get(Clearance, other.id).state is ClearanceState.SUSPENDED
    page = client.get(f"/vetting/reviews/{item.id}").soup.get_text()
    assert "Named in a misconduct referral" in page and "Professional Standards" in page
    row = next(tr for tr in client.get("/vetting/queue").soup.select("tbody tr") if "Olly Outside" in tr.get_text())
    assert "Information from Professional Standards" in row.get_text()
    # The volunteer learns that a clearance is suspended, never what the information is or where it came from.
    messages = mail_to(smtp, volunteer.user.email)
    assert len(messages) == 2 and all("misconduct" not in text and "Standards" not in text for _, text in messages)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "review.information_recorded")).one()
    assert "misconduct" not in entry.detail

    # More information joins the open triggered review.
    client.submit(url, {"source": "partner", "summary": "Employer reports a disciplinary"})
    (same,) = _open_triggered(db, volunteer.id)
    assert same.id == item.id and len(same.triggers) == 2


def test_only_vetting_officers_record_information(app, db):
    volunteer = make_volunteer(db)
    person = volunteer_client(app, volunteer)
    assert person.get(f"/vetting/volunteers/{volunteer.id}/information").status_code == 403
    client = officer(app, db)
    assert client.get("/vetting/volunteers/999999/information").status_code == 404


# ---- Leaving ------------------------------------------------------------------------------------


def _leave(app, db, volunteer):
    """What the volunteers feature does when someone leaves: its status, then the hooks, one commit."""
    with app.app_context():
        volunteer = db.get(Volunteer, volunteer.id)
        volunteer.status = VolunteerStatus.LEFT
        for hook in seams(app).volunteer_left:
            hook(db, volunteer, None)
        db.commit()


def test_leaving_ends_every_clearance_as_no_longer_needed_and_closes_the_reviews(app, db):
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    active = granted(db, volunteer)
    suspended = granted(db, volunteer, code="DBS_ENH_CHILD", state=ClearanceState.SUSPENDED)
    lapsed = granted(db, volunteer, code="RV", state=ClearanceState.LAPSED, expires_in=-3)
    renewal = review(db, volunteer, ReviewKind.RENEWAL, clearance=active)
    triggered = review(db, volunteer, ReviewKind.TRIGGERED)
    first, _ = officers(app, db, 2)
    url = f"/vetting/reviews/{triggered.id}"
    first.submit(f"{url}/clearances/{active.id}/withdraw", {"reason": "Adverse"}, token_from=url)

    _leave(app, db, volunteer)
    db.expire_all()
    states = {c.id: c.state for c in db.scalars(select(Clearance).where(Clearance.volunteer_id == volunteer.id))}
    assert states == {
        active.id: ClearanceState.NO_LONGER_NEEDED,
        suspended.id: ClearanceState.NO_LONGER_NEEDED,
        lapsed.id: ClearanceState.LAPSED,
    }
    for item in (renewal, triggered):
        closed = db.get(VettingReview, item.id)
        assert (closed.status, closed.outcome) == (ReviewStatus.CLOSED, "volunteer_left")
    assert db.scalars(select(PendingDecision)).all() == []
    actions = set(db.scalars(select(AuditEntry.action)))
    assert {"clearance.withdraw_not_needed", "review.closed"} <= actions
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0

    page = first.get(f"/vetting/reviews/{renewal.id}").soup.get_text()
    assert "No longer needed" in page


def test_leaving_with_an_appeal_open_closes_it_and_the_decision_stands(app, db):
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    clearance = granted(db, volunteer)
    triggered = review(db, volunteer, ReviewKind.TRIGGERED)
    first, second = officers(app, db, 2)
    url = f"/vetting/reviews/{triggered.id}"
    first.submit(f"{url}/clearances/{clearance.id}/withdraw", {"reason": "Adverse"}, token_from=url)
    second.submit(f"{url}/confirm", {}, token_from=url)
    volunteer_client(app, volunteer).submit(
        f"/vetting/my-clearances?appeal={clearance.id}", {"clearance_id": clearance.id, "grounds": "Not me"}
    )
    _leave(app, db, volunteer)
    db.expire_all()
    assert db.get(Clearance, clearance.id).state is ClearanceState.WITHDRAWN
    appeal = db.scalars(select(VettingReview).where(VettingReview.kind == ReviewKind.APPEAL)).one()
    assert (appeal.status, appeal.outcome) == (ReviewStatus.CLOSED, "volunteer_left")
    assert db.scalars(select(CircumstanceReport)).all() == []
