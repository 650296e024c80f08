"""What the account views share: the browser session's keys, same-site redirects, and
``@recent_auth_required`` for any view that changes sign-in details or hands out personal data in bulk.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import redirect, request, session, url_for
from flask_login import login_user
from werkzeug.wrappers import Response

from core.auth import mfa
from core.auth.models import PendingStep, User
from core.db import get_session

F = TypeVar("F", bound=Callable[..., Any])

SESSION_TOKEN_KEY = "sid"  # noqa: S105 - the session key name, not a secret
# A sign-in whose password was right, waiting for its second step (a pending server-side session).
PENDING_TOKEN_KEY = "pending_sid"  # noqa: S105 - the session key name, not a secret
# Where to go once the second step is done.
NEXT_KEY = "next_after_sign_in"


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: an open redirect would make our sign-in page a phishing aid."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def recent_auth_required(view: F) -> F:
    """Let the view run only if the person proved who they are (password, and a code where they have an
    authenticator app) within the last 15 minutes; otherwise ask them first, then come back.

    Put it under ``@allow(...)``. A form posted after the window has passed is shown again, empty, once
    they have confirmed: what it held is not replayed.
    """

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if mfa.recently_authenticated(get_session(), session.get(SESSION_TOKEN_KEY)):
            return view(*args, **kwargs)
        return redirect(url_for("account.confirm_identity", next=_back_after_confirming()))

    return wrapped  # type: ignore[return-value]


def _back_after_confirming() -> str:
    """Where to return once identity is confirmed: this page, or for a form posted from another page
    (a button on a list), that page: a redirect cannot repeat a POST."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and safe_next(referrer.path):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return request.path


def after_password(user: User, token: str, next_target: str | None) -> Response:
    """Where a right password leads: into the service, or to the second step it still needs."""
    pending = mfa.pending_sign_in(get_session(), token)
    target = safe_next(next_target)
    _fresh_session()
    if pending is None:
        login_user(user)
        session[SESSION_TOKEN_KEY] = token
        return redirect(target or url_for("home.index"))
    session[PENDING_TOKEN_KEY] = token
    if target:
        session[NEXT_KEY] = target
    if pending.step is PendingStep.CODE:
        return redirect(url_for("account.security_code"))
    return redirect(url_for("account.set_up_at_sign_in"))


def finish_sign_in(user: User, token: str) -> str:
    """The second step is done: sign the browser in under the new full session. Returns where to go."""
    target = safe_next(session.get(NEXT_KEY)) or url_for("home.index")
    _fresh_session()
    login_user(user)
    session[SESSION_TOKEN_KEY] = token
    return target


def _fresh_session() -> None:
    """A fresh browser session on each step of signing in: nothing carried over from before, except the
    messages just flashed for the next page."""
    flashes = session.get("_flashes")
    session.clear()
    if flashes:
        session["_flashes"] = flashes
