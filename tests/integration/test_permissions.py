"""Every route states who may use it, and each role gets exactly what it may."""

from __future__ import annotations

import datetime as dt

import pytest

from core.auth.models import Role
from core.db import utcnow
from core.geography.models import Borough, Ward
from core.permissions import PUBLIC, access_of
from matching.api.models import ApiToken
from matching.deployments.models import Deployment
from matching.hours.models import DutyHours, DutyKind
from matching.models import MatchRun, Offer, RunScope, RunStatus, SupportRequest
from matching.teams.models import TeamRole, WardTeamMember
from tests.helpers import make_user, make_volunteer
from vetting.models import ReviewKind, VettingReview
from volunteers.models import EvidenceStatus, VolunteerKind, VolunteerSkill
from volunteers.panels.models import (
    PanelState,
    SpecialistGroup,
    SpecialistGroupMembership,
    SpecialistKind,
    WardPanelMembership,
)
from volunteers.partners.models import PartnerKind, PartnerOrganisation
from volunteers.skills import SkillLevel

C = Role.COORDINATOR
ALL = frozenset(Role)

# endpoint → who may use it. Adding a route without adding it here fails test_table_covers_every_route.
EXPECTED: dict[str, frozenset[Role] | str] = {
    "auth.sign_in": PUBLIC,
    "auth.sign_out": ALL,
    "auth.accounts": frozenset({C}),
    "auth.new_account": frozenset({C}),
    "auth.sergeant_wards": frozenset({C}),
    "auth.disable_account": frozenset({C}),
    "auth.enable_account": frozenset({C}),
    "auth.resend_invitation": frozenset({C}),
    "auth.reset_authenticator": frozenset({C}),
    "account.forgotten_password": PUBLIC,
    "account.reset_link_sent": PUBLIC,
    "account.reset_password": PUBLIC,
    "account.accept_invitation": PUBLIC,
    "account.security_code": PUBLIC,
    "account.recovery_code": PUBLIC,
    "account.set_up_at_sign_in": PUBLIC,
    "account.index": ALL,
    "account.confirm_identity": ALL,
    "account.change_password": ALL,
    "account.change_email": ALL,
    "account.email_link_sent": ALL,
    "account.confirm_email": ALL,
    "account.set_up_authenticator": ALL,
    "account.remove_authenticator": ALL,
    "account.new_recovery_codes": ALL,
    "home.index": ALL,
    "vetting.queue": frozenset({Role.VETTING_OFFICER}),
    "vetting.review": frozenset({Role.VETTING_OFFICER}),
    "vetting.confirm": frozenset({Role.VETTING_OFFICER}),
    "vetting.clearance_action": frozenset({Role.VETTING_OFFICER}),
    "vetting.record_information": frozenset({Role.VETTING_OFFICER}),
    "conflict_reviews.record": frozenset({Role.VETTING_OFFICER, C}),
    "vetting.my_clearances": frozenset({Role.VOLUNTEER}),
    "vetting.people": frozenset({Role.VETTING_OFFICER}),
    "vetting.person": frozenset({Role.VETTING_OFFICER}),
    "vetting.audit_log": frozenset({Role.VETTING_OFFICER}),
    "vetting.audit_log_csv": frozenset({Role.VETTING_OFFICER}),
    "vetting.clearance_types": frozenset({C}),
    "vetting.task_types": frozenset({C}),
    "vetting.edit_task_type": frozenset({C}),
    "vetting.add_task_type": frozenset({C}),
    "vetting.dbs_status_check": frozenset({Role.VETTING_OFFICER}),
    "vetting.edit_clearance_type": frozenset({C}),
    "home.health": PUBLIC,
    "pages.privacy": PUBLIC,
    "pages.accessibility": PUBLIC,
    "pages.contact": PUBLIC,
    "volunteers.apply": PUBLIC,
    "volunteers.check_your_email": PUBLIC,
    "volunteers.confirm_application": PUBLIC,
    "volunteers.profile": frozenset({Role.VOLUNTEER}),
    "volunteers.download_own_data": frozenset({Role.VOLUNTEER}),
    "volunteers.edit_contact": frozenset({Role.VOLUNTEER}),
    "volunteers.edit_home_ward": frozenset({Role.VOLUNTEER}),
    "volunteers.edit_travel": frozenset({Role.VOLUNTEER}),
    "volunteers.edit_work": frozenset({Role.VOLUNTEER}),
    "volunteers.edit_preferences": frozenset({Role.VOLUNTEER}),
    "volunteers.pause": frozenset({Role.VOLUNTEER}),
    "volunteers.resume": frozenset({Role.VOLUNTEER}),
    "volunteers.leave": frozenset({Role.VOLUNTEER}),
    "volunteers.skills": frozenset({Role.VOLUNTEER}),
    "volunteers.add_skill": frozenset({Role.VOLUNTEER}),
    "volunteers.remove_skill": frozenset({Role.VOLUNTEER}),
    "volunteers.change_skill_level": frozenset({Role.VOLUNTEER}),
    "volunteers.undo_removal": frozenset({Role.VOLUNTEER}),
    "volunteers.availability": frozenset({Role.VOLUNTEER}),
    "volunteers.add_weekly_slot": frozenset({Role.VOLUNTEER}),
    "volunteers.remove_weekly_slot": frozenset({Role.VOLUNTEER}),
    "volunteers.add_date_exception": frozenset({Role.VOLUNTEER}),
    "volunteers.remove_date_exception": frozenset({Role.VOLUNTEER}),
    "volunteers.add_blocked_period": frozenset({Role.VOLUNTEER}),
    "volunteers.remove_blocked_period": frozenset({Role.VOLUNTEER}),
    "volunteers.conflicts": frozenset({Role.VOLUNTEER}),
    "volunteers.add_conflict": frozenset({Role.VOLUNTEER}),
    "volunteers.remove_conflict": frozenset({Role.VOLUNTEER}),
    "volunteers.circumstances": frozenset({Role.VOLUNTEER}),
    "directory.index": frozenset({C}),
    "directory.volunteer": frozenset({C}),
    "directory.evidence_queue": frozenset({C}),
    "directory.verify_evidence": frozenset({C}),
    "directory.reject_evidence": frozenset({C}),
    "directory.edit_special": frozenset({C}),
    "directory.edit_status": frozenset({C}),
    "directory.export_csv": frozenset({C}),
    "directory.import_csv": frozenset({C}),
    "requests.index": frozenset({Role.SERGEANT, C}),
    "requests.show": frozenset({Role.SERGEANT, C}),
    "requests.new": frozenset({Role.SERGEANT}),
    "requests.new_details": frozenset({Role.SERGEANT}),
    "requests.edit": frozenset({Role.SERGEANT}),
    "requests.cancel": frozenset({Role.SERGEANT}),
    "requests.match": frozenset({Role.SERGEANT}),
    "teams.index": frozenset({Role.SERGEANT, C}),
    "teams.ward": frozenset({Role.SERGEANT, C}),
    "teams.add": frozenset({Role.SERGEANT, C}),
    "teams.change": frozenset({Role.SERGEANT, C}),
    "teams.remove": frozenset({Role.SERGEANT, C}),
    "hours.mine": frozenset({Role.VOLUNTEER}),
    "hours.log_duty": frozenset({Role.VOLUNTEER}),
    "hours.approvals": frozenset({Role.SERGEANT, C}),
    "hours.approve": frozenset({Role.SERGEANT, C}),
    "hours.reject": frozenset({Role.SERGEANT, C}),
    "hours.volunteer": frozenset({C}),
    "hours.specials": frozenset({C}),
    "hours.specials_csv": frozenset({C}),
    "insight.index": frozenset({Role.SERGEANT, C}),
    "insight.show": frozenset({Role.SERGEANT, C}),
    "insight.table_csv": frozenset({Role.SERGEANT, C}),
    "insight.report": frozenset({Role.SERGEANT, C}),
    # The JSON API: public to the session layer, its own bearer token checked instead (tests/integration/test_api.py).
    "api.list_requests": PUBLIC,
    "api.show_request": PUBLIC,
    "api.list_offers": PUBLIC,
    "api.list_deployments": PUBLIC,
    "api.list_volunteers": PUBLIC,
    "api.coverage": PUBLIC,
    "api.openapi": PUBLIC,
    "api_tokens.index": frozenset({C}),
    "api_tokens.new": frozenset({C}),
    "api_tokens.show": frozenset({C}),
    "api_tokens.revoke": frozenset({C}),
    "runs.index": frozenset({C}),
    "runs.show": frozenset({C}),
    "runs.again": frozenset({C}),
    "offers.show": frozenset({Role.VOLUNTEER}),
    "deployments.to_confirm": frozenset({Role.SERGEANT, C}),
    "deployments.confirm": frozenset({Role.SERGEANT, C}),
    "deployments.log_hours": frozenset({Role.VOLUNTEER}),
    "deployments.debrief": frozenset({Role.VOLUNTEER}),
    "deployments.welfare": frozenset({C}),
    "deployments.contacted": frozenset({C}),
    "ranking.index": frozenset({C}),
    "ranking.clear": frozenset({C}),
    "offers.accept": frozenset({Role.VOLUNTEER}),
    "offers.decline": frozenset({Role.VOLUNTEER}),
    "offers.withdraw": frozenset({Role.VOLUNTEER}),
    "panels.index": frozenset({Role.SERGEANT, C}),
    "panels.ward": frozenset({Role.SERGEANT, C}),
    "panels.invite": frozenset({Role.SERGEANT, C}),
    "panels.decide_ask": frozenset({Role.SERGEANT, C}),
    "panels.remove": frozenset({Role.SERGEANT, C}),
    "panels.ring_fence": frozenset({C}),
    "notifications.preferences": frozenset({Role.SERGEANT}),
    "calendar.index": frozenset({Role.VOLUNTEER, Role.SERGEANT}),
    "calendar.turn_off": frozenset({Role.VOLUNTEER, Role.SERGEANT}),
    "calendar.feed": PUBLIC,  # calendar apps cannot sign in: the link's token is the key
    "panels.mine": frozenset({Role.VOLUNTEER}),
    "panels.answer_invitation": frozenset({Role.VOLUNTEER}),
    "panels.ask": frozenset({Role.VOLUNTEER}),
    "panels.leave": frozenset({Role.VOLUNTEER}),
    "panels.groups": frozenset({C, Role.SERGEANT, Role.VOLUNTEER}),
    "panels.new_group": frozenset({C}),
    "panels.edit_group": frozenset({C}),
    "panels.group": frozenset({C, Role.SERGEANT, Role.VOLUNTEER}),
    "panels.ask_group": frozenset({Role.VOLUNTEER}),
    "panels.leave_group": frozenset({Role.VOLUNTEER}),
    # A volunteer only for a group they lead (the walking volunteer leads the walk's group).
    "panels.decide_group_ask": frozenset({C, Role.VOLUNTEER}),
    "panels.remove_group_member": frozenset({C, Role.VOLUNTEER}),
    "panels.vouch": frozenset({C, Role.VOLUNTEER}),
    "partners.index": frozenset({C}),
    "partners.new": frozenset({C}),
    "partners.edit": frozenset({C}),
    "partners.reviewer_partner": frozenset({C}),
    "partners.own": frozenset({Role.VOLUNTEER}),
    "partners.add_own": frozenset({Role.VOLUNTEER}),
    "partners.own_skills": frozenset({Role.VOLUNTEER}),
    "partners.remove_own": frozenset({Role.VOLUNTEER}),
    "partners.review_list": frozenset({Role.PARTNER_REVIEWER}),
    "partners.review_volunteer": frozenset({Role.PARTNER_REVIEWER}),
    "partners.vouch": frozenset({Role.PARTNER_REVIEWER}),
    "partners.decline": frozenset({Role.PARTNER_REVIEWER}),
}


