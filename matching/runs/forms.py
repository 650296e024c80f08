"""The coordinator's form to start a matching run. Shape only: the scope and dates are checked further
by the service."""

from __future__ import annotations

import datetime as dt

from wtforms import RadioField, SelectField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import ValidationError

from core.forms import BaseForm, GovRadioInput, GovSelect, GovSubmitInput, LondonDateField, Required
from core.timeutil import format_date, london_today
from matching.requests.forms import MAX_DAYS_AHEAD
from matching.runs.services import MAX_DAYS

SCOPE_CHOICES = [SelectChoice("ward", "One ward"), SelectChoice("bcu", "One BCU"), SelectChoice("london", "All London")]


class RunForm(BaseForm):
    """What to match: a ward, a BCU or all London, over a date range (checked further by the service)."""

    scope = RadioField(
        "What to match", choices=SCOPE_CHOICES, widget=GovRadioInput(), validators=[Required("Choose what to match")]
    )
    ward = SelectField("Ward", widget=GovSelect(), validate_choice=False, description="Only when matching one ward")
    bcu = SelectField("BCU", widget=GovSelect(), validate_choice=False, description="Only when matching one BCU")
    first_day = LondonDateField(
        "First day",
        what="the first day",
        description="For example, 7 12 2026",
        validators=[Required("Enter the first day")],
    )
    last_day = LondonDateField(
        "Last day",
        what="the last day",
        description="At most 31 days after the first",
        validators=[Required("Enter the last day")],
    )
    submit = SubmitField("Start matching", widget=GovSubmitInput())

    # The days are checked here as well as by the service, so every problem shows at once (issue 19): the
    # matcher fills places still to come, and requests are raised at most a year ahead, so a run past that
    # (2099) is a slip.
    def validate_first_day(self, field) -> None:
        today = london_today()
        if field.data is None:
            return
        if field.data < today:
            raise ValidationError("The first day must be today or later: the matcher only fills places still to come")
        latest = today + dt.timedelta(days=MAX_DAYS_AHEAD)
        if field.data > latest:
            raise ValidationError(
                f"The first day must be no later than {format_date(latest)}: requests are raised at most a year ahead"
            )

    def validate_last_day(self, field) -> None:
        first = self.first_day.data if not self.first_day.errors else None
        if field.data is None or first is None:
            if field.data is not None and field.data < london_today():
                raise ValidationError("The last day must be today or later")
            return
        if field.data < first:
            raise ValidationError("The last day must be the same as or after the first day")
        if (field.data - first).days >= MAX_DAYS:
            raise ValidationError(
                f"The last day must be at most {MAX_DAYS - 1} days after the first: "
                f"match at most {MAX_DAYS} days at a time"
            )

    def _chosen(self, field, name: str) -> None:
        valid = {c.value if isinstance(c, SelectChoice) else c[0] for c in field.choices}
        if self.scope.data == name and (not field.data or field.data not in valid):
            raise ValidationError(f"Choose a {'ward' if name == 'ward' else 'BCU'} from the list")

    def validate_ward(self, field) -> None:
        self._chosen(field, "ward")

    def validate_bcu(self, field) -> None:
        self._chosen(field, "bcu")


class RunAgainForm(BaseForm):
    """Run a failed run again: just the CSRF token (the run's page has the button)."""
