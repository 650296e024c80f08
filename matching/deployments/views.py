"""After the deployment: the sergeant confirms what happened, the volunteer logs hours and says how it went,
coordinators follow up welfare requests. Thin: form → service → redirect or page. Another ward's booking,
or another volunteer's, is a 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from core.audit.services import key_from_config
from core.auth.models import Role
from core.db import get_session, utcnow
from core.forms import show_error
from core.permissions import allow
from matching.deployments import services
from matching.deployments.forms import ConfirmForm, ContactedForm, DebriefForm, LogHoursForm
from matching.deployments.hours import hours_text
from matching.deployments.models import NOTE_MAX, OUTCOME_LABELS, DeploymentOutcome
from matching.models import Offer, OfferStatus, duration_text
from volunteers.models import Volunteer

bp = Blueprint("deployments", __name__, url_prefix="/deployments")
CONFIRMERS = (Role.SERGEANT, Role.COORDINATOR)


def _key() -> bytes:
    return key_from_config(current_app.config)


def public_link(endpoint: str, **values) -> str:
    """An absolute link for an email (the app's public address, not the one this request came in on)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


# ---- Sergeants (and coordinators) ----------------------------------------------------------------


@bp.route("/to-confirm")
@allow(*CONFIRMERS)
def to_confirm():
    """Bookings in the sergeant's wards whose time has passed and that nobody has confirmed."""
    pending = services.awaiting_confirmation(get_session(), current_user, utcnow())
    return render_template("deployments/to_confirm.html", pending=pending, duration_text=duration_text)


@bp.route("/<int:offer_id>/confirm", methods=["GET", "POST"])
@allow(*CONFIRMERS)
def confirm(offer_id: int):
    db = get_session()
    try:
        offer = services.booking_for_confirmer(db, current_user, offer_id, booked_only=False)
    except services.NotFound:
        abort(404)
    if offer.status is not OfferStatus.ACCEPTED:
        # A link from before the booking was withdrawn or cancelled, or to an offer never accepted.
        flash(
            f"{offer.volunteer.user.full_name} is not booked on this request, so there is nothing to confirm.", "info"
        )
        return redirect(url_for("requests.show", request_id=offer.request_id))
    row = services.deployment_of(db, offer.id)
    now = utcnow()
    recorded = row is not None and row.outcome in services.CONFIRMED_OUTCOMES
    form = ConfirmForm()
    if not recorded and form.validate_on_submit():
        attended = form.attended.data == "yes"
        try:
            services.confirm(
                db,
                current_user,
                offer.id,
                services.Confirmation(
                    attended=attended,
                    served_minutes=form.served.minutes if attended else None,
                    no_notice=not attended and form.notice.data == "no",
                    helpful=_yes_no(form.helpful.data),
                    would_ask_again=_yes_no(form.would_ask_again.data),
                    coordinator_note=form.coordinator_note.data or "",
                ),
                _key(),
                now,
            )
        except services.DeploymentError as exc:
            if not show_error(form, exc):
                return redirect(url_for("deployments.confirm", offer_id=offer.id))
        else:
            name = offer.volunteer.user.full_name
            flash(f"Saved: {name} {'attended' if attended else 'did not attend'} {offer.request.title}.", "success")
            return redirect(url_for("requests.show", request_id=offer.request_id, _anchor="what-happened"))
    elif not form.is_submitted() and not recorded:
        # Prefilled with what the volunteer logged, or else the booked length: most sergeants only check it.
        logged = row.logged_minutes if row is not None and row.outcome is DeploymentOutcome.LOGGED else None
        booked = int((offer.ends_at - offer.starts_at).total_seconds() // 60)
        form.served.data = hours_text(logged if logged is not None else booked)
    return render_template(
        "deployments/confirm.html",
        form=form,
        offer=offer,
        row=row,
        recorded=recorded,
        ended=offer.ends_at <= now,
        outcome_labels=OUTCOME_LABELS,
        duration_text=duration_text,
        note_max=NOTE_MAX,
    )


# ---- The volunteer ----------------------------------------------------------------------------------


def _own(offer_id: int):
    """The volunteer's own booking; an offer of theirs that is not one goes back to the offer's page."""
    try:
        offer = services.own_booking(get_session(), current_user.id, offer_id, booked_only=False)
    except services.NotFound:
        abort(404)
    if offer.status is not OfferStatus.ACCEPTED:
        flash("You are not booked for this, so there is nothing to record.", "info")
        return redirect(url_for("offers.show", offer_id=offer.id))
    return offer


@bp.route("/<int:offer_id>/log-hours", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def log_hours(offer_id: int):
    offer = _own(offer_id)
    if not isinstance(offer, Offer):
        return offer  # the redirect
    db = get_session()
    row = services.deployment_of(db, offer.id)
    form = LogHoursForm()
    if form.validate_on_submit():
        try:
            services.log_hours(db, current_user.id, offer.id, form.hours.minutes, _key(), utcnow())
        except services.DeploymentError as exc:
            if not show_error(form, exc):
                return redirect(url_for("offers.show", offer_id=offer.id))
        else:
            flash(
                f"Thank you: your hours ({duration_text(form.hours.minutes)}) are with the sergeant to approve.",
                "success",
            )
            return redirect(url_for("offers.show", offer_id=offer.id))
    elif not form.is_submitted():
        logged = row.logged_minutes if row is not None else None
        booked = int((offer.ends_at - offer.starts_at).total_seconds() // 60)
        form.hours.data = hours_text(logged if logged is not None else booked)
    return render_template(
        "deployments/log_hours.html", form=form, offer=offer, row=row, ended=offer.ends_at <= utcnow()
    )


@bp.route("/<int:offer_id>/debrief", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def debrief(offer_id: int):
    offer = _own(offer_id)
    if not isinstance(offer, Offer):
        return offer  # the redirect
    db = get_session()
    row = services.deployment_of(db, offer.id)
    if not services.may_debrief(offer, row, utcnow()):
        if row is not None and row.debriefed_at is not None:
            flash("You have already told us how this deployment went. Thank you.", "info")
        else:
            flash("You can tell us how it went once the deployment has ended.", "info")
        return redirect(url_for("offers.show", offer_id=offer.id))
    form = DebriefForm()
    if form.validate_on_submit():
        contact = form.contact_wanted.data == "yes"
        try:
            services.debrief(
                db,
                current_user.id,
                offer.id,
                services.Debrief(
                    note=form.note.data or "", affected=form.affected.data == "yes", contact_wanted=contact
                ),
                _key(),
                utcnow(),
                public_link("deployments.welfare"),
            )
        except services.DeploymentError as exc:
            if not show_error(form, exc):
                return redirect(url_for("offers.show", offer_id=offer.id))
        else:
            flash(
                "Thank you. A coordinator will contact you soon."
                if contact
                else "Thank you for telling us how it went.",
                "success",
            )
            return redirect(url_for("home.index"))
    return render_template("deployments/debrief.html", form=form, offer=offer, note_max=NOTE_MAX)


# ---- Coordinators ---------------------------------------------------------------------------------------


@bp.route("/welfare")
@allow(Role.COORDINATOR)
def welfare():
    """Volunteers who asked for someone to contact them after a deployment, and have not been contacted yet."""
    return render_template(
        "deployments/welfare.html", requests=services.welfare_requests(get_session()), form=ContactedForm()
    )


@bp.route("/welfare/<int:deployment_id>/contacted", methods=["POST"])
@allow(Role.COORDINATOR)
def contacted(deployment_id: int):
    form = ContactedForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        row = services.mark_contacted(get_session(), current_user, deployment_id, _key(), utcnow())
    except services.NotFound:
        abort(404)
    except services.DeploymentError as exc:
        flash(exc.message, "error")
    else:
        flash(f"{row.volunteer.user.full_name}: marked as contacted.", "success")
    return redirect(url_for("deployments.welfare"))


# ---- Home pages (composed with each role's own in create_app) -------------------------------------------


def sergeant_home(user) -> dict:
    """The sergeant's "Confirm what happened" list on their home page."""
    return {
        "to_confirm": services.awaiting_confirmation(get_session(), user, utcnow(), limit=10),
        "duration_text": duration_text,  # the volunteer's logged hours, in words
    }


def volunteer_home(user) -> dict:
    """The volunteer's recent deployments they have not yet told us about."""
    db = get_session()
    volunteer_id = db.scalar(select(Volunteer.id).where(Volunteer.user_id == user.id))
    return {"to_debrief": services.to_debrief(db, volunteer_id, utcnow()) if volunteer_id else []}


def coordinator_home(user) -> dict:
    """How many welfare requests wait for a coordinator."""
    return {"welfare_waiting": services.count_welfare_requests(get_session())}


def after_deployment(offer: Offer) -> dict:
    """What the volunteer's offer page shows once the booking has ended: the hours as recorded (never the
    sergeant's feedback), and whether they can still log hours or answer the debrief."""
    now = utcnow()
    if offer.status.value != "accepted" or offer.ends_at > now:
        return {"after": None}
    row = services.deployment_of(get_session(), offer.id)
    confirmed = row is not None and row.outcome in services.CONFIRMED_OUTCOMES
    return {
        "after": {
            "outcome": OUTCOME_LABELS[row.outcome] if row is not None else OUTCOME_LABELS[DeploymentOutcome.AWAITING],
            "served": duration_text(row.served_minutes) if confirmed and row.served_minutes is not None else "",
            "logged": duration_text(row.logged_minutes) if row is not None and row.logged_minutes is not None else "",
            "can_log": not confirmed,
            "can_debrief": services.may_debrief(offer, row, now),
        }
    }


def request_page(session, user, item) -> dict:
    """The request page's "What happened" section: each booking's record (attendance and hours, never the
    feedback) and whether this user may confirm (a sergeant of the ward or a coordinator: whoever sees the page)."""
    return {
        "deployments": services.for_request(session, item.id),
        "deployment_labels": OUTCOME_LABELS,
        "can_confirm": user.role in CONFIRMERS,
    }
