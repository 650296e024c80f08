"""Support-request use cases: raise, edit, cancel, find. One commit per use case.

A sergeant works only on the requests of their own wards (``sergeant_wards``); anyone else's
request is "not found", so its existence is not given away. Coordinators may read every request.
Services never touch the web request: they take the acting user and ``now`` and raise
``RequestError`` (with the form field it concerns) for the views to show.

Staffing: a request's ``all_or_nothing`` and ``people_needed`` start from its task type's policy
(a mental-health escort: two people, everyone or nobody), but the sergeant decides: they know
whether, this time, one volunteer alongside an officer is enough. Only ``warranted_only`` is
forced by the policy, because it is a vetting rule, not a staffing choice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from core.auth.models import Role, User, sergeant_wards
from core.auth.services import record_event
from core.field_errors import FieldError
from core.geography.models import Borough, Ward
from core.pagination import Page
from core.timeutil import london_to_utc, london_today
from matching.facts import MATCHABLE_STATUSES
from matching.models import (
    ACTIVE_OFFER_STATUSES,
    CANCEL_REASON_MAX,
    CONTACT_PHONE_MAX,
    DESCRIPTION_MAX,
    DURATION_MAX,
    DURATION_MIN,
    ORGANISATION_MAX,
    PEOPLE_MAX,
    PEOPLE_MIN,
    REQUEST_CHANGED,
    TITLE_MAX,
    MatchRun,
    Offer,
    OfferStatus,
    Priority,
    RequestAudience,
    RequestSkill,
    RequestStatus,
    RunRequest,
    SupportRequest,
    duration_text,
)
from matching.offers.services import close_offers, refresh_status, served_ward_volunteers
from matching.requests.defaults import uk_phone
from matching.teams import services as teams
from vetting.catalogue import TaskPolicy, TeamRule
from vetting.policy import current_task_policies
from volunteers.models import ConflictDeclaration, Volunteer
from volunteers.panels.models import SpecialistGroup
from volunteers.partners.models import PartnerOrganisation
from volunteers.skills import SKILLS_BY_CODE

PER_PAGE = 25
# How far ahead a request may be raised: the matcher plans weeks ahead, not years.
MAX_DAYS_AHEAD = 366
# Ids are 32-bit integers in the database; a larger number in a URL is simply not found (SQLite would overflow).
_MAX_ID = 2**31 - 1


class RequestError(FieldError):
    """A change to a request was refused; ``field`` names the form field it concerns, if any."""


class EditConflict(RequestError):
    """Someone else saved the same request since this form was opened."""

    def __init__(self) -> None:
        super().__init__(
            "This request was changed by someone else while you were editing it. Your changes have "
            "not been saved: check them against the details now saved, then save again."
        )


class NotFound(Exception):
    """No such request, or not one this user may see."""


@dataclass(frozen=True)
class RequestDetails:
    """What the sergeant enters about a request (the task type is fixed when it is raised)."""

    ward_id: int
    remote: bool
    title: str
    description: str
    window_start: dt.datetime
    window_end: dt.datetime
    duration_minutes: int
    people_needed: int
    all_or_nothing: bool
    priority: Priority
    skill_codes: tuple[str, ...] = ()
    warranted_only: bool = False
    organisation: str = ""
    partner_id: int | None = None  # the organisation involved, chosen from the partner organisations
    preferred_volunteer_id: int | None = None
    contact_phone: str = ""  # for the volunteers offered it; the raising sergeant's name and email go with it
    supervising_officer_id: int | None = None  # a PCSO or ward officer of the ward's team who will be there
    # Who the matcher asks (issue #23): the ward's panel first, or one specialist group's members only.
    audience: RequestAudience = RequestAudience.WARD_PANEL_FIRST
    specialist_group_id: int | None = None


# ---- Whose requests -----------------------------------------------------------------------------


def sergeant_ward_ids(session: Session, user_id: int) -> list[int]:
    return list(session.scalars(select(sergeant_wards.c.ward_id).where(sergeant_wards.c.user_id == user_id)))


def previous_volunteers(session: Session, ward_ids: list[int]) -> list[Volunteer]:
    """Volunteers these wards have worked with (accepted work there, done or booked), for continuity: repeat
    victims should see the same face."""
    return served_ward_volunteers(session, ward_ids)


def policies_in_force(session: Session) -> dict[str, TaskPolicy]:
    """Every task type a request may be raised for, by code, as the coordinators have set them (vetting's
    one source: the request forms, these checks, the offers' pages and emails and the matcher read the same)."""
    return current_task_policies(session)


def policy_for(session: Session, task_type_code: str) -> TaskPolicy:
    """A task type's policy in force, or NotFound."""
    policy = policies_in_force(session).get(task_type_code)
    if policy is None:
        raise NotFound()
    return policy


def get_for_user(session: Session, user: User, request_id: int) -> SupportRequest:
    """The request, if ``user`` may see it: a coordinator any, a sergeant only their wards'."""
    if not 0 < request_id <= _MAX_ID:
        raise NotFound()
    query = (
        select(SupportRequest)
        .where(SupportRequest.id == request_id)
        .options(
            joinedload(SupportRequest.ward).joinedload(Ward.borough),
            selectinload(SupportRequest.skills),
            joinedload(SupportRequest.created_by),
        )
    )
    if user.role is not Role.COORDINATOR:
        query = query.where(SupportRequest.ward_id.in_(_own_wards(user.id)))
    item = session.scalar(query)
    if item is None:
        raise NotFound()
    return item


def _own_wards(user_id: int) -> Select:
    return select(sergeant_wards.c.ward_id).where(sergeant_wards.c.user_id == user_id)


# ---- Raise, edit, cancel ------------------------------------------------------------------------


def create_request(
    session: Session, sergeant: User, task_type_code: str, details: RequestDetails, now: dt.datetime
) -> SupportRequest:
    """Raise an open request for one of the sergeant's wards, checked against its task type's policy in force."""
    policy = policies_in_force(session).get(task_type_code)
    if policy is None:
        raise RequestError("Choose a kind of task from the list", field="task_type")
    _check(session, sergeant, policy, details, now, window_changed=True)
    item = SupportRequest(task_type_code=policy.code, created_by_id=sergeant.id, status=RequestStatus.OPEN)
    _apply(item, policy, details)
    session.add(item)
    session.flush()
    record_event(
        session,
        "support_request_created",
        sergeant.id,
        f"request {item.id} ward {item.ward_id} task {item.task_type_code}",
    )
    session.commit()
    return item


def _own_request(session: Session, sergeant: User, request_id: int) -> SupportRequest:
    """A request of the sergeant's wards, to change. Coordinators read requests but never change them."""
    if sergeant.role is not Role.SERGEANT:
        raise NotFound()
    return get_for_user(session, sergeant, request_id)


def update_request(
    session: Session,
    sergeant: User,
    request_id: int,
    details: RequestDetails,
    expected_version: int | None,
    now: dt.datetime,
    *,
    withdraw_offers: bool = False,
) -> Edited:
    """Change a request still wanted, refusing it if the request changed since the form was shown.

    The task type stays: a different task is a different request (cancel this one, raise another).

    A change to what the matcher reads (``matching_facts``: the time, the place, the people, who may do it)
    is one the volunteers offered or booked were not chosen for: their offers are withdrawn (CANCELLED,
    ``REQUEST_CHANGED``), only when ``withdraw_offers`` says the sergeant has read what it does
    (``OffersWouldBeWithdrawn`` otherwise, nothing saved). Any other change (title, description, priority,
    preferred volunteer, contact number) keeps the offers as they are.
    """
    item = _own_request(session, sergeant, request_id)
    if not item.is_live:
        raise RequestError("This request has been cancelled, so it can no longer be changed")
    if expected_version is None or expected_version != item.version:
        session.rollback()
        raise EditConflict()
    policy = policy_for(session, item.task_type_code)
    window_changed = (details.window_start, details.window_end) != (item.window_start, item.window_end)
    _check(session, sergeant, policy, details, now, window_changed=window_changed)
    before = matching_facts(item)
    _apply(item, policy, details)
    changed = matching_facts(item) != before
    if changed:
        item.matching_changed_at = now
    try:
        # One flush of the request (one version step); a colleague's save that got in first is found here.
        session.flush()
        active = (
            list(
                session.scalars(
                    select(Offer)
                    .where(Offer.request_id == item.id, Offer.status.in_(ACTIVE_OFFER_STATUSES))
                    .order_by(Offer.id)
                )
            )
            if changed
            else []
        )
        if active and not withdraw_offers:
            session.rollback()
            raise OffersWouldBeWithdrawn(*_answered(active))
        withdrawn = [o.id for o in active]
        matched_before = changed and (
            bool(withdrawn)
            or bool(session.scalar(select(func.count(RunRequest.run_id)).where(RunRequest.request_id == item.id)))
        )
        if withdrawn:
            close_offers(session, active, OfferStatus.CANCELLED, REQUEST_CHANGED, now)
            refresh_status(session, [item.id])
        record_event(session, "support_request_edited", sergeant.id, f"request {item.id} ward {item.ward_id}")
        _save(session, item)
    except StaleDataError:
        session.rollback()
        raise EditConflict() from None
    return Edited(item, withdrawn, changed, matched_before and item.window_start > now)


@dataclass(frozen=True)
class Edited:
    """A saved change: the offers it withdrew (to tell their volunteers), whether it changed what the matcher
    reads, and whether the request should be matched again now (it had been matched, and has not begun)."""

    item: SupportRequest
    withdrawn: list[int]
    matching_changed: bool
    match_again: bool


class OffersWouldBeWithdrawn(RequestError):
    """A change that would withdraw offers, not yet confirmed: the message says what would happen."""

    def __init__(self, accepted: int, waiting: int) -> None:
        self.accepted, self.waiting = accepted, waiting
        super().__init__(withdrawal_warning(accepted, waiting))


def withdrawal_warning(accepted: int, waiting: int) -> str:
    """'1 volunteer has accepted and 1 is waiting to answer: they will be told, and their offers withdrawn. …'"""
    people = []
    if accepted:
        people.append(f"{accepted} volunteer{'s have' if accepted != 1 else ' has'} accepted")
    if waiting:
        who = "" if accepted else f" volunteer{'s' if waiting != 1 else ''}"
        people.append(f"{waiting}{who} {'is' if waiting == 1 else 'are'} waiting to answer")
    offers = "offer" if accepted + waiting == 1 else "offers"
    return (
        f"{' and '.join(people)}: they will be told, and their {offers} withdrawn. "
        "The request will then be matched again with the new details."
    )


def _answered(offers: list[Offer]) -> tuple[int, int]:
    accepted = sum(1 for o in offers if o.status is OfferStatus.ACCEPTED)
    return accepted, len(offers) - accepted


def active_offer_counts(session: Session, request_id: int) -> tuple[int, int]:
    """(accepted, waiting for an answer) of a request's offers now."""
    return _answered(
        list(
            session.scalars(
                select(Offer).where(Offer.request_id == request_id, Offer.status.in_(ACTIVE_OFFER_STATUSES))
            )
        )
    )


def matching_facts(item: SupportRequest) -> tuple:
    """What the matcher chose the request's volunteers by: when, where, how many, who may do it. A change to
    any of these withdraws the offers; to anything else (title, description, priority, preferred volunteer,
    contact number) keeps them."""
    return (
        item.ward_id,
        item.remote,
        item.window_start,
        item.window_end,
        item.duration_minutes,
        item.people_needed,
        item.all_or_nothing,
        item.warranted_only,
        item.organisation,
        item.partner_id,
        item.supervising_officer_id,
        item.audience,
        item.specialist_group_id,
        tuple(item.skill_codes),
    )


def findings_before_change(session: Session, item: SupportRequest, findings: RunRequest | None) -> bool:
    """Whether the run that found ``findings`` started before the sergeant last changed what the matcher reads."""
    if findings is None or item.matching_changed_at is None:
        return False
    started = session.scalar(select(MatchRun.created_at).where(MatchRun.id == findings.run_id))
    return started is not None and started < item.matching_changed_at


def last_contact_phone(session: Session, sergeant_id: int) -> str:
    """The phone number the sergeant gave on their latest request, to offer again ('' if none)."""
    return (
        session.scalar(
            select(SupportRequest.contact_phone)
            .where(SupportRequest.created_by_id == sergeant_id, SupportRequest.contact_phone != "")
            .order_by(SupportRequest.id.desc())
            .limit(1)
        )
        or ""
    )


def cancel_request(
    session: Session, sergeant: User, request_id: int, reason: str, now: dt.datetime
) -> tuple[SupportRequest, list[int]]:
    """Cancel a request that is still wanted; it stays listed, with the reason. Its offers and
    assignments are cancelled too. Returns the request and the offers closed (to tell their volunteers)."""
    item = _own_request(session, sergeant, request_id)
    if not item.is_live:
        raise RequestError("This request has already been cancelled or completed")
    reason = " ".join(reason.split())
    if not reason:
        raise RequestError("Enter why you are cancelling the request", field="reason")
    if len(reason) > CANCEL_REASON_MAX:
        raise RequestError(f"The reason must be {CANCEL_REASON_MAX} characters or fewer", field="reason")
    active = list(
        session.scalars(select(Offer).where(Offer.request_id == item.id, Offer.status.in_(ACTIVE_OFFER_STATUSES)))
    )
    item.status = RequestStatus.CANCELLED
    item.cancelled_at = now
    item.cancel_reason = reason
    close_offers(session, active, OfferStatus.CANCELLED, "request cancelled", now)
    record_event(session, "support_request_cancelled", sergeant.id, f"request {item.id} ward {item.ward_id}")
    return _save(session, item), [o.id for o in active]


def _save(session: Session, item: SupportRequest) -> SupportRequest:
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise EditConflict() from None
    return item


def _apply(item: SupportRequest, policy: TaskPolicy, details: RequestDetails) -> None:
    item.ward_id = details.ward_id
    item.remote = details.remote
    item.title = details.title.strip()
    item.description = details.description.strip()
    item.window_start = details.window_start
    item.window_end = details.window_end
    item.duration_minutes = details.duration_minutes
    item.people_needed = details.people_needed
    item.all_or_nothing = details.all_or_nothing
    item.priority = details.priority
    item.warranted_only = details.warranted_only or policy.warranted_only
    item.organisation = " ".join(details.organisation.split())
    item.partner_id = details.partner_id
    item.preferred_volunteer_id = details.preferred_volunteer_id
    item.contact_phone = " ".join(details.contact_phone.split())
    item.supervising_officer_id = details.supervising_officer_id
    item.audience = details.audience
    item.specialist_group_id = (
        details.specialist_group_id if details.audience is RequestAudience.SPECIALIST_GROUP else None
    )
    wanted = sorted(set(details.skill_codes))
    if item.skill_codes != wanted:
        item.skills = [RequestSkill(skill_code=code) for code in wanted]


def _check(
    session: Session,
    sergeant: User,
    policy: TaskPolicy,
    details: RequestDetails,
    now: dt.datetime,
    window_changed: bool,
) -> None:
    """Every rule the form checks, again: a service is also called by code that has no form."""
    if details.ward_id not in sergeant_ward_ids(session, sergeant.id):
        raise RequestError("Choose one of your wards", field="ward")
    if details.remote and not policy.remote_possible:
        raise RequestError(f"{policy.name} cannot be done remotely. Choose No", field="remote")
    if not details.title.strip():
        raise RequestError("Enter a title", field="title")
    if len(details.title.strip()) > TITLE_MAX:
        raise RequestError(f"Title must be {TITLE_MAX} characters or fewer", field="title")
    if not details.description.strip():
        raise RequestError("Enter a short description", field="description")
    if len(details.description.strip()) > DESCRIPTION_MAX:
        raise RequestError(f"Description must be {DESCRIPTION_MAX:,} characters or fewer", field="description")
    if details.window_start.tzinfo is None or details.window_end.tzinfo is None:
        raise ValueError("the window must be given as aware UTC datetimes")
    if details.window_end <= details.window_start:
        raise RequestError("The end time must be after the start time", field="end_time")
    if window_changed:
        today = london_today(now)
        if details.window_end <= london_to_utc(today, dt.time(0, 0)):
            raise RequestError("The date must be today or in the future", field="date")
        if details.window_end <= now:
            raise RequestError("The end time has already passed: enter a later time or another date", field="end_time")
        if details.window_start > now + dt.timedelta(days=MAX_DAYS_AHEAD):
            raise RequestError("The date must be within a year from today", field="date")
    length = int((details.window_end - details.window_start).total_seconds() // 60)
    if not DURATION_MIN <= details.duration_minutes <= DURATION_MAX:
        raise RequestError("Choose how long the task will take from the list", field="duration")
    if details.duration_minutes > length:
        raise RequestError(
            f"The task ({duration_text(details.duration_minutes)}) must fit inside the window "
            f"({duration_text(length)}): make the window longer or the task shorter",
            field="duration",
        )
    if not PEOPLE_MIN <= details.people_needed <= PEOPLE_MAX:
        raise RequestError(f"Enter a number of volunteers between {PEOPLE_MIN} and {PEOPLE_MAX}", field="people_needed")
    unknown = [code for code in details.skill_codes if code not in SKILLS_BY_CODE]
    if unknown:
        raise RequestError("Choose skills from the list", field="extra_skills")
    if len(" ".join(details.organisation.split())) > ORGANISATION_MAX:
        raise RequestError(f"Organisation must be {ORGANISATION_MAX} characters or fewer", field="organisation")
    if details.partner_id is not None and session.get(PartnerOrganisation, details.partner_id) is None:
        raise RequestError("Choose a partner organisation from the list", field="partner")
    if details.preferred_volunteer_id is not None and details.preferred_volunteer_id not in {
        # The sergeant's wards, as the form lists them: someone who served one ward may follow a victim to the next.
        v.id
        for v in previous_volunteers(session, sergeant_ward_ids(session, sergeant.id))
    }:
        raise RequestError("Choose a volunteer from the list", field="preferred_volunteer")
    phone = " ".join(details.contact_phone.split())
    if phone and (len(phone) > CONTACT_PHONE_MAX or uk_phone(phone) is None):
        raise RequestError("Enter a UK telephone number, like 020 7946 0000 or 07700 900982", field="contact_phone")
    if details.audience is RequestAudience.SPECIALIST_GROUP and (
        details.specialist_group_id is None or session.get(SpecialistGroup, details.specialist_group_id) is None
    ):
        raise RequestError("Choose the specialist group to ask", field="specialist_group")
    _check_team(session, policy, details)


def _check_team(session: Session, policy: TaskPolicy, details: RequestDetails) -> None:
    """The supervising officer is on the team of the request's ward, and the task type's team rule is met:
    two volunteers, everyone or nobody, or one with the supervising officer (vetting.catalogue.TeamRule)."""
    officer = details.supervising_officer_id
    if officer is not None and not teams.can_supervise(session, officer, details.ward_id):
        raise RequestError(
            "Choose a supervising officer from the team of the ward the request is for", field="supervising_officer"
        )
    supervised = officer is not None
    rule = policy.team_rule
    if rule is TeamRule.WITH_OFFICER and not supervised:
        raise RequestError(
            f"{policy.name} needs a supervising officer: choose one from your ward team", field="supervising_officer"
        )
    if not rule.needs_two_volunteers(supervised):
        return
    either = " or choose a supervising officer" if rule is TeamRule.TWO_ADULTS_OR_OFFICER else ""
    if details.people_needed < 2:
        if rule is TeamRule.TWO_ADULTS_OR_OFFICER:
            raise RequestError(
                f"{policy.name} needs two adults: choose a supervising officer, or ask for at least 2 volunteers",
                field="supervising_officer",
            )
        raise RequestError(f"{policy.name} needs two adults: ask for at least 2 volunteers", field="people_needed")
    if not details.all_or_nothing:
        raise RequestError(
            f"{policy.name} needs two adults, so one volunteer must never go alone: choose 'No, send everyone or "
            f"nobody'{either}",
            field="all_or_nothing",
        )


# ---- Finding requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFilters:
    status: RequestStatus | None = None
    task_type: str | None = None
    ward_id: int | None = None
    borough_id: int | None = None
    bcu_id: int | None = None
    date_from: dt.date | None = None  # London dates, inclusive, of the window's start
    date_to: dt.date | None = None


def search_requests(session: Session, user: User, filters: RequestFilters, raw_page: str | None) -> Page:
    """One page of the requests ``user`` may see, newest window first, with the total.

    A sergeant sees their wards' requests; a coordinator every request, and may narrow by BCU or borough.
    """
    conditions = []
    if user.role is not Role.COORDINATOR:
        conditions.append(SupportRequest.ward_id.in_(_own_wards(user.id)))
    if filters.status is not None:
        conditions.append(SupportRequest.status == filters.status)
    if filters.task_type:
        conditions.append(SupportRequest.task_type_code == filters.task_type)
    if filters.ward_id is not None:
        conditions.append(SupportRequest.ward_id == filters.ward_id)
    if filters.borough_id is not None:
        conditions.append(SupportRequest.ward_id.in_(select(Ward.id).where(Ward.borough_id == filters.borough_id)))
    if filters.bcu_id is not None:
        conditions.append(
            SupportRequest.ward_id.in_(
                select(Ward.id).join(Borough, Borough.id == Ward.borough_id).where(Borough.bcu_id == filters.bcu_id)
            )
        )
    if filters.date_from is not None:
        conditions.append(SupportRequest.window_start >= london_to_utc(filters.date_from, dt.time(0, 0)))
    if filters.date_to is not None:
        conditions.append(
            SupportRequest.window_start < london_to_utc(filters.date_to + dt.timedelta(days=1), dt.time(0, 0))
        )
    query = (
        select(SupportRequest)
        .where(*conditions)
        .options(joinedload(SupportRequest.ward).joinedload(Ward.borough))
        .order_by(SupportRequest.window_start.desc(), SupportRequest.id.desc())
    )
    count = select(func.count(SupportRequest.id)).where(*conditions)
    return Page.of(session, query, count, raw_page, per_page=PER_PAGE)


def upcoming_open_requests(session: Session, user_id: int, now: dt.datetime, limit: int = 10) -> list[SupportRequest]:
    """The sergeant's requests still wanted whose window has not ended, soonest first (their home page)."""
    return list(
        session.scalars(
            select(SupportRequest)
            .where(
                SupportRequest.ward_id.in_(_own_wards(user_id)),
                SupportRequest.status.in_(MATCHABLE_STATUSES + (RequestStatus.FILLED,)),
                SupportRequest.window_end > now,
            )
            .options(joinedload(SupportRequest.ward))
            .order_by(SupportRequest.window_start, SupportRequest.id)
            .limit(limit)
        )
    )


def declared_conflicts(session: Session, organisation: str, partner_id: int | None = None) -> int:
    """How many volunteers have declared a conflict of interest with this organisation (by name, any case, or
    as the partner organisation ``partner_id`` chosen from the list).

    Only a count: the sergeant learns that some volunteers will be left out, never who. The matcher
    leaves them out (a hard rule); this lets the sergeant see it coming.
    """
    name = " ".join(organisation.split()).lower()
    if not name:
        return 0
    return (
        session.scalar(
            select(func.count(func.distinct(ConflictDeclaration.volunteer_id))).where(
                or_(
                    func.lower(func.trim(ConflictDeclaration.organisation)) == name,
                    ConflictDeclaration.partner_id == partner_id if partner_id is not None else false(),
                )
            )
        )
        or 0
    )
