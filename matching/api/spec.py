"""The OpenAPI 3.1 document, generated with apispec from the API's own routes (``matching.api.views``,
each declared with ``@operation``) and the marshmallow schemas that serialise their responses and read
their query strings, so the document says what the code does. Built once per app.
"""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from core.hardening import MAX_ID
from matching.api import schemas
from matching.api.tokens import SCOPES

_RULE_ARG = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
_PROBLEMS = {
    "400": ("BadRequest", "A query parameter is not right: invalid_params names each one and says why."),
    "401": ("Unauthorized", "No token, or one that is unknown, malformed, expired or revoked."),
    "403": ("Forbidden", "The token does not have this operation's scope."),
    "404": ("NotFound", "Nothing has this id."),
    "429": ("TooManyRequests", "Too many calls with this token this minute: wait Retry-After seconds."),
    "500": ("ServerError", "Something went wrong on our side."),
}
_RATE_HEADERS = {
    "RateLimit-Limit": "Calls this token may make in a calendar minute.",
    "RateLimit-Remaining": "Calls left in this minute.",
    "RateLimit-Reset": "Seconds until the minute ends and the count starts again.",
}


def document(app: Flask) -> dict:
    if "api_openapi" not in app.extensions:
        app.extensions["api_openapi"] = _build(app)
    return app.extensions["api_openapi"]


def _build(app: Flask) -> dict:
    spec = APISpec(
        title=f"{app.config['SERVICE_NAME']} API",
        version="1",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Read-only figures and records for force systems (duty, HR): support requests, offers, "
            "deployments, coverage and volunteers' minimal fields. Never vetting. See docs/api.md."
        },
    )
    spec.components.security_scheme(
        "bearer",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token issued by a coordinator at /api-tokens. Scopes: "
            + "; ".join(f"{name}: {text}" for name, text in SCOPES.items()),
        },
    )
    spec.components.schema("Problem", schema=schemas.ProblemSchema)
    for name, description in _RATE_HEADERS.items():
        spec.components.header(name, {"description": description, "schema": {"type": "integer", "minimum": 0}})
    for _code, (name, description) in _PROBLEMS.items():
        headers = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
        spec.components.response(
            name,
            {
                "description": description,
                "content": {"application/problem+json": {"schema": "Problem"}},
                **({"headers": headers} if name == "TooManyRequests" else {}),
            },
        )

    from matching.api.views import operation_of

    with app.test_request_context():
        rules = sorted(
            (rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")), key=lambda r: r.rule
        )
        for rule in rules:
            op = operation_of(rule.endpoint)
            if op is None:
                continue
            parameters: list = []
            if op.query is not None:
                parameters.append({"in": "query", "schema": op.query})
            for argument in _RULE_ARG.findall(rule.rule):
                parameters.append(
                    {
                        "in": "path",
                        "name": argument,
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    }
                )
            responses: dict = {
                "200": {
                    "description": op.summary,
                    "content": {"application/json": {"schema": op.response}},
                    "headers": dict.fromkeys(_RATE_HEADERS, None),
                }
            }
            for code, (name, _description) in _PROBLEMS.items():
                if code != "404" or op.item:
                    responses[code] = name
            for name in _RATE_HEADERS:
                responses["200"]["headers"][name] = name
            spec.path(
                path=_RULE_ARG.sub(r"{\1}", rule.rule),
                operations={
                    "get": {
                        "operationId": rule.endpoint.removeprefix("api."),
                        "summary": op.summary,
                        "description": op.description,
                        "security": [{"bearer": []}],
                        "parameters": parameters,
                        "responses": responses,
                    }
                },
            )
    return spec.to_dict()
