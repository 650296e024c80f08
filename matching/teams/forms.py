"""A sergeant's forms for their ward team. Shape only: whose ward it is, and who supervises what, are the
services' to check."""

from __future__ import annotations

from wtforms import StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import Email, Length

from core.forms import (
    BaseForm,
    ChoiceRadioField,
    ChoiceSelectField,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
    Required,
    strip_nul,
)
from matching.teams.models import EMAIL_MAX, NAME_MAX, PHONE_MAX, TEAM_ROLE_LABELS

ROLE_CHOICES = [SelectChoice(role.value, label) for role, label in TEAM_ROLE_LABELS.items()]


class MemberForm(BaseForm):
    """A PCSO or ward officer: who they are and how to reach them."""

    name = StringField(
        "Full name",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="With their rank if they have one, like PC Dev Patel.",
        validators=[
            Required("Enter their name"),
            Length(max=NAME_MAX, message=f"Name must be {NAME_MAX} characters or fewer"),
        ],
    )
    role = ChoiceRadioField(
        "Role in the ward team",
        widget=GovRadioInput(),
        choices=ROLE_CHOICES,
        invalid_message="Choose whether they are a PCSO or a ward officer",
        validators=[Required("Choose whether they are a PCSO or a ward officer")],
    )
    email = StringField(
        "Work email address",
        widget=GovTextInput(),
        filters=[strip_nul],
        description="Volunteers they supervise are told to contact them here. If they have an account on this "
        "service with this address, it is linked.",
        validators=[
            Required("Enter their work email address"),
            Length(max=EMAIL_MAX, message=f"Email address must be {EMAIL_MAX} characters or fewer"),
            Email(
                message="Enter an email address in the correct format, like name@met.police.uk",
                check_deliverability=False,
            ),
        ],
    )
    phone = StringField(
        "Work phone number (optional)",
        widget=GovTextInput(),
        filters=[strip_nul],
        validators=[Length(max=PHONE_MAX, message=f"Phone number must be {PHONE_MAX} characters or fewer")],
    )
    submit = SubmitField("Add to the team", widget=GovSubmitInput())


class ChangeMemberForm(MemberForm):
    """The same details, and whether they are still on the team."""

    active = ChoiceRadioField(
        "Are they still on the team?",
        widget=GovRadioInput(),
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No, they have left the team")],
        invalid_message="Choose whether they are still on the team",
        validators=[Required("Choose whether they are still on the team")],
    )
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class RemoveForm(BaseForm):
    submit = SubmitField("Remove from the team", widget=GovSubmitInput())


class WardChoiceForm(BaseForm):
    """A coordinator's choice of the ward whose team to see (a GET form). The view sets the choices."""

    class Meta:
        csrf = False

    ward = ChoiceSelectField(
        "Ward",
        widget=GovSelect(),
        choices=[],
        invalid_message="Choose a ward from the list",
        validators=[Required("Choose a ward")],
    )
