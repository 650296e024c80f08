"""Vetting use cases. The hooks volunteers call through core.seams add to the caller's transaction only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.timeutil import london_today
from vetting.facts import person_facts
from vetting.models import Clearance, ReviewKind, ReviewStatus, VettingReview
from vetting.policy import current_task_policies
from vetting.rules import explain_clearances
from volunteers.models import CircumstanceReport, Volunteer

# How soon a new application or a change of circumstances should be looked at (force policy).
NEW_APPLICATION_DAYS = 28
TRIGGERED_REVIEW_DAYS = 14


def open_application_review(session: Session, volunteer: Volunteer) -> None:
    """A new application waits in the vetting queue (seams.application_submitted)."""
    session.add(
        VettingReview(
            volunteer_id=volunteer.id,
            kind=ReviewKind.NEW_APPLICATION,
            due_on=london_today() + dt.timedelta(days=NEW_APPLICATION_DAYS),
        )
    )


def open_triggered_review(session: Session, report: CircumstanceReport) -> None:
    """A change of circumstances opens a triggered review (seams.circumstances_reported)."""
    session.add(
        VettingReview(
            volunteer_id=report.volunteer_id,
            kind=ReviewKind.TRIGGERED,
            circumstance_report_id=report.id,
            due_on=london_today() + dt.timedelta(days=TRIGGERED_REVIEW_DAYS),
        )
    )


@dataclass(frozen=True)
class VolunteerVettingView:
    """What a volunteer may see of their own vetting: outcomes in plain words, never notes or reasons."""

    clearance_text: str
    application_open: bool
    reviewed_report_ids: frozenset[int]  # change-of-circumstances reports whose review is open


def volunteer_view(session: Session, volunteer: Volunteer) -> VolunteerVettingView:
    today = london_today()
    clearances = list(session.scalars(select(Clearance).where(Clearance.volunteer_id == volunteer.id)))
    text = explain_clearances(person_facts(volunteer, clearances), current_task_policies(session).values(), today)
    open_reviews = list(
        session.scalars(
            select(VettingReview).where(
                VettingReview.volunteer_id == volunteer.id, VettingReview.status == ReviewStatus.OPEN
            )
        )
    )
    return VolunteerVettingView(
        clearance_text=text,
        application_open=any(r.kind is ReviewKind.NEW_APPLICATION for r in open_reviews),
        reviewed_report_ids=frozenset(r.circumstance_report_id for r in open_reviews if r.circumstance_report_id),
    )


def vetting_officer_home(user) -> dict:
    """Figures for the vetting officer's home page (core's home view calls this)."""
    from core.db import get_session

    session = get_session()
    today = london_today()
    rows = session.execute(
        select(VettingReview.kind, VettingReview.due_on).where(VettingReview.status == ReviewStatus.OPEN)
    ).all()
    counts = {kind: sum(1 for k, _ in rows if k is kind) for kind in ReviewKind}
    return {
        "queue_counts": counts,
        "overdue": sum(1 for _, due in rows if due < today),
        "renewals_90": sum(1 for k, due in rows if k is ReviewKind.RENEWAL and due <= today + dt.timedelta(90)),
    }
