"""Outcome emails: saved with the decision, sent once it is committed, retried by the sweep.

A decision's use case calls ``tell`` inside its transaction: the email is a ``VettingNotice`` row, so
a decision rolled back leaves none. After its commit the use case calls ``deliver_queued``, which
sends what this session saved. Each email is claimed (``sent_at`` set, committed) before it goes to
SMTP, so two processes never send the same one; if SMTP refuses it the claim is undone and the next
``flask vetting sweep`` sends it (``deliver_unsent``). The decision stands either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from core.config import DEFAULT_SERVICE_NAME
from core.db import utcnow
from core.mail import MailError
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE
from vetting.models import Clearance, VettingNotice
from vetting.outcome_letters import Letter, LetterFacts, compose
from vetting.policy import current_task_policies
from volunteers.models import Volunteer

log = logging.getLogger("sng.vetting")
SendMail = Callable[[str, str, str], object]  # (to, subject, body)
_QUEUED = "vetting.notices.queued"
_LISTENING = "vetting.notices.listening"


@dataclass(frozen=True)
class Postbox:
    """How emails leave: the SMTP sender, and the address people reach the service at (for the link)."""

    send: SendMail
    base_url: str
    service: str = DEFAULT_SERVICE_NAME  # the SERVICE_NAME setting: who the email is from, in words

    def footer(self) -> str:
        return (
            f"\nSee your vetting and what it lets you do: {self.base_url.rstrip('/')}/vetting/my-clearances\n\n"
            f"{self.service}\n"
        )


def postbox(config: Mapping) -> Postbox:
    from core.mail import send_mail

    return Postbox(
        lambda to, subject, body: send_mail(config, to, subject, body),
        config.get("PUBLIC_URL", ""),
        config.get("SERVICE_NAME", DEFAULT_SERVICE_NAME),
    )


def clearance_name(type_code: str) -> str:
    known = CLEARANCE_TYPES_BY_CODE.get(type_code)
    return known.name if known else type_code


def tell(
    session: Session,
    letter: Letter,
    clearance: Clearance,
    *,
    appeal_until: date | None = None,
    expires_on: date | None = None,
) -> None:
    """Save the email telling ``clearance``'s holder about ``letter``, in the caller's transaction."""
    volunteer = session.get(Volunteer, clearance.volunteer_id)
    names = current_task_policies(session)
    facts = LetterFacts(
        name=volunteer.user.full_name,
        clearance=clearance_name(clearance.type_code),
        valid_from=clearance.valid_from,
        expires_on=expires_on or clearance.expires_on,
        restricted_tasks=tuple(names[c].name if c in names else c for c in sorted(clearance.restrictions)),
        appeal_until=appeal_until,
    )
    subject, body = compose(letter, facts)
    notice = VettingNotice(volunteer_id=volunteer.id, subject=subject, body=body)
    session.add(notice)
    session.flush()
    if not session.info.get(_LISTENING):
        # A rollback forgets what the transaction saved: those rows are gone.
        event.listen(session, "after_rollback", _forget)
        session.info[_LISTENING] = True
    session.info.setdefault(_QUEUED, []).append(notice.id)


def _forget(session: Session) -> None:
    session.info.pop(_QUEUED, None)


def deliver_queued(session: Session, box: Postbox | None) -> int:
    """After the commit: send the emails this session saved. Returns how many SMTP accepted."""
    ids = session.info.pop(_QUEUED, [])
    if box is None or not ids:
        return 0
    return _deliver(session, ids, box)[0]


def deliver_unsent(session: Session, box: Postbox) -> tuple[int, int]:
    """Send every email not sent yet (the sweep's retry). Returns (sent, not sent)."""
    ids = list(
        session.scalars(select(VettingNotice.id).where(VettingNotice.sent_at.is_(None)).order_by(VettingNotice.id))
    )
    return _deliver(session, ids, box)


def _deliver(session: Session, ids: Iterable[int], box: Postbox) -> tuple[int, int]:
    sent = failed = 0
    for notice_id in ids:
        claimed = session.execute(
            update(VettingNotice)
            .where(VettingNotice.id == notice_id, VettingNotice.sent_at.is_(None))
            .values(sent_at=utcnow())
        ).rowcount
        session.commit()
        if not claimed:
            continue  # already sent, or gone with its volunteer
        notice = session.get(VettingNotice, notice_id)
        email = session.scalar(select(Volunteer).where(Volunteer.id == notice.volunteer_id)).user.email
        try:
            box.send(email, notice.subject, notice.body + box.footer())
        except MailError as exc:
            log.warning("vetting notice %s: email not sent, the sweep will retry: %s", notice_id, exc)
            session.execute(update(VettingNotice).where(VettingNotice.id == notice_id).values(sent_at=None))
            session.commit()
            failed += 1
        else:
            sent += 1
    return sent, failed
