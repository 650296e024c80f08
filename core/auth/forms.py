"""Sign-in and account forms. Forms check shape only; uniqueness lives in the services."""

from __future__ import annotations

from wtforms import PasswordField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import Email, Length

from core.auth.models import ROLE_LABELS, Role
from core.forms import (
    BaseForm,
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
    Required,
)


class SignInForm(BaseForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[Required("Enter your email address"), Length(max=254, message="Enter a shorter email address")],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[Required("Enter your password"), Length(max=256, message="Enter a shorter password")],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


STAFF_ROLES = [Role.SERGEANT, Role.VETTING_OFFICER, Role.COORDINATOR]


class StaffAccountForm(BaseForm):
    full_name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[
            Required("Enter the person's full name"),
            Length(max=120, message="Name must be 120 characters or fewer"),
        ],
    )
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            Required("Enter an email address"),
            Email(
                message="Enter an email address in the correct format, like name@example.org",
                check_deliverability=False,
            ),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )
    role = RadioField(
        "Role",
        widget=GovRadioInput(),
        choices=[SelectChoice(role.value, ROLE_LABELS[role]) for role in STAFF_ROLES],
        validators=[Required("Choose a role")],
        validate_choice=True,
    )
    password = PasswordField(
        "Temporary password",
        widget=GovPasswordInput(),
        description="At least 12 characters. Three unrelated words work well. Share it with the person securely.",
        validators=[Required("Enter a temporary password")],
    )
    submit = SubmitField("Create account", widget=GovSubmitInput())


class BoroughChoiceForm(BaseForm):
    """GET form: which borough's wards to list (works without JavaScript)."""

    class Meta:
        csrf = False

    borough = SelectField("Borough", widget=GovSelect(), coerce=int, validate_choice=True)
    show = SubmitField("Show wards", widget=GovSubmitInput())


class SergeantWardsForm(BaseForm):
    wards = SelectMultipleField("Wards", widget=GovCheckboxesInput(), coerce=int, validate_choice=True)
    submit = SubmitField("Save wards", widget=GovSubmitInput())
