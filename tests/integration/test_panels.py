"""Ward panels, specialist groups and ring-fencing (issue #23): the flows, who may do what, and the forms."""

from __future__ import annotations

from sqlalchemy import select

from core.audit.models import AuditEntry
from core.auth.models import Role
from core.geography.models import Ward
from tests.helpers import error_messages, make_user, make_volunteer, make_wards
from tests.integration.vetting_factories import granted
from volunteers.models import EvidenceStatus, VolunteerSkill, VolunteerStatus
from volunteers.panels.models import (
    PanelState,
    SpecialistGroup,
    SpecialistGroupMembership,
    SpecialistKind,
    WardPanelMembership,
)
from volunteers.skills import SkillLevel


def _client(app, user):
    client = app.test_client()
    client.sign_in(user.email)
    return client


def _setting(db):
    """Two Camden wards, a sergeant for each, and an active local volunteer with a cyber skill and a clearance."""
    home, other = make_wards(db, "Camden", 2)
    sergeant = make_user(db, Role.SERGEANT, wards=[home])
    other_sergeant = make_user(db, Role.SERGEANT, wards=[other])
    volunteer = make_volunteer(
        db,
        full_name="Priya Shah",
        status=VolunteerStatus.ACTIVE,
        home_ward_id=home.id,
        phone="07700 900123",
        skills=[VolunteerSkill(skill_code="osint", level=SkillLevel.EXPERT)],
    )
    granted(db, volunteer, code="NPPV2F")
    return home, other, sergeant, other_sergeant, volunteer


def _actions(db, volunteer_id: int) -> list[str]:
    db.expire_all()
    return list(
        db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject_type == "volunteer", AuditEntry.subject_id == str(volunteer_id))
            .order_by(AuditEntry.seq)
        )
    )


def _membership(db, ward: Ward, volunteer) -> WardPanelMembership:
    db.expire_all()
    return db.scalars(
        select(WardPanelMembership).where(
            WardPanelMembership.ward_id == ward.id, WardPanelMembership.volunteer_id == volunteer.id
        )
    ).one()


def test_a_sergeant_invites_and_the_volunteer_accepts(app, db):
    home, _, sergeant, _, volunteer = _setting(db)
    staff = _client(app, sergeant)
    found = staff.get(f"/panels/wards/{home.id}?q=priya")
    assert found.status_code == 200
    assert "Priya Shah" in found.soup.select_one("#find ~ ul").get_text()
    staff.submit(
        f"/panels/wards/{home.id}/invite", {"volunteer_id": volunteer.id}, token_from=f"/panels/wards/{home.id}"
    )
    membership = _membership(db, home, volunteer)
    assert membership.state is PanelState.INVITED

    # Invited people are not searched for again.
    again = staff.get(f"/panels/wards/{home.id}?q=priya")
    assert "No active volunteer matches" in again.get_data(as_text=True)

    own = _client(app, volunteer.user)
    page = own.get("/your-panels")
    invitation = page.soup.select_one("#invitations ~ .govuk-summary-card")
    assert home.name in invitation.get_text()
    # The home page points to it.
    assert "/your-panels" in own.get("/").get_data(as_text=True)
    own.submit(f"/your-panels/invitations/{membership.id}", {"answer": "accept"}, token_from="/your-panels")
    assert _membership(db, home, volunteer).state is PanelState.MEMBER

    panel = staff.get(f"/panels/wards/{home.id}")
    card = panel.soup.select_one("#members ~ .govuk-summary-card")
    text = " ".join(card.get_text().split())
    assert "Priya Shah" in text and "Open-source intelligence (OSINT) (expert)" in text
    assert volunteer.user.email in text and "07700 900123" in text
    # No vetting detail by the member: no clearance, its type or its dates.
    for word in ("NPPV", "clearance", "Clearance", "vetting", "DBS"):
        assert word not in text
    assert _actions(db, volunteer.id) == ["panel.invited", "panel.invitation_accepted"]


