"""Factories the vetting integration tests share: officers signed in, reviews, clearances, mail."""

from __future__ import annotations

import datetime as dt

from core.auth.models import Role
from core.db import utcnow
from core.timeutil import london_to_utc, london_today
from tests.helpers import CheckedClient, make_user, make_volunteer
from tests.integration.conftest import body
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ReviewKind, VettingReview


def officer(app, db) -> CheckedClient:
    """A new vetting officer, signed in, with ``.user`` set."""
    return officers(app, db, 1)[0]


def officers(app, db, count: int) -> list[CheckedClient]:
    """``count`` different vetting officers, each signed in, with ``.user`` set."""
    clients = []
    for _ in range(count):
        user = make_user(db, Role.VETTING_OFFICER)
        client = app.test_client()
        client.sign_in(user.email)
        client.user = user
        clients.append(client)
    return clients


def signed_in(app, user) -> CheckedClient:
    """A client signed in as ``user`` (through the second step where the account has one)."""
    client = app.test_client()
    client.sign_in(user.email)
    return client


def volunteer_client(app, volunteer) -> CheckedClient:
    return signed_in(app, volunteer.user)


def review(db, volunteer=None, kind=ReviewKind.NEW_APPLICATION, clearance=None, opened_days_ago=0, **fields):
    """An open review; ``opened_days_ago`` backdates when it was opened (London days)."""
    volunteer = volunteer or make_volunteer(db)
    opened = london_today() - dt.timedelta(days=opened_days_ago)
    item = VettingReview(
        volunteer_id=volunteer.id,
        kind=kind,
        clearance_id=clearance.id if clearance else None,
        due_on=fields.pop("due_on", london_today() + dt.timedelta(days=10)),
        opened_at=london_to_utc(opened, dt.time(9, 0)) if opened_days_ago else utcnow(),
        **fields,
    )
    db.add(item)
    db.commit()
    return item


def granted(db, volunteer=None, code="NPPV2F", expires_in=400, state=ClearanceState.GRANTED, restricted_from=""):
    """A clearance granted 700 days ago; ``expires_in`` days left."""
    volunteer = volunteer or make_volunteer(db)
    today = london_today()
    clearance = Clearance(
        volunteer_id=volunteer.id,
        type_code=code,
        state=state,
        valid_from=today - dt.timedelta(days=700),
        expires_on=today + dt.timedelta(days=expires_in),
        restricted_from=restricted_from,
    )
    db.add(clearance)
    db.commit()
    return clearance


def mail_to(smtp, address: str) -> list[tuple[str, str]]:
    """(subject, body) of every message the app sent to ``address``."""
    import email
    import email.policy

    found = []
    for envelope in smtp.messages:
        if address in envelope.rcpt_tos:
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            found.append((" ".join(str(parsed["Subject"]).split()), body(envelope)))
    return found
