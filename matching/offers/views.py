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
from core.forms import show_error
from core.permissions import allow
from matching.deployments.views import after_deployment
from matching.models import REQUEST_CHANGED, VOLUNTEER_WITHDREW, OfferStatus, duration_text
from matching.offers import services as offers
from matching.offers.details import arrival_text, contact_text, slot_text
from matching.offers.forms import AnswerForm, WithdrawForm
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
        you_withdrew=_you_withdrew(offer),
        may_pull_out=offers.may_pull_out(offer, current_app.config["WITHDRAW_NOTICE_HOURS"], utcnow()),
        notice_hours=current_app.config["WITHDRAW_NOTICE_HOURS"],
        **after_deployment(offer),  # once the booking has ended: the hours, and "How did it go?"
    )


def _you_withdrew(offer) -> bool:
    return offer.status is OfferStatus.WITHDRAWN and (offer.closed_reason or "").startswith(VOLUNTEER_WITHDREW)


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

        run = rematch(
            session_factory(),
            offer.request_id,
            settings_from_config(current_app.config),
            "decline",
            offer_sender(current_app),
        )
        # Now the sergeant can be told whom the place went to next (or that nobody else could be found).
        offers.notify_declined(get_session(), offer.id, run.id if run is not None else None)
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


@bp.route("/<int:offer_id>/withdraw", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def withdraw(offer_id: int):
    """Pull out of a booking: a reason, then the place is offered to someone else at once. Inside the notice
    period the page gives the team's contact instead of the form."""
    offer = _own(offer_id)
    notice_hours = current_app.config["WITHDRAW_NOTICE_HOURS"]
    if offer.status is not OfferStatus.ACCEPTED or offer.ends_at <= utcnow():
        flash("You are not booked for this, so there is nothing to withdraw from.", "error")
        return redirect(url_for("offers.show", offer_id=offer_id))
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            offer = offers.pull_out(
                get_session(),
                current_user.id,
                offer_id,
                reason=form.reason.data,
                notice_hours=notice_hours,
                now=utcnow(),
            )
        except offers.WithdrawalError as exc:
            if show_error(form, exc):
                return _withdraw_page(offer, form, notice_hours)
            return redirect(url_for("offers.withdraw", offer_id=offer_id))
        from matching.tasks import offer_sender

        # Committed: the sergeant has been told (after this commit), and the place is offered again now.
        rematch(
            session_factory(),
            offer.request_id,
            settings_from_config(current_app.config),
            "withdrawal",
            offer_sender(current_app),
            now=utcnow(),
        )
        flash(
            f"You have withdrawn from {offer.request.title}. The team has been told. Thank you for the notice.",
            "success",
        )
        return redirect(url_for("home.index"))
    return _withdraw_page(offer, form, notice_hours)


def _withdraw_page(offer, form: WithdrawForm, notice_hours: int):
    return render_template(
        "offers/withdraw.html",
        offer=offer,
        form=form,
        slot=slot_text(offer.request, offer.starts_at),
        contact=contact_text(offer.request),
        may_pull_out=offers.may_pull_out(offer, notice_hours, utcnow()),
        notice_hours=notice_hours,
        deadline=offers.withdrawal_deadline(offer, notice_hours),
    )
