"""Future offers a volunteer is no longer eligible for, and what a volunteer is deployed on.

``withdraw_ineligible`` runs after the daily vetting sweep (wired in ``create_app`` through the
``after_vetting_sweep`` hook): a clearance that lapsed or was suspended, evidence that ran out, a
lost warrant or patrol status, a mobilisation, or a volunteer who paused or left, and the offers and
assignments still ahead of them are withdrawn. The sergeant is told the volunteer is no longer
available and never why; the reason codes stay in ``Offer.closed_reason`` for vetting officers and
the log.

Only the vetting side is checked again. Availability, travel and weekly hours were settled when the
volunteer accepted, and a volunteer who agreed to go keeps the place whatever their weekly slots say.

``upcoming_deployments`` answers the vetting officers' queue (through the ``upcoming_deployments``
hook, as vetting must not import matching): who is deployed soon, and on what.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from core.timeutil import to_london
from matching.facts import skill_requirement
from matching.models import ACTIVE_OFFER_STATUSES, Offer, OfferStatus, SupportRequest
from matching.offers.services import close_offers
from vetting.catalogue import TASK_POLICIES_BY_CODE, TaskPolicy
from vetting.facts import person_facts
from vetting.models import Clearance
from vetting.policy import current_task_policies
from vetting.rules import DeploymentWindow, PersonFacts, ReasonCode, check_eligibility
from volunteers.models import BlockedPeriod, BlockReason, Volunteer, VolunteerStatus

log = logging.getLogger("sng.matching")

# The prefix of ``closed_reason`` on a withdrawn offer; the reason codes follow.
WITHDRAWN_PREFIX = "no longer eligible: "
# Not a rule of vetting.rules: the volunteer paused or left, so nothing else about them counts.
NOT_ACTIVE = "not_active"
# How far ahead the vetting officers' queue looks for deployments.
DEPLOYMENT_HORIZON = dt.timedelta(days=28)


def withdraw_ineligible(session: Session, now: dt.datetime) -> list[int]:
    """Withdraw every active offer starting after ``now`` whose volunteer no longer passes the vetting rules.

    Each offer is checked as the matcher checks a deployment (``vetting.rules.check_eligibility``):
    the task type's policy in force now, the request's extra skills and ``warranted_only``, over the
    whole of the offer's ``[starts_at, ends_at)``, with no supervising officer promised. A volunteer
    who is no longer active is no longer available either. The offers that fail are closed as
    WITHDRAWN with ``closed_reason`` "no longer eligible: <reason codes>" and their requests'
    statuses refreshed (a filled request with a place withdrawn is part filled or open again).

    Commits; returns the withdrawn offer ids. Idempotent: a withdrawn offer is no longer active, so a
    second run finds nothing more.
    """
    # Locked on PostgreSQL, so a volunteer answering at the same moment waits and then finds the offer closed.
    offers = list(
        session.scalars(
            select(Offer)
            .where(Offer.status.in_(ACTIVE_OFFER_STATUSES), Offer.starts_at > now)
            .order_by(Offer.id)
            .with_for_update()
        )
    )
    if not offers:
        session.commit()  # ends the transaction the lock opened
        return []
    requests = {
        r.id: r
        for r in session.scalars(
            select(SupportRequest)
            .where(SupportRequest.id.in_(_future_offers(now, Offer.request_id)))
            .options(selectinload(SupportRequest.skills))
        )
    }
    first_day = to_london(min(o.starts_at for o in offers)).date()
    last_day = to_london(max(o.ends_at for o in offers)).date()
    people, inactive = _people(session, now, first_day, last_day)
    policies = current_task_policies(session)

    by_reason: dict[str, list[Offer]] = defaultdict(list)
    for offer in offers:
        task = policies.get(requests[offer.request_id].task_type_code)
        if task is None:
            # Not ours to judge: the matcher skips such requests too (and logs them).
            log.warning("offer %s: request %s has an unknown task type: not checked", offer.id, offer.request_id)
            continue
        codes = _failing(
            offer, requests[offer.request_id], task, people.get(offer.volunteer_id), offer.volunteer_id in inactive
        )
        if codes:
            by_reason[WITHDRAWN_PREFIX + ", ".join(codes)].append(offer)

    withdrawn: list[int] = []
    for reason, group in by_reason.items():
        close_offers(session, group, OfferStatus.WITHDRAWN, reason, now)
        withdrawn += [offer.id for offer in group]
        for offer in group:
            log.info(
                "offer %s withdrawn (volunteer %s, request %s): %s",
                offer.id,
                offer.volunteer_id,
                offer.request_id,
                reason,
            )
    session.commit()
    return sorted(withdrawn)


def _future_offers(now: dt.datetime, column: InstrumentedAttribute[int]) -> Select:
    """``column`` of the active offers starting after ``now``, as a subquery (no bound parameter per id)."""
    return select(column).where(Offer.status.in_(ACTIVE_OFFER_STATUSES), Offer.starts_at > now).correlate(None)


def _people(
    session: Session, now: dt.datetime, first_day: dt.date, last_day: dt.date
) -> tuple[dict[int, PersonFacts], set[int]]:
    """PersonFacts of the volunteers holding future offers, and the ids of those no longer active.

    Three statements whatever the number of volunteers: the profiles with their skills, the
    clearances that could cover a day in ``[first_day, last_day]``, and the mobilisations in it.
    """
    chosen = _future_offers(now, Offer.volunteer_id)
    volunteers = list(
        session.scalars(select(Volunteer).where(Volunteer.id.in_(chosen)).options(selectinload(Volunteer.skills)))
    )
    clearances: dict[int, list[Clearance]] = defaultdict(list)
    for clearance in session.scalars(
        select(Clearance)
        .where(Clearance.volunteer_id.in_(chosen), Clearance.valid_from <= last_day, Clearance.expires_on >= first_day)
        .order_by(Clearance.id)
    ):
        clearances[clearance.volunteer_id].append(clearance)
    mobilised: dict[int, list[BlockedPeriod]] = defaultdict(list)
    for block in session.scalars(
        select(BlockedPeriod).where(
            BlockedPeriod.volunteer_id.in_(chosen),
            BlockedPeriod.reason == BlockReason.MOBILISATION,
            BlockedPeriod.first_day <= last_day,
            BlockedPeriod.last_day >= first_day,
        )
    ):
        mobilised[block.volunteer_id].append(block)
    people = {v.id: person_facts(v, clearances[v.id], mobilised[v.id]) for v in volunteers}
    inactive = {v.id for v in volunteers if v.status is not VolunteerStatus.ACTIVE}
    return people, inactive


def _failing(
    offer: Offer, request: SupportRequest, task: TaskPolicy, person: PersonFacts | None, inactive: bool
) -> list[str]:
    """The reason codes that keep the volunteer from this deployment now, sorted; empty if none."""
    if person is None:  # the volunteer's record went between the two statements
        return [NOT_ACTIVE]
    verdict = check_eligibility(
        person,
        task,
        DeploymentWindow(offer.starts_at, offer.ends_at),
        extra_skills=tuple(skill_requirement(code) for code in request.skill_codes),
    )
    codes = {reason.code.value for reason in verdict.reasons}
    # The sergeant may ask for a special constable when the task type does not need one.
    if request.warranted_only and not person.warranted:
        codes.add(ReasonCode.NOT_WARRANTED.value)
    if inactive:
        codes.add(NOT_ACTIVE)
    return sorted(codes)


# ---- For the vetting officers' queue ------------------------------------------------------------


def upcoming_deployments(
    session: Session, volunteer_ids: Collection[int], now: dt.datetime
) -> dict[int, tuple[int, dt.datetime, list[str]]]:
    """Active offers (offered or accepted) of these volunteers under way or starting in the next 28 days.

    ``{volunteer_id: (count, first start, [task type names, in order of their first deployment])}``;
    volunteers with none are left out. Only what and when: never where, for whom, or the request.
    """
    ids = sorted(set(volunteer_ids))
    found: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for chunk in range(0, len(ids), 500):
        for volunteer_id, starts_at, code in session.execute(
            select(Offer.volunteer_id, Offer.starts_at, SupportRequest.task_type_code)
            .join(SupportRequest, SupportRequest.id == Offer.request_id)
            .where(
                Offer.volunteer_id.in_(ids[chunk : chunk + 500]),
                Offer.status.in_(ACTIVE_OFFER_STATUSES),
                Offer.ends_at > now,
                Offer.starts_at < now + DEPLOYMENT_HORIZON,
            )
            .order_by(Offer.volunteer_id, Offer.starts_at, Offer.id)
        ):
            found[volunteer_id].append((starts_at, code))
    return {
        volunteer_id: (len(rows), rows[0][0], _names(code for _, code in rows)) for volunteer_id, rows in found.items()
    }


def _names(codes: Iterable[str]) -> list[str]:
    names = []
    for code in codes:
        policy = TASK_POLICIES_BY_CODE.get(code)
        name = policy.name if policy else code
        if name not in names:
            names.append(name)
    return names
