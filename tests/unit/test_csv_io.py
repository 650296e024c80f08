"""The volunteer CSV format on its own: writing, reading back, and every row-level check."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from volunteers.directory import csv_io
from volunteers.directory.csv_io import BlockRecord, ConflictRecord, SkillRecord, SlotRecord, VolunteerRecord

VOCABULARY = csv_io.Vocabulary(
    kinds=frozenset({"special", "psv"}),
    statuses=frozenset({"applied", "active", "paused", "left"}),
    adjustments=frozenset({"none", "desk_only", "remote_only"}),
    occupation_categories=frozenset({"other", "nhs_ambulance"}),
    evidence_statuses=frozenset({"not_needed", "pending", "verified", "rejected"}),
    conflict_categories=frozenset({"employer", "school"}),
    block_reasons=frozenset({"holiday", "mobilisation"}),
    ward_codes=frozenset({"E05000001", "E05000002"}),
    task_type_codes=frozenset({"cyber_victim_visit", "youth_liaison"}),
)

FULL = VolunteerRecord(
    email="=cmd@example.org",
    full_name='=HYPERLINK("http://x")',
    kind="special",
    status="active",
    phone="+44 20 7946 0000",
    home_ward_code="E05000001",
    travel_limit_km=8,
    weekly_hours_cap_minutes=390,
    adjustment="desk_only",
    occupation='Paramedic, "senior"',
    occupation_category="nhs_ambulance",
    employer="London Ambulance Service",
    military_reservist=True,
    warrant_number="SC12345",
    patrol_status="directed",
    monthly_commitment_minutes=960,
    skills=(
        SkillRecord("paramedic", "expert", "verified", "HCPC", "PA12345", dt.date(2027, 3, 31)),
        SkillRecord("lang_pl", "aware", "not_needed"),
    ),
    preferences=("cyber_victim_visit", "youth_liaison"),
    availability=(SlotRecord(0, 9 * 60, 13 * 60), SlotRecord(6, 18 * 60 + 30, 1440)),
    conflicts=(ConflictRecord("employer", "Acme: London office", "E05000002"), ConflictRecord("school", "St Mary's")),
    blocked_periods=(BlockRecord(dt.date(2026, 7, 1), dt.date(2026, 7, 14), "holiday"),),
)
PSV = VolunteerRecord(email="psv@example.org", full_name="Pat Smith", kind="psv", status="applied")


def _text(*records: VolunteerRecord) -> str:
    return "".join(csv_io.write_volunteers(records))


def _row(**cells: str) -> dict[str, str]:
    return dict(zip(csv_io.COLUMNS, csv_io.record_to_row(PSV), strict=True)) | cells


def _file(*rows: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_io.COLUMNS)
    for row in rows:
        writer.writerow([row[c] for c in csv_io.COLUMNS])
    return out.getvalue()


def _errors(*rows: dict[str, str]) -> list[str]:
    return [str(e) for e in csv_io.read_volunteers(_file(*rows), VOCABULARY).errors]


def test_what_is_written_reads_back_the_same():
    text = _text(FULL, PSV)
    result = csv_io.read_volunteers(text, VOCABULARY)
    assert result.ok, result.errors
    assert result.records == [(2, FULL), (3, PSV)]


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused():
    line = _text(FULL).splitlines()[1]
    assert line.startswith("'=cmd@example.org,\"'=HYPERLINK(") and ",'+44 20 7946 0000," in line


def test_written_in_chunks_with_a_byte_order_mark_and_the_header_first():
    chunks = list(csv_io.write_volunteers([PSV] * 5, rows_per_chunk=2))
    assert chunks[0] == "\ufeff" + ",".join(csv_io.COLUMNS) + "\r\n"
    assert [chunk.count("\r\n") for chunk in chunks[1:]] == [2, 2, 1]


def test_the_header_must_name_every_column_and_nothing_else():
    columns = [c for c in csv_io.COLUMNS if c != "phone"] + ["nickname", "email"]
    result = csv_io.read_volunteers(",".join(columns) + "\n", VOCABULARY)
    assert [str(e) for e in result.errors] == [
        "Row 1: the header is missing the column(s): phone",
        "Row 1: the header has unknown column(s): 'nickname'",
        "Row 1: the header repeats the column(s): email",
    ]
    # Any order, any case, surrounding spaces.
    shuffled = ", ".join(c.upper() for c in reversed(csv_io.COLUMNS))
    assert str(csv_io.read_volunteers(shuffled + "\n", VOCABULARY).errors[0]) == "Row 2: the file has no volunteer rows"


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"email": ""}, "email address is missing"),
        ({"email": "amira@"}, "email address 'amira@' is not in the correct format, like name@example.org"),
        ({"full_name": " "}, "full name is missing"),
        ({"full_name": "x" * 121}, "full name must be 120 characters or fewer"),
        ({"kind": "sheriff"}, "kind 'sheriff' is not one of: psv, special"),
        ({"status": ""}, "status blank is not one of: active, applied, left, paused"),
        ({"phone": "call me"}, "phone 'call me' is not a telephone number, like 07700 900 982"),
        ({"home_ward_code": "E05999999"}, "ward code E05999999 is not known"),
        ({"travel_limit_km": "-1"}, "travel limit km '-1' must be a whole number from 0 to 200"),
        ({"travel_limit_km": "201"}, "travel limit km '201' must be a whole number from 0 to 200"),
        ({"weekly_hours_cap_minutes": "8h"}, "weekly hours cap minutes '8h' must be a whole number from 0 to 4200"),
        ({"adjustment": "sofa"}, "adjustment 'sofa' is not one of: desk_only, none, remote_only"),
        ({"occupation_category": "pirate"}, "occupation category 'pirate' is not one of: nhs_ambulance, other"),
        ({"military_reservist": "maybe"}, "military reservist 'maybe' is not one of: no, yes"),
        ({"kind": "special", "warrant_number": "SC-1"}, "warrant number 'SC-1' must be letters and digits only"),
        (
            {"kind": "special", "patrol_status": "solo"},
            "patrol status 'solo' is not one of: accompanied, directed, qualified",
        ),
        (
            {"kind": "special", "monthly_commitment_minutes": "99999"},
            "monthly commitment minutes '99999' must be a whole number from 0 to 12000",
        ),
        (
            {"warrant_number": "SC1"},
            "only special constables have a warrant number, patrol status or monthly commitment",
        ),
        (
            {"skills": "rmn:expert"},
            "skill 'rmn:expert' must have 6 parts: code:level:evidence status:body:registration number:expiry",
        ),
        ({"skills": "astrology:expert:pending:::"}, "skill code 'astrology' is not known"),
        ({"skills": "rmn:guru:pending:::"}, "skill level 'guru' is not one of: aware, expert, practitioner"),
        (
            {"skills": "rmn:expert:maybe:::"},
            "evidence status 'maybe' is not one of: not_needed, pending, rejected, verified",
        ),
        (
            {"skills": "rmn:expert:pending:NMC:X1:31/03/2027"},
            "skill rmn expiry '31/03/2027' is not a date in the form YYYY-MM-DD",
        ),
        (
            {"skills": "rmn:expert:pending:NMC:X1:2027-02-30"},
            "skill rmn expiry '2027-02-30' is not a date in the form YYYY-MM-DD",
        ),
        ({"skills": "osint:aware:not_needed:::;osint:expert:not_needed:::"}, "skill osint is listed twice"),
        ({"preferences": "cyber_victim_visit;juggling"}, "task type 'juggling' is not known"),
        ({"availability": "Funday 09:00-10:00"}, "availability 'Funday 09:00-10:00' must look like Mon 09:00-13:00"),
        ({"availability": "Mon 09:00-24:30"}, "availability 'Mon 09:00-24:30' must look like Mon 09:00-13:00"),
        ({"availability": "Tue 10:00-10:00"}, "availability 'Tue 10:00-10:00' must end after it starts"),
        ({"conflicts": "employer"}, "conflict 'employer' must look like category:ward code:organisation"),
        ({"conflicts": "rival:E05000001:Acme"}, "conflict category 'rival' is not one of: employer, school"),
        ({"conflicts": "employer:E05999999:Acme"}, "conflict ward code E05999999 is not known"),
        ({"conflicts": "employer::"}, "conflict 'employer::': the organisation must be 1 to 160 characters"),
        (
            {"blocked_periods": "2026-07-14:2026-07-01:holiday"},
            "blocked period '2026-07-14:2026-07-01:holiday' ends before it starts",
        ),
        (
            {"blocked_periods": "2026-07-01:2026-07-14:party"},
            "blocked period reason 'party' is not one of: holiday, mobilisation",
        ),
    ],
)
def test_each_bad_value_is_a_row_error(cells, message):
    assert _errors(_row(**cells)) == [f"Row 2: {message}"]


def test_every_problem_of_every_row_is_reported_with_its_row_number():
    rows = [
        _row(email="a@example.org"),
        _row(email="b@example.org", kind="x", travel_limit_km="far"),
        _row(email="A@EXAMPLE.ORG"),
    ]
    assert _errors(*rows) == [
        "Row 3: kind 'x' is not one of: psv, special",
        "Row 3: travel limit km 'far' must be a whole number from 0 to 200",
        "Row 4: email address a@example.org is also on row 2",
    ]


def test_blank_rows_are_skipped_but_counted_and_short_rows_are_refused():
    text = _file(_row(email="a@example.org")) + "\n,,,\n" + "only,three,cells\n"
    result = csv_io.read_volunteers(text, VOCABULARY)
    assert [r for r, _ in result.records] == [2]
    assert [str(e) for e in result.errors] == [f"Row 5: has 3 cells but the header has {len(csv_io.COLUMNS)}"]


def test_values_are_tidied_as_they_are_read():
    result = csv_io.read_volunteers(
        _file(
            _row(
                email=" Pat.Smith@Example.ORG ",
                kind="PSV",
                home_ward_code="e05000001",
                preferences="youth_liaison;youth_liaison",
                availability="monday 9:00 - 17:30",
                skills="OSINT:Expert:NOT_NEEDED:::",
            )
        ),
        VOCABULARY,
    )
    ((_, record),) = result.records
    assert record.email == "pat.smith@example.org" and record.kind == "psv" and record.home_ward_code == "E05000001"
    assert record.preferences == ("youth_liaison",)
    assert record.availability == (SlotRecord(0, 540, 1050),)
    assert record.skills == (SkillRecord("osint", "expert", "not_needed"),)


def test_decode_accepts_utf8_with_or_without_a_byte_order_mark_and_nothing_else():
    assert csv_io.decode("\ufeffemail\nzoë".encode()) == "email\nzoë"
    assert csv_io.decode(b"email\n") == "email\n"
    with pytest.raises(ValueError, match="not a CSV file"):
        csv_io.decode(b"PK\x03\x04\x00\x00")
    with pytest.raises(ValueError, match="not UTF-8"):
        csv_io.decode("zoë".encode("latin-1"))
