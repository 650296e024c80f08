"""Recent concerns lower a volunteer's ranking (issue #20), on SQLite and PostgreSQL: a run offers the place
to an otherwise equal volunteer first, the sergeant is never told why, and coordinators see and clear it."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from core.audit.models import AuditEntry
from core.auth.models import Role
from core.db import utcnow
from matching.deployments import ranking
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.facts import load_requests, load_volunteers
from matching.funnel import funnels
from matching.models import Offer, OfferStatus, RunScope
from matching.planning import build_instance
from matching.runs.services import RunSettings, execute_run, queue_run
from tests.helpers import make_kings_cross_and_belsize, make_offer, make_request, make_user
from tests.integration.test_match_facts import AT_2PM, THURSDAY, WEEK, _volunteer
from volunteers.models import Volunteer, VolunteerStatus

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # Tuesday morning before Thursday's request
FAST = RunSettings(time_limit=5, offer_hours=24)
# Words that would tell a sergeant why someone was passed over.
GIVEAWAYS = ("attend", "notice", "again", "lower", "concern", "feedback", "rank", "penal")


def _past_deployment(db, volunteer, ward, ended: dt.datetime, **recorded) -> Deployment:
    """``volunteer`` booked on a past request in ``ward`` ending at ``ended``, with what was recorded."""
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    item = make_request(db, ward, ended - dt.timedelta(hours=2), created_by_id=sergeant.id, title="Shop watch")
    offer = make_offer(db, volunteer, item, OfferStatus.ACCEPTED)
    offer.starts_at, offer.ends_at = ended - dt.timedelta(hours=1), ended
    values = dict(outcome=DeploymentOutcome.ATTENDED, served_minutes=60, confirmed_by_id=sergeant.id)
    values.update(recorded)
    deployment = Deployment(offer_id=offer.id, request_id=item.id, volunteer_id=volunteer.id, **values)
    db.add(deployment)
    db.commit()
    return deployment


def _no_show(**more) -> dict:
    return dict(outcome=DeploymentOutcome.DID_NOT_ATTEND, no_notice=True, served_minutes=None, **more)


def _pair(db, **profile):
    """Alice and Bob, King's Cross volunteers equal in every way the matcher scores."""
    wards = make_kings_cross_and_belsize(db)
    alice, bob = _volunteer(db, wards["kings_cross"], **profile), _volunteer(db, wards["kings_cross"], **profile)
    return wards, alice, bob


def _run(app, db, request_id: int, now=NOW, last_day=THURSDAY):
    run = queue_run(
        db,
        scope=RunScope.REQUEST,
        first_day=now.date(),
        last_day=last_day,
        today=now.date(),
        trigger="web",
        request_id=request_id,
    )
    execute_run(app.extensions["db_sessionmaker"], run.id, FAST, lambda session, ids: None, now)
    db.expire_all()
    return list(db.scalars(select(Offer).where(Offer.request_id == request_id, Offer.status == OfferStatus.OFFERED)))


def _scores(db, request_id: int, now=NOW) -> dict[int, int]:
    """Each candidate's score for the request, in thousandths, as a run on ``now`` builds it."""
    requests = load_requests(db, [request_id], start=now, end=WEEK[1])
    volunteers = load_volunteers(db, week_start=WEEK[0], week_end=WEEK[1], now=now)
    instance = build_instance(
        requests,
        funnels(requests, volunteers),
        capacity_minutes={v.id: v.weekly_cap_minutes for v in volunteers},
        booked_minutes={},
        travel_limits={v.id: v.travel_limit_km for v in volunteers},
        concerns={v.id: v.recent_concerns for v in volunteers},
    )
    db.rollback()
    return {int(p.volunteer[1:]): p.score_milli for p in instance.pairs}


def test_a_run_offers_the_place_to_the_volunteer_without_a_recent_no_show(app, db):
    wards, alice, bob = _pair(db)
    _past_deployment(db, alice, wards["belsize"], NOW - dt.timedelta(days=20), **_no_show())
    _past_deployment(db, bob, wards["belsize"], NOW - dt.timedelta(days=20), would_ask_again=True)
    item = make_request(db, wards["kings_cross"], AT_2PM)

    (offer,) = _run(app, db, item.id)
    assert offer.volunteer_id == bob.id
    assert not any(word in offer.explanation.lower() for word in GIVEAWAYS), offer.explanation


