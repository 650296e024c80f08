"""Sign-in and account forms. Forms check shape only; uniqueness lives in the services."""

from __future__ import annotations

from wtforms import PasswordField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import Email, Length, StopValidation

from core.auth.models import ROLE_LABELS, Role
from core.auth.passwords import RECOVERY_ALPHABET, RECOVERY_CODE_LENGTH, normalise_recovery_code, password_problem
from core.auth.totp import looks_like_code
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


STAFF_ROLES = [Role.SERGEANT, Role.VETTING_OFFICER, Role.COORDINATOR, Role.PARTNER_REVIEWER]


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
    # No password: the person is emailed an invitation to choose their own (nobody sets another's).
    submit = SubmitField("Create account and send invitation", widget=GovSubmitInput())


class BoroughChoiceForm(BaseForm):
    """GET form: which borough's wards to list (works without JavaScript)."""

    class Meta:
        csrf = False

    borough = SelectField("Borough", widget=GovSelect(), coerce=int, validate_choice=True)
    show = SubmitField("Show wards", widget=GovSubmitInput())


class SergeantWardsForm(BaseForm):
    wards = SelectMultipleField("Wards", widget=GovCheckboxesInput(), coerce=int, validate_choice=True)
    submit = SubmitField("Save wards", widget=GovSubmitInput())


# ---- Forgotten password, invitations and one's own account ---------------------------------------

_EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.org"
_NEW_PASSWORD_HINT = "At least 12 characters. Three unrelated words together work well."  # noqa: S105 - a hint


class ForgottenPasswordForm(BaseForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            Required("Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Email(message=_EMAIL_FORMAT, check_deliverability=False),
        ],
    )
    submit = SubmitField("Send the link", widget=GovSubmitInput())


class NewPasswordForm(BaseForm):
    """Choosing a password from a reset link or an invitation."""

    password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description=_NEW_PASSWORD_HINT,
        validators=[
            Required("Enter a new password"),
            Length(max=256, message="Password must be 256 characters or fewer"),
        ],
    )
    submit = SubmitField("Save password and sign in", widget=GovSubmitInput())


def _acceptable_password(form: object, field: object) -> None:
    """The service's own rule for a new password, checked with the rest of the form so every problem shows at
    once (the service checks again before saving)."""
    problem = password_problem(field.data or "")  # type: ignore[attr-defined]
    if problem:
        raise StopValidation(problem)


def _code_shape(form: object, field: object) -> None:
    if not looks_like_code(field.data or ""):  # type: ignore[attr-defined]
        raise StopValidation("The security code is 6 numbers, like 123456")


def _recovery_shape(form: object, field: object) -> None:
    code = normalise_recovery_code(field.data or "")  # type: ignore[attr-defined]
    if len(code) != RECOVERY_CODE_LENGTH or any(ch not in RECOVERY_ALPHABET for ch in code):
        raise StopValidation("A recovery code is 10 letters and numbers, like abcde-fghjk")


class SecurityCodeForm(BaseForm):
    """GOV.UK's security code pattern: one box, spaces allowed, says where the code comes from."""

    code = StringField(
        "Security code",
        widget=GovTextInput(),
        description="The 6-digit code your authenticator app shows for this service.",
        validators=[
            Required("Enter the security code"),
            Length(max=20, message="The security code is 6 numbers, like 123456"),
            _code_shape,
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RecoveryCodeForm(BaseForm):
    code = StringField(
        "Recovery code",
        widget=GovTextInput(),
        description="One of the 10 recovery codes you saved when you set up your authenticator app. Each works once.",
        validators=[
            Required("Enter a recovery code"),
            Length(max=40, message="A recovery code is 10 letters and numbers, like abcde-fghjk"),
            _recovery_shape,
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ConfirmIdentityForm(BaseForm):
    """Re-authentication: the password, and a code where the account has an authenticator app (the
    view drops the code box for an account without one, and relabels it for a recovery code)."""

    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[Required("Enter your password"), Length(max=256, message="Enter a shorter password")],
    )
    code = StringField(
        "Security code",
        widget=GovTextInput(),
        description="The 6-digit code your authenticator app shows for this service.",
        validators=[Required("Enter the security code"), Length(max=40, message="Enter a shorter code")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[Required("Enter your current password"), Length(max=256, message="Enter a shorter password")],
    )
    new_password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description=_NEW_PASSWORD_HINT,
        validators=[
            Required("Enter a new password"),
            Length(max=256, message="Password must be 256 characters or fewer"),
            _acceptable_password,
        ],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class ChangeEmailForm(BaseForm):
    email = StringField(
        "New email address",
        widget=GovTextInput(),
        description="We will send a link to this address. Your address changes when you open it.",
        validators=[
            Required("Enter your new email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Email(message=_EMAIL_FORMAT, check_deliverability=False),
        ],
    )
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[Required("Enter your current password"), Length(max=256, message="Enter a shorter password")],
    )
    submit = SubmitField("Send the link", widget=GovSubmitInput())
