"""`flask vetting sweep`: lapses, renewal reviews, reminders over real SMTP — and idempotency."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket

from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.auth.models import Role
from core.timeutil import format_date, london_today
from tests.helpers import error_messages, make_user, make_volunteer
from tests.integration.conftest import body
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ClearanceReminder, ReviewKind, VettingReview


def _clearance(db, expires_in_days: int, state=ClearanceState.GRANTED, code="NPPV2F"):
    volunteer = make_volunteer(db)
    today = london_today()
    clearance = Clearance(
        volunteer_id=volunteer.id,
        type_code=code,
        state=state,
        valid_from=today - dt.timedelta(days=900),
        expires_on=today + dt.timedelta(days=expires_in_days),
    )
    db.add(clearance)
    db.commit()
    return clearance


def _sweep(app, today=None):
    args = ["vetting", "sweep"] + (["--today", today.isoformat()] if today else [])
    return app.test_cli_runner().invoke(args=args)


def test_sweep_lapses_reviews_and_reminds_once_even_when_run_twice(app, db, smtp):
    expired = _clearance(db, -1)
    due_soon = _clearance(db, 25)  # crossed 90 and 30: one reminder (30 days), both recorded
    far = _clearance(db, 400)
    first = _sweep(app)
    assert first.exit_code == 0, first.output
    assert "1 lapsed, 1 marked renewal due, 1 renewal reviews opened, 1 reminders sent" in first.output
    second = _sweep(app)
    assert "0 lapsed, 0 marked renewal due, 0 renewal reviews opened, 0 reminders sent" in second.output

    db.expire_all()
    assert db.get(Clearance, expired.id).state is ClearanceState.LAPSED
    assert db.get(Clearance, due_soon.id).state is ClearanceState.RENEWAL_DUE
    assert db.get(Clearance, far.id).state is ClearanceState.GRANTED
    review = db.scalars(select(VettingReview).where(VettingReview.kind == ReviewKind.RENEWAL)).one()
    assert review.clearance_id == due_soon.id and review.due_on == db.get(Clearance, due_soon.id).expires_on
    # Issue 17: the lapse is an outcome the holder is told of, besides the one reminder.
    (message,) = [m for m in smtp.messages if m.rcpt_tos == [due_soon.volunteer.user.email]]
    assert [m.rcpt_tos for m in smtp.messages if m is not message] == [[expired.volunteer.user.email]]
    assert message.rcpt_tos == [due_soon.volunteer.user.email]
    expected_subject = f"clearance expires on {format_date(db.get(Clearance, due_soon.id).expires_on)}"
    parsed = email.message_from_bytes(message.content, policy=email.policy.default)
    assert parsed["Subject"].endswith(expected_subject)
    assert "(25 days from today)" in body(message)
    thresholds = set(
        db.scalars(select(ClearanceReminder.threshold_days).where(ClearanceReminder.clearance_id == due_soon.id))
    )
    assert thresholds == {90, 30}
    lapse_audit = db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "clearance.lapse"))
    assert lapse_audit == 1
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_each_reminder_goes_once_across_the_days_before_expiry(app, db, smtp):
    clearance = _clearance(db, 95)
    today = london_today()
    for offset in range(0, 97):  # every day from 95 days before expiry to the day after it
        _sweep(app, today + dt.timedelta(days=offset))
    reminders = [m for m in smtp.messages if "from today)" in body(m)]  # not the lapse email (issue 17)
    days_left_when_sent = sorted(int(re.search(r"\((\d+) days? from today\)", body(m)).group(1)) for m in reminders)
    assert days_left_when_sent == [7, 30, 90]
    assert len(smtp.messages) == 4
    db.expire_all()
    assert db.get(Clearance, clearance.id).state is ClearanceState.LAPSED


def test_a_mail_failure_is_retried_next_time_and_never_undoes_a_lapse(app, db):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    expired, due = _clearance(db, -3), _clearance(db, 5)
    result = _sweep(app)
    assert result.exit_code == 1 and "1 reminders not sent" in result.output
    db.expire_all()
    assert db.get(Clearance, expired.id).state is ClearanceState.LAPSED
    assert db.scalars(select(ClearanceReminder).where(ClearanceReminder.clearance_id == due.id)).all() == []


def test_a_coordinator_changes_a_validity_period_and_it_is_audited(app, db):
    coordinator = app.test_client()
    coordinator.sign_in(make_user(db, Role.COORDINATOR).email)
    page = coordinator.get("/vetting/clearance-types")
    assert "36 months" in page.soup.select_one("tbody").get_text()
    bad = coordinator.submit("/vetting/clearance-types/NPPV2F", {"validity_months": "forever"})
    assert error_messages(bad.soup) == {"validity_months": "Enter the number of months as a whole number"}
    too_long = coordinator.submit("/vetting/clearance-types/NPPV2F", {"validity_months": "999"})
    assert error_messages(too_long.soup) == {"validity_months": "Enter a number of months between 1 and 240"}
    coordinator.submit("/vetting/clearance-types/NPPV2F", {"validity_months": "24"})
    assert coordinator.get("/vetting/clearance-types/NOPE").status_code == 404
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "policy.validity_changed")).one()
    assert entry.subject_id == "NPPV2F" and '"to_months":24' in entry.detail and '"from_months":36' in entry.detail

    # A grant from now on uses the force's period.
    volunteer = make_volunteer(db)
    review = VettingReview(volunteer_id=volunteer.id, kind=ReviewKind.NEW_APPLICATION, due_on=london_today())
    db.add(review)
    db.commit()
    officer = app.test_client()
    officer.sign_in(make_user(db, Role.VETTING_OFFICER).email)
    today = london_today()
    officer.submit(
        f"/vetting/reviews/{review.id}",
        {
            "outcome": "grant",
            "type_code": "NPPV2F",
            "reason": "clear",
            "valid_from": [str(today.day), str(today.month), str(today.year)],
        },
    )
    granted = db.scalars(select(Clearance).where(Clearance.volunteer_id == volunteer.id)).one()
    assert 725 <= (granted.expires_on - today).days <= 731


def test_a_coordinator_edits_a_task_types_policy_and_it_is_audited(app, db):
    coordinator = app.test_client()
    coordinator.sign_in(make_user(db, Role.COORDINATOR).email)
    page = coordinator.get("/vetting/task-types")
    assert "Mental-health escort" in page.soup.get_text()
    form = coordinator.get("/vetting/task-types/mental_health_escort").soup
    current = {f["name"]: f.get("value") for f in form.select("input[type=radio][checked]")}
    base = {
        **current,
        "clearances": form.select_one("#clearances").get_text(),
        "unsupervised_clearances": form.select_one("#unsupervised_clearances").get_text(),
        "skills": form.select_one("#skills").get_text(),
        "minimum_patrol_status": form.select_one("#minimum_patrol_status option[selected]")["value"],
        "default_team_size": form.select_one("#default_team_size")["value"],
    }
    bad = coordinator.submit(
        "/vetting/task-types/mental_health_escort",
        {**base, "clearances": "NPPV2F\nNPPV9", "skills": "knitting : expert"},
    )
    messages = error_messages(bad.soup)
    assert messages["clearances"].startswith("Line 2: NPPV9 is not a clearance type")
    assert messages["skills"] == "Line 1: knitting is not a skill code"
    empty = coordinator.submit("/vetting/task-types/mental_health_escort", {**base, "clearances": ""})
    assert error_messages(empty.soup)["clearances"] == "Enter at least one clearance requirement"
    clash = coordinator.submit(
        "/vetting/task-types/mental_health_escort",
        {**base, "warranted_only": "no", "minimum_patrol_status": "directed"},
    )
    assert "implies warranted_only" in error_messages(clash.soup)["minimum_patrol_status"]
    saved = coordinator.submit("/vetting/task-types/mental_health_escort", {**base, "default_team_size": "3"})
    assert saved.status_code == 302
    assert coordinator.get("/vetting/task-types/unknown").status_code == 404

    from vetting.policy import current_task_policies

    db.expire_all()
    assert current_task_policies(db)["mental_health_escort"].default_team_size == 3
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "policy.task_type_changed")).one()
    assert entry.subject_id == "mental_health_escort"
    assert '"default_team_size":2' in entry.detail and '"default_team_size":3' in entry.detail
