"""The vetting queue, decisions, the second officer's confirmation and the audit trail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.audit.models import AuditEntry
from core.auth.models import Role
from core.timeutil import london_today
from tests.helpers import date_fields, error_messages, make_user, make_volunteer
from vetting.decisions import default_expiry
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ClearanceTransition, ReviewKind, ReviewStatus, VettingReview
from volunteers.models import VolunteerStatus


def _review(db, kind=ReviewKind.NEW_APPLICATION, due=None, **volunteer):
    v = make_volunteer(db, **volunteer)
    review = VettingReview(volunteer_id=v.id, kind=kind, due_on=due or london_today() + dt.timedelta(days=10))
    db.add(review)
    db.commit()
    return review


def _officer(app, db):
    client = app.test_client()
    client.sign_in(make_user(db, Role.VETTING_OFFICER).email)
    return client


def test_queue_puts_overdue_reviews_first_then_triggered_then_by_due_date(app, db):
    # The order the queue page states (issue #17): overdue first, then triggered reviews, then by due date.
    late_app = _review(db, due=london_today() - dt.timedelta(days=2), full_name="Ann Applicant")
    triggered = _review(db, kind=ReviewKind.TRIGGERED, due=london_today() + dt.timedelta(days=9), full_name="Tim Trig")
    renewal = _review(db, kind=ReviewKind.RENEWAL, due=london_today() + dt.timedelta(days=30), full_name="Ren Ewal")
    page = _officer(app, db).get("/vetting/queue")
    names = [a.get_text(strip=True) for a in page.soup.select("tbody a")]
    assert names == ["Ann Applicant", "Tim Trig", "Ren Ewal"]
    assert "Overdue" in page.soup.select("tbody tr")[0].get_text()
    assert {late_app.id, triggered.id, renewal.id}


def test_grant_with_a_restriction_activates_the_volunteer_and_is_audited(app, db):
    review = _review(db)
    officer = _officer(app, db)
    page = officer.get(f"/vetting/reviews/{review.id}")
    assert page.soup.select_one("h1").get_text(strip=True).startswith("New application")
    response = officer.submit(
        f"/vetting/reviews/{review.id}",
        {
            "outcome": "grant_with_restrictions",
            "type_code": "NPPV2F",
            **date_fields("valid_from", london_today()),
            "restrictions": ["youth_schools_liaison"],
            "reason": "Checks clear; no unsupervised youth work yet",
        },
    )
    assert response.status_code == 302
    db.expire_all()
    clearance = db.scalars(select(Clearance).where(Clearance.volunteer_id == review.volunteer_id)).one()
    assert clearance.state is ClearanceState.GRANTED_WITH_RESTRICTIONS
    assert clearance.restrictions == {"youth_schools_liaison"}
    assert clearance.expires_on == default_expiry("NPPV2F", london_today())  # 36 months, last day inclusive
    assert (clearance.expires_on - london_today()).days in range(1090, 1097)
    assert db.get(VettingReview, review.id).status is ReviewStatus.CLOSED
    assert review.volunteer.status is VolunteerStatus.ACTIVE
    transitions = [(t.from_state.value, t.to_state.value) for t in db.scalars(select(ClearanceTransition))]
    assert transitions == [("applied", "in_progress"), ("in_progress", "granted_with_restrictions")]
    actions = [a for a in db.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))]
    # Two views: the page, then the form fetched again before posting (every view is audited).
    assert actions == [
        "vetting_record.viewed",
        "vetting_record.viewed",
        "clearance.start",
        "clearance.grant_with_restrictions",
        "review.closed",
    ]
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_decision_form_with_missing_and_bad_input(app, db):
    review = _review(db)
    officer = _officer(app, db)
    empty = officer.submit(f"/vetting/reviews/{review.id}", {})
    assert error_messages(empty.soup) == {"outcome": "Choose a decision", "reason": "Enter the reason for the decision"}
    no_type = officer.submit(f"/vetting/reviews/{review.id}", {"outcome": "grant", "reason": "ok"})
    # Every problem at once (issue 19): the missing date of the grant too.
    assert error_messages(no_type.soup) == {
        "type_code": "Choose the clearance this decision is about",
        "valid_from-day": "Enter the date the clearance takes effect",
    }
    no_restriction = officer.submit(
        f"/vetting/reviews/{review.id}",
        {
            "outcome": "grant_with_restrictions",
            "type_code": "NPPV2F",
            **date_fields("valid_from", london_today()),
            "reason": "ok",
        },
    )
    assert error_messages(no_restriction.soup) == {
        "restrictions": "Choose at least one task the clearance may not be used for"
    }
    backwards = officer.submit(
        f"/vetting/reviews/{review.id}",
        {
            "outcome": "grant",
            "type_code": "NPPV2F",
            **date_fields("valid_from", london_today()),
            **date_fields("expires_on", london_today() - dt.timedelta(days=1)),
            "reason": "ok",
        },
    )
    assert error_messages(backwards.soup) == {"expires_on-day": "The end date must be after the date it takes effect"}
    no_change = officer.submit(f"/vetting/reviews/{review.id}", {"outcome": "no_change", "reason": "fine"})
    assert error_messages(no_change.soup)["outcome"] == "Not a valid choice."  # not offered for an application
    half_date = officer.submit(
        f"/vetting/reviews/{review.id}",
        {"outcome": "grant", "type_code": "RV", "valid_from": ["1", "", ""], "reason": "ok"},
    )
    assert error_messages(half_date.soup) == {
        "valid_from-day": "The date it takes effect must include a month and year"
    }
    db.expire_all()
    assert db.scalars(select(Clearance)).all() == []  # nothing saved by any failed attempt
    assert db.get(VettingReview, review.id).status is ReviewStatus.OPEN


def test_a_refusal_takes_effect_only_when_a_second_officer_confirms(app, db):
    review = _review(db)
    first, second = _officer(app, db), _officer(app, db)
    first.submit(
        f"/vetting/reviews/{review.id}",
        {"outcome": "refuse", "type_code": "NPPV2F", "reason": "Undisclosed conviction found in PNC check"},
    )
    db.expire_all()
    clearance = db.scalars(select(Clearance)).one()
    assert clearance.state is ClearanceState.IN_PROGRESS
    assert db.get(VettingReview, review.id).status is ReviewStatus.OPEN
    own = first.get(f"/vetting/reviews/{review.id}")
    assert "A different vetting officer must confirm it" in own.soup.get_text()
    assert own.soup.select_one(f"form[action='/vetting/reviews/{review.id}/confirm']") is None
    # Posting the confirmation yourself is refused too.
    token = first.csrf_token(f"/vetting/reviews/{review.id}")
    refused = first.post(f"/vetting/reviews/{review.id}/confirm", data={"csrf_token": token})
    summary = first.get(refused.location).soup.select_one(".govuk-error-summary").get_text()
    assert "You entered this refusal, so a different vetting officer must confirm it" in summary
    db.expire_all()
    assert db.get(Clearance, clearance.id).state is ClearanceState.IN_PROGRESS

    second.submit(f"/vetting/reviews/{review.id}/confirm", {}, token_from=f"/vetting/reviews/{review.id}")
    db.expire_all()
    assert db.get(Clearance, clearance.id).state is ClearanceState.REFUSED
    assert db.get(VettingReview, review.id).status is ReviewStatus.CLOSED
    last = db.scalars(select(ClearanceTransition).order_by(ClearanceTransition.id.desc())).first()
    assert last.proposed_by_id is not None and last.proposed_by_id != last.actor_id
    history = second.get(f"/vetting/reviews/{review.id}").soup.get_text()
    assert "confirmed by a second officer" in history and "Undisclosed conviction" in history


def test_triggered_review_shows_the_report_and_can_close_with_no_change(app, db):
    from volunteers.models import CircumstanceCategory, CircumstanceReport

    review = _review(db, kind=ReviewKind.TRIGGERED)
    report = CircumstanceReport(
        volunteer_id=review.volunteer_id,
        category=CircumstanceCategory.NEW_JOB,
        occurred_on=london_today(),
        details="Joined Acme Security as an investigator",
    )
    db.add(report)
    db.flush()
    review.circumstance_report_id = report.id
    db.commit()
    officer = _officer(app, db)
    assert "Joined Acme Security" in officer.get(f"/vetting/reviews/{review.id}").soup.get_text()
    officer.submit(f"/vetting/reviews/{review.id}", {"outcome": "no_change", "reason": "Employer not a conflict"})
    db.expire_all()
    assert db.get(VettingReview, review.id).outcome == "no_change"


def test_the_volunteer_sees_the_outcome_in_plain_words_and_never_the_reason(app, db):
    review = _review(db)
    _officer(app, db).submit(
        f"/vetting/reviews/{review.id}",
        {
            "outcome": "grant",
            "type_code": "NPPV2F",
            **date_fields("valid_from", london_today()),
            "reason": "Secret vetting reasoning",
        },
    )
    volunteer = app.test_client()
    volunteer.sign_in(review.volunteer.user.email)
    page = volunteer.get("/")
    text = page.soup.get_text()
    assert "Cleared for" in text and "renewal due" in text
    assert "Secret vetting reasoning" not in page.get_data(as_text=True)
