"""Build the pure rules' inputs (PersonFacts) from stored records. The one place that maps ORM → rules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from vetting.conflict_rules import ConflictStanding
from vetting.lifecycle import ACTIVE_STATES, ClearanceState
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
    conflict_review: ConflictStanding | None = None,
    shared: dict | None = None,
) -> PersonFacts:
    """The rules' view of one volunteer. ``shared``, a dict kept by a caller building many at once, makes
    equal skill and clearance facts one object each (they are frozen): a city's 46,000 volunteers hold
    103,000 skills but 14,000 distinct ones, and 65,000 clearances but 385, and making each anew was a
    third of reading them (``matching.facts.load_volunteers``).

    ``conflict_review`` is their standing on conflict reviews (``vetting.conflict_reviews.standings``); None
    means none applies to them. Every caller that decides a deployment must pass it."""
    special = volunteer.kind is VolunteerKind.SPECIAL
    clearances = list(clearances)
    # Renewed clearances whose renewal is in force → the day that renewal starts.
    continued = {
        c.renews_id: c.valid_from
        for c in clearances
        if c.renews_id is not None and c.state in ACTIVE_STATES and c.valid_from is not None
    }
    return PersonFacts(
        kind=PersonKind.SPECIAL if special else PersonKind.PSV,
        # A special is warranted once attested, which is when the force records a warrant number.
        warranted=special and bool(volunteer.warrant_number),
        patrol_status=volunteer.patrol_status if special else None,
        adjustments=frozenset({_ADJUSTMENTS[volunteer.adjustment]} if volunteer.adjustment in _ADJUSTMENTS else ()),
        clearances=tuple(
            _one(shared, ClearanceFact, _clearance_fields(c, continued))
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
        conflict_review_pending=conflict_review is not None and conflict_review.pending,
        unsuitable_for=conflict_review.unsuitable_for if conflict_review is not None else frozenset(),
    )


def _clearance_fields(clearance: Clearance, continued: dict[int, date]) -> tuple:
    """The ClearanceFact's fields. A renewed clearance is final, but a renewal decided early may start only
    the day after the old term ends: until the renewal starts, the old term still counts, as long as the
    renewal itself is in force (suspend or withdraw the renewal and the old term stops counting with it).
    Without this, renewing someone early withdrew their bookings until the new term began."""
    state, expires_on = clearance.state, clearance.expires_on
    renewal_starts = continued.get(clearance.id) if state is ClearanceState.RENEWED else None
    if renewal_starts is not None:
        state, expires_on = ClearanceState.RENEWAL_DUE, min(expires_on, renewal_starts - timedelta(days=1))
    return (clearance.type_code, state, clearance.valid_from, expires_on, clearance.restrictions)


def _one(shared: dict | None, kind: type, fields: tuple) -> ClearanceFact | SkillFact:
    """``kind(*fields)``, or the equal one already in ``shared``."""
    if shared is None:
        return kind(*fields)
    key = (kind, *fields)
    found = shared.get(key)
    if found is None:
        found = shared[key] = kind(*fields)
    return found
