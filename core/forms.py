"""Form helpers shared by every feature: GOV.UK widgets wired onto WTForms fields."""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from govuk_frontend_wtf.gov_form_base import GovFormBase
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import Field, IntegerField
from wtforms.validators import StopValidation

__all__ = [
    "BaseForm",
    "GovCheckboxesInput",
    "GovPasswordInput",
    "GovRadioInput",
    "GovSelect",
    "GovSubmitInput",
    "GovTextInput",
    "LondonDateField",
    "Required",
    "WholeNumberField",
]


class BaseForm(FlaskForm):
    """Every form carries Flask-WTF's CSRF token."""

    def error_list(self) -> dict:
        """The error summary's parameters, linking each message to the box it is about."""
        items = []
        for field in self:
            if field.errors:
                target = getattr(field, "id_for_errors", field.id)
                items.append({"text": field.errors[0], "href": f"#{target}"})
        return {"titleText": "There is a problem", "errorList": items}


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


class GovDateWidget(GovDateInput):
    """The GOV.UK date input, robust to a POST that lacks some or all of its three parts.

    The container gets the field's name as id, and the day input ``<name>-day`` — which is also
    the field's id, so the error summary's link lands on the first box.
    """

    def map_gov_params(self, field, **kwargs):
        raw = list(field.raw_data or [])
        day, month, year = (
            (raw + ["", "", ""])[:3]
            if raw
            else (field.data.strftime("%d %m %Y").split(" ") if field.data else (None, None, None))
        )
        kwargs["id"] = field.name
        params = GovFormBase.map_gov_params(self, field, **kwargs)
        params.setdefault("fieldset", {"legend": {"text": field.label.text}})
        error = " govuk-input--error" if field.errors else ""
        params["items"] = [
            {
                "label": "Day",
                "id": f"{field.name}-day",
                "name": field.name,
                "classes": "govuk-input--width-2" + error,
                "value": day,
                "inputmode": "numeric",
            },
            {
                "label": "Month",
                "id": f"{field.name}-month",
                "name": field.name,
                "classes": "govuk-input--width-2" + error,
                "value": month,
                "inputmode": "numeric",
            },
            {
                "label": "Year",
                "id": f"{field.name}-year",
                "name": field.name,
                "classes": "govuk-input--width-4" + error,
                "value": year,
                "inputmode": "numeric",
            },
        ]
        return params


class LondonDateField(Field):
    """A date entered as day, month and year boxes, with GOV.UK's error messages."""

    widget = GovDateWidget()

    def __init__(self, label=None, validators=None, what: str = "the date", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.what = what

    @property
    def id_for_errors(self) -> str:
        return f"{self.name}-day"

    def process_formdata(self, valuelist: list) -> None:
        parts = [(value or "").strip() for value in (valuelist + ["", "", ""])[:3]]
        self.data = None
        if not any(parts):
            return  # Required (or Optional) decides what an empty date means
        missing = [name for name, value in zip(("day", "month", "year"), parts, strict=True) if not value]
        if missing:
            raise ValueError(f"{self.what.capitalize()} must include a {' and '.join(missing)}")
        try:
            day, month, year = (int(p) for p in parts)
            if year < 1000:
                raise ValueError
            self.data = dt.date(year, month, day)
        except ValueError:
            raise ValueError(f"{self.what.capitalize()} must be a real date") from None

    def _value(self) -> str:
        return self.data.strftime("%d %m %Y") if self.data else ""