def test_a_volunteer_declines_an_invitation(app, db):
    home, _, sergeant, _, volunteer = _setting(db)
    db.add(WardPanelMembership(ward_id=home.id, volunteer_id=volunteer.id, state=PanelState.INVITED))
    db.commit()
    membership = _membership(db, home, volunteer)
    own = _client(app, volunteer.user)
    own.submit(f"/your-panels/invitations/{membership.id}", {"answer": "decline"}, token_from="/your-panels")
    assert _membership(db, home, volunteer).state is PanelState.DECLINED
    # A second answer is refused, not applied.
    response = own.submit(f"/your-panels/invitations/{membership.id}", {"answer": "accept"}, token_from="/your-panels")
    assert response.status_code == 302
    assert _membership(db, home, volunteer).state is PanelState.DECLINED
    # A tampered answer changes nothing.
    own.submit(f"/your-panels/invitations/{membership.id}", {"answer": "yes-please"}, token_from="/your-panels")
    assert _membership(db, home, volunteer).state is PanelState.DECLINED


def test_a_sergeant_cannot_see_or_change_another_wards_panel(app, db):
    home, other, sergeant, other_sergeant, volunteer = _setting(db)
    db.add(WardPanelMembership(ward_id=home.id, volunteer_id=volunteer.id, state=PanelState.MEMBER))
    db.commit()
    membership = _membership(db, home, volunteer)
    outsider = _client(app, other_sergeant)
    token = outsider.csrf_token("/panels")
    assert outsider.get(f"/panels/wards/{home.id}").status_code == 404
    assert outsider.get(f"/panels/wards/{home.id}/members/{membership.id}/remove").status_code == 404
    for path, data in (
        (f"/panels/wards/{home.id}/invite", {"volunteer_id": volunteer.id}),
        (f"/panels/wards/{home.id}/asks/{membership.id}", {"answer": "decline"}),
        (f"/panels/wards/{home.id}/members/{membership.id}/remove", {}),
    ):
        assert outsider.post(path, data={"csrf_token": token, **data}).status_code == 404, path
    # Their own ward's page cannot reach the other ward's membership either.
    assert outsider.get(f"/panels/wards/{other.id}/members/{membership.id}/remove").status_code == 404
    # Ring-fencing is the coordinators'.
    assert outsider.post(f"/panels/wards/{other.id}/ring-fence", data={"csrf_token": token}).status_code == 403
    assert _membership(db, home, volunteer).state is PanelState.MEMBER
    # Their own overview lists only their ward.
    overview = outsider.get("/panels").get_data(as_text=True)
    assert other.name in overview and f"{home.name} panel" not in overview


def test_a_volunteer_sees_and_answers_only_their_own_invitations(app, db):
    home, _, _, _, volunteer = _setting(db)
    someone = make_volunteer(db, full_name="Someone Else", status=VolunteerStatus.ACTIVE)
    db.add(WardPanelMembership(ward_id=home.id, volunteer_id=someone.id, state=PanelState.INVITED))
    db.commit()
    theirs = _membership(db, home, someone)
    own = _client(app, volunteer.user)
    page = own.get("/your-panels")
    assert "No invitations waiting" in page.get_data(as_text=True)
    token = own.csrf_token("/your-panels")
    answer = own.post(f"/your-panels/invitations/{theirs.id}", data={"csrf_token": token, "answer": "accept"})
    assert answer.status_code == 404
    assert own.get(f"/your-panels/{theirs.id}/leave").status_code == 404
    assert _membership(db, home, someone).state is PanelState.INVITED


def test_a_volunteer_asks_to_join_and_the_sergeant_decides(app, db):
    home, other, sergeant, _, volunteer = _setting(db)
    own = _client(app, volunteer.user)
    page = own.get("/your-panels/ask")
    labels = [" ".join(label.get_text().split()) for label in page.soup.select(".govuk-radios__label")]
    assert labels[0] == f"{home.name} (your home ward)"
    assert other.name in labels
    # Nothing chosen, and a tampered choice: each a message by the field.
    empty = own.submit("/your-panels/ask", {})
    assert error_messages(empty.soup) == {"ward": "Choose the ward whose panel you would like to join"}
    tampered = own.submit("/your-panels/ask", {"ward": "99999999999999999999"})
    assert error_messages(tampered.soup) == {"ward": "Choose one of the wards listed"}
    own.submit("/your-panels/ask", {"ward": str(home.id)})
    membership = _membership(db, home, volunteer)
    assert membership.state is PanelState.ASKED
    twice = own.submit("/your-panels/ask", {"ward": str(home.id)})
    assert "already asked" in error_messages(twice.soup)["ward"]

    staff = _client(app, sergeant)
    panel = staff.get(f"/panels/wards/{home.id}")
    assert "Priya Shah" in panel.soup.select_one("#asks ~ .govuk-summary-card").get_text()
    staff.submit(f"/panels/wards/{home.id}/asks/{membership.id}", {"answer": "accept"}, token_from="/panels")
    assert _membership(db, home, volunteer).state is PanelState.MEMBER

    # The volunteer leaves, after confirming.
    confirm = own.get(f"/your-panels/{membership.id}/leave")
    assert confirm.soup.select_one("h1").get_text(strip=True) == f"Leave the {home.name} panel"
    own.submit(f"/your-panels/{membership.id}/leave", {})
    assert _membership(db, home, volunteer).state is PanelState.REMOVED
    assert _actions(db, volunteer.id) == ["panel.asked", "panel.ask_accepted", "panel.left"]


