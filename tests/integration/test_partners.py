"""Partner organisations and partner reviewers (issue #23): coordinators keep the list, volunteers name theirs
and ask for skills to be vouched for, a reviewer sees only their organisation's claims and vouches or declines
(audited), and partners are organisations for the conflict-of-interest check (matched by id)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from core.audit.models import AuditEntry
from core.auth.models import Role, User
from matching.domain import Conflict, conflicted
from matching.facts import load_requests, load_volunteers, london_week
from matching.funnel import funnel
from matching.models import SupportRequest
from matching.offers.eligibility import people_conflicts
from tests.helpers import error_messages, make_kings_cross_and_belsize, make_request, make_user, make_volunteer
from tests.integration.test_requests import _valid
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance
from volunteers.models import (
    AvailabilitySlot,
    ConflictCategory,
    ConflictDeclaration,
    EvidenceStatus,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
)
from volunteers.partners.models import (
    ClaimState,
    PartnerKind,
    PartnerOrganisation,
    PartnerRelation,
    PartnerReviewer,
    SkillClaim,
    VolunteerPartner,
)
from volunteers.skills import SkillLevel

UTC = dt.UTC


def _partner(db, name: str, kind: PartnerKind = PartnerKind.CYBER_RESILIENCE_CENTRE) -> PartnerOrganisation:
    partner = PartnerOrganisation(name=name, name_key=name.lower(), kind=kind)
    db.add(partner)
    db.commit()
    return partner


def _reviewer(db, partner: PartnerOrganisation | None) -> User:
    user = make_user(db, Role.PARTNER_REVIEWER)
    if partner is not None:
        db.add(PartnerReviewer(user_id=user.id, partner_id=partner.id))
        db.commit()
    return user


def _claimant(db, partner: PartnerOrganisation, *codes: str, **profile) -> tuple[Volunteer, dict[str, SkillClaim]]:
    """A volunteer who names ``partner`` and asks it to vouch for ``codes`` (held at practitioner level)."""
    volunteer = make_volunteer(db, **{"status": VolunteerStatus.ACTIVE, **profile})
    skills = []
    for code in codes:
        pending = code in ("rmn", "youth_worker")
        skill = VolunteerSkill(
            volunteer_id=volunteer.id,
            skill_code=code,
            level=SkillLevel.PRACTITIONER,
            evidence_status=EvidenceStatus.PENDING if pending else EvidenceStatus.NOT_NEEDED,
            evidence_body="NMC" if code == "rmn" else None,
            registration_number="12A3456E" if code == "rmn" else None,
            evidence_expires_on=dt.date(2030, 1, 1) if code == "rmn" else None,
        )
        db.add(skill)
        skills.append(skill)
    db.flush()
    link = VolunteerPartner(volunteer_id=volunteer.id, partner_id=partner.id, relation=PartnerRelation.WORKS_FOR)
    link.claims = [SkillClaim(skill_id=s.id) for s in skills]
    db.add(link)
    db.commit()
    return volunteer, {s.skill_code: c for s, c in zip(skills, link.claims, strict=True)}


def _audit(db, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


# ---- Coordinators keep the list -------------------------------------------------------------------


def test_a_coordinator_adds_and_changes_partners_with_every_field_checked_and_audited(client, db):
    coordinator = make_user(db, Role.COORDINATOR)
    client.sign_in(coordinator.email)
    _partner(db, "Barts Health NHS Trust", PartnerKind.NHS_TRUST)

    bad = {
        "": ("name", "Enter the organisation's name"),
        "x" * 10_000: ("name", "Name must be 160 characters or fewer"),
        "barts health nhs trust": ("name", "A partner organisation with this name already exists"),
    }
    for name, (field, message) in bad.items():
        response = client.submit("/partners/new", {"name": name, "kind": "nhs_trust", "description": ""})
        assert response.status_code == 200
        assert error_messages(response.soup)[field] == message
        # Nothing typed is lost.
        assert response.soup.select_one("#name")["value"] == name
    response = client.submit("/partners/new", {"name": "A trust", "kind": "hospital", "description": "d" * 10_000})
    errors = error_messages(response.soup)
    assert errors["kind"] == "Choose what kind of organisation it is from the list"
    assert errors["description"] == "Description must be 600 characters or fewer"

    response = client.submit(
        "/partners/new", {"name": "  London Cyber   Resilience Centre ", "kind": "cyber_resilience_centre"}
    )
    assert response.status_code == 302 and response.location == "/partners"
    db.expire_all()
    partner = db.scalars(
        select(PartnerOrganisation).where(PartnerOrganisation.kind == PartnerKind.CYBER_RESILIENCE_CENTRE)
    ).one()
    assert partner.name == "London Cyber Resilience Centre"
    assert "London Cyber Resilience Centre" in client.get("/partners").soup.select_one("main").get_text()

    response = client.submit(
        f"/partners/{partner.id}/edit",
        {"name": "London CRC", "kind": "other", "description": "Cyber help for small firms."},
    )
    assert response.status_code == 302
    (added,) = _audit(db, "partner.added")
    (changed,) = _audit(db, "partner.changed")
    assert added.actor_id == coordinator.id and added.subject_id == str(partner.id)
    detail = json.loads(changed.detail)
    assert detail["before"]["name"] == "London Cyber Resilience Centre" and detail["after"]["kind"] == "other"
    assert client.get("/partners/999999/edit").status_code == 404


def test_a_new_partner_reviewer_account_goes_on_to_choose_its_organisation(client, db, smtp):
    coordinator = make_user(db, Role.COORDINATOR)
    partner = _partner(db, "Hackney Youth Service", PartnerKind.YOUTH_SERVICE)
    client.sign_in(coordinator.email)
    response = client.submit(
        "/accounts/new", {"full_name": "Sam Reviewer", "email": "sam@youth.example", "role": "partner_reviewer"}
    )
    db.expire_all()
    user = db.scalars(select(User).where(User.email == "sam@youth.example")).one()
    assert user.role is Role.PARTNER_REVIEWER and user.mfa_required
    assert response.location == f"/partners/reviewers/{user.id}"

    response = client.submit(response.location, {"partner": "999999"})
    assert error_messages(response.soup)["partner"] == "Choose a partner organisation from the list"
    response = client.submit(f"/partners/reviewers/{user.id}", {"partner": str(partner.id)})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(PartnerReviewer, user.id).partner_id == partner.id
    (linked,) = _audit(db, "partner_reviewer.linked")
    assert json.loads(linked.detail)["partner_id"] == partner.id
    # Only partner reviewers' accounts have an organisation.
    assert client.get(f"/partners/reviewers/{coordinator.id}").status_code == 404


# ---- Volunteers name theirs -------------------------------------------------------------------------


def test_a_volunteer_names_a_partner_asks_for_skills_and_can_remove_it(client, db):
    partner = _partner(db, "London Cyber Resilience Centre")
    volunteer = make_volunteer(db)
    osint = VolunteerSkill(volunteer_id=volunteer.id, skill_code="osint", level=SkillLevel.EXPERT)
    other = make_volunteer(db)
    theirs = VolunteerSkill(volunteer_id=other.id, skill_code="osint", level=SkillLevel.EXPERT)
    db.add_all([osint, theirs])
    db.commit()
    client.sign_in(volunteer.user.email)

    # Tampered: someone else's skill, an unknown organisation, an unknown relation.
    response = client.submit(
        "/profile/organisations/add", {"partner": str(partner.id), "relation": "works_for", "skills": str(theirs.id)}
    )
    assert error_messages(response.soup) == {"skills": "Choose skills from your profile"}
    response = client.submit("/profile/organisations/add", {"partner": "999999", "relation": "owns"})
    errors = error_messages(response.soup)
    assert errors["partner"] == "Choose an organisation from the list"
    assert errors["relation"] == "Choose how you are connected to the organisation from the list"

    response = client.submit(
        "/profile/organisations/add", {"partner": str(partner.id), "relation": "works_with", "skills": str(osint.id)}
    )
    assert response.status_code == 302
    db.expire_all()
    link = db.scalars(select(VolunteerPartner).where(VolunteerPartner.volunteer_id == volunteer.id)).one()
    assert [(c.skill_id, c.state) for c in link.claims] == [(osint.id, ClaimState.PENDING)]
    page = client.get("/profile/organisations").soup
    assert "Waiting for the partner" in page.select_one("main").get_text()

    # Named once only (the choice is no longer offered; a forged post is refused by the field).
    response = client.submit("/profile/organisations/add", {"partner": str(partner.id), "relation": "works_for"})
    assert error_messages(response.soup)["partner"] == "Choose an organisation from the list"

    # Another volunteer cannot touch this link.
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})
    client.sign_in(other.user.email)
    assert client.submit(f"/profile/organisations/{link.id}/remove", {}, token_from="/").status_code == 404
    assert client.get(f"/profile/organisations/{link.id}/skills").status_code == 404

    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})
    client.sign_in(volunteer.user.email)
    link_id = link.id
    assert client.submit(f"/profile/organisations/{link_id}/remove", {}, token_from="/").status_code == 302
    db.expire_all()
    assert db.get(VolunteerPartner, link_id) is None
    assert [e.subject_id for e in _audit(db, "partner.named")] == [str(volunteer.id)]
    assert len(_audit(db, "partner.unnamed")) == 1


# ---- What a reviewer sees, and nothing else ------------------------------------------------------------


def test_a_reviewer_sees_only_their_organisations_volunteers_and_claimed_skills(client, db):
    wards = make_kings_cross_and_belsize(db)
    ours, theirs = _partner(db, "London Cyber Resilience Centre"), _partner(db, "Barts Health", PartnerKind.NHS_TRUST)
    reviewer = _reviewer(db, ours)
    alice, alice_claims = _claimant(db, ours, "osint", phone="07700 900111", home_ward_id=wards["kings_cross"].id)
    # A skill Alice holds but did not ask our partner about, and a clearance: never shown to the reviewer.
    db.add(VolunteerSkill(volunteer_id=alice.id, skill_code="paramedic", level=SkillLevel.EXPERT))
    db.add(
        Clearance(
            volunteer_id=alice.id,
            type_code="NPPV2F",
            state=ClearanceState.GRANTED,
            valid_from=dt.date(2024, 1, 1),
            expires_on=dt.date(2027, 1, 1),
        )
    )
    db.add(AvailabilitySlot(volunteer_id=alice.id, weekday=2, start_minute=540, end_minute=600))
    db.commit()
    bob, bob_claims = _claimant(db, theirs, "mh_first_aid")
    left, left_claims = _claimant(db, ours, "incident_response", status=VolunteerStatus.LEFT)
    client.sign_in(reviewer.email)

    listing = client.get("/partner/volunteers").soup.select_one("main").get_text()
    assert alice.user.full_name in listing
    assert bob.user.full_name not in listing and left.user.full_name not in listing

    page = client.get(f"/partner/volunteers/{alice.id}")
    text = page.soup.select_one("main").get_text()
    assert "Open-source intelligence (OSINT)" in text
    for hidden in ("Paramedic", "07700 900111", "King's Cross", alice.user.email, "NPPV", "Wednesday", "09:00"):
        assert hidden not in page.get_data(as_text=True), hidden

    # 404 for every other volunteer and claim: another partner's, someone who left, one that does not exist.
    assert client.get(f"/partner/volunteers/{bob.id}").status_code == 404
    assert client.get(f"/partner/volunteers/{left.id}").status_code == 404
    token = client.csrf_token("/partner/volunteers")
    for claim in (bob_claims["mh_first_aid"], left_claims["incident_response"]):
        assert client.post(f"/partner/claims/{claim.id}/vouch", data={"csrf_token": token}).status_code == 404
        assert client.get(f"/partner/claims/{claim.id}/decline").status_code == 404
    assert client.post("/partner/claims/999999/vouch", data={"csrf_token": token}).status_code == 404
    # 403 on every other page of the service (the route table in test_permissions walks them all).
    for path in ("/volunteers", f"/volunteers/{alice.id}", "/requests", "/vetting/queue", "/profile", "/partners"):
        assert client.get(path).status_code == 403, path
    db.expire_all()
    assert db.get(SkillClaim, bob_claims["mh_first_aid"].id).state is ClaimState.PENDING

    # A reviewer not linked to an organisation yet sees nobody.
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})
    client.sign_in(_reviewer(db, None).email)
    response = client.get("/partner/volunteers")
    assert response.status_code == 302 and response.location == "/"
    assert (
        client.post(
            f"/partner/claims/{alice_claims['osint'].id}/vouch", data={"csrf_token": client.csrf_token("/")}
        ).status_code
        == 302
    )
    db.expire_all()
    assert db.get(SkillClaim, alice_claims["osint"].id).state is ClaimState.PENDING


# ---- Vouching and declining ------------------------------------------------------------------------------


def test_a_vouch_makes_the_skill_verified_evidence_by_that_partner_and_is_audited(client, db):
    partner = _partner(db, "London Cyber Resilience Centre")
    reviewer = _reviewer(db, partner)
    volunteer, claims = _claimant(db, partner, "incident_response", "rmn")
    client.sign_in(reviewer.email)
    token = client.csrf_token(f"/partner/volunteers/{volunteer.id}")

    response = client.post(f"/partner/claims/{claims['incident_response'].id}/vouch", data={"csrf_token": token})
    assert response.status_code == 302 and response.location == f"/partner/volunteers/{volunteer.id}"
    db.expire_all()
    skill = db.get(SkillClaim, claims["incident_response"].id).skill
    assert skill.evidence_status is EvidenceStatus.VERIFIED
    assert (skill.vouched_by_partner_id, skill.evidence_reviewed_by_id) == (partner.id, reviewer.id)
    claim = db.get(SkillClaim, claims["incident_response"].id)
    assert (claim.state, claim.decided_by_id) == (ClaimState.VOUCHED, reviewer.id)

    # Decided once: a second press says so and changes nothing.
    again = client.post(f"/partner/claims/{claim.id}/vouch", data={"csrf_token": token}, follow_redirects=True)
    assert "This skill has already been vouched." in again.soup.select_one(".govuk-error-summary").get_text()

    # A registered profession keeps the coordinator's register check: the vouch is recorded beside it.
    client.post(f"/partner/claims/{claims['rmn'].id}/vouch", data={"csrf_token": token})
    db.expire_all()
    rmn = db.get(SkillClaim, claims["rmn"].id)
    assert rmn.state is ClaimState.VOUCHED and rmn.skill.evidence_status is EvidenceStatus.PENDING

    entries = _audit(db, "skill_claim.vouched")
    assert [(e.actor_id, e.subject_id) for e in entries] == [(reviewer.id, str(volunteer.id))] * 2
    assert json.loads(entries[0].detail) == {
        "claim_id": claim.id,
        "partner_id": partner.id,
        "skill": "incident_response",
        "evidence_verified": True,
    }

    # The volunteer's profile shows it verified, and by whom; the matcher reads it as verified evidence.
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})
    client.sign_in(volunteer.user.email)
    skills_page = client.get("/profile/skills").soup.select_one("main").get_text()
    assert "Yes: verified" in skills_page and "Vouched for by London Cyber Resilience Centre" in skills_page


def test_a_decline_needs_a_reason_is_recorded_for_the_coordinator_and_leaves_the_skill(client, db):
    partner = _partner(db, "London Cyber Resilience Centre")
    reviewer = _reviewer(db, partner)
    volunteer, claims = _claimant(db, partner, "osint")
    claim = claims["osint"]
    client.sign_in(reviewer.email)
    path = f"/partner/claims/{claim.id}/decline"
    for reason, message in (
        ("   ", "Enter why you cannot vouch for this skill"),
        ("x" * 10_000, "The reason must be 300 characters or fewer"),
    ):
        response = client.submit(path, {"reason": reason})
        assert error_messages(response.soup) == {"reason": message}
    response = client.submit(path, {"reason": "Not known to us   in this role"})
    assert response.status_code == 302
    db.expire_all()
    claim = db.get(SkillClaim, claim.id)
    assert (claim.state, claim.decline_reason) == (ClaimState.DECLINED, "Not known to us in this role")
    assert claim.skill.evidence_status is EvidenceStatus.NOT_NEEDED and claim.skill.vouched_by_partner_id is None
    (entry,) = _audit(db, "skill_claim.declined")
    assert entry.actor_id == reviewer.id and json.loads(entry.detail)["reason"] == "Not known to us in this role"
    # Decided: the decline page sends the reviewer back.
    assert client.get(path).status_code == 302

    coordinator = make_user(db, Role.COORDINATOR)
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})
    client.sign_in(coordinator.email)
    page = client.get(f"/volunteers/{volunteer.id}").soup.select_one("main").get_text(" ")
    assert "Works for London Cyber Resilience Centre" in page
    assert "Declined" in page and "Not known to us in this role" in page and reviewer.full_name in page


# ---- Partners in the conflict check ----------------------------------------------------------------------

AT_2PM = dt.datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def test_conflicts_name_partners_by_id_whatever_their_names_are_typed_as(db):
    assert conflicted([Conflict("LCRC", None, 7)], "London Cyber Resilience Centre", 1, 7)
    assert not conflicted([Conflict("LCRC", None, 7)], "London Cyber Resilience Centre", 1, 8)
    assert not conflicted([Conflict("LCRC", None, 7)], "", 1, None)

    wards = make_kings_cross_and_belsize(db)
    partner = _partner(db, "Camden and Islington NHS Foundation Trust", PartnerKind.NHS_TRUST)
    people = {}
    for name in ("conflicted", "typed_other_name", "free"):
        volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE, home_ward_id=wards["kings_cross"].id)
        db.add(VolunteerSkill(volunteer_id=volunteer.id, skill_code="cyber_victim_support", level=SkillLevel.EXPERT))
        db.add(
            Clearance(
                volunteer_id=volunteer.id,
                type_code="NPPV2F",
                state=ClearanceState.GRANTED,
                valid_from=dt.date(2024, 1, 1),
                expires_on=dt.date(2028, 1, 1),
            )
        )
        db.add(AvailabilitySlot(volunteer_id=volunteer.id, weekday=3, start_minute=9 * 60, end_minute=18 * 60))
        people[name] = volunteer
    db.add_all(
        [
            # Chosen from the list, typed as the volunteer knows it.
            ConflictDeclaration(
                volunteer_id=people["conflicted"].id,
                category=ConflictCategory.EMPLOYER,
                organisation="C&I trust",
                partner_id=partner.id,
            ),
            ConflictDeclaration(
                volunteer_id=people["typed_other_name"].id, category=ConflictCategory.CLIENT, organisation="Whittington"
            ),
        ]
    )
    db.commit()
    item = make_request(db, wards["kings_cross"], AT_2PM, organisation="St Pancras Hospital", partner_id=partner.id)

    (request,) = load_requests(db, [item.id])
    assert request.partner_id == partner.id
    week = london_week(AT_2PM)
    volunteers = load_volunteers(db, week_start=week[0], week_end=week[1])
    result = funnel(request, volunteers)
    assert {c.volunteer_id for c in result.candidates} == {people["typed_other_name"].id, people["free"].id}
    assert next(s for s in result.stages if s.key == "conflicts").remaining == 2

    # Accepting an offer re-checks conflicts the same way.
    found = people_conflicts(db, select(Volunteer.id))
    assert Conflict("C&I trust", None, partner.id) in found[people["conflicted"].id]


def test_sergeants_and_volunteers_choose_partners_from_the_list(client, db):
    wards = make_kings_cross_and_belsize(db)
    partner = _partner(db, "Hackney Youth Service", PartnerKind.YOUTH_SERVICE)
    volunteer = make_volunteer(db)
    client.sign_in(volunteer.user.email)
    response = client.submit("/profile/conflicts/add", {"category": "employer", "partner": "999999", "ward": "0"})
    assert error_messages(response.soup)["partner"] == "Choose a partner organisation from the list"
    response = client.submit("/profile/conflicts/add", {"category": "employer", "organisation": "", "ward": "0"})
    assert error_messages(response.soup) == {"organisation": "Enter the name of the organisation, person or place"}
    response = client.submit(
        "/profile/conflicts/add", {"category": "employer", "partner": str(partner.id), "organisation": "", "ward": "0"}
    )
    assert response.status_code == 302
    db.expire_all()
    declared = db.scalars(select(ConflictDeclaration).where(ConflictDeclaration.volunteer_id == volunteer.id)).one()
    assert (declared.partner_id, declared.organisation) == (partner.id, "Hackney Youth Service")

    # The sergeant's request form offers the partners; the request keeps the one chosen, and its page says how
    # many volunteers will be left out.
    sergeant = make_user(db, Role.SERGEANT, wards=[wards["kings_cross"]])
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})
    client.sign_in(sergeant.email)
    form = client.get("/requests/new/cyber_victim_visit").soup
    options = [o.get_text(strip=True) for o in form.select("#partner option")]
    assert options == ["None of these", "Hackney Youth Service"]
    tampered = client.submit(
        "/requests/new/cyber_victim_visit", _valid(wards["kings_cross"], partner="999999", audience="ward_panel_first")
    )
    assert error_messages(tampered.soup)["partner"] == "Choose a partner organisation from the list"
    response = client.submit(
        "/requests/new/cyber_victim_visit",
        _valid(wards["kings_cross"], partner=str(partner.id), audience="ward_panel_first"),
    )
    assert response.status_code == 302, error_messages(response.soup)
    db.expire_all()
    item = db.scalars(select(SupportRequest).where(SupportRequest.created_by_id == sergeant.id)).one()
    # No name typed: the partner's, so conflicts declared by name alone still match.
    assert (item.partner_id, item.organisation) == (partner.id, "Hackney Youth Service")
    page = client.get(f"/requests/{item.id}").soup.select_one("main").get_text(" ")
    assert "1 volunteer has declared a conflict of interest with it" in page
    edit = client.get(f"/requests/{item.id}/edit").soup
    assert edit.select_one("#partner option[selected]")["value"] == str(partner.id)
