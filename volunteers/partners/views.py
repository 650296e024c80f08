"""Partner pages: coordinators keep the list, volunteers name theirs, a partner reviewer vouches or declines.

Thin: form → service → redirect. A partner reviewer's pages all start from the one organisation their account
is linked to; anything outside it is a 404 (the permission decorators already refuse them every other page).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields import SelectChoice

from core.audit.services import key_from_config
from core.auth.models import Role
from core.db import get_session
from core.forms import show_error
from core.permissions import allow
from core.timeutil import london_today
from volunteers import services as volunteer_services
from volunteers.models import Volunteer
from volunteers.partners import services
from volunteers.partners.forms import ClaimsForm, DeclineForm, NamePartnerForm, PartnerForm, ReviewerPartnerForm
from volunteers.partners.models import (
    CLAIM_STATE_LABELS,
    PARTNER_KIND_LABELS,
    PARTNER_RELATION_LABELS,
    ClaimState,
    PartnerKind,
    PartnerOrganisation,
    PartnerRelation,
)
from volunteers.skills import SKILLS_BY_CODE

bp = Blueprint("partners", __name__)

COORDINATOR = Role.COORDINATOR
REVIEWER = Role.PARTNER_REVIEWER


def _key() -> bytes:
    return key_from_config(current_app.config)


def _labels() -> dict:
    return {
        "kind_labels": PARTNER_KIND_LABELS,
        "relation_labels": PARTNER_RELATION_LABELS,
        "state_labels": CLAIM_STATE_LABELS,
        "skill_name": services.skill_name,
        "pending": ClaimState.PENDING,
    }


# ---- Coordinators: the list of partner organisations ------------------------------------------------


@bp.route("/partners")
@allow(COORDINATOR)
def index():
    return render_template("partners/index.html", rows=services.list_partners(get_session()), **_labels())


def _save_partner(form: PartnerForm, save, done: str):
    if form.validate_on_submit():
        try:
            partner = save()
        except services.PartnerError as exc:
            if not show_error(form, exc):
                return redirect(url_for("partners.index"))
        else:
            flash(f"{done} {partner.name}.", "success")
            return redirect(url_for("partners.index"))
    return None


@bp.route("/partners/new", methods=["GET", "POST"])
@allow(COORDINATOR)
def new():
    form = PartnerForm()
    done = _save_partner(
        form,
        lambda: services.create_partner(
            get_session(),
            name=form.name.data,
            kind=PartnerKind(form.kind.data),
            description=form.description.data or "",
            actor_id=current_user.id,
            key=_key(),
        ),
        "Partner organisation added:",
    )
    return done or render_template("partners/edit.html", form=form, partner=None, reviewers=[])


@bp.route("/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@allow(COORDINATOR)
def edit(partner_id: int):
    db = get_session()
    try:
        partner = services.get_partner(db, partner_id)
    except services.NotFound:
        abort(404)
    form = PartnerForm(obj=partner) if request.method == "GET" else PartnerForm()
    if request.method == "GET":
        form.kind.data = partner.kind.value
    done = _save_partner(
        form,
        lambda: services.update_partner(
            db,
            partner.id,
            name=form.name.data,
            kind=PartnerKind(form.kind.data),
            description=form.description.data or "",
            actor_id=current_user.id,
            key=_key(),
        ),
        "Partner organisation saved:",
    )
    return done or render_template(
        "partners/edit.html", form=form, partner=partner, reviewers=services.reviewers_of(db, partner.id)
    )


@bp.route("/partners/reviewers/<int:reviewer_id>", methods=["GET", "POST"])
@allow(COORDINATOR)
def reviewer_partner(reviewer_id: int):
    """Which organisation a partner reviewer vouches for: the step after creating their account."""
    db = get_session()
    try:
        user = services.get_reviewer_account(db, reviewer_id)
    except services.NotFound:
        abort(404)
    form = ReviewerPartnerForm()
    form.partner.choices = [SelectChoice("", "Choose an organisation")] + [
        SelectChoice(str(pid), name) for pid, name in services.partner_choices(db)
    ]
    current = services.reviewer_partner(db, user.id)
    if request.method == "GET" and current is not None:
        form.partner.data = str(current.id)
    if form.validate_on_submit():
        try:
            link = services.link_reviewer(db, user.id, int(form.partner.data), current_user.id, _key())
        except services.PartnerError as exc:
            show_error(form, exc)
        else:
            flash(f"{user.full_name} now vouches for {link.partner.name}.", "success")
            return redirect(url_for("partners.index"))
    return render_template("partners/reviewer_partner.html", form=form, user=user, current=current)


# ---- Volunteers: the organisations they work for or with ----------------------------------------------


def _own_volunteer() -> Volunteer:
    volunteer = volunteer_services.volunteer_for_user(get_session(), current_user.id)
    if volunteer is None:
        abort(404)
    return volunteer


def _skill_choices(volunteer: Volunteer) -> list[SelectChoice]:
    return [
        SelectChoice(str(s.id), services.skill_name(s.skill_code) + f" ({s.level.value})") for s in volunteer.skills
    ]


@bp.route("/profile/organisations")
@allow(Role.VOLUNTEER)
def own():
    volunteer = _own_volunteer()
    return render_template(
        "partners/own.html", volunteer=volunteer, links=services.links_of(get_session(), volunteer.id), **_labels()
    )


@bp.route("/profile/organisations/add", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def add_own():
    db = get_session()
    volunteer = _own_volunteer()
    named = {link.partner_id for link in services.links_of(db, volunteer.id)}
    choices = [(pid, name) for pid, name in services.partner_choices(db) if pid not in named]
    form = NamePartnerForm()
    form.partner.choices = [SelectChoice("", "Choose an organisation")] + [
        SelectChoice(str(pid), name) for pid, name in choices
    ]
    form.skills.choices = _skill_choices(volunteer)
    if form.validate_on_submit():
        try:
            link = services.name_partner(
                db,
                volunteer,
                partner_id=int(form.partner.data),
                relation=PartnerRelation(form.relation.data),
                skill_ids=form.skills.data or [],
                key=_key(),
            )
        except services.PartnerError as exc:
            show_error(form, exc)
        else:
            asked = len(link.claims)
            message = f"{link.partner.name} added."
            if asked:
                message += f" Its contact has been asked to vouch for {asked} skill{'' if asked == 1 else 's'}."
            flash(message, "success")
            return redirect(url_for("partners.own"))
    return render_template("partners/add_own.html", form=form, volunteer=volunteer, available=choices)


@bp.route("/profile/organisations/<int:item_id>/skills", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def own_skills(item_id: int):
    db = get_session()
    volunteer = _own_volunteer()
    try:
        link = services.own_link(db, volunteer, item_id)
    except services.NotFound:
        abort(404)
    decided = {c.skill_id: c for c in link.claims if c.state is not ClaimState.PENDING}
    form = ClaimsForm()
    # A skill the organisation has already decided is not a choice any more: its answer stands.
    form.skills.choices = [c for c in _skill_choices(volunteer) if int(c.value) not in decided]
    if request.method == "GET":
        form.skills.data = [c.skill_id for c in link.claims if c.state is ClaimState.PENDING]
    if form.validate_on_submit():
        try:
            services.set_claims(db, volunteer, link.id, [*(form.skills.data or []), *decided], _key())
        except services.PartnerError as exc:
            show_error(form, exc)
        else:
            flash(f"Skills for {link.partner.name} saved.", "success")
            return redirect(url_for("partners.own"))
    return render_template(
        "partners/own_skills.html", form=form, link=link, decided=list(decided.values()), **_labels()
    )


@bp.route("/profile/organisations/<int:item_id>/remove", methods=["POST"])
@allow(Role.VOLUNTEER)
def remove_own(item_id: int):
    try:
        partner = services.remove_partner(get_session(), _own_volunteer(), item_id, _key())
    except services.NotFound:
        abort(404)
    flash(f"{partner.name} removed.", "success")
    return redirect(url_for("partners.own"))


# ---- Partner reviewers ----------------------------------------------------------------------------------


def _reviewers_partner() -> PartnerOrganisation | None:
    return services.reviewer_partner(get_session(), current_user.id)


def _not_linked():
    flash("Your account is not linked to a partner organisation yet. Ask the force's coordinator to link it.", "info")
    return redirect(url_for("home.index"))


@bp.route("/partner/volunteers")
@allow(REVIEWER)
def review_list():
    partner = _reviewers_partner()
    if partner is None:
        return _not_linked()
    links = services.links_for_reviewer(get_session(), partner.id)
    return render_template("partners/review_list.html", partner=partner, links=links, **_labels())


@bp.route("/partner/volunteers/<int:volunteer_id>")
@allow(REVIEWER)
def review_volunteer(volunteer_id: int):
    partner = _reviewers_partner()
    if partner is None:
        return _not_linked()
    try:
        link = services.link_for_reviewer(get_session(), partner.id, volunteer_id)
    except services.NotFound:
        abort(404)
    return render_template(
        "partners/review_volunteer.html", partner=partner, link=link, catalogue=SKILLS_BY_CODE, **_labels()
    )


@bp.route("/partner/claims/<int:claim_id>/vouch", methods=["POST"])
@allow(REVIEWER)
def vouch(claim_id: int):
    partner = _reviewers_partner()
    if partner is None:
        return _not_linked()
    db = get_session()
    try:
        claim = services.vouch(db, partner.id, claim_id, current_user.id, _key(), london_today())
    except services.NotFound:
        abort(404)
    except services.PartnerError as exc:
        flash(exc.message, "error")
        claim = services.claim_for_reviewer(db, partner.id, claim_id)
    else:
        flash(f"You vouched for {services.skill_name(claim.skill.skill_code)}.", "success")
    return redirect(url_for("partners.review_volunteer", volunteer_id=claim.link.volunteer_id))


@bp.route("/partner/claims/<int:claim_id>/decline", methods=["GET", "POST"])
@allow(REVIEWER)
def decline(claim_id: int):
    partner = _reviewers_partner()
    if partner is None:
        return _not_linked()
    db = get_session()
    try:
        claim = services.claim_for_reviewer(db, partner.id, claim_id)
    except services.NotFound:
        abort(404)
    volunteer_id = claim.link.volunteer_id
    back = url_for("partners.review_volunteer", volunteer_id=volunteer_id)
    if claim.state is not ClaimState.PENDING:
        flash(f"This skill has already been {claim.state.value}.", "info")
        return redirect(back)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            services.decline(db, partner.id, claim_id, current_user.id, form.reason.data, _key())
        except services.PartnerError as exc:
            if not show_error(form, exc):
                return redirect(back)
        else:
            flash(f"You declined {services.skill_name(claim.skill.skill_code)}.", "success")
            return redirect(back)
    return render_template(
        "partners/decline.html",
        form=form,
        claim=claim,
        volunteer=claim.link.volunteer,
        back=back,
        name=services.skill_name(claim.skill.skill_code),
    )


def reviewer_home(user) -> dict:
    """The partner reviewer's home page (core's home view calls this through the seams)."""
    db = get_session()
    partner = services.reviewer_partner(db, user.id)
    if partner is None:
        return {"partner": None}
    return {
        "partner": partner,
        "pending_claims": services.pending_count(db, partner.id),
        "volunteer_count": services.volunteer_count(db, partner.id),
    }
