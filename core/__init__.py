"""The app factory. ``core`` imports the feature packages only here."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, session
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from core import db, hardening, security, wording
from core.auth.models import Role
from core.config import load_config
from core.navigation import navigation_for
from core.timeutil import format_date, format_datetime

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(load_config(overrides))
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=app.config["TRUSTED_PROXIES"]
        )
    logging.getLogger("sng").setLevel(logging.INFO)

    # Our templates first, then the GOV.UK Frontend macros and the WTForms widgets' templates.
    app.jinja_loader = ChoiceLoader(
        [
            app.jinja_loader,
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["thousands"] = wording.count  # 202,096: a long run of digits is misread
    app.jinja_env.filters["plural"] = wording.plural  # {{ n | plural('problem') }}: "1 problem", "2 problems"
    app.jinja_env.filters["a_or_an"] = wording.a_or_an  # by the sound of what follows: "an 8 km limit"
    app.jinja_env.globals["navigation_for"] = navigation_for
    app.jinja_env.globals["now"] = db.utcnow
    WTFormsHelpers(app)

    db.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    hardening.init_app(app)  # URL converters and the request size limit: before any route is added
    _init_login(app)

    from core import errors, pages, views
    from core.audit.services import key_from_config
    from core.auth.account_views import bp as account_bp
    from core.auth.views import bp as auth_bp
    from core.cli import register_cli
    from core.permissions import enforce_access
    from core.seams import Seams, install
    from matching.api.problems import for_error as api_problem
    from matching.api.token_views import bp as api_tokens_bp
    from matching.api.views import bp as api_bp
    from matching.calendar.views import bp as calendar_bp
    from matching.cli import match_cli
    from matching.demo import load_local_team, load_requests, match_demo_fortnight
    from matching.deployments import views as deployments
    from matching.deployments.demo import load_past_deployments
    from matching.deployments.ranking_views import bp as ranking_bp
    from matching.deployments.ranking_views import home as ranking_home
    from matching.deployments.services import volunteer_record
    from matching.deployments.subject_access import deployment_sections
    from matching.history_demo import load_history
    from matching.hours.demo import load_duty_hours
    from matching.hours.services import volunteer_year
    from matching.hours.views import bp as hours_bp
    from matching.insight.views import bp as insight_bp
    from matching.notifications import delivery as notification_delivery
    from matching.notifications.events import offers_unavailable
    from matching.notifications.views import bp as notifications_bp
    from matching.offers.leavers import tell_coordinators as tell_coordinators_of_leaver
    from matching.offers.services import volunteer_work
    from matching.offers.subject_access import offer_sections
    from matching.offers.views import bp as offers_bp
    from matching.offers.withdrawals import upcoming_deployments, withdraw_for, withdraw_ineligible
    from matching.requests.views import bp as requests_bp
    from matching.requests.views import sergeant_home
    from matching.runs.views import bp as runs_bp
    from matching.teams.demo import load_ward_teams
    from matching.teams.views import bp as teams_bp
    from vetting import queries as vetting_queries
    from vetting.catalogue import TASK_POLICIES
    from vetting.cli import vetting_cli
    from vetting.conflict_review_views import bp as conflict_reviews_bp
    from vetting.conflict_reviews import summary as conflict_review_summary
    from vetting.demo import load_clearances, load_conflict_reviews
    from vetting.policy import current_task_policies
    from vetting.services import (
        end_vetting_on_leaving,
        open_application_review,
        open_triggered_review,
        vetting_officer_home,
    )
    from vetting.services import volunteer_view as volunteer_vetting_view
    from vetting.subject_access import vetting_sections
    from vetting.views import bp as vetting_bp
    from volunteers.demo import TaskNeeds, load_volunteer_profiles
    from volunteers.directory.views import bp as directory_bp
    from volunteers.directory.views import volunteers_cli
    from volunteers.panels.demo import load_panels
    from volunteers.panels.views import bp as panels_bp
    from volunteers.partners.demo import load_partners
    from volunteers.partners.views import bp as partners_bp
    from volunteers.partners.views import reviewer_home
    from volunteers.retention import erase_departed
    from volunteers.services import prune_expired_applications
    from volunteers.views import bp as volunteers_bp
    from volunteers.views import home_context as volunteer_home

    app.before_request(enforce_access)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(volunteers_bp)
    app.register_blueprint(vetting_bp)
    app.register_blueprint(conflict_reviews_bp)
    app.register_blueprint(directory_bp)
    app.register_blueprint(partners_bp)
    app.register_blueprint(requests_bp)
    app.register_blueprint(runs_bp)
    app.register_blueprint(teams_bp)
    app.register_blueprint(offers_bp)
    app.register_blueprint(panels_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(deployments.bp)
    app.register_blueprint(ranking_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(hours_bp)
    app.register_blueprint(insight_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_tokens_bp)
    app.cli.add_command(volunteers_cli)
    app.cli.add_command(match_cli)
    app.cli.add_command(vetting_cli)

    def withdraw_after_sweep(session, now) -> str:
        """After `flask vetting sweep`: withdraw offers people are no longer eligible for, tell the sergeants."""
        withdrawn = withdraw_ineligible(session, now)
        # Through the notifications (sent once this commits), so a sergeant who chose one daily email gets it there.
        offers_unavailable(session, withdrawn)
        session.commit()
        return f"{len(withdrawn)} offer{'' if len(withdrawn) == 1 else 's'} withdrawn (no longer eligible)."

    def withdraw_on_change(session, affected, now) -> None:
        """An event that may end people's eligibility: withdraw what they no longer qualify for in its
        transaction; once it commits, a background task tells the sergeants and volunteers and re-matches."""
        from matching.tasks import after_withdrawal  # Huey's queue is opened on first use, not at start-up

        withdraw_for(session, affected, now, then=after_withdrawal)

    # What each task type asks, as plain data: the demo's volunteers prefer only tasks they could be offered.
    task_needs = {
        t.code: TaskNeeds(tuple((r.alternatives, r.minimum_level) for r in t.required_skills), t.warranted_only)
        for t in TASK_POLICIES
    }
    install(
        app,
        Seams(
            home_pages={
                # After the deployment (matching/deployments): what to confirm, debrief, or follow up.
                Role.VOLUNTEER: lambda user: volunteer_home(user) | deployments.volunteer_home(user),
                Role.SERGEANT: lambda user: sergeant_home(user) | deployments.sergeant_home(user),
                Role.COORDINATOR: lambda user: deployments.coordinator_home(user) | ranking_home(user),
                Role.VETTING_OFFICER: vetting_officer_home,
                Role.PARTNER_REVIEWER: reviewer_home,
            },
            # The task types in force, as coordinators edited and added them (the catalogue only seeds them).
            task_type_names=lambda session: {code: p.name for code, p in current_task_policies(session).items()},
            volunteer_vetting_view=volunteer_vetting_view,
            volunteer_work=volunteer_work,
            expiring_clearance_volunteer_ids=vetting_queries.expiring_volunteer_ids,
            has_open_vetting_review=vetting_queries.has_open_review,
            conflict_review_summary=conflict_review_summary,
            deployment_record=volunteer_record,
            volunteer_hours=volunteer_year,
            upcoming_deployments=upcoming_deployments,
            application_submitted=[open_application_review],
            circumstances_reported=[open_triggered_review],
            volunteer_left=[
                lambda session, volunteer, actor_id: end_vetting_on_leaving(
                    session, volunteer, actor_id, key_from_config(app.config)
                ),
                # A volunteer who left from their own account: the coordinators are told.
                tell_coordinators_of_leaver,
            ],
            after_vetting_sweep=[
                withdraw_after_sweep,
                # Data retention: erase the personal data of people who left long enough ago.
                lambda session, now: erase_departed(
                    session, now, app.config["DATA_RETENTION_MONTHS_AFTER_LEAVING"], key_from_config(app.config)
                ),
                # Applications never confirmed: deleted when their link expires.
                prune_expired_applications,
            ],
            eligibility_changed=[withdraw_on_change],
            personal_data_sections=[vetting_sections, offer_sections, deployment_sections],
            demo_loaders=[
                lambda session, rng, today: load_volunteer_profiles(session, rng, today, task_needs),
                load_clearances,
                load_conflict_reviews,
                load_requests,
                load_local_team,
                load_ward_teams,  # after the requests: it supervises one of them
                load_partners,
                load_panels,  # after the local team is placed: the demo sergeant's panels are of his wards' people
                load_duty_hours,  # the demo specials' patrols and training, for the commitment table
                load_past_deployments,  # after the local team: deployments of the past week to confirm
            ],
            demo_history=load_history,
            after_demo=[match_demo_fortnight],
        ),
    )
    # Notifications recorded in a transaction go to the mail task once it commits, never if it rolls back.
    notification_delivery.install(app, lambda notification_id: _deliver_notification(notification_id))
    # The JSON API answers its errors as application/problem+json, never an HTML page.
    errors.init_app(app, answers_under={"/api/": api_problem})
    register_cli(app)
    return app


def _deliver_notification(notification_id: int) -> None:
    from matching.tasks import deliver_notification  # Huey's queue is opened on first use, not at start-up

    deliver_notification(notification_id)


def _init_login(app: Flask) -> None:
    from core.auth import services
    from core.auth.models import User
    from core.auth.views import SESSION_TOKEN_KEY, session_policy

    manager = LoginManager(app)
    manager.login_view = "auth.sign_in"
    manager.login_message = "Sign in to continue."
    manager.login_message_category = "info"

    @manager.user_loader
    def _load_user(user_id: str) -> User | None:
        return services.resume_session(db.get_session(), user_id, session.get(SESSION_TOKEN_KEY), session_policy())
