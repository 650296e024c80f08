"""Authenticator codes (RFC 6238) and recovery codes: pure rules, checked against pyotp and by hand."""

from __future__ import annotations

import datetime as dt

import pyotp

from core.auth import totp
from core.auth.passwords import (
    RECOVERY_ALPHABET,
    hash_recovery_code,
    new_recovery_code,
    normalise_recovery_code,
    verify_recovery_code,
)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
MOMENT = dt.datetime(2026, 12, 7, 9, 0, 10, tzinfo=dt.UTC)


def test_codes_are_rfc_6238_codes():
    # RFC 6238's SHA-1 test vector: the ASCII secret "12345678901234567890" at 59 s gives 94287082 (8 digits),
    # whose last six are what a six-digit app shows.
    rfc_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert totp.code_at_step(rfc_secret, 59 // 30) == "287082"
    assert totp.current_code(SECRET, MOMENT) == pyotp.TOTP(SECRET).at(MOMENT)


def test_one_step_either_side_is_accepted_and_no_further():
    step = totp.step_at(MOMENT)
    for offset in (-1, 0, 1):
        assert totp.matching_step(SECRET, totp.code_at_step(SECRET, step + offset), MOMENT) == step + offset
    for offset in (-2, 2):
        code = totp.code_at_step(SECRET, step + offset)
        if code not in {totp.code_at_step(SECRET, step + o) for o in (-1, 0, 1)}:
            assert totp.matching_step(SECRET, code, MOMENT) is None


def test_what_people_type_is_read_kindly_but_only_six_digits_count():
    code = totp.current_code(SECRET, MOMENT)
    for typed in (code, f"{code[:3]} {code[3:]}", f" {code[:3]}-{code[3:]} "):
        assert totp.matching_step(SECRET, typed, MOMENT) == totp.step_at(MOMENT)
    for typed in ("", "12345", "1234567", "12345x", "١٢٣٤٥٦", code + "\x00"):
        assert not totp.looks_like_code(typed)
        assert totp.matching_step(SECRET, typed, MOMENT) is None


def test_secrets_are_long_random_base32_and_shown_in_groups():
    secrets = {totp.new_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(len(s) == 32 and set(s) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for s in secrets)
    assert totp.grouped("ABCDEFGHIJKL") == "ABCD EFGH IJKL"


def test_the_qr_code_is_inline_svg_that_carries_the_otpauth_address():
    uri = totp.provisioning_uri(SECRET, "jo@test.example", "SNT volunteer matching")
    assert (
        uri.startswith("otpauth://totp/") and f"secret={SECRET}" in uri and "issuer=SNT%20volunteer%20matching" in uri
    )
    svg = totp.qr_svg(uri)
    assert svg.startswith('<svg role="img" aria-label=')
    assert "http" not in svg.split(">", 1)[1]  # nothing fetched from anywhere


def test_recovery_codes_are_random_readable_and_checked_as_typed():
    codes = {new_recovery_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        first, second = code.split("-")
        assert len(first) == len(second) == 5 and set(first + second) <= set(RECOVERY_ALPHABET)
    code = next(iter(codes))
    stored = hash_recovery_code(code)
    assert code not in stored and normalise_recovery_code(code) not in stored
    assert verify_recovery_code(stored, code.upper().replace("-", " "))
    assert not verify_recovery_code(stored, code[:-1] + ("2" if code[-1] != "2" else "3"))
    assert not verify_recovery_code("not a hash", code)
