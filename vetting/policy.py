"""The force's vetting policy in force now: defaults, the environment, and coordinators' edits."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit.services import record as audit
from core.db import utcnow
from core.field_errors import FieldError
from core.seams import Affected, seams
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, DEFAULT_POLICY, TASK_POLICIES_BY_CODE, ForcePolicy, TaskPolicy
from vetting.models import ClearanceTypeSetting, TaskTypePolicy
from vetting.policy_text import PolicyTextError, code_from_name, edited_policy, policy_from_json, policy_to_json


class PolicyError(FieldError):
    """A change of vetting policy was refused; ``field`` names the form field it concerns, if any."""


# How long the words a coordinator gives an added task type may be (the forms say the same).
NAME_MAX = 80
ACTIVITY_MAX = 120
DESCRIPTION_MAX = 500

# The task-type form's fields whose names differ from the TaskPolicy settings they edit.
_FORM_FIELDS = {
    "clearance_groups": "clearances",
    "unsupervised_clearance_groups": "unsupervised_clearances",
    "required_skills": "skills",
}


def _days(raw: str) -> tuple[int, ...]:
    return tuple(int(part) for part in raw.replace(" ", "").split(",") if part)


def policy_from_config(config: Mapping) -> ForcePolicy:
    """The values a force sets in its environment (VETTING_* variables), over the defaults."""
    d = DEFAULT_POLICY
    return ForcePolicy(
        reminder_days=_days(config.get("VETTING_REMINDER_DAYS") or "90,30,7"),
        renewal_review_lead_days=int(config.get("VETTING_RENEWAL_LEAD_DAYS") or d.renewal_review_lead_days),
        appeal_window_days=int(config.get("VETTING_APPEAL_WINDOW_DAYS") or d.appeal_window_days),
        dbs_recheck_months=int(config.get("VETTING_DBS_RECHECK_MONTHS") or d.dbs_recheck_months),
        dbs_update_check_months=int(config.get("VETTING_DBS_UPDATE_CHECK_MONTHS") or d.dbs_update_check_months),
    )


def current_policy(session: Session, config: Mapping) -> ForcePolicy:
    """The policy with the coordinators' validity periods applied."""
    overrides = tuple((s.code, s.validity_months) for s in session.scalars(select(ClearanceTypeSetting)))
    return replace(policy_from_config(config), validity_overrides=overrides)


def set_validity(session: Session, code: str, months: int, coordinator_id: int, key: bytes) -> None:
    """Change a clearance type's validity period. Applies to clearances granted from now on; audited."""
    if code not in CLEARANCE_TYPES_BY_CODE:
        raise PolicyError("No such clearance type")
    if not 1 <= months <= 240:
        raise PolicyError("Enter a number of months between 1 and 240", field="validity_months")
    setting = session.get(ClearanceTypeSetting, code)
    before = setting.validity_months if setting else DEFAULT_POLICY.validity_months(CLEARANCE_TYPES_BY_CODE[code])
    if setting is None:
        setting = ClearanceTypeSetting(code=code, validity_months=months)
        session.add(setting)
    setting.validity_months, setting.updated_at, setting.updated_by_id = months, utcnow(), coordinator_id
    audit(
        session,
        actor_id=coordinator_id,
        action="policy.validity_changed",
        subject_type="clearance_type",
        subject_id=code,
        detail={"from_months": before, "to_months": months},
        key=key,
    )
    session.commit()


def current_task_policies(session: Session) -> dict[str, TaskPolicy]:
    """Every task type's policy in force, by code: the one source every page, check, email and the matcher read.

    The built-in types (the catalogue seeds them) in the catalogue's order with the coordinators' edits
    applied, then the types coordinators added, by name.
    """
    policies = dict(TASK_POLICIES_BY_CODE)
    added = []
    for row in session.scalars(select(TaskTypePolicy)):
        if row.code in policies:
            policies[row.code] = policy_from_json(policies[row.code], row.policy_json)
        else:
            added.append(policy_from_json(None, row.policy_json, code=row.code))
    for policy in sorted(added, key=lambda p: (p.name.casefold(), p.code)):
        policies[policy.code] = policy
    return policies


def is_added(code: str) -> bool:
    """Whether a task type is one a coordinator added (its name and description are theirs to change)."""
    return code not in TASK_POLICIES_BY_CODE


@dataclass(frozen=True)
class TaskTypeNames:
    """What a coordinator calls a task type they add: shown to sergeants, volunteers and in emails."""

    name: str
    activity: str
    description: str


