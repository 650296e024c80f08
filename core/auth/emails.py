"""The account emails: what each says, and the links they carry.

Links are built from PUBLIC_URL and the paths below (the routes in core/auth/views.py use the same),
so the worker and the CLI, which have no web request, can write them too. Subjects are fixed text:
nothing a person typed ever reaches a header.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.models import MFA_REQUIRED_ROLES, Role
from core.wording import a_or_an

RESET_PATH = "/reset-password/"
INVITATION_PATH = "/invitation/"
EMAIL_CHANGE_PATH = "/account/email/confirm/"

_SIGN_OFF = (
    "\n\nIf you did not expect this email, you can ignore it. Nobody from the police will ask you for your password."
)


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


def _link(public_url: str, path: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{path}{token}"


def password_reset(service: str, public_url: str, to: str, name: str, token: str) -> Email:
    return Email(
        to,
        f"Reset your password for {service}",
        f"Dear {name},\n\n"
        f"Someone asked to reset the password for your {service} account. To choose a new password, "
        f"open this link:\n\n{_link(public_url, RESET_PATH, token)}\n\n"
        "The link works once, for 1 hour. Using it signs your account out everywhere else.\n\n"
        "If you did not ask for this, you can ignore this email: your password has not changed." + _SIGN_OFF,
    )


def invitation(service: str, public_url: str, to: str, name: str, role: Role, token: str) -> Email:
    if role is Role.VOLUNTEER:
        why = (
            f"Your details as a volunteer have been added to {service}, where Safer Neighbourhood Teams "
            "offer you tasks that match your skills and availability."
        )
    else:
        label = role.label.lower()
        why = f"A coordinator has created {a_or_an(label)} {label} account for you on {service}."
    second_step = (
        "\n\nAfter choosing your password you will set up an authenticator app on your phone: "
        "your role needs one to sign in."
        if role in MFA_REQUIRED_ROLES
        else ""
    )
    return Email(
        to,
        f"Create your password for {service}",
        f"Dear {name},\n\n{why}\n\nTo choose your password, open this link:\n\n"
        f"{_link(public_url, INVITATION_PATH, token)}\n\n"
        "The link works once, for 7 days. If it has expired, ask your coordinator to send a new one, or use "
        f"'Forgotten your password?' on the sign-in page.{second_step}" + _SIGN_OFF,
    )


def confirm_new_email(service: str, public_url: str, to: str, name: str, token: str) -> Email:
    return Email(
        to,
        f"Confirm your new email address for {service}",
        f"Dear {name},\n\nYou asked to use this email address for your {service} account. "
        f"To confirm it, open this link while signed in:\n\n{_link(public_url, EMAIL_CHANGE_PATH, token)}\n\n"
        "The link works once, for 24 hours. Until you confirm, your account keeps its old address." + _SIGN_OFF,
    )


def new_email_already_used(service: str, to: str) -> Email:
    # Sent instead of a confirmation when the address already has an account, so the person asking
    # learns nothing about whose address it is; its owner learns someone tried.
    return Email(
        to,
        f"Your email address on {service}",
        f"Someone asked to use this email address for an account on {service}, but it already belongs to "
        "an account, so nothing has changed.\n\nIf that was you, sign in with this address. If you have "
        "forgotten its password, use 'Forgotten your password?' on the sign-in page." + _SIGN_OFF,
    )


def email_changed(service: str, to: str, name: str, new_email: str) -> Email:
    return Email(
        to,
        f"Your email address for {service} has changed",
        f"Dear {name},\n\nThe email address of your {service} account has been changed to {new_email}. "
        "Emails from the service now go there, and you sign in with it.\n\n"
        "If you did not make this change, tell your coordinator at once: someone may have your password.",
    )


def password_changed(service: str, to: str, name: str) -> Email:
    return Email(
        to,
        f"Your password for {service} has changed",
        f"Dear {name},\n\nThe password of your {service} account has just been changed, and every other "
        "place it was signed in has been signed out.\n\n"
        "If you did not make this change, use 'Forgotten your password?' on the sign-in page to choose a "
        "new one, and tell your coordinator.",
    )
