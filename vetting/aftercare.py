"""Aftercare's yearly rhythm: when the sweep opens a person's annual integrity review. Pure.

Police vetting is not a one-off: besides renewals and changes of circumstances, everyone who holds a
clearance has an integrity review each year (``ForcePolicy.integrity_review_months``, 12 by
default). A year runs from the last time vetting looked at the person as a whole: the later of the
start of the newest clearance they hold in force (a grant or renewal is a full look) and the last
integrity review opened for them. The sweep opens the review ``INTEGRITY_LEAD_DAYS`` before that
anniversary, so officers have that long to do it; one found late (the sweep missed days, or a
person's first year passed before this review existed) is given the same time from today.

Idempotent like the rest of the sweep: opening a review is itself the fact that stops a second one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from vetting.catalogue import DEFAULT_POLICY, ForcePolicy
from vetting.renewals import add_months

__all__ = ["INTEGRITY_LEAD_DAYS", "IntegrityDue", "IntegritySnapshot", "plan_integrity_reviews"]

#: How long before the anniversary the review is opened, and so how long officers have for it.
INTEGRITY_LEAD_DAYS = 28


@dataclass(frozen=True)
class IntegritySnapshot:
    """One person holding at least one clearance in force.

    ``newest_grant_on``: the latest ``valid_from`` among the clearances they hold in force.
    ``last_review_on``: when their last integrity review was opened (London date), if ever.
    ``review_open``: an integrity review of theirs is still open.
    """

    person_id: int
    newest_grant_on: date
    last_review_on: date | None = None
    review_open: bool = False


@dataclass(frozen=True)
class IntegrityDue:
    person_id: int
    due_on: date


def plan_integrity_reviews(
    people: Iterable[IntegritySnapshot], today: date, policy: ForcePolicy = DEFAULT_POLICY
) -> tuple[IntegrityDue, ...]:
    """The integrity reviews to open today, earliest due first (then by person)."""
    due: list[IntegrityDue] = []
    opening_by = today + timedelta(days=INTEGRITY_LEAD_DAYS)
    for person in people:
        if person.review_open:
            continue
        anchor = max(person.newest_grant_on, person.last_review_on or person.newest_grant_on)
        anniversary = add_months(anchor, policy.integrity_review_months)
        if anniversary <= opening_by:
            # Opened on time that is the anniversary itself; opened late, the same time from today.
            due.append(IntegrityDue(person.person_id, opening_by))
    return tuple(sorted(due, key=lambda d: (d.due_on, d.person_id)))
