"""Reading the audit log: filtered, newest first, a page at a time or every row for a CSV file.

Reads only. Who may read the log, naming its subjects, and recording in the log that someone read
it belong to the feature that shows it (vetting's audit page). Paging and exporting walk the unique
``seq`` index backwards, so the cost of a page does not grow with the log.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from core.audit.models import AuditEntry
from core.pagination import Page

# (subject_type, subject ids): entries about any of these ids of that type.
SubjectGroup = tuple[str, tuple[str, ...]]

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to read. Every condition given must hold; the defaults read the whole log.

    ``subjects`` None means any subject, and an empty tuple none at all (a person with no record).
    ``since`` is inclusive and ``before`` exclusive, both UTC. ``up_to_seq`` pins a reading to the
    log as it was, so an export lists what was asked for and not the entries written while it runs.
    """

    actor_id: int | None = None
    by_system: bool = False  # entries with no actor: the nightly sweep and other automatic steps
    action: str | None = None
    subjects: tuple[SubjectGroup, ...] | None = None
    since: dt.datetime | None = None
    before: dt.datetime | None = None
    up_to_seq: int | None = None

    def conditions(self) -> list:
        conditions: list = []
        if self.by_system:
            conditions.append(AuditEntry.actor_id.is_(None))
        elif self.actor_id is not None:
            conditions.append(AuditEntry.actor_id == self.actor_id)
        if self.action:
            conditions.append(AuditEntry.action == self.action)
        if self.subjects is not None:
            groups = [
                and_(AuditEntry.subject_type == kind, AuditEntry.subject_id.in_(ids))
                for kind, ids in self.subjects
                if ids
            ]
            conditions.append(or_(*groups) if groups else AuditEntry.id.is_(None))
        if self.since is not None:
            conditions.append(AuditEntry.at >= self.since)
        if self.before is not None:
            conditions.append(AuditEntry.at < self.before)
        if self.up_to_seq is not None:
            conditions.append(AuditEntry.seq <= self.up_to_seq)
        return conditions


def _entries(audit_filter: AuditFilter) -> Select:
    return select(AuditEntry).where(*audit_filter.conditions()).order_by(AuditEntry.seq.desc())


def entries_page(session: Session, audit_filter: AuditFilter, raw_page: str | None, per_page: int = 50) -> Page:
    """One page of the matching entries, newest first, with how many match in all."""
    count = select(func.count()).select_from(AuditEntry).where(*audit_filter.conditions())
    return Page.of(session, _entries(audit_filter), count, raw_page, per_page=per_page)


def count_entries(session: Session, audit_filter: AuditFilter) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry).where(*audit_filter.conditions())) or 0


def last_seq(session: Session) -> int:
    """The newest entry's position in the chain (0 for an empty log)."""
    return session.scalar(select(func.max(AuditEntry.seq))) or 0


# What an export reads of each entry: plain rows, not ORM objects, so memory stays flat.
EXPORT_COLUMNS = (
    AuditEntry.seq,
    AuditEntry.at,
    AuditEntry.actor_id,
    AuditEntry.action,
    AuditEntry.subject_type,
    AuditEntry.subject_id,
    AuditEntry.detail,
)


def iter_entries(session: Session, audit_filter: AuditFilter, batch_size: int = 1000) -> Iterator[Row]:
    """Every matching entry as a plain row (``EXPORT_COLUMNS``), newest first, ``batch_size`` at a time."""
    below: int | None = None
    while True:
        query = select(*EXPORT_COLUMNS).where(*audit_filter.conditions()).order_by(AuditEntry.seq.desc())
        if below is not None:
            query = query.where(AuditEntry.seq < below)
        batch = session.execute(query.limit(batch_size)).all()
        yield from batch
        if len(batch) < batch_size:
            return
        below = batch[-1].seq


def defuse(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs: a leading formula character gets a quote."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]], rows_per_chunk: int = 500) -> Iterator[str]:
    """CSV text in chunks of ``rows_per_chunk`` rows, each cell defused: for a streamed download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    pending = 1
    for row in rows:
        writer.writerow([defuse(str(cell)) for cell in row])
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending or buffer.tell():
        yield buffer.getvalue()
