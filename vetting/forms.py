"""The vetting decision form. Shape only; the rules are in vetting/decisions.py and lifecycle.py."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovTextArea
from wtforms import RadioField, SelectField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from core.forms import (
    BaseForm,
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
    LondonDateField,
    Required,
    WholeNumberField,
)
from vetting.catalogue import CLEARANCE_TYPES, TASK_POLICIES
from vetting.lifecycle import Outcome


class DecisionForm(BaseForm):
    outcome = RadioField(
        "Decision",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(Outcome.GRANT.value, "Grant"),
            SelectChoice(Outcome.GRANT_WITH_RESTRICTIONS.value, "Grant with restrictions"),
            SelectChoice(Outcome.REFUSE.value, "Refuse (a second vetting officer must confirm)"),
            SelectChoice(Outcome.DISCONTINUE.value, "Discontinue (the application is not going ahead)"),
            SelectChoice(Outcome.NO_CHANGE.value, "No change needed: close the review"),
            SelectChoice(Outcome.UPHOLD.value, "Uphold the decision (final)"),
            SelectChoice(Outcome.OVERTURN.value, "Overturn the decision and grant the clearance"),
        ],
        validators=[Required("Choose a decision")],
    )
    # The service checks the code (with a message that says what to do), so no generic choice check here.
    type_code = SelectField(
        "Clearance",
        widget=GovSelect(),
        validate_choice=False,
        choices=[SelectChoice("", "Choose a clearance")]
        + [SelectChoice(t.code, f"{t.name} ({t.code})") for t in CLEARANCE_TYPES],
    )
    valid_from = LondonDateField("Takes effect on", what="the date it takes effect", validators=[Optional()])
    expires_on = LondonDateField(
        "Valid until (leave blank for the standard period)", what="the end date", validators=[Optional()]
    )
    restrictions = SelectMultipleField(
        "May not be used for (grant with restrictions only)",
        widget=GovCheckboxesInput(),
        choices=[SelectChoice(t.code, t.name) for t in TASK_POLICIES],
    )
    reason = TextAreaField(
        "Reason",
        widget=GovTextArea(),
        description="Vetting officers only. Never shown to the volunteer or to sergeants.",
        validators=[
            Required("Enter the reason for the decision"),
            Length(max=4000, message="Reason must be 4,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Record decision", widget=GovSubmitInput())


class ValidityForm(BaseForm):
    validity_months = WholeNumberField(
        "Valid for (months)",
        widget=GovTextInput(),
        invalid_message="Enter the number of months as a whole number",
        description="Applies to clearances granted from now on. Existing clearances keep their dates.",
        validators=[
            Required("Enter the number of months"),
            NumberRange(min=1, max=240, message="Enter a number of months between 1 and 240"),
        ],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class ClearanceActionForm(BaseForm):
    reason = TextAreaField(
        "Reason",
        widget=GovTextArea(),
        validators=[Required("Enter the reason"), Length(max=4000, message="Reason must be 4,000 characters or fewer")],
    )


class AppealForm(BaseForm):
    grounds = TextAreaField(
        "Why are you appealing?",
        widget=GovTextArea(),
        description=("Explain why you think the decision is wrong, and give anything the vetting team did not have."),
        validators=[
            Required("Tell us why you are appealing"),
            Length(max=4000, message="Your appeal must be 4,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Send appeal", widget=GovSubmitInput())


YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class TaskPolicyForm(BaseForm):
    clearances = TextAreaField(
        "Clearances needed",
        widget=GovTextArea(),
        description="One requirement per line. Accepted alternatives on one line, separated by |, "
        "for example: NPPV2F | NPPV3 | RV",
        validators=[
            Required("Enter at least one clearance requirement"),
            Length(max=2000, message="Clearances must be 2,000 characters or fewer"),
        ],
    )
    unsupervised_clearances = TextAreaField(
        "Extra clearances for unsupervised work",
        widget=GovTextArea(),
        description="Same format. Leave empty if nothing more is needed or unsupervised work is not allowed.",
        validators=[Optional(), Length(max=2000, message="Clearances must be 2,000 characters or fewer")],
    )
    skills = TextAreaField(
        "Skills needed",
        widget=GovTextArea(),
        description="One per line: skill codes separated by |, then : and the minimum level, "
        "for example: rmn | paramedic | mh_first_aid : practitioner",
        validators=[Optional(), Length(max=2000, message="Skills must be 2,000 characters or fewer")],
    )
    warranted_only = RadioField(
        "Special constables only (warranted)?",
        widget=GovRadioInput(),
        choices=YES_NO,
        validators=[Required("Choose yes or no")],
    )
    minimum_patrol_status = SelectField(
        "Minimum patrol status",
        widget=GovSelect(),
        choices=[
            SelectChoice("", "None"),
            SelectChoice("accompanied", "Accompanied"),
            SelectChoice("directed", "Directed"),
            SelectChoice("qualified", "Qualified"),
        ],
    )
    unsupervised_allowed = RadioField(
        "Can it be done without a supervising officer?",
        widget=GovRadioInput(),
        choices=YES_NO,
        validators=[Required("Choose yes or no")],
    )
    default_team_size = WholeNumberField(
        "Usual number of people",
        widget=GovTextInput(),
        invalid_message="Enter the number of people as a whole number",
        validators=[
            Required("Enter the usual number of people"),
            NumberRange(min=1, max=10, message="Enter a number between 1 and 10"),
        ],
    )
    all_or_nothing = RadioField(
        "Must the whole team be found before anyone goes?",
        widget=GovRadioInput(),
        choices=YES_NO,
        validators=[Required("Choose yes or no")],
    )
    remote_possible = RadioField(
        "Can it be done remotely?", widget=GovRadioInput(), choices=YES_NO, validators=[Required("Choose yes or no")]
    )
    street_duty = RadioField(
        "Is it street duty?",
        widget=GovRadioInput(),
        choices=YES_NO,
        description="No means someone with a desk-only adjustment can do it.",
        validators=[Required("Choose yes or no")],
    )
    submit = SubmitField("Save policy", widget=GovSubmitInput())
