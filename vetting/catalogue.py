"""The seeded vetting facts as plain data: clearance types, skills, task policy and force policy.

Nothing here touches a database. The seed migration and the admin screens read these tuples; the
rules and the matcher receive ``TaskPolicy`` values (from here or, later, from the database) and
never look anything up themselves.

Sources: College of Policing APP on vetting and the Vetting Code of Practice (police regime),
Cabinet Office national security vetting guidance (CTC/SC/DV), DBS guidance (DBS regime). Values
the product brief marks as force policy live in ``ForcePolicy`` and can be overridden per force.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Skills belong to the volunteer's profile; vetting reads them (matching → vetting → volunteers).
from volunteers.skills import SKILLS, SKILLS_BY_CODE, PatrolStatus, Skill, SkillFamily, SkillLevel

__all__ = [
    "CLEARANCE_TYPES",
    "CLEARANCE_TYPES_BY_CODE",
    "DEFAULT_POLICY",
    "SKILLS",
    "SKILLS_BY_CODE",
    "TASK_POLICIES",
    "TASK_POLICIES_BY_CODE",
    "ClearanceType",
    "ForcePolicy",
    "InvalidTaskPolicy",
    "PatrolStatus",
    "Regime",
    "Skill",
    "SkillFamily",
    "SkillLevel",
    "SkillRequirement",
    "TaskPolicy",
    "TeamRule",
]


class Regime(enum.StrEnum):
    """Which vetting regime issues a clearance type; they are separate and do not substitute."""

    POLICE = "police"
    NATIONAL_SECURITY = "national_security"
    DBS = "dbs"


# ---------------------------------------------------------------------------------------------
# Force policy
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForcePolicy:
    """Values a force sets for itself (marked * in PRODUCT.md). Defaults are the Met's starting point.

    ``validity_overrides`` replaces a clearance type's default validity in months, e.g.
    ``(("SC", 60),)`` where the force issues shorter SC clearances to volunteers. DBS types take
    their validity from ``dbs_recheck_months`` because a DBS certificate has no printed expiry:
    the re-check interval is purely the force's choice.
    """

    reminder_days: tuple[int, ...] = (90, 30, 7)
    renewal_review_lead_days: int = 90
    appeal_window_days: int = 14
    special_monthly_commitment_minutes: int = 16 * 60
    dbs_recheck_months: int = 36
    # How often a DBS certificate older than dbs_recheck_months must have its Update Service status
    # checked again to keep counting (vetting/dbs.py): the re-check a subscription stands in for.
    dbs_update_check_months: int = 12
    integrity_review_months: int = 12
    validity_overrides: tuple[tuple[str, int], ...] = ()
    # Every force in England and Wales works in UK local time; a parameter so tests can say so.
    timezone: str = "Europe/London"

    def __post_init__(self) -> None:
        if not self.reminder_days or any(d <= 0 for d in self.reminder_days):
            raise ValueError("reminder_days must be a non-empty tuple of positive day counts")
        if len(set(self.reminder_days)) != len(self.reminder_days):
            raise ValueError("reminder_days must not repeat a day count")
        # Keep a canonical order (furthest first) so equal policies compare equal.
        object.__setattr__(self, "reminder_days", tuple(sorted(self.reminder_days, reverse=True)))
        for name in (
            "renewal_review_lead_days",
            "appeal_window_days",
            "special_monthly_commitment_minutes",
            "dbs_recheck_months",
            "dbs_update_check_months",
            "integrity_review_months",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        for code, months in self.validity_overrides:
            if months <= 0:
                raise ValueError(f"validity override for {code} must be a positive number of months")

    def validity_months(self, clearance_type: ClearanceType) -> int:
        """How many months a clearance of this type stays valid under this force's policy."""
        overrides = dict(self.validity_overrides)
        if clearance_type.code in overrides:
            return overrides[clearance_type.code]
        if clearance_type.regime is Regime.DBS:
            return self.dbs_recheck_months
        return clearance_type.default_validity_months


DEFAULT_POLICY = ForcePolicy()


# ---------------------------------------------------------------------------------------------
# Clearance types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClearanceType:
    code: str
    name: str
    regime: Regime
    default_validity_months: int
    description: str


