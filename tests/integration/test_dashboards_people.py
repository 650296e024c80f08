"""The skills, vetting and people dashboards (issue #21) against a small hand-made data set, on both databases.

Every expected figure is written out by hand from the rows made here (each with why), never recomputed by a
query. The builders are called with a fixed ``NOW`` (Wednesday 10 February 2027, midday, London on GMT), so
the months and weeks are known; the pages and downloads are fetched as a coordinator or sergeant would.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from sqlalchemy import literal, select
from werkzeug.datastructures import MultiDict

from core.auth.models import Role, User
from core.charts import Tag
from core.db import utcnow
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.hours.models import DutyHours, DutyKind, DutyState
from matching.insight import people, skills, vetting_figures
from matching.insight.buckets import bucket_index
from matching.insight.scope import Scope, resolve
from matching.models import MatchRun, Offer, OfferStatus, RequestStatus, RunScope, RunStatus
from tests.helpers import error_messages, make_offer, make_request, make_user, make_volunteer, make_wards
from vetting.lifecycle import ClearanceState, ReviewKind
from vetting.models import Clearance, ClearanceTransition, ReviewStatus, VettingReview
from volunteers.models import EvidenceStatus, VolunteerKind, VolunteerPause, VolunteerSkill, VolunteerStatus
from volunteers.panels.models import PanelState, WardPanelMembership
from volunteers.skills import SkillLevel

NOW = dt.datetime(2027, 2, 10, 12, 0, tzinfo=dt.UTC)
TODAY = dt.date(2027, 2, 10)
SECRET_NAME = "Zebedee Quillfeather"
SECRET_NOTE = "Officer note: the informant said XYZZY"
SECRET_REASON = "Refused because of PLUGH association"


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def scope_of(wards, first_day: dt.date, last_day: dt.date = TODAY) -> Scope:
    return Scope(
        first_day=first_day,
        last_day=last_day,
        ward_ids=frozenset(w.id for w in wards),
        area_label="Camden",
        period_label="The test period",
    )


def rows_by_label(table) -> dict:
    return {str(row[0]): row[1:] for row in table.rows}


def _volunteer(db, ward, created_at, **overrides):
    overrides.setdefault("status", VolunteerStatus.ACTIVE)
    volunteer = make_volunteer(db, home_ward_id=ward.id, **overrides)
    volunteer.created_at = created_at
    db.commit()
    return volunteer


def _skill(db, volunteer, code, level, evidence=EvidenceStatus.NOT_NEEDED):
    db.add(VolunteerSkill(volunteer_id=volunteer.id, skill_code=code, level=level, evidence_status=evidence))
    db.commit()


@pytest.fixture
def world(db):
    """Two Camden wards (A, B) in the area, a Hackney ward (C) outside it, and the people below."""
    a, b = make_wards(db, "Camden", 2)
    (c,) = make_wards(db, "Hackney", 1)
    w = {"a": a, "b": b, "c": c}
    # v1 joined just after midnight on 1 October, London time (23:30 UTC on 30 September, in BST): October.
    w["v1"] = _volunteer(db, a, utc(2026, 9, 30, 23, 30), full_name=SECRET_NAME)
    w["v2"] = _volunteer(db, a, utc(2026, 9, 15, 10))
    w["v3"] = _volunteer(db, b, utc(2027, 1, 20, 10))
    w["v4"] = _volunteer(db, b, utc(2026, 8, 1, 10), status=VolunteerStatus.PAUSED)
    w["v5"] = _volunteer(db, c, utc(2026, 10, 10, 10))  # outside the area: never counted
    w["v6"] = _volunteer(db, a, utc(2027, 2, 10, 9))
    w["v7"] = _volunteer(db, a, utc(2026, 11, 5, 10), status=VolunteerStatus.NOT_ACCEPTED)
    w["v8"] = _volunteer(db, b, utc(2026, 6, 1, 10), status=VolunteerStatus.LEFT)
    w["v8"].left_at = utc(2026, 11, 30, 23, 30)  # London GMT: still 30 November
    db.commit()
    return w


# ---- Skills ------------------------------------------------------------------------------------------------


def _skills_data(db, w):
    _skill(db, w["v1"], "mh_first_aid", SkillLevel.PRACTITIONER)
    _skill(db, w["v1"], "safeguarding", SkillLevel.EXPERT)
    _skill(db, w["v2"], "mh_first_aid", SkillLevel.AWARE)
    _skill(db, w["v3"], "mh_first_aid", SkillLevel.EXPERT, EvidenceStatus.PENDING)  # not counted: evidence waiting
    _skill(db, w["v4"], "mh_first_aid", SkillLevel.PRACTITIONER)  # not counted: paused
    _skill(db, w["v5"], "mh_first_aid", SkillLevel.PRACTITIONER)  # not counted: Hackney
    _skill(db, w["v6"], "cyber_victim_support", SkillLevel.EXPERT)
    # In the period (1 January to 10 February 2027), in the area:
    make_request(db, w["a"], utc(2027, 1, 5, 10), task_type_code="mental_health_escort", people_needed=3)
    # Its extra cyber skill is one the task type already needs: the same 2 places, not 4.
    make_request(db, w["b"], utc(2027, 2, 1, 10), skills=("safeguarding", "cyber_victim_support"), people_needed=2)
    # Not counted: cancelled; in Hackney; before the period (23:30 on 31 December, London on GMT).
    make_request(
        db,
        w["a"],
        utc(2027, 1, 6, 10),
        people_needed=5,
        status=RequestStatus.CANCELLED,
        cancelled_at=utc(2027, 1, 1),
        cancel_reason="No longer needed",
    )
    make_request(db, w["c"], utc(2027, 1, 7, 10), people_needed=4)
    make_request(db, w["a"], utc(2026, 12, 31, 23, 30), people_needed=6)


def test_skills_figures_by_hand(db, world):
    _skills_data(db, world)
    page = skills.build(db, scope_of([world["a"], world["b"]], dt.date(2027, 1, 1)), NOW)
    table = page.table("skills")
    got = rows_by_label(table)
    # (aware, practitioner, expert, volunteers, places, places per volunteer)
    # Mental-health first aid: v2 aware, v1 practitioner (v3's evidence waits, v4 paused, v5 in Hackney);
    # the escort's 3 places take any of four skills, so they count under each.
    assert got["Mental-health first aid"] == (1, 1, 0, 2, 3, 1.5)
    assert got["Registered mental-health nurse"] == (0, 0, 0, 0, 3, "No volunteers")
    assert got["Paramedic"] == (0, 0, 0, 0, 3, "No volunteers")
    assert got["Doctor"] == (0, 0, 0, 0, 3, "No volunteers")
    # v6; the visit's 2 places (its extra cyber skill duplicates the task type's: counted once).
    assert got["Cyber-crime victim support"] == (0, 0, 1, 1, 2, 2.0)
    assert got["Safeguarding"] == (0, 0, 1, 1, 2, 2.0)
    assert len(got) == 6
    # Most short first: the skills nobody holds, then the most places per volunteer.
    assert [str(r[0]) for r in table.rows[-1:]] == ["Mental-health first aid"]
    assert set(str(r[0]) for r in table.rows[:3]) == {"Registered mental-health nurse", "Paramedic", "Doctor"}
    section = page.sections[0]
    assert section.chart.kind == "hbar"
    assert section.chart.summary.startswith("The skills most short: ")
    assert "3 places; nobody holds it" in section.chart.summary


def test_skills_for_one_ward(db, world):
    _skills_data(db, world)
    got = rows_by_label(skills.build(db, scope_of([world["a"]], dt.date(2027, 1, 1)), NOW).table("skills"))
    # Ward A alone: v6 still holds cyber support, but the visit asking for it was in ward B.
    assert got["Cyber-crime victim support"] == (0, 0, 1, 1, 0, 0.0)
    assert got["Mental-health first aid"] == (1, 1, 0, 2, 3, 1.5)


# ---- Vetting -----------------------------------------------------------------------------------------------


def _clearance(db, volunteer, code, state, expires_on):
    item = Clearance(
        volunteer_id=volunteer.id, type_code=code, state=state, valid_from=dt.date(2024, 1, 1), expires_on=expires_on
    )
    db.add(item)
    db.commit()
    return item


def _review(db, volunteer, kind, opened_at, due_on, closed_at=None, outcome=None):
    review = VettingReview(
        volunteer_id=volunteer.id,
        kind=kind,
        opened_at=opened_at,
        due_on=due_on,
        status=ReviewStatus.CLOSED if closed_at else ReviewStatus.OPEN,
        closed_at=closed_at,
        outcome=outcome,
        notes=SECRET_NOTE,
    )
    db.add(review)
    db.commit()
    return review


def _vetting_data(db, w, now=NOW, today=TODAY):
    v1, v2, v5, v6 = w["v1"], w["v2"], w["v5"], w["v6"]
    first = _clearance(db, v1, "NPPV2F", ClearanceState.GRANTED, dt.date(2027, 3, 1))  # 1 March counts in March
    db.add(
        ClearanceTransition(
            clearance_id=first.id,
            from_state=ClearanceState.IN_PROGRESS,
            to_state=ClearanceState.GRANTED,
            event="grant",
            reason=SECRET_REASON,
        )
    )
    _clearance(db, v2, "NPPV2F", ClearanceState.RENEWAL_DUE, dt.date(2027, 2, 28))  # February
    _clearance(db, v6, "NPPV3", ClearanceState.GRANTED, dt.date(2027, 3, 31))  # March
    _clearance(db, v1, "NPPV3", ClearanceState.SUSPENDED, dt.date(2027, 3, 15))  # not counted: suspended
    _clearance(db, v2, "NPPV2F", ClearanceState.LAPSED, dt.date(2027, 2, 9))  # not counted: lapsed
    _clearance(db, v6, "NPPV2F", ClearanceState.GRANTED, dt.date(2028, 2, 1))  # after the 12 months
    _clearance(db, v6, "NPPV2A", ClearanceState.GRANTED, dt.date(2028, 1, 31))  # January 2028: the last month
    _clearance(db, v5, "NPPV2F", ClearanceState.GRANTED, dt.date(2027, 3, 10))  # Hackney
    _clearance(db, v1, "NPPV2F", ClearanceState.GRANTED, dt.date(2027, 2, 9))  # ended yesterday: not to come
    # Open reviews, by age on 10 February at midday.
    _review(db, v1, ReviewKind.NEW_APPLICATION, now - dt.timedelta(days=3), today + dt.timedelta(days=10))
    # Exactly two weeks old: in "2 to 4 weeks"; due yesterday: overdue, not by more than 4 weeks.
    _review(db, v2, ReviewKind.RENEWAL, now - dt.timedelta(days=14), today - dt.timedelta(days=1))
    # 30 days old: "4 to 8 weeks"; due 29 days ago: overdue by more than 4 weeks.
    _review(db, v6, ReviewKind.TRIGGERED, now - dt.timedelta(days=30), today - dt.timedelta(days=29))
    # 60 days old: "over 8 weeks"; due today: not overdue yet.
    _review(db, v1, ReviewKind.RENEWAL, now - dt.timedelta(days=60), today)
    _review(db, v5, ReviewKind.NEW_APPLICATION, now - dt.timedelta(days=100), today - dt.timedelta(days=90))  # Hackney
    # Decisions: 00:30 on Monday 4 January (London on GMT) is that week; 23:59 on Sunday 3 January the one before.
    opened = now - dt.timedelta(days=90)
    _review(db, v1, ReviewKind.NEW_APPLICATION, opened, today, utc(2027, 1, 4, 0, 30), "grant")
    _review(db, v2, ReviewKind.NEW_APPLICATION, opened, today, utc(2027, 1, 3, 23, 59), "refused")
    _review(db, v6, ReviewKind.RENEWAL, opened, today, utc(2027, 2, 9, 15), "grant")
    _review(db, v6, ReviewKind.RENEWAL, opened, today, utc(2026, 12, 31, 15), "grant")  # before the period
    _review(db, v5, ReviewKind.RENEWAL, opened, today, utc(2027, 1, 12, 15), "grant")  # Hackney


def test_vetting_figures_by_hand(db, world):
    _vetting_data(db, world)
    page = vetting_figures.build(db, scope_of([world["a"], world["b"]], dt.date(2027, 1, 1)), NOW)

    expiring = page.table("expiring")
    assert expiring.headers == (
        "Clearance type",
        *("Feb 2027", "Mar 2027", "Apr 2027", "May 2027", "Jun 2027", "Jul 2027"),
        *("Aug 2027", "Sep 2027", "Oct 2027", "Nov 2027", "Dec 2027", "Jan 2028"),
        "All 12 months",
    )
    got = rows_by_label(expiring)
    # February: v2's NPPV2F, renewal due, last day 28 February. March: v1's NPPV2F on 1 March (London date: March),
    # v6's NPPV3 on 31 March. January 2028: v6's NPPV2A on 31 January. Nothing else counts (see _vetting_data).
    assert got == {
        "NPPV level 2 (abbreviated) (NPPV2A)": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1),
        "NPPV level 2 (full) (NPPV2F)": (1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2),
        "NPPV level 3 (NPPV3)": (0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
        "All types": (1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 4),
    }
    chart = page.sections[0].chart
    assert chart.kind == "stacked"
    assert [series.name for series in chart.series] == ["NPPV2A", "NPPV2F", "NPPV3"]
    assert chart.summary == "4 clearances expire in the next 12 months; the most in March 2027 (2)."

    queue = rows_by_label(page.table("queue"))
    # (under 2 weeks, 2 to 4, 4 to 8, over 8, all ages)
    assert queue["New application"] == (1, 0, 0, 0, 1)
    assert queue["Renewal"] == (0, 1, 0, 1, 2)
    assert queue["Triggered review"] == (0, 0, 1, 0, 1)
    assert queue["All reviews"] == (1, 1, 1, 1, 4)

    decisions = page.table("decisions")
    assert decisions.headers == ("Week starting", "Granted", "Refused", "All decisions")
    got = rows_by_label(decisions)
    # Seven weeks touch 1 January (a Friday) to 10 February: from Monday 28 December to Monday 8 February.
    assert list(got) == [
        "28 December 2026",
        "4 January 2027",
        "11 January 2027",
        "18 January 2027",
        "25 January 2027",
        "1 February 2027",
        "8 February 2027",
    ]
    assert got["28 December 2026"] == (0, 1, 1)
    assert got["4 January 2027"] == (1, 0, 1)
    assert got["8 February 2027"] == (1, 0, 1)
    assert sum(row[-1] for row in decisions.rows) == 3

    overdue = rows_by_label(page.table("overdue"))
    assert overdue["Renewal"] == (1, 0)
    assert overdue["Triggered review"] == (1, 1)
    assert overdue["New application"] == (0, 0)
    assert overdue["All reviews"] == (2, 1)


# ---- People ------------------------------------------------------------------------------------------------


def _deployment(db, special, ward, start, minutes, outcome=DeploymentOutcome.ATTENDED):
    item = make_request(db, ward, start)
    make_offer(db, special, item, OfferStatus.ACCEPTED)
    db.commit()
    offer = db.scalars(select(Offer).where(Offer.request_id == item.id)).one()
    db.add(
        Deployment(
            offer_id=offer.id,
            request_id=item.id,
            volunteer_id=special.id,
            outcome=outcome,
            served_minutes=minutes if outcome is DeploymentOutcome.ATTENDED else None,
        )
    )
    db.commit()


def _duty(db, special, on_date, minutes, state=DutyState.APPROVED):
    db.add(DutyHours(volunteer_id=special.id, on_date=on_date, kind=DutyKind.PATROL, minutes=minutes, state=state))
    db.commit()


def _run(db, created_at, figures, status=RunStatus.SUCCEEDED):
    db.add(
        MatchRun(
            scope=RunScope.LONDON,
            first_day=created_at.date(),
            last_day=created_at.date(),
            trigger="cli",
            status=status,
            created_at=created_at,
            abstraction=json.dumps(figures),
        )
    )
    db.commit()


def _people_data(db, w):
    a, b, c = w["a"], w["b"], w["c"]
    db.add_all(
        [
            VolunteerPause(volunteer_id=w["v1"].id, first_day=dt.date(2026, 12, 24)),  # December
            VolunteerPause(volunteer_id=w["v2"].id, first_day=dt.date(2027, 2, 10)),  # the period's last day
            VolunteerPause(volunteer_id=w["v6"].id, first_day=dt.date(2027, 2, 11)),  # after it
            VolunteerPause(volunteer_id=w["v5"].id, first_day=dt.date(2027, 1, 5)),  # Hackney
        ]
    )
    db.commit()
    special = dict(kind=VolunteerKind.SPECIAL)
    s1 = _volunteer(db, a, utc(2026, 1, 1, 10), monthly_commitment_minutes=600, **special)
    s2 = _volunteer(db, b, utc(2026, 11, 15, 10), **special)  # no commitment recorded: the force's 16 hours
    s3 = _volunteer(db, c, utc(2026, 1, 1, 10), **special)  # Hackney
    s4 = _volunteer(db, a, utc(2026, 1, 1, 10), status=VolunteerStatus.LEFT, **special)
    s4.left_at = utc(2026, 3, 1, 10)  # left before the period
    db.commit()
    # s1: 10 hours at 00:30 on 1 October London time (23:30 UTC on 30 September): October, met.
    _deployment(db, s1, c, utc(2026, 9, 30, 23, 30), 600)
    # s1 in January: 6 hours' duty and a 5-hour deployment, 11 of 10 hours: met.
    _duty(db, s1, dt.date(2027, 1, 15), 360)
    _deployment(db, s1, c, utc(2027, 1, 20, 10), 300)
    _duty(db, s1, dt.date(2026, 12, 5), 600, DutyState.PENDING)  # not approved: December stays at nothing
    # s2: November 8 of 16 hours (50%: below); December 16 (met); January did not attend (nothing: well below).
    _duty(db, s2, dt.date(2026, 11, 20), 480)
    _deployment(db, s2, c, utc(2026, 12, 10, 10), 960)
    _deployment(db, s2, c, utc(2027, 1, 10, 10), 0, DeploymentOutcome.DID_NOT_ATTEND)
    _duty(db, s3, dt.date(2027, 1, 5), 600)
    _duty(db, s4, dt.date(2027, 1, 5), 600)
    # Abstraction: two runs in the period (ward A's panel away twice); one before it; one that failed.
    _run(
        db,
        utc(2027, 1, 10, 9),
        {
            str(a.id): {"hours_elsewhere": 7.5, "members_elsewhere": 2, "places_unfilled": 1},
            str(c.id): {"hours_elsewhere": 3, "members_elsewhere": 1, "places_unfilled": 2},
        },
    )
    _run(db, utc(2027, 2, 1, 9), {str(a.id): {"hours_elsewhere": 2, "members_elsewhere": 1, "places_unfilled": 0}})
    _run(db, utc(2026, 8, 1, 9), {str(a.id): {"hours_elsewhere": 100, "members_elsewhere": 9, "places_unfilled": 9}})
    _run(
        db,
        utc(2027, 1, 11, 9),
        {str(a.id): {"hours_elsewhere": 50, "members_elsewhere": 9, "places_unfilled": 9}},
        RunStatus.FAILED,
    )
    # Ward B has a panel whose members stayed at home.
    db.add(WardPanelMembership(ward_id=b.id, volunteer_id=w["v3"].id, state=PanelState.MEMBER))
    db.commit()


def test_people_figures_by_hand(db, world):
    _people_data(db, world)
    scope = scope_of([world["a"], world["b"]], dt.date(2026, 9, 1))
    page = people.build_people(db, scope, NOW, green_percent=100, amber_percent=50)

    movement = rows_by_label(page.table("joined-paused-left"))
    # (joined, paused, left). Joined: v2 in September; v1 in October (London time); s2 on 15 November (v7 then
    # was not accepted); v3 in January; v6 in February. Paused: v1 from 24 December, v2 from 10 February.
    # Left: v8 on 30 November (s4 left in March, before the period).
    assert movement == {
        "September 2026": (1, 0, 0),
        "October 2026": (1, 0, 0),
        "November 2026": (1, 0, 1),
        "December 2026": (0, 1, 0),
        "January 2027": (1, 0, 0),
        "February 2027 (part)": (1, 1, 0),
    }

    specials = page.table("specials-commitment")
    assert specials.headers == (
        "Hours served",
        "September 2026",
        "October 2026",
        "November 2026",
        "December 2026",
        "January 2027",
        "February 2027 (so far)",
    )
    assert specials.rows[0][0] == Tag("Met", "green")
    assert specials.rows[1][0] == Tag("Below", "yellow")
    assert specials.rows[2][0] == Tag("Well below", "red")
    # s1 (joined long ago): Sep none, Oct met, Nov none, Dec none (duty not approved), Jan met, Feb none.
    # s2 (joined 15 November): Nov below (50%), Dec met, Jan well below (did not attend), Feb none.
    assert specials.rows[0][1:] == (0, 1, 0, 1, 1, 0)  # met
    assert specials.rows[1][1:] == (0, 0, 1, 0, 0, 0)  # below
    assert specials.rows[2][1:] == (1, 0, 1, 1, 1, 2)  # well below
    assert specials.rows[3][1:] == (1, 1, 2, 2, 2, 2)  # all specials

    abstraction = rows_by_label(page.table("abstraction"))
    a_name, b_name = f"{world['a'].name} (Camden)", f"{world['b'].name} (Camden)"
    # Ward A: two runs in the period, 7.5 + 2 hours, 1 + 0 places; ward B: a panel, never away. C is Hackney.
    assert abstraction == {a_name: (2, 9.5, 1), b_name: (0, 0.0, 0)}


def test_people_specials_thresholds_come_from_config(app, db, world):
    _people_data(db, world)
    app.config["SPECIALS_AMBER_PERCENT"] = 40
    app.config["SPECIALS_GREEN_PERCENT"] = 45
    with app.app_context():
        page = people.build(db, scope_of([world["a"], world["b"]], dt.date(2026, 9, 1)), NOW)
    # s2's 8 of 16 hours in November (50%) now meets the commitment.
    assert page.table("specials-commitment").rows[0][3] == 1


# ---- As a coordinator or sergeant sees them ----------------------------------------------------------------


def test_sergeant_scope_is_their_wards_only(app, db, world):
    _skills_data(db, world)
    sergeant = make_user(db, Role.SERGEANT, wards=[world["a"]])
    sergeant = db.get(User, sergeant.id)
    # A ward id that is not theirs, typed into the address: refused by the field, their wards counted.
    with app.test_request_context():
        form, scope = resolve(db, sergeant, MultiDict({"ward": str(world["b"].id), "period": "2027-01"}), NOW)
    assert form.ward.errors
    assert scope.ward_ids == frozenset({world["a"].id})
    got = rows_by_label(skills.build(db, scope, NOW).table("skills"))
    # January only, ward A only: the escort's 3 places; the cyber visit in ward B (February) is not theirs.
    assert got["Mental-health first aid"] == (1, 1, 0, 2, 3, 1.5)
    assert "Safeguarding" in got and got["Safeguarding"][4] == 0


def _html_table(soup, table_id: str) -> list[list[str]]:
    table = soup.select_one(f"table#{table_id}")
    rows = [[" ".join(th.get_text().split()) for th in table.select("thead th")]]
    for tr in table.select("tbody tr"):
        rows.append([" ".join(cell.get_text().split()) for cell in tr.select("th, td")])
    return rows


def _csv_rows(text: str) -> list[list[str]]:
    return [[cell for cell in row] for row in csv.reader(io.StringIO(text))]


def _as_shown(cell: str) -> str:
    # The page writes numbers with thousands separators and an empty cell as a dash.
    return cell.replace(",", "") if cell.replace(",", "").replace(".", "").isdigit() else cell


@pytest.mark.parametrize(
    ("slug", "table_ids"),
    [
        ("skills", ["skills"]),
        ("vetting", ["expiring", "queue", "decisions", "overdue"]),
        ("people", ["joined-paused-left", "specials-commitment", "abstraction"]),
    ],
)
def test_each_csv_is_its_table(client, db, world, slug, table_ids):
    now = utcnow()
    _skills_data(db, world)
    _vetting_data(db, world, now=now, today=now.date())
    coordinator = make_user(db, Role.COORDINATOR)
    client.sign_in(coordinator.email)
    page = client.get(f"/dashboards/{slug}?period=52w")
    assert page.status_code == 200
    assert page.soup.select("img.app-chart__image")
    for table_id in table_ids:
        shown = _html_table(page.soup, table_id)
        download = client.get(f"/dashboards/{slug}/{table_id}.csv?period=52w")
        assert download.status_code == 200 and download.mimetype == "text/csv"
        rows = _csv_rows(download.get_data(as_text=True))
        if len(shown) == 2 and len(shown[1]) == 1:  # the table's "nothing here" line: the CSV has its headers only
            assert rows == shown[:1]
            continue
        assert [[_as_shown(cell) for cell in row] for row in shown] == rows


def test_vetting_page_shows_no_vetting_detail(client, db, world):
    now = utcnow()
    _vetting_data(db, world, now=now, today=now.date())
    coordinator = make_user(db, Role.COORDINATOR)
    client.sign_in(coordinator.email)
    page = client.get("/dashboards/vetting?period=52w")
    html = page.get_data(as_text=True)
    downloads = "".join(
        client.get(f"/dashboards/vetting/{t}.csv?period=52w").get_data(as_text=True)
        for t in ("expiring", "queue", "decisions", "overdue")
    )
    for secret in (SECRET_NAME, SECRET_NOTE, SECRET_REASON, world["v1"].user.email):
        assert secret not in html
        assert secret not in downloads
    # The figures are there, though: the open reviews of the area (London-wide for a coordinator, with Hackney's).
    assert rows_by_label_html(page.soup, "queue")["All reviews"][-1] == "5"


def rows_by_label_html(soup, table_id):
    return {row[0]: row[1:] for row in _html_table(soup, table_id)[1:]}


def test_sergeant_page_refuses_a_ward_not_theirs(app, client, db, world):
    sergeant = make_user(db, Role.SERGEANT, wards=[world["a"]])
    client.sign_in(sergeant.email)
    for slug in ("skills", "vetting", "people"):
        page = client.get(f"/dashboards/{slug}?ward={world['c'].id}")
        assert page.status_code == 200
        assert error_messages(page.soup)["ward"] == "Choose a ward from the list"
    volunteer = make_user(db, Role.VOLUNTEER)
    other = app.test_client()
    other.sign_in(volunteer.email)
    assert other.get("/dashboards/people").status_code == 403


@pytest.mark.parametrize(("value", "index"), [(0, 0), (2, 0), (3, 1), (4, 1), (5, 2), (7, 2), (8, 3), (9, 3), (10, 3)])
def test_bucket_index_places_a_value_by_its_edges(db, value, index):
    # Buckets end (exclusive) at 3, 5, 8 and 10: 3 is the second bucket's first value, and a value past the
    # last end stays in the last bucket (callers keep to the buckets' span).
    assert db.scalar(select(bucket_index(literal(value), [3, 5, 8, 10]))) == index
