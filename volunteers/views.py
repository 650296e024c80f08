"""The volunteer's own pages: apply, the profile and its sections. Thin: form → service → redirect."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from wtforms.fields import SelectChoice

from core.auth.models import Role
from core.db import get_session, utcnow
from core.forms import show_error
from core.geography.models import Borough, Ward
from core.mail import send_mail
from core.permissions import allow, public
from core.seams import seams
from core.timeutil import format_date, london_today
from volunteers import services, stepping_back, subject_access
from volunteers.availability import PERIODS, WEEKDAYS, Window, clock, week_grid
from volunteers.forms import (
    BlockedPeriodForm,
    BoroughForm,
    CircumstancesForm,
    ConflictForm,
    ContactForm,
    DateExceptionForm,
    HomeWardForm,
    LeaveForm,
    PauseForm,
    PreferencesForm,
    RegistrationForm,
    ResumeForm,
    SkillForm,
    SkillLevelForm,
    TravelForm,
    WeeklySlotForm,
    WorkForm,
)
from volunteers.models import (
    AvailabilityException,
    AvailabilitySlot,
    BlockedPeriod,
    BlockReason,
    CircumstanceCategory,
    CircumstanceReport,
    ConflictCategory,
    ConflictDeclaration,
    OccupationCategory,
    Volunteer,
    VolunteerKind,
    VolunteerSkill,
    WorkAdjustment,
)
from volunteers.panels.services import pending_invitations
from volunteers.partners.services import partner_choices
from volunteers.skills import SKILLS, SKILLS_BY_CODE, SkillLevel

bp = Blueprint("volunteers", __name__)


def task_type_names() -> dict[str, str]:
    """Task types the vetting policy defines (wired in by create_app: volunteers does not import vetting)."""
    return seams().task_type_names(get_session())


def _own_volunteer() -> Volunteer:
    volunteer = services.volunteer_for_user(get_session(), current_user.id)
    if volunteer is None:
        abort(404)
    return volunteer


@bp.route("/apply", methods=["GET", "POST"])
@public
def apply():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        config = current_app.config
        try:
            services.apply(
                get_session(),
                full_name=form.full_name.data,
                email=form.email.data,
                phone=form.phone.data,
                kind=VolunteerKind(form.kind.data),
                password=form.password.data,
                address=request.remote_addr,
                policy=services.ApplyPolicy.from_config(config),
                send=lambda to, subject, body: send_mail(config, to, subject, body),
                confirm_link=lambda token: _public_url(url_for("volunteers.confirm_application", token=token)),
                sign_in_link=_public_url(url_for("auth.sign_in")),
            )
        except services.ProfileError as exc:  # throttled: a message above the form, shown again as typed
            show_error(form, exc)
        else:
            session[_APPLIED_EMAIL] = form.email.data.strip()
            return redirect(url_for("volunteers.check_your_email"))
    return render_template("volunteers/apply.html", form=form)


_APPLIED_EMAIL = "applied_email"


def _public_url(path: str) -> str:
    """Links in emails point at PUBLIC_URL, not at whatever Host header the request came with."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


@bp.route("/apply/check-your-email")
@public
def check_your_email():
    """The same page whether or not the address has an account (GOV.UK's Confirm an email address)."""
    email = session.get(_APPLIED_EMAIL)
    if not email:
        return redirect(url_for("volunteers.apply"))
    hours = current_app.config["APPLY_CONFIRM_HOURS"]
    return render_template("volunteers/check_your_email.html", email=email, hours=hours)