CLEARANCE_TYPES: tuple[ClearanceType, ...] = (
    ClearanceType(
        "RV",
        "Recruitment Vetting",
        Regime.POLICE,
        120,
        "Police officers, staff and special constables; renewed after 10 years. Broadly the "
        "assurance of NPPV level 2 (full).",
    ),
    ClearanceType(
        "MV",
        "Management Vetting",
        Regime.POLICE,
        84,
        "Designated posts with access to sensitive intelligence, finance or operational assets; "
        "held on top of RV. Broadly the assurance of NPPV level 3.",
    ),
    # APP leaves NPPV1 renewal to the force; we assume 3 years, the same as NPPV2. To confirm with
    # the force vetting manager, and overridable through ForcePolicy.validity_overrides.
    ClearanceType(
        "NPPV1",
        "Non-police personnel vetting level 1",
        Regime.POLICE,
        36,
        "Unescorted access to police premises; no access to police information or systems.",
    ),
    ClearanceType(
        "NPPV2A",
        "NPPV level 2 (abbreviated)",
        Regime.POLICE,
        36,
        "Access to police information up to OFFICIAL-SENSITIVE; no access to police systems.",
    ),
    ClearanceType(
        "NPPV2F",
        "NPPV level 2 (full)",
        Regime.POLICE,
        36,
        "Regular access to OFFICIAL-SENSITIVE and occasional SECRET information; no systems.",
    ),
    ClearanceType(
        "NPPV3",
        "NPPV level 3",
        Regime.POLICE,
        60,
        "Unsupervised access to police systems and SECRET information.",
    ),
    # Cabinet Office policy: a CTC is formally reviewed after 10 years, 5 years for non-List X
    # contractors, and risk owners may issue shorter clearances to groups with less day-to-day
    # oversight (reservists, sub-contractors). Volunteers are such a group, so we default to 5.
    ClearanceType(
        "CTC",
        "Counter-Terrorist Check",
        Regime.NATIONAL_SECURITY,
        60,
        "Proximity to people or places at risk from terrorism, or information of value to terrorists.",
    ),
    ClearanceType(
        "SC",
        "Security Check",
        Regime.NATIONAL_SECURITY,
        120,
        "Frequent, uncontrolled access to SECRET assets; 10 years, shorter for some groups.",
    ),
    ClearanceType(
        "DV",
        "Developed Vetting",
        Regime.NATIONAL_SECURITY,
        84,
        "Frequent, uncontrolled access to TOP SECRET assets.",
    ),
    # DBS certificates carry no expiry: 36 here is only the default of ForcePolicy.dbs_recheck_months.
    # The levels are separate products, not a ladder the rules climb: a policy lists every level it accepts.
    ClearanceType(
        "DBS_BASIC",
        "DBS basic check",
        Regime.DBS,
        36,
        "Unspent convictions and conditional cautions only. Open to anyone, for any role.",
    ),
    ClearanceType(
        "DBS_STD",
        "DBS standard check",
        Regime.DBS,
        36,
        "Spent and unspent convictions, cautions, reprimands and final warnings, subject to filtering.",
    ),
    ClearanceType(
        "DBS_ENH",
        "DBS enhanced check",
        Regime.DBS,
        36,
        "As the standard check, plus information local police judge relevant; no barred list.",
    ),
    ClearanceType(
        "DBS_ENH_CHILD",
        "DBS enhanced check with children's barred list",
        Regime.DBS,
        36,
        "Needed for regulated activity with children, e.g. unsupervised youth or school work.",
    ),
    ClearanceType(
        "DBS_ENH_ADULT",
        "DBS enhanced check with adults' barred list",
        Regime.DBS,
        36,
        "Needed for regulated activity with adults, e.g. unsupervised care of adults at risk.",
    ),
    ClearanceType(
        "DBS_ENH_BOTH",
        "DBS enhanced check with children's and adults' barred lists",
        Regime.DBS,
        36,
        "Needed for regulated activity with both children and adults at risk; one certificate checks both lists.",
    ),
)

CLEARANCE_TYPES_BY_CODE: Mapping[str, ClearanceType] = MappingProxyType({ct.code: ct for ct in CLEARANCE_TYPES})


# ---------------------------------------------------------------------------------------------
# Skills
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Task policy
# ---------------------------------------------------------------------------------------------

ClearanceGroups = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class SkillRequirement:
    """One required skill: any of ``alternatives`` held at ``minimum_level`` or above."""

    alternatives: tuple[str, ...]
    minimum_level: SkillLevel = SkillLevel.PRACTITIONER

    def __post_init__(self) -> None:
        if not self.alternatives:
            raise ValueError("a skill requirement needs at least one skill")


