"""Eligibility at the moment of commitment: nobody is booked without the clearance the task needs on the day.

An accept checks the volunteer's eligibility again in its own transaction. Every event that can end
eligibility (a suspension, a confirmed withdrawal, a restriction, a lapse, a task type's policy edited, an
account disabled, a volunteer paused) withdraws that person's future offers and bookings they no longer
qualify for in the event's own transaction, without waiting for the nightly sweep. Once it commits, and
only then, the sergeant hears "no longer available", the volunteer is told in plain words (never the
vetting detail), and each place is offered to someone else at once.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy

from sqlalchemy import select

from core.auth.models import Role
from core.db import session_factory, utcnow
from core.seams import Affected, seams
from core.timeutil import london_to_utc, london_today
from matching.facts import load_volunteers, london_week
from matching.models import Offer, OfferStatus, RequestStatus, SupportRequest
from tests.helpers import (
    check_page,
    date_fields,
    error_messages,
    make_kings_cross_and_belsize,
    make_offer,
    make_request,
    make_user,
    make_volunteer,
)
from tests.integration.conftest import body
from tests.integration.vetting_factories import officer, signed_in, volunteer_client
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ReviewKind, VettingReview
from volunteers.models import AvailabilitySlot, VolunteerSkill, VolunteerStatus
from volunteers.skills import SkillLevel

DAY = london_today() + dt.timedelta(days=3)
AT_10AM = london_to_utc(DAY, dt.time(10, 0))
AT_2PM = london_to_utc(DAY, dt.time(14, 0))
# What a volunteer's or a sergeant's email about a withdrawal must never say.
# "vetting officer", not "officer": a request page names its supervising officer (a PCSO), which is no vetting detail.
VETTING_DETAIL = ("suspend", "no_clearance", "no longer eligible", "charged", "theft", "vetting officer")


def _ready(db, ward, name: str, clearance: str = "NPPV2F", expires: dt.date | None = None, **profile):
    """An active PSV with a cyber skill, one clearance (NPPV2F unless told) and free every day, 8am to 8pm."""
    volunteer = make_volunteer(
        db,
        home_ward_id=ward.id,
        full_name=name,
        status=profile.pop("status", VolunteerStatus.ACTIVE),
        travel_limit_km=10,
        weekly_hours_cap_minutes=20 * 60,
        **profile,
    )
    db.add(VolunteerSkill(volunteer_id=volunteer.id, skill_code="cyber_victim_support", level=SkillLevel.EXPERT))
    db.add(VolunteerSkill(volunteer_id=volunteer.id, skill_code="incident_response", level=SkillLevel.EXPERT))
    db.add(
        Clearance(
            volunteer_id=volunteer.id,
            type_code=clearance,
            state=ClearanceState.GRANTED,
            valid_from=london_today() - dt.timedelta(days=700),
            expires_on=expires or london_today() + dt.timedelta(days=400),
        )
    )
    db.add_all(
        AvailabilitySlot(volunteer_id=volunteer.id, weekday=d, start_minute=8 * 60, end_minute=20 * 60)
        for d in range(7)
    )
    db.commit()
    return volunteer


def _world(db):
    """King's Cross with its sergeant; Alice holds a booking at 10am and an open offer at 2pm on DAY, and a
    booking that is already done; Bogdan is free and cleared, so each place can go to him."""
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx], full_name="Sergeant Kaur")
    alice = _ready(db, kx, "Alice Adeyemi")
    bogdan = _ready(db, wards["belsize"], "Bogdan Nowak")
    morning = make_request(db, kx, start=AT_10AM, title="Visit after a phishing fraud", created_by_id=sergeant.id)
    afternoon = make_request(db, kx, start=AT_2PM, title="Advice after a romance scam", created_by_id=sergeant.id)
    last_week = make_request(
        db, kx, start=AT_10AM - dt.timedelta(days=10), title="An earlier visit", created_by_id=sergeant.id
    )
    return {
        "wards": wards,
        "sergeant": sergeant,
        "alice": alice,
        "bogdan": bogdan,
        "morning": morning,
        "afternoon": afternoon,
        "booking": make_offer(db, alice, morning, OfferStatus.ACCEPTED),
        "open": make_offer(db, alice, afternoon),
        "done": make_offer(db, alice, last_week, OfferStatus.ACCEPTED),
    }


def _review(db, volunteer, kind=ReviewKind.TRIGGERED, clearance=None) -> VettingReview:
    review = VettingReview(
        volunteer_id=volunteer.id,
        kind=kind,
        clearance_id=clearance.id if clearance else None,
        due_on=london_today() + dt.timedelta(days=28),
    )
    db.add(review)
    db.commit()
    return review


def _only_clearance(db, volunteer) -> Clearance:
    return db.scalars(select(Clearance).where(Clearance.volunteer_id == volunteer.id)).one()


def _mail(smtp) -> list[tuple[str, str, str]]:
    """(to, subject, body) of every message received so far."""
    out = []
    for envelope in smtp.messages:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        out += [(to, parsed["Subject"], body(envelope)) for to in envelope.rcpt_tos]
    return out


def _to(smtp, address: str) -> list[tuple[str, str]]:
    return [(subject, text) for to, subject, text in _mail(smtp) if to == address]


def _about_her_places(smtp, w) -> list[tuple[str, str]]:
    """Alice's emails about her two places (the vetting team's own letters about a decision are not ours)."""
    titles = (w["morning"].title, w["afternoon"].title)
    return sorted((subject, text) for subject, text in _to(smtp, w["alice"].user.email) if subject.endswith(titles))


def _offers_of(db, item) -> dict[str, OfferStatus]:
    """Volunteer's name → their offer's status, for one request."""
    db.expire_all()
    return {
        offer.volunteer.user.full_name: offer.status
        for offer in db.scalars(select(Offer).where(Offer.request_id == item.id).order_by(Offer.id))
    }


def _assert_withdrawn_and_offered_again(db, smtp, w, *, reason: str) -> None:
    """Both of Alice's future places withdrawn (the one already done kept), each offered to Bogdan, the
    sergeant told twice, and Alice told in plain words about each."""
    db.expire_all()
    for key in ("booking", "open"):
        offer = db.get(Offer, w[key].id)
        assert offer.status is OfferStatus.WITHDRAWN, key
        assert offer.closed_reason == reason
    assert db.get(Offer, w["done"].id).status is OfferStatus.ACCEPTED  # what is done is done
    for item in ("morning", "afternoon"):
        assert _offers_of(db, w[item]) == {"Alice Adeyemi": OfferStatus.WITHDRAWN, "Bogdan Nowak": OfferStatus.OFFERED}
        assert db.get(SupportRequest, w[item].id).status is RequestStatus.MATCHED

    sergeant_mail = _to(smtp, w["sergeant"].email)
    assert sorted(subject for subject, _ in sergeant_mail) == [
        "Volunteer no longer available: Advice after a romance scam",
        "Volunteer no longer available: Visit after a phishing fraud",
    ]
    for _, text in sergeant_mail:
        assert "Alice Adeyemi is no longer available for this request" in text
        assert "The place is being offered to someone else now" in text
        assert not any(word in text.lower() for word in (*VETTING_DETAIL, "clearance", "vetting"))
    assert len(_to(smtp, w["bogdan"].user.email)) == 2  # his two new offers
    alice_mail = _about_her_places(smtp, w)
    assert sorted(subject for subject, _ in alice_mail) == [
        "Offer withdrawn: Advice after a romance scam",
        "You are no longer booked: Visit after a phishing fraud",
    ]
    for subject, text in alice_mail:
        assert text.startswith("Dear Alice Adeyemi,")
        if subject.startswith("You are no longer booked"):
            assert "You are no longer booked for this, so please do not go:" in text
        else:
            assert "This offer is no longer open to you, so you cannot accept it:" in text
        assert "you do not need to do anything" in text
        assert not any(word in text.lower() for word in VETTING_DETAIL)


# ---- The accept -------------------------------------------------------------------------------------


def test_an_accept_checks_eligibility_again_and_the_place_goes_to_someone_else_at_once(app, db, smtp):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx])
    # Carol's clearance runs out the day before the visit; nothing has lapsed it yet (the sweep has not run).
    carol = _ready(db, kx, "Carol Jones", expires=DAY - dt.timedelta(days=1))
    _ready(db, wards["belsize"], "Bogdan Nowak")
    item = make_request(db, kx, start=AT_2PM, title="Advice after a romance scam", created_by_id=sergeant.id)
    offer = make_offer(db, carol, item)

    client = volunteer_client(app, carol)
    response = client.submit(f"/offers/{offer.id}/accept", {}, token_from=f"/offers/{offer.id}")
    assert response.status_code == 302 and response.location == f"/offers/{offer.id}"
    page = client.get(response.location).soup
    text = " ".join(page.get_text().split())
    assert "There is a problem This offer is no longer open to you." in text
    assert "Status No longer open to you" in text
    assert "you are booked" not in text and "Accept the offer" not in page.select_one("main").get_text()
    assert not any(word in text.lower() for word in ("clearance", "vetting", "eligible", "expired"))

    db.expire_all()
    closed = db.get(Offer, offer.id)
    assert closed.status is OfferStatus.WITHDRAWN
    assert closed.closed_reason == "no longer eligible: no_clearance"
    assert _offers_of(db, item) == {"Carol Jones": OfferStatus.WITHDRAWN, "Bogdan Nowak": OfferStatus.OFFERED}
    assert db.get(SupportRequest, item.id).status is RequestStatus.MATCHED
    ((subject, _),) = _to(smtp, sergeant.email)
    assert subject == "Volunteer no longer available: Advice after a romance scam"
    assert _to(smtp, carol.user.email) == []  # she read it on the page

    # Pressing Accept again (another tab) says the same and follows up nothing twice.
    again = client.submit(f"/offers/{offer.id}/accept", {}, token_from="/")
    assert "This offer is no longer open to you." in client.get(again.location).soup.get_text()
    assert len(smtp.messages) == 2  # the sergeant's, and Bogdan's new offer


def test_an_eligible_volunteer_still_books(app, db):
    w = _world(db)
    client = volunteer_client(app, w["alice"])
    response = client.submit(f"/offers/{w['open'].id}/accept", {}, token_from=f"/offers/{w['open'].id}")
    assert "you are booked for Advice after a romance scam" in client.get(response.location).soup.get_text()
    db.expire_all()
    assert db.get(Offer, w["open"].id).status is OfferStatus.ACCEPTED


# ---- Events that end eligibility ---------------------------------------------------------------------


def test_a_suspension_withdraws_offers_and_bookings_at_once_without_the_sweep(app, db, smtp):
    w = _world(db)
    clearance = _only_clearance(db, w["alice"])
    review = _review(db, w["alice"])
    alice = volunteer_client(app, w["alice"])
    assert "Accept the offer" in alice.get(f"/offers/{w['open'].id}").soup.get_text()

    officer(app, db).submit(
        f"/vetting/reviews/{review.id}/clearances/{clearance.id}/suspend",
        {"reason": "Charged with theft: suspended pending the outcome"},
        token_from=f"/vetting/reviews/{review.id}",
    )

    db.expire_all()
    assert db.get(Clearance, clearance.id).state is ClearanceState.SUSPENDED
    _assert_withdrawn_and_offered_again(db, smtp, w, reason="no longer eligible: no_clearance")
    (_, text), _ = _about_her_places(smtp, w)
    assert "Your vetting does not cover this task on that day at the moment." in text

    # The offer page she had open no longer books her; her home page no longer lists the booking.
    response = alice.submit(f"/offers/{w['open'].id}/accept", {}, token_from="/")
    assert "This offer is no longer open to you." in alice.get(response.location).soup.get_text()
    home = " ".join(alice.get("/").soup.get_text().split())
    assert "Visit after a phishing fraud" not in home and "Advice after a romance scam" not in home

    # The sergeant reads "No longer available" and who has been offered the place since, and nothing more.
    sergeant = signed_in(app, w["sergeant"])
    page = " ".join(sergeant.get(f"/requests/{w['morning'].id}").soup.get_text().split())
    assert "Alice Adeyemi No longer available" in page and "Bogdan Nowak Waiting for an answer" in page
    assert not any(word in page.lower() for word in (*VETTING_DETAIL, "clearance"))


def test_a_withdrawal_withdraws_only_once_a_second_officer_confirms_it(app, db, smtp):
    w = _world(db)
    clearance = _only_clearance(db, w["alice"])
    review = _review(db, w["alice"])
    first, second = officer(app, db), officer(app, db)
    first.submit(
        f"/vetting/reviews/{review.id}/clearances/{clearance.id}/withdraw",
        {"reason": "Conviction for theft"},
        token_from=f"/vetting/reviews/{review.id}",
    )
    db.expire_all()
    assert {db.get(Offer, w[k].id).status for k in ("booking", "open")} == {OfferStatus.ACCEPTED, OfferStatus.OFFERED}
    assert smtp.messages == []

    second.submit(f"/vetting/reviews/{review.id}/confirm", {}, token_from=f"/vetting/reviews/{review.id}")
    db.expire_all()
    assert db.get(Clearance, clearance.id).state is ClearanceState.WITHDRAWN
    _assert_withdrawn_and_offered_again(db, smtp, w, reason="no longer eligible: no_clearance")


def test_a_restriction_added_at_renewal_withdraws_only_the_task_it_rules_out(app, db, smtp):
    w = _world(db)
    old = _only_clearance(db, w["alice"])
    # Alice also helps a business after a cyber attack that morning: the restriction does not touch it.
    business = make_request(
        db,
        w["wards"]["kings_cross"],
        start=AT_10AM + dt.timedelta(days=1),
        title="Ransomware recovery visit",
        task_type_code="business_cyber_visit",
        created_by_id=w["sergeant"].id,
    )
    kept = make_offer(db, w["alice"], business, OfferStatus.ACCEPTED)
    review = _review(db, w["alice"], ReviewKind.RENEWAL, old)
    officer(app, db).submit(
        f"/vetting/reviews/{review.id}",
        {
            "outcome": "grant_with_restrictions",
            "type_code": "NPPV2F",
            **date_fields("valid_from", london_today()),
            "restrictions": ["cyber_victim_visit"],
            "reason": "Renewed; no home visits while the complaint is looked into",
        },
    )
    db.expire_all()
    assert db.get(Clearance, old.id).state is ClearanceState.RENEWED
    _assert_withdrawn_and_offered_again(db, smtp, w, reason="no longer eligible: no_clearance")
    assert db.get(Offer, kept.id).status is OfferStatus.ACCEPTED


def test_a_lapse_in_the_sweep_withdraws_in_the_sweeps_own_transaction(app, db, smtp):
    w = _world(db)
    clearance = _only_clearance(db, w["alice"])
    clearance.expires_on = london_today() - dt.timedelta(days=1)
    db.commit()

    result = app.test_cli_runner().invoke(args=["vetting", "sweep"])
    assert result.exit_code == 0, result.output
    assert "1 lapsed" in result.output
    # The lapse itself withdrew them: the nightly safety net after it finds nothing more.
    assert "0 offers withdrawn (no longer eligible)." in result.output
    db.expire_all()
    assert db.get(Clearance, clearance.id).state is ClearanceState.LAPSED
    _assert_withdrawn_and_offered_again(db, smtp, w, reason="no longer eligible: no_clearance")


def test_editing_a_task_types_policy_withdraws_whoever_no_longer_qualifies(app, db, smtp):
    w = _world(db)
    # Bogdan holds NPPV3 as well, so he still qualifies once visits need it.
    db.add(
        Clearance(
            volunteer_id=w["bogdan"].id,
            type_code="NPPV3",
            state=ClearanceState.GRANTED,
            valid_from=london_today() - dt.timedelta(days=30),
            expires_on=london_today() + dt.timedelta(days=400),
        )
    )
    db.commit()
    coordinator = signed_in(app, make_user(db, Role.COORDINATOR))
    form = coordinator.get("/vetting/task-types/cyber_victim_visit").soup.select_one("main form")
    data = {tag["name"]: tag.get("value", "") for tag in form.select("input[type=text], input[type=hidden]")}
    data |= {tag["name"]: tag.get_text() for tag in form.select("textarea")}
    data |= {tag["name"]: tag["value"] for tag in form.select("input[type=radio][checked]")}
    data |= {
        tag["name"]: (tag.select_one("option[selected]") or {"value": ""})["value"] for tag in form.select("select")
    }
    data["clearances"] = "NPPV3"
    response = coordinator.post("/vetting/task-types/cyber_victim_visit", data=data)
    assert response.status_code == 302, response.soup.select_one(".govuk-error-summary")

    _assert_withdrawn_and_offered_again(db, smtp, w, reason="no longer eligible: no_clearance")
    (_, text), _ = _about_her_places(smtp, w)
    assert "Your vetting does not cover this task on that day at the moment." in text


def test_a_disabled_account_is_withdrawn_at_once_and_never_offered_again(app, db, smtp):
    w = _world(db)
    coordinator = signed_in(app, make_user(db, Role.COORDINATOR))
    response = coordinator.submit(f"/accounts/{w['alice'].user.id}/disable", {}, token_from="/accounts")
    assert response.status_code == 302

    _assert_withdrawn_and_offered_again(db, smtp, w, reason="no longer eligible: account_disabled")
    (_, text), _ = _about_her_places(smtp, w)
    assert "Your account with us has been closed." in text

    # The matcher never reads her again: she is not a candidate, so no funnel counts her.
    week_start, week_end = london_week(AT_10AM)
    candidates = {c.id for c in load_volunteers(db, week_start=week_start, week_end=week_end)}
    assert w["bogdan"].id in candidates and w["alice"].id not in candidates
    later = make_request(
        db, w["wards"]["kings_cross"], start=AT_10AM + dt.timedelta(days=1), created_by_id=w["sergeant"].id
    )
    sergeant = signed_in(app, w["sergeant"])
    sergeant.submit(f"/requests/{later.id}/match", {}, token_from=f"/requests/{later.id}")
    assert _offers_of(db, later) == {"Bogdan Nowak": OfferStatus.OFFERED}


def test_a_paused_volunteer_is_withdrawn_when_the_change_is_reported(app, db, smtp):
    """No page pauses a volunteer yet; whatever use case does must report it through the seam."""
    w = _world(db)
    with app.app_context(), session_factory(app)() as session:
        session.get(type(w["alice"]), w["alice"].id).status = VolunteerStatus.PAUSED
        for hook in seams(app).eligibility_changed:
            hook(session, Affected(volunteer_ids=frozenset({w["alice"].id})), utcnow())
        session.commit()
    _assert_withdrawn_and_offered_again(db, smtp, w, reason="no longer eligible: not_active")
    (_, text), _ = _about_her_places(smtp, w)
    assert "Your volunteering is paused or has ended." in text


def test_an_event_rolled_back_withdraws_nothing_and_tells_no_one(app, db, smtp):
    w = _world(db)
    clearance_id = _only_clearance(db, w["alice"]).id
    affected = Affected(volunteer_ids=frozenset({w["alice"].id}))
    with app.app_context(), session_factory(app)() as session:
        session.get(Clearance, clearance_id).state = ClearanceState.SUSPENDED
        for hook in seams(app).eligibility_changed:
            hook(session, affected, utcnow())
        # Withdrawn inside the event's transaction...
        assert session.get(Offer, w["booking"].id).status is OfferStatus.WITHDRAWN
        session.rollback()
        # ...and a later commit of the same session owes nothing for the event that was undone.
        session.commit()
    db.expire_all()
    assert db.get(Clearance, clearance_id).state is ClearanceState.GRANTED
    assert db.get(Offer, w["booking"].id).status is OfferStatus.ACCEPTED
    assert db.get(Offer, w["open"].id).status is OfferStatus.OFFERED
    assert _offers_of(db, w["morning"]) == {"Alice Adeyemi": OfferStatus.ACCEPTED}
    assert smtp.messages == []

    # An event that changes nothing for anyone withdraws nothing either.
    with app.app_context(), session_factory(app)() as session:
        for hook in seams(app).eligibility_changed:
            hook(session, affected, utcnow())
            hook(session, Affected(), utcnow())
        session.commit()
    db.expire_all()
    assert db.get(Offer, w["booking"].id).status is OfferStatus.ACCEPTED
    assert smtp.messages == []


def test_a_coordinator_pausing_a_volunteer_withdraws_their_work_at_once(app, db, smtp):
    w = _world(db)
    coordinator = signed_in(app, make_user(db, Role.COORDINATOR))
    page = f"/volunteers/{w['alice'].id}/status"
    coordinator.submit(page, {"status": "paused", "reason": "Asked to pause while studying", "version": "1"})
    db.expire_all()
    assert db.get(type(w["alice"]), w["alice"].id).status is VolunteerStatus.PAUSED
    _assert_withdrawn_and_offered_again(db, smtp, w, reason="no longer eligible: not_active")


def test_a_coordinator_recording_that_a_volunteer_left_ends_their_clearances(app, db, smtp):
    w = _world(db)
    coordinator = signed_in(app, make_user(db, Role.COORDINATOR))
    # Leaving is confirmed on a second page (issue #19): the confirmation's button posts confirm=yes.
    form = {"status": "left", "reason": "Moved away"}
    coordinator.submit(f"/volunteers/{w['alice'].id}/status", form)
    db.expire_all()
    assert db.get(type(w["alice"]), w["alice"].id).status is not VolunteerStatus.LEFT
    coordinator.submit(f"/volunteers/{w['alice'].id}/status", {**form, "confirm": "yes"})
    db.expire_all()
    assert db.get(type(w["alice"]), w["alice"].id).status is VolunteerStatus.LEFT
    assert _only_clearance(db, w["alice"]).state is ClearanceState.NO_LONGER_NEEDED
    _assert_withdrawn_and_offered_again(db, smtp, w, reason="no longer eligible: not_active")
    # Leaving is final here: someone who comes back applies again.
    response = coordinator.submit(f"/volunteers/{w['alice'].id}/status", {"status": "active", "reason": "Back"})
    assert "they apply again" in response.get_data(as_text=True)


def test_the_status_page_reports_every_bad_input_by_its_field_and_keeps_what_was_typed(app, db):
    w = _world(db)
    coordinator = signed_in(app, make_user(db, Role.COORDINATOR))
    page = f"/volunteers/{w['alice'].id}/status"
    for data, field, message in (
        ({"status": "", "reason": "x"}, "status", "Choose the volunteer's status"),
        ({"status": "applied", "reason": "x"}, "status", "Choose the volunteer's status"),
        ({"status": "paused", "reason": ""}, "reason", "Enter why the status is changing"),
        ({"status": "paused", "reason": "x" * 10_000}, "reason", "500 characters or fewer"),
        ({"status": "active", "reason": "Already active"}, "status", "already active"),
    ):
        soup = check_page(coordinator.submit(page, data))
        assert message in error_messages(soup)[field]
        if data["reason"]:
            assert soup.select_one("textarea[name=reason]").get_text() == data["reason"]
    db.expire_all()
    assert db.get(type(w["alice"]), w["alice"].id).status is VolunteerStatus.ACTIVE
