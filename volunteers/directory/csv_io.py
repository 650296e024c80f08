"""Volunteer CSV files: the columns, reading rows into plain records with row-level errors, and writing.

Pure: no Flask, no ORM. The values coded columns may take come in a ``Vocabulary`` the caller builds
from the model enums and the database (ward codes, task types), so this module can be tested alone.

One row per volunteer. Lists live in one cell each, items separated by ``;``:

* skills: ``code:level:evidence status:body:registration number:expiry (YYYY-MM-DD)``,
  e.g. ``rmn:expert:verified:NMC:NMC123456:2027-03-31`` or ``osint:aware:not_needed:::``
* preferences: task type codes, e.g. ``cyber_victim_visit;mental_health_escort``
* availability: ``Mon 09:00-13:00;Wed 18:00-22:00`` (London wall clock; 24:00 ends at midnight)
* conflicts: ``category:ward code:organisation`` (ward code may be empty; the organisation comes
  last, so it may contain ``:``)
* blocked_periods: ``first day:last day:reason``, e.g. ``2026-07-01:2026-07-14:holiday``

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, so the
writer puts a ``'`` before such cells and the reader takes it off again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from volunteers.phone import InvalidPhone, uk_phone
from volunteers.skills import SKILLS_BY_CODE, PatrolStatus, SkillLevel

__all__ = [
    "COLUMNS",
    "BlockRecord",
    "ConflictRecord",
    "ParseResult",
    "RowError",
    "SkillRecord",
    "SlotRecord",
    "VolunteerRecord",
    "Vocabulary",
    "decode",
    "read_volunteers",
    "record_to_row",
    "write_volunteers",
]

COLUMNS: tuple[str, ...] = (
    "email",
    "full_name",
    "kind",
    "status",
    "phone",
    "home_ward_code",
    "travel_limit_km",
    "weekly_hours_cap_minutes",
    "adjustment",
    "occupation",
    "occupation_category",
    "employer",
    "military_reservist",
    "warrant_number",
    "patrol_status",
    "monthly_commitment_minutes",
    "skills",
    "preferences",
    "availability",
    "conflicts",
    "blocked_periods",
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_TRAVEL_KM = 200
MAX_WEEKLY_MINUTES = 4200  # the database's limit: 70 hours
MAX_MONTHLY_MINUTES = 200 * 60
_PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
_WHOLE = re.compile(r"^\d{1,6}$")
_WARRANT = re.compile(r"^[A-Z0-9]{1,20}$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Vocabulary:
    """The values the coded columns may take. Built by the caller from the model enums and the database."""

    kinds: frozenset[str]
    statuses: frozenset[str]
    adjustments: frozenset[str]
    occupation_categories: frozenset[str]
    evidence_statuses: frozenset[str]
    conflict_categories: frozenset[str]
    block_reasons: frozenset[str]
    ward_codes: frozenset[str]
    task_type_codes: frozenset[str]
    special_kind: str = "special"  # the kind that has a warrant, a patrol status and a monthly commitment


@dataclass(frozen=True)
class SkillRecord:
    code: str
    level: str
    evidence_status: str
    evidence_body: str | None = None
    registration_number: str | None = None
    evidence_expires_on: dt.date | None = None


@dataclass(frozen=True)
class SlotRecord:
    weekday: int  # 0 = Monday
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class ConflictRecord:
    category: str
    organisation: str
    ward_code: str | None = None


@dataclass(frozen=True)
class BlockRecord:
    first_day: dt.date
    last_day: dt.date
    reason: str


@dataclass(frozen=True)
class VolunteerRecord:
    email: str
    full_name: str
    kind: str
    status: str
    phone: str = ""
    home_ward_code: str | None = None
    travel_limit_km: int = 5
    weekly_hours_cap_minutes: int = 480
    adjustment: str = "none"
    occupation: str = ""
    occupation_category: str = "other"
    employer: str = ""
    military_reservist: bool = False
    warrant_number: str | None = None
    patrol_status: str | None = None
    monthly_commitment_minutes: int | None = None
    skills: tuple[SkillRecord, ...] = ()
    preferences: tuple[str, ...] = ()
    availability: tuple[SlotRecord, ...] = ()
    conflicts: tuple[ConflictRecord, ...] = ()
    blocked_periods: tuple[BlockRecord, ...] = ()


@dataclass(frozen=True, order=True)
class RowError:
    """A problem with one row. Row numbers are the spreadsheet's: the header is row 1."""

    row: int
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}: {self.message}"


