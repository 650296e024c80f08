"""Build the pure rules' inputs (PersonFacts) from stored records. The one place that maps ORM → rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from vetting.models import Clearance
from vetting.rules import Adjustment, ClearanceFact, DateRange, PersonFacts, PersonKind, SkillFact
from volunteers.models import BlockedPeriod, BlockReason, EvidenceStatus, Volunteer, VolunteerKind, WorkAdjustment
from volunteers.skills import SKILLS_BY_CODE

_ADJUSTMENTS = {WorkAdjustment.DESK_ONLY: Adjustment.DESK_ONLY, WorkAdjustment.REMOTE_ONLY: Adjustment.REMOTE_ONLY}


def person_facts(volunteer: Volunteer, clearances: Iterable[Clearance],
                 blocked: Iterable[BlockedPeriod] = ()) -> PersonFacts:
    special = volunteer.kind is VolunteerKind.SPECIAL
    return PersonFacts(
        kind=PersonKind.SPECIAL if special else PersonKind.PSV,
        # A special is warranted once attested, which is when the force records a warrant number.
        warranted=special and bool(volunteer.warrant_number),
        patrol_status=volunteer.patrol_status if special else None,
        adjustments=frozenset({_ADJUSTMENTS[volunteer.adjustment]} if volunteer.adjustment in _ADJUSTMENTS else ()),
        clearances=tuple(
            ClearanceFact(type_code=c.type_code, state=c.state, valid_from=c.valid_from or dt.date.min,
                          expires_on=c.expires_on or dt.date.min, restricted_from=c.restrictions)
            for c in clearances if c.valid_from is not None and c.expires_on is not None
        ),
        skills=tuple(
            SkillFact(code=s.skill_code, level=s.level,
                      evidence_required=SKILLS_BY_CODE[s.skill_code].evidence_required,
                      evidence_verified=s.evidence_status is EvidenceStatus.VERIFIED,
                      evidence_expires_on=s.evidence_expires_on)
            for s in volunteer.skills if s.skill_code in SKILLS_BY_CODE
        ),
        mobilised=tuple(DateRange(b.first_day, b.last_day) for b in blocked if b.reason is BlockReason.MOBILISATION),
    )
