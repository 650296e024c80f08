"""The vetting gate, in Chromium: a suspension takes a volunteer off their work at once, not at the nightly sweep.

On demo data, the named demo volunteer (one clearance) holds two places on a day three weeks ahead: one
accepted in their own browser, one still open on their screen. They report an arrest; a vetting officer
suspends their only clearance pending review (one officer may: only a withdrawal or a refusal waits for
a second). Straight away, without the sweep, the open offer cannot be accepted, the booking is withdrawn,
the sergeant's request page reads "No longer available" with the place already offered to someone else,
and the volunteer has an email that says in plain words what it means for them, and nothing of the
vetting detail. Every page is checked with axe and at 320 px.

The journey has a server of its own (demo data, and mail to an SMTP server in this process), so the
places it books are not shared with the other journeys.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from core import create_app
from core.auth.models import User, sergeant_wards
from core.db import utcnow
from core.timeutil import london_to_utc
from matching.models import Offer, OfferStatus, Priority, RequestStatus, SupportRequest
from matching.offers.services import refresh_status
from tests.e2e.conftest import DEMO_PASSWORD, ROOT, check_page, sign_in
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ReviewKind, ReviewStatus, VettingReview
from volunteers.models import AvailabilityException, Volunteer, VolunteerSkill, VolunteerStatus
from volunteers.skills import SkillLevel

pytestmark = pytest.mark.e2e
# Three weeks and more ahead: clear of the demo's own fortnight of offers.
DAY = dt.date.today() + dt.timedelta(days=23)
BOOKED = "Gate check: advice visit after a courier fraud"
OPEN = "Gate check: help to secure accounts after a hack"
VOLUNTEER = "volunteer@demo.example"
SERGEANT = "sergeant@demo.example"
REASON = "Arrested on 1 December for theft; suspended until the outcome is known"


class _Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@dataclass
class Gate:
    base: str
    database_url: str
    inbox: _Inbox
    booked_id: int  # the request the volunteer accepts
    open_id: int  # the request whose offer stays open on their screen
    open_offer_id: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _arrange(database_url: str) -> tuple[int, int, int, int]:
    """Two cyber-crime victim visits in the demo sergeant's first ward on DAY, each offered to the named
    demo volunteer as the matcher offers. Returns (booked request, open request, their two offer ids)."""
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": database_url})
    try:
        with app.extensions["db_sessionmaker"]() as session:
            sergeant_id = session.scalar(select(User.id).where(User.email == SERGEANT))
            ward_id = session.scalar(
                select(sergeant_wards.c.ward_id)
                .where(sergeant_wards.c.user_id == sergeant_id)
                .order_by(sergeant_wards.c.ward_id)
                .limit(1)
            )
            volunteer_id = session.scalar(
                select(Volunteer.id).join(User, User.id == Volunteer.user_id).where(User.email == VOLUNTEER)
            )
            made = []
            for hour, title in ((10, BOOKED), (14, OPEN)):
                start = london_to_utc(DAY, dt.time(hour, 0))
                item = SupportRequest(
                    ward_id=ward_id,
                    task_type_code="cyber_victim_visit",
                    title=title,
                    description="A resident lost money to a scam. Explain what happened and how to stay safe.",
                    window_start=start,
                    window_end=start + dt.timedelta(hours=2),
                    duration_minutes=60,
                    people_needed=1,
                    priority=Priority.ROUTINE,
                    status=RequestStatus.OPEN,
                    created_by_id=sergeant_id,
                )
                session.add(item)
                session.flush()
                offer = Offer(
                    request_id=item.id,
                    volunteer_id=volunteer_id,
                    status=OfferStatus.OFFERED,
                    starts_at=start,
                    ends_at=start + dt.timedelta(minutes=60),
                    load_minutes=60,
                    explanation="Cyber-crime victim support, expert; 0.0 km away",
                    offered_at=utcnow(),
                    respond_by=utcnow() + dt.timedelta(hours=48),
                )
                session.add(offer)
                session.flush()
                made.append((item.id, offer.id))
            _someone_to_take_her_places(session, ward_id, volunteer_id)
            refresh_status(session, [request_id for request_id, _ in made])
            session.commit()
    finally:
        app.extensions["db_engine"].dispose()
    (booked_id, booked_offer), (open_id, open_offer) = made
    return booked_id, open_id, booked_offer, open_offer


def _someone_to_take_her_places(session: Session, ward_id: int, volunteer_id: int) -> None:
    """Another demo volunteer who holds the skill and the named volunteer's kind of clearance, living in the
    ward and free all of DAY: the journey shows a place offered to someone else, which must not hang on
    whether the demo's random week happens to leave someone free then."""
    clearance_type = session.scalar(select(Clearance.type_code).where(Clearance.volunteer_id == volunteer_id))
    other = session.scalars(
        select(Volunteer)
        .join(VolunteerSkill, VolunteerSkill.volunteer_id == Volunteer.id)
        .join(Clearance, Clearance.volunteer_id == Volunteer.id)
        .where(
            Volunteer.id != volunteer_id,
            Volunteer.status == VolunteerStatus.ACTIVE,
            VolunteerSkill.skill_code == "cyber_victim_support",
            VolunteerSkill.level.in_([SkillLevel.PRACTITIONER, SkillLevel.EXPERT]),
            Clearance.type_code == clearance_type,
            Clearance.state == ClearanceState.GRANTED,
            Clearance.valid_from <= DAY,
            Clearance.expires_on > DAY,
        )
        .order_by(Volunteer.id)
        .limit(1)
    ).one()
    other.home_ward_id, other.travel_limit_km = ward_id, 10
    session.add(
        AvailabilityException(
            volunteer_id=other.id, on_date=DAY, available=True, start_minute=8 * 60, end_minute=20 * 60
        )
    )


