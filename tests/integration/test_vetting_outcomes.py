"""Outcomes reach the person: their status follows the outcome, and each outcome sends an email in
plain words (what it means for them, how to appeal where they can), never the officer's reasons.
Emails go only after the decision is saved, and one that SMTP refused goes with the next sweep."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.timeutil import format_date, london_today
from tests.helpers import date_fields, make_volunteer
from tests.integration.vetting_factories import granted, mail_to, officers, review, volunteer_client
from vetting.models import Clearance, ReviewKind, VettingNotice, VettingReview
from volunteers.models import Volunteer, VolunteerStatus

SECRET = "Officer-only reasoning 7731"


def _decide(client, item, outcome, **data):
    return client.submit(f"/vetting/reviews/{item.id}", {"outcome": outcome, "reason": SECRET, **data})


def _status(db, volunteer_id) -> VolunteerStatus:
    db.expire_all()
    return db.get(Volunteer, volunteer_id).status


def _only_mail(smtp, volunteer) -> tuple[str, str]:
    messages = mail_to(smtp, volunteer.user.email)
    assert len(messages) == 1, messages
    subject, text = messages[0]
    assert SECRET not in text and SECRET not in subject
    return subject, text


def test_a_grant_activates_the_applicant_and_tells_them_what_it_lets_them_do(app, db, smtp):
    item = review(db)
    (client,) = officers(app, db, 1)
    _decide(client, item, "grant", type_code="NPPV2F", **date_fields("valid_from", london_today()))
    assert _status(db, item.volunteer_id) is VolunteerStatus.ACTIVE
    subject, text = _only_mail(smtp, item.volunteer)
    clearance = db.scalars(select(Clearance)).one()
    assert subject == "Your NPPV level 2 (full) clearance has been granted"
    assert f"valid from {format_date(clearance.valid_from)} until {format_date(clearance.expires_on)}" in text
    assert "/vetting/my-clearances" in text


def test_a_grant_with_restrictions_names_the_tasks_in_words(app, db, smtp):
    item = review(db)
    (client,) = officers(app, db, 1)
    _decide(
        client,
        item,
        "grant_with_restrictions",
        type_code="NPPV2F",
        restrictions=["youth_schools_liaison"],
        **date_fields("valid_from", london_today()),
    )
    subject, text = _only_mail(smtp, item.volunteer)
    assert subject == "Your NPPV level 2 (full) clearance has been granted with restrictions"
    assert "schools liaison" in text.lower() and "youth_schools_liaison" not in text


def test_a_refused_applicant_is_told_once_confirmed_with_the_appeal_deadline(app, db, smtp):
    item = review(db)
    first, second = officers(app, db, 2)
    _decide(first, item, "refuse", type_code="NPPV2F")
    assert mail_to(smtp, item.volunteer.user.email) == []  # a proposal tells nobody
    assert _status(db, item.volunteer_id) is VolunteerStatus.APPLIED
    second.submit(f"/vetting/reviews/{item.id}/confirm", {}, token_from=f"/vetting/reviews/{item.id}")
    assert _status(db, item.volunteer_id) is VolunteerStatus.NOT_ACCEPTED
    subject, text = _only_mail(smtp, item.volunteer)
    deadline = format_date(london_today() + dt.timedelta(days=14))
    assert subject == "Your NPPV level 2 (full) clearance has not been granted"
    assert f"you can appeal until {deadline}" in text
    assert "an officer who took no part in this decision" in text.lower()

    home = volunteer_client(app, db.get(Volunteer, item.volunteer_id)).get("/").soup.get_text()
    assert "A vetting officer is reviewing your application" not in home
    assert "Your application has not been successful" in home and deadline in home


def test_a_discontinued_applicant_no_longer_reads_that_their_application_is_being_reviewed(app, db, smtp):
    item = review(db)
    (client,) = officers(app, db, 1)
    _decide(client, item, "discontinue", type_code="NPPV2F")
    assert _status(db, item.volunteer_id) is VolunteerStatus.NOT_ACCEPTED
    subject, _ = _only_mail(smtp, item.volunteer)
    assert subject == "Your application for NPPV level 2 (full) clearance is not going ahead"
    person = volunteer_client(app, db.get(Volunteer, item.volunteer_id))
    home = person.get("/").soup.get_text()
    assert "A vetting officer is reviewing your application" not in home
    assert "Your application is not going ahead" in home
    assert "Application with vetting" not in person.get("/profile").soup.get_text()


def test_suspension_reinstatement_and_withdrawal_each_tell_the_volunteer(app, db, smtp):
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    clearance = granted(db, volunteer)
    item = review(db, volunteer, ReviewKind.TRIGGERED)
    first, second = officers(app, db, 2)
    url = f"/vetting/reviews/{item.id}"
    first.submit(f"{url}/clearances/{clearance.id}/suspend", {"reason": SECRET}, token_from=url)
    subject, text = _only_mail(smtp, volunteer)
    assert subject == "Your NPPV level 2 (full) clearance is suspended"
    assert "You will not be offered tasks that need it" in text
    smtp.messages.clear()
    first.submit(f"{url}/clearances/{clearance.id}/reinstate", {"reason": SECRET}, token_from=url)
    assert _only_mail(smtp, volunteer)[0] == "Your NPPV level 2 (full) clearance is back in force"
    smtp.messages.clear()
    first.submit(f"{url}/clearances/{clearance.id}/withdraw", {"reason": SECRET}, token_from=url)
    assert mail_to(smtp, volunteer.user.email) == []
    second.submit(f"{url}/confirm", {}, token_from=url)
    subject, text = _only_mail(smtp, volunteer)
    assert subject == "Your NPPV level 2 (full) clearance has been withdrawn"
    assert f"you can appeal until {format_date(london_today() + dt.timedelta(days=14))}" in text
    assert _status(db, volunteer.id) is VolunteerStatus.ACTIVE  # other clearances may still serve


def test_a_lapse_found_by_the_sweep_tells_the_volunteer(app, db, smtp):
    clearance = granted(db, expires_in=-1)
    result = app.test_cli_runner().invoke(args=["vetting", "sweep"])
    assert result.exit_code == 0, result.output
    subject, text = _only_mail(smtp, clearance.volunteer)
    assert subject == "Your NPPV level 2 (full) clearance has expired"
    assert format_date(clearance.expires_on) in text and "appeal" not in text.lower()


def test_appeal_outcomes_are_sent_upheld_at_once_overturned_when_confirmed(app, db, smtp):
    proposer, confirmer, first, second = officers(app, db, 4)
    outcomes = []
    for outcome in ("uphold", "overturn"):
        volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
        clearance = granted(db, volunteer)
        item = review(db, volunteer, ReviewKind.TRIGGERED)
        url = f"/vetting/reviews/{item.id}"
        proposer.submit(f"{url}/clearances/{clearance.id}/withdraw", {"reason": SECRET}, token_from=url)
        confirmer.submit(f"{url}/confirm", {}, token_from=url)
        volunteer_client(app, volunteer).submit(
            f"/vetting/my-clearances?appeal={clearance.id}", {"clearance_id": clearance.id, "grounds": "Not me"}
        )
        smtp.messages.clear()
        db.expire_all()
        appeal = db.scalars(
            select(VettingReview).where(
                VettingReview.kind == ReviewKind.APPEAL, VettingReview.volunteer_id == volunteer.id
            )
        ).one()
        _decide(first, appeal, outcome)
        if outcome == "overturn":
            assert mail_to(smtp, volunteer.user.email) == []
            second.submit(f"/vetting/reviews/{appeal.id}/confirm", {}, token_from=f"/vetting/reviews/{appeal.id}")
        outcomes.append(_only_mail(smtp, volunteer))
    (upheld_subject, upheld), (overturned_subject, _) = outcomes
    assert upheld_subject == "Your appeal about your NPPV level 2 (full) clearance: the decision stands"
    assert "final" in upheld
    assert overturned_subject == "Your appeal about your NPPV level 2 (full) clearance has succeeded"


def test_no_email_for_a_decision_that_was_rolled_back(app, db, smtp, monkeypatch):
    item = review(db)
    (client,) = officers(app, db, 1)
    client.get(f"/vetting/reviews/{item.id}")
    real_commit = Session.commit

    def clash(session):
        # Another officer's decision reached the database first: this one's commit fails.
        if session.scalar(select(func.count()).select_from(VettingNotice).where(VettingNotice.sent_at.is_(None))):
            raise IntegrityError("INSERT", {}, Exception("concurrent decision"))
        return real_commit(session)

    monkeypatch.setattr(Session, "commit", clash)
    response = _decide(client, item, "grant", type_code="NPPV2F", **date_fields("valid_from", london_today()))
    monkeypatch.setattr(Session, "commit", real_commit)
    assert response.status_code == 302
    assert "Another officer decided this review" in client.get(response.location).soup.get_text()
    assert mail_to(smtp, item.volunteer.user.email) == []
    db.expire_all()
    assert db.scalars(select(VettingNotice)).all() == []
    assert db.scalars(select(Clearance)).all() == []


def test_an_email_smtp_refused_is_sent_by_the_next_sweep(app, db, smtp):
    item = review(db)
    (client,) = officers(app, db, 1)
    working_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 1  # nothing listens there
    _decide(client, item, "grant", type_code="NPPV2F", **date_fields("valid_from", london_today()))
    db.expire_all()
    notice = db.scalars(select(VettingNotice)).one()
    assert notice.sent_at is None
    app.config["MAIL_PORT"] = working_port
    result = app.test_cli_runner().invoke(args=["vetting", "sweep"])
    assert result.exit_code == 0, result.output
    assert "1 outcome email sent" in result.output
    assert _only_mail(smtp, item.volunteer)[0] == "Your NPPV level 2 (full) clearance has been granted"
    db.expire_all()
    assert db.scalars(select(VettingNotice)).one().sent_at is not None
