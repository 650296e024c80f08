"""The coordinators' API token pages: the list, creating one (shown once), each token's uses, revoking.

Thin: form → ``matching.api.tokens`` → page or redirect. Only the token's hash is kept, so the token itself
is shown on the page that answers its creation and never again, as the recovery codes and calendar links are.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from core.audit.services import key_from_config
from core.auth.models import Role, User
from core.db import get_session, utcnow
from core.forms import show_error
from core.permissions import allow
from core.timeutil import london_today
from matching.api import tokens
from matching.api.forms import NewTokenForm, RevokeForm
from matching.api.models import ApiToken

bp = Blueprint("api_tokens", __name__, url_prefix="/api-tokens")


@bp.route("/")
@allow(Role.COORDINATOR)
def index():
    db = get_session()
    return render_template("api_tokens/index.html", tokens=tokens.all_tokens(db), now=utcnow(), scopes=tokens.SCOPES)


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def new():
    db = get_session()
    form = NewTokenForm()
    if form.validate_on_submit():
        try:
            issued = tokens.issue(
                db,
                db.get(User, current_user.id),
                name=form.name.data,
                scopes=form.scopes.data,
                expires_on=form.expires_on.data,
                key=key_from_config(current_app.config),
            )
        except tokens.TokenError as exc:
            show_error(form, exc)
        else:
            return render_template("api_tokens/created.html", secret=issued.secret, token=issued.token)
    latest = tokens.latest_expiry(london_today())
    return render_template("api_tokens/new.html", form=form, latest=latest)


def _token(token_id: int) -> ApiToken:
    token = get_session().get(ApiToken, token_id)
    if token is None:
        abort(404)
    return token


@bp.route("/<int:token_id>")
@allow(Role.COORDINATOR)
def show(token_id: int):
    token = _token(token_id)
    uses = tokens.latest_uses(get_session(), token.id)
    return render_template("api_tokens/show.html", token=token, uses=uses, now=utcnow(), scopes=tokens.SCOPES)


@bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def revoke(token_id: int):
    token = _token(token_id)
    form = RevokeForm()
    if token.revoked_at is not None:
        flash("This token was already revoked.", "error")
        return redirect(url_for("api_tokens.show", token_id=token.id))
    if form.validate_on_submit():
        db = get_session()
        try:
            tokens.revoke(db, db.get(User, current_user.id), token.id, key=key_from_config(current_app.config))
        except tokens.TokenError as exc:
            flash(exc.message, "error")
        else:
            flash(f"‘{token.name}’ is revoked: systems using it can no longer read anything.", "success")
        return redirect(url_for("api_tokens.show", token_id=token.id))
    return render_template("api_tokens/revoke.html", token=token, form=form)
