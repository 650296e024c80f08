"""Withdrawing future offers and bookings a volunteer is no longer eligible for, and what a volunteer is
deployed on.

Two ways in, one check (``matching.offers.eligibility``):

- ``withdraw_for`` runs **inside the transaction of the event** that may end someone's eligibility: a
  clearance suspended, withdrawn, refused, lapsed or restricted, a task type's policy edited, an account
  disabled, a volunteer paused or left. ``create_app`` wires it to ``Seams.eligibility_changed``, which
  those use cases call; it never commits. Once the event commits (never if it rolls back), the sergeants
  and the volunteers are told and the places offered to someone else (``matching.tasks.after_withdrawal``).
- ``withdraw_ineligible`` runs after the daily vetting sweep (the ``after_vetting_sweep`` hook): the safety
  net for anything that changed without such an event — evidence that ran out, a clearance whose expiry
  date passed before the sweep lapsed it.

The sergeant is told the volunteer is no longer available and never why, and the volunteer in plain
words; the reason codes stay in ``Offer.closed_reason`` for vetting officers and the log.

``upcoming_deployments`` answers the vetting officers' queue (through the ``upcoming_deployments``
hook, as vetting must not import matching): who is deployed soon, and on what.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping

from sqlalchemy import ColumnElement, event, or_, select
from sqlalchemy.orm import Session, SessionTransaction

from core.seams import Affected
from matching.models import ACTIVE_OFFER_STATUSES, Offer, OfferStatus, SupportRequest
from matching.offers.eligibility import ACCOUNT_DISABLED, NOT_ACTIVE, WITHDRAWN_PREFIX, ineligible
from matching.offers.services import close_offers
from vetting.catalogue import TaskPolicy
from vetting.policy import current_task_policies
from volunteers.models import Volunteer

__all__ = [
    "ACCOUNT_DISABLED",
    "NOT_ACTIVE",
    "WITHDRAWN_PREFIX",
    "upcoming_deployments",
    "withdraw_for",
    "withdraw_ineligible",
]

log = logging.getLogger("sng.matching")

# How far ahead the vetting officers' queue looks for deployments.
DEPLOYMENT_HORIZON = dt.timedelta(days=28)


def withdraw_ineligible(session: Session, now: dt.datetime) -> list[int]:
    """Withdraw every active offer starting after ``now`` whose volunteer no longer passes the vetting rules.

    Each offer is checked as the matcher checks a deployment (``eligibility.failing_codes``). A volunteer
    who is no longer active, or whose account is disabled, is no longer available either. The offers that
    fail are closed as WITHDRAWN with ``closed_reason`` "no longer eligible: <reason codes>" and their
    requests' statuses refreshed (a filled request with a place withdrawn is part filled or open again).

    Commits; returns the withdrawn offer ids. Idempotent: a withdrawn offer is no longer active, so a
    second run finds nothing more.
    """
    withdrawn, _ = _withdraw(session, now, [])
    session.commit()  # also ends the transaction the lock opened when nothing was withdrawn
    return withdrawn


def withdraw_for(
    session: Session, affected: Affected, now: dt.datetime, then: Callable[[list[int], list[int]], object]
) -> list[int]:
    """Withdraw the future offers and bookings of ``affected`` that they no longer qualify for, in the
    caller's transaction (flushed, never committed); returns their ids.

    ``then(offer ids, those of them that were bookings)`` runs once the caller's transaction commits, and
    not at all if it rolls back: what it does (emails, offering the places again) must never happen for an
    event that did not. It should be quick and must not use this session (``create_app`` queues a task).
    """
    scope = _scope(affected)
    if scope is None:
        return []
    withdrawn, booked = _withdraw(session, now, [scope])
    if withdrawn:
        _after_commit(session, lambda: then(withdrawn, booked))
    return withdrawn


def _scope(affected: Affected) -> ColumnElement[bool] | None:
    """The offers of the people ``affected`` names, as one condition; None if it names no one."""
    parts: list[ColumnElement[bool]] = []
    if affected.volunteer_ids:
        parts.append(Offer.volunteer_id.in_(sorted(affected.volunteer_ids)))
    if affected.user_ids:
        parts.append(
            Offer.volunteer_id.in_(select(Volunteer.id).where(Volunteer.user_id.in_(sorted(affected.user_ids))))
        )
    if affected.task_type_codes:
        parts.append(
            Offer.request_id.in_(
                select(SupportRequest.id).where(SupportRequest.task_type_code.in_(sorted(affected.task_type_codes)))
            )
        )
    return or_(*parts) if parts else None


def _withdraw(session: Session, now: dt.datetime, scope: list[ColumnElement[bool]]) -> tuple[list[int], list[int]]:
    """Close as WITHDRAWN the active offers starting after ``now`` (and matching ``scope``) whose volunteer no
    longer passes; flushed, not committed. Returns their ids and those of them that had been accepted, sorted."""
    conditions = [Offer.status.in_(ACTIVE_OFFER_STATUSES), Offer.starts_at > now, *scope]
    # Locked on PostgreSQL, so a volunteer answering at the same moment waits and then finds the offer closed.
    offers = list(session.scalars(select(Offer).where(*conditions).order_by(Offer.id).with_for_update()))
    failing, unchecked = ineligible(
        session, offers, select(Offer.id).where(*conditions), current_task_policies(session)
    )
    for offer in unchecked:
        log.warning("offer %s: request %s has an unknown task type: not checked", offer.id, offer.request_id)

    by_reason: dict[str, list[Offer]] = defaultdict(list)
    for offer in offers:
        if offer.id in failing:
            by_reason[WITHDRAWN_PREFIX + ", ".join(failing[offer.id])].append(offer)
    withdrawn: list[int] = []
    booked = sorted(o.id for group in by_reason.values() for o in group if o.status is OfferStatus.ACCEPTED)
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
    return sorted(withdrawn), booked


# ---- After the event's commit -------------------------------------------------------------------

_PENDING = "sng.after_commit"


def _after_commit(session: Session, action: Callable[[], object]) -> None:
    """Run ``action`` once the session's current transaction commits; forget it if the transaction ends any
    other way (rolled back, or the session closed). Why here and not in the caller: the caller owns the
    commit, and an email about a suspension that was rolled back would be a false statement."""
    session.info.setdefault(_PENDING, []).append(action)
    if not event.contains(session, "after_commit", _run_pending):
        event.listen(session, "after_commit", _run_pending)
        event.listen(session, "after_transaction_end", _forget_pending)


def _run_pending(session: Session) -> None:
    for action in session.info.pop(_PENDING, []):
        try:
            action()
        except Exception:  # the event is saved: a failure here must not turn it into an error page
            log.exception("work after a withdrawal could not be started")


def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    # after_commit has already taken what a commit was owed; a savepoint ending is not the transaction ending.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


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
    policies = current_task_policies(session) if found else {}
    return {
        volunteer_id: (len(rows), rows[0][0], _names((code for _, code in rows), policies))
        for volunteer_id, rows in found.items()
    }


def _names(codes: Iterable[str], policies: Mapping[str, TaskPolicy]) -> list[str]:
    """The task types' names as the policies in force give them, each once."""
    names = []
    for code in codes:
        policy = policies.get(code)
        name = policy.name if policy else code
        if name not in names:
            names.append(name)
    return names
