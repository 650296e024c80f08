"""London-like weeks at any size, deterministic for a seed: volunteers, their vetting and skills, requests.

Pure module (numpy and the pure vetting/volunteers catalogues; no Flask, no ORM). A `Week` is held in
columns (numpy arrays) so that eligibility can be computed for 50,000 volunteers at once; `person_facts`,
`deployment_window` and friends turn one row back into the vetting rules' own types, which is how the
tests check the fast eligibility against `vetting.rules.check_eligibility`.

Places and times:
- ~600 wards: `core.geography.data.demo_wards` scattered around the 32 borough centres (copied from
  migration 0002, which must not be imported). A volunteer lives at a ward's centroid; distances are
  between ward centroids, which is what the product knows (home ward, request ward).
- A week is Monday 00:00 to the next Monday 00:00, London wall-clock time, in minutes from Monday. The
  default week (1 March 2027) has no clock change; `generate_week` refuses a week that has one.
- Availability is a weekly pattern on the half-hour; requests start and end on the half-hour.

Priorities: a request is routine, priority or urgent, and each place filled counts for
`PRIORITY_WEIGHTS` = 1, 3 and 9 coverage: one urgent place outweighs two priority places, one priority
place outweighs two routine places, and no number of high-scoring routine places outweighs one more
urgent place (coverage is the solver's first goal).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from core.geography.data import DemoWard, demo_wards
from vetting.catalogue import (
    CLEARANCE_TYPES,
    DEFAULT_POLICY,
    SKILLS,
    SKILLS_BY_CODE,
    TASK_POLICIES,
    PatrolStatus,
    SkillLevel,
    SkillRequirement,
    TaskPolicy,
)
from vetting.lifecycle import ClearanceState
from vetting.rules import Adjustment, ClearanceFact, DateRange, DeploymentWindow, PersonFacts, PersonKind, SkillFact

LONDON = ZoneInfo(DEFAULT_POLICY.timezone)
DEFAULT_MONDAY = date(2027, 3, 1)  # no clock change that week (BST starts 28 March 2027)
DAY = 24 * 60
WEEK = 7 * DAY
SLOT = 30  # minutes: availability and request times are on the half-hour
SLOTS = WEEK // SLOT  # 336
WORDS = 7  # availability bitmask words of 64 half-hours: 336 bits in 6, plus a zero word of padding
NO_EXPIRY = 1_000_000  # day offset meaning "no expiry recorded"
NO_DATE = -1_000_000

# (borough, latitude, longitude): the borough centres of migration 0002 (data only, copied on purpose).
BOROUGHS: tuple[tuple[str, float, float], ...] = (
    ("Westminster", 51.4975, -0.1357),
    ("Kensington and Chelsea", 51.5020, -0.1947),
    ("Hammersmith and Fulham", 51.4927, -0.2339),
    ("Camden", 51.5290, -0.1255),
    ("Islington", 51.5465, -0.1058),
    ("Lambeth", 51.4571, -0.1231),
    ("Southwark", 51.4734, -0.0755),
    ("Hackney", 51.5450, -0.0553),
    ("Tower Hamlets", 51.5099, -0.0059),
    ("Newham", 51.5077, 0.0469),
    ("Waltham Forest", 51.5908, -0.0134),
    ("Barking and Dagenham", 51.5607, 0.1557),
    ("Havering", 51.5779, 0.2121),
    ("Redbridge", 51.5590, 0.0741),
    ("Enfield", 51.6538, -0.0799),
    ("Haringey", 51.5906, -0.1110),
    ("Barnet", 51.6252, -0.1517),
    ("Brent", 51.5673, -0.2711),
    ("Harrow", 51.5898, -0.3346),
    ("Ealing", 51.5130, -0.3089),
    ("Hillingdon", 51.5441, -0.4760),
    ("Hounslow", 51.4746, -0.3680),
    ("Kingston upon Thames", 51.3925, -0.2833),
    ("Merton", 51.4014, -0.1958),
    ("Richmond upon Thames", 51.4479, -0.3260),
    ("Wandsworth", 51.4571, -0.1818),
    ("Bromley", 51.4039, 0.0198),
    ("Croydon", 51.3714, -0.0977),
    ("Sutton", 51.3618, -0.1945),
    ("Bexley", 51.4549, 0.1505),
    ("Greenwich", 51.4892, 0.0648),
    ("Lewisham", 51.4415, -0.0117),
)

ROUTINE, PRIORITY, URGENT = 1, 2, 3
PRIORITY_NAMES = {ROUTINE: "routine", PRIORITY: "priority", URGENT: "urgent"}
PRIORITY_WEIGHTS = {ROUTINE: 1, PRIORITY: 3, URGENT: 9}

STATES: tuple[ClearanceState, ...] = tuple(ClearanceState)
STATE_INDEX = {state: i for i, state in enumerate(STATES)}
TYPE_INDEX = {ct.code: i for i, ct in enumerate(CLEARANCE_TYPES)}
SKILL_INDEX = {skill.code: i for i, skill in enumerate(SKILLS)}
TASK_INDEX = {task.code: i for i, task in enumerate(TASK_POLICIES)}
LEVELS: tuple[SkillLevel, ...] = tuple(SkillLevel)
PATROLS: tuple[PatrolStatus, ...] = tuple(PatrolStatus)
ADJUSTMENTS: tuple[Adjustment | None, ...] = (None, Adjustment.DESK_ONLY, Adjustment.REMOTE_ONLY)
PSV, SPECIAL = 0, 1
CYBER, HEALTH, YOUTH = 0, 1, 2

LANGUAGES = (
    "lang_pl",
    "lang_ro",
    "lang_es",
    "lang_pt",
    "lang_bn",
    "lang_ur",
    "lang_pa",
    "lang_gu",
    "lang_ar",
    "lang_tr",
    "lang_so",
    "lang_ta",
)
LANGUAGE_WEIGHTS = (14, 8, 8, 6, 12, 9, 6, 6, 8, 7, 5, 5)


@dataclass(frozen=True, eq=False)
class Week:
    """One week of volunteers and requests, in columns. Day offsets are days from `monday` (0..6 in the
    week; clearances and evidence also run before and after it). Facts are sorted by holder, and
    `*_start` are CSR offsets: volunteer v's clearances are rows clr_start[v]:clr_start[v + 1].
    """

    monday: date
    wards: tuple[DemoWard, ...]
    ward_lat: np.ndarray
    ward_lon: np.ndarray
    # Volunteers (V rows).
    volunteer_ids: tuple[str, ...]
    kind: np.ndarray  # int8: PSV / SPECIAL
    family: np.ndarray  # int8: CYBER / HEALTH / YOUTH (main skill family, for reading the figures)
    warranted: np.ndarray  # bool
    patrol: np.ndarray  # int8: index into PATROLS, -1 for none
    adjustment: np.ndarray  # int8: index into ADJUSTMENTS
    home_ward: np.ndarray  # int32
    travel_km: np.ndarray  # int16
    cap_minutes: np.ndarray  # int32: weekly hours cap
    availability: np.ndarray  # uint64 (V, WORDS): bit s of the week's half-hours
    preferences: np.ndarray  # uint16: bit t = would like to be offered TASK_POLICIES[t]
    mobilised_first: np.ndarray  # int32 day offset, NO_DATE when not mobilised
    mobilised_last: np.ndarray
    conflict_ward: np.ndarray  # int32: a declared conflict with a place (-1 for none)
    # Clearance facts (C rows).
    clr_start: np.ndarray
    clr_type: np.ndarray  # int8: index into CLEARANCE_TYPES
    clr_state: np.ndarray  # int8: index into STATES
    clr_from: np.ndarray  # int32 day offsets, inclusive
    clr_until: np.ndarray
    clr_restricted: np.ndarray  # uint16: bit t = restricted from TASK_POLICIES[t]
    # Skill facts (S rows).
    sk_start: np.ndarray
    sk_skill: np.ndarray  # int16: index into SKILLS
    sk_level: np.ndarray  # int8: index into LEVELS
    sk_required: np.ndarray  # bool: evidence required
    sk_verified: np.ndarray  # bool
    sk_until: np.ndarray  # int32: last day the evidence is valid, NO_EXPIRY for none recorded
    # Requests (R rows).
    request_ids: tuple[str, ...]
    task: np.ndarray  # int8: index into TASK_POLICIES
    ward: np.ndarray  # int32
    start: np.ndarray  # int32 minutes from Monday 00:00, London time
    end: np.ndarray
    needed: np.ndarray  # int32
    all_or_nothing: np.ndarray  # bool
    level: np.ndarray  # int8: ROUTINE / PRIORITY / URGENT
    supervised: np.ndarray  # bool: a supervising officer will be there
    remote: np.ndarray  # bool: done remotely (no travel)
    extra_skill: np.ndarray  # int16: index into SKILLS of a language the request needs, -1 for none
    # Ward panels (issue #23, local first): the ward whose panel each volunteer sits on (-1 for none), and the
    # wards a coordinator ring-fenced. From a random stream of their own, so the rest of the week is unchanged.
    panel_ward: np.ndarray | None = None  # int32
    ring_fenced: tuple[int, ...] = ()

    @property
    def num_volunteers(self) -> int:
        return len(self.volunteer_ids)

    @property
    def num_requests(self) -> int:
        return len(self.request_ids)

    def weights(self) -> np.ndarray:
        """Each request's coverage weight per place (PRIORITY_WEIGHTS)."""
        table = np.zeros(max(PRIORITY_WEIGHTS) + 1, dtype=np.int64)
        for level, weight in PRIORITY_WEIGHTS.items():
            table[level] = weight
        return table[self.level]


