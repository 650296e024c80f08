"""Emails about offers: to volunteers when they are offered a place or it is cancelled, and to sergeants
when someone is no longer available. Sent after the change is committed; a failed email is logged,
never undoes the change (the volunteer also sees offers on their home page, the sergeant on the request).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from core.auth.models import User, sergeant_wards
from core.mail import MailError
from core.timeutil import format_datetime
from matching.models import Offer, SupportRequest, duration_text
from vetting.catalogue import TASK_POLICIES_BY_CODE
from volunteers.models import Volunteer

log = logging.getLogger("sng.matching")
Send = Callable[[str, str, str], object]  # (to, subject, body)


def _task_name(code: str) -> str:
    policy = TASK_POLICIES_BY_CODE.get(code)
    return policy.name if policy else code


def _offers(session: Session, offer_ids: Iterable[int]) -> list[Offer]:
    return list(
        session.scalars(
            select(Offer)
            .where(Offer.id.in_(sorted(set(offer_ids))))
            .order_by(Offer.id)
            .options(
                joinedload(Offer.request).joinedload(SupportRequest.ward),
                joinedload(Offer.volunteer).joinedload(Volunteer.user),
            )
        )
    )


def send_offer_emails(session: Session, offer_ids: Iterable[int], send: Send, base_url: str) -> int:
    """Tell each volunteer about their new offer; returns how many emails SMTP accepted."""
    sent = 0
    for offer in _offers(session, offer_ids):
        request, user = offer.request, offer.volunteer.user
        where = "remote work" if request.remote else request.ward.label
        body = (
            f"Dear {user.full_name},\n\n"
            f"A Safer Neighbourhood Team would like your help:\n\n"
            f"  {_task_name(request.task_type_code)}: {request.title}\n"
            f"  When: {request.window_text} ({duration_text(request.duration_minutes)})\n"
            f"  Where: {where}\n\n"
            f"Please answer by {format_datetime(offer.respond_by)}. If you cannot help, say so and the place "
            f"will be offered to someone else.\n\n"
            f"See the offer and answer it: {base_url.rstrip('/')}/offers/{offer.id}\n"
        )
        try:
            send(user.email, f"Can you help? {_task_name(request.task_type_code)}, {request.window_text}", body)
            sent += 1
        except MailError as exc:
            log.warning("offer %s: email not sent: %s", offer.id, exc)
    return sent


def send_cancelled_emails(session: Session, offer_ids: Iterable[int], send: Send) -> None:
    """Tell volunteers that a request they were offered or had accepted is no longer needed."""
    for offer in _offers(session, offer_ids):
        request, user = offer.request, offer.volunteer.user
        try:
            send(
                user.email,
                f"No longer needed: {request.title}",
                f"Dear {user.full_name},\n\nThe Safer Neighbourhood Team has cancelled this request, so you "
                f"are no longer needed for it:\n\n  {request.title}\n  {request.window_text}\n\n"
                f"Thank you for being ready to help.\n",
            )
        except MailError as exc:
            log.warning("offer %s: cancellation email not sent: %s", offer.id, exc)


def send_unavailable_emails(session: Session, offer_ids: Iterable[int], send: Send) -> None:
    """Tell the ward's sergeants that a volunteer is no longer available for a request — never why."""
    for offer in _offers(session, offer_ids):
        request = offer.request
        sergeants = session.scalars(
            select(User)
            .join(sergeant_wards, sergeant_wards.c.user_id == User.id)
            .where(sergeant_wards.c.ward_id == request.ward_id, User.is_disabled.is_(False))
        )
        for sergeant in sergeants:
            try:
                send(
                    sergeant.email,
                    f"Volunteer no longer available: {request.title}",
                    f"Dear {sergeant.full_name},\n\n{offer.volunteer.user.full_name} is no longer available for "
                    f"this request:\n\n  {request.title}\n  {request.window_text}\n\n"
                    f"The place is open again and the next matching run will offer it to someone else.\n",
                )
            except MailError as exc:
                log.warning("offer %s: unavailable email to sergeant %s not sent: %s", offer.id, sergeant.id, exc)