def test_a_sergeant_declines_an_ask_and_removes_a_member_after_confirming(app, db):
    home, _, sergeant, _, volunteer = _setting(db)
    db.add(WardPanelMembership(ward_id=home.id, volunteer_id=volunteer.id, state=PanelState.ASKED))
    member = make_volunteer(db, full_name="Tom Ward", status=VolunteerStatus.ACTIVE)
    db.add(WardPanelMembership(ward_id=home.id, volunteer_id=member.id, state=PanelState.MEMBER))
    db.commit()
    staff = _client(app, sergeant)
    asked = _membership(db, home, volunteer)
    staff.submit(f"/panels/wards/{home.id}/asks/{asked.id}", {"answer": "decline"}, token_from="/panels")
    assert _membership(db, home, volunteer).state is PanelState.DECLINED

    on_panel = _membership(db, home, member)
    confirm = staff.get(f"/panels/wards/{home.id}/members/{on_panel.id}/remove")
    assert confirm.soup.select_one("h1").get_text(strip=True) == f"Remove Tom Ward from the {home.name} panel"
    assert _membership(db, home, member).state is PanelState.MEMBER  # nothing happens before confirming
    staff.submit(f"/panels/wards/{home.id}/members/{on_panel.id}/remove", {})
    assert _membership(db, home, member).state is PanelState.REMOVED
    assert _actions(db, member.id) == ["panel.removed"]


def test_invitation_search_validates_and_never_fails(app, db):
    home, _, sergeant, _, _ = _setting(db)
    staff = _client(app, sergeant)
    long = staff.get(f"/panels/wards/{home.id}", query_string={"q": "x" * 10_000})
    assert long.status_code == 200
    assert error_messages(long.soup) == {"q": "Enter 100 characters or fewer"}
    tampered = staff.get(f"/panels/wards/{home.id}", query_string={"skill": "juggling"})
    assert error_messages(tampered.soup) == {"skill": "Choose a skill from the list"}
    by_skill = staff.get(f"/panels/wards/{home.id}", query_string={"skill": "osint"})
    assert "Priya Shah" in by_skill.get_data(as_text=True)
    # A tampered invitation: a volunteer who does not exist, or not a number.
    token = staff.csrf_token("/panels")
    for value in ("999999", "abc", "1" * 40, ""):
        response = staff.post(f"/panels/wards/{home.id}/invite", data={"csrf_token": token, "volunteer_id": value})
        assert response.status_code == 302, value


def test_only_active_volunteers_can_be_invited(app, db):
    home, _, sergeant, _, _ = _setting(db)
    paused = make_volunteer(db, full_name="Paused Person", status=VolunteerStatus.PAUSED)
    staff = _client(app, sergeant)
    assert "Paused Person" not in staff.get(f"/panels/wards/{home.id}?q=paused").get_data(as_text=True)
    staff.submit(f"/panels/wards/{home.id}/invite", {"volunteer_id": paused.id}, token_from="/panels")
    db.expire_all()
    assert db.scalars(select(WardPanelMembership).where(WardPanelMembership.volunteer_id == paused.id)).first() is None


