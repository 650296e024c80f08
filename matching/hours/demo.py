"""Demo duty hours: the demo special constables' patrols, events and training over the last six months, so
the coordinators' commitment table shows every colour (met, below, well below) and the approvers' queue has
something waiting."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.db import utcnow
from matching.hours import rules
from matching.hours.models import DutyHours, DutyKind, DutyState
from matching.hours.services import TABLE_MONTHS
from volunteers.models import Volunteer, VolunteerKind, VolunteerStatus

# Each special's usual month as a share of a 16-hour commitment: a third meet it, a third fall short, a third
# hardly serve. Drawn per special so that a row keeps its colour from month to month, mostly.
_PROFILES = ((1.0, 1.4), (0.55, 0.95), (0.0, 0.45))
_KINDS = (DutyKind.PATROL, DutyKind.PATROL, DutyKind.PATROL, DutyKind.EVENT, DutyKind.TRAINING, DutyKind.OTHER)
_NOTES = {
    DutyKind.PATROL: ("Evening patrol with the ward team", "Night-time economy patrol", "Weekend town-centre patrol"),
    DutyKind.EVENT: ("Football match stewarding", "Community fun day", "Remembrance parade"),
    DutyKind.TRAINING: ("Officer safety training refresher", "First-aid refresher", "Stop and search training"),
    DutyKind.OTHER: ("Station front counter", "Crime prevention stall"),
}


def load_duty_hours(session: Session, rng: random.Random, today: dt.date) -> int:
    """Approved duty hours for every active demo special over the last six months, and a few entries of this
    month still waiting for approval. Returns how many entries. Uses a random generator of its own, so the
    data the other loaders draw is the same with or without it."""
    own = random.Random(f"duty-hours-{today.isoformat()}")
    now = utcnow()
    specials = list(
        session.scalars(
            select(Volunteer.id)
            .where(Volunteer.kind == VolunteerKind.SPECIAL, Volunteer.status == VolunteerStatus.ACTIVE)
            .order_by(Volunteer.id)
        )
    )
    rows = []
    for index, volunteer_id in enumerate(specials):
        low, high = _PROFILES[index % len(_PROFILES)]
        for month in rules.last_months(today, TABLE_MONTHS):
            last_day = min(today, rules.add_months(month, 1) - dt.timedelta(days=1))
            target = int(16 * 60 * own.uniform(low, high))
            served = 0
            while served < target:
                minutes = min(own.choice((180, 240, 240, 300, 360, 480)), max(target - served, 60))
                on_date = month + dt.timedelta(days=own.randrange((last_day - month).days + 1))
                kind = own.choice(_KINDS)
                # This month's latest stretch is still waiting for a sergeant; everything else is approved.
                waiting = month == rules.first_of_month(today) and served + minutes >= target and index % 2 == 0
                rows.append(
                    dict(
                        volunteer_id=volunteer_id,
                        on_date=on_date,
                        kind=kind,
                        minutes=minutes,
                        note=own.choice(_NOTES[kind]),
                        state=DutyState.PENDING if waiting else DutyState.APPROVED,
                        decided_at=None if waiting else now,
                        rejection_reason="",
                        created_at=now,
                        updated_at=now,
                    )
                )
                served += minutes
    for start in range(0, len(rows), 5000):
        session.execute(insert(DutyHours), rows[start : start + 5000])
    return len(rows)
