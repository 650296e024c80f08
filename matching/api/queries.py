"""The API's reads: one page of each list by keyset (``WHERE id > :after ORDER BY id LIMIT n + 1``), never
OFFSET, so the thousandth page of 100,000 offers costs what the first does; and whatever a page needs
besides its rows (places booked, skills) in one grouped query over the page's ids, never one per row.

Rows come back as plain dicts in the shapes of ``matching.api.schemas``; nothing else is selected, so a
field that is not in a schema (a volunteer's vetting, notes, contact details) is never even read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.auth.models import User
from core.geography.models import Borough, Ward
from core.timeutil import london_to_utc, to_london
from matching.deployments.models import Deployment
from matching.models import Offer, OfferStatus, RequestSkill, SupportRequest
from volunteers.models import Volunteer, VolunteerSkill, VolunteerStatus

# The volunteers a force system may see: people who volunteer or did. Applicants are still being vetted, and
# "not accepted" is a vetting outcome, so neither is ever listed (issue #21: no vetting in the API).
LISTED_VOLUNTEER_STATUSES = (VolunteerStatus.ACTIVE, VolunteerStatus.PAUSED, VolunteerStatus.LEFT)


def _in_days(statement: Select, column, query: Mapping[str, Any]) -> Select:
    """``statement`` limited to ``column`` within ``from``/``to`` (London days, both included): UTC [start, end)."""
    first, last = query.get("from_"), query.get("to")
    if first:
        statement = statement.where(column >= london_to_utc(first, dt.time(0, 0)))
    if last:
        statement = statement.where(column < london_to_utc(last + dt.timedelta(days=1), dt.time(0, 0)))
    return statement


def _page(statement: Select, id_column, after: int | None, limit: int) -> Select:
    if after is not None:
        statement = statement.where(id_column > after)
    return statement.order_by(id_column).limit(limit + 1)


def _requests() -> Select:
    return (
        select(
            SupportRequest.id,
            SupportRequest.ward_id,
            Ward.name.label("ward_name"),
            Borough.name.label("borough_name"),
            SupportRequest.task_type_code,
            SupportRequest.title,
            SupportRequest.priority,
            SupportRequest.status,
            SupportRequest.remote,
            SupportRequest.window_start,
            SupportRequest.window_end,
            SupportRequest.duration_minutes,
            SupportRequest.people_needed,
            SupportRequest.created_at,
            SupportRequest.updated_at,
        )
        .join(Ward, Ward.id == SupportRequest.ward_id)
        .join(Borough, Borough.id == Ward.borough_id)
    )


def requests_page(session: Session, query: Mapping[str, Any], after: int | None, limit: int) -> list[dict]:
    statement = _requests()
    statement = _in_days(statement, SupportRequest.window_start, query)
    if query.get("ward") is not None:
        statement = statement.where(SupportRequest.ward_id == query["ward"])
    if query.get("status") is not None:
        statement = statement.where(SupportRequest.status == query["status"])
    if query.get("priority") is not None:
        statement = statement.where(SupportRequest.priority == query["priority"])
    if query.get("updated_since") is not None:
        statement = statement.where(SupportRequest.updated_at >= query["updated_since"])
    rows = [dict(row._mapping) for row in session.execute(_page(statement, SupportRequest.id, after, limit))]
    return _with_request_details(session, rows)


def one_request(session: Session, request_id: int) -> dict | None:
    rows = [dict(row._mapping) for row in session.execute(_requests().where(SupportRequest.id == request_id))]
    return _with_request_details(session, rows)[0] if rows else None


def _with_request_details(session: Session, rows: list[dict]) -> list[dict]:
    ids = [row["id"] for row in rows]
    booked: dict[int, int] = {}
    skills: dict[int, list[str]] = defaultdict(list)
    if ids:
        booked = dict(
            session.execute(
                select(Offer.request_id, func.count())
                .where(Offer.request_id.in_(ids), Offer.status == OfferStatus.ACCEPTED)
                .group_by(Offer.request_id)
            ).all()
        )
        for request_id, code in session.execute(
            select(RequestSkill.request_id, RequestSkill.skill_code)
            .where(RequestSkill.request_id.in_(ids))
            .order_by(RequestSkill.request_id, RequestSkill.skill_code)
        ):
            skills[request_id].append(code)
    for row in rows:
        row["places_booked"] = booked.get(row["id"], 0)
        row["skill_codes"] = skills.get(row["id"], [])
    return rows


def offers_page(session: Session, query: Mapping[str, Any], after: int | None, limit: int) -> list[dict]:
    statement = select(
        Offer.id,
        Offer.request_id,
        Offer.volunteer_id,
        Offer.status,
        Offer.starts_at,
        Offer.ends_at,
        Offer.offered_at,
        Offer.respond_by,
        Offer.answered_at,
    )
    if query.get("ward") is not None:
        statement = statement.join(SupportRequest, SupportRequest.id == Offer.request_id).where(
            SupportRequest.ward_id == query["ward"]
        )
    statement = _in_days(statement, Offer.starts_at, query)
    for name, column in (("request", Offer.request_id), ("volunteer", Offer.volunteer_id), ("status", Offer.status)):
        if query.get(name) is not None:
            statement = statement.where(column == query[name])
    return [dict(row._mapping) for row in session.execute(_page(statement, Offer.id, after, limit))]


def deployments_page(session: Session, query: Mapping[str, Any], after: int | None, limit: int) -> list[dict]:
    statement = select(
        Deployment.id,
        Deployment.offer_id,
        Deployment.request_id,
        Deployment.volunteer_id,
        Offer.starts_at,
        Offer.ends_at,
        Deployment.outcome,
        Deployment.served_minutes,
        Deployment.confirmed_at,
        Deployment.updated_at,
    ).join(Offer, Offer.id == Deployment.offer_id)
    if query.get("ward") is not None:
        statement = statement.join(SupportRequest, SupportRequest.id == Deployment.request_id).where(
            SupportRequest.ward_id == query["ward"]
        )
    statement = _in_days(statement, Offer.starts_at, query)
    if query.get("volunteer") is not None:
        statement = statement.where(Deployment.volunteer_id == query["volunteer"])
    if query.get("outcome") is not None:
        statement = statement.where(Deployment.outcome == query["outcome"])
    if query.get("updated_since") is not None:
        statement = statement.where(Deployment.updated_at >= query["updated_since"])
    return [dict(row._mapping) for row in session.execute(_page(statement, Deployment.id, after, limit))]


def volunteers_page(session: Session, query: Mapping[str, Any], after: int | None, limit: int) -> list[dict]:
    statement = (
        select(
            Volunteer.id,
            User.full_name.label("name"),
            Volunteer.kind,
            Volunteer.status,
            Volunteer.home_ward_id,
            Ward.name.label("home_ward_name"),
            Volunteer.created_at,
            Volunteer.updated_at,
        )
        .join(User, User.id == Volunteer.user_id)
        .outerjoin(Ward, Ward.id == Volunteer.home_ward_id)
        # Someone whose personal data was erased after leaving is no longer anyone's to list.
        .where(Volunteer.status.in_(LISTED_VOLUNTEER_STATUSES), Volunteer.erased_at.is_(None))
    )
    if query.get("status") is not None:
        statement = statement.where(Volunteer.status == query["status"])
    if query.get("kind") is not None:
        statement = statement.where(Volunteer.kind == query["kind"])
    if query.get("ward") is not None:
        statement = statement.where(Volunteer.home_ward_id == query["ward"])
    if query.get("updated_since") is not None:
        statement = statement.where(Volunteer.updated_at >= query["updated_since"])
    rows = [dict(row._mapping) for row in session.execute(_page(statement, Volunteer.id, after, limit))]
    ids = [row["id"] for row in rows]
    skills: dict[int, list[dict]] = defaultdict(list)
    if ids:
        for volunteer_id, code, level in session.execute(
            select(VolunteerSkill.volunteer_id, VolunteerSkill.skill_code, VolunteerSkill.level)
            .where(VolunteerSkill.volunteer_id.in_(ids))
            .order_by(VolunteerSkill.volunteer_id, VolunteerSkill.skill_code)
        ):
            skills[volunteer_id].append({"code": code, "level": level})
    for row in rows:
        row["skills"] = skills.get(row["id"], [])
        row["joined_on"] = to_london(row.pop("created_at")).date()
    return rows