@dataclass
class ParseResult:
    records: list[tuple[int, VolunteerRecord]] = field(default_factory=list)  # (row number, record)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _defuse(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _restore(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS) else value


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def record_to_row(record: VolunteerRecord) -> list[str]:
    """The CSV cells of one volunteer, in ``COLUMNS`` order."""
    skills = ";".join(
        ":".join(
            [
                s.code,
                s.level,
                s.evidence_status,
                s.evidence_body or "",
                s.registration_number or "",
                _date(s.evidence_expires_on),
            ]
        )
        for s in record.skills
    )
    slots = ";".join(
        f"{WEEKDAYS[s.weekday]} {_clock(s.start_minute)}-{_clock(s.end_minute)}" for s in record.availability
    )
    conflicts = ";".join(f"{c.category}:{c.ward_code or ''}:{c.organisation}" for c in record.conflicts)
    blocks = ";".join(f"{_date(b.first_day)}:{_date(b.last_day)}:{b.reason}" for b in record.blocked_periods)
    cells = [
        record.email,
        record.full_name,
        record.kind,
        record.status,
        record.phone,
        record.home_ward_code or "",
        str(record.travel_limit_km),
        str(record.weekly_hours_cap_minutes),
        record.adjustment,
        record.occupation,
        record.occupation_category,
        record.employer,
        "yes" if record.military_reservist else "no",
        record.warrant_number or "",
        record.patrol_status or "",
        "" if record.monthly_commitment_minutes is None else str(record.monthly_commitment_minutes),
        skills,
        ";".join(record.preferences),
        slots,
        conflicts,
        blocks,
    ]
    return [_defuse(cell) for cell in cells]


def write_volunteers(records: Iterable[VolunteerRecord], rows_per_chunk: int = 500) -> Iterator[str]:
    """The CSV text in chunks (a byte-order mark and the header first), for streaming or writing to a file.

    The byte-order mark makes spreadsheet programs read the file as UTF-8; the reader ignores it.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for record in records:
        writer.writerow(record_to_row(record))
        pending += 1
        if pending == rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The text of an uploaded file; ValueError (with a message for the person) if it is not CSV text."""
    if b"\x00" in data:
        raise ValueError("The selected file is not a CSV file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The selected file is not UTF-8 text: save it as CSV UTF-8 and try again") from None


class _Row:
    """One row being read: its cells, and the problems found so far."""

    def __init__(self, number: int, cells: dict[str, str]):
        self.number = number
        self.cells = cells
        self.problems: list[str] = []

    def text(self, column: str, max_length: int, required: bool = False, label: str | None = None) -> str:
        value = self.cells.get(column, "").strip()
        label = label or column.replace("_", " ")
        if required and not value:
            self.problems.append(f"{label} is missing")
        elif len(value) > max_length:
            self.problems.append(f"{label} must be {max_length} characters or fewer")
        return value

    def choice(self, column: str, allowed: Iterable[str], blank_allowed: bool = False) -> str | None:
        value = self.cells.get(column, "").strip().lower()
        if not value and blank_allowed:
            return None
        allowed = sorted(allowed)
        if value not in allowed:
            shown = f"{value!r}" if value else "blank"
            self.problems.append(f"{column.replace('_', ' ')} {shown} is not one of: {', '.join(allowed)}")
            return None
        return value

    def whole_number(self, column: str, low: int, high: int, blank_allowed: bool = False) -> int | None:
        value = self.cells.get(column, "").strip()
        if not value and blank_allowed:
            return None
        if not _WHOLE.match(value) or not low <= int(value) <= high:
            shown = f"{value!r}" if value else "blank"
            self.problems.append(f"{column.replace('_', ' ')} {shown} must be a whole number from {low} to {high}")
            return None
        return int(value)

    def iso_date(self, value: str, what: str) -> dt.date | None:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            self.problems.append(f"{what} {value!r} is not a date in the form YYYY-MM-DD")
            return None

    def items(self, column: str) -> list[str]:
        return [item.strip() for item in self.cells.get(column, "").split(";") if item.strip()]


def _read_email(row: _Row, seen: dict[str, int]) -> str:
    raw = row.text("email", 254, required=True, label="email address")
    email = raw.lower()
    if not raw or len(raw) > 254:
        return email
    try:
        validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        row.problems.append(f"email address {raw!r} is not in the correct format, like name@example.org")
        return email
    if email in seen:
        row.problems.append(f"email address {email} is also on row {seen[email]}")
    else:
        seen[email] = row.number
    return email


