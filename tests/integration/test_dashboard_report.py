"""The monthly BCU report (issue #21), on SQLite and PostgreSQL: one page per BCU, composed from the dashboards.

A small hand-made set; the month reported is the last whole London month (P), "today" is the real today. Every
expected figure below was worked out by hand from these rows (the comments say how):

- Wards: Camden 0 and Camden 1 (Central North BCU), Hackney 0 (Central East BCU). The sergeant has Camden 0.
- V1, a special (16 hours a month) living in Camden 0, joined before P: booked on R1 and attended for an hour.
- V2 lives in Camden 1 and joined in P: booked on R2 (not yet confirmed).
- V3 lives in Hackney 0 and joined in P. V4 lives in Camden 0, joined before P and left in P.
- R1 Camden 0, urgent, 2 places, on the 10th of P. R2 Camden 1, routine, 1 place, on the 11th of P.
  R3 Hackney 0, urgent, 3 places, on the 12th of P, nobody offered. R0 Camden 0, the month before P: not counted.
- Clearances (granted): V1's expires on the 1st of the month after next (the third month from today), V2's next
  month, V3's next month, V2's Management Vetting in six months (past the report's three months).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.auth.models import Role
from core.charts import Tag
from core.db import utcnow
from core.geography.models import Bcu, Borough
from core.timeutil import london_to_utc, london_today
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.insight.report import PICKS, build_report
from matching.insight.scope import months_back
from matching.models import OfferStatus, Priority
from tests.helpers import error_messages, make_offer, make_request, make_user, make_volunteer, make_wards
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance
from volunteers.models import VolunteerKind, VolunteerStatus


def _month_after(first: dt.date, months: int = 1) -> dt.date:
    for _ in range(months):
        first = (first + dt.timedelta(days=32)).replace(day=1)
    return first


@pytest.fixture
def world(db):
    today = london_today(utcnow())
    month = months_back(today, 2)[1]  # P: the last whole month
    camden = make_wards(db, "Camden", 2)
    hackney = make_wards(db, "Hackney", 1)
    sergeant = make_user(db, Role.SERGEANT)
    sergeant.wards = [camden[0]]
    db.commit()

    def joined(day: dt.date) -> dt.datetime:
        return london_to_utc(day, dt.time(9, 0))

    before = joined(month - dt.timedelta(days=40))
    v1 = make_volunteer(
        db,
        home_ward_id=camden[0].id,
        kind=VolunteerKind.SPECIAL,
        monthly_commitment_minutes=16 * 60,
        status=VolunteerStatus.ACTIVE,
        created_at=before,
    )
    v2 = make_volunteer(
        db, home_ward_id=camden[1].id, status=VolunteerStatus.ACTIVE, created_at=joined(month + dt.timedelta(days=4))
    )
    v3 = make_volunteer(
        db, home_ward_id=hackney[0].id, status=VolunteerStatus.ACTIVE, created_at=joined(month + dt.timedelta(days=5))
    )
    v4 = make_volunteer(db, home_ward_id=camden[0].id, status=VolunteerStatus.ACTIVE, created_at=before)
    v4.status = VolunteerStatus.LEFT
    v4.left_at = joined(month + dt.timedelta(days=19))
    db.commit()

    def at(day: int, ward, **values):
        start = london_to_utc(month + dt.timedelta(days=day - 1), dt.time(10, 0))
        return make_request(db, ward, start, created_by_id=sergeant.id, **values)

    r1 = at(10, camden[0], priority=Priority.URGENT, people_needed=2)
    r2 = at(11, camden[1])
    at(12, hackney[0], priority=Priority.URGENT, people_needed=3)
    make_request(db, camden[0], london_to_utc(month - dt.timedelta(days=20), dt.time(10, 0)), people_needed=5)
    served = make_offer(db, v1, r1, OfferStatus.ACCEPTED)
    make_offer(db, v2, r2, OfferStatus.ACCEPTED)
    db.add(
        Deployment(
            offer_id=served.id,
            request_id=r1.id,
            volunteer_id=v1.id,
            outcome=DeploymentOutcome.ATTENDED,
            served_minutes=60,
        )
    )
    this_month = today.replace(day=1)
    for volunteer, expires_on in (
        (v1, _month_after(this_month, 2)),
        (v2, _month_after(this_month, 1)),
        (v3, _month_after(this_month, 1)),
        (v2, _month_after(this_month, 6)),
    ):
        six_months = expires_on == _month_after(this_month, 6)
        db.add(
            Clearance(
                volunteer_id=volunteer.id,
                type_code="MV" if six_months else "RV",
                state=ClearanceState.GRANTED,
                valid_from=today - dt.timedelta(days=300),
                expires_on=expires_on,
            )
        )
    db.commit()
    bcus = {name: bcu_id for bcu_id, name in db.execute(select(Bcu.id, Bcu.name))}
    assert db.scalar(select(Borough.bcu_id).where(Borough.id == camden[0].borough_id)) == bcus["Central North"]
    return dict(month=month, today=today, sergeant=sergeant, north=bcus["Central North"], east=bcus["Central East"])


def _sections(report) -> dict[str, object]:
    return {section.id.split("-", 2)[2]: section for section in report.sections}


def _rows(section) -> list[tuple]:
    (table,) = section.tables
    return [tuple(row) for row in table.rows]


def test_every_section_the_report_picks_is_on_its_dashboard(app, db, world):
    """A dashboard renaming a section would silently drop it from the printed report: this says which."""
    coordinator = make_user(db, Role.COORDINATOR)
    with app.app_context():
        (report,) = build_report(db, coordinator, world["month"], [world["north"]], utcnow())
    assert list(_sections(report)) == [pick.section_id for pick in PICKS]


def test_a_bcus_page_has_the_months_figures_for_that_bcu_only(app, db, world):
    coordinator = make_user(db, Role.COORDINATOR)
    with app.app_context():
        north, east = build_report(db, coordinator, world["month"], [world["north"], world["east"]], utcnow())
    assert north.name == "Central North" and north.scope.area_label == "Central North BCU"
    # The whole month P, London days: its first to its last.
    assert (north.scope.first_day, north.scope.last_day) == (
        world["month"],
        _month_after(world["month"]) - dt.timedelta(days=1),
    )
    sections = _sections(north)
    # R1: 2 urgent places, V1 booked and attended, 1 unfilled (its time has passed); R2: 1 routine place, booked.
    # R3 is in Hackney (Central East) and R0 in the month before: neither counts here.
    assert _rows(sections["by-priority"]) == [
        ("Urgent", 2, 1, "50%", 1, 1, 0),
        ("Priority", 0, 0, None, 0, 0, 0),
        ("Routine", 1, 1, "100%", 0, 0, 0),
        ("All priorities", 3, 2, "67%", 1, 1, 0),
    ]
    # Clearances in Central North expiring in the next 3 months: V2's next month and V1's the month after next;
    # V2's Management Vetting is six months away, so that type has no row. V3's is in Hackney.
    this_month = world["today"].replace(day=1)
    months = [f"{_month_after(this_month, n):%b %Y}" for n in range(3)]
    expiring = sections["expiring"]
    assert expiring.tables[0].headers == ("Clearance type", *months, "All 3 months")
    assert _rows(expiring) == [("Recruitment Vetting (RV)", 0, 1, 1, 2), ("All types", 0, 1, 1, 2)]
    assert expiring.paragraphs[0].startswith("2 clearances in this area expire in the next 3 months")
    # V2 joined in P; V4 left in P; V1 joined before. V3 (Hackney) is not in this BCU.
    assert [row[1:] for row in _rows(sections["joined-paused-left"])] == [(1, 0, 1)]
    # V1 served an hour of a 16-hour commitment in P: well below it. The only special here.
    specials = sections["specials-commitment"]
    assert specials.tables[0].headers == ("Hours served", f"{world['month']:%B %Y}")
    assert _rows(specials) == [
        (Tag("Met", "green"), 0),
        (Tag("Below", "yellow"), 0),
        (Tag("Well below", "red"), 1),
        ("All specials", 1),
    ]
    assert specials.paragraphs == (
        f"Of 1 special in {world['month']:%B %Y}, by hours served: Met: 0; Below: 0; Well below: 1.",
    )

    east_sections = _sections(east)
    # R3: 3 urgent places in Hackney, nobody offered, all 3 unfilled.
    assert _rows(east_sections["by-priority"])[0] == ("Urgent", 3, 0, "0%", 0, 3, 0)
    assert _rows(east_sections["expiring"]) == [("Recruitment Vetting (RV)", 0, 1, 0, 1), ("All types", 0, 1, 0, 1)]
    assert [row[1:] for row in _rows(east_sections["joined-paused-left"])] == [(1, 0, 0)]


def _report_page(client, **args):
    response = client.get("/dashboards/report", query_string=args)
    assert response.status_code == 200
    return response.soup


def _bcu_headings(soup) -> list[str]:
    """Each BCU page's heading, after its caption ("Monthly BCU report", which every page carries in print)."""
    headings = []
    for heading in soup.select(".app-report-bcu h2"):
        caption = heading.select_one(".govuk-caption-m").extract()
        assert caption.get_text(strip=True) == "Monthly BCU report"
        headings.append(" ".join(heading.get_text().split()))
    return headings


