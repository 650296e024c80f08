"""The second step of signing in: authenticator apps (TOTP), recovery codes, the coordinator's reset,
and re-authentication before changing sign-in details or exporting personal data."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

import pyotp
import pytest
from sqlalchemy import select, update

from core.auth import totp
from core.auth.models import RecoveryCode, Role, SecurityEvent, TotpAuthenticator, User, UserSession
from core.auth.passwords import verify_password
from core.demo import DEMO_TOTP_SECRET
from tests.helpers import PASSWORD, TEST_TOTP_SECRET, error_messages, make_user

SIGN_IN_CODE = "/sign-in/security-code"
SET_UP = "/sign-in/set-up-authenticator"


def code_at(secret: str, offset_steps: int = 0) -> str:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30 * offset_steps)
    return pyotp.TOTP(secret).at(moment)


def password_step(client, email: str, next_path: str | None = None):
    path = "/sign-in" + (f"?next={next_path}" if next_path else "")
    return client.submit(path, {"email": email, "password": PASSWORD}, token_from="/sign-in")


def secret_on(page) -> str:
    return "".join(page.soup.select_one("#secret").get_text().split())


def codes_on(page) -> list[str]:
    return [c.get_text(strip=True) for c in page.soup.select(".app-recovery-codes code")]


def set_up_at_sign_in(client, email: str) -> list[str]:
    """Sign in an account that must set up an app, and do so; returns its recovery codes."""
    assert password_step(client, email).location == SET_UP
    secret = secret_on(client.get(SET_UP))
    page = client.submit(SET_UP, {"code": code_at(secret)})
    assert page.status_code == 200 and page.soup.select_one("h1").get_text(strip=True) == "Save your recovery codes"
    return codes_on(page)


def events(db, name: str) -> list[SecurityEvent]:
    db.expire_all()
    return list(db.scalars(select(SecurityEvent).where(SecurityEvent.event == name).order_by(SecurityEvent.id)))


# ---- Who must have one --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.VETTING_OFFICER])
def test_roles_that_see_vetting_data_set_up_an_app_before_anything_else(app, db, role):
    user = make_user(db, role, mfa=False)
    client = app.test_client()
    assert password_step(client, user.email).location == SET_UP
    # Nothing else is reachable while the set-up waits.
    for path in ["/", "/account", "/accounts", "/vetting/queue"]:
        response = client.get(path)
        assert response.status_code == 302 and response.location.startswith("/sign-in"), path
    page = client.get(SET_UP)
    assert page.soup.select_one("h1").get_text(strip=True) == "Set up an authenticator app"
    # The QR code is drawn here (inline SVG, no outside service) and the key is shown to type in.
    svg = page.soup.select_one("main svg[role=img]")
    assert svg is not None and svg.get("aria-label")
    assert not page.soup.select("main img")
    secret = secret_on(page)
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert client.get(SET_UP).soup.select_one("#secret").get_text() == page.soup.select_one("#secret").get_text()
    code_box = page.soup.select_one("input[name=code]")
    assert code_box["autocomplete"] == "one-time-code" and code_box["inputmode"] == "numeric"

    wrong = client.submit(SET_UP, {"code": "000000" if code_at(secret) != "000000" else "111111"})
    assert error_messages(wrong.soup) == {
        "code": "The security code is not right. Enter the code your authenticator app shows now"
    }
    shape = client.submit(SET_UP, {"code": "12345x"})
    assert error_messages(shape.soup) == {"code": "The security code is 6 numbers, like 123456"}
    done = client.submit(SET_UP, {"code": code_at(secret)})
    codes = codes_on(done)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    assert client.get("/").status_code == 200
    db.expire_all()
    stored = db.get(TotpAuthenticator, user.id)
    assert stored.secret == secret
    # Recovery codes are kept only as hashes.
    hashes = list(db.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
    assert len(hashes) == 10 and not any(c in h or c.replace("-", "") in h for c in codes for h in hashes)
    assert [e.user_id for e in events(db, "authenticator_set_up")] == [user.id]


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.VOLUNTEER])
def test_sergeants_and_volunteers_sign_in_with_a_password_unless_they_chose_an_app(app, db, role):
    plain = make_user(db, role)
    client = app.test_client()
    assert password_step(client, plain.email).location == "/"
    careful = make_user(db, role, mfa=True)
    assert password_step(app.test_client(), careful.email).location == SIGN_IN_CODE


def test_the_code_page_follows_the_security_code_pattern_and_accepts_spaces(app, db):
    user = make_user(db, Role.COORDINATOR)
    client = app.test_client()
    assert password_step(client, user.email, next_path="/accounts").location == SIGN_IN_CODE
    page = client.get(SIGN_IN_CODE)
    assert page.soup.select_one("h1").get_text(strip=True) == "Enter your security code"
    (box,) = page.soup.select("main input:not([type=hidden])")
    assert box["autocomplete"] == "one-time-code" and box["inputmode"] == "numeric"
    assert {"govuk-input--width-5", "govuk-input--extra-letter-spacing"} <= set(box["class"])
    assert "authenticator app" in page.soup.select_one("main").get_text()
    assert page.soup.select_one("a[href='/sign-in/recovery-code']").get_text(strip=True) == (
        "I cannot use my authenticator app"
    )
    assert client.get("/").status_code == 302  # not in yet
    empty = client.submit(SIGN_IN_CODE, {"code": ""})
    assert error_messages(empty.soup) == {"code": "Enter the security code"}
    long = client.submit(SIGN_IN_CODE, {"code": "1" * 10_000})
    assert error_messages(long.soup) == {"code": "The security code is 6 numbers, like 123456"}
    code = code_at(TEST_TOTP_SECRET)
    done = client.submit(SIGN_IN_CODE, {"code": f"{code[:3]} {code[3:]}"})
    assert done.location == "/accounts"  # next survives the second step
    assert client.get("/accounts").status_code == 200
    # The pending token is dead: the browser's session is a new, full one.
    db.expire_all()
    rows = list(db.scalars(select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)))
    assert [(r.pending_step, r.revoked_reason) for r in rows][0] == (rows[0].pending_step, "second_step_done")
    assert rows[1].pending_step is None and rows[1].authenticated_at is not None


def test_a_code_works_once(app, db):
    user = make_user(db, Role.VETTING_OFFICER)
    first = app.test_client()
    password_step(first, user.email)
    code = code_at(TEST_TOTP_SECRET, +1)  # the next step's code: still inside the window for a while
    assert first.submit(SIGN_IN_CODE, {"code": code}).location == "/"
    second = app.test_client()
    password_step(second, user.email)
    replayed = second.submit(SIGN_IN_CODE, {"code": code})
    assert error_messages(replayed.soup) == {
        "code": "That code has already been used. Wait for your authenticator app to show a new code, then enter it"
    }
    # An earlier step than the one used is refused too: codes only move forward.
    older = second.submit(SIGN_IN_CODE, {"code": code_at(TEST_TOTP_SECRET)})
    assert "already been used" in error_messages(older.soup)["code"]


def test_five_wrong_codes_end_the_sign_in(app, db):
    user = make_user(db, Role.COORDINATOR)
    client = app.test_client()
    password_step(client, user.email)
    right = {code_at(TEST_TOTP_SECRET, n) for n in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in right)
    for _ in range(4):
        assert client.submit(SIGN_IN_CODE, {"code": wrong}).status_code == 200
    fifth = client.submit(SIGN_IN_CODE, {"code": wrong})
    assert fifth.location == "/sign-in"
    assert "too many wrong codes" in client.get("/sign-in").soup.get_text()
    # Even the right code is now no use without the password again.
    assert client.submit(SIGN_IN_CODE, {"code": code_at(TEST_TOTP_SECRET)}, token_from="/sign-in").location == (
        "/sign-in"
    )
    assert client.get("/").status_code == 302
    assert len(events(db, "sign_in_code_refused")) == 5


def test_a_pending_sign_in_expires(app, db):
    user = make_user(db, Role.COORDINATOR)
    client = app.test_client()
    password_step(client, user.email)
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=11))
    )
    db.commit()
    assert client.get(SIGN_IN_CODE).location == "/sign-in"


# ---- Recovery codes -----------------------------------------------------------------------------


def test_a_recovery_code_works_once_and_only_once(app, db):
    user = make_user(db, Role.COORDINATOR, mfa=False)
    codes = set_up_at_sign_in(app.test_client(), user.email)

    client = app.test_client()
    password_step(client, user.email)
    page = client.get("/sign-in/recovery-code")
    assert page.soup.select_one("h1").get_text(strip=True) == "Use a recovery code"
    bad_shape = client.submit("/sign-in/recovery-code", {"code": "12"})
    assert error_messages(bad_shape.soup) == {"code": "A recovery code is 10 letters and numbers, like abcde-fghjk"}
    done = client.submit("/sign-in/recovery-code", {"code": codes[0].upper().replace("-", " ")})
    assert done.location == "/"
    assert "You have 9 recovery codes left" in client.get("/").soup.get_text()

    again = app.test_client()
    password_step(again, user.email)
    refused = again.submit("/sign-in/recovery-code", {"code": codes[0]})
    assert error_messages(refused.soup) == {
        "code": "That recovery code is not right, or has already been used. Check it and try again"
    }
    assert again.get("/").status_code == 302
    assert again.submit("/sign-in/recovery-code", {"code": codes[1]}).location == "/"
    db.expire_all()
    used = db.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_not(None)))
    assert len(list(used)) == 2


def test_new_recovery_codes_replace_the_old_ones(app, db):
    user = make_user(db, Role.VETTING_OFFICER, mfa=False)
    client = app.test_client()
    old = set_up_at_sign_in(client, user.email)
    page = client.submit("/account/recovery-codes", {}, token_from="/account")
    new = codes_on(page)
    assert len(new) == 10 and not set(old) & set(new)
    other = app.test_client()
    password_step(other, user.email)
    assert "already been used" in error_messages(other.submit("/sign-in/recovery-code", {"code": old[2]}).soup)["code"]
    assert other.submit("/sign-in/recovery-code", {"code": new[2]}).location == "/"


# ---- Optional for sergeants and volunteers ------------------------------------------------------


def test_a_volunteer_can_add_an_app_from_the_account_page_and_turn_it_off(app, db):
    user = make_user(db)
    client = app.test_client()
    client.sign_in(user.email)
    page = client.get("/account/authenticator")
    assert page.soup.select_one("h1").get_text(strip=True) == "Set up an authenticator app"
    secret = secret_on(page)
    done = client.submit("/account/authenticator", {"code": code_at(secret)})
    assert len(codes_on(done)) == 10
    account = client.get("/account")
    assert "10 of 10 left" in account.soup.get_text()
    assert password_step(app.test_client(), user.email).location == SIGN_IN_CODE

    client.submit("/account/authenticator/remove", {}, token_from="/account")
    db.expire_all()
    assert db.get(TotpAuthenticator, user.id) is None
    assert db.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all() == []
    assert password_step(app.test_client(), user.email).location == "/"


def test_a_coordinator_cannot_turn_theirs_off(app, db):
    user = make_user(db, Role.COORDINATOR)
    client = app.test_client()
    client.sign_in(user.email)
    assert "Turn off" not in client.get("/account").soup.get_text()
    response = client.submit("/account/authenticator/remove", {}, token_from="/account")
    assert "must use an authenticator app" in client.get(response.location).soup.get_text()
    db.expire_all()
    assert db.get(TotpAuthenticator, user.id) is not None


# ---- The coordinator's reset --------------------------------------------------------------------


def test_a_coordinator_resets_someones_app_which_is_audited_and_ends_their_sessions(app, db):
    coordinator = make_user(db, Role.COORDINATOR)
    officer = make_user(db, Role.VETTING_OFFICER)
    officer_browser = app.test_client()
    officer_browser.sign_in(officer.email)
    admin = app.test_client()
    admin.sign_in(coordinator.email)
    accounts = admin.get("/accounts?role=vetting_officer")
    button = accounts.soup.select_one(f"form[action='/accounts/{officer.id}/reset-authenticator'] button")
    assert button is not None and "Reset authenticator app" in button.get_text()

    done = admin.submit(f"/accounts/{officer.id}/reset-authenticator", {}, token_from="/accounts")
    assert done.status_code == 302
    assert "will set up a new one when they next sign in" in admin.get("/accounts").soup.get_text()
    assert officer_browser.get("/").status_code == 302  # signed out everywhere
    (event,) = events(db, "authenticator_reset")
    assert event.user_id == coordinator.id and event.detail == f"account {officer.id}"
    db.expire_all()
    assert db.get(TotpAuthenticator, officer.id) is None
    assert password_step(app.test_client(), officer.email).location == SET_UP

    own = admin.submit(f"/accounts/{coordinator.id}/reset-authenticator", {}, token_from="/accounts")
    assert "cannot reset your own" in admin.get(own.location).soup.get_text()
    assert len(events(db, "authenticator_reset")) == 1


def test_only_a_coordinator_may_reset_an_app(app, db):
    officer = make_user(db, Role.VETTING_OFFICER)
    target = make_user(db, Role.VETTING_OFFICER)
    client = app.test_client()
    client.sign_in(officer.email)
    assert client.submit(f"/accounts/{target.id}/reset-authenticator", {}, token_from="/").status_code == 403
    db.expire_all()
    assert db.get(TotpAuthenticator, target.id) is not None


# ---- Re-authentication --------------------------------------------------------------------------


def _age_sign_in(db, user_id: int, minutes: int) -> None:
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(authenticated_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes))
    )
    db.commit()


@pytest.mark.parametrize(
    "path",
    ["/account/password", "/account/email", "/account/authenticator", "/volunteers/export.csv"],
)
def test_changing_sign_in_details_or_exporting_needs_a_recent_password_and_code(app, db, path):
    user = make_user(db, Role.COORDINATOR)
    client = app.test_client()
    client.sign_in(user.email)
    assert client.get(path).status_code == 200  # just signed in: recent enough
    _age_sign_in(db, user.id, 16)
    asked = client.get(path)
    assert asked.status_code == 302 and asked.location.startswith("/account/confirm-identity?next=")
    page = client.get(asked.location)
    assert page.soup.select_one("h1").get_text(strip=True) == "Confirm it is you"
    password_only = client.submit(asked.location, {"password": PASSWORD})
    assert error_messages(password_only.soup) == {"code": "Enter the security code"}
    wrong = client.submit(asked.location, {"password": "not the password", "code": "123456"})
    assert error_messages(wrong.soup) == {"password": "The password is not right"}
    done = client.submit(asked.location, {"password": PASSWORD, "code": code_at(TEST_TOTP_SECRET, +1)})
    assert done.location == path
    assert client.get(path).status_code == 200
    assert [e.user_id for e in events(db, "reauthenticated")] == [user.id]


def test_downloading_the_audit_log_needs_a_recent_password_and_code(app, db):
    """The audit log's CSV names who looked at whose vetting record, in bulk: like the directory's export,
    only for a vetting officer who proved who they are in the last 15 minutes."""
    officer = make_user(db, Role.VETTING_OFFICER)
    client = app.test_client()
    client.sign_in(officer.email)
    fresh = client.get("/vetting/audit-log/export.csv")
    assert fresh.status_code == 200 and fresh.get_data(as_text=True).startswith("Entry,")
    _age_sign_in(db, officer.id, 16)
    assert client.get("/vetting/audit-log").status_code == 200  # reading it on screen is not a bulk download
    asked = client.get("/vetting/audit-log/export.csv?action=")
    assert asked.status_code == 302
    assert unquote(asked.location) == "/account/confirm-identity?next=/vetting/audit-log/export.csv?action="


def test_a_reset_of_someones_app_needs_a_recent_sign_in_too(app, db):
    coordinator = make_user(db, Role.COORDINATOR)
    officer = make_user(db, Role.VETTING_OFFICER)
    client = app.test_client()
    client.sign_in(coordinator.email)
    token = client.csrf_token("/accounts")
    _age_sign_in(db, coordinator.id, 16)
    response = client.post(
        f"/accounts/{officer.id}/reset-authenticator",
        data={"csrf_token": token},
        headers={"Referer": "http://localhost/accounts?role=vetting_officer"},
    )
    # Back to the list it was pressed on once confirmed: a redirect cannot repeat the POST.
    assert unquote(response.location) == "/account/confirm-identity?next=/accounts?role=vetting_officer"
    db.expire_all()
    assert db.get(TotpAuthenticator, officer.id) is not None
    assert events(db, "authenticator_reset") == []


def test_a_recovery_code_also_confirms_identity(app, db):
    user = make_user(db, Role.COORDINATOR, mfa=False)
    client = app.test_client()
    codes = set_up_at_sign_in(client, user.email)
    _age_sign_in(db, user.id, 20)
    asked = client.get("/account/password").location
    page = client.get(asked)
    link = page.soup.select_one("main a[href*='recovery-code']")
    assert link.get_text(strip=True) == "I cannot use my authenticator app"
    recovery_page = client.get(link["href"])
    assert recovery_page.soup.select_one("label[for=code]").get_text(strip=True) == "Recovery code"
    done = client.submit(link["href"], {"password": PASSWORD, "code": codes[4]})
    assert done.location == "/account/password"


def test_without_an_app_the_password_alone_confirms_identity(app, db):
    user = make_user(db, Role.SERGEANT)
    client = app.test_client()
    client.sign_in(user.email)
    _age_sign_in(db, user.id, 16)
    asked = client.get("/account/email").location
    page = client.get(asked)
    assert page.soup.select_one("input[name=code]") is None
    assert client.submit(asked, {"password": PASSWORD}).location == "/account/email"


def test_a_posted_change_after_the_window_goes_back_to_its_form(app, db):
    user = make_user(db, Role.COORDINATOR)
    client = app.test_client()
    client.sign_in(user.email)
    token = client.csrf_token("/account/password")
    _age_sign_in(db, user.id, 16)
    response = client.post(
        "/account/password",
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": "copper kettle morning"},
    )
    assert unquote(response.location) == "/account/confirm-identity?next=/account/password"
    db.expire_all()
    assert not verify_password(db.get(User, user.id).password_hash, "copper kettle morning")


def test_too_many_wrong_tries_at_confirming_end_the_session(app, db):
    user = make_user(db, Role.SERGEANT)
    client = app.test_client()
    client.sign_in(user.email)
    _age_sign_in(db, user.id, 30)
    asked = client.get("/account/password").location
    for _ in range(4):
        client.submit(asked, {"password": "wrong wrong wrong"})
    assert client.submit(asked, {"password": "wrong wrong wrong"}).location == "/sign-in"
    assert client.get("/").status_code == 302


# ---- The demo ----------------------------------------------------------------------------------


def test_demo_staff_have_the_published_demo_app_and_its_code_is_shown_outside_production(app, db):
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["demo", "load", "--scale", "10"])
    assert loaded.exit_code == 0, loaded.output
    assert DEMO_TOTP_SECRET in loaded.output and "flask accounts demo-code coordinator@demo.example" in loaded.output
    with_app = set(
        db.scalars(
            select(User.email)
            .join(TotpAuthenticator, TotpAuthenticator.user_id == User.id)
            .where(TotpAuthenticator.secret == DEMO_TOTP_SECRET)
        )
    )
    # The demo partner reviewer (volunteers/partners/demo.py) too: partner reviewers need an authenticator app.
    assert with_app == {
        "coordinator@demo.example",
        "vetting.officer@demo.example",
        "vetting.officer2@demo.example",
        "partner.reviewer@demo.example",
    }
    shown = runner.invoke(args=["accounts", "demo-code", "coordinator@demo.example"])
    assert shown.exit_code == 0
    code = shown.output.split()[0]
    assert totp.matching_step(DEMO_TOTP_SECRET, code, dt.datetime.now(dt.UTC)) is not None
    # Not for an account that is not a demo one, and never in production.
    real = make_user(db, Role.COORDINATOR)
    assert runner.invoke(args=["accounts", "demo-code", real.email]).exit_code != 0
    app.config["ENV_NAME"] = "production"
    refused = runner.invoke(args=["accounts", "demo-code", "coordinator@demo.example"])
    assert refused.exit_code != 0 and "never shown in production" in refused.output