def test_a_coordinator_manages_any_ward_and_ring_fences_it(app, db):
    home, _, _, _, volunteer = _setting(db)
    coordinator = make_user(db, Role.COORDINATOR)
    staff = _client(app, coordinator)
    page = staff.get(f"/panels/wards/{home.id}")
    assert "only for urgent" in page.soup.select_one("#ring-fence ~ p").get_text()
    staff.submit(f"/panels/wards/{home.id}/invite", {"volunteer_id": volunteer.id}, token_from="/panels")
    assert _membership(db, home, volunteer).state is PanelState.INVITED

    refused = staff.submit(f"/panels/wards/{home.id}/ring-fence", {"ring_fenced": "perhaps"}, token_from="/panels")
    assert refused.status_code == 302
    db.expire_all()
    assert db.get(Ward, home.id).ring_fenced is False
    staff.submit(f"/panels/wards/{home.id}/ring-fence", {"ring_fenced": "yes"}, token_from="/panels")
    db.expire_all()
    assert db.get(Ward, home.id).ring_fenced is True
    overview = staff.get("/panels")
    assert home.name in overview.get_data(as_text=True) and "Ring-fenced" in overview.get_data(as_text=True)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "ward.ring_fenced")).one()
    assert entry.actor_id == coordinator.id and entry.subject_id == str(home.id)
    # A tampered borough filter is reported by the field, never a 500.
    bad = staff.get("/panels", query_string={"borough": "x" * 10_000})
    assert error_messages(bad.soup) == {"borough": "Choose a borough from the list"}


# ---- Specialist groups -----------------------------------------------------------------------------


def _group_setting(db):
    lead = make_volunteer(
        db,
        full_name="Lena Lead",
        status=VolunteerStatus.ACTIVE,
        skills=[VolunteerSkill(skill_code="incident_response", level=SkillLevel.EXPERT)],
    )
    joiner = make_volunteer(
        db,
        full_name="Jo Joiner",
        status=VolunteerStatus.ACTIVE,
        skills=[
            VolunteerSkill(skill_code="osint", level=SkillLevel.PRACTITIONER),
            VolunteerSkill(skill_code="lang_pl", level=SkillLevel.EXPERT),
            VolunteerSkill(
                skill_code="rmn", level=SkillLevel.EXPERT, evidence_status=EvidenceStatus.PENDING, evidence_body="NMC"
            ),
        ],
    )
    return lead, joiner


def _group_form(**overrides) -> dict:
    data = {"name": "London cyber volunteers", "kind": "cyber", "description": "Cyber help across London."}
    data.update(overrides)
    return data


def test_a_coordinator_creates_a_group_and_its_lead_vouches_for_a_member(app, db):
    lead, joiner = _group_setting(db)
    coordinator = make_user(db, Role.COORDINATOR)
    staff = _client(app, coordinator)
    created = staff.submit("/groups/new", _group_form(lead_email=lead.user.email.upper()))
    assert created.status_code == 302
    db.expire_all()
    group = db.scalars(select(SpecialistGroup)).one()
    assert group.kind is SpecialistKind.CYBER and group.lead_user_id == lead.user_id
    # The lead is a member of their group.
    assert (
        db.scalars(
            select(SpecialistGroupMembership.state).where(SpecialistGroupMembership.volunteer_id == lead.id)
        ).one()
        is PanelState.MEMBER
    )

    asker = _client(app, joiner.user)
    page = asker.get(f"/groups/{group.id}")
    assert page.soup.select_one("#members") is None  # a volunteer who does not lead it sees no member list
    asker.submit(f"/groups/{group.id}/ask", {}, token_from=f"/groups/{group.id}")
    membership = db.scalars(
        select(SpecialistGroupMembership).where(SpecialistGroupMembership.volunteer_id == joiner.id)
    ).one()
    assert membership.state is PanelState.ASKED
    # Someone else's group management is out of reach of a volunteer who does not lead it.
    token = asker.csrf_token(f"/groups/{group.id}")
    assert (
        asker.post(
            f"/groups/{group.id}/asks/{membership.id}", data={"csrf_token": token, "answer": "accept"}
        ).status_code
        == 404
    )

    leader = _client(app, lead.user)
    leader.submit(f"/groups/{group.id}/asks/{membership.id}", {"answer": "accept"}, token_from=f"/groups/{group.id}")
    db.expire_all()
    assert db.get(SpecialistGroupMembership, membership.id).state is PanelState.MEMBER

    page = leader.get(f"/groups/{group.id}")
    buttons = [" ".join(b.get_text().split()) for b in page.soup.select("#members ~ .govuk-summary-card button")]
    # Only the member's skills of the group's field, not yet verified, and none of the lead's own.
    assert buttons == ["Vouch for Open-source intelligence (OSINT) for Jo Joiner"]
    skills = {
        s.skill_code: s for s in db.scalars(select(VolunteerSkill).where(VolunteerSkill.volunteer_id == joiner.id))
    }
    leader.submit(
        f"/groups/{group.id}/members/{membership.id}/skills/{skills['osint'].id}/vouch",
        {},
        token_from=f"/groups/{group.id}",
    )
    # Outside the group's field, and a registered profession: refused.
    for code in ("lang_pl", "rmn"):
        leader.submit(
            f"/groups/{group.id}/members/{membership.id}/skills/{skills[code].id}/vouch",
            {},
            token_from=f"/groups/{group.id}",
        )
    db.expire_all()
    osint = db.get(VolunteerSkill, skills["osint"].id)
    assert osint.evidence_status is EvidenceStatus.VERIFIED and osint.evidence_reviewed_by_id == lead.user_id
    assert db.get(VolunteerSkill, skills["lang_pl"].id).evidence_status is EvidenceStatus.NOT_NEEDED
    assert db.get(VolunteerSkill, skills["rmn"].id).evidence_status is EvidenceStatus.PENDING
    vouched = db.scalars(select(AuditEntry).where(AuditEntry.action == "skill.vouched")).one()
    assert vouched.actor_id == lead.user_id and vouched.subject_id == str(joiner.id)
    assert '"skill":"osint"' in vouched.detail.replace(" ", "")
    # The group's page shows it verified now, and offers no second vouch.
    again = leader.get(f"/groups/{group.id}")
    assert (
        "Open-source intelligence (OSINT) (practitioner, verified)"
        in again.soup.select_one(
            "#members ~ .govuk-summary-card ~ .govuk-summary-card, #members ~ .govuk-summary-card"
        ).parent.get_text()
    )
    assert not again.soup.select("#members ~ .govuk-summary-card button")


