"""Ward panels and specialist groups: the sergeant's and coordinator's pages, the volunteer's own, and the
groups'. Thin: form → service → redirect or page. Someone else's ward, group or invitation is a 404."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields import SelectChoice

from core.audit.services import key_from_config
from core.auth.models import Role
from core.db import get_session
from core.forms import show_error
from core.geography.models import Borough, Ward
from core.permissions import allow
from volunteers.models import EvidenceStatus
from volunteers.panels import services
from volunteers.panels.forms import (
    ActionForm,
    AskForm,
    BoroughForm,
    CandidateSearchForm,
    GroupForm,
    InviteForm,
    RingFenceForm,
)
from volunteers.panels.models import PANEL_STATE_LABELS, SPECIALIST_KIND_LABELS, PanelState
from volunteers.skills import SKILLS_BY_CODE

bp = Blueprint("panels", __name__)
STAFF = (Role.SERGEANT, Role.COORDINATOR)
GROUP_MANAGERS = (Role.COORDINATOR, Role.VOLUNTEER)  # a volunteer only for the groups they lead


def _key() -> bytes:
    return key_from_config(current_app.config)


def _names() -> dict:
    return {
        "skill_names": {code: s.name for code, s in SKILLS_BY_CODE.items()},
        "state_labels": PANEL_STATE_LABELS,
        "kind_labels": SPECIALIST_KIND_LABELS,
        "verified": EvidenceStatus.VERIFIED,
    }


def _ward_or_404(ward_id: int) -> Ward:
    try:
        return services.managed_ward(get_session(), current_user, ward_id)
    except services.NotFound:
        abort(404)


def _to_panel(ward: Ward):
    return redirect(url_for("panels.ward", ward_id=ward.id))


# ---- Sergeants and coordinators: the ward panels --------------------------------------------------


@bp.route("/panels")
@allow(*STAFF)
def index():
    db = get_session()
    if current_user.role is Role.SERGEANT:
        return render_template("panels/index.html", panels=services.sergeant_panels(db, current_user))
    form = BoroughForm(request.args)
    form.borough.any_text = "Wards with a panel or a ring-fence"
    form.borough.set_options(
        [SelectChoice(str(b.id), b.name) for b in db.scalars(select(Borough).order_by(Borough.name))]
    )
    form.validate()
    borough_id = int(form.borough.data) if form.borough.data and not form.borough.errors else None
    return render_template(
        "panels/overview.html", form=form, rows=services.wards_overview(db, borough_id), borough_id=borough_id
    )


@bp.route("/panels/wards/<int:ward_id>")
@allow(*STAFF)
def ward(ward_id: int):
    db = get_session()
    item = _ward_or_404(ward_id)
    search = CandidateSearchForm(request.args)
    searched = bool(request.args.get("q") or request.args.get("skill"))
    candidates = []
    if searched and search.validate():
        candidates = services.find_candidates(db, item, search.q.data or "", search.skill.data or "")
    ring_fence = RingFenceForm(formdata=None, ring_fenced="yes" if item.ring_fenced else "no")
    return render_template(
        "panels/ward.html",
        ward=item,
        roster=services.ward_roster(db, item),
        search=search,
        form=search,
        searched=searched,
        candidates=candidates,
        search_limit=services.SEARCH_LIMIT,
        action_form=ActionForm(),
        ring_fence=ring_fence,
        **_names(),
    )


@bp.route("/panels/wards/<int:ward_id>/invite", methods=["POST"])
@allow(*STAFF)
def invite(ward_id: int):
    item = _ward_or_404(ward_id)
    form = InviteForm()
    raw = form.volunteer_id.data or ""
    if not form.validate_on_submit() or not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        flash("Choose a volunteer from the search results to invite.", "error")
        return _to_panel(item)
    try:
        message = services.invite(get_session(), item, int(raw), current_user, _key())
    except services.NotFound:
        flash("Choose a volunteer from the search results to invite.", "error")
    except services.PanelError as exc:
        flash(exc.message, "error")
    else:
        flash(message, "success")
    return _to_panel(item)


def _answer() -> str | None:
    """The button pressed: "accept" or "decline" (anything else is a changed form)."""
    answer = request.form.get("answer")
    return answer if answer in ("accept", "decline") else None


@bp.route("/panels/wards/<int:ward_id>/asks/<int:membership_id>", methods=["POST"])
@allow(*STAFF)
def decide_ask(ward_id: int, membership_id: int):
    item = _ward_or_404(ward_id)
    answer = _answer()
    if answer is None:
        flash("Choose Accept or Decline.", "error")
    elif ActionForm().validate_on_submit():
        try:
            membership = services.decide_ask(
                get_session(), item, membership_id, answer == "accept", current_user, _key()
            )
        except services.NotFound:
            abort(404)
        except services.PanelError as exc:
            flash(exc.message, "error")
        else:
            name = membership.volunteer.user.full_name
            if answer == "accept":
                flash(f"{name} is now on the {item.name} panel.", "success")
            else:
                flash(f"You declined {name}'s ask to join the {item.name} panel.", "success")
    else:
        flash("The form had expired. Try again.", "error")
    return _to_panel(item)


@bp.route("/panels/wards/<int:ward_id>/members/<int:membership_id>/remove", methods=["GET", "POST"])
@allow(*STAFF)
def remove(ward_id: int, membership_id: int):
    db = get_session()
    item = _ward_or_404(ward_id)
    try:
        membership = services.ward_membership(db, item, membership_id)
    except services.NotFound:
        abort(404)
    if membership.state not in (PanelState.MEMBER, PanelState.INVITED):
        flash(f"{membership.volunteer.user.full_name} is not on the {item.name} panel.", "info")
        return _to_panel(item)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            services.remove_from_panel(db, item, membership_id, current_user, _key())
        except services.PanelError as exc:
            flash(exc.message, "error")
        else:
            flash(f"{membership.volunteer.user.full_name} is no longer on the {item.name} panel.", "success")
        return _to_panel(item)
    invited = membership.state is PanelState.INVITED
    return render_template(
        "panels/confirm.html",
        form=form,
        title=(
            f"Withdraw the invitation to {membership.volunteer.user.full_name}"
            if invited
            else f"Remove {membership.volunteer.user.full_name} from the {item.name} panel"
        ),
        caption=f"{item.name} panel",
        explanation=(
            "They will no longer see the invitation."
            if invited
            else "They will no longer be asked first for your ward's requests. They can still be offered tasks like "
            "any other volunteer, and you can invite them again later."
        ),
        button="Withdraw invitation" if invited else "Remove from panel",
        back=url_for("panels.ward", ward_id=item.id),
        back_text=f"Back to the {item.name} panel",
    )


@bp.route("/panels/wards/<int:ward_id>/ring-fence", methods=["POST"])
@allow(Role.COORDINATOR)
def ring_fence(ward_id: int):
    item = _ward_or_404(ward_id)
    form = RingFenceForm()
    if not form.validate_on_submit():
        flash(form.ring_fenced.errors[0] if form.ring_fenced.errors else "The form had expired. Try again.", "error")
        return _to_panel(item)
    changed = services.set_ring_fenced(get_session(), item, form.ring_fenced.data == "yes", current_user, _key())
    if not changed:
        flash("Nothing changed.", "info")
    elif item.ring_fenced:
        flash(f"{item.name} is now ring-fenced: its panel leaves the ward only for urgent requests.", "success")
    else:
        flash(f"{item.name} is no longer ring-fenced.", "success")
    return _to_panel(item)


# ---- A volunteer's own panels and groups ----------------------------------------------------------


def _own():
    try:
        return services.own_volunteer(get_session(), current_user)
    except services.NotFound:
        abort(404)


@bp.route("/your-panels")
@allow(Role.VOLUNTEER)
def mine():
    db = get_session()
    volunteer = _own()
    return render_template(
        "panels/mine.html",
        volunteer=volunteer,
        panels=services.volunteer_panels(db, volunteer),
        action_form=ActionForm(),
        **_names(),
    )


@bp.route("/your-panels/invitations/<int:membership_id>", methods=["POST"])
@allow(Role.VOLUNTEER)
def answer_invitation(membership_id: int):
    volunteer = _own()
    answer = _answer()
    if answer is None:
        flash("Choose Accept or Decline.", "error")
        return redirect(url_for("panels.mine"))
    if not ActionForm().validate_on_submit():
        flash("The form had expired. Try again.", "error")
        return redirect(url_for("panels.mine"))
    try:
        membership = services.answer_invitation(get_session(), volunteer, membership_id, answer == "accept", _key())
    except services.NotFound:
        abort(404)
    except services.PanelError as exc:
        flash(exc.message, "error")
    else:
        if answer == "accept":
            flash(f"You are now on the {membership.ward.name} panel.", "success")
        else:
            flash(f"You declined the invitation to the {membership.ward.name} panel.", "success")
    return redirect(url_for("panels.mine"))


@bp.route("/your-panels/ask", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def ask():
    db = get_session()
    volunteer = _own()
    home = volunteer.home_ward
    boroughs = BoroughForm(request.args)
    boroughs.borough.set_options(
        [SelectChoice(str(b.id), b.name) for b in db.scalars(select(Borough).order_by(Borough.name))]
    )
    boroughs.validate()
    if boroughs.borough.errors:  # a changed link: show the home borough, as if none had been chosen
        boroughs.borough.errors, boroughs.borough.data = [], ""
    borough_id = int(boroughs.borough.data) if boroughs.borough.data else None
    if borough_id is None and home is not None:
        borough_id = home.borough_id
        boroughs.borough.data = str(borough_id)
    form = AskForm()
    # The home ward first (the one most people mean), then the chosen borough's wards by name.
    wards = (
        list(db.scalars(select(Ward).where(Ward.borough_id == borough_id).order_by(Ward.name))) if borough_id else []
    )
    choices = [SelectChoice(str(home.id), f"{home.name} (your home ward)")] if home is not None else []
    choices += [SelectChoice(str(w.id), w.name) for w in wards if home is None or w.id != home.id]
    form.ward.choices = choices
    if request.method == "POST" and form.validate_on_submit():
        try:
            message = services.ask_to_join(db, volunteer, int(form.ward.data), _key())
        except services.PanelError as exc:
            show_error(form, exc)
        else:
            flash(message, "success")
            return redirect(url_for("panels.mine"))
    return render_template("panels/ask.html", form=form, boroughs=boroughs, home=home, has_wards=bool(choices))


@bp.route("/your-panels/<int:membership_id>/leave", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def leave(membership_id: int):
    db = get_session()
    volunteer = _own()
    try:
        membership = services.own_ward_membership(db, volunteer, membership_id)
    except services.NotFound:
        abort(404)
    if membership.state not in (PanelState.MEMBER, PanelState.ASKED):
        flash(f"You are not on the {membership.ward.name} panel.", "info")
        return redirect(url_for("panels.mine"))
    form = ActionForm()
    asked = membership.state is PanelState.ASKED
    if form.validate_on_submit():
        try:
            services.leave_panel(db, volunteer, membership_id, _key())
        except services.PanelError as exc:
            flash(exc.message, "error")
        else:
            flash(
                f"You have taken back your ask to join the {membership.ward.name} panel."
                if asked
                else f"You have left the {membership.ward.name} panel.",
                "success",
            )
        return redirect(url_for("panels.mine"))
    return render_template(
        "panels/confirm.html",
        form=form,
        title=(
            f"Take back your ask to join the {membership.ward.name} panel"
            if asked
            else f"Leave the {membership.ward.name} panel"
        ),
        caption="Your panels and groups",
        explanation=(
            "The ward's sergeant will no longer see your ask."
            if asked
            else "You will no longer be asked first for this ward's requests. You can still be offered tasks there "
            "like any other volunteer, and you can ask to join again later."
        ),
        button="Take back my ask" if asked else "Leave the panel",
        back=url_for("panels.mine"),
        back_text="Back to your panels and groups",
    )


# ---- Specialist groups ----------------------------------------------------------------------------


def _group_or_404(group_id: int):
    try:
        return services.get_group(get_session(), group_id)
    except services.NotFound:
        abort(404)


def _managed_group_or_404(group_id: int):
    try:
        return services.managed_group(get_session(), current_user, group_id)
    except services.NotFound:
        abort(404)


@bp.route("/groups")
@allow(Role.COORDINATOR, Role.SERGEANT, Role.VOLUNTEER)
def groups():
    db = get_session()
    return render_template(
        "panels/groups.html", groups=services.list_groups(db), counts=services.group_member_counts(db), **_names()
    )


def _group_form_page(group=None):
    form = GroupForm()
    if request.method == "GET" and group is not None:
        form.name.data, form.kind.data, form.description.data = group.name, group.kind.value, group.description
        form.lead_email.data = group.lead.email if group.lead else ""
    if form.validate_on_submit():
        details = services.GroupDetails(
            name=form.name.data,
            kind=form.kind.data,
            description=form.description.data or "",
            lead_email=form.lead_email.data or "",
        )
        try:
            saved = services.save_group(get_session(), details, current_user, _key(), group.id if group else None)
        except services.PanelError as exc:
            show_error(form, exc)
        else:
            flash(f"{saved.name} saved.", "success")
            return redirect(url_for("panels.group", group_id=saved.id))
    return render_template("panels/group_form.html", form=form, group=group)


@bp.route("/groups/new", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def new_group():
    return _group_form_page()


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def edit_group(group_id: int):
    return _group_form_page(_group_or_404(group_id))


@bp.route("/groups/<int:group_id>")
@allow(Role.COORDINATOR, Role.SERGEANT, Role.VOLUNTEER)
def group(group_id: int):
    db = get_session()
    item = _group_or_404(group_id)
    manages = services.can_manage_group(current_user, item)
    own = None
    if current_user.role is Role.VOLUNTEER:
        volunteer = _own()
        own = services.group_membership_of(db, item, volunteer.id)
    return render_template(
        "panels/group.html",
        group=item,
        manages=manages,
        # Only those who run the group see who is in it, and how to reach them.
        roster=services.group_roster(db, item) if manages else None,
        own=own,
        vouchable=lambda skill: services.vouchable(item, skill),
        action_form=ActionForm(),
        **_names(),
    )


@bp.route("/groups/<int:group_id>/ask", methods=["POST"])
@allow(Role.VOLUNTEER)
def ask_group(group_id: int):
    item = _group_or_404(group_id)
    volunteer = _own()
    if not ActionForm().validate_on_submit():
        flash("The form had expired. Try again.", "error")
    else:
        try:
            flash(services.ask_to_join_group(get_session(), item, volunteer, _key()), "success")
        except services.PanelError as exc:
            flash(exc.message, "error")
    return redirect(url_for("panels.group", group_id=item.id))


@bp.route("/groups/<int:group_id>/leave", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def leave_group(group_id: int):
    db = get_session()
    item = _group_or_404(group_id)
    volunteer = _own()
    membership = services.group_membership_of(db, item, volunteer.id)
    if membership is None or membership.state not in (PanelState.MEMBER, PanelState.ASKED):
        flash(f"You are not in {item.name}.", "info")
        return redirect(url_for("panels.group", group_id=item.id))
    asked = membership.state is PanelState.ASKED
    form = ActionForm()
    if form.validate_on_submit():
        try:
            services.leave_group(db, item, volunteer, _key())
        except services.PanelError as exc:
            flash(exc.message, "error")
        else:
            flash(
                f"You have taken back your ask to join {item.name}." if asked else f"You have left {item.name}.",
                "success",
            )
        return redirect(url_for("panels.group", group_id=item.id))
    return render_template(
        "panels/confirm.html",
        form=form,
        title=f"Take back your ask to join {item.name}" if asked else f"Leave {item.name}",
        caption="Specialist groups",
        explanation="Skills its lead vouched for stay verified."
        if not asked
        else "Its lead will no longer see your ask.",
        button="Take back my ask" if asked else "Leave the group",
        back=url_for("panels.group", group_id=item.id),
        back_text=f"Back to {item.name}",
    )


@bp.route("/groups/<int:group_id>/asks/<int:group_member_id>", methods=["POST"])
@allow(*GROUP_MANAGERS)
def decide_group_ask(group_id: int, group_member_id: int):
    item = _managed_group_or_404(group_id)
    answer = _answer()
    if answer is None:
        flash("Choose Accept or Decline.", "error")
    elif ActionForm().validate_on_submit():
        try:
            membership = services.decide_group_ask(
                get_session(), item, group_member_id, answer == "accept", current_user, _key()
            )
        except services.NotFound:
            abort(404)
        except services.PanelError as exc:
            flash(exc.message, "error")
        else:
            name = membership.volunteer.user.full_name
            flash(f"{name} is now in {item.name}." if answer == "accept" else f"You declined {name}'s ask.", "success")
    else:
        flash("The form had expired. Try again.", "error")
    return redirect(url_for("panels.group", group_id=item.id))


@bp.route("/groups/<int:group_id>/members/<int:group_member_id>/remove", methods=["GET", "POST"])
@allow(*GROUP_MANAGERS)
def remove_group_member(group_id: int, group_member_id: int):
    db = get_session()
    item = _managed_group_or_404(group_id)
    try:
        membership = services.group_membership(db, item, group_member_id)
    except services.NotFound:
        abort(404)
    name = membership.volunteer.user.full_name
    if membership.state is not PanelState.MEMBER:
        flash(f"{name} is not in {item.name}.", "info")
        return redirect(url_for("panels.group", group_id=item.id))
    form = ActionForm()
    if form.validate_on_submit():
        try:
            services.remove_from_group(db, item, group_member_id, current_user, _key())
        except services.PanelError as exc:
            flash(exc.message, "error")
        else:
            flash(f"{name} is no longer in {item.name}.", "success")
        return redirect(url_for("panels.group", group_id=item.id))
    return render_template(
        "panels/confirm.html",
        form=form,
        title=f"Remove {name} from {item.name}",
        caption="Specialist groups",
        explanation="Skills vouched for stay verified; a coordinator can reject evidence that no longer holds.",
        button="Remove from group",
        back=url_for("panels.group", group_id=item.id),
        back_text=f"Back to {item.name}",
    )


@bp.route("/groups/<int:group_id>/members/<int:group_member_id>/skills/<int:skill_id>/vouch", methods=["POST"])
@allow(*GROUP_MANAGERS)
def vouch(group_id: int, group_member_id: int, skill_id: int):
    item = _managed_group_or_404(group_id)
    if not ActionForm().validate_on_submit():
        flash("The form had expired. Try again.", "error")
        return redirect(url_for("panels.group", group_id=item.id))
    try:
        skill = services.vouch(get_session(), item, group_member_id, skill_id, current_user, _key())
    except services.NotFound:
        abort(404)
    except services.PanelError as exc:
        flash(exc.message, "error")
    else:
        flash(
            f"You vouched for {skill.volunteer.user.full_name}'s {SKILLS_BY_CODE[skill.skill_code].name}: "
            "it now shows as verified.",
            "success",
        )
    return redirect(url_for("panels.group", group_id=item.id))
