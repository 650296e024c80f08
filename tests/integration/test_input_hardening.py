"""One input-hardening layer, applied everywhere (issue 18).

Every field of every form in the app, found from the form classes, takes a NUL byte (and each date a
year of 999999999999, each number a 20-digit one) and answers with a message, never a 500, on both
databases. Ids outside 1..2^31-1 in a URL are 404s, a 30 MB POST is a 413, and a request whose title
held CR/LF (saved before the forms refused it) can be cancelled: every offered volunteer is emailed,
one at a time, and a failing address is retried by the queue.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import importlib
import io
import pkgutil
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart
from wtforms import FileField, IntegerField, StringField, SubmitField
from wtforms.fields.core import UnboundField

import core
import matching
import vetting
import volunteers
from core.auth import credentials
from core.auth.models import Role, User
from core.db import utcnow
from core.forms import BaseForm, LondonDateField, PlainText
from core.hardening import MAX_ID
from core.mail import MailError, header_text, send_mail
from core.timeutil import london_today
from matching.deployments.models import Deployment
from matching.hours.models import DutyHours, DutyKind
from matching.models import Offer, OfferStatus, RequestStatus, SupportRequest
from matching.offers.services import refresh_status
from matching.teams.models import TeamRole, WardTeamMember
from tests.helpers import (
    PASSWORD,
    CheckedClient,
    date_fields,
    error_messages,
    make_offer,
    make_request,
    make_user,
    make_volunteer,
    make_wards,
)
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ReviewKind, VettingReview
from volunteers.models import (
    EvidenceStatus,
    OccupationCategory,
    Volunteer,
    VolunteerKind,
    VolunteerSkill,
    VolunteerStatus,
)
from volunteers.panels.models import SpecialistGroup, SpecialistKind
from volunteers.partners.models import (
    PartnerKind,
    PartnerOrganisation,
    PartnerRelation,
    PartnerReviewer,
    SkillClaim,
    VolunteerPartner,
)
from volunteers.skills import SkillLevel

# ---- Every form, from the form classes -----------------------------------------------------------


def _import_everything() -> None:
    """Import every module of the app, so every form class exists (not only those create_app imports)."""
    for package in (core, volunteers, vetting, matching):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not module.name.endswith("__main__"):  # a __main__ runs when imported
                importlib.import_module(module.name)


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _name(form_class: type) -> str:
    return f"{form_class.__module__}.{form_class.__qualname__}"


def _fields(form_class: type) -> list[tuple[str, type]]:
    """(name, field class) of the fields a person sends: not the CSRF token, not the buttons."""
    found = []
    for name in dir(form_class):
        value = getattr(form_class, name, None)
        if isinstance(value, UnboundField) and not issubclass(value.field_class, SubmitField):
            found.append((name, value.field_class))
    return sorted(found)


_import_everything()
# A form another form extends (VersionedForm, the GET filters' base) is tested through its subclasses;
# a form nothing extends is one a page shows, so it must be in ROUTES below.
ALL_FORMS = sorted({c for c in _subclasses(BaseForm) if c.__module__.split(".")[0] != "tests"}, key=_name)
PAGE_FORMS = [c for c in ALL_FORMS if not c.__subclasses__() and _fields(c)]


# ---- Where each form is shown, and what a valid answer is ---------------------------------------


@dataclass
class Target:
    url: str
    who: Role | None  # signed in as; None: nobody
    valid: dict = field(default_factory=dict)
    get: bool = False  # a GET form (filters): the values go in the query string
    flash: bool = False  # the view reports a refused form as a flash message, not by the field
    # A chooser that shows its default for a value it does not know, with no message (a navigation
    # aid, not data entry): it must still answer 200 and never echo what it was sent.
    ignores_bad_values: bool = False
    # Field → what else its check needs: other values ("data") or another person ("who"), for a field
    # that only counts in some answers (a BCU when matching a BCU) or is shown only to some roles.
    per_field: dict = field(default_factory=dict)

    def for_field(self, name: str) -> Target:
        extra = self.per_field.get(name, {})
        return replace(self, who=extra.get("who", self.who), valid=self.valid | extra.get("data", {}))


class World:
    """The people and records the pages need, made on first use."""

    def __init__(self, app, db):
        self.app, self.db = app, db
        self._clients: dict[Role | None, CheckedClient] = {}
        self.wards = make_wards(db, "Camden", 2)
        self.sergeant = make_user(db, Role.SERGEANT, wards=[self.wards[0]])
        self.coordinator = make_user(db, Role.COORDINATOR)
        self.officer = make_user(db, Role.VETTING_OFFICER)
        self.volunteer = make_volunteer(db, kind=VolunteerKind.SPECIAL, home_ward_id=self.wards[0].id)
        self.skill = VolunteerSkill(
            volunteer_id=self.volunteer.id,
            skill_code="rmn",
            level=SkillLevel.PRACTITIONER,
            evidence_body="NMC",
            registration_number="12A3456B",
            evidence_status=EvidenceStatus.PENDING,
        )
        today = london_today()
        self.clearance = Clearance(
            volunteer_id=self.volunteer.id,
            type_code="NPPV2F",
            state=ClearanceState.GRANTED,
            valid_from=today - dt.timedelta(days=100),
            expires_on=today + dt.timedelta(days=400),
        )
        self.refused = Clearance(volunteer_id=self.volunteer.id, type_code="NPPV3", state=ClearanceState.REFUSED)
        db.add_all([self.skill, self.clearance, self.refused])
        db.commit()
        self.review = VettingReview(
            volunteer_id=self.volunteer.id,
            kind=ReviewKind.NEW_APPLICATION,
            due_on=today + dt.timedelta(days=10),
        )
        db.add(self.review)
        db.commit()
        self.request = make_request(db, self.wards[0], utcnow() + dt.timedelta(days=10), created_by_id=self.sergeant.id)

    def reset_link(self) -> str:
        """The path of a live password-reset link for the volunteer, as emailed."""
        email = credentials.request_password_reset(
            self.db, self.volunteer.user.email, credentials.Settings.from_config(self.app.config)
        )
        return "/reset-password/" + re.search(r"/reset-password/(\S+)", email.body)[1]

    def client(self, who: Role | str | None) -> CheckedClient:
        if who == PENDING:  # the password given, the security code not yet
            if who not in self._clients:
                self._clients[who] = self.app.test_client()
                response = self._clients[who].submit(
                    "/sign-in", {"email": self.coordinator.email, "password": PASSWORD}
                )
                assert response.location.startswith("/sign-in/security-code")
            return self._clients[who]
        if who not in self._clients:
            client = self.app.test_client()
            email_by_role = {
                Role.SERGEANT: self.sergeant.email,
                Role.COORDINATOR: self.coordinator.email,
                Role.VETTING_OFFICER: self.officer.email,
                Role.VOLUNTEER: self.volunteer.user.email,
            }
            if who is Role.PARTNER_REVIEWER:  # made only for the pages that need one
                email_by_role[who] = _partner_reviewer(self).email
            if who is not None:
                client.sign_in(email_by_role[who])
            self._clients[who] = client
        return self._clients[who]

    @property
    def version(self) -> str:
        self.db.refresh(self.volunteer)
        return str(self.volunteer.version)


def _soon() -> dt.date:
    return london_today() + dt.timedelta(days=10)


def _request_details(w: World) -> dict:
    return {
        "title": "Advice visit after a phone scam",
        "description": "Explain what happened and how to stay safe online.",
        "ward": str(w.wards[0].id),
        **date_fields("date", _soon()),
        "start_time": "14:00",
        "end_time": "16:00",
        "duration": "60",
        "people_needed": "1",
        "all_or_nothing": "no",
        "priority": "routine",
        "warranted_only": "no",
        "remote": "no",
        "organisation": "",
        "preferred_volunteer": "",
    }


V, S, C, VO = Role.VOLUNTEER, Role.SERGEANT, Role.COORDINATOR, Role.VETTING_OFFICER
PENDING = "signing in"  # a browser between the password and the security code


def _dbs_clearance(w: World) -> Clearance:
    """A DBS check in force with its certificate recorded, made once per World (for the status-check page)."""
    if not hasattr(w, "dbs"):
        today = london_today()
        w.dbs = Clearance(
            volunteer_id=w.volunteer.id,
            type_code="DBS_ENH_CHILD",
            state=ClearanceState.GRANTED,
            valid_from=today - dt.timedelta(days=100),
            expires_on=today + dt.timedelta(days=400),
            dbs_certificate_number="001234567890",
            dbs_issued_on=today - dt.timedelta(days=100),
        )
        w.db.add(w.dbs)
        w.db.commit()
    return w.dbs


def _booking(w: World) -> Offer:
    """The volunteer booked on the request (ten days away, so outside the notice to withdraw), once per World."""
    if not hasattr(w, "booking"):
        w.booking = make_offer(w.db, w.volunteer, w.request, OfferStatus.ACCEPTED)
    return w.booking


def _health_worker(w: World) -> Volunteer:
    """The volunteer, working for the NHS (their conflict review asks for the employer's permission)."""
    w.volunteer.occupation_category = OccupationCategory.NHS_AMBULANCE
    w.db.commit()
    return w.volunteer


# Form class → where it is shown. A new form must be added here (test_every_page_form_has_a_route).
ROUTES: dict[str, Callable[[World], Target]] = {
    # core.auth
    "core.auth.forms.SignInForm": lambda w: Target(
        "/sign-in", None, {"email": "nobody@test.example", "password": "not-the-password-1"}
    ),
    "core.auth.forms.StaffAccountForm": lambda w: Target(
        "/accounts/new",
        C,
        {"full_name": "Sam Patel", "email": "sam.patel@test.example", "role": "sergeant", "password": "x" * 16},
    ),
    "core.auth.forms.SergeantWardsForm": lambda w: Target(
        f"/accounts/{w.sergeant.id}/wards", C, {"wards": [str(w.wards[0].id)]}
    ),
    "core.auth.forms.BoroughChoiceForm": lambda w: Target(
        f"/accounts/{w.sergeant.id}/wards", C, {}, get=True, ignores_bad_values=True
    ),
    "core.auth.forms.ForgottenPasswordForm": lambda w: Target("/forgotten-password", None, {"email": "a@test.example"}),
    "core.auth.forms.NewPasswordForm": lambda w: Target(w.reset_link(), None, {"password": "a-brand-new-password-7"}),
    "core.auth.forms.SecurityCodeForm": lambda w: Target("/sign-in/security-code", PENDING, {"code": "123456"}),
    "core.auth.forms.RecoveryCodeForm": lambda w: Target("/sign-in/recovery-code", PENDING, {"code": "abcde-fghjk"}),
    "core.auth.forms.ConfirmIdentityForm": lambda w: Target(
        "/account/confirm-identity", C, {"password": PASSWORD, "code": "123456"}
    ),
    "core.auth.forms.ChangePasswordForm": lambda w: Target(
        "/account/password", V, {"current_password": PASSWORD, "new_password": "a-brand-new-password-7"}
    ),
    "core.auth.forms.ChangeEmailForm": lambda w: Target(
        "/account/email", V, {"current_password": PASSWORD, "email": "new.address@test.example"}
    ),
    # volunteers
    "volunteers.forms.RegistrationForm": lambda w: Target(
        "/apply",
        None,
        {
            "full_name": "Ada Lovelace",
            "email": "ada@test.example",
            "phone": "07700 900123",
            "kind": "psv",
            "password": "a-long-enough-password",
        },
    ),
    "volunteers.forms.ContactForm": lambda w: Target(
        "/profile/contact", V, {"phone": "07700 900456", "version": w.version}
    ),
    "volunteers.forms.BoroughForm": lambda w: Target("/profile/home-ward", V, {}, get=True, ignores_bad_values=True),
    "volunteers.forms.HomeWardForm": lambda w: Target(
        "/profile/home-ward", V, {"ward": str(w.wards[1].id), "version": w.version}
    ),
    "volunteers.forms.TravelForm": lambda w: Target(
        "/profile/travel", V, {"travel_limit_km": "5", "weekly_hours_cap": "8", "version": w.version}
    ),
    "volunteers.forms.WorkForm": lambda w: Target(
        "/profile/work",
        V,
        {
            "occupation": "Nurse",
            "employer": "NHS",
            "occupation_category": "nhs_ambulance",
            "adjustment": "none",
            "military_reservist": "no",
            "version": w.version,
        },
    ),
    "volunteers.forms.PreferencesForm": lambda w: Target(
        "/profile/preferences", V, {"task_types": ["cyber_victim_visit"], "version": w.version}
    ),
    "volunteers.forms.SkillForm": lambda w: Target(
        "/profile/skills/add",
        V,
        {"skill": "paramedic", "level": "practitioner", "registration_number": "PA12345"}
        | date_fields("evidence_expires_on", london_today() + dt.timedelta(days=300)),
    ),
    "volunteers.forms.SkillLevelForm": lambda w: Target(f"/profile/skills/{w.skill.id}/level", V, {"level": "expert"}),
    "volunteers.forms.WeeklySlotForm": lambda w: Target(
        "/profile/availability/weekly/add", V, {"weekday": "0", "start": "540", "end": "600"}
    ),
    "volunteers.forms.DateExceptionForm": lambda w: Target(
        "/profile/availability/dates/add",
        V,
        {"available": "no", "start": "", "end": ""} | date_fields("on_date", _soon()),
    ),
    "volunteers.forms.BlockedPeriodForm": lambda w: Target(
        "/profile/availability/blocked/add",
        V,
        {"reason": "holiday"} | date_fields("first_day", _soon()) | date_fields("last_day", _soon()),
    ),
    "volunteers.forms.PauseForm": lambda w: Target(
        "/profile/pause",
        V,
        {"reason": "Exams"} | date_fields("first_day", _soon()) | date_fields("last_day", _soon()),
    ),
    "volunteers.forms.LeaveForm": lambda w: Target("/profile/leave", V, {"reason": "Moving away"}),
    "matching.offers.forms.WithdrawForm": lambda w: Target(
        f"/offers/{_booking(w).id}/withdraw", V, {"reason": "I am ill"}
    ),
    "volunteers.forms.ConflictForm": lambda w: Target(
        "/profile/conflicts/add", V, {"category": "employer", "organisation": "Acme Cyber Ltd", "ward": "0"}
    ),
    "volunteers.forms.CircumstancesForm": lambda w: Target(
        "/profile/circumstances",
        V,
        {"category": "new_job", "details": "I started a new job at Acme."}
        | date_fields("occurred_on", london_today() - dt.timedelta(days=3)),
    ),
    # volunteers.directory
    "volunteers.directory.forms.DirectoryFilterForm": lambda w: Target("/volunteers", C, {"q": "Test"}, get=True),
    "volunteers.directory.forms.RejectEvidenceForm": lambda w: Target(
        f"/volunteers/{w.volunteer.id}/skills/{w.skill.id}/reject", C, {"reason": "Not on the NMC register"}
    ),
    "volunteers.directory.forms.SpecialDetailsForm": lambda w: Target(
        f"/volunteers/{w.volunteer.id}/special",
        C,
        {
            "warrant_number": "SC12345",
            "patrol_status": "directed",
            "monthly_commitment_hours": "16",
            "version": w.version,
        },
    ),
    "volunteers.directory.forms.StatusForm": lambda w: Target(
        f"/volunteers/{w.volunteer.id}/status",
        C,
        {"status": "paused", "reason": "Asked to pause", "version": w.version},
    ),
    "volunteers.directory.forms.ImportForm": lambda w: Target("/volunteers/import", C, {}),
    # vetting
    "vetting.forms.DecisionForm": lambda w: Target(
        f"/vetting/reviews/{w.review.id}",
        VO,
        {"outcome": "grant", "type_code": "NPPV2F", "reason": "References and checks are clear."},
    ),
    "vetting.forms.ValidityForm": lambda w: Target("/vetting/clearance-types/NPPV2F", C, {"validity_months": "36"}),
    "vetting.forms.ClearanceActionForm": lambda w: Target(
        f"/vetting/reviews/{w.review.id}/clearances/{w.clearance.id}/suspend",
        VO,
        {"reason": "Adverse information received."},
        flash=True,
    ),
    "vetting.forms.AppealForm": lambda w: Target(
        f"/vetting/my-clearances?appeal={w.refused.id}",
        V,
        {"grounds": "The information was about someone else.", "clearance_id": str(w.refused.id)},
    ),
    "vetting.forms.InformationForm": lambda w: Target(
        f"/vetting/volunteers/{w.volunteer.id}/information",
        VO,
        {"source": "partner", "summary": "The partner reports a new conviction."},
    ),
    "vetting.conflict_review_forms.ConflictReviewForm": lambda w: Target(
        f"/vetting/people/{_health_worker(w).id}/conflict-review",  # so the employer's permission is asked
        VO,
        {"findings": ["no_conflict"], "notes": "Checked with the employer.", "organisations": "", "wards": ""},
    ),
    "vetting.search_forms.AuditFilterForm": lambda w: Target("/vetting/audit-log", VO, {"person": "Test"}, get=True),
    "vetting.search_forms.PersonSearchForm": lambda w: Target("/vetting/people", VO, {"q": "Test"}, get=True),
    "vetting.search_forms.QueueFilterForm": lambda w: Target("/vetting/queue", VO, {"q": "Test"}, get=True),
    "vetting.forms.TaskPolicyForm": lambda w: Target(
        "/vetting/task-types/cyber_victim_visit",
        C,
        {
            "clearances": "NPPV2F | NPPV3",
            "unsupervised_clearances": "",
            "skills": "cyber_victim_support : practitioner",
            "warranted_only": "no",
            "minimum_patrol_status": "",
            "unsupervised_allowed": "yes",
            "default_team_size": "1",
            "all_or_nothing": "no",
            "remote_possible": "yes",
            "street_duty": "no",
            "team_rule": "none",
        },
    ),
    "vetting.forms.TaskTypeForm": lambda w: Target(
        "/vetting/task-types/new",
        C,
        {
            "name": "Fraud-prevention talk",
            "activity": "fraud-prevention talks",
            "description": "A talk to a community group about scams.",
            "clearances": "NPPV2A | NPPV2F",
            "unsupervised_clearances": "",
            "skills": "cyber_victim_support : aware",
            "warranted_only": "no",
            "minimum_patrol_status": "",
            "unsupervised_allowed": "no",
            "default_team_size": "1",
            "all_or_nothing": "no",
            "remote_possible": "no",
            "street_duty": "yes",
            "team_rule": "two_adults_or_officer",
        },
    ),
    "vetting.forms.DbsStatusCheckForm": lambda w: Target(
        f"/vetting/clearances/{_dbs_clearance(w).id}/dbs-status-check",
        VO,
        {"dbs_update_service_id": "C0123456789", "result": "current"}
        | date_fields("dbs_status_checked_on", london_today() - dt.timedelta(days=1)),
    ),
    # matching
    "matching.requests.forms.TaskTypeForm": lambda w: Target("/requests/new", S, {"task_type": "cyber_victim_visit"}),
    "matching.requests.forms.EditRequestForm": lambda w: Target(
        f"/requests/{w.request.id}/edit", S, _request_details(w) | {"version": str(w.request.version)}
    ),
    "matching.requests.forms.CancelForm": lambda w: Target(
        f"/requests/{w.request.id}/cancel", S, {"reason": "The victim no longer wants a visit"}
    ),
    "matching.requests.forms.RequestFilterForm": lambda w: Target(
        "/requests", S, {"status": "open"}, get=True, per_field={"bcu": {"who": C}, "borough": {"who": C}}
    ),
    "matching.runs.forms.RunForm": lambda w: Target(
        "/matching/runs",
        C,
        {"scope": "ward", "ward": str(w.wards[0].id), "bcu": ""}
        | date_fields("first_day", _soon())
        | date_fields("last_day", _soon()),
        per_field={"bcu": {"data": {"scope": "bcu"}}},
    ),
}
# RequestForm is extended by EditRequestForm, so it is not a leaf; its own page is tested as well.
ROUTES["matching.requests.forms.RequestForm"] = lambda w: Target(
    "/requests/new/cyber_victim_visit", S, _request_details(w)
)


def _team_member(w: World) -> WardTeamMember:
    """A PCSO of the sergeant's ward team (matching/teams), made once."""
    member = w.db.scalar(select(WardTeamMember).where(WardTeamMember.ward_id == w.wards[0].id))
    if member is None:
        member = WardTeamMember(ward_id=w.wards[0].id, name="PCSO Sam", role=TeamRole.PCSO, email="s@met.example")
        w.db.add(member)
        w.db.commit()
    return member


_MEMBER = {"name": "PC Dev Patel", "role": "ward_officer", "email": "dev.patel@met.example", "phone": "020 7230 1212"}
ROUTES["matching.teams.forms.MemberForm"] = lambda w: Target(f"/ward-team/wards/{w.wards[0].id}/add", S, _MEMBER)
ROUTES["matching.teams.forms.ChangeMemberForm"] = lambda w: Target(
    f"/ward-team/members/{_team_member(w).id}/change", S, _MEMBER | {"active": "yes"}
)
ROUTES["matching.teams.forms.WardChoiceForm"] = lambda w: Target(
    "/ward-team", C, {"ward": str(w.wards[0].id)}, get=True
)


def _active(w: World) -> Volunteer:
    """The volunteer, active: only an active volunteer can be invited to a ward's panel or ask to join one."""
    if w.volunteer.status is not VolunteerStatus.ACTIVE:
        w.volunteer.status = VolunteerStatus.ACTIVE
        w.db.commit()
    return w.volunteer


def _group(w: World) -> SpecialistGroup:
    """A specialist group with no lead yet (volunteers/panels), made once."""
    group = w.db.scalar(select(SpecialistGroup))
    if group is None:
        group = SpecialistGroup(name="London cyber volunteers", kind=SpecialistKind.CYBER, description="")
        w.db.add(group)
        w.db.commit()
    return group


_GROUP = {
    "name": "London cyber volunteers",
    "kind": "cyber",
    "description": "Volunteers who help the victims of online fraud.",
    "lead_email": "",
}
ROUTES["volunteers.panels.forms.BoroughForm"] = lambda w: Target(
    "/panels", C, {"borough": str(w.wards[0].borough_id)}, get=True
)
ROUTES["volunteers.panels.forms.CandidateSearchForm"] = lambda w: Target(
    f"/panels/wards/{w.wards[0].id}", S, {"q": "Test", "skill": "rmn"}, get=True
)
ROUTES["volunteers.panels.forms.InviteForm"] = lambda w: Target(
    f"/panels/wards/{w.wards[0].id}/invite", S, {"volunteer_id": str(_active(w).id)}, flash=True
)
ROUTES["volunteers.panels.forms.RingFenceForm"] = lambda w: Target(
    f"/panels/wards/{w.wards[0].id}/ring-fence", C, {"ring_fenced": "yes"}, flash=True
)
ROUTES["volunteers.panels.forms.AskForm"] = lambda w: Target(
    "/your-panels/ask", V, {"ward": str(_active(w).home_ward_id)}
)
ROUTES["volunteers.panels.forms.GroupForm"] = lambda w: Target(f"/groups/{_group(w).id}/edit", C, _GROUP)
ROUTES["matching.notifications.forms.PreferenceForm"] = lambda w: Target("/account/notifications", S, {"how": "daily"})


def _partner(w: World) -> PartnerOrganisation:
    """A partner organisation (volunteers/partners), made once."""
    partner = w.db.scalar(select(PartnerOrganisation))
    if partner is None:
        name = "London Cyber Resilience Centre"
        partner = PartnerOrganisation(name=name, name_key=name.lower(), kind=PartnerKind.CYBER_RESILIENCE_CENTRE)
        w.db.add(partner)
        w.db.commit()
    return partner


def _partner_reviewer(w: World) -> User:
    """A partner reviewer's account, linked to the partner, made once."""
    if not hasattr(w, "partner_reviewer"):
        w.partner_reviewer = make_user(w.db, Role.PARTNER_REVIEWER)
        w.db.add(PartnerReviewer(user_id=w.partner_reviewer.id, partner_id=_partner(w).id))
        w.db.commit()
    return w.partner_reviewer


def _claim(w: World) -> SkillClaim:
    """The volunteer names the partner and asks it to vouch for their skill (still waiting), made once."""
    claim = w.db.scalar(select(SkillClaim))
    if claim is None:
        link = VolunteerPartner(
            volunteer_id=w.volunteer.id, partner_id=_partner(w).id, relation=PartnerRelation.WORKS_FOR
        )
        link.claims = [SkillClaim(skill_id=w.skill.id)]
        w.db.add(link)
        w.db.commit()
        claim = link.claims[0]
    return claim


PR = Role.PARTNER_REVIEWER
ROUTES["volunteers.partners.forms.PartnerForm"] = lambda w: Target(
    f"/partners/{_partner(w).id}/edit",
    C,
    {"name": _partner(w).name, "kind": "cyber_resilience_centre", "description": "Helps small firms after an attack."},
)
ROUTES["volunteers.partners.forms.ReviewerPartnerForm"] = lambda w: Target(
    f"/partners/reviewers/{_partner_reviewer(w).id}", C, {"partner": str(_partner(w).id)}
)
ROUTES["volunteers.partners.forms.NamePartnerForm"] = lambda w: Target(
    "/profile/organisations/add",
    V,
    {"partner": str(_partner(w).id), "relation": "works_for", "skills": [str(w.skill.id)]},
)
ROUTES["volunteers.partners.forms.ClaimsForm"] = lambda w: Target(
    f"/profile/organisations/{_claim(w).link_id}/skills", V, {"skills": [str(w.skill.id)]}
)
ROUTES["volunteers.partners.forms.DeclineForm"] = lambda w: Target(
    f"/partner/claims/{_claim(w).id}/decline", PR, {"reason": "Not known to us in this role"}
)
ROUTES["matching.calendar.forms.CalendarLinkForm"] = lambda w: Target("/calendar", V, {"understood": "y"})
ROUTES["matching.api.forms.NewTokenForm"] = lambda w: Target(
    "/api-tokens/new",
    C,
    {"name": "Duty system", "scopes": ["requests:read"], **date_fields("expires_on", _soon())},
)


def _duty(w: World) -> DutyHours:
    """Duty hours the special (the sergeant's ward's) logged, waiting for approval (matching/hours), made once."""
    entry = w.db.scalar(select(DutyHours))
    if entry is None:
        entry = DutyHours(
            volunteer_id=w.volunteer.id, on_date=london_today(), kind=DutyKind.PATROL, minutes=240, note="Patrol"
        )
        w.db.add(entry)
        w.db.commit()
    return entry


ROUTES["matching.hours.forms.DutyForm"] = lambda w: Target(
    "/hours/duty/new",
    V,
    {**date_fields("on_date", london_today()), "kind": "patrol", "start_time": "", "end_time": "", "hours": "4"}
    | {"note": "Evening patrol"},
)
ROUTES["matching.hours.forms.RejectForm"] = lambda w: Target(
    f"/hours/duty/{_duty(w).id}/reject", S, {"reason": "The duty sheet shows four hours"}
)
ROUTES["matching.hours.forms.BcuFilterForm"] = lambda w: Target("/hours/specials", C, {"bcu": ""}, get=True)
ROUTES["matching.insight.scope.DashboardFilterForm"] = lambda w: Target(
    "/dashboards/coverage", C, {"period": "13w", "bcu": "", "borough": "", "ward": ""}, get=True
)
ROUTES["matching.insight.report.ReportForm"] = lambda w: Target(
    "/dashboards/report", C, {"month": f"{london_today():%Y-%m}", "bcu": ""}, get=True
)


def _ended_booking(w: World) -> Offer:
    """The volunteer booked on a visit in the sergeant's ward that ended yesterday (matching/deployments), once."""
    if not hasattr(w, "ended_booking"):
        past = make_request(
            w.db, w.wards[0], utcnow() - dt.timedelta(days=1, hours=3), title="Past", created_by_id=w.sergeant.id
        )
        w.ended_booking = make_offer(w.db, w.volunteer, past, OfferStatus.ACCEPTED)
    return w.ended_booking


ROUTES["matching.deployments.forms.ConfirmForm"] = lambda w: Target(
    f"/deployments/{_ended_booking(w).id}/confirm",
    S,
    {"attended": "yes", "served": "1.5", "notice": "", "helpful": "yes", "would_ask_again": "yes"}
    | {"coordinator_note": "Calm and kind."},
)
ROUTES["matching.deployments.forms.LogHoursForm"] = lambda w: Target(
    f"/deployments/{_ended_booking(w).id}/log-hours", V, {"hours": "2.5"}
)
ROUTES["matching.deployments.forms.DebriefForm"] = lambda w: Target(
    f"/deployments/{_ended_booking(w).id}/debrief",
    V,
    {"note": "It went well.", "affected": "no", "contact_wanted": "no"},
)


def _concern(w: World) -> Deployment:
    """A visit of the volunteer's two days ago whose sergeant would not ask for them again: it lowers their
    ranking for a while, and a coordinator may clear that (matching/deployments/ranking.py), once."""
    if not hasattr(w, "concern"):
        past = make_request(
            w.db, w.wards[0], utcnow() - dt.timedelta(days=2, hours=3), title="Earlier", created_by_id=w.sergeant.id
        )
        offer = make_offer(w.db, w.volunteer, past, OfferStatus.ACCEPTED)
        w.concern = Deployment(
            offer_id=offer.id, request_id=past.id, volunteer_id=w.volunteer.id, would_ask_again=False
        )
        w.db.add(w.concern)
        w.db.commit()
    return w.concern


ROUTES["matching.deployments.ranking_forms.ClearForm"] = lambda w: Target(
    f"/ranking/{_concern(w).id}/clear", C, {"reason": "Talked it through with them."}
)
TESTED = [c for c in ALL_FORMS if _name(c) in ROUTES]


def _poisoned(form_class: type, name: str, field_class: type, value: str) -> object:
    """What to send in ``name`` so that it carries ``value``: three boxes for a date, a file for a file."""
    if issubclass(field_class, LondonDateField):
        return [f"1{value}", "1", "2027"] if value == "\x00" else ["1", "1", value]
    if issubclass(field_class, FileField):
        return (io.BytesIO(b"email,full_name\r\n" + value.encode() + b"@test.example,Ada\r\n"), f"v{value}.csv")
    return f"before{value}after" if issubclass(field_class, StringField) else value


def _send(w: World, target: Target, data: dict):
    client = w.client(target.who)
    if target.get:
        return client.get(target.url, query_string=data)
    # The token from the home page once signed in; otherwise from the form's own page.
    payload = {**data, "csrf_token": client.csrf_token("/" if isinstance(target.who, Role) else target.url)}
    return _multipart(client, target.url, payload)


def _field_id(app, form_class: type, name: str) -> str:
    with app.test_request_context():
        bound = form_class(formdata=None, meta={"csrf": False})[name]
        return getattr(bound, "id_for_errors", bound.id)


def _check_refused(w: World, form_class: type, target: Target, name: str, response) -> None:
    where = f"{_name(form_class)}.{name}"
    assert response.status_code != 500, f"{where}: 500"
    if 300 <= response.status_code < 400:
        response = w.client(target.who).get(response.location)
    assert response.status_code == 200, f"{where}: {response.status_code}"
    text = response.get_data(as_text=True)
    assert "\x00" not in text, f"{where}: the page echoes the NUL byte"
    if target.ignores_bad_values:
        return
    summary = response.soup.select_one(".govuk-error-summary")
    assert summary is not None, f"{where}: no message"
    if not target.flash:
        links = [a["href"] for a in summary.select("a")]
        assert f"#{_field_id(w.app, form_class, name)}" in links, f"{where}: no message by the field, only {links}"


def test_every_page_form_has_a_route():
    """A new form must be added to ROUTES, or the NUL test below would silently leave it out."""
    missing = [_name(c) for c in PAGE_FORMS if _name(c) not in ROUTES]
    assert not missing, f"add these forms to ROUTES in {__name__}: {missing}"
    stale = sorted(set(ROUTES) - {_name(c) for c in ALL_FORMS})
    assert not stale, f"these forms no longer exist: {stale}"


@pytest.mark.parametrize("form_class", TESTED, ids=[c.__qualname__ for c in TESTED])
def test_a_nul_byte_in_any_field_is_a_message_never_a_500(app, db, form_class):
    w = World(app, db)
    fields = _fields(form_class)
    assert fields, f"{_name(form_class)} has no fields to try"
    for name, field_class in fields:
        target = ROUTES[_name(form_class)](w).for_field(name)
        data = {**target.valid, name: _poisoned(form_class, name, field_class, "\x00")}
        _check_refused(w, form_class, target, name, _send(w, target, data))


WITH_DATES_OR_NUMBERS = [
    c for c in TESTED if any(issubclass(f, (LondonDateField, IntegerField)) for _, f in _fields(c))
]


@pytest.mark.parametrize("form_class", WITH_DATES_OR_NUMBERS, ids=[c.__qualname__ for c in WITH_DATES_OR_NUMBERS])
def test_a_year_of_999999999999_or_a_20_digit_number_is_a_message(app, db, form_class):
    w = World(app, db)
    for name, field_class in _fields(form_class):
        if not issubclass(field_class, (LondonDateField, IntegerField)):
            continue
        target = ROUTES[_name(form_class)](w).for_field(name)
        huge = "999999999999" if issubclass(field_class, LondonDateField) else "99999999999999999999"
        data = {**target.valid, name: _poisoned(form_class, name, field_class, huge)}
        _check_refused(w, form_class, target, name, _send(w, target, data))
        if issubclass(field_class, LondonDateField):
            # The last day there is: saved or refused, never a 500, here or on the home page after.
            data = {**target.valid, name: ["31", "12", "9999"]}
            assert _send(w, target, data).status_code != 500, f"{_name(form_class)}.{name}: 500 on 31 12 9999"
            assert w.client(target.who).get("/").status_code != 500


def test_the_date_field_says_a_huge_year_is_not_a_real_date(client, db):
    volunteer = make_volunteer(db, home_ward_id=make_wards(db, count=1)[0].id)
    client.sign_in(volunteer.user.email)
    data = {"reason": "holiday", "first_day": ["1", "1", "999999999999"], **date_fields("last_day", _soon())}
    response = client.submit("/profile/availability/blocked/add", data)
    assert response.status_code == 200
    assert error_messages(response.soup) == {"first_day-day": "The first day must be a real date"}
    # Nothing typed is lost: the boxes show what was entered.
    assert response.soup.select_one("#first_day-year")["value"] == "999999999999"


def test_text_fields_refuse_control_characters_and_keep_the_rest_of_the_text(client, db):
    volunteer = make_volunteer(db, home_ward_id=make_wards(db, count=1)[0].id)
    client.sign_in(volunteer.user.email)
    response = client.submit(
        "/profile/conflicts/add", {"category": "employer", "organisation": "Acme\x00 Cyber\r\nLtd", "ward": "0"}
    )
    assert error_messages(response.soup) == {"organisation": PlainText.CONTROL_MESSAGE}
    assert response.soup.select_one("#organisation")["value"] == "Acme Cyber Ltd"
    one_line = client.submit("/profile/conflicts/add", {"category": "employer", "organisation": "Acme\r\nLtd"})
    assert error_messages(one_line.soup)["organisation"] == PlainText.ONE_LINE_MESSAGE
    # A text area keeps its line breaks; 10,000 characters of nothing are refused with a number to aim at.
    report = {"category": "new_job", **date_fields("occurred_on", london_today()), "details": "New job.\r\nAt Acme."}
    assert client.submit("/profile/circumstances", report).status_code == 302
    long_text = client.submit("/profile/circumstances", {**report, "details": "x" * 10_000})
    assert error_messages(long_text.soup) == {"details": "Details must be 2,000 characters or fewer"}


# ---- URL ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/volunteers/99999999999999999999",
        "/volunteers/2147483648",
        "/volunteers/0",
        "/accounts/2147483648/wards",
        "/requests/99999999999999999999/edit",
        "/volunteers/" + "9" * 5000,
        "/requests/new/cyber%00visit",
        "/vetting/task-types/cyber%0D%0Avisit",
    ],
)
def test_ids_outside_the_database_range_and_control_characters_in_urls_are_not_found(client, db, path):
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    response = client.get(path)
    assert response.status_code == 404
    assert response.soup.select_one("h1").get_text(strip=True) == "Page not found"