def test_every_route_declares_its_permission(app):
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and access_of_in(app, rule.endpoint) is None
    ]
    assert undeclared == [], f"routes without @allow/@public: {undeclared}"


def access_of_in(app, endpoint):
    with app.test_request_context():
        return access_of(endpoint)


def test_table_covers_every_route(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints == set(EXPECTED)
    for endpoint, expected in EXPECTED.items():
        assert access_of_in(app, endpoint) == expected, endpoint


def _url_for_rule(rule, ids: dict[str, int]) -> str:
    path = rule.rule
    for argument in rule.arguments:
        path = path.replace(f"<int:{argument}>", str(ids[argument])).replace(f"<{argument}>", str(ids[argument]))
    return path


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_role_by_route_table(app, db, role):
    sergeant = make_user(db, Role.SERGEANT, wards=[db.query(Ward).first()] if db.query(Ward).first() else [])
    target = make_user(db, Role.VOLUNTEER)
    review = VettingReview(
        volunteer_id=make_volunteer(db).id, kind=ReviewKind.NEW_APPLICATION, due_on=dt.date(2027, 1, 1)
    )
    db.add(review)
    db.commit()
    special = make_volunteer(
        db,
        kind=VolunteerKind.SPECIAL,
        skills=[VolunteerSkill(skill_code="rmn", level=SkillLevel.EXPERT, evidence_status=EvidenceStatus.PENDING)],
    )
    # The walking sergeant's own ward and an open request in it.
    walk_ward = Ward(
        code="E05999901", name="Walk ward", borough_id=db.query(Borough).first().id, latitude=51.5, longitude=-0.1
    )
    walker = make_user(db, Role.SERGEANT, wards=[walk_ward])
    support_request = SupportRequest(
        ward_id=walk_ward.id,
        task_type_code="cyber_victim_visit",
        title="Walk",
        description="Walk.",
        window_start=utcnow() + dt.timedelta(days=2),
        window_end=utcnow() + dt.timedelta(days=2, hours=2),
        duration_minutes=60,
        people_needed=1,
        created_by_id=walker.id,
    )
    db.add(support_request)
    db.commit()
    # A PCSO of the walking sergeant's ward team (a coordinator may keep any ward's team).
    pcso = WardTeamMember(ward_id=walk_ward.id, name="PCSO Walk", role=TeamRole.PCSO, email="walk@met.example")
    db.add(pcso)
    db.commit()
    # The walking volunteer's own offer on it, and a finished run.
    walking_volunteer = make_volunteer(db)
    offer = Offer(
        request_id=support_request.id,
        volunteer_id=walking_volunteer.id,
        starts_at=support_request.window_start,
        ends_at=support_request.deployment_end,
        load_minutes=60,
        respond_by=utcnow() + dt.timedelta(days=1),
        explanation="Walk",
    )
    run = MatchRun(
        scope=RunScope.LONDON,
        first_day=dt.date(2026, 12, 1),
        last_day=dt.date(2026, 12, 7),
        trigger="cli",
        status=RunStatus.FAILED,
        error="Walk",
    )
    db.add_all([offer, run])
    db.commit()
    # The walking volunteer on the walking sergeant's ward panel, and leading a group the special is in.
    panel_membership = WardPanelMembership(
        ward_id=walk_ward.id, volunteer_id=walking_volunteer.id, state=PanelState.MEMBER
    )
    group = SpecialistGroup(name="Walk group", kind=SpecialistKind.CYBER, lead_user_id=walking_volunteer.user_id)
    db.add_all([panel_membership, group])
    db.commit()
    group_membership = SpecialistGroupMembership(group_id=group.id, volunteer_id=special.id, state=PanelState.MEMBER)
    db.add(group_membership)
    db.commit()
    # A partner organisation, and a partner reviewer account (the walking reviewer is another, not linked to
    # any organisation: their pages send them home with a message, 302).
    partner = PartnerOrganisation(name="Walk partner", name_key="walk partner", kind=PartnerKind.OTHER)
    db.add(partner)
    db.commit()
    reviewer = make_user(db, Role.PARTNER_REVIEWER)
    # Duty hours logged by a special of the walking sergeant's ward (matching/hours), waiting for approval.
    duty_special = make_volunteer(db, kind=VolunteerKind.SPECIAL, home_ward_id=walk_ward.id)
    duty = DutyHours(volunteer_id=duty_special.id, on_date=dt.date(2026, 12, 1), kind=DutyKind.PATROL, minutes=240)
    db.add(duty)
    db.commit()
    # A welfare request after the walking volunteer's offer (matching/deployments), for a coordinator to mark.
    welfare = Deployment(
        offer_id=offer.id,
        request_id=support_request.id,
        volunteer_id=walking_volunteer.id,
        welfare_contact_wanted=True,
    )
    db.add(welfare)
    db.commit()
    # An API token, for its page and its revocation page (issued by a coordinator, as the pages do).
    api_token = ApiToken(
        name="Walk system",
        token_hash="0" * 64,
        display_prefix="sng_walk",
        scopes="requests:read",
        created_by_id=make_user(db, C).id,
        expires_at=utcnow() + dt.timedelta(days=30),
    )
    db.add(api_token)
    db.commit()
    ids = {
        "token_id": api_token.id,
        "slug": "coverage",  # a dashboard, and one of its tables as CSV
        "table_id": "coverage-by-week",
        "deployment_id": welfare.id,
        "entry_id": duty.id,
        "offer_id": offer.id,
        "run_id": run.id,
        "user_id": sergeant.id,
        "item_id": 999999,
        "review_id": review.id,
        "code": "NPPV2F",
        "task_code": "mental_health_escort",
        "clearance_id": 999999,
        "action": "suspend",
        "volunteer_id": special.id,
        "skill_id": special.skills[0].id,
        "request_id": support_request.id,
        "task_type": "cyber_victim_visit",
        "token": "a-link-that-was-never-sent",
        "fmt": "json",  # a route default (the data download's format), not a placeholder
        "membership_id": panel_membership.id,
        "group_id": group.id,
        "group_member_id": group_membership.id,
        "partner_id": partner.id,
        "reviewer_id": reviewer.id,
        "claim_id": 999999,
        "ward_id": walk_ward.id,
        "member_id": pcso.id,
    }
    client = app.test_client()
    if role is not None:
        email = (
            walking_volunteer.user.email
            if role is Role.VOLUNTEER
            else (walker if role is Role.SERGEANT else make_user(db, role)).email
        )
        client.sign_in(email)
        token = client.csrf_token("/")
    else:
        token = client.csrf_token("/sign-in")

    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        expected = EXPECTED[rule.endpoint]
        url = _url_for_rule(rule, ids)
        if rule.endpoint in {"auth.disable_account", "auth.enable_account"}:
            url = _url_for_rule(rule, {"user_id": target.id})
        method = "GET" if "GET" in rule.methods else "POST"
        if rule.endpoint == "auth.sign_out":
            continue  # signing out would end the session the rest of the walk needs; see test_auth
        response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        if expected == PUBLIC:
            # A calendar feed link nobody was given is a bare 404 (tests/integration/test_calendar_feeds.py).
            allowed = (200, 302, 404) if rule.endpoint == "calendar.feed" else (200, 302)
            if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi":
                allowed = (401,)  # a session, whoever's, is no API token
            assert response.status_code in allowed, (rule.endpoint, response.status_code)
        elif role is None:
            assert response.status_code == 302 and "/sign-in" in response.location, rule.endpoint
        elif role in expected:
            # 404 only for removing an item that does not exist (item_id 999999).
            allowed = (200, 302, 404) if "item_id" in rule.arguments else (200, 302)
            assert response.status_code in allowed, (rule.endpoint, role, response.status_code)
        else:
            assert response.status_code == 403, (rule.endpoint, role, response.status_code)


def test_volunteer_gets_403_on_a_coordinator_page_and_it_is_logged(client, db):
    from sqlalchemy import select

    from core.auth.models import SecurityEvent

    volunteer = make_user(db, Role.VOLUNTEER)
    client.sign_in(volunteer.email)
    response = client.get("/accounts")
    assert response.status_code == 403
    assert response.soup.select_one("h1").get_text(strip=True) == "You do not have permission to see this page"
    db.expire_all()
    event = db.scalars(select(SecurityEvent).where(SecurityEvent.event == "access_refused")).one()
    assert event.user_id == volunteer.id and event.detail == "GET /accounts"
