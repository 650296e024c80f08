"""Plain helpers for integration tests: the page checker, factories and form posting."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import Counter

from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.auth import totp
from core.auth.models import MFA_REQUIRED_ROLES, Role, TotpAuthenticator, User
from core.auth.passwords import hash_password
from core.db import utcnow
from core.geography.models import Borough, Ward
from matching.models import Offer, OfferStatus, Priority, RequestSkill, SupportRequest
from matching.offers.services import refresh_status
from volunteers.models import Volunteer, VolunteerKind

PASSWORD = "a-long-test-password-42"
# The authenticator app of every test account that has one (coordinators and vetting officers by default).
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
KINGS_CROSS = (51.5290, -0.1255)
BELSIZE = (51.5481, -0.1712)  # about 3.8 km from King's Cross
_PASSWORD_HASH = hash_password(PASSWORD)
_numbers = itertools.count(1)


def check_page(response: TestResponse) -> BeautifulSoup:
    """The checks every HTML page must pass (after GOV.UK Notify's client_request helper)."""
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    h1s = soup.select("h1")
    assert len(h1s) == 1, f"{response.request.path}: expected one h1, found {len(h1s)}"
    heading = " ".join(h1s[0].get_text().split())
    title = " ".join(soup.select_one("title").get_text().split())
    assert title.removeprefix("Error: ").startswith(heading), f"title {title!r} does not start with h1 {heading!r}"
    ids = Counter(tag["id"] for tag in soup.select("[id]"))
    duplicates = [i for i, n in ids.items() if n > 1]
    assert not duplicates, f"{response.request.path}: duplicate ids {duplicates}"
    for form in soup.select("form"):
        if (form.get("method") or "get").lower() == "post":
            assert form.select_one("input[name=csrf_token]"), f"{response.request.path}: a POST form lacks CSRF"
    if soup.select(".govuk-error-message"):
        assert soup.select_one(".govuk-error-summary"), "field errors shown without an error summary"
        assert title.startswith("Error: "), "a page with errors must say so in its title"
    return soup


class CheckedClient(FlaskClient):
    """A test client that runs check_page on every HTML page it fetches."""

    def open(self, *args, **kwargs) -> TestResponse:  # type: ignore[override]
        response = super().open(*args, **kwargs)
        if response.mimetype == "text/html" and not 300 <= response.status_code < 400:
            response.soup = check_page(response)  # type: ignore[attr-defined]
        return response

    def csrf_token(self, path: str = "/sign-in") -> str:
        page = self.get(path)
        token = page.soup.select_one("input[name=csrf_token]")
        assert token is not None, f"no CSRF token on {path}"
        return token["value"]

    def submit(self, path: str, data: dict, token_from: str | None = None) -> TestResponse:
        """POST a form the way a browser would: with the CSRF token from the page."""
        payload = dict(data)
        payload.setdefault("csrf_token", self.csrf_token(token_from or path))
        return self.post(path, data=payload)

    def sign_in(self, email: str, password: str = PASSWORD) -> TestResponse:
        """Sign in as a person would, answering the security code page where the account has an app."""
        response = self.submit("/sign-in", {"email": email, "password": password})
        assert response.status_code == 302, f"sign-in failed for {email}"
        if response.location.startswith("/sign-in/security-code"):
            response = self.submit("/sign-in/security-code", {"code": next_code(self.application, email)})
            assert response.status_code == 302, f"the security code was refused for {email}"
        return response


def next_code(app, email: str) -> str:
    """A code the account's authenticator app would show that has not been used yet.

    Codes are single-use within their 30 seconds and one step either side is accepted, so this takes the
    current step, or the next one if the current was used, waiting only when both have been. (Not the
    step before: it may leave the window while the request is on its way.)
    """
    with app.extensions["db_sessionmaker"]() as session:
        secret, last_step = session.execute(
            select(TotpAuthenticator.secret, TotpAuthenticator.last_step)
            .join(User, User.id == TotpAuthenticator.user_id)
            .where(User.email == email.strip().lower())
        ).one()
    now_step = totp.step_at(dt.datetime.now(dt.UTC))
    step = max(now_step, (last_step if last_step is not None else -1) + 1)
    while step > totp.step_at(dt.datetime.now(dt.UTC)) + totp.WINDOW:
        time.sleep(1)
    return totp.code_at_step(secret, step)


def make_user(session: Session, role: Role = Role.VOLUNTEER, mfa: bool | None = None, **overrides) -> User:
    """An account with PASSWORD. Roles that must have an authenticator app get one with TEST_TOTP_SECRET
    (``CheckedClient.sign_in`` answers its code page), unless ``mfa=False``; ``mfa=True`` gives any role one."""
    n = next(_numbers)
    values = dict(email=f"user{n}@test.example", full_name=f"Test User {n}", role=role, password_hash=_PASSWORD_HASH)
    values.update(overrides)
    user = User(**values)
    session.add(user)
    session.commit()
    if mfa if mfa is not None else role in MFA_REQUIRED_ROLES:
        session.add(TotpAuthenticator(user_id=user.id, secret=TEST_TOTP_SECRET))
        session.commit()
    return user


def make_volunteer(session: Session, **overrides) -> Volunteer:
    """A volunteer with an account and a profile; profile fields can be overridden."""
    user = make_user(session, Role.VOLUNTEER, **{k: overrides.pop(k) for k in ("email", "full_name") if k in overrides})
    values = dict(user_id=user.id, kind=VolunteerKind.PSV, phone="07700 900982")
    values.update(overrides)
    volunteer = Volunteer(**values)
    session.add(volunteer)
    session.commit()
    return volunteer


def borough_named(session: Session, name: str) -> Borough:
    """One of the 32 boroughs the migrations load."""
    return session.scalars(select(Borough).where(Borough.name == name)).one()


def make_wards(session: Session, borough_name: str = "Camden", count: int = 2, start: int = 0) -> list[Ward]:
    """Wards "<borough> ward <start>", "<borough> ward <start + 1>"…, all at the same point (51.5, -0.1).

    Codes are E05 + the borough's id + the ward's number, so they never repeat; ``start`` makes
    more wards in a borough that already has some.
    """
    borough = borough_named(session, borough_name)
    wards = [
        Ward(
            code=f"E05{borough.id:02d}{start + i:04d}",
            name=f"{borough_name} ward {start + i}",
            borough_id=borough.id,
            latitude=51.5,
            longitude=-0.1,
        )
        for i in range(count)
    ]
    session.add_all(wards)
    session.commit()
    return wards


def make_kings_cross_and_belsize(session: Session) -> dict[str, Ward]:
    """Two real Camden wards, at their real places (KINGS_CROSS, BELSIZE): "kings_cross" and "belsize"."""
    camden = borough_named(session, "Camden")
    wards = {
        "kings_cross": Ward(
            code="E05013583",
            name="King's Cross",
            borough_id=camden.id,
            latitude=KINGS_CROSS[0],
            longitude=KINGS_CROSS[1],
        ),
        "belsize": Ward(
            code="E05013580", name="Belsize", borough_id=camden.id, latitude=BELSIZE[0], longitude=BELSIZE[1]
        ),
    }
    session.add_all(wards.values())
    session.commit()
    return wards


def make_request(session: Session, ward: Ward, start: dt.datetime, skills=(), **overrides) -> SupportRequest:
    """A routine cyber-crime victim visit for one person: an hour's work in a two-hour window from ``start``.

    Raised by a new sergeant unless ``created_by_id`` is given; ``skills`` are extra skill codes asked for.
    """
    if "created_by_id" not in overrides:
        overrides["created_by_id"] = make_user(session, Role.SERGEANT).id
    values = dict(
        ward_id=ward.id,
        task_type_code="cyber_victim_visit",
        title="A visit",
        description="Advice.",
        window_start=start,
        window_end=start + dt.timedelta(hours=2),
        duration_minutes=60,
        people_needed=1,
        priority=Priority.ROUTINE,
    )
    values.update(overrides)
    item = SupportRequest(**values)
    item.skills = [RequestSkill(skill_code=code) for code in skills]
    session.add(item)
    session.commit()
    return item


def date_fields(field: str, day: dt.date) -> dict:
    """Form data for a GOV.UK date input: ``field`` gets the day, month and year as three values."""
    return {field: [str(day.day), str(day.month), str(day.year)]}


def error_messages(soup: BeautifulSoup) -> dict[str, str]:
    """Field id → the error message shown by it."""
    out = {}
    for message in soup.select(".govuk-error-message"):
        group = message.find_parent(class_="govuk-form-group")
        control = group.select_one("input, select, textarea") if group else None
        text = " ".join(message.get_text().split()).removeprefix("Error: ")
        out[control["id"] if control else "?"] = text
    return out


def make_offer(
    db: Session, volunteer: Volunteer, item: SupportRequest, status: OfferStatus = OfferStatus.OFFERED
) -> Offer:
    """``volunteer`` offered (or, by ``status``, booked on) ``item``'s slot as the matcher books them: offered two
    hours ago, answered an hour ago unless still open; the request's status follows."""
    now = utcnow()
    offer = Offer(
        request_id=item.id,
        volunteer_id=volunteer.id,
        status=status,
        starts_at=item.window_start,
        ends_at=item.deployment_end,
        load_minutes=item.duration_minutes,
        explanation="Cyber-crime victim support, expert; 0.0 km away",
        offered_at=now - dt.timedelta(hours=2),
        respond_by=now + dt.timedelta(hours=40),
        answered_at=None if status is OfferStatus.OFFERED else now - dt.timedelta(hours=1),
    )
    db.add(offer)
    db.flush()
    refresh_status(db, [item.id])
    db.commit()
    return offer
