"""Every vetting form with bad input: empty, 10,000 characters, impossible and out-of-range dates.
The message is by the field, the error summary links to it, and nothing typed is lost."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.timeutil import london_today
from tests.helpers import error_messages, make_volunteer
from tests.integration.vetting_factories import granted, officer, officers, review, volunteer_client
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ReviewKind, VettingReview
from volunteers.models import VolunteerStatus

LONG = "x" * 10_000


def _summary_links(soup) -> list[str]:
    return [a["href"] for a in soup.select(".govuk-error-summary a")]


def test_the_decision_form_keeps_what_was_typed_and_says_what_is_wrong_by_each_field(app, db):
    item = review(db)
    client = officer(app, db)
    url = f"/vetting/reviews/{item.id}"
    long = client.submit(url, {"outcome": "grant", "type_code": "NPPV2F", "reason": LONG})
    # Every problem at once (issue 19): the grant's missing date is said with the reason's length.
    assert error_messages(long.soup) == {
        "reason": "Reason must be 4,000 characters or fewer",
        "valid_from-day": "Enter the date the clearance takes effect",
    }
    assert long.soup.select_one("#reason").get_text() == LONG
    assert long.soup.select_one("input[name=outcome][value=grant]").has_attr("checked")
    assert long.soup.select_one("#type_code option[selected]")["value"] == "NPPV2F"
    for parts, message in (
        (["31", "2", str(london_today().year)], "The date it takes effect must be a real date"),
        (["1", "13", "2026"], "The date it takes effect must be a real date"),
        (["1", "1", "99999"], "The date it takes effect must be a real date"),
        (["1", "1", "26"], "The date it takes effect must be a real date"),
        (["", "1", "2026"], "The date it takes effect must include a day"),
    ):
        page = client.submit(url, {"outcome": "grant", "type_code": "NPPV2F", "reason": "ok", "valid_from": parts})
        assert error_messages(page.soup) == {"valid_from-day": message}
        assert [box["value"] for box in page.soup.select("input[name=valid_from]")] == parts
        assert _summary_links(page.soup) == ["#valid_from-day"]
    far = client.submit(
        url,
        {
            "outcome": "grant",
            "type_code": "NPPV2F",
            "reason": "ok",
            "valid_from": ["1", "1", "2026"],
            "expires_on": ["1", "1", "9999"],
        },
    )
    assert set(error_messages(far.soup)) <= {"valid_from-day", "expires_on-day"}
    assert db.scalars(select(Clearance)).all() == []


@pytest.mark.parametrize("action", ["suspend", "withdraw"])
def test_a_clearance_action_without_a_reason_or_with_too_long_a_one_is_shown_by_its_box(app, db, action):
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    clearance = granted(db, volunteer)
    item = review(db, volunteer, ReviewKind.TRIGGERED)
    client = officer(app, db)
    url = f"/vetting/reviews/{item.id}"
    box = f"reason-{clearance.id}-{action}"
    for reason, message in (
        ("", f"Enter the reason to {'suspend' if action == 'suspend' else 'propose withdrawing'} the clearance"),
        ("   ", f"Enter the reason to {'suspend' if action == 'suspend' else 'propose withdrawing'} the clearance"),
        (LONG, "Reason must be 4,000 characters or fewer"),
    ):
        page = client.submit(f"{url}/clearances/{clearance.id}/{action}", {"reason": reason}, token_from=url)
        assert page.status_code == 200
        assert error_messages(page.soup) == {box: message}
        assert _summary_links(page.soup) == [f"#{box}"]
        assert page.soup.select_one(f"#{box}").get_text() == reason
        # The panel stays open on the box that needs correcting; the decision form's own box stays empty.
        assert page.soup.select_one(f"details:has(#{box})").has_attr("open")
        assert page.soup.select_one("#reason").get_text() == ""
    db.expire_all()
    assert db.get(Clearance, clearance.id).state is ClearanceState.GRANTED
    assert db.get(VettingReview, item.id).pending is None


def test_the_appeal_form_keeps_a_too_long_appeal(app, db):
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    clearance = granted(db, volunteer)
    item = review(db, volunteer, ReviewKind.TRIGGERED)
    first, second = officers(app, db, 2)
    url = f"/vetting/reviews/{item.id}"
    first.submit(f"{url}/clearances/{clearance.id}/withdraw", {"reason": "Adverse"}, token_from=url)
    second.submit(f"{url}/confirm", {}, token_from=url)
    person = volunteer_client(app, volunteer)
    page = person.submit(
        f"/vetting/my-clearances?appeal={clearance.id}", {"clearance_id": clearance.id, "grounds": LONG}
    )
    assert error_messages(page.soup) == {"grounds": "Your appeal must be 4,000 characters or fewer"}
    assert page.soup.select_one("#grounds").get_text() == LONG
    db.expire_all()
    assert db.get(Clearance, clearance.id).state is ClearanceState.WITHDRAWN