def test_a_coordinator_prints_every_bcu_or_one(app, client, db, world):
    coordinator = make_user(db, Role.COORDINATOR)
    client.sign_in(coordinator.email)
    month = world["month"]
    # Arriving from the index: the form, the last whole month chosen, and no report built until it is sent.
    soup = _report_page(client)
    assert soup.select_one("#month option[selected]")["value"] == f"{month:%Y-%m}"
    assert not soup.select(".app-report-bcu")
    # Sent as it is: every BCU with wards (here the two made above, by name) on a page of its own.
    soup = _report_page(client, month=f"{month:%Y-%m}", bcu="")
    assert _bcu_headings(soup) == [f"Central East BCU: {month:%B %Y}", f"Central North BCU: {month:%B %Y}"]
    assert len(soup.select(".app-report > section.app-report-bcu")) == 2
    assert "use your browser's print command" in soup.get_text()
    soup = _report_page(client, month=f"{month:%Y-%m}", bcu=str(world["north"]))
    assert _bcu_headings(soup) == [f"Central North BCU: {month:%B %Y}"]
    table = soup.select_one(f"table#bcu-{world['north']}-coverage-by-priority")
    cells = [" ".join(c.get_text().split()) for c in table.select("tbody tr:first-child > *")]
    assert cells == ["Urgent", "2", "1", "50%", "1", "1", "0"]
    # The dashboards' index leads here.
    assert client.get("/dashboards/").soup.select_one('a[href="/dashboards/report"]') is not None


