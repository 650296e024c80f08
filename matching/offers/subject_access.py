"""The matching part of a volunteer's own data download (``volunteers.subject_access``, through
``seams().personal_data_sections``): every offer they were made, and the deployments they accepted.

Only what the volunteer sees on their offers: the request's title, task, place and time, the answer and
"why you". Never the victim or anything a sergeant wrote for the team alone (requests carry no names).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from core.timeutil import to_london
from matching.models import OFFER_STATUS_LABELS, Offer, OfferStatus, SupportRequest, duration_text
from vetting.catalogue import TASK_POLICIES_BY_CODE
from volunteers.models import Volunteer


def _moment(value: dt.datetime | None) -> str:
    """London time, to the minute, with its offset: 2026-07-14T14:00+01:00."""
    return to_london(value).isoformat(timespec="minutes") if value else ""


def _task(code: str) -> str:
    policy = TASK_POLICIES_BY_CODE.get(code)
    return policy.name if policy else code


def offer_sections(session: Session, volunteer: Volunteer) -> dict[str, list[dict[str, str]]]:
    """``{"offers": [...], "deployments": [...]}``, oldest first."""
    offers = list(
        session.scalars(
            select(Offer)
            .where(Offer.volunteer_id == volunteer.id)
            .order_by(Offer.starts_at, Offer.id)
            .options(joinedload(Offer.request).joinedload(SupportRequest.ward))
        )
    )
    rows, deployments = [], []
    for offer in offers:
        request = offer.request
        where = "Remote" if request.remote else request.ward.label
        rows.append(
            {
                "task": _task(request.task_type_code),
                "title": request.title,
                "where": where,
                "when": request.window_text,
                "how_long": duration_text(request.duration_minutes),
                "answer": OFFER_STATUS_LABELS.get(offer.status, offer.status.value),
                "offered_at": _moment(offer.offered_at),
                "answer_by": _moment(offer.respond_by),
                "answered_at": _moment(offer.answered_at),
                "why_you": offer.explanation,
            }
        )
        if offer.status is OfferStatus.ACCEPTED:
            deployments.append(
                {
                    "task": _task(request.task_type_code),
                    "title": request.title,
                    "where": where,
                    "starts_at": _moment(offer.starts_at),
                    "ends_at": _moment(offer.ends_at),
                    "hours": f"{offer.load_minutes / 60:g}",
                }
            )
    return {"offers": rows, "deployments": deployments}
