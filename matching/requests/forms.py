"""Sergeants' forms for support requests. Shape only: ownership and policy are checked in services.

The request's time window is entered as a date and two London wall-clock times, and turned into
UTC here (``core.forms.window_from_local``): a time the clocks skip in spring is an error by its
field, and so is an end before the start or a task longer than its window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount
from wtforms import HiddenField, StringField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from core.forms import (
    BaseForm,
    ChoiceCheckboxesField,
    ChoiceRadioField,
    ChoiceSelectField,
    FilterSelectField,
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
    LondonDateField,
    Required,
    WholeNumberField,
    clock_value,
    parse_clock,
    strip_nul,
    window_from_local,
)
from core.timeutil import NonexistentLocalTime, london_to_utc, london_today
from matching.models import (
    CANCEL_REASON_MAX,
    CONTACT_PHONE_MAX,
    DESCRIPTION_MAX,
    ORGANISATION_MAX,
    PEOPLE_MAX,
    PEOPLE_MIN,
    PRIORITY_LABELS,
    STATUS_LABELS,
    TITLE_MAX,
    Priority,
    RequestAudience,
    duration_text,
)
from matching.requests.defaults import typical_timing, uk_phone
from vetting.catalogue import TaskPolicy, TeamRule
from volunteers.skills import SKILLS, SkillFamily

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]
PRIORITY_HINTS = {
    Priority.ROUTINE: "Planned work that can wait if volunteers are short.",
    Priority.PRIORITY: "Filled before routine requests.",
    Priority.URGENT: "Filled first: a risk to someone if nobody goes.",
}
PRIORITY_CHOICES = [SelectChoice(p.value, PRIORITY_LABELS[p]) for p in Priority]
SKILL_CHOICES = [SelectChoice(s.code, s.name) for s in SKILLS if s.family is not SkillFamily.LANGUAGE]
LANGUAGE_CHOICES = [SelectChoice(s.code, s.name) for s in SKILLS if s.family is SkillFamily.LANGUAGE]
DURATIONS = [*range(15, 121, 15), *range(150, 481, 30), *range(540, 721, 60)]
DURATION_CHOICES = [SelectChoice("", "Choose a length")] + [SelectChoice(str(m), duration_text(m)) for m in DURATIONS]


MAX_DAYS_AHEAD = 366
FILTER_YEARS = (2000, 2100)
# A window may run past midnight into the next day (night work: escorts), up to this long. Longer, an end
# earlier than the start is more likely a slip (16:00 to 2pm) than a 22-hour window.
OVERNIGHT_MAX_MINUTES = 12 * 60
OVERNIGHT_REFUSED = (
    "The end time must be after the start time. A window can run past midnight into the next day for up to "
    "12 hours, like 10pm to 2am"
)


def task_type_choices(policies: Iterable[TaskPolicy]) -> list[SelectChoice]:
    """The task types in force (``vetting.policy.current_task_policies``, read by the view) as choices: the
    coordinators add and edit them, so a list made when the app started would be out of date."""
    return [SelectChoice(policy.code, policy.name) for policy in policies]


def team_rule_hint(policy: TaskPolicy) -> str | None:
    """What the task type's team rule asks of the request, in the sergeant's words (None: no rule)."""
    if policy.team_rule is TeamRule.TWO_ADULTS:
        return f"{policy.name} needs two adults: ask for at least 2 volunteers, everyone or nobody."
    if policy.team_rule is TeamRule.WITH_OFFICER:
        return f"{policy.name} needs a supervising officer from your ward team, who will be there."
    if policy.team_rule is TeamRule.TWO_ADULTS_OR_OFFICER:
        return (
            f"{policy.name} needs two adults: choose the supervising officer who will be there, or ask for at "
            "least 2 volunteers, everyone or nobody."
        )
    return None


def _minutes(value: object) -> int | None:
    if value in ("", None):
        return None
    return int(value)  # a tampered value raises ValueError: reported as an invalid choice


class TaskTypeForm(BaseForm):
    """Step 1: the kind of task decides the rest of the form's defaults. The view sets the choices."""

    task_type = ChoiceRadioField(
        "What kind of task is it?",
        widget=GovRadioInput(),
        choices=[],
        invalid_message="Choose a kind of task from the list",
        validators=[Required("Choose what kind of task it is")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RequestForm(BaseForm):
    """Step 2: the request's details. The view sets ``policy`` and the ward and volunteer choices."""

    title = StringField(
        "Title",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="A few words the volunteers will see, like 'Cyber-scam advice visit'.",
        validators=[
            Required("Enter a title"),
            Length(max=TITLE_MAX, message=f"Title must be {TITLE_MAX} characters or fewer"),
        ],
    )
    description = TextAreaField(
        "Short description",
        widget=GovCharacterCount(),
        filters=[strip_nul],
        description="What the volunteers will do and anything they should know. Do not include victims' names, "
        "addresses or other personal details: volunteers read this before they accept.",
        validators=[
            Required("Enter a short description"),
            Length(max=DESCRIPTION_MAX, message=f"Description must be {DESCRIPTION_MAX:,} characters or fewer"),
        ],
    )
    ward = ChoiceRadioField(
        "Ward",
        widget=GovRadioInput(),
        invalid_message="Choose one of your wards",
        validators=[Required("Choose the ward")],
    )
    remote = ChoiceRadioField(
        "Can the volunteer do it remotely?",
        widget=GovRadioInput(),
        choices=[SelectChoice("no", "No, in the ward"), SelectChoice("yes", "Yes, from home or another secure place")],
        invalid_message="Choose yes or no",
        validators=[Optional()],
    )
    date = LondonDateField(
        "Date", what="the date", description="For example, 14 7 2026", validators=[Required("Enter the date")]
    )
    start_time = StringField(
        "From",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="For example, 9:30am or 14:00",
        validators=[Required("Enter the time the window starts")],
    )
    end_time = StringField(
        "Until",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="For example, 5pm or 17:00. A time earlier than the start means the next day: "
        "10pm until 2am ends at 2am the next day.",
        validators=[Required("Enter the time the window ends")],
    )
    duration = ChoiceSelectField(
        "How long will the task take?",
        widget=GovSelect(),
        choices=DURATION_CHOICES,
        coerce=_minutes,
        invalid_message="Choose how long the task will take from the list",
        description="Not counting travel. It must fit inside the window.",
        validators=[Required("Choose how long the task will take")],
    )
    people_needed = WholeNumberField(
        "How many volunteers do you need?",
        widget=GovTextInput(),
        invalid_message="Enter the number of volunteers as a whole number, like 2",
        validators=[
            Required("Enter how many volunteers you need"),
            NumberRange(
                min=PEOPLE_MIN,
                max=PEOPLE_MAX,
                message=f"Enter a number of volunteers between {PEOPLE_MIN} and {PEOPLE_MAX}",
            ),
        ],
    )
    all_or_nothing = ChoiceRadioField(
        "If not everyone can come, should the task go ahead with fewer volunteers?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice("no", "Yes, send as many as can come"),
            SelectChoice("yes", "No, send everyone or nobody"),
        ],
        invalid_message="Choose whether the task can go ahead with fewer volunteers",
        validators=[Required("Choose whether the task can go ahead with fewer volunteers")],
    )
    # Filled with the active members of the sergeant's ward teams by the view (matching.teams).
    supervising_officer = ChoiceSelectField(
        "Supervising officer (optional)",
        widget=GovSelect(),
        choices=[SelectChoice("", "No supervising officer")],
        invalid_message="Choose a supervising officer from your ward team",
        description="A PCSO or ward officer of the request's ward who will be there. Volunteers cleared for this "
        "task only with a supervising officer can then be offered it.",
        validators=[Optional()],
    )
    warranted_only = ChoiceRadioField(
        "Does it need a special constable?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice("no", "No, a police support volunteer can do it"),
            SelectChoice("yes", "Yes, only warranted special constables"),
        ],
        invalid_message="Choose yes or no",
        validators=[Optional()],
    )
    extra_skills = ChoiceCheckboxesField(
        "Extra skills (optional)",
        widget=GovCheckboxesInput(),
        choices=SKILL_CHOICES,
        invalid_message="Choose skills from the list",
        description="Only what this request needs on top of the skills the task type always needs.",
    )
    languages = ChoiceCheckboxesField(
        "Languages (optional)",
        widget=GovCheckboxesInput(),
        choices=LANGUAGE_CHOICES,
        invalid_message="Choose languages from the list",
    )
    organisation = StringField(
        "Organisation involved (optional)",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="A business, school, charity or housing association. Volunteers who have declared a "
        "conflict of interest with it are never offered this request.",
        validators=[
            Optional(),
            Length(max=ORGANISATION_MAX, message=f"Organisation must be {ORGANISATION_MAX} characters or fewer"),
        ],
    )
    # Filled with the partner organisations by the view; a partner chosen here is matched against volunteers'
    # conflicts by id (volunteers/partners), whatever its name is typed as.
    partner = ChoiceSelectField(
        "Partner organisation involved (optional)",
        widget=GovSelect(),
        choices=[SelectChoice("", "None of these")],
        invalid_message="Choose a partner organisation from the list",
        description="If the organisation is one of the force's partners, choose it here.",
        validators=[Optional()],
    )
    contact_phone = StringField(
        "Phone number for the volunteers (optional)",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="Your team's or your work number, like 020 7946 0000. The volunteers offered this request see "
        "it with your name and email, to ask you about it or say they are running late.",
        validators=[
            Optional(),
            Length(max=CONTACT_PHONE_MAX, message="Enter a UK telephone number, like 020 7946 0000"),
        ],
    )
    preferred_volunteer = ChoiceSelectField(
        "Preferred volunteer (optional)",
        widget=GovSelect(),
        choices=[SelectChoice("", "No preference")],
        invalid_message="Choose a volunteer from the list",
        description="Volunteers who have served your wards before. Repeat victims should see the same face.",
        validators=[Optional()],
    )
    audience = ChoiceRadioField(
        "Who should we ask?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(RequestAudience.WARD_PANEL_FIRST.value, "Your ward panel first"),
            SelectChoice(RequestAudience.SPECIALIST_GROUP.value, "A specialist group only"),
        ],
        invalid_message="Choose your ward panel first or a specialist group",
        # Nothing sent is the default, the ward's panel first (the form always sends one; code may not).
        validators=[Optional()],
    )
    # Filled with the specialist groups by the view (volunteers.panels).
    specialist_group = ChoiceSelectField(
        "Specialist group",
        widget=GovSelect(),
        choices=[SelectChoice("", "Choose a group")],
        invalid_message="Choose a specialist group from the list",
        validators=[Optional()],
    )
    priority = ChoiceRadioField(
        "Priority",
        widget=GovRadioInput(),
        choices=PRIORITY_CHOICES,
        invalid_message="Choose routine, priority or urgent",
        validators=[Required("Choose the priority")],
    )
    submit = SubmitField("Raise request", widget=GovSubmitInput())

    # Set by the view: the task type's policy (pure data). Not a query.
    policy: TaskPolicy | None = None
    window: tuple[dt.datetime, dt.datetime] | None = None

    def validate_date(self, field) -> None:
        # Past dates are refused by the service (an edit may keep a window that has begun); this keeps
        # typing slips like 2207 out, and the arithmetic on the date far from its limits.
        if field.data and field.data > london_today() + dt.timedelta(days=MAX_DAYS_AHEAD):
            raise ValidationError("The date must be within a year from today")

    def validate_contact_phone(self, field) -> None:
        if field.data and not field.errors and uk_phone(field.data) is None:
            raise ValidationError("Enter a UK telephone number, like 020 7946 0000 or 07700 900982")

    def set_defaults(self, policy: TaskPolicy, contact_phone: str = "") -> None:
        """Pre-fill a new request (the first time the form is shown): the window and the task's length usual for
        its kind, the staffing from its policy, and the phone number the sergeant gave last time. Never the date."""
        timing = typical_timing(policy.code)
        self.start_time.data = clock_value(timing.start)
        self.end_time.data = clock_value(timing.end)
        self.duration.data = timing.duration_minutes
        self.contact_phone.data = contact_phone
        self.people_needed.data = policy.default_team_size
        self.all_or_nothing.data = "yes" if policy.all_or_nothing else "no"
        self.priority.data = Priority.ROUTINE.value
        self.remote.data = "no"
        self.warranted_only.data = "yes" if policy.warranted_only else "no"
        self.audience.data = RequestAudience.WARD_PANEL_FIRST.value

    def skill_codes(self) -> list[str]:
        return sorted(set(self.extra_skills.data or []) | set(self.languages.data or []))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.policy is not None:
            if self.policy.remote_possible and not self.remote.errors and self.remote.data is None:
                self.remote.errors.append("Choose whether the volunteer can do it remotely")
            elif not self.policy.remote_possible and self.remote.data == "yes":
                self.remote.errors.append(f"{self.policy.name} cannot be done remotely. Choose No")
            if not self.policy.warranted_only and not self.warranted_only.errors and self.warranted_only.data is None:
                self.warranted_only.errors.append("Choose whether it needs a special constable")
        window_ok = self._check_window()
        aimed_at_group = self.audience.data == RequestAudience.SPECIALIST_GROUP.value
        if aimed_at_group and not self.specialist_group.errors and not self.specialist_group.data:
            self.specialist_group.errors.append("Choose the specialist group to ask")
        return (
            valid
            and window_ok
            and not self.remote.errors
            and not self.warranted_only.errors
            and not self.specialist_group.errors
        )

    def _check_window(self) -> bool:
        """Read the times, build the UTC window, and check it: each problem by its field."""
        self.window = None
        times = {}
        for name, what in (("start_time", "start"), ("end_time", "end")):
            field = self[name]
            if field.errors or not field.data:
                continue
            parsed = parse_clock(field.data)
            if parsed is None:
                field.errors.append(f"Enter the {what} time as a time of day, like 9:30am or 14:00")
            elif what == "start" and parsed == (24, 0):
                field.errors.append("Enter a start time before midnight, like 23:30")
            else:
                times[what] = parsed
        if len(times) < 2 or self.date.errors or self.date.data is None:
            return not (self.start_time.errors or self.end_time.errors)
        (start_hour, start_minute), (end_hour, end_minute) = times["start"], times["end"]
        overnight = times["end"] not in ((0, 0), (24, 0)) and times["end"] <= times["start"]
        if overnight and (end_hour - start_hour) * 60 + end_minute - start_minute + 24 * 60 > OVERNIGHT_MAX_MINUTES:
            self.end_time.errors.append(OVERNIGHT_REFUSED)
            return False
        try:
            start, end = window_from_local(self.date.data, times["start"], (24, 0) if overnight else times["end"])
            if overnight:  # ends the next day, on that day's clock (the spring gap is checked there)
                next_day = self.date.data + dt.timedelta(days=1)
                try:
                    end = london_to_utc(next_day, dt.time(end_hour, end_minute))
                except NonexistentLocalTime as exc:
                    exc.which = "end"  # type: ignore[attr-defined]
                    raise
        except NonexistentLocalTime as exc:
            self[f"{exc.which}_time"].errors.append(str(exc))  # type: ignore[attr-defined]
            return False
        if end <= start:
            self.end_time.errors.append(OVERNIGHT_REFUSED)
            return False
        self.window = (start, end)
        length = int((end - start).total_seconds() // 60)
        if self.duration.data is not None and not self.duration.errors and self.duration.data > length:
            self.duration.errors.append(
                f"The task ({duration_text(self.duration.data)}) must fit inside the window "
                f"({duration_text(length)}): make the window longer or the task shorter"
            )
            return False
        return True


class EditRequestForm(RequestForm):
    """The same details, with the version the sergeant saw, so a save over a newer change is refused."""

    version = HiddenField()
    # "withdraw" once the sergeant has read what a bigger change does to the offers and saves anyway (the
    # button that says so; never rendered as a field).
    confirm = HiddenField()
    submit = SubmitField("Save changes", widget=GovSubmitInput())

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class CancelForm(BaseForm):
    reason = TextAreaField(
        "Why are you cancelling this request?",
        widget=GovCharacterCount(),
        filters=[strip_nul],
        description="For example, 'The victim no longer wants a visit'. The volunteers offered or booked will read "
        "this reason, so do not include personal details.",
        validators=[
            Required("Enter why you are cancelling the request"),
            Length(max=CANCEL_REASON_MAX, message=f"The reason must be {CANCEL_REASON_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Cancel request", widget=GovSubmitInput())


class RequestFilterForm(BaseForm):
    """The GET form above the list. A filter with a bad value is reported and left out."""

    class Meta:
        csrf = False

    status = FilterSelectField(
        "Status",
        "Any status",
        "Choose a status from the list",
        [SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()],
    )
    ward = FilterSelectField("Ward", "All your wards", "Choose one of your wards")
    bcu = FilterSelectField("BCU", "Any BCU", "Choose a BCU from the list")
    borough = FilterSelectField("Borough", "Any borough", "Choose a borough from the list")
    # The view sets the options to the task types in force (task_type_choices).
    task_type = FilterSelectField("Task type", "Any task type", "Choose a task type from the list")
    date_from = LondonDateField(
        "From", what="the 'from' date", description="For example, 1 7 2026", validators=[Optional()]
    )
    date_to = LondonDateField("To", what="the 'to' date", validators=[Optional()])

    def validate_date_from(self, field) -> None:
        if field.data and not FILTER_YEARS[0] <= field.data.year <= FILTER_YEARS[1]:
            raise ValidationError(f"The 'from' date must be between {FILTER_YEARS[0]} and {FILTER_YEARS[1]}")

    def validate_date_to(self, field) -> None:
        if field.data and not FILTER_YEARS[0] <= field.data.year <= FILTER_YEARS[1]:
            raise ValidationError(f"The 'to' date must be between {FILTER_YEARS[0]} and {FILTER_YEARS[1]}")
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError("The 'to' date must be the same as or after the 'from' date")

    def selected(self, name: str) -> str | None:
        field = self[name]
        return field.data if field.data and not field.errors else None

    def selected_id(self, name: str) -> int | None:
        value = self.selected(name)
        return int(value) if value else None

    def selected_date(self, name: str) -> dt.date | None:
        if self.date_from.errors or self.date_to.errors:
            return None
        return self[name].data
