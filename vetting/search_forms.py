"""The vetting officers' GET forms: the queue's filters, the person search and the audit log's filters.

Shape only: the choices that come from the database (officers, actions) are set by the view, and
people are looked up by the service. A filter with a bad value is reported by its field and left out.
"""

from __future__ import annotations

import datetime as dt

from wtforms import StringField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, StopValidation, ValidationError

from core.forms import (
    BaseForm,
    ChoiceCheckboxesField,
    FilterSelectField,
    GovCheckboxesInput,
    GovTextInput,
    LondonDateField,
    WholeNumberField,
    strip_nul,
)
from core.timeutil import london_today
from vetting.lifecycle import ReviewKind
from vetting.queries import URGENT_DAYS

KIND_LABELS = {
    ReviewKind.NEW_APPLICATION: "New application",
    ReviewKind.RENEWAL: "Renewal",
    ReviewKind.TRIGGERED: "Triggered review",
    ReviewKind.APPEAL: "Appeal",
    ReviewKind.INTEGRITY: "Annual integrity review",
}
MAX_DUE_WITHIN_DAYS = 366
# The audit log starts with this product; an earlier date is a typing slip, not a search.
EARLIEST_AUDIT_DATE = dt.date(2000, 1, 1)


def kind_label(kind: ReviewKind) -> str:
    return KIND_LABELS.get(kind, kind.value.replace("_", " ").capitalize())


class _GetForm(BaseForm):
    class Meta:
        csrf = False  # a search changes nothing, and its address can be bookmarked and shared

    def selected(self, name: str) -> str | None:
        """The chosen value of a select, or None if nothing was chosen or the value was refused."""
        field = self[name]
        return field.data if field.data and not field.errors else None


def _search_text(label: str) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        filters=[strip_nul],
        validators=[Optional(), Length(max=120, message="Search text must be 120 characters or fewer")],
    )


class QueueFilterForm(_GetForm):
    q = _search_text("Name or email address")
    kind = FilterSelectField(
        "Kind of review",
        "Any kind",
        "Choose a kind of review from the list",
        [SelectChoice(kind.value, kind_label(kind)) for kind in ReviewKind],
    )
    due_within = WholeNumberField(
        "Due within (days)",
        widget=GovTextInput(),
        invalid_message="Enter the number of days as a whole number, like 14",
        validators=[
            Optional(),
            NumberRange(
                min=0,
                max=MAX_DUE_WITHIN_DAYS,
                message=f"Enter a number of days from 0 to {MAX_DUE_WITHIN_DAYS}",
            ),
        ],
    )
    only = ChoiceCheckboxesField(
        "Show only",
        widget=GovCheckboxesInput(),
        invalid_message="Choose from the options listed",
        choices=[
            SelectChoice("overdue", "Overdue reviews"),
            SelectChoice("deployed", f"People deployed in the next {URGENT_DAYS} days"),
        ],
        validators=[Optional()],
    )

    def chosen(self, option: str) -> bool:
        return not self.only.errors and option in (self.only.data or ())


class PersonSearchForm(_GetForm):
    q = StringField(
        "Name or email address",
        widget=GovTextInput(),
        filters=[strip_nul],
        validators=[Length(max=120, message="Search text must be 120 characters or fewer")],
    )

    def validate_q(self, field) -> None:
        if not (field.data or "").strip():
            raise StopValidation("Enter part of a name or an email address")


class _DateOptional:
    """Optional for a GOV.UK date: stops only when all three boxes are empty (WTForms' Optional looks
    at the day alone, and would drop the message of a date missing its day)."""

    field_flags: dict = {}

    def __call__(self, form, field) -> None:
        if not any((value or "").strip() for value in field.raw_data or ()):
            field.errors[:] = []
            raise StopValidation()
        if field.errors:  # the date could not be read: keep that message alone
            raise StopValidation()


def _audit_date(label: str, what: str) -> LondonDateField:
    return LondonDateField(label, what=what, validators=[_DateOptional()], description="For example, 27 3 2026")


class AuditFilterForm(_GetForm):
    person = StringField(
        "Volunteer",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="Their name or email address.",
        validators=[Optional(), Length(max=254, message="The name or email address must be 254 characters or fewer")],
    )
    actor = FilterSelectField("Done by", "Anyone", "Choose someone from the list")
    action = FilterSelectField("Action", "Any action", "Choose an action from the list")
    from_date = _audit_date("From", "the from date")
    to_date = _audit_date("To", "the to date")

    def _check_range(self, field) -> None:
        if field.data is None:
            return
        if field.data < EARLIEST_AUDIT_DATE:
            raise ValidationError(f"{field.what.capitalize()} must be in {EARLIEST_AUDIT_DATE.year} or later")
        if field.data > london_today():
            raise ValidationError(f"{field.what.capitalize()} must be today or in the past")

    def validate_from_date(self, field) -> None:
        self._check_range(field)

    def validate_to_date(self, field) -> None:
        self._check_range(field)
        start = self.from_date.data
        if field.data and start and not self.from_date.errors and field.data < start:
            raise ValidationError("The to date must be the same as or after the from date")
