"""The force's vetting policy in force now: defaults, the environment, and coordinators' edits."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.services import record as audit
from core.db import utcnow
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, DEFAULT_POLICY, ForcePolicy
from vetting.models import ClearanceTypeSetting


class PolicyError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


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
        reminder_days=base.reminder_days, renewal_review_lead_days=base.renewal_review_lead_days,
        appeal_window_days=base.appeal_window_days, dbs_recheck_months=base.dbs_recheck_months,
        special_monthly_commitment_minutes=base.special_monthly_commitment_minutes,
        integrity_review_months=base.integrity_review_months, validity_overrides=overrides,
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
    audit(session, actor_id=coordinator_id, action="policy.validity_changed", subject_type="clearance_type",
          subject_id=code, detail={"from_months": before, "to_months": months}, key=key)
    session.commit()
