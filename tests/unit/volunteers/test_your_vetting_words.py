"""Issue #19 item 8: what one clearance lets a volunteer do, from the task policies (vetting.clearance_uses)."""

from __future__ import annotations

from datetime import date, timedelta

from vetting.catalogue import TASK_POLICIES, TASK_POLICIES_BY_CODE
from vetting.clearance_uses import ALWAYS_SUPERVISED, ON_YOUR_OWN, RESTRICTED, clearance_uses
from vetting.lifecycle import ClearanceState
from vetting.rules import ClearanceFact

TODAY = date(2027, 1, 15)


def _fact(code: str, state=ClearanceState.GRANTED, restricted=(), starts=TODAY - timedelta(days=30)):
    return ClearanceFact(code, state, starts, TODAY + timedelta(days=300), frozenset(restricted))


def _words(fact, held=None, tasks=TASK_POLICIES) -> dict[str, str]:
    return {use.task_name: use.words for use in clearance_uses(fact, held or [fact], tasks, TODAY)}


def test_a_task_needing_two_clearances_says_what_else_it_needs():
    sc = _fact("SC")
    assert _words(sc) == {
        "Counter-terrorism digital support": "Not yet: it also needs one of: NPPV level 3 or Management Vetting"
    }
    both = [sc, _fact("NPPV3")]
    assert _words(sc, both)["Counter-terrorism digital support"] == ALWAYS_SUPERVISED


def test_unsupervised_work_needs_its_extra_clearance():
    nppv = _fact("NPPV2A")
    assert _words(nppv)["Youth and schools liaison"].startswith("Only with a supervising officer.")
    dbs = _fact("DBS_ENH_CHILD")
    assert _words(nppv, [nppv, dbs])["Youth and schools liaison"] == ON_YOUR_OWN
    assert _words(dbs, [nppv, dbs]) == {"Youth and schools liaison": ON_YOUR_OWN}


def test_restricted_suspended_and_future_clearances():
    restricted = _fact("NPPV2F", ClearanceState.GRANTED_WITH_RESTRICTIONS, restricted={"domestic_abuse_support"})
    assert _words(restricted)["Domestic-abuse victim support"] == RESTRICTED
    assert _words(_fact("NPPV2F", ClearanceState.SUSPENDED)) == {}
    later = _fact("NPPV3", starts=TODAY + timedelta(days=10))
    assert _words(later)["Digital evidence triage"] == ON_YOUR_OWN  # judged on the day it starts


def test_only_the_policies_given_are_read():
    only = [TASK_POLICIES_BY_CODE["public_event_support"]]
    assert _words(_fact("NPPV1"), tasks=only) == {"Public event support": ALWAYS_SUPERVISED}