# ---------------------------------------------------------------------------------------------
# Conversions to the vetting rules' own types (one row at a time)
# ---------------------------------------------------------------------------------------------


def day(week: Week, offset: int) -> date:
    return week.monday + timedelta(days=int(offset))


def person_facts(week: Week, v: int) -> PersonFacts:
    """Volunteer v as `vetting.rules.PersonFacts`."""
    clearances = []
    for row in range(week.clr_start[v], week.clr_start[v + 1]):
        restricted = frozenset(
            task.code for t, task in enumerate(TASK_POLICIES) if int(week.clr_restricted[row]) >> t & 1
        )
        clearances.append(
            ClearanceFact(
                CLEARANCE_TYPES[week.clr_type[row]].code,
                STATES[week.clr_state[row]],
                day(week, week.clr_from[row]),
                day(week, week.clr_until[row]),
                restricted,
            )
        )
    skills = []
    for row in range(week.sk_start[v], week.sk_start[v + 1]):
        until = int(week.sk_until[row])
        skills.append(
            SkillFact(
                SKILLS[week.sk_skill[row]].code,
                LEVELS[week.sk_level[row]],
                evidence_required=bool(week.sk_required[row]),
                evidence_verified=bool(week.sk_verified[row]),
                evidence_expires_on=None if until == NO_EXPIRY else day(week, until),
            )
        )
    adjustment = ADJUSTMENTS[week.adjustment[v]]
    mobilised = ()
    if week.mobilised_first[v] != NO_DATE:
        mobilised = (DateRange(day(week, week.mobilised_first[v]), day(week, week.mobilised_last[v])),)
    return PersonFacts(
        kind=PersonKind.SPECIAL if week.kind[v] == SPECIAL else PersonKind.PSV,
        warranted=bool(week.warranted[v]),
        patrol_status=PATROLS[week.patrol[v]] if week.patrol[v] >= 0 else None,
        adjustments=frozenset({adjustment} if adjustment else ()),
        clearances=tuple(clearances),
        skills=tuple(skills),
        mobilised=mobilised,
    )


