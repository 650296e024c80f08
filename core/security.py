"""Security headers on every response, the CSP nonce for our few inline scripts, and the security log's
stream (JSON lines on stderr, each labelled with the client's address)."""

from __future__ import annotations

import secrets

from flask import Flask, g, request
from flask_login import current_user
from werkzeug.wrappers import Response

from core.auth import security_log


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    security_log.install()

    def _label_security_events() -> None:
        # ProxyFix has already put the client's own address here when TRUSTED_PROXIES is set.
        g.client_address_token = security_log.client_address.set(request.remote_addr)

    # First of all before_request functions (CSRF's and enforce_access among them), so that whatever
    # they refuse and log carries the client's address.
    app.before_request_funcs.setdefault(None, []).insert(0, _label_security_events)

    @app.teardown_request
    def _unlabel_security_events(_error: BaseException | None) -> None:
        token = g.pop("client_address_token", None)
        if token is not None:
            security_log.client_address.reset(token)

    @app.after_request
    def _headers(response: Response) -> Response:
        nonce = csp_nonce()
        response.headers["Content-Security-Policy"] = "; ".join(
            [
                "default-src 'self'",
                f"script-src 'self' 'nonce-{nonce}'",
                "style-src 'self'",
                "img-src 'self' data:",
                "font-src 'self'",
                "connect-src 'self'",
                "form-action 'self'",
                "object-src 'none'",
                "base-uri 'none'",
                "frame-ancestors 'none'",
            ]
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        # Pages for a signed-in person may hold personal data: never keep them in a cache or the
        # browser's back-forward history after sign-out.
        if request.endpoint != "static" and current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response