def test_would_not_ask_again_counts_too_and_the_volunteer_is_still_offered_when_alone(app, db):
    wards, alice, bob = _pair(db)
    _past_deployment(db, alice, wards["belsize"], NOW - dt.timedelta(days=5), would_ask_again=False)
    _past_deployment(db, bob, wards["belsize"], NOW - dt.timedelta(days=5), would_ask_again=True)
    scores = _scores(db, make_request(db, wards["kings_cross"], AT_2PM).id)
    assert scores[bob.id] - scores[alice.id] in {499, 500, 501}

    # Bob is away on Thursday: Alice is the only one who can go, and she is offered the place.
    other = make_request(db, wards["kings_cross"], AT_2PM)
    db.get(Volunteer, bob.id).status = VolunteerStatus.PAUSED
    db.commit()
    (offer,) = _run(app, db, other.id)
    assert offer.volunteer_id == alice.id
    assert not any(word in offer.explanation.lower() for word in GIVEAWAYS), offer.explanation


def test_a_concern_runs_its_course_and_a_cleared_one_no_longer_counts(app, db):
    wards, alice, bob = _pair(db)
    old = _past_deployment(db, alice, wards["belsize"], NOW - dt.timedelta(days=91), **_no_show())
    _past_deployment(db, bob, wards["belsize"], NOW - dt.timedelta(days=91))
    item = make_request(db, wards["kings_cross"], AT_2PM)
    scores = _scores(db, item.id)
    assert scores[alice.id] == scores[bob.id]  # over 90 days ago: no longer counts
    assert ranking.concern_counts(db, select(Volunteer.id), NOW) == {}
    # The setting decides how long.
    assert ranking.concern_counts(db, select(Volunteer.id), NOW, days=120) == {alice.id: 1}

    recent = _past_deployment(db, alice, wards["belsize"], NOW - dt.timedelta(days=3), **_no_show())
    assert ranking.concern_counts(db, select(Volunteer.id), NOW) == {alice.id: 1}
    coordinator = make_user(db, Role.COORDINATOR)
    ranking.clear(db, deployment_id=recent.id, actor=coordinator, reason="Phoned in sick", key=b"k" * 32, now=NOW)
    db.expire_all()
    assert db.get(Deployment, recent.id).ranking_cleared_by_id == coordinator.id
    assert db.get(Deployment, old.id).ranking_cleared_at is None
    scores = _scores(db, item.id)
    assert scores[alice.id] == scores[bob.id]
    (offer,) = _run(app, db, item.id)
    assert offer.volunteer_id in {alice.id, bob.id}


def test_a_booking_not_attended_is_no_continuity_with_the_ward(app, db):
    wards, alice, bob = _pair(db)
    # Long ago, so no concern counts: only "served this ward before" is left to differ.
    _past_deployment(db, alice, wards["kings_cross"], NOW - dt.timedelta(days=200), **_no_show())
    _past_deployment(db, bob, wards["kings_cross"], NOW - dt.timedelta(days=200))
    scores = _scores(db, make_request(db, wards["kings_cross"], AT_2PM).id)
    assert scores[bob.id] - scores[alice.id] in {499, 500, 501}


# ---- The coordinators' page ------------------------------------------------------------------------------


def _recent_concern(db):
    wards, alice, bob = _pair(db)
    deployment = _past_deployment(
        db,
        alice,
        wards["belsize"],
        utcnow() - dt.timedelta(days=4),
        would_ask_again=False,
        helpful=False,
        coordinator_note="Left early without saying why.",
    )
    return alice, bob, deployment


def test_only_coordinators_see_who_is_ranked_lower(app, db):
    alice, _, deployment = _recent_concern(db)
    for role in (Role.VOLUNTEER, Role.SERGEANT, Role.VETTING_OFFICER, Role.PARTNER_REVIEWER):
        client = app.test_client()
        client.sign_in(make_user(db, role).email)
        assert client.get("/ranking").status_code == 403
        assert client.get(f"/ranking/{deployment.id}/clear").status_code == 403
        assert client.post(f"/ranking/{deployment.id}/clear").status_code in {400, 403}
    assert db.get(Deployment, deployment.id).ranking_cleared_at is None
    assert app.test_client().get("/ranking").status_code == 302  # to sign in


