"""Forms after a deployment. Shape only: whose booking it is, whether it has ended and whether it was already
recorded are the services' to check."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from core.forms import BaseForm, ChoiceRadioField, GovRadioInput, GovSubmitInput, GovTextInput, Required
from matching.deployments.hours import parse_minutes
from matching.deployments.models import NOTE_MAX, SERVED_MINUTES_MAX

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]
HOURS_HINT = "For example, 2.5 or 2h 30m"


class HoursField(StringField):
    """Hours and minutes as a person types them ("2.5", "2h 30m", "2:30"); ``minutes`` holds what it says.

    The text is kept as typed, so a refused value is shown again to be corrected."""

    def __init__(self, label=None, validators=None, what: str = "the hours served", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.what = what
        self.minutes: int | None = None

    def pre_validate(self, form) -> None:
        self.minutes = None
        text = (self.data or "").strip()
        if not text:
            return  # Required (or the form's own rule) says what is missing
        minutes = parse_minutes(text)
        if minutes is None:
            raise ValidationError(f"Enter {self.what} as a number of hours, like 2.5 or 2h 30m")
        if minutes > SERVED_MINUTES_MAX:
            raise ValidationError(f"{self.what[0].upper()}{self.what[1:]} must be 24 hours or fewer")
        self.minutes = minutes


def _note(label: str) -> TextAreaField:
    return TextAreaField(
        label,
        widget=GovCharacterCount(),
        validators=[Length(max=NOTE_MAX, message=f"The note must be {NOTE_MAX:,} characters or fewer")],
    )


class ConfirmForm(BaseForm):
    """The sergeant's record of what happened, with the optional feedback for the coordinators."""

    attended = ChoiceRadioField(
        "Did the volunteer attend?",
        widget=GovRadioInput(),
        choices=[SelectChoice("yes", "Attended"), SelectChoice("no", "Did not attend")],
        invalid_message="Choose whether the volunteer attended",
        validators=[Required("Choose whether the volunteer attended")],
    )
    served = HoursField("Hours served", widget=GovTextInput(), what="the hours served")
    notice = ChoiceRadioField(
        "If they did not attend, did they let the team know beforehand?",
        widget=GovRadioInput(),
        choices=[SelectChoice("yes", "Yes, they gave notice"), SelectChoice("no", "No, they gave no notice")],
        invalid_message="Choose whether they let the team know",
        validators=[Optional()],
    )
    helpful = ChoiceRadioField(
        "Was the volunteer helpful?",
        widget=GovRadioInput(),
        choices=YES_NO,
        invalid_message="Choose yes or no",
        validators=[Optional()],
    )
    would_ask_again = ChoiceRadioField(
        "Would you ask them again?",
        widget=GovRadioInput(),
        choices=YES_NO,
        invalid_message="Choose yes or no",
        validators=[Optional()],
    )
    coordinator_note = _note("A note for the coordinator (optional)")
    submit = SubmitField("Save", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.attended.data == "yes" and not self.served.errors and self.served.minutes is None:
            self.served.errors = [*self.served.errors, "Enter the hours served, like 2.5 or 2h 30m"]
            valid = False
        if self.attended.data == "no" and not self.notice.errors and self.notice.data not in ("yes", "no"):
            self.notice.errors = [*self.notice.errors, "Choose whether they let the team know they could not come"]
            valid = False
        return valid


class LogHoursForm(BaseForm):
    """The volunteer's own log of the hours they served."""

    hours = HoursField(
        "Hours served",
        widget=GovTextInput(),
        what="your hours",
        validators=[Required("Enter the hours you served, like 2.5 or 2h 30m")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class DebriefForm(BaseForm):
    """How it went, and the welfare questions."""

    note = _note("How did it go? (optional)")
    affected = ChoiceRadioField(
        "Has this affected you?",
        widget=GovRadioInput(),
        choices=YES_NO,
        invalid_message="Choose yes or no",
        validators=[Required("Choose whether this has affected you")],
    )
    contact_wanted = ChoiceRadioField(
        "Would you like someone to contact you?",
        widget=GovRadioInput(),
        choices=YES_NO,
        invalid_message="Choose yes or no",
        validators=[Required("Choose whether you would like someone to contact you")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class ContactedForm(BaseForm):
    """A coordinator marks a welfare request as done (a button: no fields)."""

    submit = SubmitField("Mark as contacted", widget=GovSubmitInput())
