"""Generic error pages in the service's style; refused access goes into the security log.

Under a path prefix given to ``init_app`` (the JSON API's /api/), errors are answered by that feature's own
function instead (application/problem+json): a machine reading the API gets no HTML page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Flask, Response, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from core.auth.services import log_event
from core.db import get_session
from core.hardening import size_text, upload_limit

_TITLES = {
    400: "Sorry, there is a problem with that request",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "Sorry, there is a problem with that request",
    413: "What you sent is too large",
    500: "Sorry, there is a problem with the service",
}


def init_app(app: Flask, answers_under: Mapping[str, Callable[[int, BaseException], Response]] | None = None) -> None:
    """``answers_under``: a path prefix → the function (status, error) that answers errors under it."""
    own_answers = dict(answers_under or {})

    def _own(code: int, error: BaseException) -> Response | None:
        for prefix, answer in own_answers.items():
            if request.path.startswith(prefix):
                return answer(code, error)
        return None

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        if (own := _own(400, error)) is not None:
            return own
        return render_template(
            "errors/error.html",
            code=400,
            title=_TITLES[400],
            message="The form had expired or was not sent from this service. Go back, reload the page and try again.",
        ), 400

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error: RequestEntityTooLarge):
        if (own := _own(413, error)) is not None:
            return own
        # Nothing of the body has been read or saved; say what this page takes, so the person can act.
        return render_template(
            "errors/error.html",
            code=413,
            title=_TITLES[413],
            message=f"This page accepts at most {size_text(upload_limit(request))}. Nothing has been saved: "
            "go back and send less, for example a smaller file or shorter answers.",
        ), 413

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code = error.code or 500
        if (own := _own(code, error)) is not None:
            return own
        if code == 403:
            user_id = current_user.id if current_user.is_authenticated else None
            log_event(get_session(), "access_refused", user_id, f"{request.method} {request.path}")
        title = _TITLES.get(code, _TITLES[400] if code < 500 else _TITLES[500])
        return render_template("errors/error.html", code=code, title=title, message=None), code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if (own := _own(500, error)) is not None:
            return own
        return render_template("errors/error.html", code=500, title=_TITLES[500], message=None), 500
