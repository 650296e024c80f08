"""Coordinators' forms over volunteers. Shape only: lookups and uniqueness are checked in services."""

from __future__ import annotations

from flask_wtf.file import FileAllowed, FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovFileInput
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, Regexp, ValidationError

from core.forms import (
    BaseForm,
    ChoiceRadioField,
    FilterSelectField,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
    Required,
    WholeNumberField,
    strip_nul,
)
from volunteers.directory import csv_io
from volunteers.forms import VersionedForm
from volunteers.models import VolunteerKind, VolunteerStatus
from volunteers.skills import SKILLS, PatrolStatus, SkillFamily

DEFAULT_IMPORT_MAX_BYTES = 20 * 1024 * 1024
EXPIRY_WINDOWS = (30, 90, 180)
STATUS_REASON_MAX = 500

STATUS_LABELS = {
    VolunteerStatus.APPLIED: "Applied (with vetting)",
    VolunteerStatus.ACTIVE: "Active",
    VolunteerStatus.PAUSED: "Paused",
    VolunteerStatus.LEFT: "Left",
    VolunteerStatus.NOT_ACCEPTED: "Application not accepted",
}
KIND_LABELS = {VolunteerKind.SPECIAL: "Special constable", VolunteerKind.PSV: "Police support volunteer"}
FAMILY_LABELS = {
    SkillFamily.CYBER: "Cyber",
    SkillFamily.HEALTH: "Health",
    SkillFamily.YOUTH: "Youth",
    SkillFamily.LANGUAGE: "Languages",
    SkillFamily.OTHER: "Other",
}


def _size(n_bytes: int) -> str:
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):g} MB"
    if n_bytes >= 1024:
        return f"{n_bytes // 1024} KB"
    return f"{n_bytes} bytes"


