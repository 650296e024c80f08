"""A year of demo history (issue #21, ``flask demo load --history-days``) is coherent on both databases.

The dashboards and the API benchmark read it at force scale, so it must hold together as the services would
have left it: offers inside their requests' windows, nobody double booked, deployments only for accepted
offers whose time has passed, a run's funnel for every request it left short, nobody offered while paused,
after leaving or before joining. A small run of it here; ``bench.load.run --scenario dashboards`` loads 50,000.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from sqlalchemy import func, select, text

from core.db import utcnow
from core.timeutil import to_london
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.models import MatchRun, Offer, OfferStatus, RequestStatus, RunRequest, SupportRequest
from vetting.models import ReviewStatus, VettingReview
from volunteers.models import Volunteer, VolunteerPause, VolunteerStatus

SCALE, DAYS = 400, 150
# Two active (offered or accepted) offers of one volunteer whose times overlap: what PostgreSQL's exclusion
# constraint refuses; counted by hand here so SQLite, which has no such constraint, is checked too.
OVERLAPS = """
SELECT count(*) FROM offers a JOIN offers b
  ON a.volunteer_id = b.volunteer_id AND a.id < b.id
 AND a.status IN ('offered', 'accepted') AND b.status IN ('offered', 'accepted')
 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
"""


def _load(app) -> str:
    result = app.test_cli_runner().invoke(
        args=["demo", "load", "--scale", str(SCALE), "--history-days", str(DAYS), "--seed", "11"]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_year_of_history_holds_together(app, db):
    output = _load(app)
    assert f"History of {DAYS} days:" in output
    now = utcnow()
    first_day = now - dt.timedelta(days=DAYS + 1)

    # How much: about 0.6 requests a volunteer a year, over the history and the next four weeks.
    history = db.scalar(select(func.count(SupportRequest.id)).where(SupportRequest.window_start < now))
    expected = SCALE * 0.6 * DAYS / 365
    assert 0.7 * expected <= history <= 1.5 * expected + 20, history
    assert db.scalar(select(func.min(SupportRequest.window_start))) < first_day + dt.timedelta(days=7)

    offers = db.execute(select(Offer, SupportRequest).join(SupportRequest, SupportRequest.id == Offer.request_id)).all()
    states = Counter(offer.status for offer, _ in offers)
    # Offers in the states a year leaves behind (cancelled and waiting ones are too rare to insist on here).
    for state in (OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.WITHDRAWN):
        assert states[state] > 0, states
    for offer, request in offers:
        # Inside the request's window, for the task's length; answered (or due) before it starts.
        assert request.window_start <= offer.starts_at and offer.ends_at <= request.window_end, offer.id
        assert offer.ends_at - offer.starts_at == dt.timedelta(minutes=request.duration_minutes), offer.id
        assert offer.offered_at <= now and offer.respond_by <= offer.starts_at, offer.id
        if offer.status is OfferStatus.OFFERED:
            assert offer.respond_by > now, offer.id  # a waiting offer whose answer is overdue would be expired
        if offer.status in (OfferStatus.ACCEPTED, OfferStatus.DECLINED):
            assert offer.answered_at is not None and offer.answered_at <= now, offer.id

    # Nobody double booked: no overlapping active offers of one volunteer, no request over-accepted, no two
    # active offers of one request to one volunteer.
    assert db.scalar(text(OVERLAPS)) == 0
    accepted = Counter(o.request_id for o, _ in offers if o.status is OfferStatus.ACCEPTED)
    needed = {r.id: r.people_needed for _, r in offers}
    assert all(accepted[i] <= needed[i] for i in accepted)
    active = Counter(
        (o.request_id, o.volunteer_id) for o, _ in offers if o.status in (OfferStatus.OFFERED, OfferStatus.ACCEPTED)
    )
    assert max(active.values()) == 1

    # Deployments only for accepted offers that have ended, of the same request and volunteer; most attended.
    deployments = db.execute(select(Deployment, Offer).join(Offer, Offer.id == Deployment.offer_id)).all()
    assert deployments
    for deployment, offer in deployments:
        assert offer.status is OfferStatus.ACCEPTED and offer.ends_at <= now, deployment.id
        assert (deployment.request_id, deployment.volunteer_id) == (offer.request_id, offer.volunteer_id)
        if deployment.outcome is DeploymentOutcome.ATTENDED:
            assert deployment.served_minutes and deployment.confirmed_at <= now
    outcomes = Counter(d.outcome for d, _ in deployments)
    assert outcomes[DeploymentOutcome.ATTENDED] > len(deployments) / 2, outcomes
    # Every accepted offer of the history's weekly runs that has ended has its deployment (the other demo
    # loaders leave some of last week's to be confirmed on purpose).
    weekly = set(db.scalars(select(MatchRun.id).where(MatchRun.trigger == "web")))
    recorded = {o.id for _, o in deployments}
    past = [o for o, _ in offers if o.status is OfferStatus.ACCEPTED and o.ends_at <= now and o.run_id in weekly]
    assert past
    assert {o.id for o in past} <= recorded

    # Every request a run left short has that run's finding: a funnel as the runs write it ([[label, n], …],
    # never growing, the first rule "have the skills"), reaching fewer than the places it needed.
    findings = {(f.run_id, f.request_id): f for f in db.scalars(select(RunRequest))}
    short = 0
    for request in {r.id: r for _, r in offers}.values():
        ran = {o.run_id for o, r in offers if r.id == request.id and o.run_id is not None}
        if request.status is RequestStatus.CANCELLED or not ran or request.window_start > now:
            continue
        run_id = max(ran)
        finding = findings.get((run_id, request.id))
        if finding is None:
            continue  # a demo fortnight's run (after_demo) of the last few days: checked by its own tests
        funnel = json.loads(finding.funnel)
        counts = [n for _, n in funnel]
        assert funnel[1][0] == "have the skills" and counts == sorted(counts, reverse=True), funnel
        if finding.places_offered < finding.places_needed:
            short += 1
            assert counts[-1] < finding.places_needed and finding.suggestion, funnel
    assert short > 0

    # Each weekly run carries its figures and abstraction, as a finished run does.
    runs = list(db.scalars(select(MatchRun).where(MatchRun.trigger == "web")))
    assert runs and all(r.places_needed is not None and r.by_priority and r.abstraction for r in runs)
    for run in runs:
        by_priority = json.loads(run.by_priority)
        assert sum(n for _, n in by_priority.values()) == run.places_needed

    # Nobody offered before joining, after leaving, or on a day they had stepped back.
    volunteers = {v.id: v for v in db.scalars(select(Volunteer))}
    left = [v for v in volunteers.values() if v.status is VolunteerStatus.LEFT]
    assert left and all(v.left_at is not None and v.created_at <= v.left_at for v in left)
    joined = Counter(v.created_at >= first_day for v in volunteers.values())
    assert joined[True] > 0 and joined[False] > 0  # some joined within the history, most before it
    pauses = list(db.scalars(select(VolunteerPause)))
    assert pauses
    for offer, _ in offers:
        person = volunteers[offer.volunteer_id]
        if offer.run_id is None or offer.status not in (OfferStatus.OFFERED, OfferStatus.ACCEPTED):
            continue
        assert person.created_at <= offer.offered_at, offer.id
        assert person.left_at is None or offer.starts_at < person.left_at, offer.id
        day = to_london(offer.starts_at).date()
        assert not any(p.volunteer_id == person.id and p.first_day <= day <= (p.last_day or day) for p in pauses), (
            offer.id
        )

    # Vetting: decisions spread over the history, and an open queue of various ages.
    closed = list(db.scalars(select(VettingReview).where(VettingReview.status == ReviewStatus.CLOSED)))
    assert len({to_london(r.closed_at).isocalendar()[:2] for r in closed if r.outcome}) > DAYS // 14
    queue = list(db.scalars(select(VettingReview).where(VettingReview.status == ReviewStatus.OPEN)))
    ages = {(now - r.opened_at).days // 14 for r in queue}
    assert len(ages) >= 3, ages


def test_no_history_by_default(app, db):
    """``make run`` and the tests load today's demo only: no request before this week."""
    result = app.test_cli_runner().invoke(args=["demo", "load", "--scale", "60"])
    assert result.exit_code == 0, result.output
    assert "History" not in result.output
    earliest = db.scalar(select(func.min(SupportRequest.window_start)))
    assert earliest > utcnow() - dt.timedelta(days=8)
