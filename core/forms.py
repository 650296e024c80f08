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
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import Length, StopValidation, ValidationError
from wtforms.widgets import TextArea

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
    "PlainText",
    "Required",
    "WholeNumberField",
    "clock_value",
    "parse_clock",
    "show_error",
    "strip_nul",
    "window_from_local",
]


class BaseForm(FlaskForm):
    """Every form carries Flask-WTF's CSRF token, and every text field in it is plain text.

    Each text field (``StringField`` and its kin: text areas, passwords, hidden fields) and each checkbox
    is given a ``PlainText`` check as it is bound, so a new form is protected without anyone remembering
    to. (Choices, dates and numbers refuse what they cannot read with their own messages.)
    """

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            if isinstance(field, StringField | BooleanField):
                PlainText.apply(field)
            return field

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Some of WTForms' own messages repeat the value sent ("'…' is not a valid choice"): never a
        # control character back into the page.
        for field in self:
            if field.errors and isinstance(field.errors, list):
                field.errors = [shown_again(e) for e in field.errors]
        return valid

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
    """A text filter: PostgreSQL refuses NUL characters in text, and nobody means to type one.

    ``BaseForm`` now refuses them (``PlainText``); this stays for values read outside a form.
    """
    return value.replace("\x00", "") if value else value


# ---- Plain text ---------------------------------------------------------------------------------

# Nobody types a control character: they come from a tampered form or pasted binary. PostgreSQL refuses
# NUL in text (a 500 before this check), a CR or LF in a one-line value can forge an email header or
# split a CSV row, and the rest are invisible on screen. So they are refused, with a message by the
# field; they are also taken out of what the form shows again, so the person's text is kept and the
# next try goes through. A text area keeps tabs and line breaks; the rarer line breaks (vertical tab,
# form feed, NEL, U+2028/9, which a paste from a word processor brings) become ordinary ones.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")  # all but tab and the line breaks
_LINE_BREAKS = re.compile(r"[\n\r\x0b\x0c\x85\u2028\u2029]")
_ODD_LINE_BREAKS = re.compile(r"[\x0b\x0c\x85\u2028\u2029]")
_BREAKS_AND_TABS = re.compile(r"[\t\n\r\x0b\x0c\x85\u2028\u2029]+")
# The longest a text field with no Length of its own may be: longer than anything a person types into
# it, short enough that nothing downstream (the database's column, an email, a log line) is surprised.
ONE_LINE_MAX = 500
MULTI_LINE_MAX = 10_000


class PlainText:
    """Refuses control characters in a text field (and line breaks in a one-line one), and over-long text.

    Runs first in the field's chain and stops it, so the person sees this one clear message by the
    field rather than a confusing one from a later check. ``BaseForm`` applies it to every text field.
    """

    field_flags: dict = {}

    ONE_LINE_MESSAGE = "Enter this on one line. The line breaks have been taken out: check the answer and try again"
    CONTROL_MESSAGE = (
        "The answer had hidden control characters in it, which have been taken out. Check it and try again"
    )
    PASSWORD_MESSAGE = "The password contained hidden control characters. Enter it again"  # noqa: S105 - words
    HIDDEN_MESSAGE = "The form was changed before it was sent. Check your answers and send the form again"

    def __init__(self, multiline: bool = False, max_length: int | None = None, message: str | None = None):
        self.multiline = multiline
        self.max_length = max_length
        self.message = message

    @classmethod
    def apply(cls, field: Field) -> None:
        """Put the check first in ``field``'s validators, and the cleaning last in its filters."""
        if any(isinstance(v, PlainText) for v in field.validators):
            return
        multiline = isinstance(field, TextAreaField) or isinstance(field.widget, TextArea)
        has_length = any(isinstance(v, Length) for v in field.validators)
        # Nobody types a hidden field's or a checkbox's value: a control character in one is a changed form.
        message = cls.HIDDEN_MESSAGE if isinstance(field, HiddenField | BooleanField) else None
        message = cls.PASSWORD_MESSAGE if isinstance(field, PasswordField) else message
        check = cls(multiline, None if has_length else (MULTI_LINE_MAX if multiline else ONE_LINE_MAX), message)
        field.validators = [check, *field.validators]
        field.filters = (*field.filters, check.clean)

    def clean(self, value: object) -> object:
        """What the form keeps (and shows again): the text without the characters this check refuses."""
        if not isinstance(value, str):
            return value
        value = _CONTROL.sub("", value)
        if self.multiline:
            return _ODD_LINE_BREAKS.sub("\n", value)
        return _BREAKS_AND_TABS.sub(" ", value)

    def __call__(self, form: object, field: Field) -> None:
        sent = [value for value in (getattr(field, "raw_data", None) or []) if isinstance(value, str)]
        typed = self.message != self.HIDDEN_MESSAGE
        if typed and not any(str(self.clean(value)).strip() for value in sent):
            return  # nothing but control characters is nothing typed: the field's own checks say what is needed
        if any(_CONTROL.search(value) or (not self.multiline and "\t" in value) for value in sent):
            problem = self.message or self.CONTROL_MESSAGE  # a password is never shown again: it has its own words
        elif not self.multiline and any(_LINE_BREAKS.search(value) for value in sent):
            problem = self.message or self.ONE_LINE_MESSAGE
        elif self.max_length is not None and any(len(value) > self.max_length for value in sent):
            hidden = self.message == self.HIDDEN_MESSAGE  # nobody typed it
            problem = self.HIDDEN_MESSAGE if hidden else f"Enter {self.max_length:,} characters or fewer"
        else:
            return
        field.errors.clear()
        if isinstance(field, BooleanField):
            field.raw_data = []  # a checkbox shows its raw value again; it goes back to its own ("y")
        raise StopValidation(problem)


def shown_again(value: str) -> str:
    """What a field that re-shows what was typed (a number, a date's boxes) may put back in the page."""
    return _BREAKS_AND_TABS.sub(" ", _CONTROL.sub("", value)) if isinstance(value, str) else value


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
            return shown_again(self.raw_data[0])
        return "" if self.data is None else str(self.data)


class GovDateWidget(GovDateInput):
    """The GOV.UK date input, robust to a POST that lacks some or all of its three parts.

    The container gets the field's name as id, and the day input ``<name>-day`` — which is also
    the field's id, so the error summary's link lands on the first box.
    """

    def map_gov_params(self, field, **kwargs):
        raw = list(field.raw_data or [])
        day, month, year = (
            [shown_again(part) for part in (raw + ["", "", ""])[:3]]
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
    # Every date in the service is a working date (a deployment, a clearance, a report, a filter).
    # Outside these years it is a slip, and arithmetic on it (a clearance's validity added to 31 12
    # 9999) would overflow. A form's own, narrower rule speaks first; this is the last word.
    EARLIEST_YEAR = 1900
    LATEST_YEAR = 2199

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
        except (ValueError, OverflowError):  # a year like 999999999999 overflows rather than fails
            raise ValueError(f"{self.what.capitalize()} must be a real date") from None

    def post_validate(self, form, validation_stopped: bool) -> None:
        if validation_stopped or self.errors or self.data is None:
            return
        if not self.EARLIEST_YEAR <= self.data.year <= self.LATEST_YEAR:
            raise ValidationError(
                f"{self.what.capitalize()} must be between {self.EARLIEST_YEAR} and {self.LATEST_YEAR}"
            )

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
