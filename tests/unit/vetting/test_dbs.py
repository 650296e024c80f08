"""DBS certificates and task types a force adds, as pure rules (vetting/dbs.py, vetting/policy_text.py)."""

from __future__ import annotations

from datetime import date

import pytest

from vetting.catalogue import TASK_POLICIES_BY_CODE, ForcePolicy, SkillRequirement, TaskPolicy
from vetting.dbs import (
    DbsDetails,
    DbsError,
    RecheckSnapshot,
    check_details,
    check_status_check,
    is_dbs,
    latest_expiry,
    plan_rechecks,
    recheck_due,
)
from vetting.policy_text import code_from_name, policy_from_json, policy_to_json
from volunteers.skills import SkillLevel

TODAY = date(2026, 12, 7)


def test_a_certificate_is_due_a_re_check_by_its_age_or_by_its_last_status_check_whichever_is_later():
    issued = date(2022, 3, 31)
    assert recheck_due(issued, None) == date(2025, 3, 31)  # 36 months
    assert recheck_due(issued, date(2024, 1, 10)) == date(2025, 3, 31)  # the certificate's own date is later
    assert recheck_due(issued, date(2026, 6, 30)) == date(2027, 6, 30)  # 12 months from the check
    force = ForcePolicy(dbs_recheck_months=24, dbs_update_check_months=6)
    assert recheck_due(issued, None, force) == date(2024, 3, 31)
    assert recheck_due(issued, date(2026, 6, 30), force) == date(2026, 12, 30)
    assert latest_expiry(DbsDetails("001234567890", issued, "C0123456789", date(2026, 6, 30))) == date(2027, 6, 29)


def test_the_update_check_interval_is_a_positive_number_of_months():
    assert ForcePolicy().dbs_update_check_months == 12
    with pytest.raises(ValueError, match="dbs_update_check_months must be positive"):
        ForcePolicy(dbs_update_check_months=0)


def test_details_are_tidied_and_checked_by_their_field():
    tidy = check_details(DbsDetails(" 0012-3456 7890 ", date(2025, 1, 2), "c 0123456789", date(2025, 6, 1)), TODAY)
    assert tidy == DbsDetails("001234567890", date(2025, 1, 2), "C0123456789", date(2025, 6, 1))
    assert check_details(DbsDetails("001234567890", date(2025, 1, 2), " ", None), TODAY).subscription_id is None
    for details, field in (
        (DbsDetails(None, date(2025, 1, 2)), "dbs_certificate_number"),
        (DbsDetails("١٢٣٤٥٦٧٨٩٠١٢", date(2025, 1, 2)), "dbs_certificate_number"),  # digits, but not 0-9
        (DbsDetails("0012345678901", date(2025, 1, 2)), "dbs_certificate_number"),
        (DbsDetails("001234567890", None), "dbs_issued_on"),
        (DbsDetails("001234567890", date(2012, 11, 30)), "dbs_issued_on"),
        (DbsDetails("001234567890", date(2026, 12, 8)), "dbs_issued_on"),
        (DbsDetails("001234567890", date(2025, 1, 2), "C0123456789X"), "dbs_update_service_id"),
        (DbsDetails("001234567890", date(2025, 1, 2), None, date(2025, 3, 1)), "dbs_update_service_id"),
        (DbsDetails("001234567890", date(2025, 1, 2), "C0123456789", date(2025, 1, 1)), "dbs_status_checked_on"),
    ):
        with pytest.raises(DbsError) as raised:
            check_details(details, TODAY)
        assert raised.value.field == field, details


def test_a_status_check_is_no_earlier_than_the_certificate_or_the_last_check():
    assert check_status_check("c0123456789", TODAY, date(2020, 1, 1), date(2026, 1, 1), TODAY) == ("C0123456789", TODAY)
    with pytest.raises(DbsError, match="after 1 January 2026, the last check recorded"):
        check_status_check("C0123456789", date(2025, 12, 31), date(2020, 1, 1), date(2026, 1, 1), TODAY)


def test_only_dbs_types_are_dbs():
    assert is_dbs("DBS_BASIC") and is_dbs("DBS_ENH_BOTH")
    assert not is_dbs("NPPV2F") and not is_dbs(None) and not is_dbs("nonsense")


def test_the_sweep_plans_a_re_check_review_once_within_the_lead():
    soon = RecheckSnapshot(1, date(2024, 1, 20), None, reviewed_since_check=False)  # due 20 January 2027
    later = RecheckSnapshot(2, date(2024, 6, 1), None, reviewed_since_check=False)  # due 1 June 2027
    overdue = RecheckSnapshot(3, date(2020, 1, 1), None, reviewed_since_check=False)
    done = RecheckSnapshot(4, date(2020, 1, 1), None, reviewed_since_check=True)
    checked = RecheckSnapshot(5, date(2020, 1, 1), date(2026, 10, 1), reviewed_since_check=False)
    assert plan_rechecks([later, soon, overdue, done, checked], TODAY) == (
        (3, date(2023, 1, 1)),
        (1, date(2027, 1, 20)),
    )


def test_an_added_task_types_code_comes_from_its_name_and_is_never_taken_twice():
    assert code_from_name("Fraud-prevention talk", set()) == "fraud_prevention_talk"
    assert code_from_name("Fraud-prevention talk", {"fraud_prevention_talk"}) == "fraud_prevention_talk_2"
    assert code_from_name("Café visits", set()) == "cafe_visits"
    assert code_from_name("!!!", set()) == "task_type"
    long = code_from_name("a" * 100, {"a" * 30})
    assert long == "a" * 28 + "_2" and len(long) == 30


def test_an_added_task_type_round_trips_with_its_words_and_old_rows_still_read():
    added = TaskPolicy(
        code="fraud_prevention_talk",
        name="Fraud-prevention talk",
        activity="fraud-prevention talks",
        clearance_groups=(("NPPV2A", "NPPV2F"),),
        required_skills=(SkillRequirement(("cyber_victim_support",), SkillLevel.AWARE),),
        default_team_size=2,
        description="A talk to a community group about scams.",
    )
    text = policy_to_json(added, names=True)
    back = policy_from_json(None, text, code="fraud_prevention_talk")
    assert back == added and back.description == added.description
    # An edit of a built-in type, saved before types could be added, carries no names and reads as before.
    builtin = TASK_POLICIES_BY_CODE["cyber_victim_visit"]
    assert '"name"' not in policy_to_json(builtin)
    assert policy_from_json(builtin, policy_to_json(builtin)) == builtin
