"""Demo: a few deployments in the demo sergeant's wards whose time has passed (issue #20), so the README's
walk shows what happens after a deployment: the sergeant has two to confirm (one whose hours the volunteer
logged), and the named demo volunteer has one confirmed, attended deployment in their history to say how
it went about. Deterministic; a handful of rows whatever the demo's size."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.models import User, sergeant_wards
from core.timeutil import london_to_utc
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.models import Offer, OfferStatus, Priority, RequestStatus, SupportRequest
from volunteers.models import Volunteer, VolunteerKind

# (days ago, title, description, whose, what is recorded)
_PAST = (
    (
        6,
        "Advice visit after a courier fraud",
        "An older resident lost savings to a courier fraud: explain what happened and how to stay safe.",
        "named",
        DeploymentOutcome.ATTENDED,
    ),
    (
        2,
        "Follow-up visit after a phone scam",
        "A resident was called by someone claiming to be their bank: reassure them and set up call blocking.",
        "named",
        DeploymentOutcome.LOGGED,
    ),
    (
        1,
        "Advice visit after an online shopping fraud",
        "A shop owner paid for stock that never came: go through the report and what to do next.",
        "special",
        None,
    ),
)


def load_past_deployments(session: Session, rng: random.Random, today: dt.date) -> int:
    """After the local team is placed: three cyber-crime victim visits of the past week in the demo sergeant's
    first ward, each booked; one confirmed as attended, one with the volunteer's hours logged, one with nothing
    recorded yet. Returns how many."""
    tom = session.scalar(select(User).where(User.email == "sergeant@demo.example"))
    if tom is None:
        return 0
    ward_ids = list(
        session.scalars(
            select(sergeant_wards.c.ward_id)
            .where(sergeant_wards.c.user_id == tom.id)
            .order_by(sergeant_wards.c.ward_id)
        )
    )
    named = session.scalar(
        select(Volunteer.id).join(User, User.id == Volunteer.user_id).where(User.email == "volunteer@demo.example")
    )
    special = session.scalar(
        select(Volunteer.id)
        .where(Volunteer.kind == VolunteerKind.SPECIAL, Volunteer.home_ward_id.in_(ward_ids))
        .order_by(Volunteer.id)
        .limit(1)
    )
    if not ward_ids or named is None or special is None:
        return 0
    made = 0
    for days_ago, title, description, whose, outcome in _PAST:
        start = london_to_utc(today - dt.timedelta(days=days_ago), dt.time(10, 0))
        end = start + dt.timedelta(hours=2)
        item = SupportRequest(
            ward_id=ward_ids[0],
            task_type_code="cyber_victim_visit",
            title=title,
            description=description,
            window_start=start,
            window_end=start + dt.timedelta(hours=3),
            duration_minutes=120,
            people_needed=1,
            priority=Priority.ROUTINE,
            status=RequestStatus.COMPLETED if outcome is DeploymentOutcome.ATTENDED else RequestStatus.FILLED,
            created_by_id=tom.id,
            created_at=start - dt.timedelta(days=5),
            updated_at=start - dt.timedelta(days=5),
        )
        session.add(item)
        session.flush()
        offer = Offer(
            request_id=item.id,
            volunteer_id=named if whose == "named" else special,
            status=OfferStatus.ACCEPTED,
            starts_at=start,
            ends_at=end,
            load_minutes=150,
            explanation="Cyber-crime victim support, practitioner; 1.2 km away",
            offered_at=start - dt.timedelta(days=4),
            respond_by=start - dt.timedelta(days=3),
            answered_at=start - dt.timedelta(days=3, hours=20),
        )
        session.add(offer)
        session.flush()
        if outcome is DeploymentOutcome.ATTENDED:
            session.add(
                Deployment(
                    offer_id=offer.id,
                    request_id=item.id,
                    volunteer_id=offer.volunteer_id,
                    outcome=outcome,
                    served_minutes=135,
                    confirmed_by_id=tom.id,
                    confirmed_at=end + dt.timedelta(hours=3),
                    helpful=True,
                    would_ask_again=True,
                    coordinator_note="Patient and clear with a very shaken resident. Stayed late to finish.",
                    feedback_by_id=tom.id,
                    feedback_at=end + dt.timedelta(hours=3),
                    created_at=end + dt.timedelta(hours=3),
                    updated_at=end + dt.timedelta(hours=3),
                )
            )
        elif outcome is DeploymentOutcome.LOGGED:
            session.add(
                Deployment(
                    offer_id=offer.id,
                    request_id=item.id,
                    volunteer_id=offer.volunteer_id,
                    outcome=outcome,
                    logged_minutes=150,
                    logged_at=end + dt.timedelta(hours=1),
                    created_at=end + dt.timedelta(hours=1),
                    updated_at=end + dt.timedelta(hours=1),
                )
            )
        made += 1
    session.flush()
    return made
