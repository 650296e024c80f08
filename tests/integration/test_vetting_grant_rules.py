"""Decisions a vetting manager would sign: the dates of a grant, a plain grant against one with
restrictions, the fields each kind of review shows, and a renewal that closes only about the
clearance that is due."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.timeutil import format_date, london_today
from tests.helpers import date_fields, error_messages, make_volunteer
from tests.integration.vetting_factories import granted, officer, officers, review
from vetting.decisions import default_expiry
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ReviewKind, ReviewStatus, VettingReview

TODAY = london_today


def _grant(client, item, valid_from=None, expires_on=None, **extra):
    data = {"outcome": "grant", "type_code": "NPPV2F", "reason": "Checks clear", **extra}
    if valid_from is not None:
        data.update(date_fields("valid_from", valid_from))
    if expires_on is not None:
        data.update(date_fields("expires_on", expires_on))
    return client.submit(f"/vetting/reviews/{item.id}", data)


def _clearances(db, volunteer_id):
    db.expire_all()
    return db.scalars(select(Clearance).where(Clearance.volunteer_id == volunteer_id).order_by(Clearance.id)).all()


def test_a_grant_takes_effect_no_earlier_than_the_review_opened_and_not_far_ahead(app, db):
    item = review(db, opened_days_ago=5)
    client = officer(app, db)
    opened = TODAY() - dt.timedelta(days=5)
    for long_ago in (dt.date(1900, 1, 1), dt.date(2020, 1, 1), opened - dt.timedelta(days=1)):
        page = _grant(client, item, valid_from=long_ago)
        assert error_messages(page.soup) == {
            "valid_from-day": f"The date it takes effect must be the same as or after {format_date(opened)}, "
            "the day the review was opened"
        }
        # What was typed is still there to correct.
        assert page.soup.select_one("#valid_from-year")["value"] == str(long_ago.year)
        assert page.soup.select_one("#reason").get_text() == "Checks clear"
    far = TODAY() + dt.timedelta(days=31)
    page = _grant(client, item, valid_from=far)
    assert error_messages(page.soup) == {
        "valid_from-day": f"The date it takes effect must be the same as or before "
        f"{format_date(TODAY() + dt.timedelta(days=30))}, 30 days from today"
    }
    assert _clearances(db, item.volunteer_id) == []

    assert _grant(client, item, valid_from=opened).status_code == 302
    clearance = _clearances(db, item.volunteer_id)[0]
    assert clearance.valid_from == opened and clearance.state is ClearanceState.GRANTED


def test_a_decision_may_be_recorded_late_by_the_configured_number_of_days(app, db):
    item = review(db, opened_days_ago=60)
    client = officer(app, db)
    twenty_ago = TODAY() - dt.timedelta(days=20)
    page = _grant(client, item, valid_from=twenty_ago)
    assert error_messages(page.soup) == {
        "valid_from-day": f"The date it takes effect must be the same as or after "
        f"{format_date(TODAY() - dt.timedelta(days=14))}: a decision may be recorded at most 14 days late"
    }
    app.config["VETTING_LATE_RECORDING_DAYS"] = "30"
    assert _grant(client, item, valid_from=twenty_ago).status_code == 302
    assert _clearances(db, item.volunteer_id)[0].valid_from == twenty_ago


def test_the_end_date_defaults_to_the_standard_period_and_may_be_shortened_never_extended(app, db):
    first, second, third = review(db), review(db), review(db)
    client = officer(app, db)
    standard = default_expiry("NPPV2F", TODAY())
    page = _grant(client, first, valid_from=TODAY(), expires_on=dt.date(2100, 1, 1))
    assert error_messages(page.soup) == {
        "expires_on-day": f"The end date must be the same as or before {format_date(standard)}: "
        "the standard period for NPPV level 2 (full) is 36 months"
    }
    assert set(error_messages(_grant(client, first, valid_from=TODAY(), expires_on=dt.date(9999, 1, 1)).soup)) == {
        "expires_on-day"
    }
    assert error_messages(_grant(client, first, valid_from=TODAY(), expires_on=standard + dt.timedelta(1)).soup)
    assert _grant(client, first, valid_from=TODAY(), expires_on=standard).status_code == 302
    shorter = TODAY() + dt.timedelta(days=365)
    assert _grant(client, second, valid_from=TODAY(), expires_on=shorter).status_code == 302
    assert _grant(client, third, valid_from=TODAY()).status_code == 302
    ends = [_clearances(db, r.volunteer_id)[0].expires_on for r in (first, second, third)]
    assert ends == [standard, shorter, standard]


def test_a_plain_grant_applies_no_restriction(app, db):
    # Today a plain Grant with a task type ticked silently became a grant with restrictions.
    item = review(db)
    client = officer(app, db)
    page = _grant(client, item, valid_from=TODAY(), restrictions=["youth_schools_liaison"])
    assert error_messages(page.soup) == {
        "restrictions": "A plain grant has no restrictions: untick them, or choose Grant with restrictions"
    }
    assert page.soup.select_one("input[name=restrictions][value=youth_schools_liaison]").has_attr("checked")
    assert _clearances(db, item.volunteer_id) == []
    assert _grant(client, item, valid_from=TODAY()).status_code == 302
    clearance = _clearances(db, item.volunteer_id)[0]
    assert clearance.state is ClearanceState.GRANTED and clearance.restrictions == frozenset()


def test_each_kind_of_review_shows_only_the_fields_that_apply(app, db):
    volunteer = make_volunteer(db)
    due = granted(db, volunteer, expires_in=60, state=ClearanceState.RENEWAL_DUE)
    client = officer(app, db)

    def fields(item, dbs=False):
        form = client.get(f"/vetting/reviews/{item.id}").soup.select_one("form:has(#outcome)")
        names = {tag["name"] for tag in form.select("input[name], select[name], textarea[name]")}
        outcomes = {tag["value"] for tag in form.select("input[name=outcome]")}
        # A DBS certificate's boxes come with a grant that may be of a DBS check (vetting/dbs.py's rules).
        return {n for n in names - {"csrf_token"} if dbs or not n.startswith("dbs_")}, outcomes

    assert fields(review(db, make_volunteer(db))) == (
        {"outcome", "type_code", "valid_from", "expires_on", "restrictions", "reason"},
        {"grant", "grant_with_restrictions", "refuse", "discontinue"},
    )
    renewal = review(db, volunteer, ReviewKind.RENEWAL, clearance=due)
    page = client.get(f"/vetting/reviews/{renewal.id}").soup
    assert "NPPV level 2 (full)" in page.select_one("form:has(#outcome)").get_text()  # the clearance due, not a choice
    assert fields(renewal) == (
        {"outcome", "valid_from", "expires_on", "restrictions", "reason"},
        {"grant", "grant_with_restrictions", "refuse", "let_lapse"},
    )
    for kind, outcomes in ((ReviewKind.TRIGGERED, {"no_change"}), (ReviewKind.INTEGRITY, {"no_change"})):
        assert fields(review(db, volunteer, kind), dbs=True) == ({"outcome", "reason"}, outcomes)


def test_a_renewal_review_closes_only_with_a_decision_about_the_clearance_due(app, db):
    volunteer = make_volunteer(db)
    due = granted(db, volunteer, code="NPPV2F", expires_in=60, state=ClearanceState.RENEWAL_DUE)
    other = granted(db, volunteer, code="RV", expires_in=2000)
    renewal = review(db, volunteer, ReviewKind.RENEWAL, clearance=due)
    first, second = officers(app, db, 2)
    url = f"/vetting/reviews/{renewal.id}"

    no_change = first.submit(url, {"outcome": "no_change", "reason": "Nothing to do"})
    assert error_messages(no_change.soup) == {"outcome": "Not a valid choice."}  # not offered for a renewal
    # A refusal about another clearance (a tampered form) is a refusal of the renewal that is due.
    first.submit(url, {"outcome": "refuse", "type_code": "RV", "reason": "Adverse finance check"})
    db.expire_all()
    pending = db.get(VettingReview, renewal.id).pending
    assert pending.clearance.type_code == "NPPV2F" and pending.clearance.renews_id == due.id
    second.submit(f"{url}/confirm", {}, token_from=url)
    db.expire_all()
    assert db.get(VettingReview, renewal.id).outcome == "refused"
    # The current term runs to its end; the other clearance is untouched.
    assert db.get(Clearance, due.id).state is ClearanceState.RENEWAL_DUE
    assert db.get(Clearance, other.id).state is ClearanceState.GRANTED


def test_a_renewal_may_be_let_lapse_with_a_reason_and_no_new_review_opens(app, db):
    volunteer = make_volunteer(db)
    due = granted(db, volunteer, expires_in=60, state=ClearanceState.RENEWAL_DUE)
    renewal = review(db, volunteer, ReviewKind.RENEWAL, clearance=due)
    client = officer(app, db)
    url = f"/vetting/reviews/{renewal.id}"
    empty = client.submit(url, {"outcome": "let_lapse", "reason": "  "})
    assert error_messages(empty.soup) == {"reason": "Enter the reason for the decision"}
    assert (
        client.submit(url, {"outcome": "let_lapse", "reason": "No longer in a role that needs it"}).status_code == 302
    )
    db.expire_all()
    closed = db.get(VettingReview, renewal.id)
    assert (closed.status, closed.outcome) == (ReviewStatus.CLOSED, "let_lapse")
    assert db.get(Clearance, due.id).state is ClearanceState.RENEWAL_DUE  # valid until its end date
    assert app.test_cli_runner().invoke(args=["vetting", "sweep"]).exit_code in (0, 1)
    db.expire_all()
    renewals = db.scalars(select(VettingReview).where(VettingReview.kind == ReviewKind.RENEWAL)).all()
    assert [r.id for r in renewals] == [renewal.id]


def test_a_renewal_may_start_the_day_after_the_current_term_ends(app, db):
    volunteer = make_volunteer(db)
    due = granted(db, volunteer, expires_in=60, state=ClearanceState.RENEWAL_DUE)
    renewal = review(db, volunteer, ReviewKind.RENEWAL, clearance=due)
    client = officer(app, db)
    next_day = due.expires_on + dt.timedelta(days=1)
    late = client.submit(
        f"/vetting/reviews/{renewal.id}",
        {"outcome": "grant", "reason": "Renewal checks clear", **date_fields("valid_from", next_day + dt.timedelta(1))},
    )
    assert error_messages(late.soup) == {
        "valid_from-day": f"The date it takes effect must be the same as or before {format_date(next_day)}, "
        "the day after the current clearance ends"
    }
    client.submit(
        f"/vetting/reviews/{renewal.id}",
        {"outcome": "grant", "reason": "Renewal checks clear", **date_fields("valid_from", next_day)},
    )
    new = _clearances(db, volunteer.id)[-1]
    assert (new.type_code, new.valid_from, new.renews_id) == ("NPPV2F", next_day, due.id)
    assert new.expires_on == default_expiry("NPPV2F", next_day)
    assert db.get(Clearance, due.id).state is ClearanceState.RENEWED


def test_withdrawing_another_clearance_from_a_renewal_review_leaves_the_renewal_to_decide(app, db):
    volunteer = make_volunteer(db)
    due = granted(db, volunteer, code="NPPV2F", expires_in=60, state=ClearanceState.RENEWAL_DUE)
    other = granted(db, volunteer, code="DBS_ENH_CHILD", expires_in=900)
    renewal = review(db, volunteer, ReviewKind.RENEWAL, clearance=due)
    first, second = officers(app, db, 2)
    url = f"/vetting/reviews/{renewal.id}"
    first.submit(f"{url}/clearances/{other.id}/withdraw", {"reason": "Barred list match"}, token_from=url)
    second.submit(f"{url}/confirm", {}, token_from=url)
    db.expire_all()
    assert db.get(Clearance, other.id).state is ClearanceState.WITHDRAWN
    assert db.get(VettingReview, renewal.id).status is ReviewStatus.OPEN  # the renewal is still to decide
    # Withdrawing the clearance that is due is a decision about it: that closes the renewal.
    first.submit(f"{url}/clearances/{due.id}/withdraw", {"reason": "Adverse finance check"}, token_from=url)
    second.submit(f"{url}/confirm", {}, token_from=url)
    db.expire_all()
    closed = db.get(VettingReview, renewal.id)
    assert (closed.status, closed.outcome) == (ReviewStatus.CLOSED, "withdrawn")
