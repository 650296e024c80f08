"""One decorator states who may use a route; a before-request hook enforces it, failing closed.

Every view carries an ``access`` attribute: ``PUBLIC`` or a frozenset of roles. A route without
one is refused (403) for everybody, and tests/integration/test_permissions.py fails the build.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, request
from flask_login import current_user

from core.auth.models import Role

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
EVERY_ROLE = frozenset(Role)


def allow(*roles: Role) -> Callable[[F], F]:
    """Let only signed-in users with one of ``roles`` use the route."""
    if not roles:
        raise ValueError("allow() needs at least one role; use @public for open routes")

    def mark(view: F) -> F:
        view.access = frozenset(roles)  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    """Anyone may use the route, signed in or not (sign-in page, error pages, health check)."""
    view.access = PUBLIC  # type: ignore[attr-defined]
    return view


def access_of(endpoint: str) -> frozenset[Role] | str | None:
    if endpoint == "static":
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def enforce_access() -> Any:
    """before_request: apply the route's stated permission."""
    if request.endpoint is None:  # no route matched: let the 404 handler answer
        return None
    rule = access_of(request.endpoint)
    if rule == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    if rule is None or current_user.role not in rule:
        abort(403)
    return None
