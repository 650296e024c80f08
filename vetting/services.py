"""Vetting use cases. Receivers of volunteers' signals add to the sender's transaction only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core.timeutil import london_today
from vetting.models import ReviewKind, VettingReview
from volunteers import events
from volunteers.models import CircumstanceReport, Volunteer

# How soon a new application or a change of circumstances should be looked at (force policy).
NEW_APPLICATION_DAYS = 28
TRIGGERED_REVIEW_DAYS = 14


def _open_application_review(volunteer: Volunteer, session: Session) -> None:
    session.add(VettingReview(volunteer_id=volunteer.id, kind=ReviewKind.NEW_APPLICATION,
                              due_on=london_today() + dt.timedelta(days=NEW_APPLICATION_DAYS)))


def _open_triggered_review(report: CircumstanceReport, session: Session) -> None:
    session.add(VettingReview(volunteer_id=report.volunteer_id, kind=ReviewKind.TRIGGERED,
                              circumstance_report_id=report.id,
                              due_on=london_today() + dt.timedelta(days=TRIGGERED_REVIEW_DAYS)))


def connect_signals() -> None:
    """Called once from create_app: vetting opens reviews when volunteers apply or report changes."""
    events.application_submitted.connect(_open_application_review, weak=False)
    events.circumstances_reported.connect(_open_triggered_review, weak=False)
