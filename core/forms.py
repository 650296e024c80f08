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
from wtforms import IntegerField
from wtforms.validators import StopValidation

__all__ = [
    "BaseForm", "GovCheckboxesInput", "GovPasswordInput", "GovRadioInput", "GovSelect", "GovSubmitInput",
    "GovTextInput", "Required", "WholeNumberField",
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
        if getattr(field, "process_errors", None):
            raise StopValidation()  # the value could not be read: keep that more precise message
        data = getattr(field, "data", None)
        if data is None or (isinstance(data, str) and not data.strip()) or data == []:
            getattr(field, "errors", []).clear()
            raise StopValidation(self.message)


class WholeNumberField(IntegerField):
    """An integer field whose 'not a number' message is a sentence a person can act on."""

    def __init__(self, *args, invalid_message: str = "Enter a whole number", **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist: list) -> None:
        if valuelist and valuelist[0].strip():
            try:
                self.data = int(valuelist[0].strip())
            except ValueError:
                self.data = None
                raise ValueError(self.invalid_message) from None
        else:
            self.data = None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)
