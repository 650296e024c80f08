"""Build the pure rules' inputs (PersonFacts) from stored records. The one place that maps ORM → rules."""

from __future__ import annotations

from collections.abc import Iterable

from vetting.models import Clearance
from vetting.rules import Adjustment, ClearanceFact, DateRange, PersonFacts, PersonKind, SkillFact
from volunteers.models import BlockedPeriod, BlockReason, EvidenceStatus, Volunteer, VolunteerKind, WorkAdjustment
from volunteers.skills import SKILLS_BY_CODE

_ADJUSTMENTS = {WorkAdjustment.DESK_ONLY: Adjustment.DESK_ONLY, WorkAdjustment.REMOTE_ONLY: Adjustment.REMOTE_ONLY}


def person_facts(
    volunteer: Volunteer,
    clearances: Iterable[Clearance],
    blocked: Iterable[BlockedPeriod] = (),
    *,
    shared: dict | None = None,
) -> PersonFacts:
    """The rules' view of one volunteer. ``shared``, a dict kept by a caller building many at once, makes
    equal skill and clearance facts one object each (they are frozen): a city's 46,000 volunteers hold
    103,000 skills but 14,000 distinct ones, and 65,000 clearances but 385, and making each anew was a
    third of reading them (``matching.facts.load_volunteers``)."""
    special = volunteer.kind is VolunteerKind.SPECIAL
    return PersonFacts(
        kind=PersonKind.SPECIAL if special else PersonKind.PSV,
        # A special is warranted once attested, which is when the force records a warrant number.
        warranted=special and bool(volunteer.warrant_number),
        patrol_status=volunteer.patrol_status if special else None,
        adjustments=frozenset({_ADJUSTMENTS[volunteer.adjustment]} if volunteer.adjustment in _ADJUSTMENTS else ()),
        clearances=tuple(
            _one(shared, ClearanceFact, (c.type_code, c.state, c.valid_from, c.expires_on, c.restrictions))
            for c in clearances
            if c.valid_from is not None and c.expires_on is not None
        ),
        skills=tuple(
            _one(
                shared,
                SkillFact,
                (
                    s.skill_code,
                    s.level,
                    SKILLS_BY_CODE[s.skill_code].evidence_required,
                    s.evidence_status is EvidenceStatus.VERIFIED,
                    s.evidence_expires_on,
                ),
            )
            for s in volunteer.skills
            if s.skill_code in SKILLS_BY_CODE
        ),
        mobilised=tuple(DateRange(b.first_day, b.last_day) for b in blocked if b.reason is BlockReason.MOBILISATION),
    )


def _one(shared: dict | None, kind: type, fields: tuple) -> ClearanceFact | SkillFact:
    """``kind(*fields)``, or the equal one already in ``shared``."""
    if shared is None:
        return kind(*fields)
    key = (kind, *fields)
    found = shared.get(key)
    if found is None:
        found = shared[key] = kind(*fields)
    return found
