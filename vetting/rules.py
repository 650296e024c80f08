"""Eligibility of one person for one task on the dates of a deployment, as a pure function.

The matcher calls ``check_eligibility`` for every candidate pair and uses the reasons to explain
unfilled requests, so the function returns *every* reason a person is not eligible, not the first.

Each ``Reason`` has two texts. ``text`` is what a ward sergeant may see: it says what rule failed
and on which date, in words they can act on, and never carries vetting detail (no clearance level,
decision, restriction or why) nor the reason for a workplace adjustment. ``detail`` is for vetting
officers and coordinators only; views must not show it to sergeants.

Dates. A deployment is a half-open interval ``[start, end)`` of aware datetimes. It "touches" every
Europe/London local date from the local date of ``start`` to the local date of the last instant
before ``end`` (so a shift ending at midnight does not touch the next day). Clearance and evidence
dates are local dates and inclusive: ``expires_on`` is the last day something is valid. A clearance
must be valid on every date the deployment touches; several clearances of an accepted type may
cover the dates between them (an old clearance running out the day before its renewal starts).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from vetting.catalogue import (
    DEFAULT_POLICY,
    SKILLS_BY_CODE,
    ForcePolicy,
    PatrolStatus,
    SkillLevel,
    SkillRequirement,
    TaskPolicy,
)
from vetting.lifecycle import ACTIVE_STATES, ClearanceState

__all__ = [
    "Adjustment",
    "ClearanceFact",
    "DateRange",
    "DeploymentWindow",
    "Eligibility",
    "PersonFacts",
    "PersonKind",
    "Reason",
    "ReasonCode",
    "SkillFact",
    "check_eligibility",
    "explain_clearances",
    "format_date",
]


class PersonKind(enum.StrEnum):
    SPECIAL = "special"  # special constable: warranted once attested
    PSV = "psv"  # police support volunteer: never warranted


class Adjustment(enum.StrEnum):
    """Workplace adjustments that limit which tasks someone can do. The reason is never stored here."""

    DESK_ONLY = "desk_only"  # no street duty: desk and remote tasks only
    REMOTE_ONLY = "remote_only"  # only tasks that can be done remotely


class ReasonCode(enum.StrEnum):
    NOT_WARRANTED = "not_warranted"
    PATROL_STATUS_TOO_LOW = "patrol_status_too_low"
    DESK_ONLY = "desk_only"
    REMOTE_ONLY = "remote_only"
    MOBILISED = "mobilised"
    NO_CLEARANCE = "no_clearance"
    NO_UNSUPERVISED_CLEARANCE = "no_unsupervised_clearance"
    SKILL_MISSING = "skill_missing"
    SKILL_LEVEL_TOO_LOW = "skill_level_too_low"
    EVIDENCE_UNVERIFIED = "evidence_unverified"
    EVIDENCE_EXPIRED = "evidence_expired"
    # Conflict reviews (vetting.conflict_rules): one their line of work needs is not recorded yet, or one
    # found them not suitable for this task type.
    CONFLICT_REVIEW_PENDING = "conflict_review_pending"
    NOT_SUITABLE_FOR_TASK = "not_suitable_for_task"


@dataclass(frozen=True)
class Reason:
    """Why someone is not eligible. ``text`` is safe for sergeants; ``detail`` is vetting-only."""

    code: ReasonCode
    text: str
    detail: str | None = None


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: tuple[Reason, ...] = ()

    def __post_init__(self) -> None:
        if self.eligible == bool(self.reasons):
            raise ValueError("eligible exactly when there are no reasons")

    @classmethod
    def from_reasons(cls, reasons: Iterable[Reason]) -> Eligibility:
        reasons = tuple(reasons)
        return cls(eligible=not reasons, reasons=reasons)

    @property
    def codes(self) -> frozenset[ReasonCode]:
        return frozenset(reason.code for reason in self.reasons)


@dataclass(frozen=True)
class DateRange:
    """Inclusive local dates, e.g. a reservist's mobilisation from ``first`` to ``last``."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("a date range cannot end before it starts")

    def overlaps(self, first: date, last: date) -> bool:
        return self.first <= last and first <= self.last


@dataclass(frozen=True)
class ClearanceFact:
    """A clearance as the rules see it.

    ``expires_on`` is the last day it is valid (inclusive). ``restricted_from`` holds the codes of
    task types a granted-with-restrictions clearance may *not* be used for; a deny-list, because a
    restriction is imposed for a specific risk and new task types should not silently be blocked.
    """

    type_code: str
    state: ClearanceState
    valid_from: date
    expires_on: date
    restricted_from: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", ClearanceState(self.state))
        object.__setattr__(self, "restricted_from", frozenset(self.restricted_from))
        if self.expires_on < self.valid_from:
            raise ValueError(f"{self.type_code}: expires_on {self.expires_on} is before valid_from")


