"""From stored records to the matcher's facts, and on through the funnel and the solver to proposals."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event

from core.auth.models import Role
from core.geography.models import Ward
from matching.domain import Conflict, DateException, WeeklySlot
from matching.facts import facts_for_match, load_requests, load_volunteers, london_week
from matching.funnel import funnel, is_free
from matching.models import Priority, RequestStatus
from matching.planning import build_instance, proposals
from matching.solver.plan import solve
from tests.helpers import KINGS_CROSS, make_kings_cross_and_belsize, make_request, make_user, make_volunteer
from vetting.catalogue import TASK_POLICIES_BY_CODE, SkillRequirement
from vetting.conflict_rules import Outcome as ConflictOutcome
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ConflictReview, TaskTypePolicy
from vetting.policy_text import edited_policy, policy_to_json
from vetting.rules import DateRange
from volunteers.models import (
    AvailabilityException,
    AvailabilitySlot,
    BlockedPeriod,
    BlockReason,
    ConflictCategory,
    ConflictDeclaration,
    EvidenceStatus,
    TaskPreference,
    VolunteerSkill,
    VolunteerStatus,
)
from volunteers.skills import SkillLevel

UTC = dt.UTC
THURSDAY = dt.date(2026, 12, 3)  # GMT: London time is UTC
AT_2PM = dt.datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
WEEK = london_week(AT_2PM)  # Monday 30 November to Monday 7 December 2026


def _volunteer(
    db,
    ward: Ward,
    *,
    limit=5,
    skills=(("cyber_victim_support", SkillLevel.PRACTITIONER),),
    expires=dt.date(2027, 6, 1),
    slots=((3, 9 * 60, 18 * 60),),
    status=VolunteerStatus.ACTIVE,
    **profile,
):
    """An active PSV cleared (NPPV2F) for cyber-crime victim visits, free on Thursdays 9am to 6pm."""
    volunteer = make_volunteer(db, home_ward_id=ward.id, travel_limit_km=limit, status=status, **profile)
    for code, level in skills:
        db.add(VolunteerSkill(volunteer_id=volunteer.id, skill_code=code, level=level))
    if expires is not None:
        db.add(
            Clearance(
                volunteer_id=volunteer.id,
                type_code="NPPV2F",
                state=ClearanceState.GRANTED,
                valid_from=dt.date(2024, 1, 1),
                expires_on=expires,
            )
        )
    for weekday, first, last in slots:
        db.add(AvailabilitySlot(volunteer_id=volunteer.id, weekday=weekday, start_minute=first, end_minute=last))
    db.commit()
    return volunteer


def _world(db) -> dict:
    """Two open requests on Thursday 3 December 2026 at 2pm and a cancelled one; nine volunteers.

    King's Cross (routine): Alice and Bogdan pass every rule; everyone else drops out at one rule.
    Belsize (urgent, Polish): only Bogdan speaks Polish. They overlap, so Bogdan can take one of them:
    the plan is Alice → King's Cross, Bogdan → Belsize.
    """
    wards = make_kings_cross_and_belsize(db)
    kx, belsize = wards["kings_cross"], wards["belsize"]
    people = {
        "alice": _volunteer(db, kx),
        "bogdan": _volunteer(
            db, belsize, skills=(("cyber_victim_support", SkillLevel.EXPERT), ("lang_pl", SkillLevel.AWARE))
        ),
        "carol": _volunteer(db, kx, expires=dt.date(2026, 12, 1)),  # clearance ran out on Tuesday
        "dan": _volunteer(db, kx, military_reservist=True),  # mobilised (below); his conflict review found none
        "erin": _volunteer(db, belsize, limit=2),  # 3.8 km from King's Cross with a 2 km limit
        "frank": _volunteer(db, kx, slots=((3, 9 * 60, 12 * 60),)),  # Thursday mornings only
        "gina": _volunteer(db, kx),  # a conflict with King's Cross (below)
        "hank": _volunteer(db, kx, status=VolunteerStatus.APPLIED),  # still with vetting
        "ivy": _volunteer(db, kx, status=VolunteerStatus.PAUSED),
    }
    db.add_all(
        [
            BlockedPeriod(
                volunteer_id=people["dan"].id,
                first_day=dt.date(2026, 12, 1),
                last_day=dt.date(2026, 12, 20),
                reason=BlockReason.MOBILISATION,
            ),
            ConflictReview(
                volunteer_id=people["dan"].id,
                outcome=ConflictOutcome.NO_CONFLICT,
                lines_of_work="military_reservist",
                notes="Reserve unit checked: no conflict.",
                recorded_by_id=make_user(db, Role.COORDINATOR).id,
            ),
            ConflictDeclaration(
                volunteer_id=people["gina"].id,
                category=ConflictCategory.PLACE,
                organisation="Home estate",
                ward_id=kx.id,
            ),
            # Verified professional evidence, and evidence still waiting for a coordinator.
            VolunteerSkill(
                volunteer_id=people["alice"].id,
                skill_code="paramedic",
                level=SkillLevel.EXPERT,
                evidence_status=EvidenceStatus.VERIFIED,
                evidence_expires_on=dt.date(2027, 3, 31),
            ),
            VolunteerSkill(
                volunteer_id=people["bogdan"].id,
                skill_code="rmn",
                level=SkillLevel.PRACTITIONER,
                evidence_status=EvidenceStatus.PENDING,
            ),
            TaskPreference(volunteer_id=people["alice"].id, task_type_code="cyber_victim_visit"),
        ]
    )
    db.commit()
    requests = {
        "kx": make_request(db, kx, AT_2PM),
        "belsize": make_request(
            db,
            belsize,
            AT_2PM,
            skills=("lang_pl", "safeguarding"),
            priority=Priority.URGENT,
            organisation="Belsize Dental",
        ),
        "cancelled": make_request(
            db,
            kx,
            AT_2PM,
            status=RequestStatus.CANCELLED,
            cancelled_at=AT_2PM - dt.timedelta(days=5),
            cancel_reason="Resolved by phone",
        ),
    }
    return {"wards": wards, "people": people, "requests": requests}


def test_open_requests_become_deployments_with_the_policy_in_force(db):
    world = _world(db)
    kx, belsize = world["requests"]["kx"], world["requests"]["belsize"]
    requests = {r.id: r for r in load_requests(db)}
    assert set(requests) == {kx.id, belsize.id}  # the cancelled one is not matched

    first = requests[kx.id]
    assert first.task == TASK_POLICIES_BY_CODE["cyber_victim_visit"]
    # The first slot of the window: its start, for the task's duration.
    assert (first.start, first.end, first.minutes) == (AT_2PM, AT_2PM + dt.timedelta(hours=1), 60)
    assert (first.ward_id, first.location, first.remote) == (world["wards"]["kings_cross"].id, KINGS_CROSS, False)
    assert (first.priority, first.extra_skills, first.organisation, first.people_needed) == (1, (), "", 1)

    second = requests[belsize.id]
    assert second.priority == 9 and second.organisation == "Belsize Dental"
    assert second.extra_skills == (
        SkillRequirement(("lang_pl",), SkillLevel.AWARE),
        SkillRequirement(("safeguarding",), SkillLevel.PRACTITIONER),
    )

    # Scope: by id (only the open ones), by ward, by time.
    assert [r.id for r in load_requests(db, [belsize.id, world["requests"]["cancelled"].id])] == [belsize.id]
    assert load_requests(db, []) == []
    assert [r.id for r in load_requests(db, scope_ward_ids={world["wards"]["belsize"].id})] == [belsize.id]
    assert load_requests(db, start=AT_2PM + dt.timedelta(minutes=1)) == []
    assert len(load_requests(db, start=WEEK[0], end=WEEK[1])) == 2

    # A coordinator's edit of the task type applies to requests already raised.
    stricter = edited_policy(
        TASK_POLICIES_BY_CODE["cyber_victim_visit"],
        required_skills=(SkillRequirement(("cyber_victim_support",), SkillLevel.EXPERT),),
    )
    db.add(TaskTypePolicy(code="cyber_victim_visit", policy_json=policy_to_json(stricter)))
    db.commit()
    assert load_requests(db, [kx.id])[0].task.required_skills == stricter.required_skills


def test_remote_requests_have_no_location_and_facts_for_match_then_keeps_far_volunteers(db):
    wards = make_kings_cross_and_belsize(db)
    far = _volunteer(db, wards["belsize"], limit=1, skills=(("digital_evidence_triage", SkillLevel.EXPERT),))
    item = make_request(db, wards["kings_cross"], AT_2PM, task_type_code="digital_evidence_triage", remote=True)
    (request,) = load_requests(db)
    assert (request.remote, request.location, request.ward_id) == (True, None, wards["kings_cross"].id)
    requests, volunteers = facts_for_match(db, [item.id])
    assert [v.id for v in volunteers] == [far.id]


def test_active_volunteers_carry_their_person_facts_availability_and_declarations(db):
    world = _world(db)
    people = world["people"]
    volunteers = {v.id: v for v in load_volunteers(db, week_start=WEEK[0], week_end=WEEK[1])}
    # Applicants and paused volunteers are never matched.
    assert set(volunteers) == {people[n].id for n in ("alice", "bogdan", "carol", "dan", "erin", "frank", "gina")}

    alice = volunteers[people["alice"].id]
    assert alice.home == KINGS_CROSS and alice.travel_limit_km == 5.0 and alice.weekly_cap_minutes == 8 * 60
    assert alice.weekly_slots == (WeeklySlot(3, 9 * 60, 18 * 60),)
    assert alice.preferred_task_types == frozenset({"cyber_victim_visit"})
    skills = {s.code: s for s in alice.person.skills}
    assert skills["paramedic"].evidence_required and skills["paramedic"].evidence_verified
    assert skills["paramedic"].evidence_expires_on == dt.date(2027, 3, 31)
    assert not skills["cyber_victim_support"].evidence_required
    bogdan = volunteers[people["bogdan"].id]
    rmn = {s.code: s for s in bogdan.person.skills}["rmn"]
    assert rmn.evidence_required and not rmn.evidence_verified
    # No offers or assignments exist yet.
    assert (alice.busy, alice.booked_minutes_in_week, alice.served_wards) == ((), 0, frozenset())

    # The expired clearance is there (it ran out during the week); the rules then refuse it.
    carol = volunteers[people["carol"].id]
    assert [(c.type_code, c.expires_on) for c in carol.person.clearances] == [("NPPV2F", dt.date(2026, 12, 1))]
    dan = volunteers[people["dan"].id]
    assert dan.person.mobilised == (DateRange(dt.date(2026, 12, 1), dt.date(2026, 12, 20)),)
    assert dan.blocked == dan.person.mobilised
    gina = volunteers[people["gina"].id]
    assert gina.conflicts == (Conflict("Home estate", world["wards"]["kings_cross"].id),)


def test_only_what_overlaps_the_week_is_loaded(db):
    wards = make_kings_cross_and_belsize(db)
    person = _volunteer(db, wards["kings_cross"], expires=None)
    db.add_all(
        [
            # An old clearance, long expired, and its renewal.
            Clearance(
                volunteer_id=person.id,
                type_code="NPPV2F",
                state=ClearanceState.RENEWED,
                valid_from=dt.date(2021, 1, 1),
                expires_on=dt.date(2024, 1, 1),
            ),
            Clearance(
                volunteer_id=person.id,
                type_code="NPPV2F",
                state=ClearanceState.GRANTED,
                valid_from=dt.date(2024, 1, 2),
                expires_on=dt.date(2027, 1, 1),
                restricted_from="ct_digital_support",
            ),
            Clearance(volunteer_id=person.id, type_code="NPPV3", state=ClearanceState.APPLIED),  # undated
            AvailabilityException(volunteer_id=person.id, on_date=dt.date(2026, 12, 2), available=False),
            AvailabilityException(
                volunteer_id=person.id,
                on_date=dt.date(2026, 12, 5),
                available=True,
                start_minute=10 * 60,
                end_minute=13 * 60,
            ),
            AvailabilityException(volunteer_id=person.id, on_date=dt.date(2026, 12, 15), available=False),
            BlockedPeriod(
                volunteer_id=person.id,
                first_day=dt.date(2026, 11, 20),
                last_day=dt.date(2026, 11, 30),
                reason=BlockReason.HOLIDAY,
            ),
            BlockedPeriod(
                volunteer_id=person.id,
                first_day=dt.date(2026, 12, 24),
                last_day=dt.date(2026, 12, 31),
                reason=BlockReason.HOLIDAY,
            ),
        ]
    )
    db.commit()
    (volunteer,) = load_volunteers(db, week_start=WEEK[0], week_end=WEEK[1])
    (clearance,) = volunteer.person.clearances
    assert clearance.expires_on == dt.date(2027, 1, 1) and clearance.restricted_from == {"ct_digital_support"}
    assert volunteer.exceptions == (
        DateException(dt.date(2026, 12, 2), False),
        DateException(dt.date(2026, 12, 5), True, 10 * 60, 13 * 60),
    )
    assert volunteer.blocked == (DateRange(dt.date(2026, 11, 20), dt.date(2026, 11, 30)),)
    assert volunteer.person.mobilised == ()  # a holiday is not a mobilisation


def test_slots_are_london_wall_clock_times_in_summer_too(db):
    wards = make_kings_cross_and_belsize(db)
    summer = dt.datetime(2026, 7, 1, 13, 0, tzinfo=UTC)  # Wednesday 2pm BST
    person = _volunteer(db, wards["kings_cross"], slots=((2, 14 * 60, 17 * 60),))
    item = make_request(db, wards["kings_cross"], start=summer)
    requests, volunteers = facts_for_match(db, [item.id])
    (request,), (volunteer,) = requests, volunteers
    assert volunteer.id == person.id and volunteer.weekly_slots == (WeeklySlot(2, 14 * 60, 17 * 60),)
    assert request.start == summer and is_free(volunteer, request.start, request.end)
    # An hour earlier (1pm London) is outside the slot.
    assert not is_free(volunteer, request.start - dt.timedelta(hours=1), request.end - dt.timedelta(hours=1))
    assert london_week(summer) == (
        dt.datetime(2026, 6, 28, 23, 0, tzinfo=UTC),
        dt.datetime(2026, 7, 5, 23, 0, tzinfo=UTC),
    )


def test_the_travel_pre_filter_leaves_out_only_those_no_requested_ward_is_within_reach_of(db):
    wards = make_kings_cross_and_belsize(db)
    near = _volunteer(db, wards["belsize"], limit=5)  # 3.8 km from King's Cross
    short = _volunteer(db, wards["belsize"], limit=2)
    homeless = make_volunteer(db, home_ward_id=None, status=VolunteerStatus.ACTIVE)
    kx = {wards["kings_cross"].id}

    def ids(**kwargs):
        return [v.id for v in load_volunteers(db, week_start=WEEK[0], week_end=WEEK[1], **kwargs)]

    assert ids() == [near.id, short.id, homeless.id]
    assert ids(ward_ids=kx) == [near.id]
    assert ids(ward_ids=kx, max_km=3) == []
    assert ids(ward_ids={wards["belsize"].id}) == [near.id, short.id]
    assert ids(ward_ids=set()) == []


def test_from_records_to_proposals(db):
    world = _world(db)
    people, stored = world["people"], world["requests"]
    requests, volunteers = facts_for_match(db, [r.id for r in stored.values()])
    assert [r.id for r in requests] == [stored["kx"].id, stored["belsize"].id]
    # Erin (3.8 km away, 2 km limit) is still loaded: Belsize, a requested ward, is her home.
    assert len(volunteers) == 7

    funnels = {r.id: funnel(r, volunteers) for r in requests}
    kx = funnels[stored["kx"].id]
    assert [(s.key, s.remaining) for s in kx.stages] == [
        ("all", 7),
        ("skills", 7),
        ("cleared", 6),
        ("status", 5),
        ("free", 4),
        ("travel", 3),
        ("hours", 3),
        ("conflicts", 2),
    ]
    assert sorted(c.volunteer_id for c in kx.candidates) == [people["alice"].id, people["bogdan"].id]
    belsize = funnels[stored["belsize"].id]
    # Polish and safeguarding: only Bogdan speaks Polish, and nobody has safeguarding at practitioner level.
    assert [(s.key, s.remaining) for s in belsize.stages][:2] == [("all", 7), ("skills", 0)]

    # Give Bogdan safeguarding: now he is the only candidate for Belsize.
    db.add(VolunteerSkill(volunteer_id=people["bogdan"].id, skill_code="safeguarding", level=SkillLevel.PRACTITIONER))
    db.commit()
    requests, volunteers = facts_for_match(db, [r.id for r in stored.values()])
    funnels = {r.id: funnel(r, volunteers) for r in requests}
    assert [c.volunteer_id for c in funnels[stored["belsize"].id].candidates] == [people["bogdan"].id]

    instance = build_instance(
        requests,
        funnels,
        capacity_minutes={v.id: v.weekly_cap_minutes - v.booked_minutes_in_week for v in volunteers},
        booked_minutes={v.id: v.booked_minutes_in_week for v in volunteers},
        travel_limits={v.id: v.travel_limit_km for v in volunteers},
    )
    assert (f"r{stored['kx'].id}", f"r{stored['belsize'].id}") in instance.clashes
    plan = solve(instance, time_limit=5)
    assert sorted(proposals(plan)) == [
        (stored["kx"].id, people["alice"].id),
        (stored["belsize"].id, people["bogdan"].id),
    ]


def _statements(engine, load) -> int:
    count = 0

    def counted(*_args):
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", counted)
    try:
        load()
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def _crowd(db, ward: Ward, n: int) -> None:
    for i in range(n):
        person = _volunteer(
            db, ward, skills=(("cyber_victim_support", SkillLevel.PRACTITIONER), ("lang_pl", SkillLevel.AWARE))
        )
        db.add_all(
            [
                AvailabilityException(
                    volunteer_id=person.id,
                    on_date=THURSDAY,
                    available=bool(i % 2),
                    start_minute=9 * 60 if i % 2 else None,
                    end_minute=12 * 60 if i % 2 else None,
                ),
                BlockedPeriod(volunteer_id=person.id, first_day=THURSDAY, last_day=THURSDAY, reason=BlockReason.OTHER),
                ConflictDeclaration(
                    volunteer_id=person.id, category=ConflictCategory.EMPLOYER, organisation=f"Firm {i}"
                ),
                TaskPreference(volunteer_id=person.id, task_type_code="cyber_victim_visit"),
            ]
        )
    db.commit()


def test_loading_costs_the_same_number_of_statements_for_6_or_60_volunteers(app, db):
    engine = app.extensions["db_engine"]
    wards = make_kings_cross_and_belsize(db)
    item_id, belsize_id = make_request(db, wards["kings_cross"], AT_2PM, skills=("lang_pl",)).id, wards["belsize"].id

    def load(**kwargs):
        loaded = load_volunteers(db, week_start=WEEK[0], week_end=WEEK[1], **kwargs)
        db.rollback()  # each measurement starts a fresh transaction
        return loaded

    _crowd(db, wards["kings_cross"], 6)
    few = _statements(engine, lambda: load()), _statements(engine, lambda: load(ward_ids={belsize_id}))
    few_match = _statements(engine, lambda: facts_for_match(db, [item_id]))
    db.rollback()
    _crowd(db, wards["kings_cross"], 54)
    assert len(load()) == 60
    many = _statements(engine, lambda: load()), _statements(engine, lambda: load(ward_ids={belsize_id}))
    many_match = _statements(engine, lambda: facts_for_match(db, [item_id]))
    assert many == few and many_match == few_match
    # One statement per table: volunteers, skills, clearances, blocked days, exceptions, slots, conflicts,
    # preferences, active offers, wards served (and the requested wards' centres when pre-filtering); and two
    # for conflict reviews (whose line of work needs one, and the latest reviews with their findings); the
    # ward panels they sit on (local first, issue #23); and their recent concerns (ranking, issue #20).
    assert few == (14, 15)
