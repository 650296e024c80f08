"""Emails about offers to volunteers: when they are offered a place, it is cancelled or it is withdrawn
from them (what sergeants are told goes through ``matching.notifications``). Sent after the change is committed; a
failed email is logged, never undoes the change (the volunteer also sees offers on their home page, the
sergeant on the request).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from core.mail import MailError
from core.timeutil import format_datetime
from matching.models import Offer, OfferStatus, SupportRequest
from matching.offers.details import arrival_text, contact_text, slot_text
from matching.offers.eligibility import ACCOUNT_DISABLED, NOT_ACTIVE, PAUSED, WITHDRAWN_PREFIX
from vetting.policy import current_task_policies
from volunteers.models import Volunteer

log = logging.getLogger("sng.matching")
Send = Callable[[str, str, str], object]  # (to, subject, body)


def _task_names(session: Session) -> dict[str, str]:
    """Task types by code → name, as the policies in force name them (coordinators add and edit them)."""
    return {code: policy.name for code, policy in current_task_policies(session).items()}


def _offers(session: Session, offer_ids: Iterable[int]) -> list[Offer]:
    return list(
        session.scalars(
            select(Offer)
            .where(Offer.id.in_(sorted(set(offer_ids))))
            .order_by(Offer.id)
            .options(
                joinedload(Offer.request).joinedload(SupportRequest.ward),
                joinedload(Offer.request).joinedload(SupportRequest.created_by),
                joinedload(Offer.volunteer).joinedload(Volunteer.user),
            )
        )
    )


def send_offer_emails(session: Session, offer_ids: Iterable[int], send: Send, base_url: str) -> int:
    """Tell each volunteer about their new offer; returns how many emails SMTP accepted."""
    sent = 0
    names = _task_names(session)
    for offer in _offers(session, offer_ids):
        request, user = offer.request, offer.volunteer.user
        task = names.get(request.task_type_code, request.task_type_code)
        where = "remote work" if request.remote else request.ward.label
        body = (
            f"Dear {user.full_name},\n\n"
            f"A Safer Neighbourhood Team would like your help:\n\n"
            f"  {task}: {request.title}\n"
            f"  When: {slot_text(request, offer.starts_at)}\n"
            f"  {arrival_text(request, offer.starts_at)}\n"
            f"  Where: {where}\n"
            f"  Questions: {contact_text(request)} (the ward's Safer Neighbourhood Team)\n\n"
            f"Please answer by {format_datetime(offer.respond_by)}. If you cannot help, say so and the place "
            f"will be offered to someone else.\n\n"
            f"See the offer and answer it: {base_url.rstrip('/')}/offers/{offer.id}\n"
        )
        try:
            send(user.email, f"Can you help? {task}, {slot_text(request, offer.starts_at)}", body)
            sent += 1
        except MailError as exc:
            log.warning("offer %s: email not sent: %s", offer.id, exc)
    return sent


def send_cancelled_emails(session: Session, offer_ids: Iterable[int], send: Send) -> None:
    """Tell volunteers that a request they were offered or had accepted is no longer needed, and why: the
    sergeant's reason (the form tells them the volunteers read it)."""
    for offer in _offers(session, offer_ids):
        request, user = offer.request, offer.volunteer.user
        why = f"  Why: {request.cancel_reason}\n" if request.cancel_reason else ""
        try:
            send(
                user.email,
                f"No longer needed: {request.title}",
                f"Dear {user.full_name},\n\nThe Safer Neighbourhood Team has cancelled this request, so you "
                f"are no longer needed for it:\n\n  {request.title}\n  {slot_text(request, offer.starts_at)}\n"
                f"{why}\nYou do not need to do anything. Thank you for being ready to help.\n",
            )
        except MailError as exc:
            log.warning("offer %s: cancellation email not sent: %s", offer.id, exc)


