"""The notification preference form: shape only."""

from __future__ import annotations

from wtforms import SubmitField
from wtforms.fields import SelectChoice

from core.forms import BaseForm, ChoiceRadioField, GovRadioInput, GovSubmitInput, Required

AS_THEY_HAPPEN = "immediate"
DAILY = "daily"


class PreferenceForm(BaseForm):
    how = ChoiceRadioField(
        "How would you like to hear about your requests?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(AS_THEY_HAPPEN, "An email each time something happens"),
            SelectChoice(DAILY, "One email a day"),
        ],
        invalid_message="Choose an email each time or one email a day",
        validators=[Required("Choose how you would like to hear about your requests")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())
