"""The audit log as vetting officers read it: filtered by person, officer, action and dates, in words,
a page at a time or as a CSV file. Reading it and exporting it are each recorded in the log itself.

The log knows subjects only as (type, id): vetting knows that a person's record is the volunteer, their
clearances and their reviews, and the names to show for each.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.audit import browse
from core.audit.browse import AuditFilter
from core.audit.models import AuditEntry
from core.audit.services import record as audit
from core.auth.models import Role, User
from core.field_errors import FieldError
from core.pagination import Page
from core.timeutil import LONDON, london_to_utc
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE
from vetting.lifecycle import ReviewKind
from vetting.models import Clearance, VettingReview
from vetting.policy import current_task_policies
from volunteers.models import Volunteer

PER_PAGE = 50
# The log's actions in words. Keyed by the action text, not by ClearanceEvent, so an entry written
# by an older or newer version of the code still reads; an action missing here reads by its code.
ACTION_LABELS: dict[str, str] = {
    "clearance.start": "Clearance application started",
    "clearance.grant": "Clearance granted",
    "clearance.grant_with_restrictions": "Clearance granted with restrictions",
    "clearance.refuse": "Clearance refused",
    "clearance.discontinue": "Application discontinued",
    "clearance.mark_renewal_due": "Clearance due for renewal",
    "clearance.renew": "Clearance renewed",
    "clearance.lapse": "Clearance lapsed",
    "clearance.suspend": "Clearance suspended",
    "clearance.reinstate": "Clearance reinstated",
    "clearance.withdraw": "Clearance withdrawn",
    "clearance.withdraw_not_needed": "Clearance ended: no longer needed",
    "clearance.appeal": "Appeal lodged",
    "clearance.appeal_withdrawn": "Appeal ended: the volunteer left",
    "clearance.decision_upheld": "Appeal decided: decision upheld",
    "clearance.decision_overturned": "Appeal decided: decision overturned",
    "clearance.refusal_proposed": "Refusal entered (awaiting a second officer)",
    "clearance.withdrawal_proposed": "Withdrawal entered (awaiting a second officer)",
    "clearance.overturn_proposed": "Overturn entered (awaiting a second officer)",
    "clearance.decision_proposed": "Decision entered (awaiting a second officer)",
    "clearance.proposal_dropped": "Decision awaiting a second officer dropped",
    "review.closed": "Review closed",
    "review.information_recorded": "Information recorded for a review",
    "vetting_record.viewed": "Vetting record viewed",
    "audit_log.viewed": "Audit log viewed",
    "audit_log.exported": "Audit log exported",
    "policy.validity_changed": "Clearance validity changed",
    "policy.task_type_changed": "Task type policy changed",
    "policy.task_type_added": "Task type added",
    "dbs.status_checked": "DBS Update Service status check recorded",
}
SYSTEM = "system"  # the "Done by" choice for entries with no actor


def action_label(action: str) -> str:
    """An action in words; one this page does not know yet reads "Conflict review: recorded"."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    subject, _, verb = action.partition(".")
    words = subject.replace("_", " ").capitalize()
    return f"{words}: {verb.replace('_', ' ')}" if verb else words


class AuditFilterError(FieldError):
    """A filter of the audit log cannot be applied; ``field`` names the box."""


@dataclass(frozen=True)
class AuditQuery:
    """What a vetting officer asked the log for, as typed (for the record of the view) and as a filter."""

    person_text: str = ""
    actor: str | None = None  # a user id as text, or SYSTEM
    action: str | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None

    def as_detail(self) -> dict:
        """The query as the audit entry of a view or export records it (only the filters in use)."""
        values = {
            "person": self.person_text,
            "actor": self.actor,
            "action": self.action,
            "from": self.from_date.isoformat() if self.from_date else None,
            "to": self.to_date.isoformat() if self.to_date else None,
        }
        return {key: value for key, value in values.items() if value}