def _read_skills(row: _Row, vocabulary: Vocabulary) -> tuple[SkillRecord, ...]:
    skills: list[SkillRecord] = []
    codes: set[str] = set()
    levels = {level.value for level in SkillLevel}
    for item in row.items("skills"):
        parts = [part.strip() for part in item.split(":")]
        if len(parts) != 6:
            row.problems.append(
                f"skill {item!r} must have 6 parts: code:level:evidence status:body:registration number:expiry"
            )
            continue
        code, level, status, body, registration, expiry = parts
        code, level, status = code.lower(), level.lower(), status.lower()
        problems_before = len(row.problems)
        if code not in SKILLS_BY_CODE:
            row.problems.append(f"skill code {code!r} is not known")
        elif code in codes:
            row.problems.append(f"skill {code} is listed twice")
        if level not in levels:
            row.problems.append(f"skill level {level!r} is not one of: {', '.join(sorted(levels))}")
        if status not in vocabulary.evidence_statuses:
            row.problems.append(
                f"evidence status {status!r} is not one of: {', '.join(sorted(vocabulary.evidence_statuses))}"
            )
        if len(body) > 40 or len(registration) > 40:
            row.problems.append(f"skill {code}: the body and the registration number must be 40 characters or fewer")
        expires = row.iso_date(expiry, f"skill {code} expiry") if expiry else None
        codes.add(code)
        if len(row.problems) == problems_before:
            skills.append(SkillRecord(code, level, status, body or None, registration or None, expires))
    return tuple(skills)


def _minute_of(text: str) -> int | None:
    match = _TIME.match(text)
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def _read_slots(row: _Row) -> tuple[SlotRecord, ...]:
    slots = []
    days = {name.lower(): index for index, name in enumerate(WEEKDAYS)}
    for item in row.items("availability"):
        match = re.fullmatch(r"(\w+)\s+([\d:]+)\s*-\s*([\d:]+)", item)
        weekday = days.get(match[1][:3].lower()) if match else None
        start = _minute_of(match[2]) if match else None
        end = _minute_of(match[3]) if match else None
        if weekday is None or start is None or end is None:
            row.problems.append(f"availability {item!r} must look like Mon 09:00-13:00")
        elif start >= end:
            row.problems.append(f"availability {item!r} must end after it starts")
        else:
            slots.append(SlotRecord(weekday, start, end))
    return tuple(slots)


def _read_conflicts(row: _Row, vocabulary: Vocabulary) -> tuple[ConflictRecord, ...]:
    conflicts = []
    for item in row.items("conflicts"):
        parts = item.split(":", 2)
        if len(parts) != 3:
            row.problems.append(f"conflict {item!r} must look like category:ward code:organisation")
            continue
        category, ward_code, organisation = parts[0].strip().lower(), parts[1].strip().upper(), parts[2].strip()
        problems_before = len(row.problems)
        if category not in vocabulary.conflict_categories:
            row.problems.append(
                f"conflict category {category!r} is not one of: {', '.join(sorted(vocabulary.conflict_categories))}"
            )
        if ward_code and ward_code not in vocabulary.ward_codes:
            row.problems.append(f"conflict ward code {ward_code} is not known")
        if not organisation or len(organisation) > 160:
            row.problems.append(f"conflict {item!r}: the organisation must be 1 to 160 characters")
        if len(row.problems) == problems_before:
            conflicts.append(ConflictRecord(category, organisation, ward_code or None))
    return tuple(conflicts)


def _read_blocks(row: _Row, vocabulary: Vocabulary) -> tuple[BlockRecord, ...]:
    blocks = []
    for item in row.items("blocked_periods"):
        parts = [part.strip() for part in item.split(":")]
        if len(parts) != 3:
            row.problems.append(f"blocked period {item!r} must look like 2026-07-01:2026-07-14:holiday")
            continue
        problems_before = len(row.problems)
        first = row.iso_date(parts[0], "blocked period first day")
        last = row.iso_date(parts[1], "blocked period last day")
        reason = parts[2].lower()
        if reason not in vocabulary.block_reasons:
            row.problems.append(
                f"blocked period reason {reason!r} is not one of: {', '.join(sorted(vocabulary.block_reasons))}"
            )
        if first and last and first > last:
            row.problems.append(f"blocked period {item!r} ends before it starts")
        if len(row.problems) == problems_before and first and last:
            blocks.append(BlockRecord(first, last, reason))
    return tuple(blocks)