@pytest.fixture(scope="module")
def gate(tmp_path_factory):
    inbox = _Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    workdir = tmp_path_factory.mktemp("gate")
    database_url = f"sqlite:///{workdir / 'gate.sqlite3'}"
    env = {
        **os.environ,
        "FLASK_ENV": "testing",
        "FLASK_APP": "wsgi:app",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-secret-key-" + "x" * 32,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
    }
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "load", "--scale", "60"], cwd=ROOT, env=env, check=True, capture_output=True)
    booked_id, open_id, _, open_offer_id = _arrange(database_url)
    port = _free_port()
    log = open(workdir / "server.log", "w")  # noqa: SIM115 - closed below, after the server stops
    server = subprocess.Popen(
        [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", "4", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("the app server did not start:\n" + (workdir / "server.log").read_text()) from None
            time.sleep(0.2)
    yield Gate(base, database_url, inbox, booked_id, open_id, open_offer_id)
    server.terminate()
    server.wait(timeout=10)
    log.close()
    smtp.stop()


def _triggered_review(gate: Gate) -> int:
    """The open triggered review of the named volunteer: the officer's link to it (the queue is tested elsewhere)."""
    engine = create_engine(gate.database_url)
    try:
        with Session(engine) as session:
            return session.scalars(
                select(VettingReview.id)
                .join(Volunteer, Volunteer.id == VettingReview.volunteer_id)
                .join(User, User.id == Volunteer.user_id)
                .where(
                    User.email == VOLUNTEER,
                    VettingReview.kind == ReviewKind.TRIGGERED,
                    VettingReview.status == ReviewStatus.OPEN,
                )
            ).one()
    finally:
        engine.dispose()


def _sign_in(page: Page, base: str, email: str) -> None:
    # The shared helper gives the demo authenticator's code, never one already used on that account.
    sign_in(page, base, email, DEMO_PASSWORD)


def _offer_rows(page: Page) -> dict[str, str]:
    """Name → the status shown, for each volunteer on a request page."""
    rows = {}
    for item in page.locator(".app-offers li").all():
        name = item.locator("h3").inner_text()
        status = item.locator("h3 .govuk-tag").inner_text()
        rows[name.replace(status, "").strip()] = status.strip()
    return rows


def test_a_suspension_takes_the_volunteer_off_their_work_at_once(gate, new_page):
    base = gate.base

    # The volunteer accepts one visit and has the other offer open on their screen.
    volunteer = new_page()
    _sign_in(volunteer, base, VOLUNTEER)
    volunteer.locator("#offers + ul a", has_text=BOOKED).click()
    check_page(volunteer)
    volunteer.get_by_role("button", name="Accept the offer").click()
    expect(volunteer.locator(".govuk-notification-banner")).to_contain_text(f"you are booked for {BOOKED}")
    volunteer.goto(f"{base}/offers/{gate.open_offer_id}")
    expect(volunteer.locator("h1")).to_have_text(OPEN)
    expect(volunteer.get_by_role("button", name="Accept the offer")).to_be_visible()

    # They report an arrest, as they must; it opens a triggered review.
    reporter = new_page()
    _sign_in(reporter, base, VOLUNTEER)
    reporter.goto(base + "/profile/circumstances")
    reporter.get_by_label("Arrest, charge, caution, conviction or police investigation").check()
    day = dt.date.today() - dt.timedelta(days=6)
    reporter.locator("#occurred_on-day").fill(str(day.day))
    reporter.locator("#occurred_on-month").fill(str(day.month))
    reporter.locator("#occurred_on-year").fill(str(day.year))
    reporter.get_by_label("Tell us what has changed").fill("I was arrested on suspicion of theft and released.")
    reporter.get_by_role("button", name="Report the change").click()
    expect(reporter.locator(".govuk-notification-banner")).to_be_visible()

    # A vetting officer suspends the volunteer's only clearance pending the review.
    officer = new_page()
    _sign_in(officer, base, "vetting.officer@demo.example")
    officer.goto(f"{base}/vetting/reviews/{_triggered_review(gate)}")
    expect(officer.locator("h1")).to_contain_text("Triggered review")
    check_page(officer)
    officer.locator("summary", has_text="Act on this clearance").click()
    officer.get_by_label("Reason to suspend pending review").fill(REASON)
    officer.get_by_role("button", name="Suspend pending review").click()
    expect(officer.locator(".govuk-notification-banner")).to_contain_text("Clearance suspended pending review")
    check_page(officer)

    # Straight away, with no sweep run: the offer on the volunteer's screen can no longer be accepted...
    volunteer.get_by_role("button", name="Accept the offer").click()
    expect(volunteer.locator(".govuk-error-summary")).to_contain_text("This offer is no longer open to you")
    expect(volunteer.locator("main")).to_contain_text("Status No longer open to you")
    expect(volunteer.locator("main")).not_to_contain_text(REASON)
    check_page(volunteer)
    # ...and the booking has gone from their home page.
    volunteer.goto(base + "/")
    expect(volunteer.locator("main")).not_to_contain_text(BOOKED)
    expect(volunteer.locator("main")).not_to_contain_text(OPEN)
    check_page(volunteer)

    # The sergeant reads "No longer available", and each place has been offered to someone else.
    sergeant = new_page()
    _sign_in(sergeant, base, SERGEANT)
    for request_id, title in ((gate.booked_id, BOOKED), (gate.open_id, OPEN)):
        sergeant.goto(f"{base}/requests/{request_id}")
        expect(sergeant.locator("h1")).to_have_text(title)
        rows = _offer_rows(sergeant)
        assert len(rows) == 2, rows
        (withdrawn,) = [who for who, status in rows.items() if status == "No longer available"]
        (replacement,) = [who for who, status in rows.items() if status == "Waiting for an answer"]
        assert withdrawn != replacement
        main = sergeant.locator("main")
        for word in ("suspend", "clearance", "vetting", "theft", "arrest"):
            expect(main).not_to_contain_text(word, ignore_case=True)
        check_page(sergeant)

    # The volunteer has an email that says what happened, in plain words, and nothing of the vetting detail.
    # .strip(): a subject longer than a line is folded straight after "Subject:", and unfolds with a space.
    (message,) = [m for m in gate.inbox.to(VOLUNTEER) if m["Subject"].strip() == f"You are no longer booked: {BOOKED}"]
    text = message.get_body().get_content()
    assert "You are no longer booked for this, so please do not go:" in text
    assert BOOKED in text
    assert "Your vetting does not cover this task on that day at the moment." in text
    assert "you do not need to do anything" in text
    for word in ("suspend", "theft", "arrest", "officer", REASON):
        assert word not in text.lower()
    assert any(m["Subject"].strip() == f"Offer withdrawn: {OPEN}" for m in gate.inbox.to(VOLUNTEER))
    assert any(m["Subject"].strip() == f"Volunteer no longer available: {BOOKED}" for m in gate.inbox.to(SERGEANT))