def test_a_sergeant_sees_only_their_wards_bcu_counting_only_their_wards(client, world):
    client.sign_in(world["sergeant"].email)
    month = world["month"]
    soup = _report_page(client, month=f"{month:%Y-%m}")
    assert _bcu_headings(soup) == [f"Your wards in Central North BCU: {month:%B %Y}"]
    assert [o["value"] for o in soup.select("#bcu option")] == ["", str(world["north"])]
    rows = soup.select(f"table#bcu-{world['north']}-coverage-by-priority tbody tr")
    # Camden 0 only: R1's 2 urgent places; R2 (Camden 1, routine) is not the sergeant's.
    figures = {r.select_one("th").get_text(strip=True): [c.get_text(strip=True) for c in r.select("td")] for r in rows}
    assert figures["Urgent"] == ["2", "1", "50%", "1", "1", "0"]
    assert figures["Routine"] == ["0", "0", "–", "0", "0", "0"]
    # Another BCU's id, typed into the address: refused by the field, and no figures of it shown.
    soup = _report_page(client, month=f"{month:%Y-%m}", bcu=str(world["east"]))
    assert error_messages(soup) == {"bcu": "Choose a BCU from the list"}
    assert not soup.select(".app-report-bcu")


@pytest.mark.parametrize(
    "month",
    ["2019-01", "", "2026-13", "not a month", "x" * 10_000, "\x00"],
    ids=["too-old", "empty", "impossible", "words", "10000-characters", "nul"],
)
def test_a_month_not_offered_is_a_message_by_the_field(client, db, world, month):
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    soup = _report_page(client, month=month)
    assert error_messages(soup) == {"month": "Choose a month from the list"}
    assert not soup.select(".app-report-bcu")
    assert soup.select_one("title").get_text().startswith("Error: ")


def test_a_future_month_is_not_offered(client, db, world):
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    next_month = _month_after(world["today"].replace(day=1))
    soup = _report_page(client, month=f"{next_month:%Y-%m}")
    assert error_messages(soup) == {"month": "Choose a month from the list"}
    offered = [o["value"] for o in soup.select("#month option")]
    assert len(offered) == 12 and offered[0] == f"{world['today']:%Y-%m}"


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.VETTING_OFFICER])
def test_only_coordinators_and_sergeants_see_the_report(client, db, world, role):
    client.sign_in(make_user(db, role).email)
    assert client.get("/dashboards/report").status_code == 403
