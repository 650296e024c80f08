"""Dashboard pages kept for a few minutes (matching/insight/page_cache.py): served again for the same question,
worked out afresh once old, never served for another area, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core.auth.models import Role
from core.charts import Page, Section, Table, Tag
from matching.insight import page_cache
from matching.insight.models import InsightPage
from matching.insight.registry import Dashboard
from matching.insight.scope import Scope
from tests.helpers import make_user, make_volunteer, make_wards

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def _scope(ward_ids: frozenset[int] | None) -> Scope:
    return Scope(
        first_day=dt.date(2026, 9, 8),
        last_day=dt.date(2026, 12, 7),
        ward_ids=ward_ids,
        area_label="Test",
        period_label="The last 13 weeks",
    )


class Counting:
    """A dashboard whose one figure is how many times its page was worked out."""

    def __init__(self) -> None:
        self.builds = 0

    def __call__(self, db, scope, now) -> Page:
        self.builds += 1
        table = Table("t", "Builds", ("Build", "Number", "State"), (("Build", self.builds, Tag("Met", "green")),))
        return Page("Counting", f"Live figures, worked out at {now:%H:%M}", (Section("s", "Builds", tables=(table,)),))


def test_a_page_is_served_again_until_it_is_older_than_the_keeping_time(db):
    counting = Counting()
    dashboard = Dashboard("counting", "Counting", "", counting)
    scope = _scope(None)

    first = page_cache.page(db, dashboard, scope, NOW, keep_seconds=300)
    again = page_cache.page(db, dashboard, scope, NOW + dt.timedelta(seconds=299), keep_seconds=300)
    # The same page (read back from its JSON, tags and numbers as they were), worked out once.
    assert counting.builds == 1
    assert again == first
    assert again.freshness == "Live figures, worked out at 12:00"

    later = page_cache.page(db, dashboard, scope, NOW + dt.timedelta(seconds=301), keep_seconds=300)
    assert counting.builds == 2
    assert later.table("t").rows[0][1] == 2
    assert later.freshness == "Live figures, worked out at 12:05"
    # One kept page per question: the old one was replaced, not added to.
    assert db.execute(select(func.count()).select_from(InsightPage)).scalar_one() == 1


def test_another_area_or_period_is_another_page_and_nothing_is_kept_at_zero(db):
    counting = Counting()
    dashboard = Dashboard("counting", "Counting", "", counting)
    page_cache.page(db, dashboard, _scope(frozenset({1, 2})), NOW, keep_seconds=300)
    page_cache.page(db, dashboard, _scope(frozenset({1})), NOW, keep_seconds=300)  # a sergeant of ward 1 only
    page_cache.page(db, dashboard, _scope(None), NOW, keep_seconds=300)
    assert counting.builds == 3
    assert page_cache.key(dashboard, _scope(frozenset({2, 1}))) == page_cache.key(dashboard, _scope(frozenset({1, 2})))

    page_cache.page(db, dashboard, _scope(None), NOW, keep_seconds=0)
    assert counting.builds == 4


def test_pages_long_past_their_time_are_cleared(db):
    counting = Counting()
    dashboard = Dashboard("counting", "Counting", "", counting)
    page_cache.page(db, dashboard, _scope(frozenset({1})), NOW, keep_seconds=300)
    page_cache.page(db, dashboard, _scope(frozenset({2})), NOW + dt.timedelta(minutes=11), keep_seconds=300)
    assert db.execute(select(InsightPage.key)).scalars().all() == [page_cache.key(dashboard, _scope(frozenset({2})))]


def test_a_served_dashboard_keeps_its_page_and_says_when_it_was_worked_out(app, client, db):
    app.config["INSIGHT_PAGE_SECONDS"] = 300
    ward = make_wards(db, "Camden", count=1)[0]
    make_volunteer(db, home_ward_id=ward.id)
    make_user(db, Role.COORDINATOR, email="coordinator@example.org")
    db.commit()
    client.sign_in("coordinator@example.org")
    first = client.get("/dashboards/skills")
    assert first.status_code == 200
    again = client.get("/dashboards/skills")
    assert db.execute(select(InsightPage.slug)).scalars().all() == ["skills"]
    # The second look is the kept page: the same figures and the same "as of" line.
    assert again.soup.select_one(".app-freshness").get_text() == first.soup.select_one(".app-freshness").get_text()
    assert str(again.soup.select_one("main table")) == str(first.soup.select_one("main table"))
    # The CSV of a kept page's table is the kept table's rows.
    csv = client.get("/dashboards/skills/skills.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert len(db.execute(select(InsightPage.slug)).scalars().all()) == 1
