"""The read-only JSON API (issue #21): tokens and their scopes, expiry and revocation; keyset pages; filters
and their 400s; problem+json for every error; the rate limit; the use log; and never a vetting field.

The schema side (every operation against its own OpenAPI document) is tests/integration/test_api_schema.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from urllib.parse import quote

import pytest
from sqlalchemy import select, text, update

from core.audit.models import AuditEntry
from core.audit.services import key_from_config
from core.auth.models import Role
from core.db import utcnow
from core.timeutil import london_today
from matching.api import tokens
from matching.api.models import ApiToken, ApiTokenUse
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.models import OfferStatus, Priority, RequestStatus
from tests.helpers import date_fields, error_messages, make_offer, make_request, make_user, make_volunteer, make_wards
from vetting.models import Clearance, ClearanceState
from volunteers.models import (
    ConflictCategory,
    ConflictDeclaration,
    OccupationCategory,
    VolunteerKind,
    VolunteerSkill,
    VolunteerStatus,
)
from volunteers.skills import SkillLevel

ALL_SCOPES = list(tokens.SCOPES)
PROBLEM = "application/problem+json"


def issue(app, db, scopes=ALL_SCOPES, days=30, name="Duty system") -> str:
    coordinator = make_user(db, Role.COORDINATOR)
    issued = tokens.issue(
        db,
        coordinator,
        name=name,
        scopes=list(scopes),
        expires_on=london_today() + dt.timedelta(days=days),
        key=key_from_config(app.config),
    )
    return issued.secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"] == "about:blank" and body["title"] and body["detail"]
    return body


# ---- Tokens: who may call ---------------------------------------------------------------------


def test_no_malformed_or_unknown_token_is_a_401_problem(app, db, client):
    for headers in (
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer sng_" + "A" * 43},  # the right shape, but nobody issued it
        {"Authorization": "Bearer sng_" + "A" * 42 + "\x00"},
    ):
        response = client.get("/api/v1/requests", headers=headers)
        problem_of(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # Nothing is logged against any token, and nothing counted.
    assert db.scalar(select(ApiTokenUse.id)) is None


def test_a_signed_in_coordinators_session_is_no_api_access(app, db, client):
    coordinator = make_user(db, Role.COORDINATOR)
    client.sign_in(coordinator.email)
    problem_of(client.get("/api/v1/requests"), 401)


def test_a_token_reads_only_what_its_scopes_allow(app, db, client):
    secret = issue(app, db, scopes=["offers:read"])
    assert client.get("/api/v1/offers", headers=bearer(secret)).status_code == 200
    for path in ("/api/v1/requests", "/api/v1/requests/1", "/api/v1/deployments", "/api/v1/volunteers"):
        body = problem_of(client.get(path, headers=bearer(secret)), 403)
        assert "scope" in body["detail"]
    problem_of(client.get("/api/v1/coverage", headers=bearer(secret)), 403)


def test_an_expired_token_is_refused(app, db, client):
    secret = issue(app, db)
    assert client.get("/api/v1/requests", headers=bearer(secret)).status_code == 200
    db.execute(update(ApiToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    db.commit()
    assert "expired" in problem_of(client.get("/api/v1/requests", headers=bearer(secret)), 401)["detail"]


def test_a_token_works_through_its_last_london_day(app, db):
    secret = issue(app, db, days=1)
    token = db.scalar(select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(secret.encode()).hexdigest()))
    # 1 day ahead; the last moment is London midnight at the end of tomorrow, 24 to 49 hours from now.
    assert dt.timedelta(hours=23) < token.expires_at - utcnow() <= dt.timedelta(hours=49)


def test_a_revoked_token_stops_at_once_and_issue_and_revoke_are_audited(app, db, client):
    secret = issue(app, db)
    token = db.scalar(select(ApiToken))
    assert client.get("/api/v1/requests", headers=bearer(secret)).status_code == 200
    coordinator = make_user(db, Role.COORDINATOR)
    tokens.revoke(db, coordinator, token.id, key=key_from_config(app.config))
    assert "revoked" in problem_of(client.get("/api/v1/requests", headers=bearer(secret)), 401)["detail"]
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.subject_type == "api_token")).all()
    assert actions == ["api_token.issued", "api_token.revoked"]
    with pytest.raises(tokens.TokenError):
        tokens.revoke(db, coordinator, token.id, key=key_from_config(app.config))


def test_only_the_hash_and_a_short_prefix_are_stored(app, db):
    secret = issue(app, db)
    assert secret.startswith("sng_") and len(secret) == 47
    token = db.scalar(select(ApiToken))
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.display_prefix == secret[:8]
    # The secret itself is nowhere in the token's row or in the audit log.
    row = db.execute(text("SELECT * FROM api_tokens")).one()
    assert all(secret not in str(value) for value in row)
    assert all(secret not in entry.detail for entry in db.scalars(select(AuditEntry)))


# ---- Pages of records --------------------------------------------------------------------------


def _world(db):
    """Two wards; seven requests in the first and one in the second; offers; one deployment."""
    first, second = make_wards(db, "Camden", 2)
    start = utcnow() + dt.timedelta(days=3)
    sergeant = make_user(db, Role.SERGEANT)
    requests = [
        make_request(db, first, start + dt.timedelta(hours=i), created_by_id=sergeant.id, people_needed=2)
        for i in range(7)
    ]
    # A day later: the volunteer booked on it was offered a place in the first ward's first request (PostgreSQL
    # refuses one person's overlapping offers).
    other = make_request(db, second, start + dt.timedelta(days=1), created_by_id=sergeant.id, skills=["first_aid"])
    volunteers = [make_volunteer(db, home_ward_id=first.id) for _ in range(3)]
    offers = [make_offer(db, volunteers[i % 3], requests[i]) for i in range(5)]
    booked = make_offer(db, volunteers[0], other, OfferStatus.ACCEPTED)
    deployment = Deployment(
        offer_id=booked.id,
        request_id=other.id,
        volunteer_id=volunteers[0].id,
        outcome=DeploymentOutcome.ATTENDED,
        served_minutes=75,
        confirmed_at=utcnow(),
        coordinator_note="Calm and kind; mentioned a caution from 2019.",
    )
    db.add(deployment)
    db.commit()
    return {
        "wards": (first, second),
        "requests": requests,
        "other": other,
        "volunteers": volunteers,
        "offers": offers,
        "booked": booked,
    }


def _walk(client, secret: str, path: str) -> tuple[list[int], int]:
    """Every id on every page of ``path``, in order, and how many pages it took."""
    ids, pages, url = [], 0, path
    while url:
        response = client.get(url, headers=bearer(secret))
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        pages += 1
        ids += [item["id"] for item in body["data"]]
        assert (body["next_cursor"] is None) == (body["links"]["next"] is None)
        url = body["links"]["next"]
        assert pages < 20
    return ids, pages


def test_pages_walk_every_row_exactly_once(app, db, client):
    world = _world(db)
    secret = issue(app, db)
    ids, pages = _walk(client, secret, "/api/v1/requests?limit=3")
    expected = sorted(r.id for r in [*world["requests"], world["other"]])
    assert ids == expected and pages == 3  # 8 requests: 3 + 3 + 2
    ids, pages = _walk(client, secret, "/api/v1/offers?limit=2")
    assert ids == sorted([o.id for o in world["offers"]] + [world["booked"].id]) and pages == 3  # 6 offers
    # A page exactly full, then an empty tail is not served: 6 offers in pages of 6 is one page.
    assert _walk(client, secret, "/api/v1/offers?limit=6") == (ids, 1)
    # The filters are kept on the next page's link.
    first_ward = world["wards"][0].id
    ids, pages = _walk(client, secret, f"/api/v1/requests?limit=4&ward={first_ward}")
    assert ids == sorted(r.id for r in world["requests"]) and pages == 2


def test_a_request_as_the_api_gives_it(app, db, client):
    world = _world(db)
    secret = issue(app, db)
    other = world["other"]
    body = client.get(f"/api/v1/requests/{other.id}", headers=bearer(secret)).get_json()
    assert body["id"] == other.id
    assert body["ward_id"] == world["wards"][1].id and body["ward_name"] == "Camden ward 1"
    assert body["borough_name"] == "Camden"
    assert body["places_booked"] == 1  # the one accepted offer
    assert body["people_needed"] == 1 and body["skill_codes"] == ["first_aid"]
    assert body["status"] == "filled" and body["priority"] == "routine"
    assert dt.datetime.fromisoformat(body["window_start"]) == other.window_start
    assert "description" not in body and "contact_phone" not in body
    problem_of(client.get("/api/v1/requests/999999", headers=bearer(secret)), 404)
    # An id the URL cannot hold is "not found" too, as a problem.
    problem_of(client.get("/api/v1/requests/0", headers=bearer(secret)), 404)


def test_filters_choose_the_rows(app, db, client):
    world = _world(db)
    secret = issue(app, db)

    def ids(path):
        return [item["id"] for item in client.get(path, headers=bearer(secret)).get_json()["data"]]

    assert ids(f"/api/v1/requests?ward={world['wards'][1].id}") == [world["other"].id]
    assert ids("/api/v1/requests?status=filled") == [world["other"].id]
    assert ids(f"/api/v1/offers?status=accepted&volunteer={world['volunteers'][0].id}") == [world["booked"].id]
    assert ids(f"/api/v1/offers?request={world['requests'][1].id}") == [world["offers"][1].id]
    assert len(ids(f"/api/v1/offers?ward={world['wards'][0].id}")) == 5
    day = world["other"].window_start.date()
    far = (day + dt.timedelta(days=30)).isoformat()
    assert ids(f"/api/v1/requests?from={far}") == []
    assert ids(f"/api/v1/requests?to={(day - dt.timedelta(days=30)).isoformat()}") == []
    later = quote((utcnow() + dt.timedelta(hours=1)).isoformat())  # its "+00:00" would otherwise read as a space
    assert ids(f"/api/v1/requests?updated_since={later}") == []
    assert len(ids(f"/api/v1/requests?updated_since={quote((utcnow() - dt.timedelta(hours=1)).isoformat())}")) == 8
    deployments = client.get("/api/v1/deployments", headers=bearer(secret)).get_json()["data"]
    assert [(d["offer_id"], d["outcome"], d["served_minutes"]) for d in deployments] == [
        (world["booked"].id, "attended", 75)
    ]
    # The sergeant's note to coordinators is never in the API.
    assert "coordinator_note" not in deployments[0]
    assert "caution" not in json.dumps(deployments)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("ward=-1", "ward"),
        ("ward=99999999999", "ward"),
        ("status=lost", "status"),
        ("from=2026-02-30", "from"),
        ("from=9999-12-31", "from"),
        ("from=2026-12-10&to=2026-12-01", "to"),
        ("updated_since=2026-12-01T10:00:00", "updated_since"),  # no offset: which clock?
        ("updated_since=yesterday", "updated_since"),
        ("page=2", "page"),  # not a parameter of this API: say so rather than ignore it
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(app, db, client, query, parameter):
    secret = issue(app, db)
    body = problem_of(client.get(f"/api/v1/requests?{query}", headers=bearer(secret)), 400)
    assert parameter in [p["name"] for p in body["invalid_params"]], body


def test_a_cursor_is_only_good_for_its_own_list(app, db, client):
    _world(db)
    secret = issue(app, db)
    cursor = client.get("/api/v1/offers?limit=1", headers=bearer(secret)).get_json()["next_cursor"]
    assert client.get(f"/api/v1/offers?cursor={cursor}", headers=bearer(secret)).status_code == 200
    problem_of(client.get(f"/api/v1/requests?cursor={cursor}", headers=bearer(secret)), 400)
    problem_of(client.get(f"/api/v1/offers?cursor={cursor[:-2]}xx", headers=bearer(secret)), 400)


# ---- Volunteers: minimal fields, never vetting ---------------------------------------------------


def test_volunteers_have_minimal_fields_and_no_vetting_appears_anywhere(app, db, client):
    world = _world(db)
    ward = world["wards"][0]
    special = make_volunteer(
        db,
        full_name="Ada Vetted",
        kind=VolunteerKind.SPECIAL,
        status=VolunteerStatus.ACTIVE,
        home_ward_id=ward.id,
        phone="07700 900123",
        occupation="Prison officer at HMP Pentonville",
        occupation_category=OccupationCategory.PRIVATE_INVESTIGATION,
        employer="HM Prison Service",
        warrant_number="W1234567",
        skills=[VolunteerSkill(skill_code="rmn", level=SkillLevel.EXPERT, registration_number="12A3456B")],
    )
    db.add_all(
        [
            Clearance(
                volunteer_id=special.id,
                type_code="NPPV3",
                state=ClearanceState.GRANTED,
                valid_from=dt.date(2026, 1, 1),
                expires_on=dt.date(2031, 1, 1),
                restricted_from="Restricted from custody suites",
            ),
            ConflictDeclaration(
                volunteer_id=special.id, category=ConflictCategory.EMPLOYER, organisation="Pentonville Secrets Ltd"
            ),
        ]
    )
    applicant = make_volunteer(db, full_name="Ann Applicant", status=VolunteerStatus.APPLIED)
    refused = make_volunteer(db, full_name="Rex Refused", status=VolunteerStatus.NOT_ACCEPTED)
    db.commit()
    secret = issue(app, db)

    body = client.get("/api/v1/volunteers?limit=200", headers=bearer(secret)).get_json()
    by_id = {v["id"]: v for v in body["data"]}
    # Applicants are being vetted and "not accepted" is a vetting outcome: neither is listed.
    assert applicant.id not in by_id and refused.id not in by_id
    ada = by_id[special.id]
    assert ada == {
        "id": special.id,
        "name": "Ada Vetted",
        "kind": "special",
        "status": "active",
        "home_ward_id": ward.id,
        "home_ward_name": ward.name,
        "skills": [{"code": "rmn", "level": "expert"}],
        "joined_on": london_today().isoformat(),
        "updated_at": ada["updated_at"],
    }
    refused_filter = problem_of(client.get("/api/v1/volunteers?status=not_accepted", headers=bearer(secret)), 400)
    assert refused_filter["invalid_params"][0]["name"] == "status"

    # Not a vetting field's name nor any value of one, in any response of any operation.
    everything = ""
    for path in (
        "/api/v1/volunteers?limit=200",
        f"/api/v1/volunteers?ward={ward.id}",
        "/api/v1/requests?limit=200",
        f"/api/v1/requests/{world['other'].id}",
        "/api/v1/offers?limit=200",
        "/api/v1/deployments?limit=200",
    ):
        response = client.get(path, headers=bearer(secret))
        assert response.status_code == 200, path
        everything += response.get_data(as_text=True).lower()
    for forbidden in (
        "clearance",
        "nppv",
        "vetting_",
        "restricted",
        "custody",
        "conflict",
        "pentonville",
        "prison",
        "occupation",
        "employer",
        "warrant",
        "w1234567",
        "12a3456b",
        "registration",
        "07700",
        "phone",
        "@test.example",
        "email",
        "explanation",
        "closed_reason",
        "note",
        "welfare",
        "ann applicant",
        "rex refused",
    ):
        assert forbidden not in everything, forbidden
    # Nor is any such field in the document's shapes (its prose may say what is left out).
    shapes = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    names = " ".join(name.lower() for shape in shapes.values() for name in shape.get("properties", {}))
    for forbidden in (
        "clearance",
        "vetting",
        "conflict",
        "occupation",
        "employer",
        "warrant",
        "phone",
        "email",
        "note",
    ):
        assert forbidden not in names, forbidden


# ---- Errors are problems, never HTML --------------------------------------------------------------


def test_unknown_paths_wrong_methods_and_crashes_are_problems(app, db, client, monkeypatch):
    secret = issue(app, db)
    problem_of(client.get("/api/v1/nothing-here", headers=bearer(secret)), 404)
    problem_of(client.get("/api/v2/requests"), 404)
    response = client.post("/api/v1/requests", headers=bearer(secret))
    problem_of(response, 405)
    assert "GET" in response.headers["Allow"]
    problem_of(client.delete("/api/v1/requests/1", headers=bearer(secret)), 405)
    problem_of(client.options("/api/v1/requests", headers=bearer(secret)), 405)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("matching.api.queries.requests_page", broken)
    body = problem_of(client.get("/api/v1/requests", headers=bearer(secret)), 500)
    assert "database" not in body["detail"]
    # Still logged against the token, with its answer.
    assert db.scalar(select(ApiTokenUse.status).order_by(ApiTokenUse.id.desc()).limit(1)) == 500


# ---- Rate limit and use log --------------------------------------------------------------------------


def test_the_rate_limit_counts_per_token_per_minute(app, db, client, monkeypatch):
    app.config["API_RATE_LIMIT_PER_MINUTE"] = 2
    moment = utcnow().replace(second=10, microsecond=0) + dt.timedelta(minutes=1)
    monkeypatch.setattr("matching.api.views.utcnow", lambda: moment)
    secret, other = issue(app, db), issue(app, db, name="HR system")
    answers = [client.get("/api/v1/requests", headers=bearer(secret)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["RateLimit-Limit"] for a in answers] == ["2", "2", "2"]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert [a.headers["RateLimit-Reset"] for a in answers] == ["50", "50", "50"]  # 10 s into the minute
    body = problem_of(answers[2], 429)
    assert answers[2].headers["Retry-After"] == "50" and "2 calls a minute" in body["detail"]
    # Another token has its own count.
    assert client.get("/api/v1/requests", headers=bearer(other)).status_code == 200
    # The next minute starts afresh.
    monkeypatch.setattr("matching.api.views.utcnow", lambda: moment + dt.timedelta(minutes=1))
    response = client.get("/api/v1/requests", headers=bearer(secret))
    assert response.status_code == 200 and response.headers["RateLimit-Remaining"] == "1"


def test_every_use_is_logged_and_shown_on_the_tokens_page(app, db, client):
    secret = issue(app, db, scopes=["requests:read"])
    token = db.scalar(select(ApiToken))
    client.get("/api/v1/requests?limit=5", headers=bearer(secret))
    client.get("/api/v1/offers", headers=bearer(secret))
    uses = db.scalars(select(ApiTokenUse).order_by(ApiTokenUse.id)).all()
    assert [(u.method, u.path, u.status, u.address) for u in uses] == [
        ("GET", "/api/v1/requests?limit=5", 200, "127.0.0.1"),
        ("GET", "/api/v1/offers", 403, "127.0.0.1"),
    ]
    db.expire_all()
    assert db.get(ApiToken, token.id).last_used_at is not None

    coordinator = make_user(db, Role.COORDINATOR)
    client.sign_in(coordinator.email)
    page = client.get(f"/api-tokens/{token.id}")
    rows = [" ".join(r.get_text().split()) for r in page.soup.select("#api-token-uses tbody tr")]
    assert len(rows) == 2
    assert "GET /api/v1/offers" in rows[0] and "403 (refused)" in rows[0]
    assert "GET /api/v1/requests?limit=5" in rows[1] and "200" in rows[1]


# ---- The coordinators' pages ------------------------------------------------------------------------------


def _token_form(**overrides) -> dict:
    values = {
        "name": "Duty system, Central West",
        "scopes": ["requests:read", "coverage:read"],
        **date_fields("expires_on", london_today() + dt.timedelta(days=90)),
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Enter a name for the token"),
        ({"name": "x" * 10_000}, "name", "The name must be 80 characters or fewer"),
        ({"scopes": []}, "scopes", "Choose what the token may read"),
        ({"scopes": ["vetting:read"]}, "scopes", "Choose what the token may read from the list"),
        ({"expires_on": ["", "", ""]}, "expires_on-day", "Enter the date the token expires"),
        ({"expires_on": ["31", "2", "2027"]}, "expires_on-day", "The expiry date must be a real date"),
        ({"expires_on": ["1", "1", "2300"]}, "expires_on-day", "The expiry date must be between 1900 and 2199"),
        (date_fields("expires_on", dt.date(2020, 1, 1)), "expires_on-day", "The expiry date must be in the future"),
    ],
)
def test_creating_a_token_refuses_bad_input_by_the_field_and_keeps_what_was_typed(
    app, db, client, overrides, field, message
):
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    response = client.submit("/api-tokens/new", _token_form(**overrides))
    assert response.status_code == 200
    assert error_messages(response.soup)[field] == message
    if "name" not in overrides:
        assert response.soup.select_one("#name")["value"] == "Duty system, Central West"
    assert db.scalar(select(ApiToken.id)) is None


def test_an_expiry_more_than_a_year_ahead_is_refused(app, db, client):
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    late = tokens.latest_expiry(london_today()) + dt.timedelta(days=1)
    response = client.submit("/api-tokens/new", _token_form(**date_fields("expires_on", late)))
    assert error_messages(response.soup)["expires_on-day"].startswith(
        "The expiry date must be no more than a year from today"
    )


def test_a_coordinator_creates_sees_once_and_revokes_a_token(app, db, client):
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    assert "No tokens have been issued" in client.get("/api-tokens/").get_data(as_text=True)
    response = client.submit("/api-tokens/new", _token_form())
    assert response.status_code == 200
    secret = response.soup.select_one("#api-token")["value"]
    assert secret.startswith("sng_")
    assert client.get("/api/v1/requests", headers=bearer(secret)).status_code == 200
    problem_of(client.get("/api/v1/offers", headers=bearer(secret)), 403)

    listing = client.get("/api-tokens/")
    row = " ".join(listing.soup.select_one("#api-tokens tbody tr").get_text().split())
    assert "Duty system, Central West" in row and "coverage:read, requests:read" in row
    assert secret[:8] in row and "Active" in row
    assert secret not in listing.get_data(as_text=True)  # shown once, never again
    token = db.scalar(select(ApiToken))
    page = client.get(f"/api-tokens/{token.id}")
    assert secret not in page.get_data(as_text=True)

    confirm = client.get(f"/api-tokens/{token.id}/revoke")
    assert "stops working at once" in confirm.get_data(as_text=True)
    done = client.submit(f"/api-tokens/{token.id}/revoke", {})
    assert done.status_code == 302
    shown = client.get(done.location)
    assert "is revoked" in shown.get_data(as_text=True) and "Revoked" in shown.get_data(as_text=True)
    problem_of(client.get("/api/v1/requests", headers=bearer(secret)), 401)


def test_the_openapi_document_describes_every_operation(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/api/v1/requests",
        "/api/v1/requests/{request_id}",
        "/api/v1/offers",
        "/api/v1/deployments",
        "/api/v1/volunteers",
        "/api/v1/coverage",
    }
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operation = document["paths"]["/api/v1/offers"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"limit", "cursor", "ward", "status", "from", "to"}
    assert set(operation["responses"]) == {"200", "400", "401", "403", "429", "500"}


def test_request_status_values_are_the_models(app, client):
    """The document's enums come from the models, so a new status shows there without anyone editing it."""
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Request"]
    assert set(schema["properties"]["status"]["enum"]) == {s.value for s in RequestStatus}