class DirectoryFilterForm(BaseForm):
    """The GET form above the directory. A filter with a bad value is reported and left out."""

    class Meta:
        csrf = False

    q = StringField(
        "Name or email address contains",
        widget=GovTextInput(),
        filters=[strip_nul],
        validators=[Optional(), Length(max=120, message="Search text must be 120 characters or fewer")],
    )
    skill = FilterSelectField(
        "Skill", "Any skill", "Choose a skill from the list", [SelectChoice(s.code, s.name) for s in SKILLS]
    )
    family = FilterSelectField(
        "Skill family",
        "Any family",
        "Choose a skill family from the list",
        [SelectChoice(f.value, label) for f, label in FAMILY_LABELS.items()],
    )
    bcu = FilterSelectField("BCU", "Any BCU", "Choose a BCU from the list")
    borough = FilterSelectField("Borough", "Any borough", "Choose a borough from the list")
    ward = FilterSelectField("Home ward", "Any ward", "Choose a borough first, then a home ward in it")
    status = FilterSelectField(
        "Status",
        "Any status",
        "Choose a status from the list",
        [SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()],
    )
    kind = FilterSelectField(
        "Kind",
        "Specials and PSVs",
        "Choose special constable or police support volunteer",
        [SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
    )
    expiring_within = FilterSelectField(
        "Clearance expiring within",
        "Any time",
        "Choose 30, 90 or 180 days",
        [SelectChoice(str(days), f"{days} days") for days in EXPIRY_WINDOWS],
    )

    def selected_id(self, name: str) -> int | None:
        """The chosen id of a place filter, or None if none was chosen or the value was refused."""
        field = self[name]
        return int(field.data) if field.data and not field.errors else None

    def selected(self, name: str) -> str | None:
        field = self[name]
        return field.data if field.data and not field.errors else None


class RejectEvidenceForm(BaseForm):
    reason = TextAreaField(
        "Why is the evidence rejected?",
        widget=GovCharacterCount(),
        filters=[strip_nul],
        description="The volunteer will see this, so say what they need to put right, for example "
        "'Registration number not found on the NMC register'.",
        validators=[
            Required("Enter why the evidence is rejected"),
            Length(max=300, message="The reason must be 300 characters or fewer"),
        ],
    )
    submit = SubmitField("Reject evidence", widget=GovSubmitInput())


class SpecialDetailsForm(VersionedForm):
    warrant_number = StringField(
        "Warrant number",
        widget=GovTextInput(),
        description="Leave blank until the special constable is attested.",
        validators=[
            Optional(),
            Length(max=20, message="Warrant number must be 20 characters or fewer"),
            Regexp(r"^[A-Za-z0-9]+$", message="Warrant number must be letters and digits only, like SC12345"),
        ],
    )
    patrol_status = RadioField(
        "Patrol status",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(PatrolStatus.ACCOMPANIED.value, "Accompanied patrol"),
            SelectChoice(PatrolStatus.DIRECTED.value, "Directed patrol (independent, supervised and tasked)"),
            SelectChoice(PatrolStatus.QUALIFIED.value, "Qualified (fully independent)"),
        ],
        validators=[Required("Choose a patrol status")],
    )
    monthly_commitment_hours = WholeNumberField(
        "Monthly commitment, in hours",
        widget=GovTextInput(),
        invalid_message="Enter the monthly commitment as a whole number of hours, like 16",
        description="Force policy is at least 16 hours a month.",
        validators=[
            Required("Enter the monthly commitment in hours"),
            NumberRange(min=1, max=200, message="Enter a number of hours between 1 and 200"),
        ],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


# Each status a coordinator may set, its label and what choosing it does (shown as the radio's hint).
STATUS_CHOICE_LABELS = (
    (VolunteerStatus.ACTIVE, "Active"),
    (VolunteerStatus.PAUSED, "Paused"),
    (VolunteerStatus.LEFT, "Left"),
)
STATUS_HINTS = {
    VolunteerStatus.ACTIVE: "Matched to requests again.",
    VolunteerStatus.PAUSED: "Not matched until made active again. Offers and bookings they can no longer take "
    "are withdrawn now, and the sergeants told.",
    VolunteerStatus.LEFT: "Final: their offers and bookings are withdrawn and their clearances end as no longer "
    "needed. If they come back, they apply again.",
}


class StatusForm(VersionedForm):
    """A coordinator records that a volunteer is active again, paused, or has left."""

    status = ChoiceRadioField(
        "What is this volunteer's status now?",
        choices=[SelectChoice(status.value, label) for status, label in STATUS_CHOICE_LABELS],
        widget=GovRadioInput(),
        validators=[Required("Choose the volunteer's status")],
        invalid_message="Choose the volunteer's status",
    )
    reason = TextAreaField(
        "Why?",
        widget=GovCharacterCount(),
        filters=[strip_nul],
        description="For example, 'Asked to pause while studying'. Do not include vetting or health details.",
        validators=[
            Required("Enter why the status is changing"),
            Length(max=STATUS_REASON_MAX, message=f"The reason must be {STATUS_REASON_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Save status", widget=GovSubmitInput())


class ImportForm(BaseForm):
    file = FileField(
        "CSV file",
        widget=GovFileInput(),
        validators=[
            FileRequired("Choose a CSV file to import"),
            FileAllowed(["csv"], "The selected file must be a CSV file (ending .csv)"),
        ],
    )
    submit = SubmitField("Import volunteers", widget=GovSubmitInput())

    max_bytes = DEFAULT_IMPORT_MAX_BYTES  # the view sets it from the configuration
    text = ""  # the file's text, once it has passed validation

    def validate_file(self, field) -> None:
        stream = field.data.stream
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        if size == 0:
            raise ValidationError("The selected file is empty")
        if size > self.max_bytes:
            raise ValidationError(f"The selected file must be smaller than {_size(self.max_bytes)}")
        try:
            self.text = csv_io.decode(stream.read())
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