def deployment_window(week: Week, r: int) -> DeploymentWindow:
    """Request r's time window as aware datetimes (London)."""
    monday = datetime(week.monday.year, week.monday.month, week.monday.day, tzinfo=LONDON)
    return DeploymentWindow(
        monday + timedelta(minutes=int(week.start[r])), monday + timedelta(minutes=int(week.end[r]))
    )


def task_policy(week: Week, r: int) -> TaskPolicy:
    return TASK_POLICIES[week.task[r]]


def extra_skills(week: Week, r: int) -> tuple[SkillRequirement, ...]:
    """A request's own skill needs on top of its task type's: a language, at practitioner level."""
    if week.extra_skill[r] < 0:
        return ()
    return (SkillRequirement((SKILLS[week.extra_skill[r]].code,), SkillLevel.PRACTITIONER),)


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


def generate_week(volunteers: int, requests: int, seed: int = 0, monday: date = DEFAULT_MONDAY) -> Week:
    """A London-like week with this many volunteers and requests; the same arguments give the same week.

    Volunteers and requests come from separate random streams, so changing the number of requests
    does not change the volunteers.
    """
    if monday.weekday() != 0:
        raise ValueError(f"{monday} is not a Monday")
    start = datetime(monday.year, monday.month, monday.day, tzinfo=LONDON)
    end = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tzinfo=LONDON)
    if start.utcoffset() != end.utcoffset():
        raise ValueError(f"the week of {monday} has a clock change; pick another week")
    wards = tuple(demo_wards([tuple(b) for b in BOROUGHS]))
    ward_rng = random.Random(f"wards-{seed}")
    # Lognormal weights: some wards are much busier (more residents, more demand) than others.
    home_weight = [ward_rng.lognormvariate(0, 0.5) for _ in wards]
    demand_weight = [w * ward_rng.lognormvariate(0, 0.5) for w in home_weight]
    people = _Volunteers(random.Random(f"volunteers-{seed}"), len(wards), home_weight).make(volunteers)
    asks = _Requests(random.Random(f"requests-{seed}"), len(wards), demand_weight).make(requests)
    panels = _panels(random.Random(f"panels-{seed}"), people["home_ward"], len(wards))
    return Week(
        monday=monday,
        wards=wards,
        ward_lat=np.array([w.latitude for w in wards]),
        ward_lon=np.array([w.longitude for w in wards]),
        **people,
        **asks,
        **panels,
    )


