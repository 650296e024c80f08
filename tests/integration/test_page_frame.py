"""The frame every page shares (issue 19: items 2, 22 and 24): one current menu item, every piece of
content inside a landmark, a footer that leads to the privacy notice, accessibility statement and
contact page, and a run's progress that updates without a timed page refresh.

The browser suite runs axe over the pages the journeys visit; these check the same rules on pages it
may not reach, and fail fast without a browser.
"""

from __future__ import annotations

import datetime as dt

from bs4 import BeautifulSoup
from bs4.element import NavigableString
from sqlalchemy import select

from core.auth.models import Role
from core.geography.models import Bcu
from core.timeutil import london_today
from matching.models import RunScope
from matching.runs.services import queue_run
from tests.helpers import make_user, make_volunteer, make_wards

LANDMARKS = "header, main, footer, nav, aside, [role=banner], [role=main], [role=contentinfo], [role=navigation]"


def _outside_landmarks(soup: BeautifulSoup) -> list[str]:
    """Text of the page that no landmark holds (axe's `region` rule), the skip link apart."""
    stray = []
    for text in soup.body.find_all(string=True):
        if not isinstance(text, NavigableString) or not text.strip() or text.parent.name in ("script", "style"):
            continue
        parent = text.parent
        if parent.find_parent(class_="govuk-skip-link") or "govuk-skip-link" in (parent.get("class") or []):
            continue
        if parent.css.closest(LANDMARKS) is None:
            stray.append(" ".join(text.split()))
    return stray


def _current(soup: BeautifulSoup) -> list[str]:
    return [a.get_text(strip=True) for a in soup.select(".govuk-service-navigation__link[aria-current]")] + [
        item.get_text(strip=True)
        for item in soup.select(".govuk-service-navigation__item--active")
        if not item.select_one("[aria-current]")
    ]


def test_a_volunteers_profile_pages_each_mark_one_menu_item_current(app, db):
    volunteer = make_volunteer(db)
    client = app.test_client()
    client.sign_in(volunteer.user.email)
    for path, current in (
        ("/", "Home"),
        ("/profile", "Your profile"),
        ("/profile/skills", "Skills"),
        ("/profile/availability", "Availability"),
        ("/profile/conflicts", "Your profile"),
    ):
        assert _current(client.get(path).soup) == [current], path


def test_a_coordinators_pages_each_mark_one_menu_item_current(app, db):
    client = app.test_client()
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    menu = client.get("/").soup.select(".govuk-service-navigation__link")
    assert [a.get_text(strip=True) for a in menu][:2] == ["Home", "Requests"]
    for link in menu:
        page = client.get(link["href"])
        assert page.status_code == 200, link["href"]
        assert _current(page.soup) == [link.get_text(strip=True)], link["href"]


def test_signed_in_pages_keep_the_account_bar_and_back_links_inside_landmarks(app, db):
    """The account bar sat between the header and main, and back links before main: axe's `region`."""
    client = app.test_client()
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    for path in ("/", "/vetting/task-types", "/vetting/task-types/new", "/accounts/new", "/account"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert _outside_landmarks(page.soup) == [], path
    home = client.get("/").soup
    assert home.select_one("header .app-account-bar"), "the account bar belongs to the page's banner"
    back = client.get("/accounts/new").soup.select_one(".govuk-back-link")
    assert back.find_parent("nav") is not None and back.find_parent("main") is None


def test_the_footer_links_to_the_privacy_notice_accessibility_statement_and_contact_page(client):
    footer = client.get("/sign-in").soup.select_one("footer.govuk-template__footer")
    links = {a.get_text(strip=True): a["href"] for a in footer.select("a.govuk-footer__link")}
    assert links == {"Privacy": "/privacy", "Accessibility statement": "/accessibility", "Contact": "/contact"}
    for href in links.values():
        page = client.get(href)
        assert page.status_code == 200 and _outside_landmarks(page.soup) == [], href


def test_a_runs_progress_updates_politely_without_a_timed_refresh(app, db):
    """axe's critical `meta-refresh`: the page reloaded itself every 2 seconds, losing the reader's place."""
    make_wards(db)
    coordinator = make_user(db, Role.COORDINATOR)
    bcu = db.scalars(select(Bcu).order_by(Bcu.id)).first()
    day = london_today() + dt.timedelta(days=1)
    run = queue_run(
        db,
        scope=RunScope.BCU,
        first_day=day,
        last_day=day,
        today=london_today(),
        trigger="web",
        requested_by_id=coordinator.id,
        bcu_id=bcu.id,
    )
    client = app.test_client()
    client.sign_in(coordinator.email)
    soup = client.get(f"/matching/runs/{run.id}").soup
    assert soup.select_one("meta[http-equiv=refresh]") is None
    progress = soup.select_one("#run-progress")
    assert progress is not None and "0% done" in progress.get_text()
    assert soup.select_one("[role=status]#run-announcement") is not None, "a polite live region for changes"
    refresh = soup.select_one("#run-progress a.govuk-link")
    assert refresh["href"] == f"/matching/runs/{run.id}", "a Refresh link that works without JavaScript"
    scripts = [s.get("src") for s in soup.select("script[src]")]
    assert "/static/run-progress.js" in scripts
    assert all(s.get("nonce") for s in soup.select("script")), "the CSP allows only scripts with the nonce"
    assert _outside_landmarks(soup) == []
