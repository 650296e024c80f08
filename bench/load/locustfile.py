"""Twenty people at once on the service (issue 22): a locust file for ``python -m bench.load.run``.

Who, as the runner's accounts file (LOAD_ACCOUNTS) names them, each locust user its own demo account:
- volunteers open their home page and their offer, and accept or decline it (a decline re-matches the
  place at once, in the web request, as in service);
- sergeants list their requests, raise a request (the form's own defaults, a title and a day of their
  own) and press "Find volunteers now" on it;
- the coordinator reads the matching runs and starts a BCU run (for the worker) every minute or so, and
  follows its page;
- vetting officers read the queue and open reviews (reading only: deciding needs two officers' steps,
  which this file does not script).

Every HTTP 5xx is counted and written to LOAD_RESULTS when locust stops. Pages are named by route
(``/offers/[id]``) so their percentiles are per page, not per URL.
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
_lock = threading.Lock()
_next = {kind: itertools.count() for kind in ("volunteers", "sergeants", "coordinators", "vetting_officers")}
_server_errors: dict[str, int] = {}


def _account(kind: str):
    """The next unused account of this kind (each locust user its own: codes and offers are per person)."""
    with _lock:
        accounts = ACCOUNTS.get(kind, [])
        return accounts[next(_next[kind]) % len(accounts)] if accounts else None


@events.request.add_listener
def _count_5xx(name, response=None, **_):
    if response is not None and response.status_code >= 500:
        with _lock:
            _server_errors[name] = _server_errors.get(name, 0) + 1


@events.quitting.add_listener
def _write_results(environment, **_):
    target = os.environ.get("LOAD_RESULTS")
    if target:
        Path(target).write_text(json.dumps({"server_errors": _server_errors}), encoding="utf-8")


def _form_values(html: str, action: str | None = None) -> dict[str, list[str]]:
    """A form's fields as the browser would send them untouched: every input's value (a date's day, month
    and year share one name), checked radios and checkboxes, each select's chosen option, textareas."""
    soup = BeautifulSoup(html, "html.parser")
    form = soup.find("form", action=action) if action else soup.find("form", method=re.compile("post", re.I))
    values: dict[str, list[str]] = {}
    if form is None:
        return values
    for field in form.find_all(["input", "select", "textarea"]):
        name = field.get("name")
        if not name:
            continue
        if field.name == "select":
            chosen = field.find("option", selected=True) or field.find("option")
            value = chosen.get("value", "") if chosen else ""
        elif field.name == "textarea":
            value = field.get_text()
        elif field.get("type") in ("radio", "checkbox"):
            if not field.has_attr("checked"):
                continue
            value = field.get("value", "on")
        elif field.get("type") in ("submit", "button"):
            continue
        else:
            value = field.get("value", "")
        values.setdefault(name, []).append(value)
    return values


def _options(html: str, select: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    found = soup.find("select", attrs={"name": select})
    return [o["value"] for o in found.find_all("option") if o.get("value")] if found else []


def _day(day: dt.date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return found.group(1) if found else ""


class Person(HttpUser):
    abstract = True
    wait_time = between(1, 4)
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
            # The demo's published authenticator key; each officer is a different account, so each code is fresh.
            code = totp.code_at_step(DEMO_TOTP_SECRET, totp.step_at(dt.datetime.now(dt.UTC)))
            self.client.post(
                "/sign-in/security-code",
                data={"code": code, "csrf_token": _csrf(response.text)},
                name="/sign-in/security-code",
            )


class Volunteer(Person):
    weight = 12
    kind = "volunteers"

    def on_start(self) -> None:
        super().on_start()
        self.answered = False

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="/ (volunteer)")

    @task(2)
    def answer(self) -> None:
        offer = self.me.get("offer_id")
        if not offer:
            return
        page = self.client.get(f"/offers/{offer}", name="/offers/[id]")
        if self.answered or "Accept the offer" not in page.text:
            return
        choice = "accept" if random.random() < 0.7 else "decline"
        self.client.post(
            f"/offers/{offer}/{choice}", data={"csrf_token": _csrf(page.text)}, name=f"/offers/[id]/{choice}"
        )
        self.answered = True


class Sergeant(Person):
    weight = 5
    kind = "sergeants"

    @task(3)
    def requests(self) -> None:
        self.client.get("/requests", name="/requests")

    @task(1)
    def raise_and_match(self) -> None:
        page = self.client.get("/requests/new", name="/requests/new")
        task_types = re.findall(r'name="task_type"[^>]*value="([^"]+)"', page.text)
        if not task_types:
            return
        chosen = self.client.post(
            "/requests/new",
            data={"task_type": random.choice(task_types), "csrf_token": _csrf(page.text)},
            name="/requests/new",
        )
        values = _form_values(chosen.text)
        day = london_today() + dt.timedelta(days=random.randint(3, 20))
        values.update(
            {
                "title": ["Load test visit"],
                "description": ["Raised by the load benchmark."],
                "date": _day(day),
            }
        )
        saved = self.client.post(chosen.url, data=values, name="/requests/new/[task type]")
        found = re.search(r"/requests/(\d+)$", saved.url)
        if not found:
            return  # refused by a check (shown by the field): a sergeant would correct it
        request_id = found.group(1)
        self.client.post(
            f"/requests/{request_id}/match", data={"csrf_token": _csrf(saved.text)}, name="/requests/[id]/match"
        )


class Coordinator(Person):
    fixed_count = 1
    kind = "coordinators"

    def on_start(self) -> None:
        super().on_start()
        self.last_run: str | None = None
        self.started_at = 0.0

    @task(3)
    def runs(self) -> None:
        page = self.client.get("/matching/runs", name="/matching/runs")
        now = dt.datetime.now().timestamp()
        if now - self.started_at < 60:
            if self.last_run:
                self.client.get(self.last_run, name="/matching/runs/[id]")
            return
        bcus = _options(page.text, "bcu")
        values = _form_values(page.text, action="/matching/runs") | {"csrf_token": [_csrf(page.text)]}
        today = london_today()
        values.update(
            {
                "scope": ["bcu"],
                "bcu": [random.choice(bcus) if bcus else ""],
                "first_day": _day(today),
                "last_day": _day(today + dt.timedelta(days=6)),
            }
        )
        started = self.client.post("/matching/runs", data=values, name="/matching/runs (start)")
        if re.search(r"/matching/runs/\d+$", started.url):
            self.last_run, self.started_at = started.url, now


class VettingOfficer(Person):
    fixed_count = 2
    kind = "vetting_officers"

    @task
    def queue(self) -> None:
        page = self.client.get("/vetting/queue", name="/vetting/queue")
        reviews = re.findall(r'href="(/vetting/reviews/\d+)"', page.text)
        if reviews:
            self.client.get(random.choice(reviews), name="/vetting/reviews/[id]")
