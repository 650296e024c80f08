"""The API's shapes, as marshmallow schemas: the same schemas serialise every response, read every query
string and generate the OpenAPI document (``matching.api.spec``), so the document cannot drift from what
the API does.

The volunteer's shape is deliberately small (issue #21): no vetting field, clearance, note, contact detail,
occupation, employer or conflict declaration is in any schema here, so none can be serialised.
"""

from __future__ import annotations

import datetime as dt

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from core.hardening import MAX_ID
from matching.deployments.models import DeploymentOutcome
from matching.models import OfferStatus, Priority, RequestStatus
from volunteers.models import VolunteerKind, VolunteerStatus
from volunteers.skills import SkillLevel

PAGE_DEFAULT, PAGE_MAX = 50, 200
COVERAGE_MAX_DAYS = 366
CURSOR_MAX = 200
LISTED_STATUSES = [s.value for s in (VolunteerStatus.ACTIVE, VolunteerStatus.PAUSED, VolunteerStatus.LEFT)]


def _id(**kwargs) -> fields.Integer:
    return fields.Integer(strict=False, validate=validate.Range(1, MAX_ID), **kwargs)


# ---- Responses ----------------------------------------------------------------------------------


class Links(Schema):
    next = fields.String(allow_none=True, required=True, metadata={"description": "The next page, or null"})


