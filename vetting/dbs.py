"""DBS certificates and the Update Service: what a vetting officer records, and when a certificate is due a
re-check. Pure: no Flask, no ORM.

A DBS certificate has no printed expiry. The force re-checks it ``ForcePolicy.dbs_recheck_months`` after it
was issued, or relies on the DBS Update Service: a volunteer who subscribes keeps the certificate up to date,
and a status check that finds no new information stands in for a new certificate for
``ForcePolicy.dbs_update_check_months`` (the force's VETTING_DBS_UPDATE_CHECK_MONTHS) from the check. So a
certificate is due a re-check on the later of those two days (``recheck_due``), and a DBS clearance granted on
it is valid, at most, until the day before (``latest_expiry``).

Certificate numbers are 12 digits. Update Service subscription IDs are a C followed by digits (the DBS
prints them as C and ten digits; fewer or more are accepted, since a number typed from an older letter
should not be refused here when the officer has it in front of them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from core.timeutil import format_date
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, DEFAULT_POLICY, ForcePolicy, Regime
from vetting.renewals import add_months

__all__ = [
    "CERTIFICATE_DIGITS",
    "FIRST_ISSUE",
    "DbsDetails",
    "DbsError",
    "RecheckSnapshot",
    "check_details",
    "check_status_check",
    "is_dbs",
    "latest_expiry",
    "normalise_certificate_number",
    "normalise_subscription_id",
    "plan_rechecks",
    "recheck_due",
]

CERTIFICATE_DIGITS = 12
#: The DBS issued its first certificates on 1 December 2012 (before it, the CRB did, and those are long due).
FIRST_ISSUE = date(2012, 12, 1)
SUBSCRIPTION_ID_MAX = 20
_SUBSCRIPTION_ID = re.compile(r"^C\d{6,12}$")
# What people paste around a number: spaces, hyphens, full stops.
_SEPARATORS = re.compile(r"[\s\-.]")


class DbsError(ValueError):
    """What is wrong with DBS details; ``field`` names the form field (dbs_certificate_number, dbs_issued_on,
    dbs_update_service_id, dbs_status_checked_on)."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DbsDetails:
    """A DBS certificate as the vetting officer records it, with its Update Service subscription if any."""

    certificate_number: str | None = None
    issued_on: date | None = None
    subscription_id: str | None = None
    status_checked_on: date | None = None

    @property
    def given(self) -> bool:
        return any(
            value is not None and value != ""
            for value in (self.certificate_number, self.issued_on, self.subscription_id, self.status_checked_on)
        )


def is_dbs(type_code: str | None) -> bool:
    known = CLEARANCE_TYPES_BY_CODE.get(type_code or "")
    return known is not None and known.regime is Regime.DBS


def normalise_certificate_number(text: str | None) -> str:
    return _SEPARATORS.sub("", text or "")


def normalise_subscription_id(text: str | None) -> str:
    return _SEPARATORS.sub("", text or "").upper()


def _check_day(day: date, today: date, what: str, field: str) -> None:
    if day > today:
        raise DbsError(f"{what} must be today or in the past", field)
    if day < FIRST_ISSUE:
        raise DbsError(f"{what} must be on or after {format_date(FIRST_ISSUE)}, when the DBS began", field)


def check_details(details: DbsDetails, today: date) -> DbsDetails:
    """The details of a DBS certificate, tidied (no spaces in numbers), or raise ``DbsError`` by its field.

    The certificate number and its issue date are required; a subscription ID is optional, and a status check
    needs one. Dates are real days, not in the future, and a check no earlier than the certificate.
    """
    problems = details_problems(details, today)
    if problems:
        raise problems[0]
    number = normalise_certificate_number(details.certificate_number)
    return DbsDetails(
        number, details.issued_on, normalise_subscription_id(details.subscription_id) or None, details.status_checked_on
    )