PANEL_SHARE = 0.8  # of volunteers on their home ward's panel
RING_FENCED_SHARE = 0.02  # of wards ring-fenced (about a dozen of London's 600)


def _panels(rng: random.Random, home_ward: np.ndarray, num_wards: int) -> dict[str, object]:
    """Most volunteers sit on their home ward's panel; a few wards are ring-fenced."""
    member = np.array([rng.random() < PANEL_SHARE for _ in range(len(home_ward))], dtype=bool)
    fenced = tuple(sorted(rng.sample(range(num_wards), max(1, round(num_wards * RING_FENCED_SHARE)))))
    return {"panel_ward": np.where(member, home_ward, -1).astype(np.int32), "ring_fenced": fenced}


def _bits(first_slot: int, last_slot: int) -> int:
    """Half-hours first_slot..last_slot-1 as a Python int bitmask."""
    return ((1 << last_slot) - 1) ^ ((1 << first_slot) - 1)


def _words(mask: int) -> list[int]:
    return [(mask >> (64 * w)) & 0xFFFF_FFFF_FFFF_FFFF for w in range(WORDS)]


def _validity_days(code: str) -> int:
    clearance_type = CLEARANCE_TYPES[TYPE_INDEX[code]]
    return round(DEFAULT_POLICY.validity_months(clearance_type) * 365.25 / 12)


# Which task types each clearance type can serve: a restriction is drawn from these.
_TASKS_USING = {
    ct.code: [t for t, task in enumerate(TASK_POLICIES) if ct.code in task.all_clearance_codes]
    for ct in CLEARANCE_TYPES
}
_PREFERRED_TASKS = {
    CYBER: ["cyber_victim_visit", "business_cyber_visit", "digital_evidence_triage", "ct_digital_support"],
    HEALTH: ["mental_health_escort", "domestic_abuse_support", "public_event_support"],
    YOUTH: ["youth_schools_liaison", "domestic_abuse_support", "public_event_support"],
}