def find_person(session: Session, text: str) -> Volunteer:
    """The one volunteer ``text`` names: an exact email address or full name, or else a part of one
    name or address that only one person has.

    Raises AuditFilterError (on the person field) when nobody or more than one person matches.
    """
    wanted = text.strip()
    for exact in (User.email == wanted.lower(), func.lower(User.full_name) == wanted.lower()):
        found = list(session.scalars(select(Volunteer).join(User, User.id == Volunteer.user_id).where(exact).limit(2)))
        if len(found) == 1:
            return found[0]
    matches = list(
        session.scalars(
            select(Volunteer)
            .join(User, User.id == Volunteer.user_id)
            .where(
                or_(User.full_name.icontains(wanted, autoescape=True), User.email.icontains(wanted, autoescape=True))
            )
            .limit(2)
        )
    )
    if not matches:
        raise AuditFilterError(f"No volunteer’s name or email address contains ‘{wanted}’", "person")
    if len(matches) > 1:
        raise AuditFilterError(f"More than one volunteer matches ‘{wanted}’: enter their email address", "person")
    return matches[0]


def person_subjects(session: Session, volunteer_id: int) -> tuple[browse.SubjectGroup, ...]:
    """What the log may be about when it is about this person: them, their clearances, their reviews."""
    clearances = session.scalars(select(Clearance.id).where(Clearance.volunteer_id == volunteer_id)).all()
    reviews = session.scalars(select(VettingReview.id).where(VettingReview.volunteer_id == volunteer_id)).all()
    return (
        ("volunteer", (str(volunteer_id),)),
        ("clearance", tuple(str(i) for i in clearances)),
        ("vetting_review", tuple(str(i) for i in reviews)),
    )


def to_filter(session: Session, query: AuditQuery) -> tuple[AuditFilter, Volunteer | None]:
    """The log filter for ``query``, and the person it names; raises AuditFilterError for a person not found."""
    person = find_person(session, query.person_text) if query.person_text.strip() else None
    return (
        AuditFilter(
            actor_id=int(query.actor) if query.actor and query.actor != SYSTEM else None,
            by_system=query.actor == SYSTEM,
            action=query.action,
            subjects=person_subjects(session, person.id) if person else None,
            since=london_to_utc(query.from_date, dt.time(0, 0)) if query.from_date else None,
            before=london_to_utc(query.to_date + dt.timedelta(days=1), dt.time(0, 0)) if query.to_date else None,
        ),
        person,
    )


def actor_choices(session: Session) -> list[tuple[str, str]]:
    """Who may be chosen under "Done by": the system, then vetting officers and coordinators by name."""
    staff = session.execute(
        select(User.id, User.full_name, User.role)
        .where(User.role.in_((Role.VETTING_OFFICER, Role.COORDINATOR)))
        .order_by(User.full_name, User.id)
    ).all()
    return [(SYSTEM, "The system (nightly sweep)")] + [
        (str(user_id), f"{name} ({role.label.lower()})") for user_id, name, role in staff
    ]


# How far back the "Action" list looks for actions this page has no words for yet. The log grows with
# every view of a record, so a DISTINCT over all of it would cost more with every page; the newest
# entries (found by the seq index) hold any action in use.
RECENT_ACTIONS_WINDOW = 50_000


def action_choices(session: Session) -> list[tuple[str, str]]:
    """Every action this page knows and every one in recent use, in words, alphabetically."""
    recent = browse.last_seq(session) - RECENT_ACTIONS_WINDOW
    present = set(session.scalars(select(AuditEntry.action).where(AuditEntry.seq > recent).distinct()))
    actions = present | set(ACTION_LABELS)
    return sorted(((a, action_label(a)) for a in actions), key=lambda pair: pair[1])


# ---- Entries in words ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One entry as the page and the CSV file show it."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    action_text: str
    subject_type: str
    subject_id: str
    about: str
    person_id: int | None  # the volunteer the entry is about, for a link to their record
    details: tuple[str, ...]
    detail_json: str