class TeamRule(enum.StrEnum):
    """Who must be there besides one volunteer: the safeguarding rule a task type sets for every request of it.

    TWO_ADULTS: at least two volunteers, everyone or nobody (one alone is never sent). WITH_OFFICER: the request
    names a supervising officer from the ward team, who is there. TWO_ADULTS_OR_OFFICER: either of those, the
    sergeant's choice (work with under-18s: never one adult alone with children).
    """

    NONE = "none"
    TWO_ADULTS = "two_adults"
    WITH_OFFICER = "with_officer"
    TWO_ADULTS_OR_OFFICER = "two_adults_or_officer"

    def needs_two_volunteers(self, supervised: bool) -> bool:
        """Whether a request of this rule must have two volunteers, all or nothing, given whether it names an
        officer who supervises."""
        return self is TeamRule.TWO_ADULTS or (self is TeamRule.TWO_ADULTS_OR_OFFICER and not supervised)


TEAM_RULE_LABELS = {
    TeamRule.NONE: "No rule: one volunteer may go alone",
    TeamRule.TWO_ADULTS: "Two adults: at least two volunteers, everyone or nobody",
    TeamRule.WITH_OFFICER: "One volunteer with the supervising officer from the ward team",
    TeamRule.TWO_ADULTS_OR_OFFICER: "Two volunteers (everyone or nobody), or one with the supervising officer",
}


class InvalidTaskPolicy(ValueError):
    """A task policy that breaks one of its own rules; ``setting`` names the attribute at fault."""

    def __init__(self, message: str, setting: str):
        super().__init__(message)
        self.setting = setting


@dataclass(frozen=True)
class TaskPolicy:
    """What a kind of task needs from the people sent to do it.

    ``clearance_groups`` is all-of-any-of: every group must be met by a clearance of one of its
    types, e.g. ``(("CTC", "SC", "DV"), ("NPPV3", "MV"))``. Higher levels never satisfy lower
    ones implicitly; the alternatives are spelt out so a reader sees exactly what is accepted.

    ``unsupervised_clearance_groups`` are needed on top when someone does the task without a
    supervising officer present (only possible when ``unsupervised_allowed``); e.g. regulated
    activity with children needs the children's barred-list check.

    ``minimum_patrol_status`` applies to special constables only, so it implies warranted_only.
    ``street_duty`` is False for desk or remote work that someone with a desk-only adjustment can do.
    ``team_rule`` says who must be there besides one volunteer (``TeamRule``); the request forms and the
    matcher apply it.
    """

    code: str
    name: str
    # Lower-case plural phrase for sentences: "Cleared for cyber-crime victim visits".
    activity: str
    clearance_groups: ClearanceGroups
    required_skills: tuple[SkillRequirement, ...] = ()
    warranted_only: bool = False
    minimum_patrol_status: PatrolStatus | None = None
    unsupervised_allowed: bool = False
    unsupervised_clearance_groups: ClearanceGroups = ()
    default_team_size: int = 1
    all_or_nothing: bool = False
    remote_possible: bool = False
    street_duty: bool = True
    team_rule: TeamRule = TeamRule.NONE
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.clearance_groups or any(not group for group in self.clearance_groups):
            raise InvalidTaskPolicy(
                f"{self.code}: every task needs at least one non-empty clearance group", "clearance_groups"
            )
        if any(not group for group in self.unsupervised_clearance_groups):
            raise InvalidTaskPolicy(f"{self.code}: empty unsupervised clearance group", "unsupervised_clearance_groups")
        if self.unsupervised_clearance_groups and not self.unsupervised_allowed:
            raise InvalidTaskPolicy(
                f"{self.code}: unsupervised clearances set but unsupervised work not allowed",
                "unsupervised_clearance_groups",
            )
        if self.minimum_patrol_status is not None and not self.warranted_only:
            raise InvalidTaskPolicy(
                f"{self.code}: a patrol status requirement implies warranted_only", "minimum_patrol_status"
            )
        if self.default_team_size < 1:
            raise InvalidTaskPolicy(f"{self.code}: team size must be at least 1", "default_team_size")
        object.__setattr__(self, "team_rule", TeamRule(self.team_rule))
        if self.team_rule is TeamRule.TWO_ADULTS and self.default_team_size < 2:
            raise InvalidTaskPolicy(
                f"{self.code}: the two-adults rule needs a usual number of people of at least 2", "default_team_size"
            )

    @property
    def all_clearance_codes(self) -> frozenset[str]:
        """Every clearance type code this task can accept, supervised or not."""
        return frozenset(code for group in self.clearance_groups + self.unsupervised_clearance_groups for code in group)


