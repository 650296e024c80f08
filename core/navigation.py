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
    ("volunteers.profile", "Your profile"),
    ("directory.index", "Volunteers"),
    ("volunteers.skills", "Skills"),
    ("volunteers.availability", "Availability"),
    ("vetting.queue", "Vetting queue"),
    ("vetting.task_types", "Task types"),
    ("vetting.clearance_types", "Clearance types"),
    ("auth.accounts", "Accounts"),
]


def navigation_for(user: User) -> list[dict]:
    items = []
    for endpoint, text in NAV_ITEMS:
        rule = access_of(endpoint)
        if rule is None or (rule != PUBLIC and user.role not in rule):
            continue
        active = request.endpoint == endpoint or (
            request.blueprint is not None and endpoint.split(".")[0] == request.blueprint and endpoint != "home.index"
        )
        items.append({"href": url_for(endpoint), "text": text, "active": active})
    return items
