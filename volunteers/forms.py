"""Volunteer forms. Shape only: uniqueness, ownership and eligibility are checked in services."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovTextArea
from wtforms import (
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields import SelectChoice
from wtforms.validators import Email, Length, NumberRange, Optional, Regexp, StopValidation

from core.forms import (
    BaseForm,
    ChoiceSelectField,
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
    LondonDateField,
    Required,
    WholeNumberField,
)
from core.timeutil import format_date, london_today
from volunteers.models import (
    LEAVE_REASON_MAX,
    PAUSE_REASON_MAX,
    BlockReason,
    CircumstanceCategory,
    ConflictCategory,
    OccupationCategory,
    VolunteerKind,
    WorkAdjustment,
)
from volunteers.phone import InvalidPhone, uk_phone
from volunteers.skills import SkillLevel


def _uk_phone(form, field) -> None:
    """A UK number the team can ring (volunteers.phone); the service keeps it in the national format."""
    if field.data:
        try:
            uk_phone(field.data)
        except InvalidPhone as exc:
            raise ValidationError(str(exc)) from None


KIND_CHOICES = [
    SelectChoice(VolunteerKind.SPECIAL.value, "Special constable (a warranted, volunteer police officer)"),
    SelectChoice(VolunteerKind.PSV.value, "Police support volunteer (not warranted)"),
]


class RegistrationForm(BaseForm):
    full_name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[
            Required("Enter your full name"),
            Length(max=120, message="Full name must be 120 characters or fewer"),
        ],
    )
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            Required("Enter your email address"),
            Email(
                message="Enter an email address in the correct format, like name@example.org",
                check_deliverability=False,
            ),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )
    phone = StringField(
        "UK telephone number", widget=GovTextInput(), validators=[Required("Enter a telephone number"), _uk_phone]
    )
    kind = RadioField(
        "How do you want to volunteer?",
        widget=GovRadioInput(),
        choices=KIND_CHOICES,
        validators=[Required("Choose how you want to volunteer")],
    )
    password = PasswordField(
        "Create a password",
        widget=GovPasswordInput(),
        description="At least 12 characters. Three unrelated words work well.",
        validators=[Required("Create a password")],
    )
    submit = SubmitField("Apply", widget=GovSubmitInput())


class VersionedForm(BaseForm):
    """Carries the record's version, so a save over someone else's newer change is refused."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class ContactForm(VersionedForm):
    phone = StringField(
        "UK telephone number", widget=GovTextInput(), validators=[Required("Enter a telephone number"), _uk_phone]
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class BoroughForm(BaseForm):
    """GET form: which borough's wards to show."""

    class Meta:
        csrf = False

    borough = SelectField("Borough", widget=GovSelect(), coerce=int)
    show = SubmitField("Show wards", widget=GovSubmitInput())


class HomeWardForm(VersionedForm):
    ward = RadioField("Home ward", widget=GovRadioInput(), coerce=int, validators=[Required("Choose your home ward")])
    submit = SubmitField("Save home ward", widget=GovSubmitInput())


class TravelForm(VersionedForm):
    travel_limit_km = WholeNumberField(
        "How far will you travel from your home ward, in kilometres?",
        widget=GovTextInput(),
        invalid_message="Enter the distance as a whole number of kilometres, like 5",
        description="Straight-line distance. 5 km is about 30 minutes on public transport in inner London.",
        validators=[
            Required("Enter how far you will travel"),
            NumberRange(min=0, max=200, message="Enter a distance between 0 and 200 km"),
        ],
    )
    weekly_hours_cap = WholeNumberField(
        "Most hours a week you can give",
        widget=GovTextInput(),
        invalid_message="Enter the hours as a whole number, like 8",
        description="Including travel. We will never offer you more than this in a week.",
        validators=[
            Required("Enter the most hours a week you can give"),
            NumberRange(min=1, max=70, message="Enter a number of hours between 1 and 70"),
        ],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class WorkForm(VersionedForm):
    occupation = StringField(
        "Job title",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=120, message="Job title must be 120 characters or fewer")],
    )
    employer = StringField(
        "Employer",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=120, message="Employer must be 120 characters or fewer")],
    )
    occupation_category = RadioField(
        "Does your work fall into any of these?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(
                OccupationCategory.PRIVATE_SECURITY_CYBER.value, "Private security or cyber-security consultancy"
            ),
            SelectChoice(OccupationCategory.PRIVATE_INVESTIGATION.value, "Private investigation"),
            SelectChoice(OccupationCategory.NHS_AMBULANCE.value, "Health: NHS, ambulance or other medical work"),
            SelectChoice(OccupationCategory.YOUTH_SERVICES.value, "Youth services"),
            SelectChoice(OccupationCategory.OTHER.value, "None of these"),
        ],
        validators=[Required("Choose whether your work falls into any of these")],
    )
    adjustment = RadioField(
        "Can you do street duty?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(WorkAdjustment.NONE.value, "Yes"),
            SelectChoice(WorkAdjustment.DESK_ONLY.value, "No, desk-based work only"),
            SelectChoice(WorkAdjustment.REMOTE_ONLY.value, "No, remote work only"),
        ],
        validators=[Required("Choose whether you can do street duty")],
    )
    military_reservist = RadioField(
        "Are you a military reservist?",
        widget=GovRadioInput(),
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        validators=[Required("Choose yes or no")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class PreferencesForm(VersionedForm):
    task_types = SelectMultipleField(
        "Which kinds of task would you like to be offered?",
        widget=GovCheckboxesInput(),
        description="Select all that apply.",
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


LEVEL_CHOICES = [
    SelectChoice(SkillLevel.AWARE.value, "Aware"),
    SelectChoice(SkillLevel.PRACTITIONER.value, "Practitioner"),
    SelectChoice(SkillLevel.EXPERT.value, "Expert"),
]


class SkillForm(BaseForm):
    skill = SelectField("Skill", widget=GovSelect(), validators=[Required("Choose a skill")])
    level = RadioField(
        "Your level", widget=GovRadioInput(), choices=LEVEL_CHOICES, validators=[Required("Choose your level")]
    )
    registration_number = StringField(
        "Professional registration number",
        widget=GovTextInput(),
        description="Only for registered professions (nurse, paramedic, doctor, youth worker): we check it "
        "against the register.",
        validators=[
            Optional(),
            Length(max=40, message="Registration number must be 40 characters or fewer"),
            Regexp(
                r"^[A-Za-z0-9 /-]+$",
                message="Registration number can only contain letters, numbers, spaces, hyphens and slashes",
            ),
        ],
    )
    evidence_expires_on = LondonDateField(
        "Registration renewal date",
        what="the renewal date",
        description="For example, 31 3 2027",
        validators=[Optional()],
    )
    submit = SubmitField("Add skill", widget=GovSubmitInput())


class SkillLevelForm(BaseForm):
    level = RadioField(
        "Your level", widget=GovRadioInput(), choices=LEVEL_CHOICES, validators=[Required("Choose your level")]
    )
    submit = SubmitField("Save level", widget=GovSubmitInput())


def _minutes(value: object) -> int | None:
    """Coerce a select's value to a whole number (minutes or weekday); empty means not chosen."""
    if value in ("", None):
        return None
    return int(value)  # a tampered value raises ValueError, which WTForms reports as an invalid choice


WEEKDAY_CHOICES = [
    SelectChoice(str(i), day)
    for i, day in enumerate(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
]
TIME_CHOICES = [SelectChoice(str(m), f"{m // 60:02d}:{m % 60:02d}") for m in range(0, 24 * 60 + 1, 30)]


class WeeklySlotForm(BaseForm):
    # Each select starts on "Choose…": a first option that is a real value (Monday, midnight) would be
    # saved by a press of "Add time" with nothing chosen.
    weekday = SelectField(
        "Day",
        widget=GovSelect(),
        choices=[SelectChoice("", "Choose a day"), *WEEKDAY_CHOICES],
        coerce=_minutes,
        validators=[Required("Choose a day")],
    )
    start = SelectField(
        "From",
        widget=GovSelect(),
        choices=[SelectChoice("", "Choose a time"), *TIME_CHOICES[:-1]],
        coerce=_minutes,
        validators=[Required("Choose a start time")],
    )
    end = SelectField(
        "Until",
        widget=GovSelect(),
        choices=[SelectChoice("", "Choose a time"), *TIME_CHOICES[1:]],
        coerce=_minutes,
        validators=[Required("Choose an end time")],
    )
    submit = SubmitField("Add time", widget=GovSubmitInput())

    def validate_end(self, field) -> None:
        if self.start.data is not None and field.data is not None and field.data <= self.start.data:
            raise ValidationError("End time must be after the start time")


class DateExceptionForm(BaseForm):
    on_date = LondonDateField("Date", what="the date", validators=[Required("Enter the date")])
    available = RadioField(
        "On this date",
        widget=GovRadioInput(),
        choices=[SelectChoice("no", "I am not available"), SelectChoice("yes", "I am available at these times")],
        validators=[Required("Choose whether you are available")],
    )
    start = SelectField(
        "From",
        widget=GovSelect(),
        coerce=_minutes,
        description="Only if you are available that day.",
        choices=[SelectChoice("", "Not needed"), *TIME_CHOICES[:-1]],
    )
    end = SelectField(
        "Until",
        widget=GovSelect(),
        coerce=_minutes,
        description="Only if you are available that day.",
        choices=[SelectChoice("", "Not needed"), *TIME_CHOICES[1:]],
    )
    submit = SubmitField("Add date", widget=GovSubmitInput())

    def validate_start(self, field) -> None:
        # Times with "not available" were dropped without a word; say so instead (the times stay as chosen).
        if self.available.data == "no" and (field.data is not None or self.end.data is not None):
            raise ValidationError(
                "You said you are not available on this date: set the times to ‘Not needed’, "
                "or choose ‘I am available at these times’"
            )

    def validate_end(self, field) -> None:
        if self.available.data == "yes":
            if self.start.data is None or field.data is None:
                raise ValidationError("Choose the times you are available")
            if field.data <= self.start.data:
                raise ValidationError("End time must be after the start time")


class BlockedPeriodForm(BaseForm):
    first_day = LondonDateField("First day", what="the first day", validators=[Required("Enter the first day")])
    last_day = LondonDateField("Last day", what="the last day", validators=[Required("Enter the last day")])
    reason = RadioField(
        "Why",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(BlockReason.HOLIDAY.value, "Holiday or away"),
            SelectChoice(BlockReason.MOBILISATION.value, "Military mobilisation"),
            SelectChoice(BlockReason.OTHER.value, "Something else"),
        ],
        validators=[Required("Choose why")],
    )
    submit = SubmitField("Add dates", widget=GovSubmitInput())

    def validate_last_day(self, field) -> None:
        if self.first_day.data and field.data and field.data < self.first_day.data:
            raise ValidationError("The last day must be the same as or after the first day")


class ConflictForm(BaseForm):
    category = RadioField(
        "What kind of connection is it?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(ConflictCategory.EMPLOYER.value, "My employer"),
            SelectChoice(ConflictCategory.CLIENT.value, "A client of mine or my employer's"),
            SelectChoice(ConflictCategory.BUSINESS.value, "A business I own or have an interest in"),
            SelectChoice(ConflictCategory.SCHOOL.value, "A school I or my family are connected to"),
            SelectChoice(ConflictCategory.PERSONAL.value, "A personal connection (family, friend, neighbour)"),
            SelectChoice(ConflictCategory.PLACE.value, "A place (an estate, venue or street)"),
        ],
        validators=[Required("Choose what kind of connection it is")],
    )
    # Filled with the partner organisations by the view. One chosen here is matched by id, so requests naming
    # it are never offered whatever its name is typed as; the service asks for a name or a partner.
    partner = ChoiceSelectField(
        "Is it one of the force's partner organisations?",
        widget=GovSelect(),
        choices=[SelectChoice("", "No, none of these")],
        invalid_message="Choose a partner organisation from the list",
        validators=[Optional()],
    )
    organisation = StringField(
        "Name of the organisation, person or place",
        widget=GovTextInput(),
        description="Not needed if you chose a partner organisation.",
        validators=[Length(max=160, message="Name must be 160 characters or fewer")],
    )
    ward = SelectField("Ward, if it is in one (optional)", widget=GovSelect(), coerce=int, validate_choice=True)
    submit = SubmitField("Declare", widget=GovSubmitInput())

    def validate_organisation(self, field) -> None:
        # A name, or a partner chosen above: said with the other missing answers, not after them.
        if not (field.data or "").strip() and not self.partner.data:
            raise ValidationError("Enter the name of the organisation, person or place")


class CircumstancesForm(BaseForm):
    category = RadioField(
        "What has changed?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(CircumstanceCategory.NEW_JOB.value, "New job or employer"),
            SelectChoice(CircumstanceCategory.NEW_ADDRESS.value, "New address"),
            SelectChoice(CircumstanceCategory.NEW_PARTNER.value, "New partner or someone new living with me"),
            SelectChoice(
                CircumstanceCategory.CRIMINAL_INVOLVEMENT.value,
                "Arrest, charge, caution, conviction or police investigation",
            ),
            SelectChoice(CircumstanceCategory.FINANCIAL.value, "Money trouble, such as a CCJ or bankruptcy"),
            SelectChoice(CircumstanceCategory.OTHER.value, "Something else"),
        ],
        validators=[Required("Choose what has changed")],
    )
    occurred_on = LondonDateField(
        "When did it happen?",
        what="the date it happened",
        description="For example, 27 3 2026",
        validators=[Required("Enter when it happened")],
    )
    details = TextAreaField(
        "Tell us what has changed",
        widget=GovTextArea(),
        description=("Only the vetting team sees this. Give names and dates where they matter."),
        validators=[
            Required("Tell us what has changed"),
            Length(max=2000, message="Details must be 2,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Report the change", widget=GovSubmitInput())

    # A change to report is a recent one; a date decades back is a slip (issue 19), and anything that old is
    # for a conversation with the vetting team. Checked here, with the other boxes, so all problems show at once.
    REPORT_YEARS_BACK = 10

    def validate_occurred_on(self, field) -> None:
        today = london_today()
        if field.data is None:
            return
        if field.data > today:
            raise StopValidation("The date must be today or in the past")
        try:
            earliest = today.replace(year=today.year - self.REPORT_YEARS_BACK)
        except ValueError:  # 29 February: the year back has none
            earliest = today.replace(year=today.year - self.REPORT_YEARS_BACK, day=28)
        if field.data < earliest:
            raise StopValidation(
                f"The date it happened must be in the last {self.REPORT_YEARS_BACK} years, on or after "
                f"{format_date(earliest)}: for anything earlier, tell the vetting team"
            )


class PauseForm(BaseForm):
    """The volunteer pauses their volunteering: from a day, to a day or until they resume, and why if they like."""

    first_day = LondonDateField(
        "First day of your pause",
        what="the first day",
        description="For example, 27 3 2027",
        validators=[Required("Enter the first day of your pause")],
    )
    last_day = LondonDateField(
        "Last day of your pause (optional)",
        what="the last day",
        description="Leave this empty to pause until you resume.",
        validators=[Optional()],
    )
    reason = TextAreaField(
        "Why are you pausing? (optional)",
        widget=GovCharacterCount(),
        description="The volunteering coordinators can read this; sergeants cannot. Do not include health details.",
        validators=[Optional(), Length(max=PAUSE_REASON_MAX, message=f"Enter {PAUSE_REASON_MAX} characters or fewer")],
    )
    submit = SubmitField("Pause my volunteering", widget=GovSubmitInput())

    def validate_last_day(self, field) -> None:
        if self.first_day.data and field.data and field.data < self.first_day.data:
            raise ValidationError("The last day must be the same as or after the first day")


class ResumeForm(BaseForm):
    """End one's pause now: just the CSRF token."""


class LeaveForm(BaseForm):
    """The volunteer leaves: why, if they like, then a confirmation."""

    reason = TextAreaField(
        "Why are you leaving? (optional)",
        widget=GovCharacterCount(),
        description="The volunteering coordinators can read this. It helps them look after other volunteers.",
        validators=[Optional(), Length(max=LEAVE_REASON_MAX, message=f"Enter {LEAVE_REASON_MAX} characters or fewer")],
    )
    submit = SubmitField("Leave volunteering", widget=GovSubmitInput())
