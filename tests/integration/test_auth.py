"""Sign-in, sessions, throttling and the security log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.auth import throttling
from core.auth.models import Role, SecurityEvent, ThrottleCounter, UserSession
from tests.helpers import PASSWORD, error_messages, make_user


def events(db, user_id=None) -> list[str]:
    db.expire_all()
    query = select(SecurityEvent.event).order_by(SecurityEvent.id)
    if user_id is not None:
        query = query.where(SecurityEvent.user_id == user_id)
    return list(db.scalars(query))


def test_sign_in_lands_on_the_role_home_page_and_sign_out_ends_it(client, db):
    user = make_user(db, Role.SERGEANT, full_name="Sam Sergeant")
    response = client.submit("/sign-in", {"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"
    home = client.get("/")
    assert home.soup.select_one("h1").get_text(strip=True) == "Your wards"
    assert "Sam Sergeant" in home.soup.select_one(".app-account-bar").get_text()
    token = home.soup.select_one(".app-account-bar input[name=csrf_token]")["value"]
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    assert events(db, user.id) == ["sign_in", "sign_out"]


def test_sign_in_form_errors_are_shown_by_the_field_and_summarised(client):
    response = client.submit("/sign-in", {"email": "", "password": ""})
    assert response.status_code == 200
    assert error_messages(response.soup) == {"email": "Enter your email address", "password": "Enter your password"}
    summary_links = [a["href"] for a in response.soup.select(".govuk-error-summary a")]
    assert summary_links == ["#email", "#password"]


def test_wrong_password_and_unknown_email_get_the_same_message_and_are_logged(client, db):
    user = make_user(db)
    wrong = client.submit("/sign-in", {"email": user.email, "password": "not-the-password-at-all"})
    unknown = client.submit("/sign-in", {"email": "nobody@test.example", "password": "not-the-password-at-all"})
    for response in (wrong, unknown):
        assert error_messages(response.soup) == {"email": "Enter a correct email address and password"}
    assert events(db) == ["sign_in_failed", "sign_in_failed"]
    db.expire_all()
    logged = list(db.scalars(select(SecurityEvent)))
    assert logged[0].user_id == user.id and logged[1].user_id is None
    # Never a password or an email address in the log.
    assert all("password" not in e.detail and "@" not in e.detail for e in logged)


def test_post_without_csrf_token_is_refused(client, db):
    user = make_user(db)
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert events(db) == []


# Issue #18 replaced the lock (ten failures, then 15 minutes refused, relocked by one more failure) with a
# growing wait: these two tests changed with the rule; tests/integration/test_sign_in_throttling.py has more.
def test_a_try_during_the_wait_is_refused_unread_even_with_the_right_password(app, client, db):
    app.config.update(SIGN_IN_FIRST_DELAY_SECONDS=60)  # a wait long enough that the test cannot outrun it
    user = make_user(db)
    for _ in range(5):  # five tries back to back; the fifth failure makes the next try wait
        client.submit("/sign-in", {"email": user.email, "password": "wrong-password-guess"})
    right = client.submit("/sign-in", {"email": user.email, "password": PASSWORD})
    assert right.status_code == 200
    # The same message as a wrong password: a wait says nothing about the account.
    assert error_messages(right.soup) == {"email": "Enter a correct email address and password"}
    assert events(db, user.id)[-2:] == ["sign_in_slowed", "sign_in_refused_slowed"]


def test_after_the_wait_the_right_password_works_and_resets_the_count(client, db):
    user = make_user(db)
    for _ in range(5):
        client.submit("/sign-in", {"email": user.email, "password": "wrong-password-guess"})
    db.expire_all()
    counter = db.get(ThrottleCounter, f"account:{throttling.digest(user.email)}")
    assert counter.failures == 5
    counter.blocked_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.commit()
    client.sign_in(user.email)
    db.expire_all()
    assert db.get(ThrottleCounter, f"account:{throttling.digest(user.email)}") is None


def test_a_session_cookie_captured_before_sign_out_is_refused_after_it(app, db):
    user = make_user(db, Role.COORDINATOR)
    browser = app.test_client()
    browser.sign_in(user.email)
    captured = browser.get_cookie("sng_session").value
    token = browser.csrf_token("/")
    browser.post("/sign-out", data={"csrf_token": token})

    attacker = app.test_client()
    attacker.set_cookie("sng_session", captured)
    response = attacker.get("/accounts")
    assert response.status_code == 302 and response.location.startswith("/sign-in")


def test_disabling_an_account_ends_its_live_sessions(app, db):
    coordinator = make_user(db, Role.COORDINATOR)
    volunteer = make_user(db)
    victim = app.test_client()
    victim.sign_in(volunteer.email)
    assert victim.get("/").status_code == 200

    admin = app.test_client()
    admin.sign_in(coordinator.email)
    response = admin.submit(f"/accounts/{volunteer.id}/disable", {}, token_from="/accounts")
    assert response.status_code == 302
    assert victim.get("/").status_code == 302
    refused = victim.submit("/sign-in", {"email": volunteer.email, "password": PASSWORD})
    assert "disabled" in error_messages(refused.soup)["email"]


def test_idle_and_absolute_timeouts(app, db):
    user = make_user(db)
    browser = app.test_client()
    browser.sign_in(user.email)
    db.expire_all()
    row = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    row.last_seen_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
    db.commit()
    assert browser.get("/").status_code == 302
    db.expire_all()
    assert db.get(UserSession, row.id).revoked_reason == "expired_idle"

    browser.sign_in(user.email)
    db.expire_all()
    row = db.scalars(select(UserSession).where(UserSession.revoked_at.is_(None))).one()
    row.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=12, minutes=1)
    db.commit()
    assert browser.get("/").status_code == 302
    db.expire_all()
    assert db.get(UserSession, row.id).revoked_reason == "expired_absolute"


def test_sign_in_starts_a_new_session(app, db):
    user = make_user(db)
    browser = app.test_client()
    browser.get("/sign-in")
    before = browser.get_cookie("sng_session").value
    browser.sign_in(user.email)
    assert browser.get_cookie("sng_session").value != before
    with browser.session_transaction() as session:
        assert "sid" in session


def test_next_parameter_only_redirects_within_the_site(client, db):
    user = make_user(db, Role.SERGEANT)  # no second step: see test_mfa.py for next through the code page
    token = client.csrf_token("/sign-in")
    evil = client.post(
        "/sign-in?next=//evil.example/x", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert evil.location == "/"
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})
    token = client.csrf_token("/sign-in")
    good = client.post("/sign-in?next=/accounts", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert good.location == "/accounts"
