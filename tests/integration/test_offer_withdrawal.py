"""`flask vetting sweep` withdraws future offers people are no longer eligible for: the sergeant hears
"no longer available" and nothing about vetting, the place opens again, and a second sweep does nothing.

A lapse withdraws what it ends in the sweep's own transaction (see test_eligibility_gate.py for every such
event); ``withdraw_ineligible``, run after the sweep, is the safety net for whatever changed otherwise."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

from sqlalchemy import select

from core.auth.models import Role
from core.db import utcnow
from core.timeutil import london_today
from matching.models import Offer, OfferStatus, RequestStatus
from matching.offers.services import refresh_status
from matching.offers.withdrawals import withdraw_ineligible
from tests.helpers import make_kings_cross_and_belsize, make_request, make_user
from tests.integration.conftest import body
from tests.integration.test_match_facts import _volunteer
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance
from volunteers.models import BlockedPeriod, BlockReason, VolunteerSkill, VolunteerStatus
from volunteers.skills import SkillLevel

VETTING_WORDS = ("clearance", "vetting", "lapsed", "eligible")


def _sweep(app):
    result = app.test_cli_runner().invoke(args=["vetting", "sweep"])
    assert result.exit_code == 0, result.output
    return result.output


def _on_the_hour(days: int) -> dt.datetime:
    """Two in the afternoon (UTC) ``days`` from now."""
    return (utcnow() + dt.timedelta(days=days)).replace(hour=14, minute=0, second=0, microsecond=0)


def _offer(db, volunteer, item, status=OfferStatus.ACCEPTED) -> Offer:
    """``volunteer`` booked on ``item``'s slot, as the matcher books them."""
    offer = Offer(
        request_id=item.id,
        volunteer_id=volunteer.id,
        status=status,
        starts_at=item.window_start,
        ends_at=item.deployment_end,
        load_minutes=item.duration_minutes,
        explanation="Cyber-crime victim support, practitioner; 0.0 km away",
        offered_at=item.window_start - dt.timedelta(days=10),
        respond_by=utcnow() + dt.timedelta(days=1)
        if status is OfferStatus.OFFERED
        else item.window_start - dt.timedelta(days=9),
        answered_at=None if status is OfferStatus.OFFERED else item.window_start - dt.timedelta(days=9),
    )
    db.add(offer)
    db.flush()
    refresh_status(db, [item.id])
    db.commit()
    return offer


def test_a_lapsed_clearance_withdraws_future_work_and_the_sergeant_hears_only_no_longer_available(app, db, smtp):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx], full_name="Sergeant Kaur")
    yesterday = london_today() - dt.timedelta(days=1)
    # Carol's clearance ran out yesterday; she accepted a visit next week and did one last week.
    carol = _volunteer(db, kx, expires=yesterday, full_name="Carol Jones")
    alice = _volunteer(db, kx, expires=london_today() + dt.timedelta(days=400), full_name="Alice Smith")
    next_week = make_request(
        db, kx, start=_on_the_hour(7), title="Visit after a phishing fraud", created_by_id=sergeant.id
    )
    last_week = make_request(db, kx, start=_on_the_hour(-7), title="Earlier visit", created_by_id=sergeant.id)
    alices = make_request(db, kx, start=_on_the_hour(8), title="Alice's visit", created_by_id=sergeant.id)
    future = _offer(db, carol, next_week)
    past = _offer(db, carol, last_week)
    eligible = _offer(db, alice, alices)
    db.refresh(next_week)
    assert next_week.status is RequestStatus.FILLED

    output = _sweep(app)
    assert "1 lapsed" in output
    # The lapse withdrew it in the sweep's own transaction: the safety net after it finds nothing more.
    assert "0 offers withdrawn (no longer eligible)." in output

    db.expire_all()
    assert db.get(Offer, future.id).status is OfferStatus.WITHDRAWN
    assert db.get(Offer, future.id).closed_reason == "no longer eligible: no_clearance"
    assert db.get(Offer, past.id).status is OfferStatus.ACCEPTED  # what is done is done
    assert db.get(Offer, eligible.id).status is OfferStatus.ACCEPTED
    assert next_week.status is RequestStatus.OPEN  # the place is free for the next matching run
    assert alices.status is RequestStatus.FILLED

    to_sergeant = {
        email.message_from_bytes(m.content, policy=email.policy.default)["Subject"]: m
        for m in smtp.messages
        if m.rcpt_tos == [sergeant.email]
    }
    # Nobody else could take the place at once, so the re-match's "Not filled" follows (test_notifications.py).
    assert sorted(to_sergeant) == [
        "Not filled: Visit after a phishing fraud",
        "Volunteer no longer available: Visit after a phishing fraud",
    ]
    message = to_sergeant["Volunteer no longer available: Visit after a phishing fraud"]
    # Carol is told in plain words that she is no longer booked (test_eligibility_gate.py reads it).
    subjects = [
        email.message_from_bytes(m.content, policy=email.policy.default)["Subject"]
        for m in smtp.messages
        if m.rcpt_tos == [carol.user.email]
    ]
    assert "You are no longer booked: Visit after a phishing fraud" in subjects
    sent = len(smtp.messages)
    parsed = email.message_from_bytes(message.content, policy=email.policy.default)
    text = body(message)
    assert parsed["Subject"] == "Volunteer no longer available: Visit after a phishing fraud"
    assert "Carol Jones is no longer available for this request" in text
    for word in VETTING_WORDS:
        assert word not in text.lower() and word not in parsed["Subject"].lower()

    # The sergeant's page says "No longer available", never the internal reason.
    client = app.test_client()
    client.sign_in(sergeant.email)
    page = " ".join(client.get(f"/requests/{next_week.id}").soup.get_text().split())
    assert "Carol Jones No longer available" in page
    assert "no longer eligible" not in page and "no_clearance" not in page
    assert "clearance" not in page.lower()

    # Running the sweep again withdraws nothing more and sends nothing more.
    again = _sweep(app)
    assert "0 offers withdrawn (no longer eligible)." in again
    assert len(smtp.messages) == sent


