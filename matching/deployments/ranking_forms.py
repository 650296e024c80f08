"""The coordinators' form for clearing a lower ranking. Shape only: whether it still counts is the service's."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from core.forms import BaseForm, GovSubmitInput
from matching.deployments.ranking import REASON_MAX


class ClearForm(BaseForm):
    reason = TextAreaField(
        "Why are you clearing it? (optional)",
        widget=GovCharacterCount(),
        description="For example, 'The volunteer phoned the team; the message did not reach the sergeant'. "
        "Kept in the audit log, not shown to the volunteer or the sergeant.",
        validators=[Length(max=REASON_MAX, message=f"The reason must be {REASON_MAX} characters or fewer")],
    )
    submit = SubmitField("Clear the lower ranking", widget=GovSubmitInput())