def test_ids_in_query_strings_outside_the_range_are_never_a_500(app, db):
    w = World(app, db)
    huge = "99999999999999999999"
    volunteer = w.client(V)
    assert volunteer.get(f"/vetting/my-clearances?appeal={huge}").status_code == 200
    appeal = {"grounds": "It was someone else.", "clearance_id": huge, "csrf_token": volunteer.csrf_token("/")}
    assert volunteer.post(f"/vetting/my-clearances?appeal={huge}", data=appeal).status_code in (200, 302)
    officer = w.client(VO)
    assert officer.get(f"/vetting/clearances/{_dbs_clearance(w).id}/dbs-status-check?review={huge}").status_code == 200
    for path in (f"/volunteers?borough={huge}", f"/requests?ward={huge}", f"/accounts?page={huge}"):
        assert w.client(C).get(path).status_code == 200, path


def test_every_id_in_every_route_is_bounded(app, client, db):
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = [name for name, converter in rule._converters.items() if converter.regex == r"\d+"]
        if not ints:
            continue
        values = {name: "placeholder" for name in rule.arguments} | {name: 1 for name in ints}
        path = rule.build(values)[1]
        for name in ints:
            huge = path.replace("/1", f"/{MAX_ID + 1}", 1) if len(ints) == 1 else rule.build(values | {name: 0})[1]
            method = "GET" if "GET" in rule.methods else "POST"
            response = client.open(huge, method=method)
            assert response.status_code == 404, f"{rule.rule} {huge}: {response.status_code}"
            checked += 1
    assert checked > 20


