"""The conflict review form. Shape only: whether the boxes agree with what was found, whether the wards and
task types exist, and whether health staff's employer gave permission are the service's to say
(``vetting.conflict_reviews.record_review``)."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovTextArea
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length

from core.forms import BaseForm, ChoiceCheckboxesField, GovCheckboxesInput, GovSubmitInput, Required, strip_nul
from vetting.conflict_reviews import NO_CONFLICT, NOTES_MAX
from vetting.conflict_rules import Finding

# The boxes of names: 50 names of 160 characters with their line breaks, and no more.
LIST_MAX = 8_100


class ConflictReviewForm(BaseForm):
    findings = ChoiceCheckboxesField(
        "What did the review find?",
        widget=GovCheckboxesInput(),
        description="Select all that apply.",
        choices=[
            SelectChoice(Finding.CONFLICTS.value, "Conflicts with organisations or wards"),
            SelectChoice(Finding.NOT_SUITABLE.value, "Not suitable for some task types"),
            SelectChoice(NO_CONFLICT, "No conflict of interest"),
        ],
        invalid_message="Choose what the review found from the list",
        validators=[Required("Choose what the review found")],
    )
    organisations = TextAreaField(
        "Organisations they have a conflict with",
        widget=GovTextArea(),
        description="One a line: their employer, its clients, a business they have an interest in. They are "
        "never sent to a request that names one of them.",
        filters=[strip_nul],
        validators=[Length(max=LIST_MAX, message=f"Enter {LIST_MAX:,} characters or fewer")],
    )
    wards = TextAreaField(
        "Wards they have a conflict with",
        widget=GovTextArea(),
        description="One a line: the ward's name and borough, as in ‘King's Cross, Camden’, or its code. They "
        "are never sent to a request in one of them.",
        filters=[strip_nul],
        validators=[Length(max=LIST_MAX, message=f"Enter {LIST_MAX:,} characters or fewer")],
    )
    # The view sets the choices to the task types in force (coordinators add and edit them).
    task_types = ChoiceCheckboxesField(
        "Task types they are not suitable for",
        widget=GovCheckboxesInput(),
        choices=[],
        invalid_message="Choose task types from the list",
    )
    employer_permission = BooleanField(
        "Their employer has given permission for them to volunteer",
        widget=GovCheckboxInput(),
        description="Health staff only: they are not deployed without it.",
    )
    notes = TextAreaField(
        "Reasons",
        widget=GovTextArea(),
        description="What the review looked at and why you reached this outcome. Officers and coordinators only: "
        "never shown to the volunteer or to sergeants.",
        filters=[strip_nul],
        validators=[
            Required("Enter what the review looked at and why you reached this outcome"),
            Length(max=NOTES_MAX, message=f"The reasons must be {NOTES_MAX:,} characters or fewer"),
        ],
    )
    submit = SubmitField("Record the conflict review", widget=GovSubmitInput())