def _names_of(session: Session, query) -> dict[int, str]:
    return {row_id: name for row_id, name in session.execute(query)}


class _Names:
    """Names for a batch of entries, looked up a batch at a time (no query per row)."""

    def __init__(self, session: Session, rows: Iterable):
        rows = list(rows)
        actor_ids = {r.actor_id for r in rows if r.actor_id is not None}
        by_type: dict[str, set[int]] = {}
        for r in rows:
            if r.subject_id.isdigit() and len(r.subject_id) < 10:
                by_type.setdefault(r.subject_type, set()).add(int(r.subject_id))
        self.users = _names_of(session, select(User.id, User.full_name).where(User.id.in_(actor_ids)))
        # subject → (volunteer id, what it is)
        self.clearances = {
            i: (v, code)
            for i, v, code in session.execute(
                select(Clearance.id, Clearance.volunteer_id, Clearance.type_code).where(
                    Clearance.id.in_(by_type.get("clearance", ()))
                )
            )
        }
        self.reviews = {
            i: (v, kind)
            for i, v, kind in session.execute(
                select(VettingReview.id, VettingReview.volunteer_id, VettingReview.kind).where(
                    VettingReview.id.in_(by_type.get("vetting_review", ()))
                )
            )
        }
        people = by_type.get("volunteer", set()) | {v for v, _ in self.clearances.values()}
        people |= {v for v, _ in self.reviews.values()}
        # Task types as coordinators keep them (added ones too), read only if an entry is about one.
        self.tasks = (
            {code: policy.name for code, policy in current_task_policies(session).items()}
            if any(r.subject_type == "task_type" for r in rows)
            else {}
        )
        self.people = _names_of(
            session,
            select(Volunteer.id, User.full_name)
            .join(User, User.id == Volunteer.user_id)
            .where(Volunteer.id.in_(people)),
        )

    def actor(self, actor_id: int | None) -> str:
        if actor_id is None:
            return "The system"
        return self.users.get(actor_id, f"Account {actor_id}")

    def about(self, subject_type: str, subject_id: str) -> tuple[str, int | None]:
        number = int(subject_id) if subject_id.isdigit() and len(subject_id) < 10 else None
        if subject_type == "volunteer" and number is not None:
            return self.people.get(number, f"Volunteer {number}"), number
        if subject_type == "clearance" and number in self.clearances:
            person, code = self.clearances[number]
            kind = CLEARANCE_TYPES_BY_CODE[code].name if code in CLEARANCE_TYPES_BY_CODE else code
            return f"{self.people.get(person, f'Volunteer {person}')}: {kind}", person
        if subject_type == "vetting_review" and number in self.reviews:
            person, kind = self.reviews[number]
            return f"{self.people.get(person, f'Volunteer {person}')}: {_kind_words(kind)}", person
        if subject_type == "clearance_type":
            clearance_type = CLEARANCE_TYPES_BY_CODE.get(subject_id)
            return f"Clearance type: {clearance_type.name if clearance_type else subject_id}", None
        if subject_type == "task_type":
            return f"Task type: {self.tasks.get(subject_id, subject_id)}", None
        if subject_type == "audit_log":
            return "The audit log", None
        return f"{subject_type.replace('_', ' ').capitalize()} {subject_id}", None


def _kind_words(kind: ReviewKind) -> str:
    return {
        ReviewKind.NEW_APPLICATION: "new application",
        ReviewKind.RENEWAL: "renewal review",
        ReviewKind.TRIGGERED: "triggered review",
        ReviewKind.APPEAL: "appeal",
    }.get(kind, kind.value.replace("_", " "))


