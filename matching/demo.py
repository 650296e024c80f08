"""Demo support requests: each demo sergeant has a few open requests over the next two weeks.

Titles and descriptions are the kind a sergeant writes, and carry no personal details.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.auth.models import Role, User, sergeant_wards
from core.db import session_factory, utcnow
from core.geography.models import Borough, Ward
from core.timeutil import london_to_utc, london_today
from matching.models import Offer, OfferStatus, Priority, RequestSkill, RequestStatus, RunScope, SupportRequest
from vetting.catalogue import TASK_POLICIES_BY_CODE
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ConflictReview, VettingReview
from volunteers.models import (
    AvailabilitySlot,
    BlockedPeriod,
    ConflictDeclaration,
    OccupationCategory,
    TaskPreference,
    Volunteer,
    VolunteerKind,
    VolunteerSkill,
    VolunteerStatus,
    WorkAdjustment,
)
from volunteers.skills import PatrolStatus, SkillLevel

# task type → (title, description, organisation or "", when) to choose from; weights say how common each task
# is. Words that name a day or a season are filled in from the request's date ({weekday}, {event} / {Event}),
# so a Friday market is never "the Saturday market" nor a December fete a summer one; ``when`` is EVENING for
# work the text says is in the evening and SCHOOL for work in a school day, and the request is timed to match.
EVENING, SCHOOL = "evening", "school"
_TEMPLATES: dict[str, list[tuple[str, str, str, str]]] = {
    "cyber_victim_visit": [
        (
            "Advice visit after a romance scam",
            "An older resident lost savings to an online romance scam. Explain "
            "what happened, help secure their email and bank log-ins, and talk through reporting.",
            "",
            "",
        ),
        (
            "Online blackmail: safety advice visit",
            "A resident is being blackmailed online. Reassure them, "
            "explain how to report to the platforms and how to lock down their accounts.",
            "",
            "",
        ),
        (
            "Hacked social media account",
            "A resident's accounts were taken over and used to scam friends. Help "
            "recover them and set up two-step verification.",
            "",
            "",
        ),
    ],
    "business_cyber_visit": [
        (
            "Ransomware recovery visit",
            "A small business had its files encrypted. Help them understand their "
            "options, preserve evidence and report to Action Fraud.",
            "Riverside Dental Practice",
            "",
        ),
        (
            "Invoice fraud follow-up",
            "A local shop paid a fake invoice after its email was compromised. Walk "
            "through what happened and how to check payment requests.",
            "High Street Traders Association",
            "",
        ),
        (
            "Cyber security talk for local businesses",
            "Short talk and questions on phishing and backups at the business forum.",
            "Camden Business Forum",
            "",
        ),
    ],
    "mental_health_escort": [
        (
            "Escort to a place of safety",
            "Planned escort of a person in mental-health crisis to hospital, with "
            "the ward officer. The care team will meet you there.",
            "",
            "",
        ),
        ("Hospital escort after assessment", "Accompany a person from an assessment to an inpatient unit.", "", ""),
    ],
    "domestic_abuse_support": [
        (
            "Follow-up visit with the officer in the case",
            "Support a repeat victim at a follow-up visit; the "
            "officer in the case leads. Safety planning and referral to local services.",
            "",
            "",
        ),
        (
            "Support at a safety-planning meeting",
            "Sit in with the officer in the case and the IDVA service to agree a safety plan.",
            "Solace Women's Aid",
            "",
        ),
    ],
    "youth_schools_liaison": [
        (
            "Knife-crime awareness session",
            "Year 9 assembly and workshop on knife crime and staying safe on the way home.",
            "St Mary's Academy",
            SCHOOL,
        ),
        (
            "Youth club drop-in",
            "Evening drop-in at the youth club: meet young people and talk about online safety.",
            "Northside Youth Club",
            EVENING,
        ),
        (
            "Online safety talk for parents",
            "Evening talk for parents on apps, grooming and reporting.",
            "Greenfield Primary School",
            EVENING,
        ),
    ],
    "digital_evidence_triage": [
        (
            "Triage of seized phone downloads",
            "Sort and summarise material from two phone downloads for a burglary series. Secure laptop provided.",
            "",
            "",
        ),
        (
            "Review doorbell and CCTV footage",
            "Go through submitted footage for a vehicle crime series and note times and vehicles seen.",
            "",
            "",
        ),
    ],
    "public_event_support": [
        (
            "{Event}: reassurance and lost-child point",
            "Stewarding and reassurance patrols at the ward's {event}, and staffing the lost-child point.",
            "Friends of the Park",
            "",
        ),
        (
            "Farmers' market reassurance",
            "Visible presence and crime-prevention advice at the {weekday} market.",
            "",
            "",
        ),
        (
            "Community festival support",
            "Directions, reassurance and a lost-child point at the festival.",
            "Community Festival Committee",
            "",
        ),
    ],
    "ct_digital_support": [
        (
            "Open-source research for CT officers",
            "Research open sources on a list of online groups for the counter-terrorism team, on police premises.",
            "",
            "",
        ),
    ],
    # Desk roles (issue #23): seated work a police support volunteer with a disability can take.
    "footage_triage": [
        (
            "Doorbell footage after a burglary",
            "Watch the doorbell and CCTV clips neighbours sent in and log every sighting, with the time, for the "
            "officer in the case.",
            "",
            "",
        ),
        (
            "Shop CCTV after a run of thefts",
            "Go through a week of the shop's CCTV and log when the same people come in.",
            "",
            "",
        ),
    ],
    "intelligence_collation": [
        (
            "Briefing on the ward's priorities",
            "Collate this month's community reports on drug dealing and antisocial behaviour into a briefing for "
            "the ward panel meeting, at the station.",
            "",
            "",
        ),
    ],
    "mh_hospital_wait": [
        (
            "A&E wait with a person in crisis",
            "Stay with a person in mental-health crisis waiting for assessment in A&E, so the officers can go "
            "back to the ward.",
            "",
            "",
        ),
    ],
    "online_engagement": [
        (
            "Online ward meeting",
            "Host the ward's online meeting on {weekday} evening: take residents' questions and note what to "
            "pass to the team.",
            "",
            EVENING,
        ),
    ],
}
# The ward's seasonal event by month: a fete is a summer thing, a December one is a winter fair.
_SEASONAL_EVENT = {
    **dict.fromkeys((3, 4, 5), "spring fair"),
    **dict.fromkeys((6, 7, 8), "summer fete"),
    **dict.fromkeys((9, 10, 11), "autumn fair"),
    **dict.fromkeys((12, 1, 2), "winter fair"),
}
_WEIGHTS = {
    "cyber_victim_visit": 5,
    "business_cyber_visit": 3,
    "mental_health_escort": 2,
    "domestic_abuse_support": 3,
    "youth_schools_liaison": 4,
    "digital_evidence_triage": 2,
    "public_event_support": 2,
    "ct_digital_support": 1,
    "footage_triage": 2,
    "intelligence_collation": 1,
    "mh_hospital_wait": 2,
    "online_engagement": 1,
}
_LANGUAGES = ["lang_pl", "lang_bn", "lang_so", "lang_tr", "lang_ur", "lang_ar", "bsl"]


def load_requests(session: Session, rng: random.Random, today: dt.date) -> int:
    """Give each demo sergeant 3 to 8 open requests over the next two weeks. Returns how many."""
    links = session.execute(
        select(sergeant_wards.c.user_id, sergeant_wards.c.ward_id)
        .join(User, User.id == sergeant_wards.c.user_id)
        .where(User.role == Role.SERGEANT)
        .order_by(sergeant_wards.c.user_id, sergeant_wards.c.ward_id)
    ).all()
    wards_by_sergeant: dict[int, list[int]] = {}
    for user_id, ward_id in links:
        wards_by_sergeant.setdefault(user_id, []).append(ward_id)
    codes = list(_WEIGHTS)
    requests = []
    for user_id, ward_ids in wards_by_sergeant.items():
        for _ in range(rng.randint(3, 8)):
            code = rng.choices(codes, weights=[_WEIGHTS[c] for c in codes])[0]
            requests.append(_request(rng, today, user_id, rng.choice(ward_ids), code))
    session.add_all(requests)
    session.flush()
    return len(requests)


def load_city_week(session: Session, count: int, first_day: dt.date, seed: int = 2026) -> int:
    """Add ``count`` open requests over the week from ``first_day``, spread over every ward in proportion
    to nothing but chance, each raised by a sergeant of the ward's BCU — London's week at scale, for
    the end-to-end benchmark. Deterministic for a seed. Returns how many (commits)."""
    rng = random.Random(seed)
    wards = session.execute(
        select(Ward.id, Borough.bcu_id).join(Borough, Borough.id == Ward.borough_id).order_by(Ward.id)
    ).all()
    sergeants: dict[int, int] = {}
    for user_id, bcu_id in session.execute(
        select(sergeant_wards.c.user_id, Borough.bcu_id)
        .join(Ward, Ward.id == sergeant_wards.c.ward_id)
        .join(Borough, Borough.id == Ward.borough_id)
        .order_by(sergeant_wards.c.user_id)
    ):
        sergeants.setdefault(bcu_id, user_id)
    fallback = next(iter(sergeants.values()), None)
    if not wards or fallback is None:
        return 0
    codes = list(_WEIGHTS)
    made = []
    for _ in range(count):
        ward_id, bcu_id = rng.choice(wards)
        code = rng.choices(codes, weights=[_WEIGHTS[c] for c in codes])[0]
        made.append(
            _request(rng, first_day - dt.timedelta(days=1), sergeants.get(bcu_id, fallback), ward_id, code, days=7)
        )
    for start in range(0, len(made), 2000):
        session.add_all(made[start : start + 2000])
        session.flush()
    session.commit()
    return len(made)


def _request(
    rng: random.Random, today: dt.date, user_id: int, ward_id: int, code: str, days: int = 14
) -> SupportRequest:
    policy = TASK_POLICIES_BY_CODE[code]
    title, description, organisation, when = rng.choice(_TEMPLATES[code])
    day = today + dt.timedelta(days=rng.randint(1, days))
    if when == SCHOOL and day.weekday() >= 5:
        # Schools are shut at the weekend: the Friday before, or the Monday after if that Friday has passed.
        friday = day - dt.timedelta(days=day.weekday() - 4)
        day = friday if friday > today else day + dt.timedelta(days=7 - day.weekday())
    evening = code in ("youth_schools_liaison", "digital_evidence_triage") and rng.random() < 0.4
    if when:
        evening = when == EVENING
    event = _SEASONAL_EVENT[day.month]
    words = {"weekday": f"{day:%A}", "event": event, "Event": event.capitalize()}
    title, description = title.format(**words), description.format(**words)
    start_hour = rng.randint(17, 18) if evening else rng.randint(9, 15)
    start_minute = rng.choice([0, 0, 30])
    window_hours = rng.choice([2, 3, 4])
    duration = rng.choice([60, 90, 120]) if window_hours > 2 else rng.choice([60, 90])
    window_start = london_to_utc(day, dt.time(start_hour, start_minute))
    priority = rng.choices(list(Priority), weights=[6, 3, 1])[0]
    if code == "mental_health_escort":
        priority = Priority.URGENT if rng.random() < 0.5 else Priority.PRIORITY
    people = policy.default_team_size if code != "public_event_support" else rng.randint(3, 6)
    # Two adults (youth work): two volunteers, everyone or nobody (matching.teams.demo supervises one instead).
    two_adults = policy.team_rule.needs_two_volunteers(supervised=False)
    people = max(people, 2) if two_adults else people
    item = SupportRequest(
        ward_id=ward_id,
        remote=policy.remote_possible and rng.random() < 0.5,
        task_type_code=code,
        title=title,
        description=description,
        window_start=window_start,
        window_end=window_start + dt.timedelta(hours=window_hours),
        duration_minutes=duration,
        people_needed=people,
        all_or_nothing=policy.all_or_nothing or two_adults,
        priority=priority,
        warranted_only=policy.warranted_only,
        organisation=organisation,
        status=RequestStatus.OPEN,
        created_by_id=user_id,
    )
    if code in ("cyber_victim_visit", "domestic_abuse_support") and rng.random() < 0.3:
        item.skills = [RequestSkill(skill_code=rng.choice(_LANGUAGES))]
    return item


# ---- The demo sergeant's local team -------------------------------------------------------------

TEAM_SIZE = 5  # specials near the demo sergeant's wards, besides the named demo volunteer
_TEAM_PREFERENCES = ("mental_health_escort", "mh_hospital_wait")


def load_local_team(session: Session, rng: random.Random, today: dt.date) -> int:
    """Make the demo sergeant's wards a believable patch: the named demo volunteer and five specials live
    there, cleared and free most days, so the README's walk (raise a mental-health escort, match it, a
    volunteer accepts, a decline is re-matched) works on any demo size. Everyone else stays random.

    The specials are the first special constables after the named volunteer, re-homed, made counsellors
    (a job whose skill is mental-health first aid, so their profile reads true) who would like escorts and
    hospital waits, with RV and NPPV2 full clearances and daytime-to-evening availability; whatever they had
    of those is replaced, and any review, conflict review or block they had is dropped. The named volunteer
    keeps the job, skills and preferences of their profile. Returns how many.
    """
    tom = session.scalar(select(User.id).where(User.email == "sergeant@demo.example"))
    if tom is None:
        return 0
    ward_ids = list(
        session.scalars(
            select(sergeant_wards.c.ward_id).where(sergeant_wards.c.user_id == tom).order_by(sergeant_wards.c.ward_id)
        )
    )
    named = session.scalar(
        select(Volunteer.id).join(User, User.id == Volunteer.user_id).where(User.email == "volunteer@demo.example")
    )
    specials = list(
        session.scalars(
            select(Volunteer.id).where(Volunteer.kind == VolunteerKind.SPECIAL).order_by(Volunteer.id).limit(TEAM_SIZE)
        )
    )
    team = ([named] if named else []) + specials
    if not ward_ids or not team:
        return 0
    # Reviews before the clearances they may be about (a renewal's review points at the clearance it renews).
    for model in (VettingReview, Clearance, AvailabilitySlot, BlockedPeriod, ConflictDeclaration):
        session.execute(delete(model).where(model.volunteer_id.in_(team)))
    for model in (VolunteerSkill, TaskPreference, ConflictReview):
        session.execute(delete(model).where(model.volunteer_id.in_(specials)))
    valid_from = today - dt.timedelta(days=365)
    for n, volunteer_id in enumerate(team):
        special = volunteer_id != named
        session.execute(
            update(Volunteer)
            .where(Volunteer.id == volunteer_id)
            .values(
                status=VolunteerStatus.ACTIVE,
                home_ward_id=ward_ids[n % len(ward_ids)],
                travel_limit_km=10,
                weekly_hours_cap_minutes=16 * 60,
                adjustment=WorkAdjustment.NONE,
                military_reservist=False,
                **(
                    {
                        "kind": VolunteerKind.SPECIAL,
                        "occupation": "Counsellor",
                        "occupation_category": OccupationCategory.OTHER,
                        "employer": "Mind in Camden",
                        "warrant_number": f"SC{70000 + n}",
                        "patrol_status": PatrolStatus.QUALIFIED,
                        "monthly_commitment_minutes": 16 * 60,
                    }
                    if special
                    else {}
                ),
            )
        )
        if special:
            session.add(
                VolunteerSkill(
                    volunteer_id=volunteer_id,
                    skill_code="mh_first_aid",
                    level=SkillLevel.EXPERT if n % 2 else SkillLevel.PRACTITIONER,
                )
            )
            session.add_all(
                TaskPreference(volunteer_id=volunteer_id, task_type_code=code)
                for code in _TEAM_PREFERENCES
                if code in TASK_POLICIES_BY_CODE
            )
        for code, years in (("RV", 10), ("NPPV2F", 3)) if special else (("NPPV2F", 3),):
            session.add(
                Clearance(
                    volunteer_id=volunteer_id,
                    type_code=code,
                    state=ClearanceState.GRANTED,
                    valid_from=valid_from,
                    expires_on=valid_from + dt.timedelta(days=365 * years),
                )
            )
        session.add_all(
            AvailabilitySlot(volunteer_id=volunteer_id, weekday=day, start_minute=8 * 60, end_minute=22 * 60)
            for day in range(7)
        )
    session.flush()
    return len(team)


def match_demo_fortnight(app) -> str:
    """After the demo is loaded: match the next fortnight's requests as a coordinator would, then answer
    most offers (about two in three accepted, one in eight declined, the rest still waiting), so the
    pages show a force at work. No emails are sent. Deterministic for the same demo data."""
    from matching.offers.services import refresh_status
    from matching.runs.services import execute_run, queue_run, settings_from_config

    make_session = session_factory(app)
    today = london_today()
    with make_session() as session:
        run = queue_run(
            session,
            scope=RunScope.LONDON,
            first_day=today,
            last_day=today + dt.timedelta(days=13),
            today=today,
            trigger="demo",
        )
    done = execute_run(make_session, run.id, settings_from_config(app.config))
    now = utcnow()
    with make_session() as session:
        made = list(session.scalars(select(Offer).where(Offer.run_id == run.id).order_by(Offer.id)))
        named = session.scalar(
            select(Volunteer.id).join(User, User.id == Volunteer.user_id).where(User.email == "volunteer@demo.example")
        )
        for n, offer in enumerate(made):
            if offer.volunteer_id == named:
                continue  # the named volunteer's offers wait for an answer on their home page
            if n % 8 == 3:
                offer.status, offer.answered_at = OfferStatus.DECLINED, now
            elif n % 3 != 2:
                offer.status, offer.answered_at = OfferStatus.ACCEPTED, now
        session.flush()
        refresh_status(session, {o.request_id for o in made})
        session.commit()
        accepted = sum(o.status is OfferStatus.ACCEPTED for o in made)
    return f"Demo matching run: {done.places_offered} of {done.places_needed} places offered; {accepted} accepted."
