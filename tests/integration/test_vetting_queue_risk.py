"""The vetting queue puts people deployed soon first among reviews equally urgent, and says on what."""

from __future__ import annotations

import datetime as dt

from core.auth.models import Role
from core.db import utcnow
from core.seams import seams
from core.timeutil import format_date, london_today
from matching.models import Offer, OfferStatus
from tests.helpers import make_kings_cross_and_belsize, make_request, make_user
from tests.integration.test_match_facts import _volunteer
from vetting.models import ReviewKind, VettingReview
from vetting.queries import review_queue


def _review(db, volunteer, due: dt.date, kind=ReviewKind.RENEWAL) -> VettingReview:
    review = VettingReview(volunteer_id=volunteer.id, kind=kind, due_on=due)
    db.add(review)
    db.commit()
    return review


def _accepted(db, volunteer, item) -> Offer:
    offer = Offer(
        request_id=item.id,
        volunteer_id=volunteer.id,
        status=OfferStatus.ACCEPTED,
        starts_at=item.window_start,
        ends_at=item.deployment_end,
        load_minutes=60,
        explanation="Near home",
        respond_by=item.window_start - dt.timedelta(days=1),
        answered_at=utcnow(),
    )
    db.add(offer)
    db.commit()
    return offer


def test_of_two_reviews_due_the_same_day_the_deployed_person_comes_first(app, db):
    kx = make_kings_cross_and_belsize(db)["kings_cross"]
    due = london_today() + dt.timedelta(days=12)
    # Created first and due the same day: by due date alone, Dora would be first.
    dora = _volunteer(db, kx, full_name="Dora Home")
    ed = _volunteer(db, kx, full_name="Ed Deployed")
    _review(db, dora, due)
    _review(db, ed, due)
    first = (utcnow() + dt.timedelta(days=3)).replace(hour=14, minute=0, second=0, microsecond=0)
    _accepted(db, ed, make_request(db, kx, start=first))
    _accepted(db, ed, make_request(db, kx, start=first + dt.timedelta(days=6), task_type_code="mental_health_escort"))
    # Beyond the 28 days: does not count.
    _accepted(db, ed, make_request(db, kx, start=first + dt.timedelta(days=40)))
    # A renewal due later than the 28 days comes after both, deployed or not.
    later = _volunteer(db, kx, full_name="Lee Later")
    _review(db, later, london_today() + dt.timedelta(days=60))
    _accepted(db, later, make_request(db, kx, start=first + dt.timedelta(days=1)))

    client = app.test_client()
    client.sign_in(make_user(db, Role.VETTING_OFFICER).email)
    page = client.get("/vetting/queue")
    rows = page.soup.select("tbody tr")
    assert [row.select_one("a").get_text(strip=True) for row in rows] == ["Ed Deployed", "Dora Home", "Lee Later"]
    line = " ".join(rows[0].select_one(".app-deployments").get_text().split())
    assert line == (
        f"Deployed: 2 upcoming, first on {format_date(first)} (cyber-crime victim visit, mental-health escort)"
    )
    assert rows[1].select_one(".app-deployments") is None
    assert " ".join(rows[2].select_one(".app-deployments").get_text().split()).startswith("Deployed: 1 upcoming, on ")


def test_without_the_matching_hook_the_queue_is_by_due_date_alone(app, db):
    kx = make_kings_cross_and_belsize(db)["kings_cross"]
    due = london_today() + dt.timedelta(days=5)
    dora, ed = _volunteer(db, kx), _volunteer(db, kx)
    dora_review, ed_review = _review(db, dora, due), _review(db, ed, due)
    _accepted(db, ed, make_request(db, kx, start=utcnow() + dt.timedelta(days=2)))

    items = review_queue(db, london_today(), utcnow(), None)
    assert [(i.review.id, i.deployments) for i in items] == [(dora_review.id, None), (ed_review.id, None)]
    with_hook = review_queue(db, london_today(), utcnow(), seams(app).upcoming_deployments)
    assert [i.review.id for i in with_hook] == [ed_review.id, dora_review.id]