def _read_record(row: _Row, vocabulary: Vocabulary, seen_emails: dict[str, int]) -> VolunteerRecord | None:
    email = _read_email(row, seen_emails)
    full_name = row.text("full_name", 120, required=True, label="full name")
    kind = row.choice("kind", vocabulary.kinds)
    status = row.choice("status", vocabulary.statuses)
    phone = row.text("phone", 30)
    if phone and not _PHONE.match(phone):
        row.problems.append(f"phone {phone!r} is not a telephone number, like 07700 900 982")
    elif phone:
        try:
            uk_phone(phone)  # the same rule as the volunteer's own form (issue #19)
        except InvalidPhone as exc:
            row.problems.append(f"phone {phone!r}: {exc}")
    ward_code = row.cells.get("home_ward_code", "").strip().upper() or None
    if ward_code and ward_code not in vocabulary.ward_codes:
        row.problems.append(f"ward code {ward_code} is not known")
    travel = row.whole_number("travel_limit_km", 0, MAX_TRAVEL_KM)
    weekly = row.whole_number("weekly_hours_cap_minutes", 0, MAX_WEEKLY_MINUTES)
    adjustment = row.choice("adjustment", vocabulary.adjustments)
    occupation = row.text("occupation", 120)
    category = row.choice("occupation_category", vocabulary.occupation_categories)
    employer = row.text("employer", 120)
    reservist = row.choice("military_reservist", ["yes", "no"])
    warrant = row.text("warrant_number", 20).upper() or None
    if warrant and not _WARRANT.match(warrant):
        row.problems.append(f"warrant number {warrant!r} must be letters and digits only")
    patrol = row.choice("patrol_status", [p.value for p in PatrolStatus], blank_allowed=True)
    monthly = row.whole_number("monthly_commitment_minutes", 0, MAX_MONTHLY_MINUTES, blank_allowed=True)
    if kind and kind != vocabulary.special_kind and (warrant or patrol or monthly is not None):
        row.problems.append("only special constables have a warrant number, patrol status or monthly commitment")
    skills = _read_skills(row, vocabulary)
    preferences = tuple(dict.fromkeys(code.lower() for code in row.items("preferences")))
    for code in preferences:
        if code not in vocabulary.task_type_codes:
            row.problems.append(f"task type {code!r} is not known")
    slots = _read_slots(row)
    conflicts = _read_conflicts(row, vocabulary)
    blocks = _read_blocks(row, vocabulary)
    if row.problems:
        return None
    assert kind and status and travel is not None and weekly is not None and adjustment and category
    return VolunteerRecord(
        email=email,
        full_name=full_name,
        kind=kind,
        status=status,
        phone=phone,
        home_ward_code=ward_code,
        travel_limit_km=travel,
        weekly_hours_cap_minutes=weekly,
        adjustment=adjustment,
        occupation=occupation,
        occupation_category=category,
        employer=employer,
        military_reservist=reservist == "yes",
        warrant_number=warrant,
        patrol_status=patrol,
        monthly_commitment_minutes=monthly,
        skills=skills,
        preferences=preferences,
        availability=slots,
        conflicts=conflicts,
        blocked_periods=blocks,
    )


def read_volunteers(text: str, vocabulary: Vocabulary) -> ParseResult:
    """Read and check every row. Records come back only for rows without problems; each problem is a RowError.

    The header must name every column in ``COLUMNS`` (in any order) and nothing else. Wholly blank
    rows are skipped. Checks that need the database beyond the vocabulary (an email address already
    taken) are the caller's.
    """
    result = ParseResult()
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
    except csv.Error as exc:
        result.errors.append(RowError(1, f"the file is not valid CSV ({exc})"))
        return result
    missing = [column for column in COLUMNS if column not in header]
    unknown = [column for column in header if column not in COLUMNS]
    repeated = sorted({column for column in header if header.count(column) > 1})
    if missing:
        result.errors.append(RowError(1, f"the header is missing the column(s): {', '.join(missing)}"))
    if unknown:
        result.errors.append(RowError(1, f"the header has unknown column(s): {', '.join(map(repr, unknown))}"))
    if repeated:
        result.errors.append(RowError(1, f"the header repeats the column(s): {', '.join(repeated)}"))
    if result.errors:
        return result

    seen_emails: dict[str, int] = {}
    number = 1
    try:
        for cells in reader:
            number += 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                result.errors.append(RowError(number, f"has {len(cells)} cells but the header has {len(header)}"))
                continue
            row = _Row(number, {column: _restore(cell) for column, cell in zip(header, cells, strict=True)})
            record = _read_record(row, vocabulary, seen_emails)
            if record is None:
                result.errors.extend(RowError(number, problem) for problem in row.problems)
            else:
                result.records.append((number, record))
    except csv.Error as exc:
        result.errors.append(RowError(number, f"the file is not valid CSV from here on ({exc})"))
    if not result.records and not result.errors:
        result.errors.append(RowError(2, "the file has no volunteer rows"))
    return result
