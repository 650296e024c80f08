"""The force's vetting policy in force now: defaults, the environment, and coordinators' edits."""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.services import record as audit
from core.db import utcnow
from core.field_errors import FieldError
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, DEFAULT_POLICY, TASK_POLICIES_BY_CODE, ForcePolicy, TaskPolicy
from vetting.models import ClearanceTypeSetting, TaskTypePolicy
from vetting.policy_text import PolicyTextError, edited_policy, policy_from_json, policy_to_json


class PolicyError(FieldError):
    """A change of vetting policy was refused; ``field`` names the form field it concerns, if any."""


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
    )


def current_policy(session: Session, config: Mapping) -> ForcePolicy:
    """The policy with the coordinators' validity periods applied."""
    base = policy_from_config(config)
    overrides = tuple((s.code, s.validity_months) for s in session.scalars(select(ClearanceTypeSetting)))
    return ForcePolicy(
        reminder_days=base.reminder_days,
        renewal_review_lead_days=base.renewal_review_lead_days,
        appeal_window_days=base.appeal_window_days,
        dbs_recheck_months=base.dbs_recheck_months,
        special_monthly_commitment_minutes=base.special_monthly_commitment_minutes,
        integrity_review_months=base.integrity_review_months,
        validity_overrides=overrides,
    )


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
    """Every task type's policy in force: the seeded defaults with coordinators' edits applied."""
    policies = dict(TASK_POLICIES_BY_CODE)
    for row in session.scalars(select(TaskTypePolicy)):
        if row.code in policies:
            policies[row.code] = policy_from_json(policies[row.code], row.policy_json)
    return policies


def update_task_policy(session: Session, code: str, coordinator_id: int, key: bytes, **changes) -> TaskPolicy:
    """Save a coordinator's edit of a task type's requirements, audited with before and after."""
    current = current_task_policies(session).get(code)
    if current is None:
        raise PolicyError("No such task type")
    try:
        edited = edited_policy(current, **changes)
    except PolicyTextError as exc:
        field = _FORM_FIELDS.get(exc.setting, exc.setting) if exc.setting else None
        raise PolicyError(exc.args[0], field=field) from None
    row = session.get(TaskTypePolicy, code)
    if row is None:
        row = TaskTypePolicy(code=code, policy_json="")
        session.add(row)
    before = policy_to_json(current)
    row.policy_json, row.updated_at, row.updated_by_id = policy_to_json(edited), utcnow(), coordinator_id
    audit(
        session,
        actor_id=coordinator_id,
        action="policy.task_type_changed",
        subject_type="task_type",
        subject_id=code,
        detail={"before": json.loads(before), "after": json.loads(row.policy_json)},
        key=key,
    )
    session.commit()
    return edited
