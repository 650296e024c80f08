"""Volunteers' offers: read one, accept it or decline it. A volunteer sees only their own offers.

A decline reopens the place and offers it to someone else straight away (a re-match of that one
request, well under a second); the volunteer is not kept waiting for anything else.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from core.auth.models import Role
from core.db import get_session, session_factory, utcnow
from core.permissions import allow
from matching.models import OFFER_STATUS_LABELS, duration_text
from matching.offers import services as offers
from matching.offers.forms import AnswerForm
from matching.runs.services import rematch, settings_from_config
from vetting.catalogue import TASK_POLICIES_BY_CODE

bp = Blueprint("offers", __name__, url_prefix="/offers")
_MAX_ID = 2**31 - 1


def _own(offer_id: int):
    if offer_id > _MAX_ID:
        abort(404)
    try:
        return offers.own_offer(get_session(), current_user.id, offer_id)
    except offers.OfferNotFound:
        abort(404)


@bp.route("/<int:offer_id>")
@allow(Role.VOLUNTEER)
def show(offer_id: int):
    offer = _own(offer_id)
    policy = TASK_POLICIES_BY_CODE.get(offer.request.task_type_code)
    return render_template(
        "offers/show.html",
        offer=offer,
        form=AnswerForm(),
        task_name=policy.name if policy else "",
        status_labels=OFFER_STATUS_LABELS,
        duration_text=duration_text,
    )


def _answer(offer_id: int, accept: bool):
    if offer_id > _MAX_ID:
        abort(404)
    if not AnswerForm().validate_on_submit():
        abort(400)
    try:
        offer = offers.answer(get_session(), current_user.id, offer_id, accept=accept, now=utcnow())
    except offers.OfferNotFound:
        abort(404)  # not this volunteer's offer: its existence is not given away
    except offers.OfferError as exc:
        flash(str(exc), "error")
        return redirect(url_for("offers.show", offer_id=offer_id))
    if accept:
        flash(f"Thank you: you are booked for {offer.request.title}.", "success")
    else:
        from matching.tasks import offer_sender

        rematch(
            session_factory(),
            offer.request_id,
            settings_from_config(current_app.config),
            "decline",
            offer_sender(current_app),
        )
        flash("You have declined this offer. Thank you for letting the team know.", "success")
    return redirect(url_for("home.index"))


@bp.route("/<int:offer_id>/accept", methods=["POST"])
@allow(Role.VOLUNTEER)
def accept(offer_id: int):
    return _answer(offer_id, accept=True)


@bp.route("/<int:offer_id>/decline", methods=["POST"])
@allow(Role.VOLUNTEER)
def decline(offer_id: int):
    return _answer(offer_id, accept=False)
