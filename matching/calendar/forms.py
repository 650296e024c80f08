"""The calendar feed page's forms. Shape only: whether the person may have a link is the service's to say."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput
from wtforms import BooleanField, SubmitField
from wtforms.validators import StopValidation

from core.forms import BaseForm, GovSubmitInput

UNDERSTOOD_MESSAGE = "Confirm that you understand anyone with the link can see what your calendar feed shows"


class CalendarLinkForm(BaseForm):
    # A link that cannot be taken back from whoever holds it: the person says they know before they get one.
    understood = BooleanField(
        "I understand that anyone who has the link can see what it shows, without signing in",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Create a calendar link", widget=GovSubmitInput())

    def validate_understood(self, field: BooleanField) -> None:
        if not field.data:
            raise StopValidation(UNDERSTOOD_MESSAGE)


class TurnOffForm(BaseForm):
    submit = SubmitField("Turn off the calendar link", widget=GovSubmitInput())