def test_the_lead_cannot_vouch_for_their_own_skills(app, db):
    lead, _ = _group_setting(db)
    group = SpecialistGroup(name="Cyber", kind=SpecialistKind.CYBER, description="", lead_user_id=lead.user_id)
    db.add(group)
    db.commit()
    db.add(SpecialistGroupMembership(group_id=group.id, volunteer_id=lead.id, state=PanelState.MEMBER))
    db.commit()
    membership = db.scalars(select(SpecialistGroupMembership)).one()
    leader = _client(app, lead.user)
    leader.submit(
        f"/groups/{group.id}/members/{membership.id}/skills/{lead.skills[0].id}/vouch",
        {},
        token_from=f"/groups/{group.id}",
    )
    db.expire_all()
    assert db.get(VolunteerSkill, lead.skills[0].id).evidence_status is EvidenceStatus.NOT_NEEDED


def test_the_group_form_validates_each_field(app, db):
    lead, _ = _group_setting(db)
    applicant = make_volunteer(db, full_name="Not Yet")
    staff = _client(app, make_user(db, Role.COORDINATOR))
    empty = staff.submit("/groups/new", {})
    assert error_messages(empty.soup) == {"name": "Enter the group's name", "kind": "Choose the group's field"}
    long = staff.submit(
        "/groups/new", _group_form(name="n" * 10_000, description="d" * 10_000, lead_email="e" * 10_000)
    )
    messages = error_messages(long.soup)
    assert messages["name"] == "The name must be 80 characters or fewer"
    assert "characters or fewer" in messages["description"] and "characters or fewer" in messages["lead_email"]
    # What was typed is kept.
    assert long.soup.select_one("#name")["value"] == "n" * 10_000
    tampered = staff.submit("/groups/new", _group_form(kind="astrology"))
    assert error_messages(tampered.soup) == {"kind": "Choose the group's field from the list"}
    unknown = staff.submit("/groups/new", _group_form(lead_email="nobody@example.org"))
    assert "no volunteer has this address" in error_messages(unknown.soup)["lead_email"]
    not_active = staff.submit("/groups/new", _group_form(lead_email=applicant.user.email))
    assert "not an active volunteer" in error_messages(not_active.soup)["lead_email"]
    staff.submit("/groups/new", _group_form())
    duplicate = staff.submit("/groups/new", _group_form(name="  london CYBER volunteers "))
    assert error_messages(duplicate.soup) == {"name": "There is already a group with this name"}
    db.expire_all()
    assert len(db.scalars(select(SpecialistGroup)).all()) == 1


