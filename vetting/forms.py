"""The vetting forms. Shape only; the rules are in vetting/decisions.py and lifecycle.py.

The decision form holds every field any review may need; the review view removes those that do
not apply to the review in hand (no dates or restrictions on a triggered review or an appeal, no
choice of clearance on a renewal) and sets the restrictions' choices to the task types in force.
"""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovTextArea
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, StopValidation

from core.forms import (
    BaseForm,
    ChoiceCheckboxesField,
    ChoiceRadioField,
    ChoiceSelectField,
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
    LondonDateField,
    Required,
    WholeNumberField,
    strip_nul,
)
from vetting.catalogue import CLEARANCE_TYPES, TEAM_RULE_LABELS
from vetting.lifecycle import Outcome
from vetting.models import INFORMATION_SOURCE_LABELS, InformationSource
from vetting.policy import ACTIVITY_MAX, DESCRIPTION_MAX, NAME_MAX

REASON_MAX = 4000
# Far too long to be one: the same words as vetting/dbs.py's check of what is there.
CERTIFICATE_MESSAGE = "Enter the certificate number as it is printed: 12 digits, like 001234567890"
SUBSCRIPTION_MESSAGE = (
    "Enter the subscription ID as the Update Service shows it: a C followed by numbers, like C0123456789"
)


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
            SelectChoice(Outcome.LET_LAPSE.value, "Do not renew: let it lapse at the end of its term"),
            SelectChoice(Outcome.UPHOLD.value, "Uphold the decision (final)"),
            SelectChoice(
                Outcome.OVERTURN.value,
                "Overturn the decision and grant the clearance (a second vetting officer must confirm)",
            ),
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
    # No Optional(): it would take a date whose day box alone is empty for no date at all, and lose the
    # "must include a day" message. An empty date is None, and the service says what is missing.
    valid_from = LondonDateField(
        "Takes effect on (grants only)",
        what="the date it takes effect",
        description="No earlier than the review was opened, and at most 30 days ahead.",
    )
    expires_on = LondonDateField(
        "Valid until (leave blank for the standard period)",
        what="the end date",
        description="A grant may be shorter than the clearance's standard period, never longer.",
    )
    # The view sets the choices to the task types in force (coordinators add and edit them).
    restrictions = ChoiceCheckboxesField(
        "May not be used for (grant with restrictions only)",
        widget=GovCheckboxesInput(),
        choices=[],
        invalid_message="Choose restrictions from the list",
    )
    # A DBS check's certificate (DBS clearances only; vetting/dbs.py checks them, decisions.py requires them
    # for a grant). Plain text, not a number field: a certificate number keeps its leading zeros.
    dbs_certificate_number = StringField(
        "DBS certificate number",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="12 digits, as printed on the certificate.",
        validators=[Length(max=40, message=CERTIFICATE_MESSAGE)],
    )
    dbs_issued_on = LondonDateField(
        "Date the certificate was issued",
        what="the date the certificate was issued",
        description="For example, 3 2 2025",
    )
    dbs_update_service_id = StringField(
        "Update Service subscription ID (if they subscribe)",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="A C followed by numbers, like C0123456789.",
        validators=[Length(max=40, message=SUBSCRIPTION_MESSAGE)],
    )
    dbs_status_checked_on = LondonDateField(
        "Date of the last Update Service status check (if any)",
        what="the date of the status check",
        description="Only a check that found no new information.",
    )
    reason = TextAreaField(
        "Reason",
        widget=GovTextArea(),
        description="Vetting officers only. Never shown to the volunteer or to sergeants.",
        filters=[strip_nul],
        validators=[
            Required("Enter the reason for the decision"),
            Length(max=REASON_MAX, message="Reason must be 4,000 characters or fewer"),
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


# What each clearance action is called in a sentence: "Enter the reason to … the clearance".
ACTION_WORDS = {"suspend": "suspend", "reinstate": "reinstate", "withdraw": "propose withdrawing"}


class ClearanceActionForm(BaseForm):
    """The reason for suspending, reinstating or proposing to withdraw one clearance."""

    reason = TextAreaField(
        "Reason",
        widget=GovTextArea(),
        filters=[strip_nul],
        validators=[Length(max=REASON_MAX, message="Reason must be 4,000 characters or fewer")],
    )

    def __init__(self, *args, action: str = "suspend", **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action

    def validate_reason(self, field) -> None:
        if not (field.data or "").strip():
            field.errors.clear()
            raise StopValidation(f"Enter the reason to {ACTION_WORDS.get(self.action, self.action)} the clearance")


class InformationForm(BaseForm):
    """Information about a person from outside: it opens a triggered review (or joins the open one)."""

    source = ChoiceRadioField(
        "Where did the information come from?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(s.value, INFORMATION_SOURCE_LABELS[s][:1].upper() + INFORMATION_SOURCE_LABELS[s][1:])
            for s in InformationSource
        ],
        invalid_message="Choose where the information came from",
        validators=[Required("Choose where the information came from")],
    )
    summary = TextAreaField(
        "Summary of the information",
        widget=GovTextArea(),
        description="Vetting officers only. Never shown to the volunteer, to sergeants or in emails.",
        filters=[strip_nul],
        validators=[
            Required("Enter a summary of the information"),
            Length(max=REASON_MAX, message="The summary must be 4,000 characters or fewer"),
        ],
    )
    suspend = BooleanField(
        "Suspend every clearance they hold until the review is decided",
        widget=GovCheckboxInput(),
        description="They are told their clearance is suspended, never what the information is.",
    )
    submit = SubmitField("Record the information", widget=GovSubmitInput())


class AppealForm(BaseForm):
    grounds = TextAreaField(
        "Why are you appealing?",
        widget=GovTextArea(),
        description=("Explain why you think the decision is wrong, and give anything the vetting team did not have."),
        filters=[strip_nul],
        validators=[
            Required("Tell us why you are appealing"),
            Length(max=REASON_MAX, message="Your appeal must be 4,000 characters or fewer"),
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
    # A missing answer (no box posted) is "None", as the page's first option; a tampered one gets a sentence.
    minimum_patrol_status = ChoiceSelectField(
        "Minimum patrol status",
        widget=GovSelect(),
        default="",
        invalid_message="Choose a patrol status from the list",
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
    # Who must be there besides one volunteer (vetting.catalogue.TeamRule); a tampered value gets a sentence.
    team_rule = ChoiceRadioField(
        "Who must be there besides one volunteer?",
        widget=GovRadioInput(),
        choices=[SelectChoice(rule.value, label) for rule, label in TEAM_RULE_LABELS.items()],
        invalid_message="Choose who must be there from the list",
        description="Work with under-18s needs two adults: two volunteers, or one with the ward's PCSO or officer.",
        validators=[Required("Choose who must be there besides one volunteer")],
    )
    submit = SubmitField("Save policy", widget=GovSubmitInput())


class TaskTypeForm(TaskPolicyForm):
    """A task type a coordinator adds (or one they added, edited): what it is called, then what it needs."""

    name = StringField(
        "Name",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="What sergeants choose and volunteers read, like 'Fraud-prevention talk'.",
        validators=[
            Required("Enter the name"),
            Length(max=NAME_MAX, message=f"Name must be {NAME_MAX} characters or fewer"),
        ],
    )
    activity = StringField(
        "What people doing it are cleared for",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="In lower case, to finish the sentence 'Cleared for …', like 'fraud-prevention talks'.",
        validators=[
            Required("Enter what people doing it are cleared for"),
            Length(max=ACTIVITY_MAX, message=f"Activity must be {ACTIVITY_MAX} characters or fewer"),
        ],
    )
    description = TextAreaField(
        "Description",
        widget=GovTextArea(),
        filters=[strip_nul],
        description="One sentence sergeants read when they choose the kind of task.",
        validators=[
            Required("Enter a description"),
            Length(max=DESCRIPTION_MAX, message=f"Description must be {DESCRIPTION_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Save task type", widget=GovSubmitInput())


STATUS_RESULTS = [
    SelectChoice("current", "No new information: the certificate is still current"),
    SelectChoice("new_information", "New information: a new DBS check is needed"),
]


class DbsStatusCheckForm(BaseForm):
    """A DBS Update Service status check on a recorded certificate (vetting/dbs_checks.py)."""

    dbs_update_service_id = StringField(
        "Update Service subscription ID",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="A C followed by numbers, like C0123456789.",
        validators=[
            Required("Enter the Update Service subscription ID"),
            Length(max=40, message=SUBSCRIPTION_MESSAGE),
        ],
    )
    dbs_status_checked_on = LondonDateField(
        "Date of the status check",
        what="the date of the status check",
        description="For example, 3 2 2026",
        validators=[Required("Enter the date of the status check")],
    )
    result = ChoiceRadioField(
        "What did the status check show?",
        widget=GovRadioInput(),
        choices=STATUS_RESULTS,
        invalid_message="Choose what the status check showed",
        validators=[Required("Choose what the status check showed")],
    )
    submit = SubmitField("Record the status check", widget=GovSubmitInput())
