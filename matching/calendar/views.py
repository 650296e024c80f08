"""Calendar feeds: the page where a volunteer or sergeant gets, replaces or turns off their private link,
and the feed itself, which calendar apps fetch without signing in.

Thin: form → service → page. The link is shown once, on the page that answers its creation (only its
hash is kept), as the recovery codes are.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from core.auth.models import Role, User
from core.db import get_session
from core.forms import show_error
from core.permissions import allow, public
from matching.calendar import services
from matching.calendar.forms import CalendarLinkForm, TurnOffForm

bp = Blueprint("calendar", __name__)
FEED_ROLES = (Role.VOLUNTEER, Role.SERGEANT)


def _feed_url(token: str) -> str:
    # PUBLIC_URL, as in the emails: the address calendar apps reach, not the one this request came in by.
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for("calendar.feed", token=token)


@bp.route("/calendar", methods=["GET", "POST"])
@allow(*FEED_ROLES)
def index():
    db = get_session()
    user = db.get(User, current_user.id)
    form = CalendarLinkForm()
    if form.validate_on_submit():
        try:
            link = services.create_link(db, user)
        except services.CalendarError as exc:
            show_error(form, exc)
        else:
            url = _feed_url(link.token)
            webcal = "webcal://" + url.split("://", 1)[-1]
            return render_template("calendar/link.html", url=url, webcal=webcal, replaced=link.replaced, user=user)
    feed = services.live_feed(db, user.id)
    return render_template("calendar/index.html", form=form, feed=feed, user=user)


@bp.route("/calendar/turn-off", methods=["POST"])
@allow(*FEED_ROLES)
def turn_off():
    db = get_session()
    form = TurnOffForm()
    if not form.validate_on_submit():
        flash("The form had expired. Try again.", "error")
    elif services.turn_off(db, db.get(User, current_user.id)):
        flash("Your calendar link is turned off. Calendars that used it will stop updating.", "success")
    else:
        flash("You have no calendar link to turn off.", "error")
    return redirect(url_for("calendar.index"))


@bp.route("/calendar/<token>.ics")
@public
def feed(token: str):
    """The feed. Any token that does not work is the same bare 404, whatever the reason."""
    db = get_session()
    user = services.feed_owner(db, token)
    if user is None:
        abort(404)
    config = current_app.config
    data = services.feed_bytes(db, user, public_url=config["PUBLIC_URL"], service=config["SERVICE_NAME"])
    response = Response(data, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = 'inline; filename="calendar.ics"'
    # Personal data at a secret address: no shared cache keeps it, no search engine lists it, and nothing
    # passes the address on.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