def test_group_management_is_for_its_lead_and_coordinators(app, db):
    lead, joiner = _group_setting(db)
    group = SpecialistGroup(name="Cyber", kind=SpecialistKind.CYBER, description="", lead_user_id=lead.user_id)
    db.add(group)
    db.commit()
    db.add(SpecialistGroupMembership(group_id=group.id, volunteer_id=joiner.id, state=PanelState.MEMBER))
    db.commit()
    membership = db.scalars(select(SpecialistGroupMembership)).one()
    sergeant = _client(app, make_user(db, Role.SERGEANT))
    assert sergeant.get(f"/groups/{group.id}").status_code == 200
    assert sergeant.get(f"/groups/{group.id}/members/{membership.id}/remove").status_code == 403
    outsider = _client(app, make_volunteer(db, status=VolunteerStatus.ACTIVE).user)
    assert outsider.get(f"/groups/{group.id}/members/{membership.id}/remove").status_code == 404
    assert outsider.get(f"/groups/{group.id}/edit").status_code == 403
    leader = _client(app, lead.user)
    assert leader.get(f"/groups/{group.id}/members/{membership.id}/remove").status_code == 200
    leader.submit(f"/groups/{group.id}/members/{membership.id}/remove", {})
    db.expire_all()
    assert db.get(SpecialistGroupMembership, membership.id).state is PanelState.REMOVED
    assert leader.get("/groups/999999").status_code == 404


# ---- Requests aimed at a panel or a group -----------------------------------------------------------


def _request_form(ward: Ward, **overrides) -> dict:
    import datetime as dt

    from core.timeutil import london_today
    from tests.helpers import date_fields

    data = {
        "title": "Advice visit after a phone scam",
        "description": "Explain what happened and how to stay safe online.",
        "ward": str(ward.id),
        **date_fields("date", london_today() + dt.timedelta(days=10)),
        "start_time": "14:00",
        "end_time": "16:00",
        "duration": "60",
        "people_needed": "1",
        "all_or_nothing": "no",
        "priority": "routine",
        "warranted_only": "no",
        "organisation": "",
    }
    data.update(overrides)
    return data


def test_a_request_asks_its_ward_panel_first_or_one_specialist_group(app, db):
    from matching.models import RequestAudience, SupportRequest

    home, _, sergeant, _, _ = _setting(db)
    group = SpecialistGroup(name="Cyber", kind=SpecialistKind.CYBER, description="")
    db.add(group)
    db.commit()
    staff = _client(app, sergeant)
    path = "/requests/new/cyber_victim_visit"
    page = staff.get(path)
    assert page.soup.select_one("input[name=audience][value=ward_panel_first]").has_attr("checked")
    assert "Cyber (cyber)" in page.soup.select_one("#specialist_group").get_text()

    missing = staff.submit(path, _request_form(home, audience="specialist_group"))
    assert error_messages(missing.soup) == {"specialist_group": "Choose the specialist group to ask"}
    # What was typed is kept.
    assert missing.soup.select_one("#title")["value"] == "Advice visit after a phone scam"
    tampered = staff.submit(path, _request_form(home, audience="everyone", specialist_group="999999"))
    messages = error_messages(tampered.soup)
    assert messages["audience"] == "Choose your ward panel first or a specialist group"
    assert messages["specialist_group"] == "Choose a specialist group from the list"

    staff.submit(path, _request_form(home, audience="specialist_group", specialist_group=str(group.id)))
    staff.submit(
        path, _request_form(home, title="Panel first", audience="ward_panel_first", specialist_group=str(group.id))
    )
    db.expire_all()
    saved = {r.title: r for r in db.scalars(select(SupportRequest))}
    aimed = saved["Advice visit after a phone scam"]
    assert aimed.audience is RequestAudience.SPECIALIST_GROUP and aimed.specialist_group_id == group.id
    # A group chosen and then the panel picked instead: the group is not kept.
    local = saved["Panel first"]
    assert local.audience is RequestAudience.WARD_PANEL_FIRST and local.specialist_group_id is None
