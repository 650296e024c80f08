"""The read-only JSON API for force systems, under /api/v1 (issue #21).

Every route is ``@public`` to the session layer (``core.permissions.enforce_access``): a browser's session
cookie gives no access here. Instead this blueprint's ``before_request`` checks the bearer token (401), counts
the call against the token's rate limit (429) and checks the operation's scope (403); ``after_request`` adds
the RateLimit headers and logs the call against the token. Each view is declared with ``@operation``, which
also reads its query string with the operation's marshmallow schema (a 400 naming each bad parameter) and is
what ``matching.api.spec`` turns into the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, current_app, g, jsonify, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from core.db import get_session, utcnow
from core.geography.models import Bcu, Borough, Ward
from core.hardening import MAX_ID
from core.permissions import public
from core.timeutil import london_today
from matching.api import queries, schemas, tokens
from matching.api.problems import invalid as invalid_params
from matching.api.problems import problem
from matching.insight import coverage as insight_coverage
from matching.insight.scope import Scope

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The coverage figures' default period when none is given: the dashboards' default, 13 weeks.
COVERAGE_DEFAULT_DAYS = 91


@dataclass(frozen=True)
class Operation:
    """What an API route is, for the token check, the query string and the OpenAPI document."""

    summary: str
    description: str
    response: type[Schema]
    scope: str | None  # None: no token needed (the OpenAPI document)
    query: type[Schema] | None = None
    item: bool = False  # one thing by its id: it may be a 404


def operation(op: Operation) -> Callable:
    def mark(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**kwargs):
            query: dict = {}
            if op.query is not None:
                try:
                    query = op.query().load(request.args.to_dict())
                except ValidationError as error:
                    return problem(
                        400,
                        "Some query parameters are not right: see invalid_params.",
                        invalid_params=invalid_params(error.messages),
                    )
            return view(query, **kwargs)

        wrapper.api_operation = op  # type: ignore[attr-defined]
        return public(wrapper)

    return mark


def operation_of(endpoint: str | None) -> Operation | None:
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return getattr(view, "api_operation", None)


@bp.before_request
def _check_token():
    op = operation_of(request.endpoint)
    if op is None or op.scope is None:
        return None
    db = get_session()
    now = utcnow()
    try:
        caller = tokens.authenticate(db, request.headers.get("Authorization"), now)
    except tokens.Refused as refused:
        db.rollback()
        return problem(401, refused.reason)
    g.api_caller = caller
    g.api_rate = rate = tokens.count_call(db, caller.token_id, current_app.config["API_RATE_LIMIT_PER_MINUTE"], now)
    if rate.exceeded:
        wait = rate.seconds_to_reset(now)
        return problem(
            429,
            f"This token may make {rate.limit} calls a minute. Try again in {wait} second{'' if wait == 1 else 's'}.",
            headers={"Retry-After": str(wait)},
        )
    if op.scope not in caller.scopes:
        return problem(403, f"This token does not have the '{op.scope}' scope. A coordinator can issue one that does.")
    return None


@bp.after_request
def _finish(response):
    now = utcnow()
    rate: tokens.RateCount | None = g.get("api_rate")
    if rate is not None:
        response.headers["RateLimit-Limit"] = str(rate.limit)
        response.headers["RateLimit-Remaining"] = str(rate.remaining)
        response.headers["RateLimit-Reset"] = str(rate.seconds_to_reset(now))
    # Personal data for a machine: no shared cache keeps it.
    response.headers["Cache-Control"] = "no-store"
    caller: tokens.Caller | None = g.get("api_caller")
    if caller is not None:
        db = get_session()
        db.rollback()  # end the call's reads (or a failed transaction) before logging it
        tokens.record_use(
            db,
            caller.token_id,
            method=request.method,
            path=request.full_path.removesuffix("?"),
            status=response.status_code,
            address=request.remote_addr,
            now=now,
        )
    return response


# ---- Pages --------------------------------------------------------------------------------------


def _cursors() -> URLSafeSerializer:
    # Signed, and for this list only: a cursor is opaque, and a made-up or edited one is refused, not guessed at.
    return URLSafeSerializer(current_app.secret_key, salt=f"api-cursor:{request.endpoint}")


def _bad_cursor():
    return problem(
        400,
        "The cursor is not one this list gave. Start again without it.",
        invalid_params=[{"name": "cursor", "reason": "Not a cursor from this list's next_cursor"}],
    )


def _list(query: dict, fetch: Callable, schema: type[Schema]):
    after = None
    if query.get("cursor"):
        try:
            after = _cursors().loads(query["cursor"])
        except BadSignature:
            return _bad_cursor()
        if not isinstance(after, int) or isinstance(after, bool) or not 0 < after <= MAX_ID:
            return _bad_cursor()
    limit = query["limit"]
    rows = fetch(get_session(), query, after, limit)
    next_cursor = next_url = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _cursors().dumps(rows[-1]["id"])
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        next_url = url_for(request.endpoint, **args, cursor=next_cursor)
    return jsonify(schema().dump({"data": rows, "next_cursor": next_cursor, "links": {"next": next_url}}))


_PAGES = (
    "Pages of at most `limit` items, oldest id first; `next_cursor` (and `links.next`) give the next page, "
    "null on the last. "
)


@bp.route("/requests", provide_automatic_options=False)
@operation(
    Operation(
        summary="Support requests",
        description=_PAGES + "`from`/`to` choose by the London day the request's window starts.",
        response=schemas.RequestPage,
        scope="requests:read",
        query=schemas.RequestsQuery,
    )
)
def list_requests(query: dict):
    return _list(query, queries.requests_page, schemas.RequestPage)


@bp.route("/requests/<int:request_id>", provide_automatic_options=False)
@operation(
    Operation(
        summary="One support request",
        description="A 404 problem if there is no request with this id.",
        response=schemas.RequestSchema,
        scope="requests:read",
        item=True,
    )
)
def show_request(query: dict, request_id: int):
    row = queries.one_request(get_session(), request_id)
    if row is None:
        return problem(404, "There is no support request with this id.")
    return jsonify(schemas.RequestSchema().dump(row))


@bp.route("/offers", provide_automatic_options=False)
@operation(
    Operation(
        summary="Offers",
        description=_PAGES + "`from`/`to` choose by the London day the deployment starts.",
        response=schemas.OfferPage,
        scope="offers:read",
        query=schemas.OffersQuery,
    )
)
def list_offers(query: dict):
    return _list(query, queries.offers_page, schemas.OfferPage)


@bp.route("/deployments", provide_automatic_options=False)
@operation(
    Operation(
        summary="Deployments: attendance and hours",
        description=_PAGES + "One per booking whose time has come and about which something was recorded. "
        "`from`/`to` choose by the London day it started.",
        response=schemas.DeploymentPage,
        scope="deployments:read",
        query=schemas.DeploymentsQuery,
    )
)
def list_deployments(query: dict):
    return _list(query, queries.deployments_page, schemas.DeploymentPage)


@bp.route("/volunteers", provide_automatic_options=False)
@operation(
    Operation(
        summary="Volunteers (minimal fields)",
        description=_PAGES + "Active, paused and departed volunteers (applicants are never listed), with their "
        "name, kind, status, home ward, skills and the day they joined: never vetting, notes or contact details.",
        response=schemas.VolunteerPage,
        scope="volunteers:read",
        query=schemas.VolunteersQuery,
    )
)
def list_volunteers(query: dict):
    return _list(query, queries.volunteers_page, schemas.VolunteerPage)


@bp.route("/coverage", provide_automatic_options=False)
@operation(
    Operation(
        summary="Coverage figures, week by week",
        description="Places asked, offered, booked, served, unfilled and still open, by priority, for each week "
        "(starting Monday, London time) of requests whose window starts from `from` to `to` (London days, both "
        f"included, at most {schemas.COVERAGE_MAX_DAYS} days; by default the {COVERAGE_DEFAULT_DAYS} days to "
        "today), in all of London or one `ward`, `borough` or `bcu`. The same figures as the coverage dashboard.",
        response=schemas.CoverageSchema,
        scope="coverage:read",
        query=schemas.CoverageQuery,
    )
)
def coverage(query: dict):
    db = get_session()
    now = utcnow()
    first, last = query.get("from_"), query.get("to")
    span = dt.timedelta(days=COVERAGE_DEFAULT_DAYS - 1)
    if last is None:
        last = first + span if first is not None else london_today(now)
    if first is None:
        first = last - span
    if (last - first).days + 1 > schemas.COVERAGE_MAX_DAYS or last < first:
        return problem(
            400,
            "Some query parameters are not right: see invalid_params.",
            invalid_params=[{"name": "to", "reason": f"The period may be at most {schemas.COVERAGE_MAX_DAYS} days"}],
        )
    area = _area(db, query)
    if isinstance(area, str):
        return problem(
            400,
            "Some query parameters are not right: see invalid_params.",
            invalid_params=[{"name": area, "reason": f"There is no {area} with this id"}],
        )
    ward_ids, label = area
    scope = Scope(
        first_day=first,
        last_day=last,
        ward_ids=ward_ids,
        area_label=label,
        period_label=f"{first:%-d %B %Y} to {last:%-d %B %Y}",
        bcu_id=query.get("bcu"),
        borough_id=query.get("borough"),
        ward_id=query.get("ward"),
        period="custom",
    )
    rows = [
        {
            "week_start": row.week_start,
            "priority": row.priority,
            "asked": row.asked,
            "offered": row.offered,
            "booked": row.booked,
            "served": row.served,
            "unfilled": row.unfilled,
            "still_open": row.still_open,
            "cancelled": row.cancelled,
        }
        for row in insight_coverage.weekly_coverage(db, scope, now)
    ]
    return jsonify(
        schemas.CoverageSchema().dump({"from_": first, "to": last, "area": label, "as_of": now, "data": rows})
    )


def _area(db, query: dict) -> tuple[frozenset[int] | None, str] | str:
    """(the wards counted, the area in words), or the name of the parameter naming no such place."""
    if query.get("ward") is not None:
        name = db.scalar(select(Ward.name).where(Ward.id == query["ward"]))
        return (frozenset({query["ward"]}), name) if name is not None else "ward"
    if query.get("borough") is not None:
        name = db.scalar(select(Borough.name).where(Borough.id == query["borough"]))
        if name is None:
            return "borough"
        return frozenset(db.scalars(select(Ward.id).where(Ward.borough_id == query["borough"]))), name
    if query.get("bcu") is not None:
        name = db.scalar(select(Bcu.name).where(Bcu.id == query["bcu"]))
        if name is None:
            return "bcu"
        wards = db.scalars(
            select(Ward.id).join(Borough, Borough.id == Ward.borough_id).where(Borough.bcu_id == query["bcu"])
        )
        return frozenset(wards), f"{name} BCU"
    return None, "All of London"


@bp.route("/openapi.json", provide_automatic_options=False)
@public
def openapi():
    """The OpenAPI 3.1 document, generated from these routes and their schemas (no token needed: it holds no data)."""
    from matching.api.spec import document

    return jsonify(document(current_app))