# ---- Coverage figures ---------------------------------------------------------------------------------------


def test_coverage_figures_equal_those_worked_out_by_hand(app, db, client):
    """A fortnight in November (London is on GMT, so UTC times are London times): the weeks of Monday 2 and
    Monday 9 November 2026."""
    ward_a, ward_b = make_wards(db, "Camden", 2)
    v1, v2 = make_volunteer(db), make_volunteer(db)
    # Urgent, 2 places, Tuesday 3 November: v1 booked and attended, v2 declined.
    urgent = make_request(
        db, ward_a, dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC), people_needed=2, priority=Priority.URGENT
    )
    booked = make_offer(db, v1, urgent, OfferStatus.ACCEPTED)
    make_offer(db, v2, urgent, OfferStatus.DECLINED)
    db.add(
        Deployment(
            offer_id=booked.id,
            request_id=urgent.id,
            volunteer_id=v1.id,
            outcome=DeploymentOutcome.ATTENDED,
            served_minutes=60,
        )
    )
    # Routine, 1 place, Tuesday 10 November, cancelled.
    make_request(
        db,
        ward_a,
        dt.datetime(2026, 11, 10, 10, tzinfo=dt.UTC),
        status=RequestStatus.CANCELLED,
        cancelled_at=dt.datetime(2026, 11, 9, 10, tzinfo=dt.UTC),
        cancel_reason="No longer needed",
    )
    # Routine, 3 places, Wednesday 11 November, in the other ward, nobody offered.
    make_request(db, ward_b, dt.datetime(2026, 11, 11, 10, tzinfo=dt.UTC), people_needed=3)
    # Monday 16 November: after the period, never counted.
    make_request(db, ward_a, dt.datetime(2026, 11, 16, 10, tzinfo=dt.UTC), people_needed=5)
    db.commit()
    secret = issue(app, db, scopes=["coverage:read"])

    def figures(query: str) -> dict:
        response = client.get(f"/api/v1/coverage?from=2026-11-02&to=2026-11-15{query}", headers=bearer(secret))
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert (body["from"], body["to"]) == ("2026-11-02", "2026-11-15")
        return body, {
            (row["week_start"], row["priority"]): tuple(
                row[k] for k in ("asked", "offered", "booked", "served", "unfilled", "still_open", "cancelled")
            )
            for row in body["data"]
        }

    body, ward_figures = figures(f"&ward={ward_a.id}")
    assert body["area"] == ward_a.name
    # Two weeks × three priorities, zeros included.
    assert len(ward_figures) == 6
    # Asked 2; offered 2 (two volunteers asked); booked 1 (v1); served 1 (v1 attended); unfilled 1 (its time
    # has passed with one place not booked).
    assert ward_figures[("2026-11-02", "urgent")] == (2, 2, 1, 1, 1, 0, 0)
    # The cancelled request's place counts only as cancelled.
    assert ward_figures[("2026-11-09", "routine")] == (0, 0, 0, 0, 0, 0, 1)
    assert sum(sum(v) for v in ward_figures.values()) == 7 + 1  # every other week and priority is all zeros

    body, london = figures("")
    assert body["area"] == "All of London"
    # Now the other ward's 3 places, asked and unfilled, are in too.
    assert london[("2026-11-09", "routine")] == (3, 0, 0, 0, 3, 0, 1)
    assert london[("2026-11-02", "urgent")] == (2, 2, 1, 1, 1, 0, 0)
    _body, borough = figures(f"&borough={ward_a.borough_id}")
    assert borough == london  # both wards are in Camden

    for query, name in (
        ("&ward=999999", "ward"),
        ("&bcu=999999", "bcu"),
        (f"&ward={ward_a.id}&borough={ward_a.borough_id}", "ward"),
    ):
        response = client.get(f"/api/v1/coverage?from=2026-11-02&to=2026-11-15{query}", headers=bearer(secret))
        assert name in [p["name"] for p in problem_of(response, 400)["invalid_params"]]
    too_long = client.get("/api/v1/coverage?from=2025-01-01&to=2026-01-02", headers=bearer(secret))
    assert [p["name"] for p in problem_of(too_long, 400)["invalid_params"]] == ["to"]
    # Only a start: the 91 days from it.
    assert client.get("/api/v1/coverage?from=2026-01-01", headers=bearer(secret)).get_json()["to"] == "2026-04-01"