class _Volunteers:
    """Draws volunteers one at a time from a seeded `random.Random` (fast and platform independent)."""

    def __init__(self, rng: random.Random, num_wards: int, ward_weight: list[float]) -> None:
        self.rng = rng
        self.ward_cum = list(np.cumsum(ward_weight))
        self.num_wards = num_wards
        self.columns: dict[str, list] = {name: [] for name in _VOLUNTEER_COLUMNS}
        self.clearances: list[tuple[int, int, int, int, int]] = []  # type, state, from, until, restricted
        self.clr_start = [0]
        self.skills: list[tuple[int, int, bool, bool, int]] = []  # skill, level, required, verified, until
        self.sk_start = [0]

    def make(self, count: int) -> dict[str, object]:
        for _ in range(count):
            self._one()
            self.clr_start.append(len(self.clearances))
            self.sk_start.append(len(self.skills))
        width = len(str(count))
        c = self.columns
        clr = np.array(self.clearances, dtype=np.int64).reshape(-1, 5)
        sk = np.array(self.skills, dtype=np.int64).reshape(-1, 5)
        return {
            "volunteer_ids": tuple(f"v{i:0{width}d}" for i in range(count)),
            "kind": np.array(c["kind"], dtype=np.int8),
            "family": np.array(c["family"], dtype=np.int8),
            "warranted": np.array(c["warranted"], dtype=bool),
            "patrol": np.array(c["patrol"], dtype=np.int8),
            "adjustment": np.array(c["adjustment"], dtype=np.int8),
            "home_ward": np.array(c["home_ward"], dtype=np.int32),
            "travel_km": np.array(c["travel_km"], dtype=np.int16),
            "cap_minutes": np.array(c["cap_minutes"], dtype=np.int32),
            "availability": np.array(c["availability"], dtype=np.uint64).reshape(-1, WORDS),
            "preferences": np.array(c["preferences"], dtype=np.uint16),
            "mobilised_first": np.array(c["mobilised_first"], dtype=np.int32),
            "mobilised_last": np.array(c["mobilised_last"], dtype=np.int32),
            "conflict_ward": np.array(c["conflict_ward"], dtype=np.int32),
            "clr_start": np.array(self.clr_start, dtype=np.int64),
            "clr_type": clr[:, 0].astype(np.int8),
            "clr_state": clr[:, 1].astype(np.int8),
            "clr_from": clr[:, 2].astype(np.int32),
            "clr_until": clr[:, 3].astype(np.int32),
            "clr_restricted": clr[:, 4].astype(np.uint16),
            "sk_start": np.array(self.sk_start, dtype=np.int64),
            "sk_skill": sk[:, 0].astype(np.int16),
            "sk_level": sk[:, 1].astype(np.int8),
            "sk_required": sk[:, 2].astype(bool),
            "sk_verified": sk[:, 3].astype(bool),
            "sk_until": sk[:, 4].astype(np.int32),
        }

    # --- one volunteer ------------------------------------------------------------------------

    def _one(self) -> None:
        rng, c = self.rng, self.columns
        special = rng.random() < 0.25  # today 1,900 specials to 1,500 PSVs; new professionals join as PSVs
        family = rng.choices((CYBER, HEALTH, YOUTH), (38, 32, 30))[0]
        warranted = special and rng.random() < 0.9  # the rest are awaiting attestation
        patrol = rng.choices((0, 1, 2), (30, 40, 30))[0] if warranted else -1
        c["kind"].append(SPECIAL if special else PSV)
        c["family"].append(family)
        c["warranted"].append(warranted)
        c["patrol"].append(patrol)
        c["adjustment"].append(rng.choices((0, 1, 2), (95, 3, 2))[0])
        home = rng.choices(range(self.num_wards), cum_weights=self.ward_cum)[0]
        c["home_ward"].append(home)
        # The profile's default is 5 km; few volunteers will cross half of London.
        c["travel_km"].append(rng.choices((2, 3, 5, 8, 10, 15), (10, 15, 45, 15, 10, 5))[0])
        caps = (240, 360, 480, 720, 960, 1440) if special else (120, 180, 240, 360, 480, 720, 960)
        c["cap_minutes"].append(rng.choice(caps))
        c["availability"].extend(_words(self._availability()))
        preferred = rng.sample(_PREFERRED_TASKS[family], rng.randint(1, 3))
        c["preferences"].append(sum(1 << TASK_INDEX[code] for code in preferred))
        c["conflict_ward"].append(
            (home if rng.random() < 0.5 else rng.randrange(self.num_wards)) if rng.random() < 0.03 else -1
        )
        reservist = self._skills(family)
        if reservist and rng.random() < 0.3:
            first = rng.randint(-20, 6)
            c["mobilised_first"].append(first)
            c["mobilised_last"].append(first + rng.randint(1, 30))
        else:
            c["mobilised_first"].append(NO_DATE)
            c["mobilised_last"].append(NO_DATE)
        self._clearances(special, family)

    def _availability(self) -> int:
        """A weekly pattern of free half-hours: evenings, weekends, weekday daytime and/or shifts."""
        rng = self.rng
        mask = 0
        if rng.random() < 0.2:  # not giving time this week: paused, away, busy at work or at home
            return mask
        kinds = [
            k
            for k, p in (("evenings", 0.5), ("weekends", 0.4), ("daytime", 0.25), ("shifts", 0.12))
            if rng.random() < p
        ] or ["evenings"]
        for kind in kinds:
            if kind == "evenings":
                start = rng.choice((35, 36, 37, 38))  # 17:30 to 19:00
                for weekday in rng.sample(range(5), rng.randint(1, 3)):
                    mask |= _bits(weekday * 48 + start, weekday * 48 + min(start + rng.choice((6, 7, 8)), 47))
            elif kind == "weekends":
                days = [d for d, p in ((5, 0.7), (6, 0.6)) if rng.random() < p] or [5]
                for weekday in days:
                    start = rng.choice((18, 19, 20))
                    mask |= _bits(weekday * 48 + start, weekday * 48 + start + rng.randint(8, 16))
            elif kind == "daytime":
                start = rng.choice((17, 18, 20))
                for weekday in rng.sample(range(5), rng.randint(2, 5)):
                    mask |= _bits(weekday * 48 + start, weekday * 48 + start + rng.randint(12, 17))
            else:
                for weekday in rng.sample(range(7), rng.randint(2, 4)):
                    start = rng.randint(0, 32)
                    mask |= _bits(weekday * 48 + start, weekday * 48 + min(start + rng.randint(12, 20), 48))
        if rng.random() < 0.05:  # on holiday for part of the week
            first = rng.randint(0, 5)
            mask &= ~_bits(first * 48, min(first + rng.randint(2, 7), 7) * 48)
        return mask

    def _skill(self, code: str, level: int) -> None:
        rng = self.rng
        skill = SKILLS_BY_CODE[code]
        verified, until = False, NO_EXPIRY
        if skill.evidence_required:
            verified = rng.random() < 0.85
            if rng.random() < 0.8:
                # Registrations renew every year or three; a few run out this week.
                until = rng.randint(0, 6) if rng.random() < 0.02 else rng.randint(-20, 1100)
        self.skills.append((SKILL_INDEX[code], level, skill.evidence_required, verified, until))

    def _level(self, professional: bool = False) -> int:
        if professional:
            return self.rng.choices((1, 2), (60, 40))[0]
        return self.rng.choices((0, 1, 2), (20, 55, 25))[0]

    def _skills(self, family: int) -> bool:
        """Draw the volunteer's skills; True if they are a military reservist."""
        rng = self.rng
        held: dict[str, int] = {}
        if family == CYBER:
            options = (
                ("cyber_victim_support", 0.6),
                ("digital_evidence_triage", 0.35),
                ("osint", 0.3),
                ("incident_response", 0.3),
            )
        elif family == HEALTH:
            options = (("mh_first_aid", 0.7), ("rmn", 0.2), ("paramedic", 0.15), ("doctor", 0.1))
        else:
            options = (("youth_worker", 0.45), ("schools_liaison", 0.5), ("safeguarding", 0.8))
        for code, p in options:
            if rng.random() < p:
                held[code] = self._level(SKILLS_BY_CODE[code].evidence_required)
        if not held:
            code = options[0][0]
            held[code] = self._level(SKILLS_BY_CODE[code].evidence_required)
        extras = (
            ("safeguarding", (0.1, 0.4, 0.0)[family]),
            ("mh_first_aid", (0.1, 0.0, 0.15)[family]),
            ("first_aid", 0.3),
            ("bsl", 0.015),
            ("military_reservist", 0.03),
        )
        for code, p in extras:
            if code not in held and rng.random() < p:
                held[code] = self._level()
        if rng.random() < 0.3:
            language = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
            held[language] = rng.choices((0, 1, 2), (5, 35, 60))[0]
        for code in sorted(held):
            self._skill(code, held[code])
        return "military_reservist" in held

    def _clearance(self, code: str, *, pending: bool = False) -> None:
        """One clearance of `code`; a few lapse or are renewed during the week, some are not active."""
        rng = self.rng
        validity = _validity_days(code)
        roll = rng.random()
        renewal: tuple[int, int] | None = None
        if roll < 0.03:  # runs out during the week (last valid day Monday..Saturday)
            until = rng.randint(0, 5)
            if rng.random() < 0.5:  # renewed in time: the new clearance starts the next day
                renewal = (until + 1, until + validity)
        elif roll < 0.06:
            until = -rng.randint(1, 400)
        else:
            until = rng.randint(7, validity)
        valid_from = until - validity + 1
        restricted = 0
        if pending:
            state = rng.choice((ClearanceState.APPLIED, ClearanceState.IN_PROGRESS))
            valid_from, until = rng.randint(7, 60), rng.randint(7, 60) + validity
        elif until < 0:
            state = ClearanceState.LAPSED
        elif renewal or (until < 90 and rng.random() < 0.8):
            state = ClearanceState.RENEWAL_DUE
        else:
            roll = rng.random()
            if roll < 0.03 and _TASKS_USING[code]:
                state = ClearanceState.GRANTED_WITH_RESTRICTIONS
                restricted = 1 << rng.choice(_TASKS_USING[code])
            elif roll < 0.045:
                state = ClearanceState.SUSPENDED
            else:
                state = ClearanceState.GRANTED
        self.clearances.append((TYPE_INDEX[code], STATE_INDEX[state], valid_from, until, restricted))
        if renewal:
            self.clearances.append((TYPE_INDEX[code], STATE_INDEX[ClearanceState.GRANTED], *renewal, 0))

    def _clearances(self, special: bool, family: int) -> None:
        rng = self.rng
        pending = rng.random() < 0.04  # main vetting still in progress: never matched yet
        if special:
            codes = ["RV"] + [c for c, p in (("MV", 0.05), ("CTC", 0.03)) if rng.random() < p]
            if family == YOUTH and rng.random() < 0.4:
                codes.append("DBS_ENH_CHILD")
        else:
            level = {
                CYBER: (("NPPV1", 5), ("NPPV2A", 35), ("NPPV2F", 25), ("NPPV3", 35)),
                HEALTH: (("NPPV1", 10), ("NPPV2A", 30), ("NPPV2F", 50), ("NPPV3", 10)),
                YOUTH: (("NPPV1", 20), ("NPPV2A", 50), ("NPPV2F", 30)),
            }[family]
            codes = [rng.choices([c for c, _ in level], [w for _, w in level])[0]]
            extra = {
                CYBER: (("CTC", 0.03), ("SC", 0.03)),
                HEALTH: (("DBS_ENH_ADULT", 0.6),),
                YOUTH: (("DBS_ENH_CHILD", 0.75),),
            }[family]
            codes += [c for c, p in extra if rng.random() < p]
        for position, code in enumerate(codes):
            self._clearance(code, pending=pending and position == 0)


