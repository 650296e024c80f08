"""The matcher on the web: a sergeant finds volunteers, a volunteer answers, a coordinator runs and reads
runs, and the CLI. Dates are relative to today, so these tests keep working as the calendar moves."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from core.auth.models import Role
from core.timeutil import london_to_utc, london_today
from matching.models import MatchRun, Offer, OfferStatus, RequestStatus, RunStatus
from matching.solver.instance import parse_instance
from tests.helpers import date_fields, make_kings_cross_and_belsize, make_request, make_user, make_volunteer
from tests.integration.conftest import body
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance
from volunteers.models import AvailabilitySlot, VolunteerKind, VolunteerSkill, VolunteerStatus
from volunteers.skills import SkillLevel

ROOT = Path(__file__).resolve().parents[2]
DAY = london_today() + dt.timedelta(days=2)
AT_2PM = london_to_utc(DAY, dt.time(14, 0))


def _ready(db, ward, name: str, **profile):
    """An active PSV cleared for cyber-crime victim visits and free every day, 8am to 8pm."""
    profile.setdefault("travel_limit_km", 5)
    volunteer = make_volunteer(db, home_ward_id=ward.id, full_name=name, status=VolunteerStatus.ACTIVE, **profile)
    db.add(VolunteerSkill(volunteer_id=volunteer.id, skill_code="cyber_victim_support", level=SkillLevel.EXPERT))
    db.add(
        Clearance(
            volunteer_id=volunteer.id,
            type_code="NPPV2F",
            state=ClearanceState.GRANTED,
            valid_from=dt.date(2024, 1, 1),
            expires_on=DAY + dt.timedelta(days=400),
        )
    )
    db.add_all(
        AvailabilitySlot(volunteer_id=volunteer.id, weekday=d, start_minute=8 * 60, end_minute=20 * 60)
        for d in range(7)
    )
    db.commit()
    return volunteer


def _setup(db):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx])
    item = make_request(db, kx, start=AT_2PM, title="Visit after a phishing fraud", created_by_id=sergeant.id)
    return wards, sergeant, item


def test_sergeant_finds_a_volunteer_who_accepts_and_the_sergeant_sees_it(app, db):
    wards, sergeant, item = _setup(db)
    alice = _ready(db, wards["kings_cross"], "Alice Adeyemi")
    sergeant_client, volunteer_client, other_client = app.test_client(), app.test_client(), app.test_client()
    sergeant_client.sign_in(sergeant.email)

    page = sergeant_client.get(f"/requests/{item.id}").soup
    assert "No volunteer has been offered this request yet." in page.get_text()
    response = sergeant_client.post(
        f"/requests/{item.id}/match",
        follow_redirects=True,
        data={"csrf_token": sergeant_client.csrf_token(f"/requests/{item.id}")},
    )
    text = " ".join(response.soup.get_text().split())
    assert "1 volunteer has been offered this request" in text
    assert "Alice Adeyemi Waiting for an answer" in text
    assert "Why: Cyber-crime victim support, expert; 0.0 km away." in text
    assert alice.user.email in text  # the sergeant may contact someone offered their request

    volunteer_client.sign_in(alice.user.email)
    home = volunteer_client.get("/").soup
    link = home.select_one("#offers ~ ul a")
    assert link.get_text(strip=True) == "Visit after a phishing fraud"
    offer_url = link["href"]
    # Nobody else's offer: another volunteer gets "not found".
    other = make_volunteer(db)
    other_client.sign_in(other.user.email)
    assert other_client.get(offer_url).status_code == 404
    token = other_client.csrf_token("/")
    assert other_client.post(offer_url + "/accept", data={"csrf_token": token}).status_code == 404

    response = volunteer_client.post(
        offer_url + "/accept", follow_redirects=True, data={"csrf_token": volunteer_client.csrf_token(offer_url)}
    )
    text = " ".join(response.soup.get_text().split())
    assert "you are booked for Visit after a phishing fraud" in text
    assert "Your upcoming deployments Visit after a phishing fraud" in text

    text = " ".join(sergeant_client.get(f"/requests/{item.id}").soup.get_text().split())
    assert "Alice Adeyemi Accepted" in text and "Filled" in text
    assert "Find volunteers now" not in text  # no free place left


def test_a_decline_offers_the_place_to_someone_else_at_once(app, db):
    wards, sergeant, item = _setup(db)
    alice = _ready(db, wards["kings_cross"], "Alice Adeyemi")
    _ready(db, wards["belsize"], "Bogdan Nowak")
    client = app.test_client()
    client.sign_in(sergeant.email)
    client.post(f"/requests/{item.id}/match", data={"csrf_token": client.csrf_token(f"/requests/{item.id}")})
    offer = db.scalars(select(Offer).where(Offer.request_id == item.id)).one()
    assert offer.volunteer_id == alice.id

    volunteer = app.test_client()
    volunteer.sign_in(alice.user.email)
    response = volunteer.post(
        f"/offers/{offer.id}/decline",
        follow_redirects=True,
        data={"csrf_token": volunteer.csrf_token(f"/offers/{offer.id}")},
    )
    assert "You have declined this offer" in response.soup.get_text()
    text = " ".join(client.get(f"/requests/{item.id}").soup.get_text().split())
    assert "Bogdan Nowak Waiting for an answer" in text and "Alice Adeyemi Declined" in text


def test_a_request_nobody_can_take_shows_its_funnel_and_what_would_fill_it(app, db):
    wards, sergeant, item = _setup(db)
    _ready(db, wards["belsize"], "Far Away", travel_limit_km=2)
    client = app.test_client()
    client.sign_in(sergeant.email)
    response = client.post(
        f"/requests/{item.id}/match",
        follow_redirects=True,
        data={"csrf_token": client.csrf_token(f"/requests/{item.id}")},
    )
    soup = response.soup
    assert "Nobody could be offered this request yet" in soup.get_text()
    steps = [" ".join(li.get_text().split()) for li in soup.select(".app-funnel li")]
    assert steps[:6] == [
        "1 volunteers",
        "1 have the skills",
        f"1 cleared for this task on {DAY.day} {DAY:%B %Y}",
        "1 can do this kind of task",
        "1 free 2pm to 3pm",
        "0 within their travel limit",
    ]
    suggestion = soup.select_one(".govuk-inset-text").get_text()
    assert "The nearest eligible volunteer is 3.8 km away with a 2 km limit" in suggestion


def test_another_wards_sergeant_cannot_match_or_see_the_request(app, db):
    _, _, item = _setup(db)
    stranger = make_user(db, Role.SERGEANT, wards=[])
    client = app.test_client()
    client.sign_in(stranger.email)
    assert client.post(f"/requests/{item.id}/match", data={"csrf_token": client.csrf_token("/")}).status_code == 404
    assert db.scalars(select(MatchRun)).all() == []


def test_cancelling_a_matched_request_cancels_its_offers(app, db):
    wards, sergeant, item = _setup(db)
    _ready(db, wards["kings_cross"], "Alice Adeyemi")
    client = app.test_client()
    client.sign_in(sergeant.email)
    client.post(f"/requests/{item.id}/match", data={"csrf_token": client.csrf_token(f"/requests/{item.id}")})
    response = client.post(
        f"/requests/{item.id}/cancel",
        follow_redirects=True,
        data={"csrf_token": client.csrf_token(f"/requests/{item.id}/cancel"), "reason": "The victim has moved away"},
    )
    assert "Request cancelled" in response.soup.get_text()
    db.expire_all()
    assert db.get(type(item), item.id).status is RequestStatus.CANCELLED
    assert [o.status for o in db.scalars(select(Offer))] == [OfferStatus.CANCELLED]


def test_coordinator_runs_a_ward_and_a_bcu_and_reads_the_history(app, db):
    wards, _, item = _setup(db)
    _ready(db, wards["kings_cross"], "Alice Adeyemi")
    coordinator = make_user(db, Role.COORDINATOR)
    client = app.test_client()
    client.sign_in(coordinator.email)

    # Bad input: every problem by its field, nothing queued.
    token = client.csrf_token("/matching/runs")
    response = client.post("/matching/runs", data={"csrf_token": token, "scope": "ward"})
    errors = {a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")}
    assert errors == {"Choose a ward from the list", "Enter the first day", "Enter the last day"}
    yesterday = london_today() - dt.timedelta(days=1)
    response = client.post(
        "/matching/runs",
        data={
            "csrf_token": token,
            "scope": "london",
            **date_fields("first_day", yesterday),
            **date_fields("last_day", DAY),
        },
    )
    assert "The first day must be today or later" in response.soup.select_one(".govuk-error-summary").get_text()
    assert db.scalars(select(MatchRun)).all() == []

    today = london_today()
    dates = {**date_fields("first_day", today), **date_fields("last_day", DAY)}
    camden_bcu = wards["kings_cross"].borough.bcu_id if wards["kings_cross"].borough else None
    response = client.post(
        "/matching/runs",
        follow_redirects=True,
        data={"csrf_token": token, "scope": "bcu", "bcu": str(camden_bcu), **dates},
    )
    text = " ".join(response.soup.get_text().split())
    # The worker runs at once in the tests (HUEY_IMMEDIATE), so the page shows the finished run.
    assert "Places offered 1 of 1" in text and "Routine: 1 of 1 places" in text and "Optimal" in text
    # Where the time went, step by step, in the order the steps ran.
    steps = re.search(
        r"Time by step (reading the requests [\d.]+ s, reading the volunteers [\d.]+ s, checking "
        r"the rules [\d.]+ s, shortlisting [\d.]+ s, finding the plan [\d.]+ s, saving [\d.]+ s)",
        text,
    )
    assert steps, text
    response = client.post(
        "/matching/runs",
        follow_redirects=True,
        data={"csrf_token": token, "scope": "ward", "ward": str(wards["kings_cross"].id), **dates},
    )
    assert "Places offered 0 of 0" in " ".join(response.soup.get_text().split())
    history = " ".join(client.get("/matching/runs").soup.get_text().split())
    assert "King's Cross, Camden" in history and "1 of 1 places offered" in history
    assert [r.status for r in db.scalars(select(MatchRun))] == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]


def test_flask_match_run_for_a_ward(app, db, tmp_path):
    wards, _, item = _setup(db)
    alice = _ready(db, wards["kings_cross"], "Alice Adeyemi")
    runner = app.test_cli_runner()
    saved = tmp_path / "week.json"
    result = runner.invoke(
        args=["match", "run", "--ward", "E05013583", "--to", DAY.isoformat(), "--write-instance", str(saved)]
    )
    assert result.exit_code == 0, result.output
    assert "1 requests, 1 of 1 places offered; Optimal" in result.output
    assert "Time: reading the requests" in result.output and "finding the plan" in result.output
    # The solver's instance, as the solver's own command reads it (for a benchmark or a bug report).
    instance = parse_instance(json.loads(saved.read_text(encoding="utf-8")))
    assert [r.id for r in instance.requests] == [f"r{item.id}"]
    assert [(p.volunteer, p.request) for p in instance.pairs] == [(f"v{alice.id}", f"r{item.id}")]
    result = runner.invoke(args=["match", "run", "--ward", "E05013583", "--background", "--write-instance", str(saved)])
    assert result.exit_code != 0 and "needs the run done here" in result.output
    result = runner.invoke(args=["match", "run", "--ward", "NOPE"])
    assert result.exit_code != 0 and "no ward has the code" in result.output
    result = runner.invoke(args=["match", "run"])
    assert result.exit_code != 0 and "exactly one of" in result.output
    result = runner.invoke(args=["match", "expire-offers"])
    assert result.exit_code == 0 and "0 requests had an unanswered offer" in result.output


def test_a_queued_run_is_done_by_a_separate_worker_process(app, db, tmp_path):
    """The real thing: `flask match run --background` queues (Huey's SQLite storage), a `flask match worker`
    process picks it up, and the run's row — which any web process reads — ends succeeded."""
    wards, _, _ = _setup(db)
    _ready(db, wards["kings_cross"], "Alice Adeyemi")
    env = {
        **os.environ,
        "FLASK_APP": "wsgi:app",
        "FLASK_ENV": "testing",
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "HUEY_SQLITE_PATH": str(tmp_path / "queue.sqlite3"),
    }
    env.pop("HUEY_IMMEDIATE")
    flask = [sys.executable, "-m", "flask"]
    queued = subprocess.run(
        [*flask, "match", "run", "--ward", "E05013583", "--to", DAY.isoformat(), "--background"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert queued.returncode == 0, queued.stderr
    assert "queued for the worker" in queued.stdout
    db.expire_all()
    (run,) = db.scalars(select(MatchRun)).all()
    assert run.status is RunStatus.QUEUED

    worker = subprocess.Popen(
        [*flask, "match", "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while run.status is not RunStatus.SUCCEEDED and time.monotonic() < deadline:
            time.sleep(0.3)
            db.expire_all()
            run = db.get(MatchRun, run.id)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert run.status is RunStatus.SUCCEEDED and run.places_offered == 1


def test_offers_are_emailed_with_a_link_and_the_deadline(app, db, smtp):
    app.config.update(PUBLIC_URL="https://sng.example")
    wards, sergeant, item = _setup(db)
    alice = _ready(db, wards["kings_cross"], "Alice Adeyemi")
    client = app.test_client()
    client.sign_in(sergeant.email)
    client.post(f"/requests/{item.id}/match", data={"csrf_token": client.csrf_token(f"/requests/{item.id}")})
    (envelope,) = smtp.messages
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    offer = db.scalars(select(Offer)).one()
    assert message["To"] == alice.user.email
    assert " ".join(message["Subject"].split()).startswith("Can you help? Cyber-crime victim visit, ")
    text = body(envelope)
    assert f"https://sng.example/offers/{offer.id}" in text and "Please answer by" in text


def test_the_volunteers_home_shows_offers_deployments_and_hours_against_the_commitment(app, db):
    wards, _, item = _setup(db)
    special = _ready(
        db, wards["kings_cross"], "Sam Special", kind=VolunteerKind.SPECIAL, monthly_commitment_minutes=16 * 60
    )
    noon = london_to_utc(london_today().replace(day=1), dt.time(12, 0))  # in this London month, whatever today is
    other = make_request(db, wards["kings_cross"], start=noon, title="Earlier this month")
    db.add_all(
        [
            Offer(
                request_id=other.id,
                volunteer_id=special.id,
                status=OfferStatus.ACCEPTED,
                starts_at=noon,
                ends_at=noon + dt.timedelta(minutes=90),
                load_minutes=120,
                respond_by=noon,
                explanation="Test",
            ),
            Offer(
                request_id=item.id,
                volunteer_id=special.id,
                status=OfferStatus.OFFERED,
                starts_at=AT_2PM,
                ends_at=AT_2PM + dt.timedelta(hours=1),
                load_minutes=80,
                respond_by=AT_2PM - dt.timedelta(hours=1),
                explanation="Test",
            ),
        ]
    )
    db.commit()
    client = app.test_client()
    client.sign_in(special.user.email)
    soup = client.get("/").soup
    text = " ".join(soup.get_text().split())
    assert [a.get_text(strip=True) for a in soup.select("#offers ~ ul a")][0] == "Visit after a phishing fraud"
    # Booked is not served: nothing counts until the sergeant confirms attendance (tests/integration/test_hours.py).
    assert "This month: 0 hours served of your monthly commitment of 16 hours" in text
