"""The credential life cycle: forgotten password, invitations, changing one's password and email address.

Mail goes to a real SMTP server on a loopback port (the ``smtp`` fixture); the links in it are followed
as a person would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import time

from sqlalchemy import select, update

from core.auth.credentials import queue_invitations
from core.auth.models import AccountToken, Role, SecurityEvent, TokenPurpose, User, UserSession
from core.auth.passwords import has_usable_password, verify_password
from tests.helpers import PASSWORD, error_messages, make_user
from tests.integration.conftest import body
from tests.integration.test_directory import GOOD_ROW, _csv

NEW_PASSWORD = "copper kettle morning"
LINK = re.compile(r"http://127\.0\.0\.1:5000(/\S+)")


def wait_for_mail(inbox, count: int, timeout: float = 10.0) -> list:
    """The first ``count`` messages, waiting for those sent from a background thread."""
    deadline = time.monotonic() + timeout
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(inbox.messages) >= count, f"expected {count} message(s), got {len(inbox.messages)}"
    return inbox.messages[:count]


def link_in(envelope) -> str:
    match = LINK.search(body(envelope))
    assert match, body(envelope)
    return match.group(1)


def events(db, name: str) -> list[SecurityEvent]:
    db.expire_all()
    return list(db.scalars(select(SecurityEvent).where(SecurityEvent.event == name).order_by(SecurityEvent.id)))


def main_text(response) -> str:
    return " ".join(response.soup.select_one("main").get_text(" ").split())


def ask_for_reset(client, email: str):
    response = client.submit("/forgotten-password", {"email": email})
    assert response.status_code == 302 and response.location == "/forgotten-password/check-your-email"
    return client.get(response.location)


# ---- Forgotten password -------------------------------------------------------------------------


def test_the_sign_in_page_links_to_a_password_reset(client):
    page = client.get("/sign-in")
    link = page.soup.select_one("a[href='/forgotten-password']")
    assert link is not None and link.get_text(strip=True) == "Forgotten your password?"
    assert "ask your coordinator to reset it" not in page.soup.get_text()


def test_the_reply_reads_the_same_for_a_known_and_an_unknown_address_and_only_the_known_is_emailed(app, db, smtp):
    user = make_user(db, email="known@test.example")
    known = ask_for_reset(app.test_client(), "Known@test.example")
    unknown = ask_for_reset(app.test_client(), "nobody@test.example")
    assert known.soup.select_one("h1").get_text(strip=True) == "Check your email"
    assert main_text(known).replace("Known@test.example", "X") == main_text(unknown).replace("nobody@test.example", "X")

    (message,) = wait_for_mail(smtp, 1)
    time.sleep(0.3)  # room for a second message, which must not come
    assert len(smtp.messages) == 1 and message.rcpt_tos == ["known@test.example"]
    path = link_in(message)
    assert path.startswith("/reset-password/")
    # Only the token's SHA-256 is stored, and the link lives an hour.
    token = path.rsplit("/", 1)[1]
    db.expire_all()
    stored = db.scalars(select(AccountToken).where(AccountToken.user_id == user.id)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash
    assert stored.purpose is TokenPurpose.PASSWORD_RESET
    assert dt.timedelta(minutes=59) < stored.expires_at - stored.created_at <= dt.timedelta(hours=1)
    # The log names no address.
    logged = events(db, "password_reset_requested")
    assert [e.user_id for e in logged] == [user.id, None] and all("@" not in e.detail for e in logged)


def test_the_forgotten_password_form_checks_what_was_typed(client):
    empty = client.submit("/forgotten-password", {"email": ""})
    assert error_messages(empty.soup) == {"email": "Enter your email address"}
    bad = client.submit("/forgotten-password", {"email": "not an address"})
    assert error_messages(bad.soup) == {"email": "Enter an email address in the correct format, like name@example.org"}
    nul = client.submit("/forgotten-password", {"email": "someone@test.example\x00"})
    assert set(error_messages(nul.soup)) == {"email"}
    long = client.submit("/forgotten-password", {"email": "a" * 10_000 + "@test.example"})
    assert error_messages(long.soup) == {"email": "Email address must be 254 characters or fewer"}


def test_a_reset_link_works_once_ends_every_session_and_signs_in_afresh(app, db, smtp):
    user = make_user(db)
    old_browser = app.test_client()
    old_browser.sign_in(user.email)
    assert old_browser.get("/").status_code == 200

    browser = app.test_client()
    ask_for_reset(browser, user.email)
    path = link_in(wait_for_mail(smtp, 1)[0])
    page = browser.get(path)
    assert page.soup.select_one("h1").get_text(strip=True) == "Choose a new password"
    assert user.email in main_text(page)

    # A password the policy refuses is shown by the field, and does not use the link up.
    weak = browser.submit(path, {"password": "password1234"})
    assert "too common" in error_messages(weak.soup)["password"]
    empty = browser.submit(path, {"password": ""})
    assert error_messages(empty.soup) == {"password": "Enter a new password"}

    done = browser.submit(path, {"password": NEW_PASSWORD})
    assert done.status_code == 302 and done.location == "/"
    home = browser.get("/")
    assert home.status_code == 200 and "Your password has been changed" in home.soup.get_text()

    # The old session is over, wherever it was.
    assert old_browser.get("/").status_code == 302
    db.expire_all()
    reasons = {s.revoked_reason for s in db.scalars(select(UserSession).where(UserSession.user_id == user.id))}
    assert "password_reset" in reasons
    # The link is spent.
    again = app.test_client().get(path)
    assert again.soup.select_one("h1").get_text(strip=True) == "This link has expired or has already been used"
    reused = app.test_client().submit(path, {"password": "another fine password"}, token_from="/sign-in")
    assert reused.soup.select_one("h1").get_text(strip=True) == "This link has expired or has already been used"
    # The new password works; the old one does not.
    db.expire_all()
    stored = db.get(User, user.id)
    assert verify_password(stored.password_hash, NEW_PASSWORD) and not verify_password(stored.password_hash, PASSWORD)
    assert [e.user_id for e in events(db, "password_reset")] == [user.id]


def test_a_reset_link_expires_after_an_hour(app, db, smtp):
    user = make_user(db)
    client = app.test_client()
    ask_for_reset(client, user.email)
    path = link_in(wait_for_mail(smtp, 1)[0])
    db.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id)
        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    db.commit()
    page = client.get(path)
    assert page.soup.select_one("h1").get_text(strip=True) == "This link has expired or has already been used"
    assert page.soup.select_one("a[href='/forgotten-password']")
    assert client.get("/reset-password/not-a-token").soup.select_one("h1").get_text(strip=True).startswith("This link")


def test_reset_emails_are_limited_per_account_and_the_reply_does_not_change(app, db, smtp):
    user = make_user(db)
    client = app.test_client()
    replies = [main_text(ask_for_reset(client, user.email)) for _ in range(4)]
    assert len(set(replies)) == 1
    wait_for_mail(smtp, 3)
    time.sleep(0.3)
    assert len(smtp.messages) == 3
    assert [e.user_id for e in events(db, "password_reset_throttled")] == [user.id]


def test_a_reset_does_not_skip_the_second_step(app, db, smtp):
    coordinator = make_user(db, Role.COORDINATOR)
    client = app.test_client()
    ask_for_reset(client, coordinator.email)
    path = link_in(wait_for_mail(smtp, 1)[0])
    done = client.submit(path, {"password": NEW_PASSWORD})
    assert done.location == "/sign-in/security-code"
    assert client.get("/").status_code == 302  # not in yet


def test_a_disabled_account_gets_no_reset_email(app, db, smtp):
    user = make_user(db, is_disabled=True)
    ask_for_reset(app.test_client(), user.email)
    time.sleep(0.5)
    assert smtp.messages == []
    assert [e.user_id for e in events(db, "password_reset_refused")] == [user.id]


# ---- Invitations --------------------------------------------------------------------------------


def _coordinator(app, db):
    client = app.test_client()
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    return client


def test_a_new_staff_account_is_invited_to_choose_its_own_password(app, db, smtp):
    coordinator = _coordinator(app, db)
    created = coordinator.submit(
        "/accounts/new", {"full_name": "Vera Vetting", "email": "Vera@test.example", "role": "vetting_officer"}
    )
    assert created.status_code == 302
    person = db.scalars(select(User).where(User.email == "vera@test.example")).one()
    assert not has_usable_password(person.password_hash)
    (message,) = smtp.messages
    assert message.rcpt_tos == ["vera@test.example"]
    text = body(message)
    assert "choose your password" in text and "7 days" in text and "authenticator app" in text
    accounts = coordinator.get("/accounts?role=vetting_officer")
    row = next(r for r in accounts.soup.select("tbody tr") if "Vera Vetting" in r.get_text())
    assert "Invited" in row.get_text() and row.select_one("button").get_text(" ", strip=True).startswith(
        "Send invitation again"
    )
    # Until she accepts, no password signs her in.
    refused = app.test_client().submit("/sign-in", {"email": "vera@test.example", "password": "!"})
    assert refused.status_code == 200

    # Sent again: the first link stops working, the new one works.
    first = link_in(message)
    coordinator.submit(f"/accounts/{person.id}/invitation", {}, token_from="/accounts")
    second = link_in(smtp.messages[1])
    assert first != second
    vera = app.test_client()
    assert vera.get(first).soup.select_one("h1").get_text(strip=True).startswith("This link has expired")
    page = vera.get(second)
    assert page.soup.select_one("h1").get_text(strip=True) == "Create your password"
    done = vera.submit(second, {"password": NEW_PASSWORD})
    # A vetting officer sets up an authenticator app before anything else.
    assert done.location == "/sign-in/set-up-authenticator"
    db.expire_all()
    assert verify_password(db.get(User, person.id).password_hash, NEW_PASSWORD)
    assert vera.get(second).soup.select_one("h1").get_text(strip=True).startswith("This link has expired")
    # Accepted: nothing left to resend.
    assert "Send invitation again" not in coordinator.get("/accounts?role=vetting_officer").soup.get_text()
    refused = coordinator.submit(f"/accounts/{person.id}/invitation", {}, token_from="/accounts")
    assert "already chosen a password" in coordinator.get(refused.location).soup.get_text()


def test_an_invitation_expires_after_seven_days(app, db, smtp):
    coordinator = _coordinator(app, db)
    coordinator.submit("/accounts/new", {"full_name": "Sam Sergeant", "email": "sam@test.example", "role": "sergeant"})
    path = link_in(smtp.messages[0])
    db.expire_all()
    stored = db.scalars(select(AccountToken).where(AccountToken.purpose == TokenPurpose.INVITATION)).one()
    assert stored.expires_at - stored.sent_at == dt.timedelta(days=7)
    stored.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.commit()
    page = app.test_client().get(path)
    assert page.soup.select_one("h1").get_text(strip=True) == "This link has expired or has already been used"
    assert "ask your coordinator to send a new invitation" in main_text(page)
    row = next(r for r in coordinator.get("/accounts").soup.select("tbody tr") if "Sam Sergeant" in r.get_text())
    assert "Invitation expired" in row.get_text()


def test_an_invitation_that_cannot_be_sent_says_so_and_can_be_sent_again(app, db):
    coordinator = _coordinator(app, db)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9)  # nothing listens there
    created = coordinator.submit(
        "/accounts/new", {"full_name": "Al Able", "email": "al@test.example", "role": "sergeant"}
    )
    page = coordinator.get(created.location)
    assert "the invitation email could not be sent" in page.soup.get_text()


def test_imported_volunteers_are_emailed_invitations_by_the_queue(app, db, smtp):
    people = [make_user(db, password_hash="!unusable") for _ in range(3)]
    queue_invitations(db, [p.id for p in people])
    db.commit()
    result = app.test_cli_runner().invoke(args=["accounts", "send-invitations"])
    assert result.exit_code == 0 and "3 invitations sent" in result.output, result.output
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted(p.email for p in people)
    assert "volunteer" in body(smtp.messages[0])
    # Nothing is sent twice.
    assert "0 invitations sent" in app.test_cli_runner().invoke(args=["accounts", "send-invitations"]).output
    volunteer = app.test_client()
    path = link_in(next(m for m in smtp.messages if m.rcpt_tos == [people[0].email]))
    assert volunteer.submit(path, {"password": NEW_PASSWORD}).location == "/"
    assert volunteer.get("/").status_code == 200


def test_a_csv_import_invites_each_volunteer_once_the_queue_runs(app, db, smtp):
    coordinator = _coordinator(app, db)
    rows = [{**GOOD_ROW, "email": f"imported{n}@test.example"} for n in range(2)]
    token = coordinator.csrf_token("/volunteers/import")
    imported = coordinator.post(
        "/volunteers/import",
        data={"csrf_token": token, "file": (io.BytesIO(_csv(*rows)), "volunteers.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302
    assert "emailed an invitation" in coordinator.get(imported.location).soup.get_text()
    db.expire_all()
    queued = db.scalars(select(AccountToken).where(AccountToken.purpose == TokenPurpose.INVITATION)).all()
    assert len(queued) == 2 and all(t.token_hash is None for t in queued)  # no token exists before the email
    assert smtp.messages == []  # the import did not wait for mail
    assert "2 invitations sent" in app.test_cli_runner().invoke(args=["accounts", "send-invitations"]).output
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["imported0@test.example", "imported1@test.example"]
    listed = coordinator.get("/accounts?role=volunteer").soup.get_text()
    assert listed.count("Invited") == 2


def test_queued_invitations_stay_queued_when_the_mail_server_is_down(app, db):
    person = make_user(db, password_hash="!unusable")
    queue_invitations(db, [person.id])
    db.commit()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9)
    result = app.test_cli_runner().invoke(args=["accounts", "send-invitations"])
    assert result.exit_code != 0 and "stay queued" in result.output
    db.expire_all()
    assert db.scalars(select(AccountToken.token_hash)).one() is None


# ---- Changing one's own password and email address ----------------------------------------------


def test_the_account_page_is_linked_from_the_account_bar(app, db):
    client = app.test_client()
    user = make_user(db, full_name="Val Volunteer")
    client.sign_in(user.email)
    home = client.get("/")
    assert home.soup.select_one(".app-account-bar a[href='/account']").get_text(strip=True) == "Your account"
    page = client.get("/account")
    assert page.soup.select_one("h1").get_text(strip=True) == "Your account"
    links = {a["href"] for a in page.soup.select("main a")}
    assert {"/account/password", "/account/email", "/account/authenticator"} <= links


def test_changing_the_password_needs_the_current_one_and_signs_out_elsewhere(app, db, smtp):
    user = make_user(db)
    elsewhere = app.test_client()
    elsewhere.sign_in(user.email)
    client = app.test_client()
    client.sign_in(user.email)
    empty = client.submit("/account/password", {})
    assert error_messages(empty.soup) == {
        "current_password": "Enter your current password",
        "new_password": "Enter a new password",
    }
    wrong = client.submit("/account/password", {"current_password": "not it at all", "new_password": NEW_PASSWORD})
    assert error_messages(wrong.soup) == {"current_password": "Your current password is not right"}
    weak = client.submit("/account/password", {"current_password": PASSWORD, "new_password": "qwertyqwerty"})
    assert "too common" in error_messages(weak.soup)["new_password"]
    done = client.submit("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert done.location == "/account"
    assert client.get("/account").status_code == 200  # this session stays
    assert elsewhere.get("/").status_code == 302  # the other ends
    (notice,) = smtp.messages
    assert notice.rcpt_tos == [user.email] and "has just been changed" in body(notice)
    db.expire_all()
    assert verify_password(db.get(User, user.id).password_hash, NEW_PASSWORD)


def test_too_many_wrong_current_passwords_end_the_session(app, db):
    user = make_user(db)
    client = app.test_client()
    client.sign_in(user.email)
    for _ in range(4):
        client.submit("/account/password", {"current_password": "guess guess guess", "new_password": NEW_PASSWORD})
    fifth = client.submit("/account/password", {"current_password": "guess guess guess", "new_password": NEW_PASSWORD})
    assert fifth.location == "/sign-in"
    assert client.get("/").status_code == 302


def test_a_new_email_address_is_used_only_once_confirmed_and_the_old_one_is_told(app, db, smtp):
    user = make_user(db, email="old@test.example")
    client = app.test_client()
    client.sign_in(user.email)
    same = client.submit("/account/email", {"email": "OLD@test.example", "current_password": PASSWORD})
    assert error_messages(same.soup) == {"email": "That is already your email address"}
    wrong = client.submit("/account/email", {"email": "new@test.example", "current_password": "wrong guess here"})
    assert error_messages(wrong.soup) == {"current_password": "Your current password is not right"}
    assert wrong.soup.select_one("#email")["value"] == "new@test.example"  # nothing typed is lost

    asked = client.submit("/account/email", {"email": "New@test.example", "current_password": PASSWORD})
    assert asked.location == "/account/email/check-your-email"
    assert "New@test.example" in main_text(client.get(asked.location))
    (message,) = wait_for_mail(smtp, 1)
    assert message.rcpt_tos == ["new@test.example"]
    path = link_in(message)
    db.expire_all()
    assert db.get(User, user.id).email == "old@test.example"  # not yet

    # Someone else signed in cannot use the link.
    other = app.test_client()
    other.sign_in(make_user(db).email)
    assert other.get(path).soup.select_one("h1").get_text(strip=True).startswith("This link has expired")
    assert other.submit(path, {}, token_from="/").soup.select_one("h1").get_text(strip=True).startswith("This link")

    page = client.get(path)
    assert page.soup.select_one("h1").get_text(strip=True) == "Confirm your new email address"
    done = client.submit(path, {})
    assert done.location == "/account"
    assert "Your email address is now new@test.example" in client.get("/account").soup.get_text()
    db.expire_all()
    assert db.get(User, user.id).email == "new@test.example"
    (notice,) = [m for m in smtp.messages if m.rcpt_tos == ["old@test.example"]]
    assert "changed to new@test.example" in body(notice)
    assert client.get(path).soup.select_one("h1").get_text(strip=True).startswith("This link has expired")
    # The new address signs in; the old does not.
    assert app.test_client().sign_in("new@test.example").status_code == 302


def test_asking_for_an_address_that_has_an_account_reads_the_same_and_changes_nothing(app, db, smtp):
    owner = make_user(db, email="taken@test.example")
    user = make_user(db, email="mine@test.example")
    client = app.test_client()
    client.sign_in(user.email)
    asked = client.submit("/account/email", {"email": "taken@test.example", "current_password": PASSWORD})
    assert asked.location == "/account/email/check-your-email"
    (message,) = wait_for_mail(smtp, 1)
    assert message.rcpt_tos == [owner.email] and "already belongs to an account" in body(message)
    assert LINK.search(body(message)) is None or "/account/email/confirm/" not in body(message)
    db.expire_all()
    assert db.get(User, user.id).email == "mine@test.example"
    assert db.scalars(select(AccountToken).where(AccountToken.purpose == TokenPurpose.EMAIL_CHANGE)).all() == []
