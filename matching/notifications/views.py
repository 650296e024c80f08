"""A sergeant's choice of how they hear about their requests: each email as it happens, or one a day."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from core.auth.models import Role
from core.db import get_session
from core.permissions import allow
from matching.notifications.forms import AS_THEY_HAPPEN, DAILY, PreferenceForm
from matching.notifications.services import set_daily_digest, wants_digest

bp = Blueprint("notifications", __name__, url_prefix="/account/notifications")


@bp.route("", methods=["GET", "POST"])
@allow(Role.SERGEANT)
def preferences():
    session = get_session()
    form = PreferenceForm()
    if form.validate_on_submit():
        daily = form.how.data == DAILY
        set_daily_digest(session, current_user.id, daily)
        flash(
            f"Saved: you will get one email a day, at {_hour_text()}."
            if daily
            else "Saved: you will get an email each time something happens.",
            "success",
        )
        return redirect(url_for("account.index"))
    if not form.is_submitted():
        form.how.data = DAILY if wants_digest(session, current_user.id) else AS_THEY_HAPPEN
    return render_template("notifications/preferences.html", form=form, digest_time=_hour_text())


def _hour_text() -> str:
    """The digest's London hour as people say it: "7am", "12 noon", "6pm"."""
    hour = int(current_app.config["NOTIFICATION_DIGEST_HOUR"])
    if hour == 0:
        return "midnight"
    if hour == 12:
        return "12 noon"
    return f"{hour % 12}{'am' if hour < 12 else 'pm'}"
