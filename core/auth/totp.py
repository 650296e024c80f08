"""Authenticator apps: time-based one-time codes (TOTP, RFC 6238) and the QR code that sets one up.

Pure: no Flask, no database. The QR code is drawn here as inline SVG (segno), so the secret never
leaves the server for an outside QR service.
"""

from __future__ import annotations

import datetime as dt
import hmac

import pyotp
import segno

STEP_SECONDS = 30  # what every authenticator app assumes
DIGITS = 6
# Codes one step either side of now are accepted: phone clocks drift, and people type slowly.
WINDOW = 1


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(length=32)


def step_at(moment: dt.datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def code_at_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def current_code(secret: str, now: dt.datetime) -> str:
    return code_at_step(secret, step_at(now))


def normalise_code(typed: str) -> str:
    """What people type, as the app shows it: spaces and hyphens dropped ('123 456' → '123456')."""
    return "".join(ch for ch in typed if ch not in " -\t")


def looks_like_code(typed: str) -> bool:
    code = normalise_code(typed)
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, typed: str, now: dt.datetime) -> int | None:
    """The time step whose code was typed (within WINDOW of now), or None if none matches.

    The caller must still refuse a step at or before the last one accepted: that is what makes a
    code single-use.
    """
    if not looks_like_code(typed):
        return None
    code = normalise_code(typed)
    current = step_at(now)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(code_at_step(secret, step), code):
            return step
    return None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// address a QR code carries: the secret, the account name and who issued it."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code for ``uri`` as an inline <svg>, described for screen readers."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, dark="#0b0c0c", light="#ffffff")
    # An image with a text alternative; the secret is also shown as text beside it for manual entry.
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code to scan with your authenticator app" ', 1)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to copy by hand: 'ABCD EFGH …'."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
