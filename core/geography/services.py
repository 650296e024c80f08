"""Loading wards: from a real CSV file, or generated for the demo."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.geography.data import demo_wards
from core.geography.models import Borough, Ward

WARD_CSV_COLUMNS = ["ward code", "ward name", "borough name", "latitude", "longitude"]
_WARD_CODE = re.compile(r"^[EWSN]\d{8}$")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _borough_key(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("&", "and")).strip().lower()


def import_wards_csv(session: Session, text: str) -> ImportReport:
    """Create or update wards from CSV text (header: ward code, ward name, borough name, latitude,
    longitude). All or nothing: one bad row imports nothing, and every bad row is reported with
    its line number, so the file can be fixed in one go.
    """
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [column for column in WARD_CSV_COLUMNS if column not in header]
    if missing:
        report.errors.append(f"Line 1: the header is missing the column(s): {', '.join(missing)}")
        return report
    reader.fieldnames = header

    boroughs = {_borough_key(b.name): b for b in session.scalars(select(Borough))}
    existing = {w.code: w for w in session.scalars(select(Ward))}
    seen_codes: set[str] = set()
    seen_names: set[tuple[int, str]] = set()
    rows: list[tuple[str, str, Borough, float, float]] = []
    for line, row in enumerate(reader, start=2):
        problems = []
        code = (row.get("ward code") or "").strip().upper()
        name = (row.get("ward name") or "").strip()
        borough = boroughs.get(_borough_key(row.get("borough name") or ""))
        if not _WARD_CODE.match(code):
            problems.append(f"ward code {code!r} is not a 9-character ONS code such as E05013580")
        elif code in seen_codes:
            problems.append(f"ward code {code} appears more than once")
        if not name or len(name) > 80:
            problems.append("ward name must be 1 to 80 characters")
        if borough is None:
            problems.append(f"borough {(row.get('borough name') or '').strip()!r} is not a Met borough")
        elif (borough.id, name.lower()) in seen_names:
            problems.append(f"{name} appears twice in {borough.name}")
        lat = _coordinate(row.get("latitude"), -90, 90)
        lon = _coordinate(row.get("longitude"), -180, 180)
        if lat is None:
            problems.append("latitude must be a number between -90 and 90")
        if lon is None:
            problems.append("longitude must be a number between -180 and 180")
        if problems:
            report.errors.append(f"Line {line}: " + "; ".join(problems))
            continue
        seen_codes.add(code)
        seen_names.add((borough.id, name.lower()))
        rows.append((code, name, borough, lat, lon))
    if report.errors:
        return report
    if not rows:
        report.errors.append("The file has no ward rows")
        return report

    for code, name, borough, lat, lon in rows:
        ward = existing.get(code)
        if ward is None:
            session.add(Ward(code=code, name=name, borough_id=borough.id, latitude=lat, longitude=lon))
            report.created += 1
        else:
            ward.name, ward.borough_id, ward.latitude, ward.longitude = name, borough.id, lat, lon
            report.updated += 1
    session.commit()
    return report


def _coordinate(raw: str | None, low: float, high: float) -> float | None:
    try:
        value = float((raw or "").strip())
    except ValueError:
        return None
    return value if low <= value <= high else None


def ensure_demo_wards(session: Session) -> int:
    """Generate plausible wards when none exist (no real file imported). Returns how many."""
    if session.scalar(select(func.count(Ward.id))):
        return 0
    boroughs = {b.name: b for b in session.scalars(select(Borough))}
    wards = demo_wards([(b.name, b.latitude, b.longitude) for b in boroughs.values()])
    session.add_all(
        Ward(code=w.code, name=w.name, borough_id=boroughs[w.borough].id, latitude=w.latitude, longitude=w.longitude)
        for w in wards
    )
    session.flush()
    return len(wards)
