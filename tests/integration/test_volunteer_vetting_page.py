"""Issue #19 item 8: "Your vetting" says, for each clearance, which tasks it lets the volunteer do."""

from __future__ import annotations

from tests.helpers import make_volunteer
from tests.integration.vetting_factories import granted, volunteer_client
from vetting.catalogue import TaskPolicy
from vetting.lifecycle import ClearanceState
from vetting.models import TaskTypePolicy
from vetting.policy_text import policy_to_json


def _uses(page, heading: str) -> dict[str, str]:
    """Task name → what the clearance under ``heading`` lets the volunteer do, from its summary list."""
    section = next(h for h in page.soup.select("main h2") if h.get_text(strip=True) == heading)
    rows = section.find_next("dl").select(".govuk-summary-list__row")
    return {
        " ".join(r.select_one("dt").get_text().split()): " ".join(r.select_one("dd").get_text().split()) for r in rows
    }


def test_each_clearance_says_which_tasks_it_lets_you_do(app, db):
    volunteer = make_volunteer(db)
    granted(db, volunteer, code="NPPV2F", restricted_from="domestic_abuse_support")
    client = volunteer_client(app, volunteer)
    page = client.get("/vetting/my-clearances")
    uses = _uses(page, "NPPV level 2 (full)")
    assert uses["Cyber-crime victim visit"] == "Yes, with a supervising officer: this task is always supervised"
    assert uses["Business cyber-attack visit"] == "Yes, on your own or with a supervising officer"
    assert uses["Youth and schools liaison"] == (
        "Only with a supervising officer. On your own it also needs one of: DBS enhanced check with children's "
        "barred list or DBS enhanced check with children's and adults' barred lists"
    )
    # The restriction on this clearance is said, not listed as something it lets you do.
    assert uses["Domestic-abuse victim support"] == "No: this clearance was granted with a restriction on this task"
    # Tasks this type never counts for are not listed at all.
    assert "Mental-health escort" not in uses and "Digital evidence triage" not in uses
    text = page.soup.select_one("main").get_text()
    assert "also needs the skills" in text


def test_the_words_follow_the_task_policies_in_force(app, db):
    """From the one source (a task type a coordinator added), not from words written into the page."""
    volunteer = make_volunteer(db)
    granted(db, volunteer, code="DBS_ENH_CHILD")
    added = TaskPolicy(
        code="reading_mentor",
        name="Reading mentor in schools",
        activity="reading mentoring",
        clearance_groups=(("DBS_ENH_CHILD", "DBS_ENH_BOTH"),),
    )
    db.add(TaskTypePolicy(code=added.code, policy_json=policy_to_json(added, names=True)))
    db.commit()
    page = volunteer_client(app, volunteer).get("/vetting/my-clearances")
    uses = _uses(page, "DBS enhanced check with children's barred list")
    assert uses["Reading mentor in schools"] == "Yes, with a supervising officer: this task is always supervised"
    # Youth liaison: the DBS check counts only for working without a supervisor, and NPPV is missing.
    assert uses["Youth and schools liaison"].startswith("Not yet: it also needs one of: NPPV level 2 (abbreviated)")


def test_a_clearance_that_is_not_in_force_lets_you_do_nothing(app, db):
    volunteer = make_volunteer(db)
    granted(db, volunteer, code="NPPV3", state=ClearanceState.SUSPENDED)
    page = volunteer_client(app, volunteer).get("/vetting/my-clearances")
    text = " ".join(page.soup.select_one("main").get_text().split())
    assert "While it is under review it does not let you do any task." in text
    assert "Digital evidence triage" not in text
