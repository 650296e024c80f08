"""The volunteer's answer to an offer, and pulling out of a booking."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from core.forms import BaseForm, GovSubmitInput, Required
from matching.offers.services import WITHDRAW_REASON_MAX


class AnswerForm(BaseForm):
    """Accept or decline an offer: just the CSRF token (the button says which)."""


class WithdrawForm(BaseForm):
    """The volunteer pulls out of a booking: why, in a few words the sergeant reads."""

    reason = TextAreaField(
        "Why can you no longer go?",
        widget=GovCharacterCount(),
        description="The sergeant who asked for you reads this. A few words are enough: do not include health "
        "or other private details.",
        validators=[
            Required("Enter why you cannot go"),
            Length(max=WITHDRAW_REASON_MAX, message=f"The reason must be {WITHDRAW_REASON_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Withdraw from this booking", widget=GovSubmitInput())