# ---- Request size ---------------------------------------------------------------------------------


def _multipart(client, path: str, fields: dict):
    """POST a multipart body built in memory (the test client would spool a large one to a temporary
    file it never closes)."""
    as_files = {
        name: FileStorage(value[0], value[1]) if isinstance(value, tuple) else value for name, value in fields.items()
    }
    boundary, body = encode_multipart(as_files)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_a_30_mb_post_is_refused_with_a_413_page(client, db):
    response = client.post("/sign-in", data={"email": "a@test.example", "password": "x" * (30 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.soup.select_one("h1").get_text(strip=True) == "What you sent is too large"
    assert "at most 1 MB" in response.soup.select_one("main").get_text()
    upload = _multipart(client, "/apply", {"file": (io.BytesIO(b"x" * (30 * 1024 * 1024)), "big.csv")})
    assert upload.status_code == 413


def test_the_csv_import_takes_its_own_larger_limit(client, db):
    client.sign_in(make_user(db, Role.COORDINATOR).email)
    token = client.csrf_token("/volunteers/import")
    two_mb = b"email,full_name\r\n" + b"#" * (2 * 1024 * 1024)
    response = _multipart(client, "/volunteers/import", {"csrf_token": token, "file": (io.BytesIO(two_mb), "v.csv")})
    assert response.status_code == 200  # read and checked by the import, not refused at the door
    assert response.soup.select_one(".govuk-error-summary")
    thirty_mb = io.BytesIO(b"x" * (30 * 1024 * 1024))
    too_big = _multipart(client, "/volunteers/import", {"csrf_token": token, "file": (thirty_mb, "v.csv")})
    assert too_big.status_code == 413
    assert "at most 20 MB" in too_big.soup.select_one("main").get_text()


# ---- Email headers, and one failing recipient -----------------------------------------------------


def test_mail_headers_are_built_only_from_cleaned_values():
    assert header_text("x\r\nBcc: someone@evil.example") == "x Bcc: someone@evil.example"
    assert header_text("a\x00b\u2028c") == "a b c"
    assert len(header_text("y" * 1000)) == 200
    config = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 1, "MAIL_SENDER": "x@test.example"}
    for bad in ("a@test.example\r\nBcc: b@evil.example", "a@test.example, b@evil.example", "Someone <a@test.example>"):
        with pytest.raises(MailError) as refused:
            send_mail(config, bad, "Hello", "Body")
        assert refused.value.permanent


def _offered(db, item: SupportRequest, count: int) -> list:
    volunteers_ = [make_volunteer(db, full_name=f"Volunteer {n}") for n in range(count)]
    for volunteer in volunteers_:
        db.add(
            Offer(
                request_id=item.id,
                volunteer_id=volunteer.id,
                status=OfferStatus.OFFERED,
                starts_at=item.window_start,
                ends_at=item.deployment_end,
                load_minutes=item.duration_minutes,
                explanation="Cyber-crime victim support, practitioner; 0.0 km away",
                offered_at=utcnow(),
                respond_by=utcnow() + dt.timedelta(days=1),
            )
        )
    db.flush()
    refresh_status(db, [item.id])
    db.commit()
    return volunteers_


def _cancel(client, db, title: str, offered: int):
    ward = make_wards(db, count=1)[0]
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    item = make_request(db, ward, utcnow() + dt.timedelta(days=5), created_by_id=sergeant.id, title=title)
    people = _offered(db, item, offered)
    client.sign_in(sergeant.email)
    response = client.submit(f"/requests/{item.id}/cancel", {"reason": "The victim no longer wants a visit"})
    return item, people, response


def test_a_request_title_with_a_line_break_is_refused_by_the_form(client, db):
    ward = make_wards(db, count=1)[0]
    client.sign_in(make_user(db, Role.SERGEANT, wards=[ward]).email)
    data = {"title": "x\r\nBcc: someone@evil.example"}
    response = client.submit("/requests/new/cyber_victim_visit", data)
    assert error_messages(response.soup)["title"] == PlainText.ONE_LINE_MESSAGE


def test_cancelling_a_request_whose_title_held_crlf_emails_every_offered_volunteer(client, db, smtp):
    # Saved before the forms refused line breaks (or by any other way in): the mail must still be safe.
    item, people, response = _cancel(client, db, "x\r\nBcc: someone@evil.example", offered=3)
    assert response.status_code == 302
    db.expire_all()
    assert db.get(SupportRequest, item.id).status is RequestStatus.CANCELLED
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == sorted(v.user.email for v in people)
    for envelope in smtp.messages:
        assert len(envelope.rcpt_tos) == 1 and "evil" not in envelope.rcpt_tos[0]
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert message["Bcc"] is None
        assert message["Subject"] == "No longer needed: x Bcc: someone@evil.example"


class _BusyFor:
    """An SMTP handler that answers one address "try later" (451) until ``recovered``; keeps the rest."""

    def __init__(self):
        self.busy, self.recovered, self.delivered = "", False, []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address == self.busy and not self.recovered:
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.delivered.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def busy_smtp(app):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = _BusyFor()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield handler
    controller.stop()


def test_one_failing_recipient_never_stops_the_cancellation_or_the_others_and_is_retried(
    app, client, db, busy_smtp, caplog
):
    from matching.tasks import huey

    huey.flush()
    ward = make_wards(db, count=1)[0]
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    item = make_request(db, ward, utcnow() + dt.timedelta(days=5), created_by_id=sergeant.id, title="Scam advice")
    people = _offered(db, item, 3)
    busy_smtp.busy = people[0].user.email
    client.sign_in(sergeant.email)
    response = client.submit(f"/requests/{item.id}/cancel", {"reason": "Not needed"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(SupportRequest, item.id).status is RequestStatus.CANCELLED
    assert sorted(busy_smtp.delivered) == sorted(v.user.email for v in people[1:])
    assert any(r.name == "sng.mail" and "not sent" in r.getMessage() for r in caplog.records)
    # The queue keeps the failed one for later; once the server takes it, the retry delivers it.
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=2)
    waiting = huey.read_schedule(later)
    assert [task.args[0] for task in waiting] == [people[0].user.email]
    busy_smtp.recovered = True
    with app.app_context():  # as the worker runs it (its own app, made from the same settings)
        huey.execute(waiting[0], timestamp=later)
    assert sorted(busy_smtp.delivered) == sorted(v.user.email for v in people)
    assert huey.scheduled_count() == 0
