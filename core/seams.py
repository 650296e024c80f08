"""How features meet: one typed registry that ``create_app`` fills and ``seams()`` reads.

The layers run matching → vetting → volunteers → core, and a lower layer never imports a higher one.
Where a lower layer's page or use case needs a higher one (the volunteer's home page shows their offers;
applying opens a vetting review; the vetting sweep withdraws offers), it calls through a field here.
Every field must be given when ``create_app`` builds the registry, so a missing one fails at start-up,
not on the first request that needs it, and go-to-definition leads from each call to its type.
See docs/decisions/0008-one-typed-seam.md.

Hooks that receive a session run inside the caller's transaction and never commit: the application and
the review it opens are saved together, or not at all.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy import Select
from sqlalchemy.orm import Session

if TYPE_CHECKING:  # types only: import-linter's contracts ignore these imports (see .importlinter)
    from core.auth.models import Role, User
    from matching.offers.services import VolunteerWork
    from vetting.services import VolunteerVettingView
    from volunteers.models import CircumstanceReport, Volunteer

_KEY = "sng.seams"

# A feature's demo data: (session, seeded random, today) → a count or summary, in the load's transaction.
# {volunteer id: (how many upcoming deployments, the first one's start, task type names)}
Deployments = dict[int, tuple[int, dt.datetime, list[str]]]
DemoLoader = Callable[[Session, random.Random, dt.date], object]


@dataclass(frozen=True, kw_only=True)
class Seams:
    """What each feature offers the layers below it. Filled once, in ``create_app``."""

    # Home pages: extra template context for a role's home page (core's home view).
    home_pages: Mapping[Role, Callable[[User], dict[str, Any]]]

    # Task types by code → name, as the policies in force name them (volunteers' pages, the directory).
    task_type_names: Callable[[Session], dict[str, str]]
    # What a volunteer may see of their own vetting (volunteers' pages; never notes or reasons).
    volunteer_vetting_view: Callable[[Session, Volunteer], VolunteerVettingView]
    # A volunteer's offers, bookings and hours (volunteers' home page).
    volunteer_work: Callable[[Session, Volunteer, dt.datetime], VolunteerWork]

    # The directory's vetting questions, answered without showing vetting detail.
    expiring_clearance_volunteer_ids: Callable[[int], Select]
    has_open_vetting_review: Callable[[Session, int], bool]

    # What people in the vetting queue are deployed on.
    upcoming_deployments: Callable[[Session, Collection[int], dt.datetime], Deployments]

    # Use cases of one feature that another completes, in the same transaction.
    application_submitted: Sequence[Callable[[Session, Volunteer], None]]
    circumstances_reported: Sequence[Callable[[Session, CircumstanceReport], None]]
    # After `flask vetting sweep`: (session, now) → a line for the log, or None.
    after_vetting_sweep: Sequence[Callable[[Session, dt.datetime], str | None]]

    # `flask demo load`: each feature's data, then what to do once it is all saved.
    demo_loaders: Sequence[DemoLoader]
    after_demo: Sequence[Callable[[Flask], str]]


def install(app: Flask, registry: Seams) -> None:
    """Called once by create_app."""
    app.extensions[_KEY] = registry


def seams(app: Flask | None = None) -> Seams:
    """The registry of the current app (or of ``app``)."""
    return (app or current_app).extensions[_KEY]