@dataclass(frozen=True)
class SkillFact:
    """A skill someone holds. Evidence with no recorded expiry counts as unexpired once verified."""

    code: str
    level: SkillLevel
    evidence_required: bool = False
    evidence_verified: bool = False
    evidence_expires_on: date | None = None  # last day the evidence is valid, inclusive

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", SkillLevel(self.level))


@dataclass(frozen=True)
class PersonFacts:
    """One person as the rules see them.

    ``conflict_review_pending``: their line of work needs a conflict review before any deployment and none
    covering it is recorded, so no task is open to them. ``unsuitable_for``: task type codes a conflict
    review found them not suitable for (see vetting.conflict_rules).
    """

    kind: PersonKind
    warranted: bool
    patrol_status: PatrolStatus | None = None
    adjustments: frozenset[Adjustment] = frozenset()
    clearances: tuple[ClearanceFact, ...] = ()
    skills: tuple[SkillFact, ...] = ()
    mobilised: tuple[DateRange, ...] = ()
    conflict_review_pending: bool = False
    unsuitable_for: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", PersonKind(self.kind))
        object.__setattr__(self, "adjustments", frozenset(Adjustment(a) for a in self.adjustments))
        object.__setattr__(self, "unsuitable_for", frozenset(self.unsuitable_for))
        if self.patrol_status is not None:
            object.__setattr__(self, "patrol_status", PatrolStatus(self.patrol_status))
        # Specials may be unwarranted before attestation; PSVs never hold a warrant or patrol status.
        if self.kind is PersonKind.PSV and (self.warranted or self.patrol_status is not None):
            raise ValueError("a police support volunteer has no warrant and no patrol status")


