"""Form helpers shared by every feature: GOV.UK widgets wired onto WTForms fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms.validators import StopValidation

__all__ = [
    "BaseForm", "GovCheckboxesInput", "GovPasswordInput", "GovRadioInput", "GovSelect", "GovSubmitInput",
    "GovTextInput", "Required",
]


class BaseForm(FlaskForm):
    """Every form carries Flask-WTF's CSRF token."""


class Required:
    """Like DataRequired, but with our message and no 'required' HTML attribute.

    GOV.UK pattern: the browser's own validation bubbles are inconsistent and inaccessible, so
    we validate on the server and show the message by the field and in the error summary.
    """

    field_flags: dict = {}

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form: object, field: object) -> None:
        data = getattr(field, "data", None)
        if data is None or (isinstance(data, str) and not data.strip()) or data == []:
            getattr(field, "errors", []).clear()
            raise StopValidation(self.message)
