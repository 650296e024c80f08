"""The ward team (issue #23), on SQLite and PostgreSQL: a sergeant keeps their wards' PCSOs and ward officers
(another ward's sergeant gets 404), and a request names its supervising officer from the team, with the task
type's team rule (two adults, or one volunteer with the officer) checked by the field."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.auth.models import Role
from core.timeutil import london_today
from matching.models import SupportRequest
from matching.teams.models import TeamRole, WardTeamMember
from tests.helpers import date_fields, error_messages, make_request, make_user, make_wards

YOUTH = "/requests/new/youth_schools_liaison"


def _member(db, ward, name="PCSO Sam Okafor", **overrides) -> WardTeamMember:
    values = dict(ward_id=ward.id, name=name, role=TeamRole.PCSO, email="sam.okafor@met.example")
    values.update(overrides)
    member = WardTeamMember(**values)
    db.add(member)
    db.commit()
    return member


def _added(**overrides) -> dict:
    data = {"name": "PC Dev Patel", "role": "ward_officer", "email": "dev.patel@met.example", "phone": "020 7230 1212"}
    data.update(overrides)
    return data


# ---- The team pages ----------------------------------------------------------------------------


def test_a_sergeant_adds_changes_and_removes_members_of_their_wards_team_audited(client, db):
    ward, _ = make_wards(db, count=2)
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    client.sign_in(sergeant.email)
    page = client.get("/ward-team").soup
    assert page.select_one("h1").get_text(strip=True) == "Your ward team"
    assert "Nobody in the Camden ward 0 team yet" in page.get_text()
    assert "Camden ward 1" not in page.get_text()  # not theirs

    added = client.submit(f"/ward-team/wards/{ward.id}/add", _added(), token_from=f"/ward-team/wards/{ward.id}/add")
    assert added.status_code == 302
    member = db.scalars(select(WardTeamMember)).one()
    assert (member.ward_id, member.name, member.role, member.active) == (
        ward.id,
        "PC Dev Patel",
        TeamRole.WARD_OFFICER,
        True,
    )
    assert member.user_id is None
    team = client.get(f"/ward-team/wards/{ward.id}").soup
    assert "PC Dev Patel" in team.get_text() and "dev.patel@met.example" in team.get_text()

    changed = client.submit(
        f"/ward-team/members/{member.id}/change", _added(name="PS Dev Patel", active="no"), token_from="/ward-team"
    )
    assert changed.status_code == 302
    db.expire_all()
    assert (member.name, member.active) == ("PS Dev Patel", False)
    assert "Left the team" in client.get("/ward-team").soup.get_text()

    removed = client.submit(f"/ward-team/members/{member.id}/remove", {}, token_from="/ward-team")
    assert removed.status_code == 302
    assert db.scalars(select(WardTeamMember)).all() == []
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.subject_type == "ward_team_member")).all()
    assert actions == ["ward_team.member_added", "ward_team.member_changed", "ward_team.member_removed"]


def test_a_member_with_an_account_is_linked_by_email(client, db):
    (ward,) = make_wards(db, count=1)
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    officer = make_user(db, Role.SERGEANT, email="Dev.Patel@met.example")
    client.sign_in(sergeant.email)
    client.submit(f"/ward-team/wards/{ward.id}/add", _added(), token_from="/ward-team")
    assert db.scalars(select(WardTeamMember.user_id)).one() == officer.id


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"name": "", "role": "", "email": ""},
            {
                "name": "Enter their name",
                "role": "Choose whether they are a PCSO or a ward officer",
                "email": "Enter their work email address",
            },
        ),
        ({"name": "x" * 10_000}, {"name": "Name must be 120 characters or fewer"}),
        ({"email": "dev.patel"}, {"email": "Enter an email address in the correct format, like name@met.police.uk"}),
        ({"email": "d" * 10_000 + "@met.example"}, {"email": "Email address must be 254 characters or fewer"}),
        ({"role": "chief_constable"}, {"role": "Choose whether they are a PCSO or a ward officer"}),
        ({"phone": "call me"}, {"phone": "Enter a phone number, like 020 7230 1212 or 07700 900 982"}),
        ({"phone": "0" * 10_000}, {"phone": "Phone number must be 40 characters or fewer"}),
    ],
)
def test_bad_answers_are_reported_by_their_field_and_nothing_typed_is_lost(client, db, overrides, expected):
    (ward,) = make_wards(db, count=1)
    client.sign_in(make_user(db, Role.SERGEANT, wards=[ward]).email)
    response = client.submit(f"/ward-team/wards/{ward.id}/add", _added(**overrides), token_from="/ward-team")
    assert response.status_code == 200
    assert error_messages(response.soup) == expected
    if "name" not in expected:
        assert response.soup.select_one("#name")["value"] == "PC Dev Patel"
    assert db.scalars(select(WardTeamMember)).all() == []


def test_another_wards_sergeant_gets_not_found_and_a_volunteer_is_refused(app, db):
    mine, theirs = make_wards(db, count=2)
    member = _member(db, theirs)
    client = app.test_client()
    client.sign_in(make_user(db, Role.SERGEANT, wards=[mine]).email)
    for path in (
        f"/ward-team/wards/{theirs.id}",
        f"/ward-team/wards/{theirs.id}/add",
        f"/ward-team/members/{member.id}/change",
        f"/ward-team/members/{member.id}/remove",
        "/ward-team/members/99999999999/change",
    ):
        assert client.get(path).status_code == 404, path
    token = client.csrf_token("/ward-team")
    for path, data in (
        (f"/ward-team/wards/{theirs.id}/add", _added()),
        (f"/ward-team/members/{member.id}/change", _added(active="no")),
        (f"/ward-team/members/{member.id}/remove", {}),
    ):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404, path
    db.expire_all()
    assert db.scalars(select(WardTeamMember)).all() == [member] and member.active

    coordinator = app.test_client()
    coordinator.sign_in(make_user(db, Role.COORDINATOR).email)
    assert coordinator.get(f"/ward-team?ward={theirs.id}").location.endswith(f"/ward-team/wards/{theirs.id}")
    assert "PCSO Sam Okafor" in coordinator.get(f"/ward-team/wards/{theirs.id}").soup.get_text()
    bad = coordinator.get("/ward-team?ward=nonsense")
    assert error_messages(bad.soup) == {"ward": "Choose a ward from the list"}

    volunteer = app.test_client()
    volunteer.sign_in(make_user(db, Role.VOLUNTEER).email)
    assert volunteer.get("/ward-team").status_code == 403


def test_an_officer_supervising_a_request_to_come_cannot_leave_or_be_removed(client, db):
    (ward,) = make_wards(db, count=1)
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    member = _member(db, ward)
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    make_request(
        db, ward, start, title="Assembly at St Mary's", supervising_officer_id=member.id, created_by_id=sergeant.id
    )
    client.sign_in(sergeant.email)
    left = client.submit(
        f"/ward-team/members/{member.id}/change",
        _added(name=member.name, role="pcso", email=member.email, active="no"),
        token_from="/ward-team",
    )
    assert left.status_code == 200
    (message,) = error_messages(left.soup).values()
    assert message.startswith(
        "PCSO Sam Okafor is the supervising officer of 1 request still to come ('Assembly at St Mary's')"
    )
    removed = client.submit(f"/ward-team/members/{member.id}/remove", {}, token_from="/ward-team")
    assert removed.status_code == 302
    assert "so they stay on record" in client.get(removed.location).soup.get_text()
    db.expire_all()
    assert member.active and db.get(WardTeamMember, member.id) is not None


# ---- The request names its supervising officer; the team rule ------------------------------------


def _youth(ward, **overrides) -> dict:
    data = {
        "title": "Assembly on staying safe online",
        "description": "A talk to year 9 with the PCSO.",
        "ward": str(ward.id),
        **date_fields("date", london_today() + dt.timedelta(days=10)),
        "start_time": "10:00",
        "end_time": "12:00",
        "duration": "60",
        "people_needed": "1",
        "all_or_nothing": "no",
        "priority": "routine",
        "warranted_only": "no",
        "organisation": "",
        "supervising_officer": "",
        "audience": "ward_panel_first",
    }
    data.update(overrides)
    return data


def test_a_youth_request_needs_two_adults_or_a_supervising_officer(client, db):
    ward, other = make_wards(db, count=2)
    sergeant = make_user(db, Role.SERGEANT, wards=[ward, other])
    pcso = _member(db, ward)
    elsewhere = _member(db, other, name="PCSO Ann Lee")
    gone = _member(db, ward, name="PCSO Left Long Ago", active=False)
    client.sign_in(sergeant.email)
    form = client.get(YOUTH).soup
    assert "needs two adults: choose the supervising officer who will be there" in form.get_text()
    options = [o.get_text() for o in form.select("select[name=supervising_officer] option")]
    assert options == [
        "No supervising officer",
        "PCSO Ann Lee (PCSO), Camden ward 1",
        "PCSO Sam Okafor (PCSO), Camden ward 0",
    ]

    cases = [
        (
            {},
            "supervising_officer",
            "Youth and schools liaison needs two adults: choose a supervising officer, or ask for at least 2 "
            "volunteers",
        ),
        (
            {"people_needed": "2"},
            "all_or_nothing",
            "Youth and schools liaison needs two adults, so one volunteer must never go alone: choose 'No, send "
            "everyone or nobody' or choose a supervising officer",
        ),
        (
            {"supervising_officer": str(elsewhere.id)},
            "supervising_officer",
            "Choose a supervising officer from the team of the ward the request is for",
        ),
        (
            {"supervising_officer": str(gone.id)},
            "supervising_officer",
            "Choose a supervising officer from your ward team",
        ),
        (
            {"supervising_officer": "'; drop table"},
            "supervising_officer",
            "Choose a supervising officer from your ward team",
        ),
    ]
    for overrides, field, message in cases:
        refused = client.submit(YOUTH, _youth(ward, **overrides), token_from=YOUTH)
        assert refused.status_code == 200, overrides
        assert error_messages(refused.soup) == {field: message}, overrides
        assert refused.soup.select_one("#title")["value"] == "Assembly on staying safe online"
    assert db.scalars(select(SupportRequest)).all() == []

    with_officer = client.submit(YOUTH, _youth(ward, supervising_officer=str(pcso.id)), token_from=YOUTH)
    assert with_officer.status_code == 302
    two = client.submit(YOUTH, _youth(ward, people_needed="2", all_or_nothing="yes"), token_from=YOUTH)
    assert two.status_code == 302
    saved = db.scalars(select(SupportRequest).order_by(SupportRequest.id)).all()
    assert [(r.supervising_officer_id, r.people_needed, r.all_or_nothing) for r in saved] == [
        (pcso.id, 1, False),
        (None, 2, True),
    ]
    page = client.get(with_officer.location).soup
    assert "PCSO Sam Okafor (PCSO)" in page.get_text() and "sam.okafor@met.example" in page.get_text()


def test_a_task_type_with_no_team_rule_needs_neither(client, db):
    (ward,) = make_wards(db, count=1)
    client.sign_in(make_user(db, Role.SERGEANT, wards=[ward]).email)
    path = "/requests/new/cyber_victim_visit"
    form = client.get(path).soup
    # Nobody in the team yet: no question, and nothing that needs one.
    assert form.select_one("select[name=supervising_officer]") is None
    assert client.submit(path, _youth(ward), token_from=path).status_code == 302