_VOLUNTEER_COLUMNS = (
    "kind",
    "family",
    "warranted",
    "patrol",
    "adjustment",
    "home_ward",
    "travel_km",
    "cap_minutes",
    "availability",
    "preferences",
    "mobilised_first",
    "mobilised_last",
    "conflict_ward",
)

# Task mix of a week's requests, and the share of each priority level per task.
_TASK_MIX = {
    "cyber_victim_visit": 22,
    "business_cyber_visit": 10,
    "mental_health_escort": 10,
    "domestic_abuse_support": 16,
    "youth_schools_liaison": 22,
    "digital_evidence_triage": 8,
    "public_event_support": 6,
    "ct_digital_support": 4,
}
_PRIORITY_MIX = {
    "mental_health_escort": (10, 40, 50),
    "domestic_abuse_support": (30, 50, 20),
    "ct_digital_support": (40, 40, 20),
}
_SUPERVISED_SHARE = {  # tasks that may be done alone: how often a supervising officer is there anyway
    "business_cyber_visit": 0.3,
    "mental_health_escort": 0.5,
    "youth_schools_liaison": 0.5,
    "digital_evidence_triage": 0.2,
}
_LANGUAGE_NEEDED = {"cyber_victim_visit", "domestic_abuse_support", "mental_health_escort", "youth_schools_liaison"}