# Level 2 information access (OFFICIAL-SENSITIVE victim details, no systems). RV and MV are
# listed because a special's vetting gives at least that assurance.
_INFO_ACCESS = ("NPPV2A", "NPPV2F", "NPPV3", "RV", "MV")
# Sensitive information about victims and suspects in the household: full level 2 or above.
_SENSITIVE_INFO = ("NPPV2F", "NPPV3", "RV", "MV")
# Unsupervised access to police systems: NPPV3, or MV for police personnel.
_SYSTEMS_ACCESS = ("NPPV3", "MV")

TASK_POLICIES: tuple[TaskPolicy, ...] = (
    TaskPolicy(
        code="cyber_victim_visit",
        name="Cyber-crime victim visit",
        activity="cyber-crime victim visits",
        clearance_groups=(_INFO_ACCESS,),
        required_skills=(SkillRequirement(("cyber_victim_support",)),),
        # A visit to someone's home goes with the ward officer holding the case.
        unsupervised_allowed=False,
        description="Visit an individual victim of cyber crime at home to explain what happened and how to stay safe.",
    ),
    TaskPolicy(
        code="business_cyber_visit",
        name="Business cyber-attack visit",
        activity="business cyber-attack visits",
        clearance_groups=(_INFO_ACCESS,),
        required_skills=(SkillRequirement(("incident_response", "digital_evidence_triage")),),
        # Daytime visits to business premises are low risk; the specialist can go alone.
        unsupervised_allowed=True,
        description="Visit a local business after a cyber attack to help it recover and report.",
    ),
    TaskPolicy(
        code="mental_health_escort",
        name="Mental-health escort",
        activity="mental-health escorts",
        # Warranted specials are RV vetted; MV holders also hold RV.
        clearance_groups=(("RV", "MV"),),
        required_skills=(SkillRequirement(("mh_first_aid", "rmn", "paramedic", "doctor")),),
        # Escorting a person in crisis may mean detaining them, which needs a warrant, and doing it
        # without a regular officer alongside needs at least directed patrol status.
        warranted_only=True,
        minimum_patrol_status=PatrolStatus.DIRECTED,
        unsupervised_allowed=True,
        # Two people: one stays with the person at all times while the other drives, hands over
        # or calls for help. One alone is unsafe, so a half-staffed escort is no escort at all.
        default_team_size=2,
        all_or_nothing=True,
        description="Escort a person in mental-health crisis to a place of safety or hospital.",
    ),
    TaskPolicy(
        code="domestic_abuse_support",
        name="Domestic-abuse victim support",
        activity="domestic-abuse victim support",
        clearance_groups=(_SENSITIVE_INFO,),
        required_skills=(SkillRequirement(("safeguarding",)),),
        # Never alone: the perpetrator may be present or return; the officer in the case leads.
        unsupervised_allowed=False,
        description="Support a victim of domestic abuse alongside the officer in the case.",
    ),
    TaskPolicy(
        code="youth_schools_liaison",
        name="Youth and schools liaison",
        activity="youth and schools liaison",
        clearance_groups=(_INFO_ACCESS,),
        # Working with children without a supervising officer is regulated activity.
        unsupervised_clearance_groups=(("DBS_ENH_CHILD", "DBS_ENH_BOTH"),),
        unsupervised_allowed=True,
        required_skills=(
            SkillRequirement(("youth_worker", "schools_liaison")),
            SkillRequirement(("safeguarding",), SkillLevel.AWARE),
        ),
        # Work with under-18s: never one adult alone with children. Two volunteers, or one with the ward's
        # PCSO or officer (whose presence also makes it supervised, so the barred-list check is not needed).
        team_rule=TeamRule.TWO_ADULTS_OR_OFFICER,
        description="Talks, drop-ins and follow-up work with schools and youth clubs in the ward.",
    ),
    TaskPolicy(
        code="digital_evidence_triage",
        name="Digital evidence triage",
        activity="digital evidence triage",
        clearance_groups=(_SYSTEMS_ACCESS,),
        required_skills=(SkillRequirement(("digital_evidence_triage",)),),
        unsupervised_allowed=True,
        remote_possible=True,
        street_duty=False,
        description="Sort and summarise seized or submitted digital material from a secure laptop.",
    ),
    TaskPolicy(
        code="public_event_support",
        name="Public event support",
        activity="public event support",
        # Stewarding sees no police information, but anyone on a police deployment needs NPPV1.
        clearance_groups=(("NPPV1", "NPPV2A", "NPPV2F", "NPPV3", "RV", "MV"),),
        # Everyone works under the event's command structure.
        unsupervised_allowed=False,
        default_team_size=4,
        description="Reassurance, directions and lost-child points at fetes, markets and carnivals.",
    ),
    TaskPolicy(
        code="ct_digital_support",
        name="Counter-terrorism digital support",
        activity="counter-terrorism digital support",
        # National security and police vetting are separate regimes, so both are needed.
        clearance_groups=(("CTC", "SC", "DV"), _SYSTEMS_ACCESS),
        required_skills=(SkillRequirement(("osint", "digital_evidence_triage")),),
        # Done on police premises on secure systems, with a CT officer directing the work.
        unsupervised_allowed=False,
        remote_possible=False,
        street_duty=False,
        description="Open-source and digital research for counter-terrorism officers.",
    ),
    # Desk roles (seed 002): work a police support volunteer with a disability or a health condition can take,
    # seated and without patrol; two of them from home.
    TaskPolicy(
        code="footage_triage",
        name="Footage triage",
        activity="footage triage",
        # Footage shows victims, suspects and bystanders: sensitive information, full level 2 or above.
        clearance_groups=(_SENSITIVE_INFO,),
        # Viewed in the force's evidence system from a force laptop; the officer in the case reviews the log.
        unsupervised_allowed=True,
        remote_possible=True,
        street_duty=False,
        description="Watch CCTV, doorbell and phone footage the public sends in and log what it shows, and when, "
        "for the officer in the case.",
    ),
    TaskPolicy(
        code="intelligence_collation",
        name="Intelligence collation",
        activity="intelligence collation",
        # Reading police systems: NPPV3 or MV, in the station, as the ward's analyst or sergeant directs.
        clearance_groups=(_SYSTEMS_ACCESS,),
        unsupervised_allowed=False,
        remote_possible=False,
        street_duty=False,
        description="Collate community reports and intelligence on the ward's priorities into a briefing for the "
        "ward team, at the station.",
    ),
    TaskPolicy(
        code="mh_hospital_wait",
        name="Hospital-wait support (mental health)",
        activity="hospital-wait support for mental-health patients",
        clearance_groups=(_INFO_ACCESS,),
        required_skills=(SkillRequirement(("mh_first_aid", "rmn", "paramedic", "doctor")),),
        # Staying with an adult in crisis without an officer is regulated activity with adults.
        unsupervised_allowed=True,
        unsupervised_clearance_groups=(("DBS_ENH_ADULT", "DBS_ENH_BOTH"),),
        street_duty=False,
        description="Stay with a person in mental-health crisis while they wait in A&E or a place of safety, so "
        "officers can go back to the ward (seated, indoors, alongside hospital staff).",
    ),
    TaskPolicy(
        code="online_engagement",
        name="Online community engagement",
        activity="online community engagement",
        # Speaks for the ward team in public, and sees the team's messages: abbreviated level 2 or above.
        clearance_groups=(_INFO_ACCESS,),
        unsupervised_allowed=True,
        remote_possible=True,
        street_duty=False,
        description="Host the ward's online meetings and answer residents' questions on its social media, "
        "passing anything to report to the ward team.",
    ),
)

TASK_POLICIES_BY_CODE: Mapping[str, TaskPolicy] = MappingProxyType({t.code: t for t in TASK_POLICIES})


def _check_references() -> None:
    """Fail at import if a task policy names an unknown clearance type or skill."""
    for task in TASK_POLICIES:
        unknown = task.all_clearance_codes - CLEARANCE_TYPES_BY_CODE.keys()
        if unknown:
            raise ValueError(f"{task.code}: unknown clearance types {sorted(unknown)}")
        for requirement in task.required_skills:
            missing = set(requirement.alternatives) - SKILLS_BY_CODE.keys()
            if missing:
                raise ValueError(f"{task.code}: unknown skills {sorted(missing)}")


_check_references()
