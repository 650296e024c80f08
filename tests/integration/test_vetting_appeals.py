"""Appeals are decided by an officer who took no part in the decision appealed against, and an
overturn, like a refusal, takes effect only when a second officer confirms it."""

from __future__ import annotations

from sqlalchemy import select

from core.timeutil import london_today
from tests.helpers import date_fields, make_volunteer
from tests.integration.vetting_factories import granted, officers, review, volunteer_client
from vetting.decisions import default_expiry
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ClearanceTransition, ReviewKind, ReviewStatus, VettingReview
from volunteers.models import VolunteerStatus


def _appealed_withdrawal(app, db, proposer, confirmer):
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    clearance = granted(db, volunteer)
    triggered = review(db, volunteer, ReviewKind.TRIGGERED)
    url = f"/vetting/reviews/{triggered.id}"
    proposer.submit(f"{url}/clearances/{clearance.id}/withdraw", {"reason": "Adverse intelligence"}, token_from=url)
    confirmer.submit(f"{url}/confirm", {}, token_from=url)
    volunteer_client(app, volunteer).submit(
        f"/vetting/my-clearances?appeal={clearance.id}",
        {"clearance_id": clearance.id, "grounds": "The intelligence concerned my brother, not me"},
    )
    db.expire_all()
    appeal = db.scalars(select(VettingReview).where(VettingReview.kind == ReviewKind.APPEAL)).one()
    return volunteer, clearance, appeal


def _state(db, clearance) -> ClearanceState:
    db.expire_all()
    return db.get(Clearance, clearance.id).state


def test_officers_who_took_part_in_the_decision_cannot_decide_the_appeal(app, db):
    proposer, confirmer, independent = officers(app, db, 3)
    _, clearance, appeal = _appealed_withdrawal(app, db, proposer, confirmer)
    url = f"/vetting/reviews/{appeal.id}"
    for involved in (proposer, confirmer):
        page = involved.get(url)
        text = page.soup.get_text()
        assert "You took part in the decision under appeal" in text
        assert page.soup.select_one("input[name=outcome]") is None  # no form to decide it
        tampered = involved.post(
            url, data={"csrf_token": involved.csrf_token(url), "outcome": "uphold", "reason": "Stands"}
        )
        shown = involved.get(tampered.location) if tampered.status_code == 302 else tampered
        assert (
            "a different vetting officer must decide the appeal"
            in shown.soup.select_one(".govuk-error-summary").get_text()
        )
        assert _state(db, clearance) is ClearanceState.APPEALED
    decided = independent.submit(url, {"outcome": "uphold", "reason": "The intelligence was about the appellant"})
    assert decided.status_code == 302
    assert _state(db, clearance) is ClearanceState.WITHDRAWN  # an uphold takes effect at once: it changes nothing
    assert db.get(VettingReview, appeal.id).outcome == "uphold"


def test_an_overturn_takes_effect_only_when_a_second_independent_officer_confirms(app, db):
    proposer, confirmer, first, second = officers(app, db, 4)
    volunteer, clearance, appeal = _appealed_withdrawal(app, db, proposer, confirmer)
    url = f"/vetting/reviews/{appeal.id}"
    first.submit(url, {"outcome": "overturn", "reason": "Mistaken identity confirmed"})
    assert _state(db, clearance) is ClearanceState.APPEALED
    assert db.get(VettingReview, appeal.id).status is ReviewStatus.OPEN
    own = first.get(url).soup.get_text()
    assert "Overturn awaiting confirmation" in own and "A different vetting officer must confirm it" in own

    for refused in (first, proposer, confirmer):
        result = refused.submit(f"{url}/confirm", {}, token_from=url)
        assert "must" in refused.get(result.location).soup.select_one(".govuk-error-summary").get_text()
        assert _state(db, clearance) is ClearanceState.APPEALED

    second.submit(f"{url}/confirm", {}, token_from=url)
    assert _state(db, clearance) is ClearanceState.GRANTED
    closed = db.get(VettingReview, appeal.id)
    assert (closed.status, closed.outcome) == (ReviewStatus.CLOSED, "overturned")
    last = db.scalars(select(ClearanceTransition).order_by(ClearanceTransition.id.desc())).first()
    assert (last.event, last.actor_id, last.proposed_by_id) == ("decision_overturned", second.user.id, first.user.id)


def test_an_overturned_refusal_grants_from_the_day_it_is_confirmed_and_activates_the_applicant(app, db):
    proposer, confirmer, first, second = officers(app, db, 4)
    application = review(db)
    url = f"/vetting/reviews/{application.id}"
    proposer.submit(url, {"outcome": "refuse", "type_code": "NPPV2F", "reason": "Undisclosed caution"})
    confirmer.submit(f"{url}/confirm", {}, token_from=url)
    db.expire_all()
    volunteer = db.get(VettingReview, application.id).volunteer
    assert volunteer.status is VolunteerStatus.NOT_ACCEPTED
    clearance = db.scalars(select(Clearance).where(Clearance.volunteer_id == volunteer.id)).one()
    volunteer_client(app, volunteer).submit(
        f"/vetting/my-clearances?appeal={clearance.id}",
        {"clearance_id": clearance.id, "grounds": "The caution was spent and disclosed on my form"},
    )
    db.expire_all()
    appeal = db.scalars(select(VettingReview).where(VettingReview.kind == ReviewKind.APPEAL)).one()
    appeal_url = f"/vetting/reviews/{appeal.id}"
    # An appeal shows no dates or restrictions: the grant starts on the day the overturn takes effect.
    first.submit(
        appeal_url,
        {"outcome": "overturn", "reason": "Caution was disclosed", **date_fields("valid_from", london_today())},
    )
    second.submit(f"{appeal_url}/confirm", {}, token_from=appeal_url)
    db.expire_all()
    clearance = db.get(Clearance, clearance.id)
    assert clearance.state is ClearanceState.GRANTED
    assert (clearance.valid_from, clearance.expires_on) == (london_today(), default_expiry("NPPV2F", london_today()))
    assert db.get(type(volunteer), volunteer.id).status is VolunteerStatus.ACTIVE
