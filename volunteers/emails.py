"""The emails an application sends. Pure: no Flask, no ORM.

Nothing the applicant typed goes into them (not even the name): /apply sends email to any address
anyone types, so a typed name would let strangers put words of their choosing in front of a victim.
Subjects are constants, so no header can be injected either.
"""

from __future__ import annotations

CONFIRM_SUBJECT = "Confirm your application to volunteer"
KNOWN_ADDRESS_SUBJECT = "Someone tried to apply with your email address"


def confirm_application(service_name: str, link: str, hours: int) -> str:
    return f"""Someone - we hope you - applied to volunteer with {service_name} using this email address.

To confirm your email address and send your application to the vetting team, open this link:

{link}

The link works once, for the next {hours} hours. Until it is used nothing happens: no account is made
and nobody reviews the application.

If you did not apply, ignore this email. The application is deleted when the link expires.
"""


def known_address(service_name: str, sign_in_link: str) -> str:
    return f"""Someone tried to apply to volunteer with {service_name} using this email address, which
already has an account.

Nothing has changed: no new application was made, and your account and password are as they were.

If it was you, you do not need to apply again. Sign in here:

{sign_in_link}

If you cannot sign in, the sign-in page says what to do.

If it was not you, you do not need to do anything.
"""
