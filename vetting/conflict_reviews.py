"""Conflict reviews: recording one, reading someone's standing, and everyone's standing for the matcher.

The rules are in ``vetting.conflict_rules``; here they meet the records. ``record_review`` is one use case
(one commit): an officer or coordinator records a review's outcome, which is audited and, when it finds a
conflict or a task type the person is not suitable for, withdraws in the same transaction their future
offers and bookings it rules out (``Seams.eligibility_changed``). ``standings`` answers the matcher and the
eligibility check for many people at once, in two statements whatever their number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from core.audit.services import record as audit
from core.auth.models import User
from core.db import utcnow
from core.field_errors import FieldError
from core.geography.models import Borough, Ward
from core.seams import Affected, seams
from vetting.conflict_rules import (
    HEALTH,
    ConflictStanding,
    ConflictTerm,
    Finding,
    Outcome,
    RecordedReview,
    join_lines,
    line_words,
    outcome_of,
    split_entries,
    split_lines,
    standing,
)
from vetting.models import ConflictReview, ConflictReviewFinding
from vetting.policy import current_task_policies
from volunteers.models import (
    CONFLICT_REVIEW_OCCUPATIONS,
    ConflictDeclaration,
    Volunteer,
    VolunteerStatus,
    conflict_review_lines,
)

__all__ = [
    "NO_CONFLICT",
    "ConflictReviewError",
    "ConflictReviewPage",
    "ConflictReviewSummary",
    "ReviewEntry",
    "VolunteerNotFound",
    "open_page",
    "record_review",
    "standing_of",
    "standings",
    "summary",
]

# The form's choice for a review that found nothing; Finding holds the others.
NO_CONFLICT = "no_conflict"
# How many organisations, wards or task types one review may name: more is not a finding but a list.
MOST_ENTRIES = 50
ORGANISATION_MAX = 160
NOTES_MAX = 4000
_NAME_CHARACTERS = re.compile(r"\w", re.UNICODE)
_WARD_CODE = re.compile(r"^[A-Za-z]\d{8}$")


class ConflictReviewError(FieldError):
    """A review that cannot be recorded as entered; ``field`` names the box."""


class VolunteerNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ReviewEntry:
    """A review as the officer or coordinator entered it (the form's data, unchecked)."""

    findings: frozenset[str]  # NO_CONFLICT, or values of Finding
    organisations: str = ""  # one a line
    wards: str = ""  # one a line: "name, borough" or the ward's code
    task_types: frozenset[str] = frozenset()
    employer_permission: bool = False
    notes: str = ""


# ---- Reading ------------------------------------------------------------------------------------


def _recorded(review: ConflictReview) -> RecordedReview:
    return RecordedReview(
        lines=split_lines(review.lines_of_work),
        employer=review.employer,
        conflicts=tuple(
            ConflictTerm(organisation=f.organisation or "", ward_id=f.ward_id)
            for f in review.findings
            if f.task_type_code is None
        ),
        unsuitable_for=frozenset(f.task_type_code for f in review.findings if f.task_type_code is not None),
    )


def latest_review(session: Session, volunteer_id: int) -> ConflictReview | None:
    return session.scalar(
        select(ConflictReview)
        .where(ConflictReview.volunteer_id == volunteer_id)
        .options(selectinload(ConflictReview.findings))
        .order_by(ConflictReview.id.desc())
        .limit(1)
    )


def standing_of(session: Session, volunteer: Volunteer) -> ConflictStanding | None:
    """One volunteer's standing (None when no conflict review applies to them)."""
    latest = latest_review(session, volunteer.id)
    return standing(volunteer.conflict_review_lines, volunteer.employer, _recorded(latest) if latest else None)


def standings(session: Session, chosen: Select) -> dict[int, ConflictStanding]:
    """``{volunteer id: standing}`` for the volunteers ``chosen`` (a subquery of their ids) to whom a conflict
    review applies: their line of work needs one, or one was recorded. Two statements, whatever their number:
    the profiles whose line of work needs one, and each one's latest review with its findings."""
    chosen = chosen.correlate(None)
    profiles = {
        row.id: row
        for row in session.execute(
            select(Volunteer.id, Volunteer.occupation_category, Volunteer.military_reservist, Volunteer.employer).where(
                Volunteer.id.in_(chosen),
                or_(
                    Volunteer.occupation_category.in_(sorted(CONFLICT_REVIEW_OCCUPATIONS)),
                    Volunteer.military_reservist.is_(True),
                ),
            )
        )
    }
    latest_ids = (
        select(func.max(ConflictReview.id))
        .where(ConflictReview.volunteer_id.in_(chosen))
        .group_by(ConflictReview.volunteer_id)
        .correlate(None)
    )
    reviews: dict[int, tuple[str, str]] = {}
    conflicts: dict[int, list[ConflictTerm]] = defaultdict(list)
    unsuitable: dict[int, set[str]] = defaultdict(set)
    for row in session.execute(
        select(
            ConflictReview.volunteer_id,
            ConflictReview.lines_of_work,
            ConflictReview.employer,
            ConflictReviewFinding.organisation,
            ConflictReviewFinding.ward_id,
            ConflictReviewFinding.task_type_code,
        )
        .outerjoin(ConflictReviewFinding, ConflictReviewFinding.review_id == ConflictReview.id)
        .where(ConflictReview.id.in_(latest_ids))
        .order_by(ConflictReview.volunteer_id, ConflictReviewFinding.id)
    ):
        reviews[row.volunteer_id] = (row.lines_of_work, row.employer)
        if row.task_type_code is not None:
            unsuitable[row.volunteer_id].add(row.task_type_code)
        elif row.organisation is not None or row.ward_id is not None:
            conflicts[row.volunteer_id].append(ConflictTerm(row.organisation or "", row.ward_id))
    found = {}
    for volunteer_id in profiles.keys() | reviews.keys():
        profile = profiles.get(volunteer_id)
        lines = conflict_review_lines(profile.occupation_category, profile.military_reservist) if profile else None
        recorded = None
        if volunteer_id in reviews:
            reviewed_lines, employer = reviews[volunteer_id]
            recorded = RecordedReview(
                split_lines(reviewed_lines),
                employer,
                tuple(conflicts.get(volunteer_id, ())),
                frozenset(unsuitable.get(volunteer_id, ())),
            )
        result = standing(lines or frozenset(), profile.employer if profile else "", recorded)
        if result is not None:
            found[volunteer_id] = result
    return found


@dataclass(frozen=True)
class ConflictReviewSummary:
    """What the coordinators' directory shows of someone's conflict review: whether one is due, and the
    latest outcome in words (the findings and the reasons are on the review's own page)."""

    needed_for: tuple[str, ...]  # the lines of work that need one, in words
    pending: bool
    outcome: str | None = None
    recorded_at: dt.datetime | None = None
    recorded_by: str | None = None


def summary(session: Session, volunteer: Volunteer) -> ConflictReviewSummary:
    latest = latest_review(session, volunteer.id)
    lines = volunteer.conflict_review_lines
    result = standing(lines, volunteer.employer, _recorded(latest) if latest else None)
    return ConflictReviewSummary(
        needed_for=tuple(line_words(lines)),
        pending=result is not None and result.pending,
        outcome=latest.outcome.label if latest else None,
        recorded_at=latest.recorded_at if latest else None,
        recorded_by=session.get(User, latest.recorded_by_id).full_name if latest else None,
    )


@dataclass
class ConflictReviewPage:
    """Everything the conflict review page shows of one person."""

    volunteer: Volunteer
    standing: ConflictStanding | None
    needed_for: list[str]  # lines of work in words
    reviews: list[ConflictReview]  # newest first
    declared: list[ConflictDeclaration]  # what the volunteer declared themselves
    recorders: dict[int, str] = field(default_factory=dict)  # user id → name

    @property
    def latest(self) -> ConflictReview | None:
        return self.reviews[0] if self.reviews else None


def open_page(
    session: Session, volunteer_id: int, viewer_id: int | None = None, key: bytes | None = None
) -> ConflictReviewPage:
    """Read one person's conflict reviews. With ``viewer_id`` and ``key`` the reading is recorded in the audit
    log and committed (a review's reasons are read on a need-to-know basis, as a vetting record is).

    Raises VolunteerNotFound."""
    volunteer = session.scalar(
        select(Volunteer).where(Volunteer.id == volunteer_id).options(joinedload(Volunteer.user))
    )
    if volunteer is None:
        raise VolunteerNotFound(volunteer_id)
    reviews = list(
        session.scalars(
            select(ConflictReview)
            .where(ConflictReview.volunteer_id == volunteer_id)
            .options(
                selectinload(ConflictReview.findings).joinedload(ConflictReviewFinding.ward).joinedload(Ward.borough)
            )
            .order_by(ConflictReview.id.desc())
        )
    )
    declared = list(
        session.scalars(
            select(ConflictDeclaration)
            .where(ConflictDeclaration.volunteer_id == volunteer_id)
            .options(joinedload(ConflictDeclaration.ward).joinedload(Ward.borough))
            .order_by(ConflictDeclaration.declared_at, ConflictDeclaration.id)
        )
    )
    recorders = dict(
        session.execute(select(User.id, User.full_name).where(User.id.in_({r.recorded_by_id for r in reviews}))).all()
    )
    lines = volunteer.conflict_review_lines
    page = ConflictReviewPage(
        volunteer=volunteer,
        standing=standing(lines, volunteer.employer, _recorded(reviews[0]) if reviews else None),
        needed_for=line_words(lines),
        reviews=reviews,
        declared=declared,
        recorders=recorders,
    )
    if viewer_id is not None and key is not None:
        audit(
            session,
            actor_id=viewer_id,
            action="vetting_record.viewed",
            subject_type="volunteer",
            subject_id=volunteer_id,
            detail={"page": "conflict_review"},
            key=key,
        )
        session.commit()
    return page


# ---- Recording ----------------------------------------------------------------------------------


def record_review(
    session: Session,
    volunteer_id: int,
    actor_id: int,
    entry: ReviewEntry,
    key: bytes,
    now: dt.datetime | None = None,
) -> ConflictReview:
    """Record a conflict review's outcome for a volunteer, as entered by ``actor_id`` (an officer or a
    coordinator): audited, and one commit.

    The review is recorded for the person's lines of work and employer as they are now, and is in force from
    now on, replacing the previous one's findings. When it finds conflicts or task types the person is not
    suitable for, their future offers and bookings are checked again in this transaction, and those it rules
    out withdrawn (the sergeants and the volunteer are told once it commits).

    Raises VolunteerNotFound, or ConflictReviewError naming the box to put right.
    """
    now = now or utcnow()
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise VolunteerNotFound(volunteer_id)
    if volunteer.status in (VolunteerStatus.LEFT, VolunteerStatus.NOT_ACCEPTED):
        raise ConflictReviewError(
            f"{volunteer.user.full_name} is no longer volunteering with us: there is nothing to review."
        )
    findings = _findings(entry.findings)
    organisations = _organisations(entry.organisations)
    wards = _wards(session, entry.wards)
    task_types = _task_types(session, entry.task_types)
    _agree(findings, organisations, wards, task_types)
    lines = volunteer.conflict_review_lines
    if HEALTH in lines and not entry.employer_permission:
        raise ConflictReviewError(
            "Confirm that their employer has given permission for them to volunteer. Health staff are not "
            "deployed without it: record the review once it has been given",
            "employer_permission",
        )
    notes = (entry.notes or "").strip()
    if not notes:
        raise ConflictReviewError("Enter what the review looked at and why you reached this outcome", "notes")
    if len(notes) > NOTES_MAX:
        raise ConflictReviewError(f"The reasons must be {NOTES_MAX:,} characters or fewer", "notes")

    outcome = outcome_of(findings)
    review = ConflictReview(
        volunteer_id=volunteer.id,
        outcome=outcome,
        lines_of_work=join_lines(lines),
        employer=volunteer.employer[:120],
        employer_permission=True if HEALTH in lines else None,
        notes=notes,
        recorded_by_id=actor_id,
        recorded_at=now,
    )
    review.findings = (
        [ConflictReviewFinding(organisation=name) for name in organisations]
        + [ConflictReviewFinding(ward_id=ward.id) for ward in wards]
        + [ConflictReviewFinding(task_type_code=code) for code in task_types]
    )
    session.add(review)
    session.flush()
    audit(
        session,
        actor_id=actor_id,
        action="conflict_review.recorded",
        subject_type="volunteer",
        subject_id=volunteer.id,
        # What was found, for the log's readers (vetting officers); the reasons stay on the review itself.
        detail={
            "review": review.id,
            "outcome": outcome.value,
            "lines_of_work": sorted(lines),
            "organisations": organisations,
            "wards": [ward.code for ward in wards],
            "task_types": task_types,
        },
        key=key,
        at=now,
    )
    if outcome is not Outcome.NO_CONFLICT:
        # A finding narrows what the person may do: what it rules out is withdrawn with it, or not at all.
        for hook in seams().eligibility_changed:
            hook(session, Affected(volunteer_ids=frozenset({volunteer.id})), now)
    session.commit()
    return review


def _findings(chosen: Iterable[str]) -> set[Finding]:
    chosen = set(chosen)
    known = {NO_CONFLICT, *(f.value for f in Finding)}
    if not chosen:
        raise ConflictReviewError("Choose what the review found", "findings")
    if chosen - known:
        raise ConflictReviewError("Choose what the review found from the list", "findings")
    if NO_CONFLICT in chosen and len(chosen) > 1:
        raise ConflictReviewError(
            "Choose ‘No conflict of interest’ on its own, or only what the review found", "findings"
        )
    return {Finding(value) for value in chosen - {NO_CONFLICT}}


def _organisations(text: str) -> list[str]:
    names = split_entries(text)
    if len(names) > MOST_ENTRIES:
        raise ConflictReviewError(f"Enter at most {MOST_ENTRIES} organisations, one a line", "organisations")
    for name in names:
        if len(name) > ORGANISATION_MAX:
            raise ConflictReviewError(
                f"Each organisation’s name must be {ORGANISATION_MAX} characters or fewer: "
                f"‘{name[:40]}…’ is {len(name):,}",
                "organisations",
            )
        # The conflict rule matches a name inside a request's organisation: one of a letter or two matches
        # nearly every request, and would quietly keep the person from them all.
        if len(_NAME_CHARACTERS.findall(name)) < 2:
            raise ConflictReviewError(
                f"‘{name}’ is too short to name an organisation: enter its full name", "organisations"
            )
    return names


def _wards(session: Session, text: str) -> list[Ward]:
    lines = split_entries(text)
    if len(lines) > MOST_ENTRIES:
        raise ConflictReviewError(f"Enter at most {MOST_ENTRIES} wards, one a line", "wards")
    found: dict[int, Ward] = {}
    for line in lines:
        ward = _ward(session, line)
        found.setdefault(ward.id, ward)
    return list(found.values())


def _ward(session: Session, line: str) -> Ward:
    """The ward a line names: its ONS code, its name and borough ("King's Cross, Camden"), or a name only one
    borough has."""
    shown = line if len(line) <= 60 else line[:60] + "…"
    base = select(Ward).join(Borough, Borough.id == Ward.borough_id).options(joinedload(Ward.borough))
    if _WARD_CODE.match(line):
        ward = session.scalar(base.where(Ward.code == line.upper()))
        if ward is not None:
            return ward
    candidates = [(line, None)]
    if "," in line:
        name, _, borough = line.rpartition(",")
        candidates.insert(0, (name.strip(), borough.strip()))
    for name, borough in candidates:
        query = base.where(func.lower(Ward.name) == name.lower())
        if borough is not None:
            query = query.where(func.lower(Borough.name) == borough.lower())
        matches = list(session.scalars(query.limit(2)))
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ConflictReviewError(
                f"More than one borough has a ward called ‘{shown}’: add the borough, as in ‘{matches[0].label}’",
                "wards",
            )
    raise ConflictReviewError(
        f"‘{shown}’ is not a ward we know: enter its name and borough, as in ‘King's Cross, Camden’, "
        "or its code (E05 and six digits)",
        "wards",
    )


def _task_types(session: Session, chosen: Iterable[str]) -> list[str]:
    chosen = sorted(set(chosen))
    known = current_task_policies(session)
    if any(code not in known for code in chosen):
        raise ConflictReviewError("Choose task types from the list", "task_types")
    return chosen


def _agree(findings: set[Finding], organisations: list[str], wards: list[Ward], task_types: list[str]) -> None:
    """The boxes filled in agree with what the review found: each finding has its entries, and nothing is
    entered for a finding not chosen (it would be saved as nothing, and the person would not see why)."""
    if Finding.CONFLICTS in findings and not (organisations or wards):
        raise ConflictReviewError(
            "Enter the organisations or wards they have a conflict of interest with", "organisations"
        )
    if Finding.CONFLICTS not in findings:
        for box, entered in (("organisations", organisations), ("wards", wards)):
            if entered:
                raise ConflictReviewError(
                    f"You have entered {box}, but not chosen ‘Conflicts with organisations or wards’: choose it, "
                    "or clear this box",
                    box,
                )
    if Finding.NOT_SUITABLE in findings and not task_types:
        raise ConflictReviewError("Choose the task types they are not suitable for", "task_types")
    if Finding.NOT_SUITABLE not in findings and task_types:
        raise ConflictReviewError(
            "You have chosen task types, but not ‘Not suitable for some task types’: choose it, or untick them",
            "task_types",
        )
