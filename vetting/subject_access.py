"""The vetting part of a volunteer's own data download (``volunteers.subject_access``, through
``seams().personal_data_sections``): the outcomes they are told on their "Your vetting" page, in the
same words, and nothing more.

Never the vetting officers' reasons, notes or the information behind a decision: the volunteer is
told those in writing by the vetting team, and a full subject access request (which the force answers
with any exemption applied, case by case) is the way to ask for the rest. See docs/data-protection.md.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.timeutil import london_today
from vetting import decisions
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, TASK_POLICIES_BY_CODE
from vetting.lifecycle import ClearanceEvent, allowed_events, appeal_open_until
from vetting.models import Clearance
from vetting.policy import current_policy
from volunteers.models import Volunteer

# The words of templates/vetting/my_clearances.html, so the download says what the page says.
OUTCOME_WORDS = {
    "applied": "Applied",
    "in_progress": "In progress",
    "granted": "Granted",
    "granted_with_restrictions": "Granted with restrictions",
    "refused": "Refused",
    "discontinued": "Not going ahead",
    "renewal_due": "Granted — renewal due",
    "renewed": "Renewed",
    "lapsed": "Expired",
    "suspended": "Under review",
    "withdrawn": "Withdrawn",
    "appealed": "Appeal being considered",
    "no_longer_needed": "Ended: no longer needed",
}
_DATES_SHOWN = {"granted", "granted_with_restrictions", "renewal_due"}


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def vetting_sections(session: Session, volunteer: Volunteer) -> dict[str, list[dict[str, str]]]:
    """``{"vetting_outcomes": [...]}``: one row per clearance, as the volunteer's own page shows it."""
    policy = current_policy(session, current_app.config)
    today = london_today()
    rows = []
    for clearance in session.scalars(
        select(Clearance).where(Clearance.volunteer_id == volunteer.id).order_by(Clearance.created_at, Clearance.id)
    ):
        kind = CLEARANCE_TYPES_BY_CODE.get(clearance.type_code)
        state = clearance.state.value
        deadline = None
        if ClearanceEvent.APPEAL in allowed_events(clearance.state):
            deadline = appeal_open_until(decisions.previous_record(session, clearance), today, policy)
        rows.append(
            {
                "clearance": kind.name if kind else clearance.type_code,
                "outcome": OUTCOME_WORDS.get(state, state.replace("_", " ").capitalize()),
                "valid_from": _day(clearance.valid_from) if state in _DATES_SHOWN else "",
                "valid_until": _day(clearance.expires_on) if state in _DATES_SHOWN else "",
                "cannot_be_offered": "; ".join(
                    sorted(
                        TASK_POLICIES_BY_CODE[code].name if code in TASK_POLICIES_BY_CODE else code
                        for code in clearance.restrictions
                    )
                ),
                "can_appeal_until": _day(deadline),
            }
        )
    return {"vetting_outcomes": rows}
