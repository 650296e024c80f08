"""Demo support requests: each demo sergeant has a few open requests over the next two weeks.

Titles and descriptions are the kind a sergeant writes, and carry no personal details.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.models import Role, User, sergeant_wards
from core.timeutil import london_to_utc
from matching.models import Priority, RequestSkill, RequestStatus, SupportRequest
from vetting.catalogue import TASK_POLICIES_BY_CODE

# task type → (title, description, organisation or "") to choose from; weights say how common each task is.
_TEMPLATES: dict[str, list[tuple[str, str, str]]] = {
    "cyber_victim_visit": [
        ("Advice visit after a romance scam", "An older resident lost savings to an online romance scam. Explain "
         "what happened, help secure their email and bank log-ins, and talk through reporting.", ""),
        ("Online blackmail: safety advice visit", "A resident is being blackmailed online. Reassure them, "
         "explain how to report to the platforms and how to lock down their accounts.", ""),
        ("Hacked social media account", "A resident's accounts were taken over and used to scam friends. Help "
         "recover them and set up two-step verification.", ""),
    ],
    "business_cyber_visit": [
        ("Ransomware recovery visit", "A small business had its files encrypted. Help them understand their "
         "options, preserve evidence and report to Action Fraud.", "Riverside Dental Practice"),
        ("Invoice fraud follow-up", "A local shop paid a fake invoice after its email was compromised. Walk "
         "through what happened and how to check payment requests.", "High Street Traders Association"),
        ("Cyber security talk for local businesses", "Short talk and questions on phishing and backups at the "
         "business forum.", "Camden Business Forum"),
    ],
    "mental_health_escort": [
        ("Escort to a place of safety", "Planned escort of a person in mental-health crisis to hospital, with "
         "the ward officer. The care team will meet you there.", ""),
        ("Hospital escort after assessment", "Accompany a person from an assessment to an inpatient unit.", ""),
    ],
    "domestic_abuse_support": [
        ("Follow-up visit with the officer in the case", "Support a repeat victim at a follow-up visit; the "
         "officer in the case leads. Safety planning and referral to local services.", ""),
        ("Support at a safety-planning meeting", "Sit in with the officer in the case and the IDVA service to "
         "agree a safety plan.", "Solace Women's Aid"),
    ],
    "youth_schools_liaison": [
        ("Knife-crime awareness session", "Year 9 assembly and workshop on knife crime and staying safe on "
         "the way home.", "St Mary's Academy"),
        ("Youth club drop-in", "Evening drop-in at the youth club: meet young people and talk about "
         "online safety.", "Northside Youth Club"),
        ("Online safety talk for parents", "Evening talk for parents on apps, grooming and reporting.",
         "Greenfield Primary School"),
    ],
    "digital_evidence_triage": [
        ("Triage of seized phone downloads", "Sort and summarise material from two phone downloads for a "
         "burglary series. Secure laptop provided.", ""),
        ("Review doorbell and CCTV footage", "Go through submitted footage for a vehicle crime series and "
         "note times and vehicles seen.", ""),
    ],
    "public_event_support": [
        ("Summer fete: reassurance and lost-child point", "Stewarding and reassurance patrols at the ward's "
         "summer fete, and staffing the lost-child point.", "Friends of the Park"),
        ("Farmers' market reassurance", "Visible presence and crime-prevention advice at the Saturday "
         "market.", ""),
        ("Community festival support", "Directions, reassurance and a lost-child point at the festival.",
         "Community Festival Committee"),
    ],
    "ct_digital_support": [
        ("Open-source research for CT officers", "Research open sources on a list of online groups for the "
         "counter-terrorism team, on police premises.", ""),
    ],
}
_WEIGHTS = {
    "cyber_victim_visit": 5, "business_cyber_visit": 3, "mental_health_escort": 2, "domestic_abuse_support": 3,
    "youth_schools_liaison": 4, "digital_evidence_triage": 2, "public_event_support": 2, "ct_digital_support": 1,
}
_LANGUAGES = ["lang_pl", "lang_bn", "lang_so", "lang_tr", "lang_ur", "lang_ar", "bsl"]


def load_requests(session: Session, rng: random.Random, today: dt.date) -> int:
    """Give each demo sergeant 3 to 8 open requests over the next two weeks. Returns how many."""
    links = session.execute(
        select(sergeant_wards.c.user_id, sergeant_wards.c.ward_id)
        .join(User, User.id == sergeant_wards.c.user_id).where(User.role == Role.SERGEANT)
        .order_by(sergeant_wards.c.user_id, sergeant_wards.c.ward_id)).all()
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


def _request(rng: random.Random, today: dt.date, user_id: int, ward_id: int, code: str) -> SupportRequest:
    policy = TASK_POLICIES_BY_CODE[code]
    title, description, organisation = rng.choice(_TEMPLATES[code])
    day = today + dt.timedelta(days=rng.randint(1, 14))
    evening = code in ("youth_schools_liaison", "digital_evidence_triage") and rng.random() < 0.4
    start_hour = rng.randint(17, 18) if evening else rng.randint(9, 15)
    start_minute = rng.choice([0, 0, 30])
    window_hours = rng.choice([2, 3, 4])
    duration = rng.choice([60, 90, 120]) if window_hours > 2 else rng.choice([60, 90])
    window_start = london_to_utc(day, dt.time(start_hour, start_minute))
    priority = rng.choices(list(Priority), weights=[6, 3, 1])[0]
    if code == "mental_health_escort":
        priority = Priority.URGENT if rng.random() < 0.5 else Priority.PRIORITY
    people = policy.default_team_size if code != "public_event_support" else rng.randint(3, 6)
    item = SupportRequest(
        ward_id=ward_id, remote=policy.remote_possible and rng.random() < 0.5, task_type_code=code, title=title,
        description=description, window_start=window_start,
        window_end=window_start + dt.timedelta(hours=window_hours), duration_minutes=duration,
        people_needed=people, all_or_nothing=policy.all_or_nothing, priority=priority,
        warranted_only=policy.warranted_only, organisation=organisation, status=RequestStatus.OPEN,
        created_by_id=user_id,
    )
    if code in ("cyber_victim_visit", "domestic_abuse_support") and rng.random() < 0.3:
        item.skills = [RequestSkill(skill_code=rng.choice(_LANGUAGES))]
    return item
