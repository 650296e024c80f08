"""The coverage and "why places went unfilled" dashboards (issue #21), on SQLite and PostgreSQL.

A small hand-made set of requests in three wards (two in Camden, one in Islington) over two London weeks; every
figure below was worked out by hand from that set (the comments say how), never by the query under test.

Week A (Monday M) and week B (M + 7), the period M to M + 13; "now" is midday on M + 13 (a Sunday):

- R1 Camden ward 0, urgent, 2 places, Tue 7pm: V1 accepted and attended, V2 declined. Latest run: nobody free.
- R2 Camden ward 0, routine, 1 place, Wed 7:30pm: no offers. Latest run: nobody free.
- R3 Camden ward 1, priority, 2 places, Tue 7:30pm: V3 expired, V4 accepted but did not attend. Latest run: never
  reached 0, too few left, the biggest drop at the skills (10 → 2).
- R4 Camden ward 0, routine, 3 places, Thu 10am: cancelled.
- R5 Camden ward 0, routine, 1 place, Sat (week B) 10am: V1 accepted, attendance not yet confirmed.
- R6 Camden ward 1, urgent, 1 place, Mon (week B) 11:30pm, Polish asked for too: V2 declined. Latest run: enough
  passed every rule.
- R7 Islington ward 0, routine, 1 place, Tue (week B) 10am, a public event (no skill): no offers, no run.
- R8 Camden ward 0, priority, 2 places, Sun (week B) 7pm, after "now": V2 accepted.
- R0 Camden ward 0, 120 days before M: outside every period shown here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from core.auth.models import Role, User
from core.charts import Page
from core.db import utcnow
from core.timeutil import format_date, london_to_utc, london_today
from matching import tasks
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.insight import coverage, summaries, unfilled
from matching.insight.coverage import CoverageRow, weekly_coverage
from matching.insight.models import CoverageDay, InsightRefresh, UnfilledPlaceRow, UnfilledSkill
from matching.insight.scope import Scope
from matching.models import (
    MatchRun,
    OfferStatus,
    Priority,
    RequestStatus,
    RunRequest,
    RunScope,
    RunStatus,
    SupportRequest,
)
from tests.helpers import error_messages, make_offer, make_request, make_user, make_volunteer, make_wards

CYBER = "Cyber-crime victim support"
FREE_STOP = [
    ["volunteers", 10],
    ["have the skills", 3],
    ["cleared for this task on 1 January 2026", 3],
    ["can do this kind of task", 3],
    ["free 7pm to 9pm", 0],
    ["within their travel limit", 0],
    ["within their weekly hours", 0],
    ["with no conflict of interest", 0],
]
SKILLS_STOP = [[label, 0 if i else 10] for i, (label, _n) in enumerate(FREE_STOP)]
BIGGEST_DROP_AT_SKILLS = [
    ["volunteers", 10],
    ["have the skills", 2],
    ["cleared for this task on 1 January 2026", 2],
    ["can do this kind of task", 2],
    ["free 7:30pm to 9:30pm", 1],
    ["within their travel limit", 1],
    ["within their weekly hours", 1],
    ["with no conflict of interest", 1],
]
ENOUGH_PASSED = [[label, 5 if i < 2 else 3] for i, (label, _n) in enumerate(FREE_STOP)]


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return london_to_utc(day, dt.time(hour, minute))


@pytest.fixture
def world(db):
    """The hand-made set described at the top; M is the Monday two weeks before this one."""
    monday = london_today(utcnow())
    monday -= dt.timedelta(days=monday.weekday() + 14)
    camden = make_wards(db, "Camden", 2)
    islington = make_wards(db, "Islington", 1)
    sergeant = make_user(db, Role.SERGEANT)
    sergeant.wards = [camden[0]]
    db.commit()
    raiser = sergeant.id
    v1, v2, v3, v4 = (make_volunteer(db) for _ in range(4))

    def request(ward, day, hour, minute=0, **values):
        return make_request(db, ward, at(day, hour, minute), created_by_id=raiser, **values)

    r1 = request(camden[0], monday + dt.timedelta(days=1), 19, priority=Priority.URGENT, people_needed=2)
    r2 = request(camden[0], monday + dt.timedelta(days=2), 19, 30)
    r3 = request(camden[1], monday + dt.timedelta(days=1), 19, 30, priority=Priority.PRIORITY, people_needed=2)
    r4 = request(
        camden[0],
        monday + dt.timedelta(days=3),
        10,
        people_needed=3,
        status=RequestStatus.CANCELLED,
        cancelled_at=utcnow(),
        cancel_reason="No longer needed",
    )
    r5 = request(camden[0], monday + dt.timedelta(days=12), 10)
    r6 = request(camden[1], monday + dt.timedelta(days=7), 23, 30, priority=Priority.URGENT, skills=("lang_pl",))
    request(islington[0], monday + dt.timedelta(days=8), 10, task_type_code="public_event_support")  # R7
    r8 = request(camden[0], monday + dt.timedelta(days=13), 19, priority=Priority.PRIORITY, people_needed=2)
    request(camden[0], monday - dt.timedelta(days=120), 10)  # R0

    attended = make_offer(db, v1, r1, OfferStatus.ACCEPTED)
    make_offer(db, v2, r1, OfferStatus.DECLINED)
    make_offer(db, v3, r3, OfferStatus.EXPIRED)
    no_show = make_offer(db, v4, r3, OfferStatus.ACCEPTED)
    awaiting = make_offer(db, v1, r5, OfferStatus.ACCEPTED)
    make_offer(db, v2, r6, OfferStatus.DECLINED)
    make_offer(db, v2, r8, OfferStatus.ACCEPTED)
    for offer, outcome in (
        (attended, DeploymentOutcome.ATTENDED),
        (no_show, DeploymentOutcome.DID_NOT_ATTEND),
        (awaiting, DeploymentOutcome.AWAITING),
    ):
        db.add(
            Deployment(
                offer_id=offer.id,
                request_id=offer.request_id,
                volunteer_id=offer.volunteer_id,
                outcome=outcome,
                served_minutes=60 if outcome is DeploymentOutcome.ATTENDED else None,
            )
        )
    db.commit()

    older, newer = (
        MatchRun(
            scope=RunScope.LONDON,
            first_day=monday,
            last_day=monday + dt.timedelta(days=13),
            trigger="cli",
            status=RunStatus.SUCCEEDED,
        )
        for _ in range(2)
    )
    db.add(older)
    db.commit()
    db.add(newer)
    db.commit()

    def found(run, item, stages, needed):
        db.add(
            RunRequest(
                run_id=run.id,
                request_id=item.id,
                places_needed=needed,
                places_offered=0,
                funnel=json.dumps(stages),
            )
        )

    found(older, r1, SKILLS_STOP, 2)  # an older run said skills; the latest (availability) is the one read
    found(newer, r1, FREE_STOP, 1)
    found(newer, r2, FREE_STOP, 1)
    found(newer, r3, BIGGEST_DROP_AT_SKILLS, 2)
    found(newer, r6, ENOUGH_PASSED, 1)
    db.commit()
    return dict(monday=monday, sergeant=sergeant, camden=camden, islington=islington, r4=r4)


def _scope(monday: dt.date, ward_ids=None) -> Scope:
    return Scope(
        first_day=monday,
        last_day=monday + dt.timedelta(days=13),
        ward_ids=ward_ids,
        area_label="All of London",
        period_label="Two weeks",
    )


def _now(monday: dt.date) -> dt.datetime:
    return at(monday + dt.timedelta(days=13), 12)


def _rows(page: Page, table_id: str) -> list[tuple]:
    return [tuple(row) for row in page.table(table_id).rows]


def test_weekly_coverage_figures(db, world):
    monday = world["monday"]
    rows = weekly_coverage(db, _scope(monday), _now(monday))
    week_b = monday + dt.timedelta(days=7)
    assert rows == [
        # R1: 2 asked, V1 and V2 offered, V1 booked and attended; its time has come, so 1 unfilled.
        CoverageRow(monday, Priority.URGENT, 2, 2, 1, 1, 1, 0, 0),
        # R3: V3 (expired) and V4 offered; V4 booked but did not attend: 1 unfilled.
        CoverageRow(monday, Priority.PRIORITY, 2, 2, 1, 0, 1, 0, 0),
        # R2: nobody offered, 1 unfilled; R4's 3 places cancelled and in no other figure.
        CoverageRow(monday, Priority.ROUTINE, 1, 0, 0, 0, 1, 0, 3),
        # R6: V2 offered and declined: 1 unfilled.
        CoverageRow(week_b, Priority.URGENT, 1, 1, 0, 0, 1, 0, 0),
        # R8: after "now", V2 booked: 1 of its 2 places still open, none unfilled.
        CoverageRow(week_b, Priority.PRIORITY, 2, 1, 1, 0, 0, 1, 0),
        # R5 (booked by V1, not yet confirmed) and R7 (Islington, nobody offered, 1 unfilled).
        CoverageRow(week_b, Priority.ROUTINE, 2, 1, 1, 0, 1, 0, 0),
    ]


def test_coverage_page(db, world):
    monday = world["monday"]
    page = coverage.build(db, _scope(monday), _now(monday))
    # No refresh yet, so the page worked the summaries out at once, as of its "now".
    assert page.freshness == (
        f"Figures as of midday on {format_date(monday + dt.timedelta(days=13))}, worked out every 5 minutes"
    )
    assert _rows(page, "coverage-by-week") == [
        # Week A: R1 + R2 + R3 asked 5, offered 2 + 0 + 2, booked 1 + 0 + 1, served R1's 1, unfilled 1 + 1 + 1;
        # R4's 3 cancelled.
        (format_date(monday), 5, 4, 2, 1, 3, 0, 3),
        # Week B: R5 + R6 + R7 + R8 asked 1 + 1 + 1 + 2; offered 1 + 1 + 0 + 1; booked R5 and R8's 1 each;
        # unfilled R6 and R7; R8's other place still open.
        (format_date(monday + dt.timedelta(days=7)), 5, 3, 2, 0, 2, 1, 0),
    ]
    assert _rows(page, "coverage-by-priority") == [
        ("Urgent", 3, 3, 1, 1, 2, 0, 0),  # R1 and R6
        ("Priority", 4, 3, 2, 0, 1, 1, 0),  # R3 and R8
        ("Routine", 3, 1, 1, 0, 2, 0, 3),  # R2, R5, R7 and the cancelled R4
        ("All priorities", 10, 7, 4, 1, 5, 1, 3),
    ]
    assert page.sections[0].paragraphs[0] == (
        "Of 10 places asked, 4 were booked (40%); 5 places went unfilled, 2 of them urgent; "
        "1 place still to come is open."
    )
    # Week A lost 3 places, week B 2.
    worst = f"The most places went unfilled in the week beginning {format_date(monday)}: 3."
    assert page.sections[0].chart.summary == worst
    assert page.sections[1].chart.summary == "2 urgent places went unfilled."


def test_unfilled_page(db, world):
    monday = world["monday"]
    page = unfilled.build(db, _scope(monday), _now(monday))
    # Unfilled: R1, R2 (availability, R1 by its latest run), R3 (skills: the biggest drop), R6 (enough passed),
    # R7 (no run). R8 is still to come, so not unfilled.
    assert _rows(page, "unfilled-by-rule") == [
        ("Availability: nobody left was free at the time", 2, 2),
        ("Skills: nobody left had the skills", 1, 1),
        ("Not the rules: enough passed them, but offers were declined, not answered or withdrawn", 1, 1),
        ("Not matched: no matching run looked at it", 1, 1),
    ]
    assert page.sections[0].chart.summary == (
        "Of 5 unfilled places, 2 were stopped by availability: nobody left was free at the time."
    )
    assert _rows(page, "unfilled-by-task-type") == [
        ("Cyber-crime victim visit", 4, 4, "Availability (2)"),
        ("Public event support", 1, 1, "Not matched (1)"),
    ]
    # R6 asked for Polish besides the visit's skill, so it counts under both.
    assert _rows(page, "unfilled-by-skill") == [
        (CYBER, 4, 4, "Availability (2)"),
        ("No particular skill", 1, 1, "Not matched (1)"),
        ("Polish", 1, 1, "Not the rules (1)"),
    ]
    # All of London: by borough.
    assert _rows(page, "unfilled-by-area") == [
        ("Camden", 4, 4, "Availability (2)"),
        ("Islington", 1, 1, "Not matched (1)"),
    ]
    assert _rows(page, "unfilled-by-time") == [
        ("Weekday daytime (8am to 6pm)", 1, 1, "Not matched (1)"),  # R7, Tuesday 10am
        ("Weekday evening (6pm to 11pm)", 3, 3, "Availability (2)"),  # R1, R2, R3
        ("Weekend daytime (8am to 6pm)", 0, 0, ""),
        ("Weekend evening (6pm to 11pm)", 0, 0, ""),
        ("Night (11pm to 8am)", 1, 1, "Not the rules (1)"),  # R6, Monday 11:30pm
    ]
    # R1 (7pm to 8pm Tuesday), R3 (7:30pm to 8:30pm Tuesday) and R2 (Wednesday): 3 places, at most 2 at once.
    assert _rows(page, "recruitment-targets") == [("Camden", CYBER, "Weekday evening (6pm to 11pm)", 2, 3)]
    assert page.sections[1].bullets == (
        "Camden: 2 more volunteers with Cyber-crime victim support free on weekday evenings would have filled 3 places",
    )


def test_a_ward_scope_counts_only_its_wards(db, world):
    monday = world["monday"]
    ward = world["camden"][1]
    page = coverage.build(db, _scope(monday, frozenset({ward.id})), _now(monday))
    # Camden ward 1 holds R3 (priority) and R6 (urgent) only.
    assert _rows(page, "coverage-by-priority")[-1] == ("All priorities", 3, 3, 1, 0, 2, 0, 0)
    page = unfilled.build(db, _scope(monday, frozenset({ward.id})), _now(monday))
    assert _rows(page, "unfilled-by-area") == [
        ("Camden ward 1 (Camden)", 2, 2, "Skills (1)"),
    ]


def _html_tables(soup) -> dict[str, list[list[str]]]:
    out = {}
    for table in soup.select("table.govuk-table"):
        head = [" ".join(th.get_text().split()) for th in table.select("thead th")]
        body = [
            [" ".join(cell.get_text().split()) for cell in tr.find_all(["th", "td"])] for tr in table.select("tbody tr")
        ]
        if len(body) == 1 and len(body[0]) == 1 and len(head) > 1:
            body = []  # the "nothing in this period" row
        out[table["id"]] = [head, *body]
    return out


def test_sergeant_sees_only_their_wards(client, db, world):
    sergeant = world["sergeant"]
    client.sign_in(sergeant.email)
    page = client.get("/dashboards/coverage")
    assert page.status_code == 200
    tables = _html_tables(page.soup)
    # Their ward is Camden ward 0: R1, R2, R4 (cancelled), R5 and R8, whose time has now come (1 unfilled).
    assert tables["coverage-by-priority"][1:] == [
        ["Urgent", "2", "2", "1", "1", "1", "0", "0"],
        ["Priority", "2", "1", "1", "0", "1", "0", "0"],
        ["Routine", "2", "1", "1", "0", "1", "0", "3"],
        ["All priorities", "6", "4", "3", "1", "3", "0", "3"],
    ]
    page = client.get("/dashboards/unfilled")
    tables = _html_tables(page.soup)
    assert tables["unfilled-by-area"][1:] == [["Camden ward 0 (Camden)", "3", "3", "Availability (2)"]]

    # Another ward's id typed into the address: refused by the field, and still only their own figures.
    other = world["camden"][1].id
    for slug in ("coverage", "unfilled"):
        page = client.get(f"/dashboards/{slug}?ward={other}")
        assert page.status_code == 200
        assert error_messages(page.soup) == {"ward": "Choose a ward from the list"}
        tables = _html_tables(page.soup)
        if slug == "coverage":
            assert tables["coverage-by-priority"][-1] == ["All priorities", "6", "4", "3", "1", "3", "0", "3"]
        else:
            assert tables["unfilled-by-area"][1:] == [["Camden ward 0 (Camden)", "3", "3", "Availability (2)"]]
        table_id = "coverage-by-priority" if slug == "coverage" else "unfilled-by-area"
        download = client.get(f"/dashboards/{slug}/{table_id}.csv?ward={other}")
        assert list(csv.reader(io.StringIO(download.get_data(as_text=True)))) == tables[table_id]


def test_every_csv_download_equals_its_table(client, db, world):
    coordinator = make_user(db, Role.COORDINATOR)
    client.sign_in(coordinator.email)
    for slug in ("coverage", "unfilled"):
        page = client.get(f"/dashboards/{slug}")
        assert page.status_code == 200
        tables = _html_tables(page.soup)
        links = page.soup.select("a[href*='.csv']")
        assert len(links) == len(tables)
        for link in links:
            table_id = link["href"].split("?")[0].rsplit("/", 1)[-1].removesuffix(".csv")
            download = client.get(link["href"])
            assert download.status_code == 200
            assert download.mimetype == "text/csv"
            assert list(csv.reader(io.StringIO(download.get_data(as_text=True)))) == tables[table_id], table_id
    # The coordinator's all-London figures include Islington's unfilled R7.
    tables = _html_tables(client.get("/dashboards/unfilled").soup)
    assert ["Islington", "1", "1", "Not matched (1)"] in tables["unfilled-by-area"]


def test_a_volunteer_cannot_open_them(client, db, world):
    volunteer = db.scalars(select(User).where(User.role == Role.VOLUNTEER)).first()
    client.sign_in(volunteer.email)
    for path in ("/dashboards/coverage", "/dashboards/unfilled", "/dashboards/unfilled/unfilled-by-rule.csv"):
        assert client.get(path).status_code == 403


# ---- The summaries behind the two pages (matching/insight/summaries.py) -----------------------------------


def _summary_rows(db) -> dict[str, list[tuple]]:
    db.expire_all()
    return {
        model.__tablename__: sorted(
            tuple(getattr(row, c.key) for c in model.__table__.columns) for row in db.scalars(select(model))
        )
        for model in (CoverageDay, UnfilledPlaceRow, UnfilledSkill)
    }


def test_a_change_shows_only_after_the_next_refresh(db, world):
    monday = world["monday"]
    now = _now(monday)
    first = summaries.refresh(db, now)
    assert (
        first.words()
        == f"Figures as of midday on {format_date(monday + dt.timedelta(days=13))}, worked out every 5 minutes"
    )
    # R7 (Islington, nobody offered, 1 unfilled place) is booked after all.
    r7 = db.scalars(select(SupportRequest).where(SupportRequest.task_type_code == "public_event_support")).one()
    make_offer(db, make_volunteer(db), r7, OfferStatus.ACCEPTED)
    db.commit()
    later = now + dt.timedelta(minutes=5)
    # Five minutes on, no refresh yet: the figures are still the first refresh's, and the pages say so.
    page = coverage.build(db, _scope(monday), later)
    assert _rows(page, "coverage-by-priority")[-1] == ("All priorities", 10, 7, 4, 1, 5, 1, 3)
    assert page.freshness == first.words()
    assert ("Islington", 1, 1, "Not matched (1)") in _rows(
        unfilled.build(db, _scope(monday), later), "unfilled-by-area"
    )

    second = summaries.refresh(db, later)
    page = coverage.build(db, _scope(monday), later)
    # R7's place now offered and booked: offered 7 + 1, booked 4 + 1, unfilled 5 - 1.
    assert _rows(page, "coverage-by-priority")[-1] == ("All priorities", 10, 8, 5, 1, 4, 1, 3)
    assert (
        page.freshness
        == second.words()
        == (f"Figures as of 12:05pm on {format_date(monday + dt.timedelta(days=13))}, worked out every 5 minutes")
    )
    page = unfilled.build(db, _scope(monday), later)
    assert _rows(page, "unfilled-by-area") == [("Camden", 4, 4, "Availability (2)")]
    assert _rows(page, "unfilled-by-rule")[-1] == (
        "Not the rules: enough passed them, but offers were declined, not answered or withdrawn",
        1,
        1,
    )


def test_refreshing_twice_gives_the_same_rows_and_a_stale_summary_is_refreshed(db, world):
    monday = world["monday"]
    now = _now(monday)
    summaries.refresh(db, now)
    once = _summary_rows(db)
    # Every request but R0 is on a different ward, day or priority, and R0 (120 days back) is within the 400
    # days the summary covers: 9 rows.
    assert len(once["coverage_days"]) == 9
    assert len(once["unfilled_places"]) == 6  # R0 (nobody offered), R1, R2, R3, R6, R7
    # The cyber-crime visits R0, R1, R2, R3 and R6 need the visit's skill, R6 Polish too; R7 (public event) none.
    assert Counter(skill for _request, skill in once["unfilled_skills"]) == {CYBER: 5, "Polish": 1}
    summaries.refresh(db, now)
    assert _summary_rows(db) == once

    # Within half an hour a page keeps the refresh; after it (no worker running), the page refreshes first.
    assert summaries.ensure(db, now + dt.timedelta(minutes=29)).refreshed_at == now
    assert summaries.ensure(db, now + dt.timedelta(minutes=31)).refreshed_at == now + dt.timedelta(minutes=31)
    assert summaries.current(db).refreshed_at == now + dt.timedelta(minutes=31)


def test_two_refreshes_never_interleave(app, db, world):
    """A refresh waits for another's lock (held to its commit) before it deletes anything."""
    monday = world["monday"]
    holder = app.extensions["db_sessionmaker"]()
    summaries._lock(holder)
    finished = threading.Event()

    def second():
        with app.extensions["db_sessionmaker"]() as session:
            summaries.refresh(session, _now(monday))
        finished.set()

    thread = threading.Thread(target=second)
    thread.start()
    try:
        assert not finished.wait(1.5)  # still waiting for the lock
        assert summaries.current(holder) is None
    finally:
        holder.commit()
        holder.close()
    thread.join(30)
    assert finished.is_set()
    assert summaries.current(db).refreshed_at == _now(monday)


