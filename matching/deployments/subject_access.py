"""The after-deployment part of a volunteer's own data download (``volunteers.subject_access``, through
``seams().personal_data_sections``): what was recorded about each of their deployments.

Included: attendance and the hours served as confirmed, the hours they logged, and their own debrief and
welfare answers (they wrote them). Not included: the sergeant's feedback for the coordinators (helpful, would
ask again, the note) and who gave it. It is an opinion about them written for the coordinators, and it names
another person; like the vetting officers' notes, it goes through a subject access request to the data
protection officer, where the exemptions and the third party's data are weighed case by case (docs/
data-protection.md), not handed out by the software.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from core.timeutil import to_london
from matching.deployments.models import OUTCOME_LABELS, Deployment
from matching.models import Offer
from volunteers.models import Volunteer


def _moment(value: dt.datetime | None) -> str:
    return to_london(value).isoformat(timespec="minutes") if value else ""


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Yes" if value else "No")


def _minutes(value: int | None) -> str:
    return "" if value is None else f"{value / 60:g}"


def deployment_sections(session: Session, volunteer: Volunteer) -> dict[str, list[dict[str, str]]]:
    """``{"deployment_records": [...]}``, oldest deployment first."""
    rows = session.scalars(
        select(Deployment)
        .join(Offer, Offer.id == Deployment.offer_id)
        .where(Deployment.volunteer_id == volunteer.id)
        .options(joinedload(Deployment.offer).joinedload(Offer.request))
        .order_by(Offer.starts_at, Deployment.id)
    )
    return {
        "deployment_records": [
            {
                "title": row.offer.request.title,
                "starts_at": _moment(row.offer.starts_at),
                "what_happened": OUTCOME_LABELS[row.outcome],
                "hours_served": _minutes(row.served_minutes),
                "confirmed_at": _moment(row.confirmed_at),
                "hours_you_logged": _minutes(row.logged_minutes),
                "logged_at": _moment(row.logged_at),
                "how_it_went": row.debrief_note,
                "affected_you": _yes_no(row.welfare_affected),
                "asked_to_be_contacted": _yes_no(row.welfare_contact_wanted),
                "contacted_at": _moment(row.welfare_contacted_at),
                "answered_at": _moment(row.debriefed_at),
            }
            for row in rows
        ]
    }
