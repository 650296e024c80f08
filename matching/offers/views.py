"""Volunteers' offers: read one, accept it or decline it. A volunteer sees only their own offers.

A decline reopens the place and offers it to someone else straight away (a re-match of that one
request, well under a second); the volunteer is not kept waiting for anything else. So does an accept
that finds the volunteer no longer eligible: the offer is withdrawn and they read only that it is no
longer open to them.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from core.auth.models import Role
from core.db import get_session, session_factory, utcnow
from core.permissions import allow
from matching.models import REQUEST_CHANGED, OfferStatus, duration_text
from matching.offers import services as offers
from matching.offers.details import arrival_text, contact_text, slot_text
from matching.offers.forms import AnswerForm
from matching.runs.services import rematch, settings_from_config
from vetting.policy import current_task_policies

bp = Blueprint("offers", __name__, url_prefix="/offers")
_MAX_ID = 2**31 - 1
# The offer's state as the volunteer reads it (the sergeant's words are OFFER_STATUS_LABELS).
YOUR_OFFER_LABELS = {
    OfferStatus.OFFERED: "Waiting for your answer",
    OfferStatus.ACCEPTED: "Accepted",
    OfferStatus.DECLINED: "Declined",
    OfferStatus.EXPIRED: "Not answered in time",
    OfferStatus.WITHDRAWN: "No longer open to you",
    OfferStatus.CANCELLED: "Request cancelled",
}


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
    policy = current_task_policies(get_session()).get(offer.request.task_type_code)
    return render_template(
        "offers/show.html",
        offer=offer,
        form=AnswerForm(),
        task_name=policy.name if policy else "",
        status_labels=YOUR_OFFER_LABELS,
        duration_text=duration_text,
        # An active offer's own booked time; otherwise the request's as it stands (it may have changed since).
        slot=slot_text(offer.request, offer.starts_at if offer.is_active else None),
        arrival=arrival_text(offer.request, offer.starts_at if offer.is_active else None),
        contact=contact_text(offer.request),
        request_changed=offer.closed_reason == REQUEST_CHANGED,
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
    except offers.NoLongerOpen as exc:
        if exc.withdrawn_now:
            from matching.tasks import after_withdrawal

            # The sergeant hears "no longer available" and the place is offered again; the volunteer reads
            # it here, so no email to them.
            after_withdrawal([exc.offer.id], [], tell_volunteers=False)
        flash(str(exc), "error")
        return redirect(url_for("offers.show", offer_id=offer_id))
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