def details_problems(details: DbsDetails, today: date) -> list[DbsError]:
    """Every problem with a certificate's details, one per field at most, so an officer sees them all at once."""
    problems: list[DbsError] = []

    def check(step) -> None:
        try:
            step()
        except DbsError as exc:
            problems.append(exc)

    number = normalise_certificate_number(details.certificate_number)
    if not number:
        problems.append(DbsError("Enter the DBS certificate number", "dbs_certificate_number"))
    elif not (number.isascii() and number.isdigit() and len(number) == CERTIFICATE_DIGITS):
        problems.append(
            DbsError(
                f"Enter the certificate number as it is printed: {CERTIFICATE_DIGITS} digits, like 001234567890",
                "dbs_certificate_number",
            )
        )
    if details.issued_on is None:
        problems.append(DbsError("Enter the date the certificate was issued", "dbs_issued_on"))
    else:
        check(lambda: _check_day(details.issued_on, today, "The date the certificate was issued", "dbs_issued_on"))
    subscription = normalise_subscription_id(details.subscription_id) or None
    if subscription is not None:
        check(lambda: _check_subscription(subscription))
    checked = details.status_checked_on
    if checked is not None:
        if subscription is None:
            problems.append(
                DbsError(
                    "Enter the Update Service subscription ID: a status check needs the subscription",
                    "dbs_update_service_id",
                )
            )
        before = len(problems)
        check(lambda: _check_day(checked, today, "The date of the status check", "dbs_status_checked_on"))
        if len(problems) == before and details.issued_on is not None and checked < details.issued_on:
            problems.append(
                DbsError(
                    "The date of the status check must be the same as or after the date the certificate was issued",
                    "dbs_status_checked_on",
                )
            )
    return problems


def _check_subscription(subscription: str) -> None:
    if len(subscription) > SUBSCRIPTION_ID_MAX or not _SUBSCRIPTION_ID.match(subscription):
        raise DbsError(
            "Enter the subscription ID as the Update Service shows it: a C followed by numbers, like C0123456789",
            "dbs_update_service_id",
        )


def check_status_check(
    subscription_id: str | None,
    checked_on: date | None,
    issued_on: date | None,
    last_checked_on: date | None,
    today: date,
) -> tuple[str, date]:
    """A new Update Service status check on a recorded certificate: (the subscription ID tidied, the day), or
    raise ``DbsError`` by its field. A check is no earlier than the certificate, nor than the last check."""
    subscription = normalise_subscription_id(subscription_id)
    if not subscription:
        raise DbsError("Enter the Update Service subscription ID", "dbs_update_service_id")
    _check_subscription(subscription)
    if checked_on is None:
        raise DbsError("Enter the date of the status check", "dbs_status_checked_on")
    _check_day(checked_on, today, "The date of the status check", "dbs_status_checked_on")
    if issued_on is not None and checked_on < issued_on:
        raise DbsError(
            f"The date of the status check must be the same as or after {format_date(issued_on)}, when the "
            "certificate was issued",
            "dbs_status_checked_on",
        )
    if last_checked_on is not None and checked_on < last_checked_on:
        raise DbsError(
            f"The date of the status check must be the same as or after {format_date(last_checked_on)}, the "
            "last check recorded",
            "dbs_status_checked_on",
        )
    return subscription, checked_on


def recheck_due(issued_on: date, status_checked_on: date | None, policy: ForcePolicy = DEFAULT_POLICY) -> date:
    """The first day a certificate issued on ``issued_on`` needs a re-check: ``dbs_recheck_months`` after it
    was issued, or ``dbs_update_check_months`` after the last Update Service status check, whichever is later."""
    due = add_months(issued_on, policy.dbs_recheck_months)
    if status_checked_on is not None:
        due = max(due, add_months(status_checked_on, policy.dbs_update_check_months))
    return due


def latest_expiry(details: DbsDetails, policy: ForcePolicy = DEFAULT_POLICY) -> date:
    """The last day a DBS clearance resting on this certificate may be valid: the day before its re-check."""
    assert details.issued_on is not None
    return recheck_due(details.issued_on, details.status_checked_on, policy) - timedelta(days=1)


@dataclass(frozen=True)
class RecheckSnapshot:
    """What the sweep needs about one DBS clearance in force whose certificate is recorded.

    ``reviewed_since_check``: a renewal review has been opened for it since its last status check (or, with
    no check, at all), so the re-check is already in the queue or has been decided.
    """

    clearance_id: int
    issued_on: date
    status_checked_on: date | None
    reviewed_since_check: bool


def plan_rechecks(
    snapshots: Iterable[RecheckSnapshot], today: date, policy: ForcePolicy = DEFAULT_POLICY
) -> tuple[tuple[int, date], ...]:
    """(clearance id, re-check due day) for each certificate due a re-check within the renewal lead
    (``renewal_review_lead_days``) that has no renewal review for it yet: the earliest due first. Pure and
    idempotent once the reviews are opened."""
    due = []
    for snap in snapshots:
        day = recheck_due(snap.issued_on, snap.status_checked_on, policy)
        if (day - today).days <= policy.renewal_review_lead_days and not snap.reviewed_since_check:
            due.append((day, snap.clearance_id))
    return tuple((clearance_id, day) for day, clearance_id in sorted(due))
