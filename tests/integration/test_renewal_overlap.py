"""A renewal decided early starts the day after the old term ends: until then the old term still counts,
so renewing someone early never withdraws their bookings — unless the renewal itself stops counting."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.timeutil import london_today
from tests.helpers import make_volunteer
from vetting.facts import person_facts
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance
from vetting.rules import ClearanceFact


def _renewed_early(db, renewal_state: ClearanceState, starts_in: int = 31) -> list[ClearanceFact]:
    volunteer = make_volunteer(db)
    today = london_today()
    old = Clearance(
        volunteer_id=volunteer.id,
        type_code="NPPV2F",
        state=ClearanceState.RENEWED,
        valid_from=today - dt.timedelta(days=1000),
        expires_on=today + dt.timedelta(days=30),
    )
    db.add(old)
    db.flush()
    db.add(
        Clearance(
            volunteer_id=volunteer.id,
            type_code="NPPV2F",
            state=renewal_state,
            valid_from=today + dt.timedelta(days=starts_in),
            expires_on=today + dt.timedelta(days=1126),
            renews_id=old.id,
        )
    )
    db.commit()
    clearances = list(
        db.scalars(select(Clearance).where(Clearance.volunteer_id == volunteer.id).order_by(Clearance.id))
    )
    return list(person_facts(volunteer, clearances).clearances)


def test_the_old_term_counts_while_its_renewal_is_in_force(db):
    old, renewal = _renewed_early(db, ClearanceState.GRANTED)
    assert old.state is ClearanceState.RENEWAL_DUE  # counted, within its own dates only
    assert old.expires_on == london_today() + dt.timedelta(days=30)
    assert renewal.state is ClearanceState.GRANTED


def test_a_renewal_that_starts_at_once_replaces_the_old_term_from_that_day(db):
    # E.g. renewed today with a new restriction: the restriction applies from today, not from the old expiry.
    old, renewal = _renewed_early(db, ClearanceState.GRANTED_WITH_RESTRICTIONS, starts_in=0)
    assert old.expires_on == london_today() - dt.timedelta(days=1)
    assert renewal.valid_from == london_today()


def test_the_old_term_stops_counting_when_its_renewal_is_suspended(db):
    old, renewal = _renewed_early(db, ClearanceState.SUSPENDED)
    assert old.state is ClearanceState.RENEWED
    assert renewal.state is ClearanceState.SUSPENDED