def _check_names(names: TaskTypeNames, policies: dict[str, TaskPolicy], own_code: str | None) -> TaskTypeNames:
    tidy = TaskTypeNames(
        name=" ".join(names.name.split()),
        activity=" ".join(names.activity.split()),
        description=" ".join(names.description.split()),
    )
    for field, value, what, most in (
        ("name", tidy.name, "the name", NAME_MAX),
        ("activity", tidy.activity, "what people doing it are cleared for", ACTIVITY_MAX),
        ("description", tidy.description, "a description", DESCRIPTION_MAX),
    ):
        if not value:
            raise PolicyError(f"Enter {what}", field=field)
        if len(value) > most:
            raise PolicyError(f"{field.capitalize()} must be {most:,} characters or fewer", field=field)
    clash = next(
        (p for code, p in policies.items() if code != own_code and p.name.casefold() == tidy.name.casefold()), None
    )
    if clash is not None:
        raise PolicyError(f"There is already a task type called {clash.name}: choose another name", field="name")
    return tidy


def _policy_error(exc: PolicyTextError) -> PolicyError:
    field = _FORM_FIELDS.get(exc.setting, exc.setting) if exc.setting else None
    return PolicyError(exc.args[0], field=field)


def add_task_type(session: Session, coordinator_id: int, key: bytes, names: TaskTypeNames, **settings) -> TaskPolicy:
    """Add a task type of the force's own, with the same requirement settings as an edit; audited.

    Its code is made from the name (``policy_text.code_from_name``) and never changes. Nobody is offered it
    yet, so no one's eligibility changes.
    """
    policies = current_task_policies(session)
    names = _check_names(names, policies, None)
    # "new" is the address of the page that adds one (/vetting/task-types/new), so never a code.
    taken = set(policies) | set(session.scalars(select(TaskTypePolicy.code))) | {"new"}
    code = code_from_name(names.name, taken)
    try:
        policy = edited_policy(
            # A placeholder clearance group until the settings' own replace it (a policy needs one to exist).
            TaskPolicy(code=code, name=names.name, activity=names.activity, clearance_groups=(("RV",),)),
            description=names.description,
            **settings,
        )
    except PolicyTextError as exc:
        raise _policy_error(exc) from None
    now = utcnow()
    row = TaskTypePolicy(code=code, policy_json=policy_to_json(policy, names=True), updated_at=now)
    row.updated_by_id = coordinator_id
    session.add(row)
    audit(
        session,
        actor_id=coordinator_id,
        action="policy.task_type_added",
        subject_type="task_type",
        subject_id=code,
        detail={"after": json.loads(row.policy_json)},
        key=key,
    )
    try:
        session.commit()
    except IntegrityError:  # another coordinator added the same name at the same moment
        session.rollback()
        raise PolicyError(
            "A task type with this name was added at the same moment: choose another name", "name"
        ) from None
    return policy


def update_task_policy(
    session: Session, code: str, coordinator_id: int, key: bytes, names: TaskTypeNames | None = None, **changes
) -> TaskPolicy:
    """Save a coordinator's edit of a task type's requirements (and, for a type they added, its ``names``),
    audited with before and after."""
    policies = current_task_policies(session)
    current = policies.get(code)
    if current is None:
        raise PolicyError("No such task type")
    added = is_added(code)
    if names is not None:
        if not added:
            raise PolicyError("A built-in task type keeps its name")
        tidy = _check_names(names, policies, code)
        changes |= {"name": tidy.name, "activity": tidy.activity, "description": tidy.description}
    try:
        edited = edited_policy(current, **changes)
    except PolicyTextError as exc:
        raise _policy_error(exc) from None
    row = session.get(TaskTypePolicy, code)
    if row is None:
        row = TaskTypePolicy(code=code, policy_json="")
        session.add(row)
    before = policy_to_json(current, names=added)
    row.policy_json, row.updated_at, row.updated_by_id = policy_to_json(edited, names=added), utcnow(), coordinator_id
    audit(
        session,
        actor_id=coordinator_id,
        action="policy.task_type_changed",
        subject_type="task_type",
        subject_id=code,
        detail={"before": json.loads(before), "after": json.loads(row.policy_json)},
        key=key,
    )
    # Whoever is offered or booked on this task type is checked against the edited policy, in this transaction.
    for hook in seams().eligibility_changed:
        hook(session, Affected(task_type_codes=frozenset({code})), row.updated_at)
    session.commit()
    return edited
