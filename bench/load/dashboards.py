"""Coordinators, sergeants and force systems reading the dashboards and the API at once (issue #21): the
locust file of ``python -m bench.load.run --scenario dashboards``.

Who, as the runner's accounts file (LOAD_ACCOUNTS) names them, each locust user its own account or token:
- coordinators open each dashboard (/dashboards/coverage, unfilled, skills, vetting, people) over a period
  and an area picked from the page's own filter (all London, a BCU, a borough or a ward);
- sergeants open each dashboard over a period, for all their wards or one of them;
- force systems call each API list (/api/v1/requests, offers, deployments, volunteers, coverage) with a
  bearer token, sometimes filtered by days or status, and walk two more pages by ``next_cursor``.

Every HTTP 5xx is counted and written to LOAD_RESULTS when locust stops (with the 429s, which would mean the
rate limit, not speed, shaped the figures). Pages are named by route (``/dashboards/[slug]`` per slug and
``/api/v1/offers`` for every page of offers), so their percentiles are per page.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import re
import threading
from pathlib import Path

from bs4 import BeautifulSoup
from locust import HttpUser, between, events, task

from core.auth import totp
from core.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from core.timeutil import london_today

ACCOUNTS = (
    json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text(encoding="utf-8")) if "LOAD_ACCOUNTS" in os.environ else {}
)
SLUGS = ("coverage", "unfilled", "skills", "vetting", "people")
# The filter's rolling periods; "" is its default (the last 13 weeks), sent as the form sends it.
PERIODS = ("4w", "", "26w", "52w")
LISTS = ("requests", "offers", "deployments", "volunteers")
_lock = threading.Lock()
_next = {kind: itertools.count() for kind in ("coordinators", "sergeants", "tokens")}
_counts: dict[str, dict[str, int]] = {"server_errors": {}, "rate_limited": {}}


def _account(kind: str):
    """The next unused account (or token) of this kind: each locust user its own."""
    with _lock:
        accounts = ACCOUNTS.get(kind, [])
        return accounts[next(_next[kind]) % len(accounts)] if accounts else None


@events.request.add_listener
def _count(name, response=None, **_):
    if response is None:
        return
    kind = "server_errors" if response.status_code >= 500 else "rate_limited" if response.status_code == 429 else ""
    if kind:
        with _lock:
            _counts[kind][name] = _counts[kind].get(name, 0) + 1


@events.quitting.add_listener
def _write_results(environment, **_):
    target = os.environ.get("LOAD_RESULTS")
    if target:
        Path(target).write_text(json.dumps(_counts), encoding="utf-8")


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return found.group(1) if found else ""


def _options(html: str) -> dict[str, list[str]]:
    """The filter's choices on a dashboard page: its BCUs, boroughs and wards (what this viewer may pick)."""
    soup = BeautifulSoup(html, "html.parser")
    found = {}
    for name in ("bcu", "borough", "ward"):
        select = soup.find("select", attrs={"name": name})
        found[name] = [o["value"] for o in select.find_all("option") if o.get("value")] if select else []
    return found


class Staff(HttpUser):
    """A coordinator or sergeant: signs in (with the demo authenticator when the role needs one), then opens
    the dashboards with a filter of their own choosing."""

    abstract = True
    wait_time = between(1, 3)
    kind = ""

    def on_start(self) -> None:
        self.me = _account(self.kind)
        if self.me is None:
            raise RuntimeError(f"no {self.kind} account in LOAD_ACCOUNTS")
        page = self.client.get("/sign-in", name="/sign-in")
        response = self.client.post(
            "/sign-in",
            data={"email": self.me["email"], "password": DEMO_PASSWORD, "csrf_token": _csrf(page.text)},
            name="/sign-in",
        )
        if "/sign-in/security-code" in response.url:
            code = totp.code_at_step(DEMO_TOTP_SECRET, totp.step_at(dt.datetime.now(dt.UTC)))
            self.client.post(
                "/sign-in/security-code",
                data={"code": code, "csrf_token": _csrf(response.text)},
                name="/sign-in/security-code",
            )
        first = self.client.get("/dashboards/coverage", name="/dashboards/coverage")
        self.choices = _options(first.text)

    def _area(self) -> dict[str, str]:
        return {}

    @task
    def dashboard(self) -> None:
        slug = random.choice(SLUGS)
        params = {"period": random.choice(PERIODS)} | self._area()
        if random.random() < 0.15:  # a calendar month instead of a rolling period
            month = london_today().replace(day=1) - dt.timedelta(days=random.randint(1, 300))
            params["period"] = f"{month:%Y-%m}"
        with self.client.get(
            f"/dashboards/{slug}", params=params, name=f"/dashboards/{slug}", catch_response=True
        ) as response:
            if response.status_code == 200 and "govuk-error-summary" in response.text:
                response.failure(f"the filter was refused: {params}")


class Coordinator(Staff):
    weight = 8
    kind = "coordinators"

    def _area(self) -> dict[str, str]:
        # All London half the time, else a BCU, a borough or a ward (as coordinators would look).
        roll = random.random()
        for name, upto in (("bcu", 0.65), ("borough", 0.85), ("ward", 1.0)):
            if roll >= 0.5 and roll < upto and self.choices.get(name):
                return {name: random.choice(self.choices[name])}
        return {}


class Sergeant(Staff):
    weight = 6
    kind = "sergeants"

    def _area(self) -> dict[str, str]:
        wards = self.choices.get("ward") or []
        return {"ward": random.choice(wards)} if wards and random.random() < 0.4 else {}


class ForceSystem(HttpUser):
    """A force's duty or HR system with a token of every scope: a list, then up to two more pages."""

    weight = 6
    wait_time = between(1, 3)

    def on_start(self) -> None:
        token = _account("tokens")
        if token is None:
            raise RuntimeError("no API token in LOAD_ACCOUNTS")
        self.client.headers["Authorization"] = f"Bearer {token}"

    @task(4)
    def walk_a_list(self) -> None:
        name = random.choice(LISTS)
        params: dict[str, str | int] = {"limit": random.choice((50, 100, 200))}
        today = london_today()
        if name != "volunteers" and random.random() < 0.5:
            first = today - dt.timedelta(days=random.randint(7, 300))
            params |= {"from": first.isoformat(), "to": (first + dt.timedelta(days=random.randint(7, 60))).isoformat()}
        if name == "offers" and random.random() < 0.3:
            params["status"] = random.choice(("accepted", "declined", "offered"))
        for _page in range(3):
            response = self.client.get(f"/api/v1/{name}", params=params, name=f"/api/v1/{name}")
            if response.status_code != 200:
                return
            cursor = response.json().get("next_cursor")
            if not cursor:
                return
            params = {"limit": params["limit"], "cursor": cursor} | {
                k: v for k, v in params.items() if k in ("from", "to", "status")
            }

    @task(1)
    def coverage(self) -> None:
        last = london_today() - dt.timedelta(days=1)
        first = last - dt.timedelta(days=random.choice((27, 90, 181, 364)))
        self.client.get(
            "/api/v1/coverage", params={"from": first.isoformat(), "to": last.isoformat()}, name="/api/v1/coverage"
        )
