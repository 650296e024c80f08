"""A volunteer's own data, to download as JSON or CSV (UK GDPR articles 15 and 20: access and portability).

What the service holds about them as a volunteer — account, profile, skills, availability, task
preferences, conflicts of interest, the changes of circumstances they reported — plus what other
features add through ``seams().personal_data_sections``: vetting's outcomes as the volunteer is told
them (never an officer's reasons or notes), and matching's offers and deployments. A full subject access
request to the force (docs/data-protection.md) covers the rest, with any exemption weighed case by case.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.services import record_event
from core.timeutil import to_london
from volunteers.availability import WEEKDAYS
from volunteers.models import (
    AvailabilityException,
    AvailabilitySlot,
    BlockedPeriod,
    CircumstanceReport,
    ConflictDeclaration,
    Volunteer,
    VolunteerKind,
)
from volunteers.skills import SKILLS_BY_CODE

KIND_WORDS = {VolunteerKind.SPECIAL: "Special constable", VolunteerKind.PSV: "Police support volunteer"}
Rows = list[dict[str, str]]
Sections = dict[str, Rows]
SectionSource = Callable[[Session, Volunteer], Sections]

NOT_INCLUDED = (
    "Vetting officers' reasons and notes, and the information behind a vetting decision, are not in this "
    "download: the vetting team writes to you with the reasons for a decision. To ask for everything the "
    "force holds about you, make a subject access request (see the privacy notice)."
)
# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _words(value: object) -> str:
    text = getattr(value, "value", value)
    return str(text).replace("_", " ").capitalize() if text else ""


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _moment(value: dt.datetime | None) -> str:
    return to_london(value).isoformat(timespec="minutes") if value else ""


def clock(minute: int) -> str:
    """London wall-clock time, as a spreadsheet reads it: 09:00, 24:00 at the end of the day."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _yes(value: bool) -> str:
    return "Yes" if value else "No"


def _own_sections(session: Session, volunteer: Volunteer, task_names: dict[str, str]) -> Sections:
    user = volunteer.user
    profile = {
        "name": user.full_name,
        "email_address": user.email,
        "telephone": volunteer.phone,
        "volunteering_as": KIND_WORDS[volunteer.kind],
        "status": _words(volunteer.status),
        "applied_at": _moment(volunteer.created_at),
        "home_ward": volunteer.home_ward.label if volunteer.home_ward else "",
        "travel_limit_km": str(volunteer.travel_limit_km),
        "most_hours_a_week": f"{volunteer.weekly_hours_cap_minutes / 60:g}",
        "job_title": volunteer.occupation,
        "employer": volunteer.employer,
        "kind_of_work": _words(volunteer.occupation_category),
        "street_duty": _words(volunteer.adjustment),
        "military_reservist": _yes(volunteer.military_reservist),
        "warrant_number": volunteer.warrant_number or "",
        "patrol_status": _words(volunteer.patrol_status),
        "monthly_commitment_hours": (
            f"{volunteer.monthly_commitment_minutes / 60:g}" if volunteer.monthly_commitment_minutes else ""
        ),
        "last_signed_in_at": _moment(user.last_sign_in_at),
    }
    skills = [
        {
            "skill": SKILLS_BY_CODE[s.skill_code].name if s.skill_code in SKILLS_BY_CODE else s.skill_code,
            "level": _words(s.level),
            "professional_body": s.evidence_body or "",
            "registration_number": s.registration_number or "",
            "registration_renewal_date": _day(s.evidence_expires_on),
            "evidence_check": _words(s.evidence_status),
            "why_the_evidence_was_rejected": s.evidence_rejection_reason or "",
        }
        for s in volunteer.skills
    ]

    def owned(model, *order):
        return session.scalars(select(model).where(model.volunteer_id == volunteer.id).order_by(*order, model.id))

    weekly = [
        {"day": WEEKDAYS[s.weekday], "from": clock(s.start_minute), "until": clock(s.end_minute)}
        for s in owned(AvailabilitySlot, AvailabilitySlot.weekday, AvailabilitySlot.start_minute)
    ]
    dates = [
        {
            "date": _day(e.on_date),
            "available": _yes(e.available),
            "from": clock(e.start_minute) if e.start_minute is not None else "",
            "until": clock(e.end_minute) if e.end_minute is not None else "",
        }
        for e in owned(AvailabilityException, AvailabilityException.on_date)
    ]
    blocked = [
        {"first_day": _day(b.first_day), "last_day": _day(b.last_day), "why": _words(b.reason)}
        for b in owned(BlockedPeriod, BlockedPeriod.first_day)
    ]
    conflicts = [
        {
            "kind_of_connection": _words(c.category),
            "organisation_person_or_place": c.organisation,
            "ward": c.ward.label if c.ward else "",
            "declared_at": _moment(c.declared_at),
        }
        for c in owned(ConflictDeclaration, ConflictDeclaration.declared_at)
    ]
    circumstances = [
        {
            "what_changed": _words(r.category),
            "when_it_happened": _day(r.occurred_on),
            "what_you_told_us": r.details,
            "reported_at": _moment(r.reported_at),
        }
        for r in owned(CircumstanceReport, CircumstanceReport.reported_at)
    ]
    preferences = [{"task": task_names.get(p.task_type_code, p.task_type_code)} for p in volunteer.preferences]
    return {
        "profile": [profile],
        "skills": skills,
        "weekly_availability": weekly,
        "dates_that_are_different": dates,
        "dates_you_cannot_volunteer": blocked,
        "tasks_you_would_like": preferences,
        "conflicts_of_interest": conflicts,
        "changes_of_circumstances": circumstances,
    }


def gather(
    session: Session,
    volunteer: Volunteer,
    task_names: dict[str, str],
    sources: Sequence[SectionSource],
    now: dt.datetime,
) -> dict:
    """Everything to download, section by section; the download is recorded in the security log
    (a copy of someone's data leaving the service is worth knowing about if the account was misused)."""
    sections = _own_sections(session, volunteer, task_names)
    for source in sources:
        sections.update(source(session, volunteer))
    record_event(session, "own_data_downloaded", volunteer.user_id, f"volunteer {volunteer.id}")
    session.commit()
    return {"downloaded_at": _moment(now), "not_included": NOT_INCLUDED, "sections": sections}


def as_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def as_csv(data: dict) -> str:
    """One row per value: section, item (its number within the section), field, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section", "item", "field", "value"])
    writer.writerow(["about", "1", "downloaded_at", data["downloaded_at"]])
    writer.writerow(["about", "1", "not_included", data["not_included"]])
    for section, rows in data["sections"].items():
        for number, row in enumerate(rows, start=1):
            for name, value in row.items():
                text = value or ""
                writer.writerow([section, str(number), name, "'" + text if text.startswith(_FORMULA_STARTS) else text])
    return out.getvalue()