def test_the_worker_task_refreshes(app, db, world):
    assert summaries.current(db) is None
    with app.app_context():
        tasks.refresh_dashboards()
    fresh = summaries.current(db)
    assert fresh is not None and fresh.refreshed_at <= utcnow()
    assert len(_summary_rows(db)["unfilled_places"]) == 7  # R0 to R7 but R5 (booked): as of now, R8 (last Sunday) too


def test_a_period_the_summaries_do_not_cover_is_read_live(db, world):
    monday = world["monday"]
    summaries.refresh(db, _now(monday))
    long_ago = monday - dt.timedelta(weeks=62)  # a Monday 434 days back: before the summaries' 400 days
    make_request(db, world["camden"][0], at(long_ago + dt.timedelta(days=1), 10), people_needed=2)
    scope = Scope(
        first_day=long_ago,
        last_day=long_ago + dt.timedelta(days=6),
        ward_ids=None,
        area_label="All",
        period_label="Old",
    )
    # Before the summaries' first day: the request itself, read live (2 asked, nobody offered, both unfilled).
    assert [r for r in weekly_coverage(db, scope, _now(monday)) if r.asked] == [
        CoverageRow(long_ago, Priority.ROUTINE, 2, 0, 0, 0, 2, 0, 0)
    ]


def test_the_command_works_the_summaries_out_for_cron_without_a_worker(app, db):
    result = app.test_cli_runner().invoke(args=["match", "refresh-dashboards"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Dashboards' summaries worked out in ")
    assert db.execute(select(InsightRefresh.name)).scalars().all() != []
