"""The API token pages' forms. Shape only: whether the expiry is within a year, and the scopes known, are the
service's to say (``matching.api.tokens.issue``)."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import Length

from core.forms import BaseForm, ChoiceCheckboxesField, GovCheckboxesInput, GovSubmitInput, LondonDateField, Required
from matching.api.models import NAME_MAX
from matching.api.tokens import SCOPES


class NewTokenForm(BaseForm):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        description="What the token is for, so you can tell it from others: for example, ‘Duty system, Central West’.",
        validators=[
            Required("Enter a name for the token"),
            Length(max=NAME_MAX, message=f"The name must be {NAME_MAX} characters or fewer"),
        ],
    )
    scopes = ChoiceCheckboxesField(
        "What may it read?",
        widget=GovCheckboxesInput(),
        description="Select all that apply. Give a system only what it needs.",
        choices=[SelectChoice(code, f"{text} ({code})") for code, text in SCOPES.items()],
        invalid_message="Choose what the token may read from the list",
        validators=[Required("Choose what the token may read")],
    )
    expires_on = LondonDateField(
        "When does it expire?",
        what="the expiry date",
        description="It works until the end of this day. At most a year from today. For example, 27 3 2027",
        validators=[Required("Enter the date the token expires")],
    )
    submit = SubmitField("Create the token", widget=GovSubmitInput())


class RevokeForm(BaseForm):
    submit = SubmitField("Revoke the token", widget=GovSubmitInput())
