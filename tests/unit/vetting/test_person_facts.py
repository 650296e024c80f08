"""person_facts from stored records: one at a time, or many sharing equal skill and clearance facts."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from vetting.facts import person_facts
from vetting.lifecycle import ClearanceState
from volunteers.models import BlockReason, EvidenceStatus, VolunteerKind, WorkAdjustment
from volunteers.skills import SkillLevel


def _volunteer(expires: dt.date, level: SkillLevel = SkillLevel.EXPERT):
    skills = [
        SimpleNamespace(
            skill_code="paramedic", level=level, evidence_status=EvidenceStatus.VERIFIED, evidence_expires_on=expires
        ),
        SimpleNamespace(
            skill_code="no_such_skill", level=level, evidence_status=EvidenceStatus.VERIFIED, evidence_expires_on=None
        ),
    ]
    return SimpleNamespace(
        kind=VolunteerKind.PSV, warrant_number=None, patrol_status=None, adjustment=WorkAdjustment.NONE, skills=skills
    )


def _clearance(expires: dt.date, restricted: str = ""):
    return SimpleNamespace(
        id=None,
        renews_id=None,
        type_code="NPPV2F",
        state=ClearanceState.GRANTED,
        valid_from=dt.date(2025, 1, 1),
        expires_on=expires,
        restrictions=frozenset(c for c in restricted.split(",") if c),
    )


def test_shared_facts_are_equal_to_fresh_ones_and_one_object_where_equal():
    blocked = [
        SimpleNamespace(first_day=dt.date(2026, 12, 1), last_day=dt.date(2026, 12, 3), reason=BlockReason.MOBILISATION)
    ]
    people = [
        (_volunteer(dt.date(2027, 3, 31)), [_clearance(dt.date(2027, 1, 1))], blocked),
        (
            _volunteer(dt.date(2027, 3, 31)),
            [_clearance(dt.date(2027, 1, 1)), _clearance(dt.date(2028, 1, 1), "a,b")],
            [],
        ),
        (_volunteer(dt.date(2027, 4, 1), SkillLevel.PRACTITIONER), [_clearance(dt.date(2027, 1, 1), "a")], []),
        (
            _volunteer(dt.date(2027, 4, 1), SkillLevel.PRACTITIONER),
            [
                SimpleNamespace(
                    id=None,
                    renews_id=None,
                    type_code="NPPV2F",
                    state=ClearanceState.APPLIED,
                    valid_from=None,
                    expires_on=None,
                    restrictions=frozenset(),
                )
            ],
            [],
        ),
    ]
    shared: dict = {}
    fresh = [person_facts(*person) for person in people]
    together = [person_facts(*person, shared=shared) for person in people]
    assert together == fresh
    assert together[0].skills[0] is together[1].skills[0]  # equal facts: one object
    assert together[0].clearances[0] is together[1].clearances[0]
    assert together[0].skills[0] is not together[2].skills[0]  # another expiry and level
    assert together[1].clearances[1] is not together[0].clearances[0]
    assert together[2].clearances[0].restricted_from == frozenset({"a"})
    assert together[3].clearances == ()  # an undated application covers no day
    assert [len(p.skills) for p in together] == [1, 1, 1, 1]  # a skill not in the catalogue is left out
    assert together[0].mobilised and not together[1].mobilised
