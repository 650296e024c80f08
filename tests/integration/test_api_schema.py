"""The JSON API against its own OpenAPI document, with schemathesis (issue #21): every operation, with
generated query strings and ids, on a small seeded data set on both databases. No answer is a 5xx, every
answer's status, content type, headers and body match what the document says, and a call without the
token is refused.

Bounded (``MAX_EXAMPLES`` per operation, no deadline: a PostgreSQL call may take longer than hypothesis'
default 200 ms on a busy machine), so the file runs in well under two minutes.
"""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from core.audit.services import key_from_config
from core.auth.models import Role
from core.db import utcnow
from core.timeutil import london_today
from matching.api import tokens
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.models import OfferStatus
from tests.helpers import make_offer, make_request, make_user, make_volunteer, make_wards
from volunteers.models import VolunteerSkill, VolunteerStatus
from volunteers.skills import SkillLevel

MAX_EXAMPLES = 20


@pytest.fixture
def api_token(app, db) -> str:
    """A few requests, offers, a deployment and volunteers with skills, and a token that may read it all."""
    ward, other = make_wards(db, "Camden", 2)
    volunteers = [
        make_volunteer(
            db,
            status=VolunteerStatus.ACTIVE,
            home_ward_id=ward.id,
            skills=[VolunteerSkill(skill_code="rmn", level=SkillLevel.EXPERT)],
        ),
        make_volunteer(db, status=VolunteerStatus.LEFT, home_ward_id=other.id),
    ]
    start = utcnow() - dt.timedelta(days=2)
    requests = [make_request(db, (ward, other)[i % 2], start + dt.timedelta(days=i)) for i in range(4)]
    booked = make_offer(db, volunteers[0], requests[0], OfferStatus.ACCEPTED)
    make_offer(db, volunteers[1], requests[1])
    db.add(
        Deployment(
            offer_id=booked.id,
            request_id=requests[0].id,
            volunteer_id=volunteers[0].id,
            outcome=DeploymentOutcome.ATTENDED,
            served_minutes=60,
        )
    )
    db.commit()
    # Generated calls come fast: the rate limit is tested in test_api.py, not here.
    app.config["API_RATE_LIMIT_PER_MINUTE"] = 100_000
    issued = tokens.issue(
        db,
        make_user(db, Role.COORDINATOR),
        name="Schemathesis",
        scopes=list(tokens.SCOPES),
        expires_on=london_today() + dt.timedelta(days=30),
        key=key_from_config(app.config),
    )
    return issued.secret


@schemathesis.check
def refusals_name_what_was_sent(ctx, response, case):
    """A 400 names, in invalid_params, only parameters the call sent: the refusal says what to change."""
    if response.status_code != 400:
        return None
    names = {param["name"] for param in response.json()["invalid_params"]}
    sent = set(case.query or {})
    assert names and names <= sent, f"a 400 naming {sorted(names)} for a call that sent {sorted(sent)}"
    return True


def test_every_operation_matches_its_document(app, api_token):
    # Each operation's cases drawn by hypothesis from the document itself. (Not schemathesis.pytest.from_fixture,
    # which would give one test per operation: it reads a private attribute pytest 9 no longer has.)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def check(case):
            case.call_and_validate(
                headers={"Authorization": f"Bearer {api_token}"},
                # Some rules are between parameters or about what exists, which a JSON Schema cannot say: `to`
                # not before `from`, at most 366 days of coverage, one area, a ward id that is a ward, a cursor
                # this list signed. Those schema-valid calls get a documented 400 naming the parameter (checked
                # just above and by the status and schema checks), so "valid data is accepted" is not asked.
                excluded_checks=[positive_data_acceptance],
                additional_checks=[refusals_name_what_was_sent],
            )

        check()