def test_a_coordinator_sees_why_and_clears_it_with_a_reason_in_the_audit_log(app, db):
    alice, bob, deployment = _recent_concern(db)
    client = app.test_client()
    coordinator = make_user(db, Role.COORDINATOR, full_name="Cora Ordinator")
    client.sign_in(coordinator.email)

    home = " ".join(client.get("/").soup.get_text().split())
    assert "1 volunteer is ranked lower for a while" in home
    page = client.get("/ranking")
    text = " ".join(page.soup.get_text().split())
    assert "Volunteers ranked lower by the matcher" in text
    assert alice.user.full_name in text and bob.user.full_name not in text
    assert ranking.NOT_AGAIN in text and "Left early without saying why." in text and "Shop watch" in text
    # From the coordinator's page about the volunteer: only theirs.
    mine = client.get(f"/ranking?volunteer={alice.id}").soup.get_text()
    assert ranking.NOT_AGAIN in mine
    theirs = " ".join(client.get(f"/ranking?volunteer={bob.id}").soup.get_text().split())
    assert f"No. {bob.user.full_name} is ranked as usual." in theirs
    assert client.get("/ranking?volunteer=abc").status_code == 404
    assert client.get("/ranking?volunteer=999999").status_code == 404
    # The volunteer's page links here.
    assert f"/ranking?volunteer={alice.id}" in client.get(f"/volunteers/{alice.id}").get_data(as_text=True)

    path = f"/ranking/{deployment.id}/clear"
    too_long = client.submit(path, {"reason": "x" * 10_000})
    assert too_long.status_code == 200
    assert "The reason must be 500 characters or fewer" in too_long.soup.select_one(".govuk-error-summary").get_text()
    assert "x" * 10_000 in too_long.get_data(as_text=True)  # nothing typed is lost
    db.expire_all()
    assert db.get(Deployment, deployment.id).ranking_cleared_at is None

    done = client.submit(path, {"reason": "Talked it through; a family emergency."})
    assert done.status_code == 302 and done.location.endswith("/ranking")
    db.expire_all()
    cleared = db.get(Deployment, deployment.id)
    assert cleared.ranking_cleared_by_id == coordinator.id and cleared.ranking_cleared_at is not None
    assert cleared.would_ask_again is False  # the feedback itself is kept
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "deployment.ranking_cleared")).one()
    assert entry.actor_id == coordinator.id and entry.subject_id == str(alice.id)
    assert json.loads(entry.detail)["reason"] == "Talked it through; a family emergency."
    assert "Nobody is ranked lower at the moment." in client.get("/ranking").soup.get_text()
    assert "Nobody is ranked lower after a deployment." in client.get("/").soup.get_text()
    # Cleared already: an old link leads back to the list, saying so; a deployment that never was is a 404.
    again = client.get(path, follow_redirects=True)
    assert "it was cleared or has run its course" in again.get_data(as_text=True)
    assert client.get("/ranking/999999/clear").status_code == 404


def test_the_sergeants_request_page_never_names_it(app, db):
    # Free every day, cleared for a year: the request is three days from now, whatever today is.
    every_day = tuple((day, 9 * 60, 18 * 60) for day in range(7))
    wards, alice, bob = _pair(db, slots=every_day, expires=(utcnow() + dt.timedelta(days=365)).date())
    _past_deployment(db, alice, wards["belsize"], utcnow() - dt.timedelta(days=2), **_no_show())
    sergeant = make_user(db, Role.SERGEANT, wards=[wards["kings_cross"]])
    start = utcnow().replace(hour=14, minute=0, second=0, microsecond=0) + dt.timedelta(days=3)
    item = make_request(db, wards["kings_cross"], start, created_by_id=sergeant.id)
    _run(app, db, item.id, now=utcnow(), last_day=start.date())
    client = app.test_client()
    client.sign_in(sergeant.email)
    text = " ".join(client.get(f"/requests/{item.id}").soup.get_text().split()).lower()
    assert bob.user.full_name.lower() in text
    assert not any(word in text for word in ("ranked lower", "no notice", "did not attend", "ask again"))
