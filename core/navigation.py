"""The service navigation: each item shows only to the roles allowed to use its route."""

from __future__ import annotations

from flask import request, url_for

from core.auth.models import User
from core.permissions import PUBLIC, access_of

# (endpoint, text). Feature packages append theirs in create_app, in the order they should show.
NAV_ITEMS: list[tuple[str, str]] = [
    ("home.index", "Home"),
    ("requests.index", "Requests"),
    ("runs.index", "Matching"),
    ("panels.index", "Panels"),  # sergeants and coordinators
    ("panels.mine", "Panels"),  # volunteers: their own
    ("teams.index", "Ward team"),  # sergeants and coordinators: PCSOs and ward officers
    ("volunteers.profile", "Your profile"),
    ("directory.index", "Volunteers"),
    ("insight.index", "Dashboards"),  # coordinators and sergeants (their wards)
    ("hours.specials", "Specials' hours"),  # coordinators: hours against the monthly commitment
    ("hours.approvals", "Duty hours"),  # sergeants and coordinators: specials' hours to approve
    ("partners.index", "Partners"),
    ("partners.review_list", "Volunteers to vouch for"),
    ("volunteers.skills", "Skills"),
    ("volunteers.availability", "Availability"),
    ("hours.mine", "Your hours"),  # volunteers
    ("vetting.queue", "Vetting queue"),
    ("vetting.people", "Find a person"),
    ("vetting.audit_log", "Audit log"),
    ("vetting.task_types", "Task types"),
    ("vetting.clearance_types", "Clearance types"),
    ("auth.accounts", "Accounts"),
    ("api_tokens.index", "API tokens"),  # coordinators: tokens for force systems to read the JSON API
]


# Pages reached from a menu item whose blueprint holds other menu items too: the item they belong to.
BELOW: dict[str, str] = {
    "vetting.review": "vetting.queue",
    "vetting.person": "vetting.people",
    "vetting.edit_task_type": "vetting.task_types",
    "vetting.edit_clearance_type": "vetting.clearance_types",
    "partners.own": "volunteers.profile",
    "partners.add_own": "volunteers.profile",
    "partners.own_skills": "volunteers.profile",
    "hours.log_duty": "hours.mine",
    "hours.reject": "hours.approvals",
    "hours.volunteer": "directory.index",
    # Volunteers the matcher ranks lower after a deployment (matching/deployments/ranking_views.py).
    "ranking.index": "directory.index",
    "ranking.clear": "directory.index",
}


def navigation_for(user: User) -> list[dict]:
    """The menu items ``user`` may use; at most one is current.

    The current item is the page's own, or the one it is reached from (``BELOW``); failing both, the
    first item of the page's blueprint (a request's page is under Requests). Several items of one
    blueprint (the vetting officer's queue, people and audit log) must never all light up at once.
    """
    items = []
    for endpoint, text in NAV_ITEMS:
        rule = access_of(endpoint)
        if rule is None or (rule != PUBLIC and user.role not in rule):
            continue
        items.append({"href": url_for(endpoint), "text": text, "active": False, "endpoint": endpoint})
    here = BELOW.get(request.endpoint or "", request.endpoint)
    current = next((item for item in items if item["endpoint"] == here), None)
    if current is None and request.blueprint is not None:
        current = next(
            (
                item
                for item in items
                if item["endpoint"].split(".")[0] == request.blueprint and item["endpoint"] != "home.index"
            ),
            None,
        )
    if current is not None:
        current["active"] = True
    for item in items:
        del item["endpoint"]
    return items