@dataclass(frozen=True)
class DeploymentWindow:
    """When the deployment runs: ``[start, end)``, both timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            moment = getattr(self, name)
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError(f"{name} must be a timezone-aware datetime")
        if self.end <= self.start:
            raise ValueError("a deployment must end after it starts")

    def local_dates(self, timezone: str = DEFAULT_POLICY.timezone) -> tuple[date, date]:
        """The first and last local dates the deployment touches."""
        zone = ZoneInfo(timezone)
        last_instant = self.end - timedelta(microseconds=1)
        return self.start.astimezone(zone).date(), last_instant.astimezone(zone).date()


def format_date(day: date) -> str:
    """Plain-words date as GOV.UK writes it: 3 December 2025."""
    return f"{day.day} {day:%B %Y}"


def check_eligibility(
    person: PersonFacts,
    task: TaskPolicy,
    window: DeploymentWindow,
    *,
    supervised: bool = False,
    remote: bool | None = None,
    extra_skills: Sequence[SkillRequirement] = (),
    policy: ForcePolicy = DEFAULT_POLICY,
) -> Eligibility:
    """Decide whether ``person`` may do ``task`` throughout ``window``, with every reason if not.

    ``supervised`` says a supervising officer will be present. When the task allows unsupervised
    work and no supervisor is promised, the task's unsupervised clearances are needed too; the
    default assumes no supervisor, so the answer errs on the safe side. ``remote`` says whether this
    deployment is done remotely: a remote-only person takes only remote deployments, whatever the task type
    allows (a remote-possible task raised in person is still in person). None, when there is no deployment
    to ask about (what someone's clearances let them do), judges by the task type alone. ``extra_skills`` are
    a request's own needs on top of the task type's (e.g. a language).
    """
    first, last = window.local_dates(policy.timezone)
    reasons: list[Reason] = []
    reasons += _status_reasons(person, task)
    reasons += _adjustment_reasons(person, task, remote)
    reasons += _mobilisation_reasons(person, first, last)
    reasons += _conflict_review_reasons(person, task)

    for group in task.clearance_groups:
        reason = _clearance_group_reason(person, task, group, first, last, ReasonCode.NO_CLEARANCE)
        if reason:
            reasons.append(reason)
    if task.unsupervised_allowed and not supervised:
        for group in task.unsupervised_clearance_groups:
            reason = _clearance_group_reason(person, task, group, first, last, ReasonCode.NO_UNSUPERVISED_CLEARANCE)
            if reason:
                reasons.append(reason)

    for requirement in (*task.required_skills, *extra_skills):
        reason = _skill_reason(person, requirement, last)
        if reason:
            reasons.append(reason)
    return Eligibility.from_reasons(reasons)


def explain_clearances(person: PersonFacts, tasks: Iterable[TaskPolicy], today: date) -> str:
    """Plain words for the volunteer's own home page about what their clearances let them do today.

    E.g. "Cleared for cyber-crime victim visits and youth and schools liaison; renewal due March
    2027." Only clearances are considered here (skills are shown elsewhere on the page).
    """
    full: list[TaskPolicy] = []
    supervised_only: list[TaskPolicy] = []
    used: list[ClearanceFact] = []
    for task in tasks:
        base = [_covering(person, task, group, today) for group in task.clearance_groups]
        if not all(base):
            continue
        extra = [_covering(person, task, group, today) for group in task.unsupervised_clearance_groups]
        (full if all(extra) else supervised_only).append(task)
        used += [fact for fact in (*base, *extra) if fact is not None]

    parts = [task.activity for task in full]
    parts += [f"{task.activity} (with a supervising officer)" for task in supervised_only]
    if parts:
        sentence = "Cleared for " + _join(parts)
        earliest = min(fact.expires_on for fact in used)
        sentence += f"; renewal due {earliest:%B %Y}."
    else:
        sentence = "Not yet cleared for any task."

    states = {fact.state for fact in person.clearances}
    if states & {ClearanceState.APPLIED, ClearanceState.IN_PROGRESS}:
        sentence += " Your vetting application is in progress."
    if ClearanceState.SUSPENDED in states:
        sentence += " One of your clearances is under review; the vetting unit will contact you."
    if ClearanceState.APPEALED in states:
        sentence += " Your appeal is being considered."
    if person.conflict_review_pending:
        sentence += (
            " Because of your line of work, a check for conflicts of interest is needed before you are offered"
            " any task."
        )
    return sentence


# ---------------------------------------------------------------------------------------------


def _status_reasons(person: PersonFacts, task: TaskPolicy) -> list[Reason]:
    reasons = []
    if task.warranted_only and not person.warranted:
        reasons.append(Reason(ReasonCode.NOT_WARRANTED, "This task needs a warranted special constable."))
    minimum = task.minimum_patrol_status
    # Patrol status only means something for specials; a PSV already fails the warrant rule.
    if minimum is not None and person.kind is PersonKind.SPECIAL:
        held = person.patrol_status
        if held is None or held < minimum:
            held_words = f"{held} patrol" if held else "no patrol status yet"
            reasons.append(
                Reason(
                    ReasonCode.PATROL_STATUS_TOO_LOW,
                    f"This task needs {minimum} patrol status or above; this special has {held_words}.",
                )
            )
    return reasons


def _adjustment_reasons(person: PersonFacts, task: TaskPolicy, remote: bool | None) -> list[Reason]:
    reasons = []
    if Adjustment.DESK_ONLY in person.adjustments and task.street_duty:
        reasons.append(Reason(ReasonCode.DESK_ONLY, "Available for desk-based and remote tasks only."))
    if Adjustment.REMOTE_ONLY in person.adjustments:
        if not task.remote_possible:
            reasons.append(
                Reason(ReasonCode.REMOTE_ONLY, "Available for remote tasks only; this task cannot be done remotely.")
            )
        elif remote is False:
            reasons.append(
                Reason(ReasonCode.REMOTE_ONLY, "Available for remote tasks only; this request is in person.")
            )
    return reasons


def _mobilisation_reasons(person: PersonFacts, first: date, last: date) -> list[Reason]:
    return [
        Reason(
            ReasonCode.MOBILISED,
            f"Mobilised with the reserve forces from {format_date(period.first)} to {format_date(period.last)}.",
        )
        for period in person.mobilised
        if period.overlaps(first, last)
    ]


def _conflict_review_reasons(person: PersonFacts, task: TaskPolicy) -> list[Reason]:
    # The sergeant's words say only that a check is due or that this task is not open to the person: that a
    # conflict was found, with whom, and why, stays with the officers and coordinators.
    reasons = []
    if person.conflict_review_pending:
        reasons.append(
            Reason(
                ReasonCode.CONFLICT_REVIEW_PENDING,
                "Needs a check before deployment.",
                "Their line of work needs a conflict-of-interest review before any deployment; none covering it "
                "is recorded yet.",
            )
        )
    if task.code in person.unsuitable_for:
        reasons.append(
            Reason(
                ReasonCode.NOT_SUITABLE_FOR_TASK,
                "Not available for this kind of task.",
                "A conflict-of-interest review found them not suitable for this task type.",
            )
        )
    return reasons


def _counts_for(fact: ClearanceFact, task: TaskPolicy, group: tuple[str, ...]) -> bool:
    return fact.type_code in group and fact.state in ACTIVE_STATES and task.code not in fact.restricted_from


def _first_uncovered(facts: Iterable[ClearanceFact], first: date, last: date) -> date | None:
    """The first date in ``[first, last]`` no fact's ``[valid_from, expires_on]`` covers, or None."""
    spans = sorted((fact.valid_from, fact.expires_on) for fact in facts)
    cursor = first
    for valid_from, expires_on in spans:
        if valid_from > cursor:
            break  # sorted by start: nothing later can cover the cursor
        if expires_on >= cursor:
            cursor = expires_on + timedelta(days=1)
            if cursor > last:
                return None
    return cursor if cursor <= last else None


def _clearance_group_reason(
    person: PersonFacts,
    task: TaskPolicy,
    group: tuple[str, ...],
    first: date,
    last: date,
    code: ReasonCode,
) -> Reason | None:
    counting = [fact for fact in person.clearances if _counts_for(fact, task, group)]
    gap = _first_uncovered(counting, first, last)
    if gap is None:
        return None
    if code is ReasonCode.NO_UNSUPERVISED_CLEARANCE:
        text = f"Not cleared to do this task without a supervising officer on {format_date(gap)}."
    else:
        text = f"No clearance for this task on {format_date(gap)}."
    return Reason(code, text, _clearance_detail(person, task, group, first, last))


def _clearance_detail(person: PersonFacts, task: TaskPolicy, group: tuple[str, ...], first: date, last: date) -> str:
    held = []
    for fact in person.clearances:
        if fact.type_code not in group:
            continue
        notes = [f"{fact.state}", f"valid {format_date(fact.valid_from)} to {format_date(fact.expires_on)}"]
        if task.code in fact.restricted_from:
            notes.append("restricted from this task")
        held.append(f"{fact.type_code} ({', '.join(notes)})")
    dates = format_date(first) if first == last else f"{format_date(first)} to {format_date(last)}"
    return f"Needs one of {', '.join(group)} valid and active on {dates}; held: {'; '.join(held) if held else 'none'}."


def _covering(person: PersonFacts, task: TaskPolicy, group: tuple[str, ...], day: date) -> ClearanceFact | None:
    """A clearance that satisfies ``group`` for ``task`` on ``day``, preferring the longest-lasting."""
    covering = [
        fact
        for fact in person.clearances
        if _counts_for(fact, task, group) and fact.valid_from <= day <= fact.expires_on
    ]
    return max(covering, key=lambda fact: fact.expires_on, default=None)


def _skill_name(code: str) -> str:
    skill = SKILLS_BY_CODE.get(code)
    return skill.name if skill else code


def _skill_reason(person: PersonFacts, requirement: SkillRequirement, last: date) -> Reason | None:
    minimum = requirement.minimum_level
    held = [skill for skill in person.skills if skill.code in requirement.alternatives]
    expired: list[SkillFact] = []
    unverified: list[SkillFact] = []
    too_low: list[SkillFact] = []
    for skill in held:
        if skill.level < minimum:
            too_low.append(skill)
        elif skill.evidence_required and not skill.evidence_verified:
            unverified.append(skill)
        elif skill.evidence_required and skill.evidence_expires_on is not None and skill.evidence_expires_on < last:
            expired.append(skill)
        else:
            return None  # this alternative is enough

    # Report the problem closest to being solved: it is the one worth acting on.
    if expired:
        # Only evidence with an expiry date lands in ``expired``; the latest one is the best bet.
        until, code = max((s.evidence_expires_on or date.min, s.code) for s in expired)
        return Reason(
            ReasonCode.EVIDENCE_EXPIRED,
            f"Professional registration evidence for {_skill_name(code)} is only valid until "
            f"{format_date(until)}, before the end of this deployment.",
        )
    if unverified:
        return Reason(
            ReasonCode.EVIDENCE_UNVERIFIED,
            f"Professional registration for {_skill_name(unverified[0].code)} has not been verified yet.",
        )
    wanted = _join([_skill_name(code) for code in requirement.alternatives], last_word="or")
    if too_low:
        best = max(too_low, key=lambda s: s.level.rank)
        return Reason(
            ReasonCode.SKILL_LEVEL_TOO_LOW,
            f"Holds {_skill_name(best.code)} at {best.level} level; this task needs {wanted} "
            f"at {minimum} level or above.",
        )
    return Reason(ReasonCode.SKILL_MISSING, f"This task needs {wanted} at {minimum} level or above.")


def _join(words: Sequence[str], last_word: str = "and") -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last_word} {words[-1]}"