class _Requests:
    def __init__(self, rng: random.Random, num_wards: int, ward_weight: list[float]) -> None:
        self.rng = rng
        self.ward_cum = list(np.cumsum(ward_weight))
        self.num_wards = num_wards

    def make(self, count: int) -> dict[str, object]:
        rng = self.rng
        codes, weights = list(_TASK_MIX), list(_TASK_MIX.values())
        rows = []
        for _ in range(count):
            code = rng.choices(codes, weights)[0]
            task = TASK_POLICIES[TASK_INDEX[code]]
            ward = rng.choices(range(self.num_wards), cum_weights=self.ward_cum)[0]
            start, end = self._window(code)
            needed = task.default_team_size
            if code == "public_event_support":
                needed = rng.choice((2, 3, 4, 4, 5, 6))
            level = rng.choices((ROUTINE, PRIORITY, URGENT), _PRIORITY_MIX.get(code, (70, 25, 5)))[0]
            supervised = not task.unsupervised_allowed or rng.random() < _SUPERVISED_SHARE.get(code, 0.0)
            remote = task.remote_possible and rng.random() < 0.6
            extra = -1
            if code in _LANGUAGE_NEEDED and rng.random() < 0.08:
                language = "bsl" if rng.random() < 0.06 else rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
                extra = SKILL_INDEX[language]
            rows.append(
                (TASK_INDEX[code], ward, start, end, needed, task.all_or_nothing, level, supervised, remote, extra)
            )
        table = np.array(rows, dtype=np.int64).reshape(-1, 10)
        width = len(str(count))
        return {
            "request_ids": tuple(f"r{i:0{width}d}" for i in range(count)),
            "task": table[:, 0].astype(np.int8),
            "ward": table[:, 1].astype(np.int32),
            "start": table[:, 2].astype(np.int32),
            "end": table[:, 3].astype(np.int32),
            "needed": table[:, 4].astype(np.int32),
            "all_or_nothing": table[:, 5].astype(bool),
            "level": table[:, 6].astype(np.int8),
            "supervised": table[:, 7].astype(bool),
            "remote": table[:, 8].astype(bool),
            "extra_skill": table[:, 9].astype(np.int16),
        }

    def _window(self, code: str) -> tuple[int, int]:
        """(start, end) in minutes from Monday 00:00; only escorts run past midnight, never past Sunday."""
        rng = self.rng
        weekday = rng.randrange(7)
        if code == "cyber_victim_visit":
            start, length = rng.randint(18, 39), rng.randint(2, 4)  # 09:00-19:30, 1-2 h
        elif code == "business_cyber_visit":
            weekday = rng.randrange(5)
            start, length = rng.randint(18, 32), rng.randint(3, 6)
        elif code == "mental_health_escort":
            start, length = rng.randint(0, 47), rng.randint(4, 10)  # any time, 2-5 h
            if weekday == 6:
                start = min(start, 48 - length)
        elif code == "domestic_abuse_support":
            start, length = rng.randint(18, 40), rng.randint(2, 6)
        elif code == "youth_schools_liaison":
            if rng.random() < 0.7:  # school hours
                weekday = rng.randrange(5)
                start, length = rng.randint(18, 30), rng.randint(2, 4)
            else:  # youth clubs in the evening
                start, length = rng.randint(36, 40), rng.randint(2, 4)
        elif code == "digital_evidence_triage":
            start, length = rng.randint(16, 36), rng.randint(4, 8)
        elif code == "public_event_support":
            if rng.random() < 0.7:
                weekday = rng.choice((5, 6))
                start, length = rng.randint(20, 28), rng.randint(8, 12)
            else:
                start, length = rng.randint(36, 38), rng.randint(4, 8)
        else:  # ct_digital_support
            weekday = rng.randrange(5)
            start, length = rng.randint(18, 28), rng.randint(6, 12)
        first = weekday * 48 + start
        return first * SLOT, (first + length) * SLOT
