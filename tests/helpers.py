"""Plain helpers for integration tests: the page checker, factories and form posting."""

from __future__ import annotations

import itertools
from collections import Counter

from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.auth.models import Role, User
from core.auth.passwords import hash_password
from volunteers.models import Volunteer, VolunteerKind

PASSWORD = "a-long-test-password-42"
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
        response = self.submit("/sign-in", {"email": email, "password": password})
        assert response.status_code == 302, f"sign-in failed for {email}"
        return response


def make_user(session: Session, role: Role = Role.VOLUNTEER, **overrides) -> User:
    n = next(_numbers)
    values = dict(email=f"user{n}@test.example", full_name=f"Test User {n}", role=role, password_hash=_PASSWORD_HASH)
    values.update(overrides)
    user = User(**values)
    session.add(user)
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


def error_messages(soup: BeautifulSoup) -> dict[str, str]:
    """Field id → the error message shown by it."""
    out = {}
    for message in soup.select(".govuk-error-message"):
        group = message.find_parent(class_="govuk-form-group")
        control = group.select_one("input, select, textarea") if group else None
        text = " ".join(message.get_text().split()).removeprefix("Error: ")
        out[control["id"] if control else "?"] = text
    return out