def test_other_vetting_changes_withdraw_too_but_availability_does_not(db):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    far = london_today() + dt.timedelta(days=400)
    start = _on_the_hour(5)
    paused = _volunteer(db, kx, expires=far, status=VolunteerStatus.PAUSED)
    mobilised = _volunteer(db, kx, expires=far, military_reservist=True)
    db.add(
        BlockedPeriod(
            volunteer_id=mobilised.id,
            first_day=start.date(),
            last_day=start.date() + dt.timedelta(days=3),
            reason=BlockReason.MOBILISATION,
        )
    )
    suspended = _volunteer(db, kx, expires=far)
    db.scalars(select(Clearance).where(Clearance.volunteer_id == suspended.id)).one().state = ClearanceState.SUSPENDED
    # The request asks for Polish, and this volunteer's Polish was taken off their profile.
    no_polish = _volunteer(db, kx, expires=far)
    # Not free on that day of the week any more and further than their travel limit: still going.
    unavailable = _volunteer(db, wards["belsize"], expires=far, limit=1, slots=())
    db.add(VolunteerSkill(volunteer_id=unavailable.id, skill_code="lang_pl", level=SkillLevel.AWARE))
    db.commit()
    offers = {}
    for name, volunteer in (
        ("paused", paused),
        ("mobilised", mobilised),
        ("suspended", suspended),
        ("no_polish", no_polish),
        ("unavailable", unavailable),
    ):
        item = make_request(db, kx, start=start, skills=("lang_pl",) if name in ("no_polish", "unavailable") else ())
        offers[name] = _offer(db, volunteer, item, status=OfferStatus.OFFERED)

    withdrawn = withdraw_ineligible(db, utcnow())

    assert sorted(withdrawn) == sorted(offers[n].id for n in ("paused", "mobilised", "suspended", "no_polish"))
    db.expire_all()
    reasons = {name: db.get(Offer, offer.id).closed_reason for name, offer in offers.items()}
    assert reasons == {
        "paused": "no longer eligible: not_active",
        # A reservist also needs a conflict review before any deployment, and none is recorded for this one.
        "mobilised": "no longer eligible: conflict_review_pending, mobilised",
        "suspended": "no longer eligible: no_clearance",
        "no_polish": "no longer eligible: skill_missing",
        "unavailable": None,
    }
    assert db.get(Offer, offers["unavailable"].id).status is OfferStatus.OFFERED
    assert withdraw_ineligible(db, utcnow()) == []


def test_a_special_constables_only_request_needs_a_warrant(db):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    psv = _volunteer(db, kx, expires=london_today() + dt.timedelta(days=400))
    item = make_request(db, kx, start=_on_the_hour(3), warranted_only=True)
    offer = _offer(db, psv, item)

    assert withdraw_ineligible(db, utcnow()) == [offer.id]
    db.expire_all()
    assert db.scalar(select(Offer.closed_reason).where(Offer.id == offer.id)) == "no longer eligible: not_warranted"
