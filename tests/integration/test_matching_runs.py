"""Matching runs, offers and answers: from stored requests to offers, accept/decline, expiry, re-match,
all-or-nothing saving, and the database refusing double bookings (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import func, select

from matching.models import MatchRun, Offer, OfferStatus, RequestStatus, RunRequest, RunScope, RunStatus
from matching.offers import services as offer_service
from matching.offers.services import Booking, DoubleBooking, book_offers
from matching.runs.services import (
    STALE_AFTER,
    STOPPED_MESSAGE,
    RunError,
    RunSettings,
    execute_run,
    expire_and_rematch,
    give_up_stale,
    queue_run,
    rematch,
)
from matching.solver.plan import solve
from tests.helpers import make_kings_cross_and_belsize, make_request
from tests.integration.test_match_facts import AT_2PM, THURSDAY, _volunteer, _world
from volunteers.models import VolunteerSkill
from volunteers.skills import SkillLevel

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # Tuesday morning before Thursday's requests
TODAY = NOW.date()
FAST = RunSettings(time_limit=5, offer_hours=24)


def _run(app, db, scope=RunScope.LONDON, now=NOW, **kwargs) -> MatchRun:
    run = queue_run(
        db,
        scope=scope,
        first_day=kwargs.pop("first_day", TODAY),
        last_day=kwargs.pop("last_day", THURSDAY),
        today=now.date(),
        trigger="cli",
        **kwargs,
    )
    sent = []
    done = execute_run(app.extensions["db_sessionmaker"], run.id, FAST, lambda session, ids: sent.extend(ids), now)
    done.sent = sent
    db.expire_all()
    return done


def _offers(db, request_id: int) -> list[Offer]:
    return list(db.scalars(select(Offer).where(Offer.request_id == request_id).order_by(Offer.id)))


def test_a_run_offers_each_request_to_the_best_volunteers_and_says_why(app, db):
    world = _world(db)
    people, requests = world["people"], world["requests"]
    db.add(VolunteerSkill(volunteer_id=people["bogdan"].id, skill_code="safeguarding", level=SkillLevel.PRACTITIONER))
    db.commit()
    run = _run(app, db)

    assert run.status is RunStatus.SUCCEEDED, run.error
    (kx_offer,) = _offers(db, requests["kx"].id)
    (belsize_offer,) = _offers(db, requests["belsize"].id)
    # Bogdan is the only one who speaks Polish, so the urgent Belsize visit is his; Alice takes King's Cross.
    assert (belsize_offer.volunteer_id, kx_offer.volunteer_id) == (people["bogdan"].id, people["alice"].id)
    assert kx_offer.status is OfferStatus.OFFERED and kx_offer.run_id == run.id
    assert kx_offer.starts_at == AT_2PM and kx_offer.ends_at == AT_2PM + dt.timedelta(hours=1)
    assert kx_offer.explanation.startswith("Cyber-crime victim support, practitioner; 0.0 km away")
    assert "asked for this kind of task" in kx_offer.explanation
    # The deadline: 24 hours (the setting), well before the task.
    assert kx_offer.respond_by == NOW + dt.timedelta(hours=24)
    assert sorted(run.sent) == sorted([kx_offer.id, belsize_offer.id])

    db.refresh(requests["kx"])
    assert requests["kx"].status is RequestStatus.MATCHED
    assert (run.requests_count, run.places_needed, run.places_offered, run.optimal) == (2, 2, 2, True)
    assert (run.coverage, run.coverage_bound) == (10, 10)  # routine 1 + urgent 9
    assert json.loads(run.by_priority) == {"urgent": [1, 1], "priority": [0, 0], "routine": [1, 1]}
    finding = db.get(RunRequest, (run.id, requests["kx"].id))
    assert finding.places_offered == 1 and finding.suggestion is None
    assert json.loads(finding.funnel)[0] == ["volunteers", 9 - 2]  # Hank (applied) and Ivy (paused) never count


def test_an_unfillable_request_keeps_its_funnel_and_what_would_fill_it(app, db):
    wards = make_kings_cross_and_belsize(db)
    _volunteer(db, wards["belsize"], limit=2)  # 3.8 km away with a 2 km limit
    item = make_request(db, wards["kings_cross"], AT_2PM)
    run = _run(app, db)
    assert run.places_offered == 0 and run.places_needed == 1
    finding = db.get(RunRequest, (run.id, item.id))
    assert [label for label, _ in json.loads(finding.funnel)][-3:] == [
        "within their travel limit",
        "within their weekly hours",
        "with no conflict of interest",
    ]
    assert finding.suggestion.startswith("The nearest eligible volunteer is 3.8 km away with a 2 km limit")
    db.refresh(item)
    assert item.status is RequestStatus.OPEN


def test_accepted_work_is_never_moved_and_a_second_run_only_fills_free_places(app, db):
    wards = make_kings_cross_and_belsize(db)
    alice = _volunteer(db, wards["kings_cross"])
    item = make_request(db, wards["kings_cross"], AT_2PM)
    _run(app, db)
    (offer,) = _offers(db, item.id)
    offer_service.answer(db, alice.user_id, offer.id, accept=True, now=NOW + dt.timedelta(hours=1))
    db.refresh(item)
    assert item.status is RequestStatus.FILLED

    # A better-placed volunteer arrives; the next run leaves Alice's accepted place alone.
    _volunteer(db, wards["kings_cross"], skills=(("cyber_victim_support", "expert"),))
    again = _run(app, db)
    assert (again.requests_count, again.places_offered) == (0, 0)
    assert [(o.volunteer_id, o.status) for o in _offers(db, item.id)] == [(alice.id, OfferStatus.ACCEPTED)]


def test_a_decline_reopens_the_place_and_the_re_match_offers_it_to_someone_else(app, db):
    wards = make_kings_cross_and_belsize(db)
    alice = _volunteer(db, wards["kings_cross"])
    bogdan = _volunteer(db, wards["belsize"])
    item = make_request(db, wards["kings_cross"], AT_2PM)
    _run(app, db)
    (first,) = _offers(db, item.id)
    assert first.volunteer_id == alice.id  # nearer
    offer_service.answer(db, alice.user_id, first.id, accept=False, now=NOW)
    db.refresh(item)
    assert item.status is RequestStatus.OPEN

    run = rematch(app.extensions["db_sessionmaker"], item.id, FAST, "decline", None, NOW)
    assert run.scope is RunScope.REQUEST and run.places_offered == 1
    db.expire_all()
    assert [(o.volunteer_id, o.status) for o in _offers(db, item.id)] == [
        (alice.id, OfferStatus.DECLINED),
        (bogdan.id, OfferStatus.OFFERED),
    ]
    # Alice is never offered it again, even when Bogdan declines too.
    second = _offers(db, item.id)[1]
    offer_service.answer(db, bogdan.user_id, second.id, accept=False, now=NOW)
    run = rematch(app.extensions["db_sessionmaker"], item.id, FAST, "decline", None, NOW)
    assert run.places_offered == 0
    assert json.loads(db.get(RunRequest, (run.id, item.id)).funnel)[0] == ["volunteers", 0]


def test_answers_are_checked(app, db):
    wards = make_kings_cross_and_belsize(db)
    alice = _volunteer(db, wards["kings_cross"])
    bogdan = _volunteer(db, wards["kings_cross"])
    item = make_request(db, wards["kings_cross"], AT_2PM)
    _run(app, db)
    (offer,) = _offers(db, item.id)
    other = bogdan if offer.volunteer_id == alice.id else alice
    owner = alice if other is bogdan else bogdan
    with pytest.raises(offer_service.OfferNotFound):
        offer_service.answer(db, other.user_id, offer.id, accept=True, now=NOW)
    with pytest.raises(offer_service.OfferError, match="time to answer"):
        offer_service.answer(db, owner.user_id, offer.id, accept=True, now=offer.respond_by)
    offer_service.answer(db, owner.user_id, offer.id, accept=True, now=NOW)
    with pytest.raises(offer_service.OfferError, match="already answered"):
        offer_service.answer(db, owner.user_id, offer.id, accept=False, now=NOW)


def test_unanswered_offers_expire_and_their_places_go_to_someone_else(app, db):
    wards = make_kings_cross_and_belsize(db)
    _volunteer(db, wards["kings_cross"])
    _volunteer(db, wards["belsize"])
    item = make_request(db, wards["kings_cross"], AT_2PM)
    _run(app, db)
    (first,) = _offers(db, item.id)
    later = first.respond_by + dt.timedelta(minutes=1)
    assert expire_and_rematch(app.extensions["db_sessionmaker"], FAST, None, later) == (1, 1)
    db.expire_all()
    statuses = [o.status for o in _offers(db, item.id)]
    assert statuses == [OfferStatus.EXPIRED, OfferStatus.OFFERED]
    # Idempotent: nothing more to expire.
    assert expire_and_rematch(app.extensions["db_sessionmaker"], FAST, None, later) == (0, 0)


def test_a_run_that_fails_midway_saves_nothing(app, db, monkeypatch):
    world = _world(db)

    def broken(session, request_ids):
        raise RuntimeError("disk full")

    monkeypatch.setattr("matching.runs.services.refresh_status", broken)  # after the offers are flushed
    run = _run(app, db)
    assert run.status is RunStatus.FAILED and "disk full" in run.error
    assert db.scalar(select(func.count(Offer.id))) == 0
    assert db.scalar(select(func.count()).select_from(RunRequest)) == 0
    db.refresh(world["requests"]["kx"])
    assert world["requests"]["kx"].status is RequestStatus.OPEN


def test_a_run_whose_worker_stopped_is_given_up_and_a_late_finish_is_not_saved(app, db, monkeypatch):
    world = _world(db)

    def queued(**times):
        run = queue_run(db, scope=RunScope.LONDON, first_day=TODAY, last_day=TODAY, today=TODAY, trigger="test")
        for name, value in times.items():
            setattr(run, name, value)
        return run

    minutes = dt.timedelta(minutes=1)
    # Claimed by a worker that then died: running, and silent for longer than STALE_AFTER.
    dead = queued(status=RunStatus.RUNNING, started_at=NOW - 40 * minutes, heartbeat_at=NOW - 16 * minutes)
    silent = queued(status=RunStatus.RUNNING, started_at=NOW - 16 * minutes)  # before any progress was written
    busy = queued(status=RunStatus.RUNNING, started_at=NOW - 40 * minutes, heartbeat_at=NOW - minutes)
    waiting = queued()
    db.commit()
    assert give_up_stale(db, NOW) == 2
    assert give_up_stale(db, NOW) == 0
    db.expire_all()
    assert [(r.status, r.error) for r in (dead, silent)] == [(RunStatus.FAILED, STOPPED_MESSAGE)] * 2
    assert dead.finished_at == NOW
    assert (busy.status, waiting.status) == (RunStatus.RUNNING, RunStatus.QUEUED)

    # A run given up while it was in fact still going (a very slow machine) keeps that word: its plan
    # is not saved when it finishes.
    def given_up_meanwhile(instance, **options):
        with app.extensions["db_sessionmaker"]() as other:
            give_up_stale(other, dt.datetime.now(dt.UTC) + 2 * STALE_AFTER)
        return solve(instance, **options)

    monkeypatch.setattr("matching.runs.services.solve", given_up_meanwhile)
    run = _run(app, db)
    assert run.status is RunStatus.FAILED and run.error == STOPPED_MESSAGE
    assert db.scalar(select(func.count(Offer.id))) == 0
    db.refresh(world["requests"]["kx"])
    assert world["requests"]["kx"].status is RequestStatus.OPEN


def test_progress_is_a_heartbeat(app, db):
    _world(db)
    run = _run(app, db)
    assert run.status is RunStatus.SUCCEEDED and run.started_at <= run.heartbeat_at <= run.finished_at


def test_queueing_checks_the_scope_and_the_days(app, db):
    with pytest.raises(RunError, match="today or later"):
        queue_run(
            db,
            scope=RunScope.LONDON,
            first_day=TODAY - dt.timedelta(days=1),
            last_day=TODAY,
            today=TODAY,
            trigger="cli",
        )
    with pytest.raises(RunError, match="same as or after"):
        queue_run(
            db,
            scope=RunScope.LONDON,
            first_day=TODAY,
            last_day=TODAY - dt.timedelta(days=1),
            today=TODAY,
            trigger="cli",
        )
    with pytest.raises(RunError, match="at most 31 days"):
        queue_run(
            db,
            scope=RunScope.LONDON,
            first_day=TODAY,
            last_day=TODAY + dt.timedelta(days=31),
            today=TODAY,
            trigger="cli",
        )
    with pytest.raises(RunError, match="Choose a ward"):
        queue_run(db, scope=RunScope.WARD, first_day=TODAY, last_day=TODAY, today=TODAY, trigger="cli", ward_id=999999)


def test_a_ward_run_matches_only_that_ward(app, db):
    world = _world(db)
    run = _run(app, db, scope=RunScope.WARD, ward_id=world["wards"]["belsize"].id)
    assert run.requests_count == 1
    assert db.scalar(select(func.count(Offer.id)).where(Offer.request_id == world["requests"]["kx"].id)) == 0


# ---- The database refuses double bookings -------------------------------------------------------


def _booking(request_id: int, volunteer_id: int, start: dt.datetime, minutes: int = 60) -> Booking:
    return Booking(
        request_id=request_id,
        volunteer_id=volunteer_id,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes),
        load_minutes=minutes,
        explanation="Test",
        respond_by=start - dt.timedelta(hours=2),
    )


def test_two_concurrent_bookings_of_one_volunteer_for_overlapping_times_exactly_one_succeeds(app, db):
    wards = make_kings_cross_and_belsize(db)
    alice = _volunteer(db, wards["kings_cross"])
    first = make_request(db, wards["kings_cross"], AT_2PM)
    second = make_request(db, wards["belsize"], start=AT_2PM + dt.timedelta(minutes=30))
    make_session = app.extensions["db_sessionmaker"]
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def book(request_id: int, start: dt.datetime) -> None:
        with make_session() as session:
            barrier.wait()
            try:
                book_offers(session, [_booking(request_id, alice.id, start)], run_id=None, now=NOW)
                session.commit()
                outcomes[request_id] = "booked"
            except DoubleBooking:
                session.rollback()
                outcomes[request_id] = "refused"

    threads = [
        threading.Thread(target=book, args=(first.id, AT_2PM)),
        threading.Thread(target=book, args=(second.id, AT_2PM + dt.timedelta(minutes=30))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["booked", "refused"]
    assert db.scalar(select(func.count(Offer.id)).where(Offer.volunteer_id == alice.id)) == 1


def test_a_large_batch_is_booked_by_copy_under_the_same_rules(app, db, monkeypatch):
    # A BCU's or London's run books by COPY on PostgreSQL (from offers.COPY_FROM offers; 2 here): the
    # ids come back in the bookings' order and the database still refuses a double booking.
    monkeypatch.setattr(offer_service, "COPY_FROM", 2)
    wards = make_kings_cross_and_belsize(db)
    alice, bob = _volunteer(db, wards["kings_cross"]), _volunteer(db, wards["kings_cross"])
    first = make_request(db, wards["kings_cross"], AT_2PM, people_needed=2)
    second = make_request(db, wards["kings_cross"], start=AT_2PM + dt.timedelta(hours=1))
    batch = [
        _booking(first.id, alice.id, AT_2PM),
        _booking(first.id, bob.id, AT_2PM),
        _booking(second.id, alice.id, AT_2PM + dt.timedelta(hours=1)),
    ]
    ids = book_offers(db, batch, run_id=None, now=NOW)
    db.commit()
    offers = [db.get(Offer, offer_id) for offer_id in ids]
    assert [(o.request_id, o.volunteer_id, o.starts_at, o.status, o.offered_at) for o in offers] == [
        (b.request_id, b.volunteer_id, b.starts_at, OfferStatus.OFFERED, NOW) for b in batch
    ]
    third = make_request(db, wards["belsize"], start=AT_2PM + dt.timedelta(minutes=30), people_needed=2)
    with pytest.raises(DoubleBooking):
        book_offers(
            db,
            [
                _booking(third.id, bob.id, AT_2PM + dt.timedelta(minutes=30)),
                _booking(third.id, alice.id, AT_2PM + dt.timedelta(minutes=30)),
            ],
            run_id=None,
            now=NOW,
        )
    db.rollback()
    assert db.scalar(select(func.count(Offer.id))) == 3


def test_back_to_back_bookings_are_allowed_and_closed_offers_free_the_time(app, db):
    wards = make_kings_cross_and_belsize(db)
    alice = _volunteer(db, wards["kings_cross"])
    first = make_request(db, wards["kings_cross"], AT_2PM)
    second = make_request(db, wards["kings_cross"], start=AT_2PM + dt.timedelta(hours=1))
    (offer_id,) = book_offers(db, [_booking(first.id, alice.id, AT_2PM)], run_id=None, now=NOW)
    book_offers(db, [_booking(second.id, alice.id, AT_2PM + dt.timedelta(hours=1))], run_id=None, now=NOW)
    db.commit()
    overlapping = make_request(db, wards["belsize"], start=AT_2PM + dt.timedelta(minutes=59))
    with pytest.raises(DoubleBooking):
        book_offers(db, [_booking(overlapping.id, alice.id, AT_2PM + dt.timedelta(minutes=59))], run_id=None, now=NOW)
    db.rollback()
    offer = db.get(Offer, offer_id)
    offer_service.close_offers(db, [offer], OfferStatus.CANCELLED, "test", NOW)
    db.commit()
    third = make_request(db, wards["belsize"], AT_2PM)
    book_offers(db, [_booking(third.id, alice.id, AT_2PM)], run_id=None, now=NOW)
    db.commit()
