"""Local first in stored runs (issue #23), on SQLite and PostgreSQL: a ward's panel stays for its own
requests of equal priority, leaves for an urgent one elsewhere (and the run page says which and why),
a ring-fenced ward's panel leaves only for urgent work, a specialist-group request asks only the group,
the offer names the panel or the group, and the abstraction figures saved on the run are those
recomputed from its saved offers."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

from sqlalchemy import select

from core.auth.models import Role
from core.geography.models import Ward
from matching.facts import london_week
from matching.models import MatchRun, Offer, Priority, RequestAudience, RunRequest, SupportRequest
from matching.runs.services import abstraction_summary
from tests.helpers import make_kings_cross_and_belsize, make_request, make_user
from tests.integration.test_match_facts import AT_2PM, _volunteer
from tests.integration.test_matching_runs import _run
from volunteers.panels.models import (
    PanelState,
    SpecialistGroup,
    SpecialistGroupMembership,
    SpecialistKind,
    WardPanelMembership,
)
from volunteers.skills import SkillLevel


def _panel(db, ward: Ward, *volunteers, state: PanelState = PanelState.MEMBER) -> None:
    db.add_all(WardPanelMembership(ward_id=ward.id, volunteer_id=v.id, state=state) for v in volunteers)
    db.commit()


def _offered(db, item: SupportRequest) -> list[int]:
    return sorted(db.scalars(select(Offer.volunteer_id).where(Offer.request_id == item.id)))


def test_a_panel_stays_for_its_own_ward_at_equal_priority_and_the_offer_names_the_panel(app, db):
    wards = make_kings_cross_and_belsize(db)
    kx, belsize = wards["kings_cross"], wards["belsize"]
    # Pam lives in Belsize (so Belsize's request scores her nearer) but sits on King's Cross's panel.
    pam = _volunteer(db, belsize, limit=10)
    _panel(db, kx, pam)
    at_kx = make_request(db, kx, AT_2PM, title="King's Cross surgery")
    at_belsize = make_request(db, belsize, AT_2PM, title="Belsize surgery")

    run = _run(app, db)

    assert _offered(db, at_kx) == [pam.id] and _offered(db, at_belsize) == []
    (offer,) = db.scalars(select(Offer).where(Offer.request_id == at_kx.id))
    assert offer.explanation.startswith("On your King's Cross panel; ")
    assert json.loads(run.abstraction) == {}
    assert abstraction_summary(run) == "No panel worked outside its wards"


def test_an_urgent_request_elsewhere_takes_the_panel_and_the_run_page_says_so(app, db):
    wards = make_kings_cross_and_belsize(db)
    kx, belsize = wards["kings_cross"], wards["belsize"]
    polish = (("cyber_victim_support", SkillLevel.PRACTITIONER), ("lang_pl", SkillLevel.AWARE))
    pam = _volunteer(db, kx, limit=10, full_name="Pam Panel", skills=polish)
    other = _volunteer(db, kx, limit=10)
    _panel(db, kx, pam)
    _panel(db, belsize, other, state=PanelState.INVITED)  # not a member yet: on no panel
    local = make_request(db, kx, AT_2PM, title="King's Cross surgery", people_needed=2)
    # Only Pam speaks Polish: the urgent visit elsewhere takes her from her ward's routine request.
    urgent = make_request(
        db, belsize, AT_2PM, skills=("lang_pl",), title="Belsize burglary visit", priority=Priority.URGENT
    )

    run = _run(app, db)

    assert _offered(db, urgent) == [pam.id] and _offered(db, local) == [other.id]
    figures = json.loads(run.abstraction)
    assert figures == {str(kx.id): {"hours_elsewhere": 1.0, "members_elsewhere": 1, "places_unfilled": 1}}
    (finding,) = db.scalars(select(RunRequest).where(RunRequest.run_id == run.id, RunRequest.request_id == local.id))
    assert json.loads(finding.panel_elsewhere) == [[pam.id, urgent.id, "higher"]]
    assert abstraction_summary(run) == "Panels elsewhere: 1 hour from 1 ward, 1 local place unfilled meanwhile"

    coordinator = make_user(db, Role.COORDINATOR)
    client = app.test_client()
    client.sign_in(coordinator.email)
    text = " ".join(client.get(f"/matching/runs/{run.id}").soup.get_text().split())
    assert "Panels working outside their wards" in text
    assert "King's Cross, Camden 1 hour given to other wards by 1 panel member; 1 local place unfilled" in text
    assert "Pam Panel: Belsize burglary visit (Belsize, Camden, urgent), because that request has a higher" in text
    history = " ".join(client.get("/matching/runs").soup.get_text().split())
    assert "Panels elsewhere: 1 hour from 1 ward, 1 local place unfilled meanwhile" in history


def test_a_ring_fenced_wards_panel_leaves_only_for_urgent_requests(app, db):
    wards = make_kings_cross_and_belsize(db)
    kx, belsize = wards["kings_cross"], wards["belsize"]
    kx.ring_fenced = True
    pam = _volunteer(db, kx, limit=10)
    _panel(db, kx, pam)
    priority = make_request(db, belsize, AT_2PM, title="Priority", priority=Priority.PRIORITY)
    urgent = make_request(db, belsize, AT_2PM + dt.timedelta(hours=2), title="Urgent", priority=Priority.URGENT)

    _run(app, db)
    assert _offered(db, priority) == [] and _offered(db, urgent) == [pam.id]


def test_a_specialist_group_request_asks_only_the_group_and_says_so(app, db):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    member, outsider = _volunteer(db, kx), _volunteer(db, kx)
    group = SpecialistGroup(name="Cyber", kind=SpecialistKind.CYBER)
    db.add(group)
    db.flush()
    db.add_all(
        [
            SpecialistGroupMembership(group_id=group.id, volunteer_id=member.id, state=PanelState.MEMBER),
            SpecialistGroupMembership(group_id=group.id, volunteer_id=outsider.id, state=PanelState.ASKED),
        ]
    )
    item = make_request(
        db,
        kx,
        AT_2PM,
        people_needed=2,
        audience=RequestAudience.SPECIALIST_GROUP,
        specialist_group_id=group.id,
    )
    _run(app, db)
    (offer,) = db.scalars(select(Offer).where(Offer.request_id == item.id))
    assert offer.volunteer_id == member.id
    assert offer.explanation.startswith("In the Cyber specialist group; ")


def test_the_abstraction_figures_are_those_recomputed_from_the_saved_offers(app, db):
    """Three wards, panels on two, one member on both, routine to urgent requests over two days."""
    wards = make_kings_cross_and_belsize(db)
    kx, belsize = wards["kings_cross"], wards["belsize"]
    people = [_volunteer(db, kx if k % 2 else belsize, limit=10, slots=((3, 9 * 60, 18 * 60),)) for k in range(6)]
    _panel(db, kx, *people[:3])
    _panel(db, belsize, people[2], *people[3:5])
    for k, (ward, priority, hour) in enumerate(
        [
            (kx, Priority.URGENT, 14),
            (belsize, Priority.URGENT, 14),
            (belsize, Priority.PRIORITY, 14),
            (kx, Priority.ROUTINE, 14),
            (kx, Priority.ROUTINE, 10),
            (belsize, Priority.ROUTINE, 10),
            (kx, Priority.PRIORITY, 16),
        ]
    ):
        make_request(
            db,
            ward,
            AT_2PM.replace(hour=hour),
            title=f"Request {k}",
            priority=priority,
            people_needed=1 + k % 3,
            duration_minutes=60 + 30 * (k % 2),
        )
    run = _run(app, db)
    assert run.places_offered

    panels: dict[int, set[int]] = defaultdict(set)
    for volunteer_id, ward_id in db.execute(
        select(WardPanelMembership.volunteer_id, WardPanelMembership.ward_id).where(
            WardPanelMembership.state == PanelState.MEMBER
        )
    ):
        panels[volunteer_id].add(ward_id)
    minutes: dict[int, int] = defaultdict(int)
    members: dict[int, set[int]] = defaultdict(set)
    away_weeks: dict[int, set] = defaultdict(set)
    for offer, item in db.execute(
        select(Offer, SupportRequest).join(SupportRequest).where(Offer.run_id == run.id)
    ).all():
        if panels[offer.volunteer_id] and item.ward_id not in panels[offer.volunteer_id]:
            for ward in panels[offer.volunteer_id]:
                minutes[ward] += item.duration_minutes
                members[ward].add(offer.volunteer_id)
                away_weeks[ward].add(london_week(item.window_start)[0])
    unfilled: dict[int, int] = defaultdict(int)
    for finding, item in db.execute(
        select(RunRequest, SupportRequest).join(SupportRequest).where(RunRequest.run_id == run.id)
    ).all():
        if london_week(item.window_start)[0] in away_weeks[item.ward_id]:
            unfilled[item.ward_id] += finding.places_needed - finding.places_offered
    expected = {
        str(ward): {
            "hours_elsewhere": round(minutes[ward] / 60, 2),
            "members_elsewhere": len(members[ward]),
            "places_unfilled": unfilled[ward],
        }
        for ward in sorted(minutes)
    }
    assert json.loads(db.get(MatchRun, run.id).abstraction) == expected
    assert expected  # the panels did work elsewhere: the figures are not trivially empty
