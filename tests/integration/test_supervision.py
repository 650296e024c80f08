"""Supervision, two adults and remote-only work (issue #23), on SQLite and PostgreSQL: stored requests and
volunteers through the matcher's facts, the funnel and the solver to the offers a run makes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.auth.models import Role
from matching.facts import load_requests
from matching.models import MatchRun, Offer, OfferStatus, RunScope
from matching.offers.services import answer
from matching.runs.services import RunSettings, execute_run, queue_run
from matching.teams.models import TeamRole, WardTeamMember
from tests.helpers import make_kings_cross_and_belsize, make_request, make_user
from tests.integration.test_match_facts import AT_2PM, THURSDAY, _volunteer
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance
from vetting.policy import update_task_policy
from volunteers.models import WorkAdjustment
from volunteers.skills import SkillLevel

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # Tuesday morning before Thursday's requests
FAST = RunSettings(time_limit=5, offer_hours=24)


def _run(app, db) -> MatchRun:
    run = queue_run(db, scope=RunScope.LONDON, first_day=NOW.date(), last_day=THURSDAY, today=NOW.date(), trigger="cli")
    done = execute_run(app.extensions["db_sessionmaker"], run.id, FAST, lambda session, ids: None, NOW)
    db.expire_all()
    return done


def _offered(db, request_id: int) -> list[int]:
    return list(
        db.scalars(
            select(Offer.volunteer_id)
            .where(Offer.request_id == request_id, Offer.status == OfferStatus.OFFERED)
            .order_by(Offer.volunteer_id)
        )
    )


def _grant(db, volunteer, *codes: str) -> None:
    for code in codes:
        db.add(
            Clearance(
                volunteer_id=volunteer.id,
                type_code=code,
                state=ClearanceState.GRANTED,
                valid_from=dt.date(2024, 1, 1),
                expires_on=dt.date(2027, 6, 1),
            )
        )
    db.commit()


def _triage_volunteer(db, ward, **profile):
    """A PSV cleared (NPPV3) for digital evidence triage, free on Thursdays 9am to 6pm."""
    volunteer = _volunteer(db, ward, skills=(("digital_evidence_triage", SkillLevel.PRACTITIONER),), **profile)
    _grant(db, volunteer, "NPPV3")
    return volunteer


# ---- Remote-only volunteers take remote work only ------------------------------------------------


def test_a_remote_only_volunteer_is_never_offered_on_site_work_of_a_task_that_could_be_remote(app, db):
    wards = make_kings_cross_and_belsize(db)
    remote_only = _triage_volunteer(db, wards["kings_cross"], adjustment=WorkAdjustment.REMOTE_ONLY)
    on_site = make_request(db, wards["kings_cross"], AT_2PM, task_type_code="digital_evidence_triage", remote=False)
    _run(app, db)
    assert _offered(db, on_site.id) == []
    # The same work marked remote is theirs.
    remote = make_request(
        db, wards["kings_cross"], AT_2PM + dt.timedelta(hours=3), task_type_code="digital_evidence_triage", remote=True
    )
    _run(app, db)
    assert _offered(db, remote.id) == [remote_only.id]


def test_anyone_else_takes_the_on_site_work_the_remote_only_volunteer_cannot(app, db):
    wards = make_kings_cross_and_belsize(db)
    _triage_volunteer(db, wards["kings_cross"], adjustment=WorkAdjustment.REMOTE_ONLY)
    travelling = _triage_volunteer(db, wards["kings_cross"])
    on_site = make_request(db, wards["kings_cross"], AT_2PM, task_type_code="digital_evidence_triage", remote=False)
    _run(app, db)
    assert _offered(db, on_site.id) == [travelling.id]


# ---- Supervision: a supervised request admits those cleared only with a supervising officer ----------


def _pcso(db, ward, name="PCSO Sam Okafor", active=True) -> WardTeamMember:
    member = WardTeamMember(
        ward_id=ward.id, name=name, role=TeamRole.PCSO, email="sam.okafor@met.example", active=active
    )
    db.add(member)
    db.commit()
    return member


def _youth_volunteer(db, ward, *, barred_list: bool):
    """A PSV cleared (NPPV2A) for youth and schools liaison; with the children's barred-list check only if
    ``barred_list`` (so without it, only with a supervising officer)."""
    volunteer = _volunteer(
        db,
        ward,
        skills=(("schools_liaison", SkillLevel.PRACTITIONER), ("safeguarding", SkillLevel.PRACTITIONER)),
        expires=None,
    )
    _grant(db, volunteer, "NPPV2A", *(("DBS_ENH_CHILD",) if barred_list else ()))
    return volunteer


def _youth_request(db, ward, start=AT_2PM, **overrides):
    values = dict(task_type_code="youth_schools_liaison", people_needed=1, all_or_nothing=False)
    values.update(overrides)
    return make_request(db, ward, start, **values)


def test_a_supervised_request_admits_the_supervised_only_clearance(app, db):
    wards = make_kings_cross_and_belsize(db)
    supervised_only = _youth_volunteer(db, wards["kings_cross"], barred_list=False)
    officer = _pcso(db, wards["kings_cross"])
    item = _youth_request(db, wards["kings_cross"], supervising_officer_id=officer.id)
    _run(app, db)
    assert _offered(db, item.id) == [supervised_only.id]
    # Accepting re-checks eligibility the matcher's way: still supervised, so the place is theirs.
    offer = db.scalar(select(Offer).where(Offer.request_id == item.id))
    answer(db, supervised_only.user_id, offer.id, accept=True, now=NOW + dt.timedelta(hours=1))
    db.refresh(offer)
    assert offer.status is OfferStatus.ACCEPTED


def test_an_unsupervised_request_admits_no_supervised_only_clearance(app, db):
    wards = make_kings_cross_and_belsize(db)
    _youth_volunteer(db, wards["kings_cross"], barred_list=False)
    _youth_volunteer(db, wards["kings_cross"], barred_list=False)
    barred = [_youth_volunteer(db, wards["kings_cross"], barred_list=True) for _ in range(2)]
    # Two adults, everyone or nobody: the youth default without a supervising officer.
    item = _youth_request(db, wards["kings_cross"], people_needed=2, all_or_nothing=True)
    _run(app, db)
    assert _offered(db, item.id) == sorted(v.id for v in barred)


def test_the_facts_say_a_request_is_supervised_only_when_it_names_an_officer(app, db):
    wards = make_kings_cross_and_belsize(db)
    officer = _pcso(db, wards["kings_cross"])
    supervised = _youth_request(db, wards["kings_cross"], supervising_officer_id=officer.id)
    alone = _youth_request(db, wards["kings_cross"], people_needed=2, all_or_nothing=True)
    facts = {r.id: r for r in load_requests(db)}
    assert (facts[supervised.id].supervised, facts[alone.id].supervised) == (True, False)


# ---- Two adults: everyone or nobody, never one of two ----------------------------------------------


def test_two_adults_never_books_one_of_two(app, db):
    wards = make_kings_cross_and_belsize(db)
    only = _youth_volunteer(db, wards["kings_cross"], barred_list=True)
    # Saved before the team rule existed, "as many as can come": the rule still makes it everyone or nobody.
    item = _youth_request(db, wards["kings_cross"], people_needed=2, all_or_nothing=False)
    (facts,) = load_requests(db)
    assert facts.all_or_nothing and facts.people_needed == 2
    _run(app, db)
    assert _offered(db, item.id) == []
    second = _youth_volunteer(db, wards["kings_cross"], barred_list=True)
    _run(app, db)
    assert _offered(db, item.id) == sorted([only.id, second.id])


def test_a_two_adult_request_for_one_volunteer_and_no_officer_is_not_matched_and_its_page_says_why(app, db, client):
    wards = make_kings_cross_and_belsize(db)
    _youth_volunteer(db, wards["kings_cross"], barred_list=True)
    sergeant = make_user(db, Role.SERGEANT, wards=[wards["kings_cross"]])
    item = _youth_request(db, wards["kings_cross"], created_by_id=sergeant.id)  # one person, as saved before
    assert load_requests(db) == []
    _run(app, db)
    assert _offered(db, item.id) == []
    client.sign_in(sergeant.email)
    page = client.get(f"/requests/{item.id}").soup
    assert "needs two adults: nobody will be offered it until you change the request" in page.get_text()


def test_a_request_with_an_officer_needs_only_one_volunteer(app, db):
    wards = make_kings_cross_and_belsize(db)
    volunteer = _youth_volunteer(db, wards["kings_cross"], barred_list=True)
    item = _youth_request(db, wards["kings_cross"], supervising_officer_id=_pcso(db, wards["kings_cross"]).id)
    (facts,) = load_requests(db)
    assert not facts.all_or_nothing
    _run(app, db)
    assert _offered(db, item.id) == [volunteer.id]


# ---- Remote requests of a task type no longer remote-possible -------------------------------------


def test_a_remote_request_of_a_type_made_in_person_only_is_matched_in_person(app, db):
    wards = make_kings_cross_and_belsize(db)
    remote_only = _triage_volunteer(db, wards["kings_cross"], adjustment=WorkAdjustment.REMOTE_ONLY)
    item = make_request(db, wards["kings_cross"], AT_2PM, task_type_code="digital_evidence_triage", remote=True)
    coordinator = make_user(db, Role.COORDINATOR)
    with app.app_context():  # the edit re-checks the offers of the type through the app's seams
        update_task_policy(db, "digital_evidence_triage", coordinator.id, b"k" * 32, remote_possible=False)
    (facts,) = load_requests(db)
    assert not facts.remote and facts.location is not None
    _run(app, db)
    assert remote_only.id not in _offered(db, item.id)