@bp.route("/apply/confirm/<token>", methods=["GET", "POST"])
@public
def confirm_application(token: str):
    """The link from the email. Opening it changes nothing (mail scanners open links); the button does."""
    db = get_session()
    if request.method == "POST":  # CSRFProtect has refused a POST without a valid token
        try:
            services.confirm_application(db, token)
        except services.ApplicationLinkError as exc:
            return render_template("volunteers/confirm_application.html", problem=exc.message)
        session.pop(_APPLIED_EMAIL, None)
        flash(
            "Your email address is confirmed and your application has gone to the vetting team. "
            "Sign in to complete your profile while it is reviewed.",
            "success",
        )
        return redirect(url_for("auth.sign_in"))
    if services.pending_application(db, token) is None:
        return render_template("volunteers/confirm_application.html", problem=services.LINK_DEAD)
    return render_template("volunteers/confirm_application.html", problem=None)


@bp.route("/profile")
@allow(Role.VOLUNTEER)
def profile():
    volunteer = _own_volunteer()
    names = task_type_names()
    return render_template(
        "volunteers/profile.html",
        volunteer=volunteer,
        preferences=[names.get(p.task_type_code, p.task_type_code) for p in volunteer.preferences],
    )


@bp.route("/profile/your-data.json", defaults={"fmt": "json"})
@bp.route("/profile/your-data.csv", defaults={"fmt": "csv"})
@allow(Role.VOLUNTEER)
def download_own_data(fmt: str):
    """The volunteer's own data, as JSON or CSV (vetting and matching add theirs through the seams)."""
    volunteer = _own_volunteer()
    data = subject_access.gather(get_session(), volunteer, task_type_names(), seams().personal_data_sections, utcnow())
    body, mimetype = (
        (subject_access.as_json(data), "application/json")
        if fmt == "json"
        else (subject_access.as_csv(data), "text/csv")
    )
    filename = f"your-volunteering-data-{london_today().isoformat()}.{fmt}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _versioned(form, volunteer: Volunteer) -> None:
    if request.method == "GET":
        form.version.data = str(volunteer.version)


def _edit(form, volunteer: Volunteer, save, template: str, **context):
    """The shared shape of every profile section: show, validate, save with the version check."""
    _versioned(form, volunteer)
    if form.validate_on_submit():
        try:
            save()
        except services.ProfileError as exc:
            if not show_error(form, exc):
                return redirect(request.url)
        else:
            flash("Your profile has been updated.", "success")
            return redirect(url_for("volunteers.profile"))
    return render_template(template, form=form, volunteer=volunteer, **context)


