"""Password hashing (Argon2id) and the password policy.

The policy follows NCSC guidance: a minimum length, a block-list of common passwords, and no
composition rules (they push people towards "Password1!" and make nothing safer).
"""

from __future__ import annotations

import functools
import secrets
import string
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256  # Argon2 copes with more; this stops a megabyte "password" being hashed per request.

# argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile.
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email matches no account, so that a miss costs the same as a hit and
    response times do not reveal which addresses have accounts. Made on first use, not at import: every
    CLI command and worker imports this module, and hashing takes ~0.15 s."""
    return _hasher.hash("not-a-real-password-only-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    # No account, or one whose person has not chosen a password yet (invited, imported: not an Argon2
    # hash): verified against the dummy hash, so every path costs one Argon2 verification and the time
    # taken does not tell which addresses have accounts, or which have no password yet.
    if not password_hash or not password_hash.startswith("$argon2"):
        password_hash = None
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# An account whose person has not chosen a password yet (invited, imported) holds a value that is not
# an Argon2 hash, so no password ever matches it. volunteers.directory's import writes the same shape.
UNUSABLE_PREFIX = "!"


def unusable_password_hash() -> str:
    return UNUSABLE_PREFIX + secrets.token_urlsafe(32)


def has_usable_password(password_hash: str) -> bool:
    return not password_hash.startswith(UNUSABLE_PREFIX)


# Recovery codes: ten characters from an alphabet without look-alikes (no 0/o, 1/l/i), about 49 bits
# each. That is far beyond guessing online, and offline too once hashed, so a light Argon2 profile is
# enough; the full password profile would take seconds to check ten codes at sign-in.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_CODE_LENGTH = 10
_recovery_hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def new_recovery_code() -> str:
    """A fresh recovery code, shown as two groups of five: 'abcde-fghjk'."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_recovery_code(typed: str) -> str:
    """What people type, as it was made: spaces and hyphens dropped, any case."""
    return "".join(ch for ch in typed.lower() if ch not in " -\t")


def hash_recovery_code(code: str) -> str:
    return _recovery_hasher.hash(normalise_recovery_code(code))


def verify_recovery_code(code_hash: str, typed: str) -> bool:
    try:
        return _recovery_hasher.verify(code_hash, normalise_recovery_code(typed))
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str) -> str | None:
    """The reason a new password is not acceptable, in words for the person choosing it; or None."""
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    lowered = password.lower()
    # "password1234" and "qwerty!!!!!!" are as guessable as their stems.
    stem = lowered.strip(string.digits + string.punctuation + " ")
    common = _common_passwords()
    if lowered in common or stem in common or len(set(lowered)) <= 2 or _is_repeat_of_common(lowered, common):
        return "This password is too common and easy to guess. Try 3 unrelated words together"
    return None


def _is_repeat_of_common(lowered: str, common: frozenset[str]) -> bool:
    for size in range(4, len(lowered) // 2 + 1):
        if len(lowered) % size == 0 and lowered[:size] * (len(lowered) // size) == lowered:
            return lowered[:size] in common or len(set(lowered[:size])) <= 2
    return False