class RequestSchema(Schema):
    id = fields.Integer(required=True)
    ward_id = fields.Integer(required=True)
    ward_name = fields.String(required=True)
    borough_name = fields.String(required=True)
    task_type_code = fields.String(required=True)
    title = fields.String(required=True)
    priority = fields.Enum(Priority, by_value=True, required=True)
    status = fields.Enum(RequestStatus, by_value=True, required=True)
    remote = fields.Boolean(required=True)
    window_start = fields.AwareDateTime(required=True)
    window_end = fields.AwareDateTime(required=True)
    duration_minutes = fields.Integer(required=True)
    people_needed = fields.Integer(required=True)
    places_booked = fields.Integer(
        required=True, metadata={"description": "Offers accepted (bookings), including those since attended"}
    )
    skill_codes = fields.List(fields.String(), required=True, metadata={"description": "Extra skills asked for"})
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class OfferSchema(Schema):
    id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    volunteer_id = fields.Integer(required=True)
    status = fields.Enum(OfferStatus, by_value=True, required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    offered_at = fields.AwareDateTime(required=True)
    respond_by = fields.AwareDateTime(required=True)
    answered_at = fields.AwareDateTime(required=True, allow_none=True)


class DeploymentSchema(Schema):
    id = fields.Integer(required=True)
    offer_id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    volunteer_id = fields.Integer(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    outcome = fields.Enum(DeploymentOutcome, by_value=True, required=True)
    served_minutes = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Minutes served, once confirmed attended"}
    )
    confirmed_at = fields.AwareDateTime(required=True, allow_none=True)
    updated_at = fields.AwareDateTime(required=True)


class SkillSchema(Schema):
    code = fields.String(required=True)
    level = fields.Enum(SkillLevel, by_value=True, required=True)


class VolunteerSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.Enum(VolunteerKind, by_value=True, required=True)
    # Only these three: applicants are still being vetted and "not accepted" is a vetting outcome, so neither
    # is listed (matching.api.queries.LISTED_VOLUNTEER_STATUSES).
    status = fields.String(required=True, validate=validate.OneOf(LISTED_STATUSES))
    home_ward_id = fields.Integer(required=True, allow_none=True)
    home_ward_name = fields.String(required=True, allow_none=True)
    skills = fields.List(fields.Nested(SkillSchema), required=True)
    joined_on = fields.Date(required=True, metadata={"description": "The London day their profile was made"})
    updated_at = fields.AwareDateTime(required=True)


class RequestPage(Schema):
    data = fields.List(fields.Nested(RequestSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
    links = fields.Nested(Links, required=True)


class OfferPage(Schema):
    data = fields.List(fields.Nested(OfferSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
    links = fields.Nested(Links, required=True)


class DeploymentPage(Schema):
    data = fields.List(fields.Nested(DeploymentSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
    links = fields.Nested(Links, required=True)


class VolunteerPage(Schema):
    data = fields.List(fields.Nested(VolunteerSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
    links = fields.Nested(Links, required=True)


class CoverageWeekSchema(Schema):
    """One week and priority, in places (matching.insight.coverage.CoverageRow): asked = booked + unfilled +
    still_open; offered ≥ booked ≥ served; cancelled (places of cancelled requests) is in no other figure."""

    week_start = fields.Date(required=True, metadata={"description": "The Monday (London) the week starts"})
    priority = fields.Enum(Priority, by_value=True, required=True)
    asked = fields.Integer(required=True, metadata={"description": "Places asked for (requests not cancelled)"})
    offered = fields.Integer(required=True, metadata={"description": "Places at least one volunteer was offered"})
    booked = fields.Integer(required=True, metadata={"description": "Places a volunteer accepted"})
    served = fields.Integer(required=True, metadata={"description": "Places confirmed attended"})
    unfilled = fields.Integer(required=True, metadata={"description": "Places not booked whose time has come"})
    still_open = fields.Integer(required=True, metadata={"description": "Places not booked, still to come"})
    cancelled = fields.Integer(required=True, metadata={"description": "Places of cancelled requests"})


class CoverageSchema(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    area = fields.String(required=True, metadata={"description": "The area in words: 'All of London', 'Camden'"})
    as_of = fields.AwareDateTime(required=True, metadata={"description": "When the figures were worked out"})
    data = fields.List(fields.Nested(CoverageWeekSchema), required=True)


class InvalidParam(Schema):
    name = fields.String(required=True)
    reason = fields.String(required=True)


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    invalid_params = fields.List(fields.Nested(InvalidParam))


# ---- Query strings ------------------------------------------------------------------------------


class ListQuery(Schema):
    class Meta:
        unknown = RAISE

    limit = fields.Integer(
        strict=False,
        load_default=PAGE_DEFAULT,
        validate=validate.Range(1, PAGE_MAX),
        metadata={"description": f"Items per page, 1 to {PAGE_MAX} (default {PAGE_DEFAULT})"},
    )
    cursor = fields.String(
        validate=validate.Length(1, CURSOR_MAX),
        metadata={"description": "From the previous page's next_cursor: leave it out for the first page"},
    )


# As core.forms.LondonDateField: outside these years a date is a slip, and the day after 31 December 9999
# cannot even be worked out.
_WORKING_YEARS = validate.Range(
    min=dt.date(1900, 1, 1), max=dt.date(2199, 12, 31), error="Give a date from 1900-01-01 to 2199-12-31"
)

# The same years, for the document (a JSON Schema cannot compare dates).
_WORKING_YEARS_PATTERN = r"^(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}$"


class _Days(Schema):
    """``from``/``to``: London days, both included."""

    from_ = fields.Date(
        data_key="from",
        validate=_WORKING_YEARS,
        metadata={"description": "The first London day (YYYY-MM-DD)", "pattern": _WORKING_YEARS_PATTERN},
    )
    to = fields.Date(
        validate=_WORKING_YEARS,
        metadata={"description": "The last London day (YYYY-MM-DD), included", "pattern": _WORKING_YEARS_PATTERN},
    )

    @validates_schema
    def _order(self, data, **kwargs) -> None:
        if data.get("from_") and data.get("to") and data["to"] < data["from_"]:
            raise ValidationError("'to' must be the same day as 'from' or later", "to")


class RequestsQuery(ListQuery, _Days):
    ward = _id(metadata={"description": "Only requests in this ward (its id)"})
    status = fields.Enum(RequestStatus, by_value=True)
    priority = fields.Enum(Priority, by_value=True)
    updated_since = fields.AwareDateTime(
        metadata={"description": "Only requests changed at or after this moment (with its offset)"}
    )


class OffersQuery(ListQuery, _Days):
    ward = _id(metadata={"description": "Only offers for requests in this ward"})
    request = _id(metadata={"description": "Only offers for this request"})
    volunteer = _id(metadata={"description": "Only offers to this volunteer"})
    status = fields.Enum(OfferStatus, by_value=True)


class DeploymentsQuery(ListQuery, _Days):
    ward = _id(metadata={"description": "Only deployments for requests in this ward"})
    volunteer = _id(metadata={"description": "Only this volunteer's deployments"})
    outcome = fields.Enum(DeploymentOutcome, by_value=True)
    updated_since = fields.AwareDateTime(metadata={"description": "Only deployments changed at or after this moment"})


class VolunteersQuery(ListQuery):
    ward = _id(metadata={"description": "Only volunteers whose home ward this is"})
    status = fields.String(validate=validate.OneOf(LISTED_STATUSES))
    kind = fields.Enum(VolunteerKind, by_value=True)
    updated_since = fields.AwareDateTime(metadata={"description": "Only volunteers changed at or after this moment"})


class CoverageQuery(_Days):
    class Meta:
        unknown = RAISE

    ward = _id(metadata={"description": "One ward (its id)"})
    borough = _id(metadata={"description": "One borough (its id)"})
    bcu = _id(metadata={"description": "One BCU (its id)"})

    @validates_schema
    def _one_area(self, data, **kwargs) -> None:
        given = [name for name in ("ward", "borough", "bcu") if data.get(name) is not None]
        if len(given) > 1:
            raise ValidationError(dict.fromkeys(given, ["Give at most one of ward, borough and bcu"]))
        if data.get("from_") and data.get("to") and (data["to"] - data["from_"]).days + 1 > COVERAGE_MAX_DAYS:
            raise ValidationError(f"The period may be at most {COVERAGE_MAX_DAYS} days", "to")
