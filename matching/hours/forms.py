"""Duty hours forms, and the coordinators' BCU filter. Shape only: whether the hours fit the day, and whose
hours an approver may decide, are the services' to check."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length

from core.forms import (
    BaseForm,
    ChoiceRadioField,
    FilterSelectField,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
    LondonDateField,
    Required,
    parse_clock,
)
from matching.hours.models import DUTY_KIND_LABELS, NOTE_MAX, REASON_MAX
from matching.hours.rules import parse_hours

KIND_CHOICES = [SelectChoice(kind.value, label) for kind, label in DUTY_KIND_LABELS.items()]
HOURS_FORMAT = "Enter the number of hours like 4, 4.5 or 4:30"


class DutyForm(BaseForm):
    """A stretch of duty: when, what, and how long (clock times, or a number of hours)."""

    on_date = LondonDateField(
        "Date the duty started",
        what="the date",
        description="For example, 27 3 2026. A night patrol is logged on the date it started.",
        validators=[Required("Enter the date of the duty")],
    )
    kind = ChoiceRadioField(
        "Kind of duty",
        widget=GovRadioInput(),
        choices=KIND_CHOICES,
        invalid_message="Choose the kind of duty from the list",
        validators=[Required("Choose the kind of duty")],
    )
    start_time = StringField(
        "Started at (optional if you give the hours)",
        widget=GovTextInput(),
        description="For example, 6pm or 18:00",
        validators=[Length(max=20, message="Enter the start time like 6pm or 18:00")],
    )
    end_time = StringField(
        "Ended at",
        widget=GovTextInput(),
        description="A time earlier than the start means the next day: 10pm until 3am ends at 3am the next day.",
        validators=[Length(max=20, message="Enter the end time like 2am or 02:00")],
    )
    hours = StringField(
        "Or the number of hours",
        widget=GovTextInput(),
        description="If you do not have the times. For example, 4.5 or 4:30",
        validators=[Length(max=20, message=HOURS_FORMAT)],
    )
    note = TextAreaField(
        "Note for the approver (optional)",
        widget=GovCharacterCount(),
        description="For example, the event or the shift, and who you were with. The sergeant or coordinator "
        "who approves your hours reads this.",
        validators=[Length(max=NOTE_MAX, message=f"The note must be {NOTE_MAX} characters or fewer")],
    )
    submit = SubmitField("Send for approval", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for name, what in (("start_time", "start"), ("end_time", "end")):
            field = self[name]
            if field.errors or not (field.data or "").strip():
                continue
            if parse_clock(field.data) is None:
                field.errors.append(f"Enter the {what} time as a time of day, like 6pm or 18:00")
                valid = False
        if not self.hours.errors and (self.hours.data or "").strip() and parse_hours(self.hours.data) is None:
            self.hours.errors.append(HOURS_FORMAT)
            valid = False
        return valid

    def clock(self, name: str) -> tuple[int, int] | None:
        text = (self[name].data or "").strip()
        return parse_clock(text) if text else None

    def minutes(self) -> int | None:
        text = (self.hours.data or "").strip()
        return parse_hours(text) if text else None


class ApproveForm(BaseForm):
    """Approve an entry: just the CSRF token (the button says what)."""

    submit = SubmitField("Approve", widget=GovSubmitInput())


class RejectForm(BaseForm):
    reason = TextAreaField(
        "Why are these hours not approved?",
        widget=GovCharacterCount(),
        description="The special constable sees this, so say what they need to correct, for example 'The "
        "duty sheet shows 6pm to 10pm, not midnight'.",
        validators=[
            Required("Enter the reason, so the special knows what to correct"),
            Length(max=REASON_MAX, message=f"The reason must be {REASON_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Reject these hours", widget=GovSubmitInput())


class BcuFilterForm(BaseForm):
    """The coordinators' table's filter (a GET form). The view sets the BCUs."""

    class Meta:
        csrf = False

    bcu = FilterSelectField("BCU", "All BCUs", "Choose a BCU from the list")
