"""Form helpers shared by every feature: GOV.UK widgets wired onto WTForms fields, the fields and
filters more than one feature uses, and ``show_error`` for a service's refusal.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import flash
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
from wtforms import Field, IntegerField, RadioField, SelectField, SelectMultipleField
from wtforms.fields import SelectChoice
from wtforms.validators import StopValidation, ValidationError

from core.field_errors import FieldError
from core.timeutil import NonexistentLocalTime, london_to_utc

__all__ = [
    "BaseForm",
    "ChoiceCheckboxesField",
    "ChoiceRadioField",
    "ChoiceSelectField",
    "FilterSelectField",
    "GovCheckboxesInput",
    "GovPasswordInput",
    "GovRadioInput",
    "GovSelect",
    "GovSubmitInput",
    "GovTextInput",
    "LondonDateField",
    "Required",
    "WholeNumberField",
    "clock_value",
    "parse_clock",
    "show_error",
    "strip_nul",
    "window_from_local",
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


def show_error(form: FlaskForm, error: FieldError) -> bool:
    """Show a service's refusal where the person will see it.

    By the field it names when this form has that field (True: show the form again), otherwise as
    a flash message (False: the caller usually redirects to the page the message is about).
    """
    if error.field and error.field in form:
        field = form[error.field]
        field.errors = [*field.errors, error.message]  # a list, even if the field was never validated
        return True
    flash(error.message, "error")
    return False


def strip_nul(value: str | None) -> str | None:
    """A text filter: PostgreSQL refuses NUL characters in text, and nobody means to type one."""
    return value.replace("\x00", "") if value else value


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


# ---- Choices ------------------------------------------------------------------------------------


class _OurChoiceMessage:
    """A choice field whose 'not one of the choices' message is a sentence a person can act on."""

    def __init__(self, *args, invalid_message: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist: list) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:  # a value the field could not even read (a tampered form)
            raise ValueError(self.invalid_message) from None

    def pre_validate(self, form) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(self.invalid_message) from None


class ChoiceRadioField(_OurChoiceMessage, RadioField):
    pass


class ChoiceSelectField(_OurChoiceMessage, SelectField):
    pass


class ChoiceCheckboxesField(_OurChoiceMessage, SelectMultipleField):
    pass


class FilterSelectField(SelectField):
    """A select whose first option means "no filter", with a message a person can act on."""

    def __init__(self, label: str, any_text: str, invalid_message: str, choices=(), **kwargs):
        super().__init__(label, widget=GovSelect(), default="", **kwargs)
        self.any_text = any_text
        self.invalid_message = invalid_message
        self.choices = [SelectChoice("", any_text), *choices]

    def set_options(self, choices: list[SelectChoice]) -> None:
        self.choices = [SelectChoice("", self.any_text), *choices]

    def pre_validate(self, form) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(self.invalid_message) from None


# ---- Times of day -------------------------------------------------------------------------------

_CLOCK = re.compile(r"^(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<suffix>am|pm)?$")
_FOUR_DIGITS = re.compile(r"^(?P<hour>\d{2})(?P<minute>\d{2})$")


def parse_clock(text: str) -> tuple[int, int] | None:
    """Read a wall-clock time as (hour, minute), or None if it is not one.

    Accepts what people type: '14:00', '14.00', '1400', '9', '9am', '9:30am', '2.15 pm', '12pm'
    (midday), '12am' and 'midnight' (00:00), 'midday' and 'noon'. '24:00' is (24, 0): the end of
    the day, which only an end time may use.
    """
    value = " ".join((text or "").strip().lower().replace("a.m.", "am").replace("p.m.", "pm").split())
    if value in ("midday", "noon", "12 noon"):
        return 12, 0
    if value in ("midnight", "12 midnight"):
        return 0, 0
    match = _FOUR_DIGITS.match(value) or _CLOCK.match(value)
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    suffix = match.groupdict().get("suffix")
    if minute > 59:
        return None
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif hour > 24 or (hour == 24 and minute):
        return None
    return hour, minute


def clock_value(moment: dt.time) -> str:
    """A time as the form shows it to edit: '14:00'."""
    return f"{moment.hour:02d}:{moment.minute:02d}"


def window_from_local(day: dt.date, start: tuple[int, int], end: tuple[int, int]) -> tuple[dt.datetime, dt.datetime]:
    """The UTC window for a London date and two clock times.

    The start must be before 24:00; an end of 00:00 or 24:00 means the end of the day. Raises
    NonexistentLocalTime for a time in the spring-forward gap (its ``which`` says 'start' or 'end').
    """
    try:
        window_start = london_to_utc(day, dt.time(*start))
    except NonexistentLocalTime as exc:
        exc.which = "start"  # type: ignore[attr-defined]
        raise
    end_day = day + dt.timedelta(days=1) if end in ((0, 0), (24, 0)) else day
    try:
        window_end = london_to_utc(end_day, dt.time(0, 0) if end == (24, 0) else dt.time(*end))
    except NonexistentLocalTime as exc:
        exc.which = "end"  # type: ignore[attr-defined]
        raise
    return window_start, window_end
