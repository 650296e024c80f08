"""Every API error as ``application/problem+json`` (RFC 9457): a force system reads no HTML error page.

``type`` is ``about:blank``, so ``title`` is the HTTP status's own phrase and ``detail`` says what to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

PROBLEM_TYPE = "application/problem+json"

_DETAILS = {
    400: "The request could not be read.",
    401: "Send a working API token: 'Authorization: Bearer sng_…'.",
    403: "This token may not read this.",
    404: "There is nothing at this address. The API's operations are listed at /api/v1/openapi.json.",
    405: "The API is read-only: only GET is accepted.",
    413: "The request is too large.",
    429: "Too many calls with this token in this minute.",
    500: "Something went wrong on our side. Try again later; if it keeps happening, tell the service's team.",
}


def problem(
    status: int,
    detail: str | None = None,
    *,
    invalid_params: list[dict] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or _DETAILS.get(status, _DETAILS[500 if status >= 500 else 400]),
    }
    if invalid_params:
        body["invalid_params"] = invalid_params
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def for_error(code: int, error: BaseException | None) -> Response:
    """The problem for an error the app's handlers caught under /api/ (no route, a wrong method, a crash)."""
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    elif isinstance(error, HTTPException):
        headers.update({k: v for k, v in error.get_headers() if k.lower() == "allow"})
    return problem(code, headers=headers)


def invalid(messages: Mapping) -> list[dict]:
    """marshmallow's messages ({"limit": ["Must be…"], "from": […]}) as RFC 9457 ``invalid_params``."""
    out = []
    for name, reasons in messages.items():
        if isinstance(reasons, Mapping):  # a nested field: name its first problem
            reasons = [str(v) for v in reasons.values()]
        text = " ".join(str(r) for r in reasons) if isinstance(reasons, list | tuple) else str(reasons)
        out.append({"name": "request" if name == "_schema" else str(name), "reason": text})
    return out
