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

if TYPE_CHECKING:  # types only: import-linter's contracts ignore these imports (pyproject.toml [tool.importlinter])
    from core.auth.models import Role, User
    from matching.deployments.services import FeedbackRow
    from matching.hours.services import VolunteerYear
    from matching.offers.services import VolunteerWork
    from vetting.conflict_reviews import ConflictReviewSummary
    from vetting.services import VolunteerVettingView
    from volunteers.models import CircumstanceReport, Volunteer

_KEY = "sng.seams"


@dataclass(frozen=True)
class Affected:
    """Whose future offers and bookings to check again after something that may end their eligibility.

    Each layer names them as it knows them: vetting by volunteer, core by user account (it cannot read
    volunteers), a task type's policy edit by the task type (everyone booked on it). Empty means no one.
    """

    volunteer_ids: frozenset[int] = frozenset()
    user_ids: frozenset[int] = frozenset()
    task_type_codes: frozenset[str] = frozenset()


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
    # Whether the conflict review a volunteer's line of work needs is recorded, and its outcome in words (the
    # directory's volunteer page; the findings and reasons are on vetting's own page).
    conflict_review_summary: Callable[[Session, Volunteer], ConflictReviewSummary]
    # The volunteer's recorded deployments with the sergeants' feedback and their welfare answers (the
    # directory's volunteer page: coordinators only).
    deployment_record: Callable[[Session, Volunteer], Sequence[FeedbackRow]]
    # Hours served this month and year against the commitment, and long-service milestones (the directory's
    # volunteer page; matching/hours).
    volunteer_hours: Callable[[Session, Volunteer, dt.datetime], VolunteerYear]

    # What people in the vetting queue are deployed on.
    upcoming_deployments: Callable[[Session, Collection[int], dt.datetime], Deployments]

    # Use cases of one feature that another completes, in the same transaction.
    application_submitted: Sequence[Callable[[Session, Volunteer], None]]
    circumstances_reported: Sequence[Callable[[Session, CircumstanceReport], None]]
    # A volunteer left (the caller has set their status): (session, volunteer, the user who recorded it, or
    # None). Vetting ends their clearances as no longer needed and closes their reviews, in that transaction.
    volunteer_left: Sequence[Callable[[Session, Volunteer, int | None], None]]
    # After `flask vetting sweep`: (session, now) → a line for the log, or None.
    after_vetting_sweep: Sequence[Callable[[Session, dt.datetime], str | None]]
    # Something that can end people's eligibility happened in the caller's transaction (a clearance
    # suspended, withdrawn, refused, lapsed or restricted; a task type's policy edited; an account
    # disabled; a volunteer paused or left): (session, who, now). Matching withdraws their future offers
    # and bookings they no longer qualify for in that same transaction; the sergeants and volunteers are
    # told, and the places offered again, only once it commits.
    eligibility_changed: Sequence[Callable[[Session, Affected, dt.datetime], None]]

    # A volunteer's download of their own data (volunteers.subject_access): what each higher feature holds
    # about them, as they may see it (vetting outcomes, never officers' notes; offers and deployments):
    # (session, volunteer) → {section name: [{field: value as text}]}.
    personal_data_sections: Sequence[Callable[[Session, Volunteer], dict[str, list[dict[str, str]]]]]

    # `flask demo load`: each feature's data, then what to do once it is all saved.
    demo_loaders: Sequence[DemoLoader]
    # `flask demo load --history-days D`: D days of history (requests, offers, deployments, runs, joiners and
    # leavers, vetting decisions) after the loaders, in the same transaction → a line for the log.
    demo_history: Callable[[Session, random.Random, dt.date, int], str]
    after_demo: Sequence[Callable[[Flask], str]]


def install(app: Flask, registry: Seams) -> None:
    """Called once by create_app."""
    app.extensions[_KEY] = registry


def seams(app: Flask | None = None) -> Seams:
    """The registry of the current app (or of ``app``)."""
    return (app or current_app).extensions[_KEY]
