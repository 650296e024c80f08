"""DBS checks: every level, the certificate and its Update Service subscription recorded with a grant and
checked by their fields, the status checks a vetting officer records, and the sweep's re-check reviews.

A certificate is due a re-check VETTING_DBS_RECHECK_MONTHS after it was issued, or VETTING_DBS_UPDATE_CHECK_MONTHS
after its last Update Service status check if that is later (vetting/dbs.py). None of it is shown to anyone but
vetting officers.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.auth.models import Role
from core.timeutil import format_date, london_today
from tests.helpers import date_fields, error_messages, make_user, make_volunteer
from tests.integration.vetting_factories import officer, review, volunteer_client
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, Regime
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ReviewKind, ReviewStatus, VettingReview
from vetting.renewals import add_months
from volunteers.models import VolunteerStatus

TODAY = london_today
ISSUED = TODAY() - dt.timedelta(days=200)


def _months_ago(months: int, days: int = 0) -> dt.date:
    return add_months(TODAY(), -months) - dt.timedelta(days=days)


def _dbs_grant(client, item, type_code="DBS_ENH_CHILD", **dbs):
    data = {
        "outcome": "grant",
        "type_code": type_code,
        "reason": "Certificate seen: clear",
        **date_fields("valid_from", TODAY()),
    }
    values = {
        "dbs_certificate_number": "001234567890",
        "dbs_update_service_id": "",
        **date_fields("dbs_issued_on", ISSUED),
    }
    for name, value in dbs.items():
        values |= date_fields(name, value) if isinstance(value, dt.date) else {name: value}
    return client.submit(f"/vetting/reviews/{item.id}", data | values)


def _clearances(db, volunteer_id) -> list[Clearance]:
    db.expire_all()
    return db.scalars(select(Clearance).where(Clearance.volunteer_id == volunteer_id).order_by(Clearance.id)).all()


def _dbs_clearance(db, volunteer=None, issued=ISSUED, checked=None, expires_in=400, subscription="C0123456789"):
    """A DBS check in force with its certificate recorded."""
    volunteer = volunteer or make_volunteer(db, status=VolunteerStatus.ACTIVE)
    clearance = Clearance(
        volunteer_id=volunteer.id,
        type_code="DBS_ENH_CHILD",
        state=ClearanceState.GRANTED,
        valid_from=issued,
        expires_on=TODAY() + dt.timedelta(days=expires_in),
        dbs_certificate_number="001234567890",
        dbs_issued_on=issued,
        dbs_update_service_id=subscription,
        dbs_status_checked_on=checked,
    )
    db.add(clearance)
    db.commit()
    return clearance


def _sweep(app):
    return app.test_cli_runner().invoke(args=["vetting", "sweep"])


def _renewals(db, clearance) -> list[VettingReview]:
    db.expire_all()
    return db.scalars(
        select(VettingReview).where(
            VettingReview.clearance_id == clearance.id, VettingReview.kind == ReviewKind.RENEWAL
        )
    ).all()


def test_every_dbs_level_is_a_clearance_type():
    dbs = {code: t.name for code, t in CLEARANCE_TYPES_BY_CODE.items() if t.regime is Regime.DBS}
    assert dbs == {
        "DBS_BASIC": "DBS basic check",
        "DBS_STD": "DBS standard check",
        "DBS_ENH": "DBS enhanced check",
        "DBS_ENH_CHILD": "DBS enhanced check with children's barred list",
        "DBS_ENH_ADULT": "DBS enhanced check with adults' barred list",
        "DBS_ENH_BOTH": "DBS enhanced check with children's and adults' barred lists",
    }


# ---- Recorded with a grant ----------------------------------------------------------------------------


def test_granting_a_dbs_check_records_its_certificate_and_subscription_for_vetting_officers_only(app, db):
    volunteer = make_volunteer(db, full_name="Dee Barred")
    item = review(db, volunteer)
    client = officer(app, db)
    response = _dbs_grant(
        client,
        item,
        dbs_certificate_number=" 0012 3456-7890 ",
        dbs_update_service_id="c 0123456789",
        dbs_status_checked_on=TODAY() - dt.timedelta(days=10),
    )
    assert response.status_code == 302, error_messages(client.get(response.location).soup)
    (clearance,) = _clearances(db, volunteer.id)
    assert (clearance.state, clearance.dbs_certificate_number, clearance.dbs_issued_on) == (
        ClearanceState.GRANTED,
        "001234567890",
        ISSUED,
    )
    assert clearance.dbs_update_service_id == "C0123456789"
    assert clearance.dbs_status_checked_on == TODAY() - dt.timedelta(days=10)
    # It runs until the day before the certificate is due a re-check: 36 months from its issue.
    assert clearance.expires_on == add_months(ISSUED, 36) - dt.timedelta(days=1)

    page = " ".join(client.get(f"/vetting/reviews/{item.id}").soup.get_text().split())
    assert f"DBS certificate 001234567890, issued {format_date(ISSUED)}" in page
    assert "Update Service C0123456789" in page
    # Nobody else sees it: not the volunteer, not a coordinator's directory.
    mine = volunteer_client(app, volunteer).get("/vetting/my-clearances").soup.get_text()
    assert "DBS enhanced check with children's barred list" in mine and "001234567890" not in mine
    coordinator = app.test_client()
    coordinator.sign_in(make_user(db, Role.COORDINATOR).email)
    directory = coordinator.get(f"/volunteers/{volunteer.id}").get_data(as_text=True)
    assert "001234567890" not in directory and "C0123456789" not in directory


def test_an_old_certificate_counts_only_with_a_recent_status_check(app, db):
    client = officer(app, db)
    old = _months_ago(40)
    refused_item = review(db)
    page = _dbs_grant(client, refused_item, **{"dbs_issued_on": old})
    due = add_months(old, 36)
    assert error_messages(page.soup) == {
        "dbs_issued_on-day": f"This certificate was due a re-check on {format_date(due)}: record an Update Service "
        "status check from the last 12 months, or ask for a new certificate"
    }
    stale = _dbs_grant(
        client,
        refused_item,
        dbs_issued_on=old,
        dbs_update_service_id="C0123456789",
        dbs_status_checked_on=_months_ago(13),
    )
    assert list(error_messages(stale.soup)) == ["dbs_status_checked_on-day"]
    assert _clearances(db, refused_item.volunteer_id) == []

    checked = TODAY() - dt.timedelta(days=30)
    item = review(db)
    response = _dbs_grant(
        client, item, dbs_issued_on=old, dbs_update_service_id="C0123456789", dbs_status_checked_on=checked
    )
    assert response.status_code == 302
    (clearance,) = _clearances(db, item.volunteer_id)
    assert clearance.expires_on == add_months(checked, 12) - dt.timedelta(days=1)
    # Never longer than that.
    longer = review(db)
    page = _dbs_grant(
        client,
        longer,
        dbs_issued_on=old,
        dbs_update_service_id="C0123456789",
        dbs_status_checked_on=checked,
        **date_fields("expires_on", add_months(checked, 12)),
    )
    assert error_messages(page.soup) == {
        "expires_on-day": "The end date must be the same as or before "
        f"{format_date(add_months(checked, 12) - dt.timedelta(days=1))}: "
        "the certificate is due a re-check the day after"
    }


BAD_DETAILS = [
    ({"dbs_certificate_number": ""}, "dbs_certificate_number", "Enter the DBS certificate number"),
    (
        {"dbs_certificate_number": "1234 5678"},
        "dbs_certificate_number",
        "Enter the certificate number as it is printed: 12 digits, like 001234567890",
    ),
    (
        {"dbs_certificate_number": "9" * 10_000},
        "dbs_certificate_number",
        "Enter the certificate number as it is printed: 12 digits, like 001234567890",
    ),
    (
        {"dbs_certificate_number": "00123456789O"},
        "dbs_certificate_number",
        "Enter the certificate number as it is printed: 12 digits, like 001234567890",
    ),
    ({"dbs_issued_on": ["", "", ""]}, "dbs_issued_on-day", "Enter the date the certificate was issued"),
    (
        {"dbs_issued_on": ["31", "2", "2025"]},
        "dbs_issued_on-day",
        "The date the certificate was issued must be a real date",
    ),
    (
        {"dbs_issued_on": TODAY() + dt.timedelta(days=1)},
        "dbs_issued_on-day",
        "The date the certificate was issued must be today or in the past",
    ),
    (
        {"dbs_issued_on": dt.date(2010, 5, 1)},
        "dbs_issued_on-day",
        "The date the certificate was issued must be on or after 1 December 2012, when the DBS began",
    ),
    (
        {"dbs_issued_on": ["1", "1", "999999999999"]},
        "dbs_issued_on-day",
        "The date the certificate was issued must be a real date",
    ),
    (
        {"dbs_update_service_id": "X" * 10_000},
        "dbs_update_service_id",
        "Enter the subscription ID as the Update Service shows it: a C followed by numbers, like C0123456789",
    ),
    (
        {"dbs_status_checked_on": TODAY() - dt.timedelta(days=1)},
        "dbs_update_service_id",
        "Enter the Update Service subscription ID: a status check needs the subscription",
    ),
    (
        {"dbs_update_service_id": "C0123456789", "dbs_status_checked_on": ISSUED - dt.timedelta(days=1)},
        "dbs_status_checked_on-day",
        "The date of the status check must be the same as or after the date the certificate was issued",
    ),
    (
        {"dbs_update_service_id": "C0123456789", "dbs_status_checked_on": TODAY() + dt.timedelta(days=3)},
        "dbs_status_checked_on-day",
        "The date of the status check must be today or in the past",
    ),
]


@pytest.mark.parametrize(("dbs", "field", "message"), BAD_DETAILS, ids=[f for _, f, _ in BAD_DETAILS])
def test_bad_dbs_details_are_refused_by_their_field_and_nothing_typed_is_lost(app, db, dbs, field, message):
    item = review(db)
    client = officer(app, db)
    page = _dbs_grant(client, item, **dbs)
    assert page.status_code == 200
    assert error_messages(page.soup) == {field: message}
    assert page.soup.select_one(f'.govuk-error-summary a[href="#{field}"]') is not None
    assert page.soup.select_one("#reason").get_text() == "Certificate seen: clear"
    typed = dbs.get("dbs_certificate_number", "001234567890")
    assert page.soup.select_one("#dbs_certificate_number")["value"] == typed
    assert _clearances(db, item.volunteer_id) == []


def test_dbs_details_belong_to_a_dbs_check_only(app, db):
    item = review(db)
    client = officer(app, db)
    page = _dbs_grant(client, item, type_code="NPPV2F")
    assert error_messages(page.soup) == {
        "dbs_certificate_number": "Leave the DBS details empty: NPPV level 2 (full) is not a DBS check"
    }
    assert _clearances(db, item.volunteer_id) == []
    # Not asked on a review that grants nothing.
    triggered = review(db, kind=ReviewKind.TRIGGERED)
    assert client.get(f"/vetting/reviews/{triggered.id}").soup.select_one("#dbs_certificate_number") is None


# ---- A renewal, and a status check of its own -------------------------------------------------------------


def test_a_dbs_renewal_starts_from_the_certificate_on_record_and_may_rest_on_a_status_check(app, db):
    old = _months_ago(36, days=-20)  # due a re-check in 20 days
    current = _dbs_clearance(db, issued=old, expires_in=19)
    item = review(db, current.volunteer, kind=ReviewKind.RENEWAL, clearance=current)
    client = officer(app, db)
    page = client.get(f"/vetting/reviews/{item.id}").soup
    assert page.select_one("#dbs_certificate_number")["value"] == "001234567890"
    assert page.select_one("#dbs_issued_on-year")["value"] == str(old.year)
    assert page.select_one("#dbs_update_service_id")["value"] == "C0123456789"
    due = add_months(old, 36)
    assert f"its certificate is due a re-check on {format_date(due)}" in page.get_text()
    # A renewal of any other clearance does not ask.
    other = review(db, kind=ReviewKind.RENEWAL, clearance=_plain(db))
    assert client.get(f"/vetting/reviews/{other.id}").soup.select_one("#dbs_certificate_number") is None

    response = client.submit(
        f"/vetting/reviews/{item.id}",
        {
            "outcome": "grant",
            "reason": "Update Service: no new information",
            "dbs_certificate_number": "001234567890",
            "dbs_update_service_id": "C0123456789",
            **date_fields("valid_from", TODAY()),
            **date_fields("dbs_issued_on", old),
            **date_fields("dbs_status_checked_on", TODAY()),
        },
    )
    assert response.status_code == 302
    renewed = _clearances(db, current.volunteer_id)[-1]
    assert renewed.renews_id == current.id and renewed.state is ClearanceState.GRANTED
    assert renewed.dbs_status_checked_on == TODAY()
    assert renewed.expires_on == add_months(TODAY(), 12) - dt.timedelta(days=1)
    assert db.get(Clearance, current.id).state is ClearanceState.RENEWED


def _plain(db) -> Clearance:
    clearance = Clearance(
        volunteer_id=make_volunteer(db).id,
        type_code="NPPV2F",
        state=ClearanceState.RENEWAL_DUE,
        valid_from=TODAY() - dt.timedelta(days=1000),
        expires_on=TODAY() + dt.timedelta(days=30),
    )
    db.add(clearance)
    db.commit()
    return clearance


def _status_check(client, clearance, **values):
    data = {
        "dbs_update_service_id": "C0123456789",
        "result": "current",
        **date_fields("dbs_status_checked_on", TODAY()),
    }
    for name, value in values.items():
        data |= date_fields(name, value) if isinstance(value, dt.date) else {name: value}
    return client.submit(f"/vetting/clearances/{clearance.id}/dbs-status-check", data)


def test_a_status_check_with_no_new_information_keeps_an_old_certificate_counting(app, db):
    old = _months_ago(36, days=-60)  # its re-check falls due in 60 days
    clearance = _dbs_clearance(db, issued=old, expires_in=59)
    item = review(db, clearance.volunteer, kind=ReviewKind.INTEGRITY)
    client = officer(app, db)
    link = client.get(f"/vetting/reviews/{item.id}").soup.select_one("a[href*='dbs-status-check']")
    assert link["href"] == f"/vetting/clearances/{clearance.id}/dbs-status-check?review={item.id}"
    page = client.get(link["href"])
    assert "Re-check due " + format_date(add_months(old, 36)) in " ".join(page.soup.get_text().split())

    response = client.submit(
        link["href"],
        {"dbs_update_service_id": "C0123456789", "result": "current", **date_fields("dbs_status_checked_on", TODAY())},
    )
    assert response.status_code == 302 and response.location == f"/vetting/reviews/{item.id}"
    db.expire_all()
    checked = db.get(Clearance, clearance.id)
    assert checked.dbs_status_checked_on == TODAY()
    assert checked.expires_on == add_months(TODAY(), 12) - dt.timedelta(days=1)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "dbs.status_checked")).one()
    assert entry.subject_id == str(clearance.id)
    assert "now counts until" in client.get(response.location).soup.get_text()


def test_a_status_check_that_finds_new_information_opens_a_renewal_review(app, db):
    clearance = _dbs_clearance(db)
    client = officer(app, db)
    response = _status_check(client, clearance, result="new_information")
    opened = _renewals(db, clearance)
    assert len(opened) == 1 and opened[0].due_on == TODAY() and opened[0].status is ReviewStatus.OPEN
    assert response.location == f"/vetting/reviews/{opened[0].id}"
    page = " ".join(client.get(response.location).soup.get_text().split())
    assert "found new information: a new DBS check is needed" in page
    db.expire_all()
    assert db.get(Clearance, clearance.id).dbs_status_checked_on is None  # not a re-check
    # With the renewal review open, a check that finds nothing is recorded by renewing in it.
    again = _status_check(client, clearance)
    assert again.status_code == 302
    assert "renewal review is open" in client.get(again.location).soup.get_text()


STATUS_CHECK_ERRORS = [
    ({"dbs_update_service_id": ""}, "dbs_update_service_id", "Enter the Update Service subscription ID"),
    (
        {"dbs_update_service_id": "C12"},
        "dbs_update_service_id",
        "Enter the subscription ID as the Update Service shows it: a C followed by numbers, like C0123456789",
    ),
    ({"dbs_status_checked_on": ["", "", ""]}, "dbs_status_checked_on-day", "Enter the date of the status check"),
    (
        {"dbs_status_checked_on": ["30", "2", "2026"]},
        "dbs_status_checked_on-day",
        "The date of the status check must be a real date",
    ),
    (
        {"dbs_status_checked_on": TODAY() + dt.timedelta(days=1)},
        "dbs_status_checked_on-day",
        "The date of the status check must be today or in the past",
    ),
    (
        {"dbs_status_checked_on": ISSUED - dt.timedelta(days=1)},
        "dbs_status_checked_on-day",
        f"The date of the status check must be the same as or after {format_date(ISSUED)}, when the certificate "
        "was issued",
    ),
    ({"result": ""}, "result", "Choose what the status check showed"),
    ({"result": "maybe"}, "result", "Choose what the status check showed"),
]


@pytest.mark.parametrize(
    ("values", "field", "message"), STATUS_CHECK_ERRORS, ids=[f for _, f, _ in STATUS_CHECK_ERRORS]
)
def test_a_status_check_is_checked_by_its_fields(app, db, values, field, message):
    clearance = _dbs_clearance(db)
    page = _status_check(officer(app, db), clearance, **values)
    assert page.status_code == 200
    assert error_messages(page.soup) == {field: message}
    typed = values.get("dbs_update_service_id", "C0123456789")
    assert page.soup.select_one("#dbs_update_service_id")["value"] == typed
    db.expire_all()
    assert db.get(Clearance, clearance.id).dbs_status_checked_on is None


# ---- The sweep ------------------------------------------------------------------------------------


def test_the_sweep_opens_a_renewal_review_when_a_certificate_is_due_a_re_check(app, db):
    # Due a re-check in 30 days, though the clearance itself runs for 400 more: no status check since.
    due = _dbs_clearance(db, issued=_months_ago(36, days=-30), expires_in=400)
    # Checked on the Update Service four months ago: not due for eight months.
    checked = _dbs_clearance(db, issued=_months_ago(50), checked=_months_ago(4), expires_in=400)
    # A young certificate.
    young = _dbs_clearance(db, issued=_months_ago(6), expires_in=400)

    first = _sweep(app)
    assert "1 DBS re-check review opened" in first.output, first.output
    (opened,) = _renewals(db, due)
    assert opened.due_on == add_months(due.dbs_issued_on, 36) and opened.status is ReviewStatus.OPEN
    assert _renewals(db, checked) == [] and _renewals(db, young) == []
    assert "0 DBS re-check reviews opened" in _sweep(app).output  # once
    queue = officer(app, db).get("/vetting/queue").soup.get_text()
    assert due.volunteer.user.full_name in queue

    # The force re-checks every 12 months: the young one is now due too (by its own certificate's age).
    app.config["VETTING_DBS_RECHECK_MONTHS"] = "6"
    assert "1 DBS re-check review opened" in _sweep(app).output
    assert len(_renewals(db, young)) == 1 and _renewals(db, checked) == []
    # And status checks must be yearly no more: every eight months, the checked one is due in time.
    app.config["VETTING_DBS_UPDATE_CHECK_MONTHS"] = "6"
    assert "1 DBS re-check review opened" in _sweep(app).output
    assert len(_renewals(db, checked)) == 1


def test_a_status_check_after_a_re_check_review_was_decided_starts_the_clock_again(app, db):
    clearance = _dbs_clearance(db, issued=_months_ago(36, days=-30), expires_in=400)
    assert "1 DBS re-check review opened" in _sweep(app).output
    (opened,) = _renewals(db, clearance)
    # Decided without a new record (left to run to its end), then the officer checks the Update Service.
    opened.status = ReviewStatus.CLOSED
    db.commit()
    assert _status_check(officer(app, db), clearance).status_code == 302
    assert "0 DBS re-check reviews opened" in _sweep(app).output
    db.expire_all()
    assert db.get(Clearance, clearance.id).dbs_status_checked_on == TODAY()