def _details(detail_json: str) -> tuple[str, ...]:
    """The entry's detail as short lines; a policy edit says which settings changed, not both policies."""
    try:
        detail = json.loads(detail_json)
    except ValueError:
        return (detail_json,)
    if not isinstance(detail, Mapping):
        return (str(detail),)
    before, after = detail.get("before"), detail.get("after")
    lines = []
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        lines.append("Changed: " + (", ".join(k.replace("_", " ") for k in changed) or "nothing"))
    for key, value in sorted(detail.items()):
        if key in ("before", "after") and lines:
            continue
        shown = value if isinstance(value, str | int | float) else json.dumps(value, sort_keys=True)
        lines.append(f"{key.replace('_', ' ')}: {shown}")
    return tuple(lines)


def _lines(session: Session, rows: list) -> list[Line]:
    names = _Names(session, rows)
    lines = []
    for row in rows:
        about, person = names.about(row.subject_type, row.subject_id)
        lines.append(
            Line(
                seq=row.seq,
                at=row.at,
                actor=names.actor(row.actor_id),
                action=row.action,
                action_text=action_label(row.action),
                subject_type=row.subject_type,
                subject_id=row.subject_id,
                about=about,
                person_id=person,
                details=_details(row.detail),
                detail_json=row.detail,
            )
        )
    return lines


# ---- Reading and exporting, each recorded -------------------------------------------------------


def _subject(person: Volunteer | None) -> tuple[str, str]:
    # A view of one person's trail is a view of their vetting record: it shows in their own trail.
    return ("volunteer", str(person.id)) if person else ("audit_log", "all")


def read_log(
    session: Session, query: AuditQuery, raw_page: str | None, officer_id: int, key: bytes
) -> tuple[Page, Volunteer | None]:
    """A vetting officer reads a page of the log (newest first); the reading is logged (one commit).

    The page's items are ``Line``s. Raises AuditFilterError when the person asked for is not found.
    """
    audit_filter, person = to_filter(session, query)
    page = browse.entries_page(session, audit_filter, raw_page, per_page=PER_PAGE)
    page.items = _lines(session, page.items)
    subject_type, subject_id = _subject(person)
    audit(
        session,
        actor_id=officer_id,
        action="audit_log.viewed",
        subject_type=subject_type,
        subject_id=subject_id,
        detail={**query.as_detail(), "page": page.number, "entries": page.total},
        key=key,
    )
    session.commit()
    return page, person


CSV_HEADER = ("Entry", "When (UTC)", "When (London)", "Done by", "Action", "Action code", "About", "Subject", "Detail")


def export_log(session: Session, query: AuditQuery, officer_id: int, key: bytes) -> tuple[int, Iterator[str]]:
    """A vetting officer exports the filtered log as CSV: the export is logged and committed first,
    then the rows are streamed (newest first) as the log stood before it.

    Returns how many entries and the CSV text in chunks. Raises AuditFilterError as ``read_log``.
    """
    audit_filter, person = to_filter(session, query)
    pinned = replace(audit_filter, up_to_seq=browse.last_seq(session))
    total = browse.count_entries(session, pinned)
    subject_type, subject_id = _subject(person)
    audit(
        session,
        actor_id=officer_id,
        action="audit_log.exported",
        subject_type=subject_type,
        subject_id=subject_id,
        detail={**query.as_detail(), "entries": total},
        key=key,
    )
    session.commit()

    def rows() -> Iterator[tuple]:
        batch: list = []
        for row in browse.iter_entries(session, pinned):
            batch.append(row)
            if len(batch) == 500:
                yield from _csv_rows(session, batch)
                batch = []
        yield from _csv_rows(session, batch)

    return total, browse.csv_text(CSV_HEADER, rows())


def _csv_rows(session: Session, batch: list) -> Iterator[tuple]:
    for line in _lines(session, batch):
        yield (
            line.seq,
            line.at.isoformat(),
            line.at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S"),
            line.actor,
            line.action_text,
            line.action,
            line.about,
            f"{line.subject_type} {line.subject_id}",
            line.detail_json,
        )