def send_changed_emails(session: Session, offer_ids: Iterable[int], send: Send) -> None:
    """Tell volunteers that the sergeant changed a request they were offered or booked on (its time, place, people
    or who may do it), so their offer is withdrawn; with the new details, as they may be offered it again."""
    for offer in _offers(session, offer_ids):
        request, user = offer.request, offer.volunteer.user
        where = "remote work" if request.remote else request.ward.label
        try:
            send(
                user.email,
                f"Request changed: {request.title}",
                f"Dear {user.full_name},\n\nThe Safer Neighbourhood Team has changed this request, so the offer "
                f"you had for it has been withdrawn and you do not need to go at the old time:\n\n"
                f"  {request.title}\n  Now: {slot_text(request)}, {where}\n\n"
                f"If you are free for the new time, you may be offered it again: you would get a new email. "
                f"Questions: {contact_text(request)}.\n",
            )
        except MailError as exc:
            log.warning("offer %s: request-changed email not sent: %s", offer.id, exc)


# Why a volunteer can no longer take a place, in their words: the one that matters most for them first.
# Never the vetting detail (which clearance, what an officer decided or why): the vetting team writes to
# them about a decision of theirs separately, with how to appeal.
_WHY = (
    ({ACCOUNT_DISABLED}, "Your account with us has been closed."),
    ({NOT_ACTIVE}, "Your volunteering is paused or has ended."),
    ({PAUSED}, "You have paused your volunteering over these dates."),
    (
        {"no_clearance", "no_unsupervised_clearance"},
        "Your vetting does not cover this task on that day at the moment. If this follows a decision by the "
        "vetting team, they write to you about it separately.",
    ),
    ({"mobilised"}, "You are mobilised for military service on that day."),
    (
        {"conflict_review_pending"},
        "Because of your line of work, a check for conflicts of interest is needed before you are deployed, and "
        "it has not been done yet. The team will be in touch about it.",
    ),
    (
        {"not_suitable_for_task", "conflict_of_interest"},
        "It would put you in a conflict of interest, so it is not work we can ask you to do.",
    ),
    (
        {"not_warranted", "patrol_status_too_low", "desk_only", "remote_only"},
        "The task needs a warrant, a patrol status or a kind of duty that your role does not include at the moment.",
    ),
    (
        {"skill_missing", "skill_level_too_low", "evidence_unverified", "evidence_expired"},
        "Your profile no longer shows a skill or qualification the task needs, or its evidence has run out.",
    ),
)


def _why(closed_reason: str | None) -> str:
    codes = set((closed_reason or "").removeprefix(WITHDRAWN_PREFIX).split(", "))
    for wanted, text in _WHY:
        if codes & wanted:
            return text
    return "Something has changed that means you cannot take it."


def send_withdrawn_emails(session: Session, offer_ids: Iterable[int], booked_ids: Collection[int], send: Send) -> None:
    """Tell each volunteer, in plain words, that an offer (or, for ``booked_ids``, a place they had accepted)
    was withdrawn from them because they can no longer take it, and that the team will find someone else."""
    for offer in _offers(session, offer_ids):
        if offer.status is not OfferStatus.WITHDRAWN:
            continue  # only what was withdrawn and stayed so
        request, user = offer.request, offer.volunteer.user
        booked = offer.id in booked_ids
        what = (
            "You are no longer booked for this, so please do not go:"
            if booked
            else "This offer is no longer open to you, so you cannot accept it:"
        )
        try:
            send(
                user.email,
                f"{'You are no longer booked' if booked else 'Offer withdrawn'}: {request.title}",
                f"Dear {user.full_name},\n\n{what}\n\n  {request.title}\n  {request.window_text}\n\n"
                f"{_why(offer.closed_reason)}\n\n"
                f"The Safer Neighbourhood Team knows and will offer the place to someone else, so you do not "
                f"need to do anything.\n",
            )
        except MailError as exc:
            log.warning("offer %s: withdrawal email to the volunteer not sent: %s", offer.id, exc)
