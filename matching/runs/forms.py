"""The coordinator's form to start a matching run. Shape only: the scope and dates are checked further
by the service."""

from __future__ import annotations

from wtforms import RadioField, SelectField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import ValidationError

from core.forms import BaseForm, GovRadioInput, GovSelect, GovSubmitInput, LondonDateField, Required

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

    def _chosen(self, field, name: str) -> None:
        valid = {c.value if isinstance(c, SelectChoice) else c[0] for c in field.choices}
        if self.scope.data == name and (not field.data or field.data not in valid):
            raise ValidationError(f"Choose a {'ward' if name == 'ward' else 'BCU'} from the list")

    def validate_ward(self, field) -> None:
        self._chosen(field, "ward")

    def validate_bcu(self, field) -> None:
        self._chosen(field, "bcu")