@bp.route("/profile/contact", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def edit_contact():
    volunteer = _own_volunteer()
    form = ContactForm(obj=volunteer) if request.method == "GET" else ContactForm()
    return _edit(
        form,
        volunteer,
        lambda: services.update_contact(
            get_session(), volunteer, phone=form.phone.data, expected_version=form.expected_version()
        ),
        "volunteers/edit.html",
        title="Your contact details",
    )


@bp.route("/profile/home-ward", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def edit_home_ward():
    db = get_session()
    volunteer = _own_volunteer()
    boroughs = list(db.scalars(select(Borough).order_by(Borough.name)))
    choices = [SelectChoice(str(b.id), b.name) for b in boroughs]
    borough_id = volunteer.home_ward.borough_id if volunteer.home_ward else boroughs[0].id
    asked = BoroughForm(request.args)
    asked.borough.choices = choices
    if "borough" in request.args and asked.validate():
        borough_id = asked.borough.data
    chooser = BoroughForm(formdata=None, data={"borough": borough_id})
    chooser.borough.choices = choices
    borough = db.get(Borough, borough_id)
    form = HomeWardForm()
    form.ward.choices = [
        SelectChoice(str(w.id), w.name)
        for w in db.scalars(select(Ward).where(Ward.borough_id == borough_id).order_by(Ward.name))
    ]
    if request.method == "GET" and volunteer.home_ward_id:
        form.ward.data = volunteer.home_ward_id
    return _edit(
        form,
        volunteer,
        lambda: services.set_home_ward(db, volunteer, form.ward.data, expected_version=form.expected_version()),
        "volunteers/edit_home_ward.html",
        chooser=chooser,
        borough=borough,
    )


@bp.route("/profile/travel", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def edit_travel():
    volunteer = _own_volunteer()
    form = TravelForm()
    if request.method == "GET":
        form.travel_limit_km.data = volunteer.travel_limit_km
        form.weekly_hours_cap.data = volunteer.weekly_hours_cap_minutes // 60
    return _edit(
        form,
        volunteer,
        lambda: services.update_travel(
            get_session(),
            volunteer,
            travel_limit_km=form.travel_limit_km.data,
            weekly_hours=form.weekly_hours_cap.data,
            expected_version=form.expected_version(),
        ),
        "volunteers/edit.html",
        title="Travel and hours",
    )


@bp.route("/profile/work", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def edit_work():
    volunteer = _own_volunteer()
    form = WorkForm()
    if request.method == "GET":
        form.occupation.data = volunteer.occupation
        form.employer.data = volunteer.employer
        form.occupation_category.data = volunteer.occupation_category.value
        form.adjustment.data = volunteer.adjustment.value
        form.military_reservist.data = "yes" if volunteer.military_reservist else "no"
    return _edit(
        form,
        volunteer,
        lambda: services.update_work(
            get_session(),
            volunteer,
            occupation=form.occupation.data or "",
            employer=form.employer.data or "",
            category=OccupationCategory(form.occupation_category.data),
            adjustment=WorkAdjustment(form.adjustment.data),
            military_reservist=form.military_reservist.data == "yes",
            expected_version=form.expected_version(),
        ),
        "volunteers/edit.html",
        title="Your work",
    )


@bp.route("/profile/preferences", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def edit_preferences():
    volunteer = _own_volunteer()
    names = task_type_names()
    form = PreferencesForm()
    form.task_types.choices = [SelectChoice(code, name) for code, name in names.items()]
    if request.method == "GET":
        form.task_types.data = [p.task_type_code for p in volunteer.preferences]
    return _edit(
        form,
        volunteer,
        lambda: services.set_preferences(
            get_session(), volunteer, form.task_types.data or [], set(names), expected_version=form.expected_version()
        ),
        "volunteers/edit.html",
        title="Tasks you would like",
    )


def home_context(user) -> dict:
    """What the volunteer's home page shows (core's home view calls this; it cannot import us)."""
    volunteer = services.volunteer_for_user(get_session(), user.id)
    if volunteer is None:
        return {"volunteer": None, "todo": []}
    todo = []
    if volunteer.home_ward_id is None:
        todo.append(("Choose your home ward", url_for("volunteers.edit_home_ward")))
    if not volunteer.occupation:
        todo.append(("Tell us about your work", url_for("volunteers.edit_work")))
    if not volunteer.preferences:
        todo.append(("Choose the tasks you would like", url_for("volunteers.edit_preferences")))
    if not volunteer.skills:
        todo.append(("Add your skills", url_for("volunteers.skills")))
    # Offers and deployments come from matching (wired in by create_app: volunteers cannot import it).
    work = seams().volunteer_work(get_session(), volunteer, utcnow())
    return {
        "volunteer": volunteer,
        "todo": todo,
        "vetting": vetting_view(volunteer),
        "work": work,
        "panel_invitations": pending_invitations(get_session(), volunteer.id),
    }


def vetting_view(volunteer: Volunteer):
    """The volunteer's own vetting outcomes, from vetting (wired in by create_app)."""
    return seams().volunteer_vetting_view(get_session(), volunteer)


def _save_or_show(form, save, success: str, endpoint: str, template: str, **context):
    """Validate, call the service, redirect on success; otherwise show the errors by their fields."""
    if form.validate_on_submit():
        try:
            save()
        except services.ProfileError as exc:
            show_error(form, exc)
        else:
            session.pop(_UNDO, None)  # an undo offered before this change would now surprise
            flash(success, "success")
            return redirect(url_for(endpoint))
    return render_template(template, form=form, **context)


# ---- Removing, with a question first and an undo after ----------------------------------------------

# Where each kind of removable thing is listed, and what removing it means for the volunteer.
_LISTED_ON = {
    "skill": "volunteers.skills",
    "weekly_time": "volunteers.availability",
    "date": "volunteers.availability",
    "blocked_dates": "volunteers.availability",
    "conflict": "volunteers.conflicts",
}
_WHAT_IT_MEANS = {
    "skill": "You will no longer be offered tasks that need this skill.",
    "weekly_time": "You will no longer be offered tasks at this time of the week.",
    "date": "Your usual week will apply on this date again.",
    "blocked_dates": "You could be offered tasks on these dates again.",
    "conflict": "You could be offered work involving it again.",
}
_UNDO = "volunteers_undo"
# An undo is offered straight after a removal; a token older than this is refused as expired.
UNDO_SECONDS = 15 * 60


def _undo_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="volunteers.undo")


def _describe(kind: str, item) -> str:
    """The removed thing in the words the lists use."""
    if kind == "skill":
        skill = SKILLS_BY_CODE.get(item.skill_code)
        return skill.name if skill else item.skill_code
    if kind == "weekly_time":
        return f"{WEEKDAYS[item.weekday]} {clock(item.start_minute)} to {clock(item.end_minute)}"
    if kind == "date":
        said = (
            f"available {clock(item.start_minute)} to {clock(item.end_minute)}" if item.available else "not available"
        )
        return f"{format_date(item.on_date)}: {said}"
    if kind == "blocked_dates":
        return f"{format_date(item.first_day)} to {format_date(item.last_day)} ({item.reason.value})"
    return item.organisation


def _remove(kind: str, item_id: int):
    """GET: are you sure? POST: remove it, and offer an undo in the banner of the list it was on."""
    db = get_session()
    volunteer = _own_volunteer()
    try:
        item = services.own_item(db, volunteer, services.REMOVABLE[kind], item_id)
    except services.NotFound:
        abort(404)
    what = _describe(kind, item)
    back = url_for(_LISTED_ON[kind])
    if request.method == "GET":
        return render_template(
            "volunteers/confirm_remove.html", what=what, what_it_means=_WHAT_IT_MEANS[kind], back=back
        )
    try:
        snapshot = services.remove_owned(db, volunteer, kind, item_id)
    except services.NotFound:  # removed a moment ago from another tab
        abort(404)
    session[_UNDO] = {
        "what": what,
        "token": _undo_signer().dumps({"kind": kind, "row": snapshot}),
        "page": _LISTED_ON[kind],
    }
    return redirect(back)


def _offered_undo(endpoint: str) -> dict | None:
    """The undo for the last removal, shown once, on the list it was removed from."""
    offered = session.get(_UNDO)
    if offered and offered.get("page") == endpoint:
        return session.pop(_UNDO)
    return None


@bp.route("/profile/undo", methods=["POST"])
@allow(Role.VOLUNTEER)
def undo_removal():
    """Put back what was just removed, from the signed snapshot in the banner's form."""
    volunteer = _own_volunteer()
    token = request.form.get("token", "")
    try:
        payload = _undo_signer().loads(token, max_age=UNDO_SECONDS)
    except SignatureExpired:
        flash("It is too late to undo that. Add it again instead.", "error")
        return redirect(url_for("volunteers.profile"))
    except BadSignature:  # not one we made (or cut short): nothing to put back
        flash("That cannot be undone. Add it again instead.", "error")
        return redirect(url_for("volunteers.profile"))
    kind, row = payload.get("kind"), payload.get("row")
    if kind not in services.REMOVABLE or not isinstance(row, dict):
        abort(404)
    session.pop(_UNDO, None)
    try:
        services.restore_removed(get_session(), volunteer, kind, row)
    except services.NotFound:
        abort(404)
    except services.ProfileError as exc:
        flash(f"Not put back: {exc.message}", "error")
    else:
        flash("Put back as it was.", "success")
    return redirect(url_for(_LISTED_ON[kind]))


# ---- Skills -------------------------------------------------------------------------------------


@bp.route("/profile/skills")
@allow(Role.VOLUNTEER)
def skills():
    volunteer = _own_volunteer()
    return render_template(
        "volunteers/skills.html",
        volunteer=volunteer,
        catalogue=SKILLS_BY_CODE,
        today=london_today(),
        undo=_offered_undo("volunteers.skills"),
    )


@bp.route("/profile/skills/add", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def add_skill():
    volunteer = _own_volunteer()
    form = SkillForm()
    form.skill.choices = [SelectChoice("", "Choose a skill")] + [
        SelectChoice(s.code, f"{s.name} ({s.family.value})") for s in SKILLS
    ]
    return _save_or_show(
        form,
        lambda: services.add_skill(
            get_session(),
            volunteer,
            skill_code=form.skill.data,
            level=SkillLevel(form.level.data),
            registration_number=form.registration_number.data or None,
            evidence_expires_on=form.evidence_expires_on.data,
            today=london_today(),
        ),
        "Skill added.",
        "volunteers.skills",
        "volunteers/add_skill.html",
        professional=[s for s in SKILLS if s.evidence_required],
    )


@bp.route("/profile/skills/<int:item_id>/level", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def change_skill_level(item_id: int):
    """Change a skill's level in place (it used to mean removing the skill and adding it again)."""
    db = get_session()
    volunteer = _own_volunteer()
    try:
        held = services.own_item(db, volunteer, VolunteerSkill, item_id)
    except services.NotFound:
        abort(404)
    skill = SKILLS_BY_CODE.get(held.skill_code)
    form = SkillLevelForm()
    if request.method == "GET":
        form.level.data = held.level.value
    return _save_or_show(
        form,
        lambda: services.change_skill_level(db, volunteer, held.id, SkillLevel(form.level.data)),
        "Level changed.",
        "volunteers.skills",
        "volunteers/form_page.html",
        title=f"Your level in {skill.name if skill else held.skill_code}",
        back=url_for("volunteers.skills"),
    )


@bp.route("/profile/skills/<int:item_id>/remove", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def remove_skill(item_id: int):
    return _remove("skill", item_id)


# ---- Availability -------------------------------------------------------------------------------


@bp.route("/profile/availability")
@allow(Role.VOLUNTEER)
def availability():
    volunteer = _own_volunteer()
    db = get_session()
    slots = list(
        db.scalars(
            select(AvailabilitySlot)
            .where(AvailabilitySlot.volunteer_id == volunteer.id)
            .order_by(AvailabilitySlot.weekday, AvailabilitySlot.start_minute)
        )
    )
    today = london_today()
    dates = list(
        db.scalars(
            select(AvailabilityException)
            .where(AvailabilityException.volunteer_id == volunteer.id, AvailabilityException.on_date >= today)
            .order_by(AvailabilityException.on_date)
        )
    )
    blocks = list(
        db.scalars(
            select(BlockedPeriod)
            .where(BlockedPeriod.volunteer_id == volunteer.id, BlockedPeriod.last_day >= today)
            .order_by(BlockedPeriod.first_day)
        )
    )
    grid = week_grid(Window(s.weekday, s.start_minute, s.end_minute) for s in slots)
    return render_template(
        "volunteers/availability.html",
        volunteer=volunteer,
        slots=slots,
        dates=dates,
        blocks=blocks,
        grid=grid,
        periods=PERIODS,
        weekdays=WEEKDAYS,
        clock=clock,
        undo=_offered_undo("volunteers.availability"),
    )


@bp.route("/profile/availability/weekly/add", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def add_weekly_slot():
    volunteer = _own_volunteer()
    form = WeeklySlotForm()
    return _save_or_show(
        form,
        lambda: services.add_weekly_slot(
            get_session(), volunteer, weekday=form.weekday.data, start=form.start.data, end=form.end.data
        ),
        "Time added to your week.",
        "volunteers.availability",
        "volunteers/form_page.html",
        title="Add a regular time",
        back=url_for("volunteers.availability"),
    )


@bp.route("/profile/availability/weekly/<int:item_id>/remove", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def remove_weekly_slot(item_id: int):
    return _remove("weekly_time", item_id)


@bp.route("/profile/availability/dates/add", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def add_date_exception():
    volunteer = _own_volunteer()
    form = DateExceptionForm()
    return _save_or_show(
        form,
        lambda: services.add_date_exception(
            get_session(),
            volunteer,
            on_date=form.on_date.data,
            available=form.available.data == "yes",
            start=form.start.data,
            end=form.end.data,
            today=london_today(),
        ),
        "Date added.",
        "volunteers.availability",
        "volunteers/form_page.html",
        title="Add a date that is different",
        back=url_for("volunteers.availability"),
    )


@bp.route("/profile/availability/dates/<int:item_id>/remove", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def remove_date_exception(item_id: int):
    return _remove("date", item_id)


@bp.route("/profile/availability/blocked/add", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def add_blocked_period():
    volunteer = _own_volunteer()
    form = BlockedPeriodForm()
    return _save_or_show(
        form,
        lambda: services.add_blocked_period(
            get_session(),
            volunteer,
            first_day=form.first_day.data,
            last_day=form.last_day.data,
            reason=BlockReason(form.reason.data),
            today=london_today(),
        ),
        "Dates added: you will not be offered anything then.",
        "volunteers.availability",
        "volunteers/blocked_form.html",
        title="Add dates you cannot volunteer",
        back=url_for("volunteers.availability"),
    )


@bp.route("/profile/availability/blocked/<int:item_id>/remove", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def remove_blocked_period(item_id: int):
    return _remove("blocked_dates", item_id)


# ---- Conflicts of interest ----------------------------------------------------------------------


@bp.route("/profile/conflicts")
@allow(Role.VOLUNTEER)
def conflicts():
    volunteer = _own_volunteer()
    declared = list(
        get_session().scalars(
            select(ConflictDeclaration)
            .where(ConflictDeclaration.volunteer_id == volunteer.id)
            .order_by(ConflictDeclaration.declared_at)
        )
    )
    return render_template(
        "volunteers/conflicts.html", volunteer=volunteer, declared=declared, undo=_offered_undo("volunteers.conflicts")
    )


@bp.route("/profile/conflicts/add", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def add_conflict():
    volunteer = _own_volunteer()
    db = get_session()
    form = ConflictForm()
    form.partner.choices = [SelectChoice("", "No, none of these")] + [
        SelectChoice(str(pid), name) for pid, name in partner_choices(db)
    ]
    form.ward.choices = [SelectChoice("0", "Not in a particular ward")] + [
        SelectChoice(str(ward_id), f"{name}, {borough}")
        for ward_id, name, borough in db.execute(
            select(Ward.id, Ward.name, Borough.name).join(Borough).order_by(Borough.name, Ward.name)
        )
    ]
    return _save_or_show(
        form,
        lambda: services.declare_conflict(
            db,
            volunteer,
            category=ConflictCategory(form.category.data),
            organisation=form.organisation.data or "",
            ward_id=form.ward.data or None,
            partner_id=int(form.partner.data) if form.partner.data else None,
        ),
        "Declaration added: you will not be offered work involving it.",
        "volunteers.conflicts",
        "volunteers/form_page.html",
        title="Declare a conflict of interest",
        back=url_for("volunteers.conflicts"),
    )


@bp.route("/profile/conflicts/<int:item_id>/remove", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def remove_conflict(item_id: int):
    return _remove("conflict", item_id)


# ---- Change of circumstances --------------------------------------------------------------------


@bp.route("/profile/circumstances", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def circumstances():
    volunteer = _own_volunteer()
    db = get_session()
    form = CircumstancesForm()
    reports = list(
        db.scalars(
            select(CircumstanceReport)
            .where(CircumstanceReport.volunteer_id == volunteer.id)
            .order_by(CircumstanceReport.reported_at.desc())
        )
    )
    return _save_or_show(
        form,
        lambda: services.report_circumstances(
            db,
            volunteer,
            category=CircumstanceCategory(form.category.data),
            occurred_on=form.occurred_on.data,
            details=form.details.data,
            today=london_today(),
        ),
        "Thank you. The vetting team will review the change and contact you if they need more.",
        "volunteers.circumstances",
        "volunteers/circumstances.html",
        reports=reports,
        vetting=vetting_view(volunteer),
    )


# ---- Pausing and leaving ------------------------------------------------------------------------


def _bookings_with_deadlines(bookings) -> list[dict]:
    """Each booking with the last moment it can be withdrawn from on the site (the offer's page applies the
    same rule: ``WITHDRAW_NOTICE_HOURS`` before it starts)."""
    notice = dt.timedelta(hours=current_app.config["WITHDRAW_NOTICE_HOURS"])
    now = utcnow()
    return [{"offer": offer, "may_withdraw": now < offer.starts_at - notice} for offer in bookings]


@bp.route("/profile/pause", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def pause():
    volunteer = _own_volunteer()
    db = get_session()
    form = PauseForm()
    in_the_way: list = []
    if form.validate_on_submit():
        try:
            row = stepping_back.pause(
                db,
                volunteer,
                first_day=form.first_day.data,
                last_day=form.last_day.data,
                reason=form.reason.data or "",
                today=london_today(),
                now=utcnow(),
            )
        except stepping_back.BookingsInTheWay as exc:
            flash(exc.message, "error")
            in_the_way = exc.bookings
        except stepping_back.SteppingBackError as exc:
            if not show_error(form, exc):
                return redirect(url_for("volunteers.pause"))
        else:
            until = f"to {format_date(row.last_day)}" if row.last_day else "until you resume"
            flash(
                f"Your volunteering is paused from {format_date(row.first_day)} {until}. You will not be offered "
                "anything then.",
                "success",
            )
            return redirect(url_for("volunteers.pause"))
    return render_template(
        "volunteers/pause.html",
        form=form,
        volunteer=volunteer,
        current=stepping_back.current_pause(db, volunteer, london_today()),
        in_the_way=_bookings_with_deadlines(in_the_way),
        resume_form=ResumeForm(),
        notice_hours=current_app.config["WITHDRAW_NOTICE_HOURS"],
        today=london_today(),
    )


@bp.route("/profile/pause/resume", methods=["POST"])
@allow(Role.VOLUNTEER)
def resume():
    volunteer = _own_volunteer()
    if not ResumeForm().validate_on_submit():
        abort(400)
    try:
        stepping_back.resume(get_session(), volunteer, today=london_today(), now=utcnow())
    except stepping_back.SteppingBackError as exc:
        flash(exc.message, "error")
    else:
        flash("Welcome back: you can be offered work again from the next matching run.", "success")
    return redirect(url_for("volunteers.pause"))


@bp.route("/profile/leave", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def leave():
    volunteer = _own_volunteer()
    db = get_session()
    form = LeaveForm()
    if form.validate_on_submit():
        try:
            stepping_back.leave(db, volunteer, reason=form.reason.data or "", now=utcnow())
        except stepping_back.SteppingBackError as exc:
            if not show_error(form, exc):
                return redirect(url_for("volunteers.profile"))
        else:
            # The account is closed and every session of it revoked; this browser's goes too.
            logout_user()
            session.clear()
            flash("You have left volunteering. Thank you for everything you have done.", "success")
            return redirect(url_for("auth.sign_in"))
    work = seams().volunteer_work(db, volunteer, utcnow())
    return render_template(
        "volunteers/leave.html",
        form=form,
        volunteer=volunteer,
        bookings=_bookings_with_deadlines(work.upcoming),
        waiting=work.waiting,
        retention_months=current_app.config["DATA_RETENTION_MONTHS_AFTER_LEAVING"],
    )
