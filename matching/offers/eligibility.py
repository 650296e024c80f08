"""Is a volunteer still eligible for the offers they hold? The check behind every withdrawal and every accept.

The same pure rules as the matcher (``vetting.rules.check_eligibility``, fed by ``vetting.facts.person_facts``
and the task policies in force), applied to deployments already offered: the nightly safety net
(``withdrawals.withdraw_ineligible``), an event that may end someone's eligibility
(``withdrawals.withdraw_for``), and a volunteer pressing Accept (``services.answer``) all ask it here, so
they can never disagree.

Only the vetting side is checked again, and conflicts of interest (declared, or found by a conflict review
since). Availability, travel and weekly hours were settled when the offer was made, and a volunteer who agreed
to go keeps the place whatever their weekly slots say.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from core.auth.models import User
from core.timeutil import to_london
from matching.domain import Conflict, conflicted
from matching.facts import skill_requirement
from matching.models import Offer, SupportRequest
from vetting.catalogue import TaskPolicy
from vetting.conflict_reviews import standings as conflict_standings
from vetting.facts import person_facts
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance
from vetting.rules import DeploymentWindow, PersonFacts, ReasonCode, check_eligibility
from volunteers.models import (
    BlockedPeriod,
    BlockReason,
    ConflictDeclaration,
    Volunteer,
    VolunteerPause,
    VolunteerStatus,
)

# The prefix of ``closed_reason`` on an offer withdrawn for this; the reason codes follow. Vetting officers
# and the log may read the codes; sergeants and volunteers never see them.
WITHDRAWN_PREFIX = "no longer eligible: "
# Not rules of vetting.rules: the volunteer paused or left, or their account was disabled, so nothing
# else about them counts.
NOT_ACTIVE = "not_active"
ACCOUNT_DISABLED = "account_disabled"
# Matching's own rule: a conflict of interest with the request's organisation or ward.
CONFLICT_OF_INTEREST = "conflict_of_interest"
# The volunteer paused their volunteering over the deployment's days (volunteers.models.VolunteerPause).
PAUSED = "paused"


def people_facts(
    session: Session, chosen: Select, first_day: dt.date, last_day: dt.date
) -> tuple[dict[int, PersonFacts], dict[int, str]]:
    """PersonFacts of the volunteers whose ids ``chosen`` selects, over London days ``[first_day, last_day]``,
    and ``{volunteer id: NOT_ACTIVE or ACCOUNT_DISABLED}`` for those who can no longer be deployed at all.

    Six statements whatever the number of volunteers: the profiles with their skills, the clearances that
    could cover a day of the range, the mobilisations in it, the disabled accounts, and where they stand on
    the conflict review their line of work may need (two).
    """
    volunteers = list(
        session.scalars(select(Volunteer).where(Volunteer.id.in_(chosen)).options(selectinload(Volunteer.skills)))
    )
    clearances: dict[int, list[Clearance]] = defaultdict(list)
    # The records that could cover these days, and the renewals of those renewed early (whether a renewal is in
    # force decides if the old term still counts: vetting.facts.person_facts).
    in_days = and_(Clearance.valid_from <= last_day, Clearance.expires_on >= first_day)
    renewed = select(Clearance.id).where(
        Clearance.volunteer_id.in_(chosen), Clearance.state == ClearanceState.RENEWED, in_days
    )
    for clearance in session.scalars(
        select(Clearance)
        .where(Clearance.volunteer_id.in_(chosen), or_(in_days, Clearance.renews_id.in_(renewed)))
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
    disabled = set(
        session.scalars(
            select(Volunteer.id)
            .join(User, User.id == Volunteer.user_id)
            .where(Volunteer.id.in_(chosen), User.is_disabled)
        )
    )
    reviewed = conflict_standings(session, chosen)
    people = {
        v.id: person_facts(v, clearances[v.id], mobilised[v.id], conflict_review=reviewed.get(v.id)) for v in volunteers
    }
    gone = {v.id: NOT_ACTIVE for v in volunteers if v.status is not VolunteerStatus.ACTIVE}
    gone.update(dict.fromkeys(disabled, ACCOUNT_DISABLED))
    return people, gone


def people_conflicts(session: Session, chosen: Select) -> dict[int, list[Conflict]]:
    """The conflicts of interest of the volunteers ``chosen`` selects: those they declared, and those the
    conflict review in force found (as the matcher reads them). Three statements whatever their number."""
    found: dict[int, list[Conflict]] = defaultdict(list)
    for volunteer_id, organisation, ward_id, partner_id in session.execute(
        select(
            ConflictDeclaration.volunteer_id,
            ConflictDeclaration.organisation,
            ConflictDeclaration.ward_id,
            ConflictDeclaration.partner_id,
        ).where(ConflictDeclaration.volunteer_id.in_(chosen))
    ):
        found[volunteer_id].append(Conflict(organisation, ward_id, partner_id))
    for volunteer_id, standing in conflict_standings(session, chosen).items():
        found[volunteer_id] += [Conflict(c.organisation, c.ward_id) for c in standing.conflicts]
    return found


def people_pauses(
    session: Session, chosen: Select, first_day: dt.date, last_day: dt.date
) -> dict[int, list[tuple[dt.date, dt.date | None]]]:
    """The pauses of the volunteers ``chosen`` selects that touch London days ``[first_day, last_day]``:
    ``{volunteer id: [(first day, last day or None for until they resume)]}``. Ended pauses do not count."""
    found: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for volunteer_id, first, last in session.execute(
        select(VolunteerPause.volunteer_id, VolunteerPause.first_day, VolunteerPause.last_day).where(
            VolunteerPause.volunteer_id.in_(chosen),
            VolunteerPause.ended_at.is_(None),
            VolunteerPause.first_day <= last_day,
            or_(VolunteerPause.last_day.is_(None), VolunteerPause.last_day >= first_day),
        )
    ):
        found[volunteer_id].append((first, last))
    return found


def _in_pause(offer: Offer, pauses: Sequence[tuple[dt.date, dt.date | None]]) -> bool:
    """Whether any London day of the deployment falls in one of the pauses."""
    if not pauses:
        return False
    start = to_london(offer.starts_at).date()
    end = to_london(offer.ends_at - dt.timedelta(microseconds=1)).date()
    return any(first <= end and (last is None or start <= last) for first, last in pauses)


def failing_codes(
    offer: Offer,
    request: SupportRequest,
    task: TaskPolicy,
    person: PersonFacts | None,
    gone: str | None,
    conflicts: Sequence[Conflict] = (),
) -> list[str]:
    """The reason codes that keep the volunteer from this deployment now, sorted; empty if none.

    Checked as the matcher checks a deployment: the task type's policy in force, the request's extra skills
    and ``warranted_only``, over the whole of the offer's ``[starts_at, ends_at)``, supervised when the request
    names a supervising officer, and remote when it is marked remote and its task type can still be done remotely
    (``matching.facts.load_requests`` reads a request the same way). ``gone`` is NOT_ACTIVE or ACCOUNT_DISABLED
    for someone who cannot be deployed at all.
    ``conflicts`` are the volunteer's conflicts of interest, checked against the request as the matcher does.
    """
    if person is None:  # the volunteer's record went between two statements
        return [NOT_ACTIVE]
    verdict = check_eligibility(
        person,
        task,
        DeploymentWindow(offer.starts_at, offer.ends_at),
        supervised=request.supervising_officer_id is not None,
        remote=request.remote and task.remote_possible,
        extra_skills=tuple(skill_requirement(code) for code in request.skill_codes),
    )
    codes = {reason.code.value for reason in verdict.reasons}
    # The sergeant may ask for a special constable when the task type does not need one.
    if request.warranted_only and not person.warranted:
        codes.add(ReasonCode.NOT_WARRANTED.value)
    if gone:
        codes.add(gone)
    if conflicted(conflicts, request.organisation or "", request.ward_id, request.partner_id):
        codes.add(CONFLICT_OF_INTEREST)
    return sorted(codes)


def ineligible(
    session: Session, offers: Sequence[Offer], offer_ids: Select, policies: dict[str, TaskPolicy]
) -> tuple[dict[int, list[str]], list[Offer]]:
    """``({offer id: failing codes}, unchecked)`` for ``offers``, whose ids ``offer_ids`` selects (a subquery,
    so a London week of offers binds no parameter per id): the offers whose volunteer no longer passes
    (passing offers are left out), and those of a request whose task type no longer exists, which are not
    ours to judge (the matcher skips such requests too)."""
    if not offers:
        return {}, []
    # Never correlated with the statements it sits in, which read the offers table too.
    offer_ids = offer_ids.correlate(None)
    requests = {
        r.id: r
        for r in session.scalars(
            select(SupportRequest)
            .where(SupportRequest.id.in_(select(Offer.request_id).where(Offer.id.in_(offer_ids)).correlate(None)))
            .options(selectinload(SupportRequest.skills))
        )
    }
    first_day = to_london(min(o.starts_at for o in offers)).date()
    last_day = to_london(max(o.ends_at for o in offers)).date()
    chosen = select(Offer.volunteer_id).where(Offer.id.in_(offer_ids)).correlate(None)
    people, gone = people_facts(session, chosen, first_day, last_day)
    conflicts = people_conflicts(session, chosen)
    paused = people_pauses(session, chosen, first_day, last_day)
    failing: dict[int, list[str]] = {}
    unchecked: list[Offer] = []
    for offer in offers:
        request = requests[offer.request_id]
        task = policies.get(request.task_type_code)
        if task is None:
            unchecked.append(offer)
            continue
        codes = failing_codes(
            offer,
            request,
            task,
            people.get(offer.volunteer_id),
            gone.get(offer.volunteer_id),
            conflicts.get(offer.volunteer_id, ()),
        )
        if _in_pause(offer, paused.get(offer.volunteer_id, ())):
            codes = sorted({*codes, PAUSED})
        if codes:
            failing[offer.id] = codes
    return failing, unchecked
